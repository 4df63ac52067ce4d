"""Outputs read dates in the ruleset's time zone, like conditions do."""

from __future__ import annotations

from pathlib import Path

import errorrules

RULESET = """
ruleset:
  id: zone
  version: "1"
  effective: 2022-01-01
  title: {zh: 时区, en: Zone}
  timezone: Asia/Shanghai
  hit_policy: collect
incident:
  fields:
    at: {type: datetime, required: true}
    first: {type: datetime, required: true}
outputs:
  cycle:
    type: integer
    name: {zh: 周期, en: Cycle}
    value: floor(months_between(first, at) / 12)
    source: t
  left:
    type: integer
    name: {zh: 剩余天数, en: Days left}
    value: days_between(at, add_months(date(first), 12 * (cycle + 1)))
    source: t
"""


def test_output_dates_use_the_ruleset_zone(tmp_path: Path) -> None:
    (tmp_path / "zone").mkdir()
    (tmp_path / "zone" / "ruleset.yaml").write_text(RULESET, encoding="utf-8")
    rules = errorrules.load(tmp_path / "zone")
    # 16:30 UTC on 14 March is 00:30 on 15 March in Beijing: the anniversary.
    inc = {"at": "2023-03-14T16:30:00+00:00", "first": "2018-03-15T09:00:00+08:00"}
    for engine in errorrules.ENGINES:
        try:
            d = rules.decide(inc, engine=engine).to_dict()
        except ImportError:  # pragma: no cover - rete absent
            continue
        assert d["outputs"]["cycle"] == 5
        assert d["outputs"]["left"] == 366


TABLE = RULESET.replace(
    "outputs:\n",
    """tables:
  season:
    name: {zh: 季节, en: Season}
    source: t
    hit: UNIQUE
    inputs: [{name: month_day, expr: "days_between(date(first), date(at))"}]
    outputs: [{name: early, type: boolean}]
    rules:
      - ["< 1", true]
      - [">= 1", false]
outputs:
  early:
    type: boolean
    name: {zh: 当日, en: Same day}
    table: season
    source: t
""",
)


def test_table_inputs_read_dates_in_the_ruleset_zone(tmp_path: Path) -> None:
    (tmp_path / "zone").mkdir()
    (tmp_path / "zone" / "ruleset.yaml").write_text(TABLE, encoding="utf-8")
    rules = errorrules.load(tmp_path / "zone")
    # 23:30 UTC on 1 March is 07:30 on 2 March in Beijing, the day of `first`: zero days.
    inc = {"at": "2023-03-01T23:30:00+00:00", "first": "2023-03-02T06:00:00+08:00"}
    for engine in errorrules.ENGINES:
        try:
            d = rules.decide(inc, engine=engine).to_dict()
        except ImportError:  # pragma: no cover - rete absent
            continue
        assert d["outputs"]["early"] is True
