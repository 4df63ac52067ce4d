"""The ``init`` command: a new ruleset folder that passes ``check`` and ``test`` as created.

One rule file with every section a ruleset of rules needs, each under a comment saying what it
is for, the optional sections named at the end; a scenario file exercising every rule; and the
editor schema the file's modeline points at (``errorrules schema`` prints the same, to refresh
it after an upgrade). An existing folder with anything in it is never written into.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import re
from pathlib import Path
from typing import Any

from .._load.schema import RULESET_FILE_SCHEMA
from .inputs import fail

#: A ruleset id (the file schema's pattern for ``ruleset.id``).
RULESET_ID = re.compile(r"^[a-z][a-z0-9-]*$")

RULESET_YAML = """\
# yaml-language-server: $schema=ruleset.schema.json
# @ID@: a new errorrules ruleset. Each section says what it is for; the full format is
# docs/ruleset-format.md in the errorrules repository. Every `source` names the clause of
# your own regulations that a rule encodes: replace these examples with yours, then
#   errorrules check @FOLDER@                  (every problem as file:line:col)
#   errorrules test @FOLDER@ --engine both     (the scenarios in tests/, on both engines)
# Sections may be split over several .yaml files in this folder; each appears in one file.

# ruleset: which rules these are, from when they apply, and how matching errors combine.
ruleset:
  id: @ID@
  version: "1"                  # your version label; quote it
  effective: @DATE@         # the date from which these rules apply
  title: {zh: 工作差错责任追究规则, en: Work-error accountability rules}
  timezone: Asia/Shanghai       # an IANA zone: calendar windows and dates are counted in it
  hit_policy: collect           # collect: every matching error; first: the highest priority
  sources:                      # the documents the rules come from
    - {id: rules, title: 工作差错责任追究办法}

# incident: the fields an incident report has; each incident is checked against them before
# anything is decided (errorrules schema --incident FOLDER prints them for host systems).
incident:
  id_field: id
  fields:
    id: {type: string, required: true, label: {zh: 编号, en: Number}}
    occurred_at: {type: datetime, required: true, label: {zh: 发生时间, en: Occurred at}}
    error_type:
      type: enum
      required: true
      label: {zh: 差错类型, en: Error type}
      values:
        typo: {zh: 错字漏字, en: Typo}
        late: {zh: 办理超时, en: Handled late}
    issued_externally: {type: boolean, label: {zh: 已对外印发, en: Issued externally}}
    concealed: {type: boolean, label: {zh: 隐瞒不报, en: Concealed}}
    self_corrected: {type: boolean, label: {zh: 自查自纠, en: Self-corrected}}
    handler: {type: string, person: true, label: {zh: 承办人, en: Handler}}
    reviewer: {type: string, person: true, label: {zh: 审核人, en: Reviewer}}

# areas: the duty areas (职责领域) the error catalogue sorts errors into.
areas:
  drafting: {zh: 文稿起草, en: Drafting}
  handling: {zh: 办文办事, en: Case handling}

# severity: the grades of an error, lightest first ("raise by one" is the next one down).
severity:
  levels:
    - {key: general, name: {zh: 一般差错, en: General error}}
    - {key: major, name: {zh: 较大差错, en: Major error}}

# measures: what may follow an error, mildest first; a schedule range is a span of this scale.
measures:
  scale:
    - {key: criticism_education, name: {zh: 批评教育, en: Criticism and education}}
    - {key: written_self_criticism, name: {zh: 书面检查, en: Written self-criticism}}
    - {key: circulated_criticism, name: {zh: 通报批评, en: Circulated criticism}}

# roles: who can be held responsible, heaviest role first.
roles:
  - {key: direct, name: {zh: 直接责任, en: Direct responsibility}}
  - {key: leader, name: {zh: 领导责任, en: Leadership responsibility}}

# errors: the error catalogue: when an incident is which error, and its default grade.
errors:
  - code: DRF-01
    area: drafting
    name: {zh: 文字差错, en: Wording error}
    definition: {zh: 文稿中出现错字、漏字, en: Typos or missing words in a document}
    when: error_type == "typo"
    severity: general
    severity_rules:             # raise (or set) the grade in given circumstances
      - {id: DRF-01.external, when: issued_externally, raise: 1, source: 办法第3条}
    source: 办法第2条
  - code: HDL-01
    area: handling
    name: {zh: 办理超时, en: Handled late}
    definition: {zh: 未在规定时限内办结, en: Not completed within the time limit}
    when: error_type == "late"
    severity: major
    source: 办法第4条

# factors: circumstances that change the outcome once an incident is an error, applied in
# this order: aggravating (从重), mitigating (从轻), exempting (免予追究).
factors:
  - code: concealment
    kind: aggravating
    name: {zh: 瞒报, en: Concealment}
    when: concealed
    effect: {choose: heavier}   # the heavier end of the schedule's range
    excludes: [self_correction]
    source: 办法第6条
  - code: self_correction
    kind: exempting
    name: {zh: 自查纠正, en: Self-correction}
    when: self_corrected
    effect: {exempt: true, replace_measures: [criticism_education]}
    source: 办法第7条

# responsibility: who bears which role; for each person the first rule naming them wins.
responsibility:
  - {id: handler-direct, role: direct, person: handler, when: "true", source: 办法第5条}
  - {id: reviewer-leader, role: leader, person: reviewer, when: "true", source: 办法第5条}

# consequences: the schedule: for every grade and role, the measures and the points deducted.
consequences:
  - {severity: general, role: direct, measures: [criticism_education], points: 1, source: 办法第8条}
  - {severity: general, role: leader, measures: [], points: 0, source: 办法第8条}
  - severity: major
    role: direct
    range: {from: written_self_criticism, to: circulated_criticism}   # one end is taken
    points: 2
    source: 办法第8条
  - {severity: major, role: leader, measures: [criticism_education], points: 1, source: 办法第8条}

# Optional sections, when the rules need them (docs/ruleset-format.md, "Sections"):
#   time, history, derived, ladders   deadlines, prior records, progressive discipline
#   combination                       合并处理: several errors judged together
#   assessment                        the score of each unit over a period
#   outputs, tables                   computed values and decision tables
# A later version of these rules goes in versions/<version>/ as an overlay (see "Versions").
"""

SCENARIOS_YAML = """\
# Scenarios: an incident and what its decision must be (only the keys given are compared).
# errorrules test @FOLDER@ --engine both --coverage   lists any rule no scenario exercised.
scenarios:
  - name: a typo in an internal draft -> general, criticism for the handler
    incident:
      id: T-1
      occurred_at: "@DATE@T10:00:00+08:00"
      error_type: typo
      handler: 张伟
      reviewer: 李芳
    expect:
      errors: [DRF-01]
      severity: {base: general, final: general}
      consequences:
        - {person: 张伟, role: direct, measures: [criticism_education], points: "1"}
        - {person: 李芳, role: leader, measures: [], points: "0"}
      points_total: "1"

  - name: the typo went out in an issued document -> raised to major
    incident:
      id: T-2
      occurred_at: "@DATE@T10:00:00+08:00"
      error_type: typo
      issued_externally: true
      handler: 张伟
      reviewer: 李芳
    expect:
      severity: {base: major, final: major}
      consequences:
        - {person: 张伟, role: direct, measures: [written_self_criticism], points: "2"}
        - {person: 李芳, role: leader, measures: [criticism_education], points: "1"}

  - name: a late case that was concealed -> the heavier end of the range, no self-correction
    incident:
      id: T-3
      occurred_at: "@DATE@T10:00:00+08:00"
      error_type: late
      concealed: true
      self_corrected: true
      handler: 王强
    expect:
      errors: [HDL-01]
      factors: [concealment]
      consequences: [{person: 王强, role: direct, measures: [circulated_criticism], points: "2"}]

  - name: a typo the handler found and corrected -> exempt
    incident:
      id: T-4
      occurred_at: "@DATE@T10:00:00+08:00"
      error_type: typo
      self_corrected: true
      handler: 张伟
    expect:
      factors: [self_correction]
      exempt: true
      points_total: "0"

  - name: an error type the ruleset does not know -> the incident is rejected
    incident:
      id: T-5
      occurred_at: "@DATE@T10:00:00+08:00"
      error_type: tipo
      handler: 张伟
    expect:
      incident_error: incident.bad_value
"""


def add_init_parser(sub: Any) -> None:
    """The ``init`` sub-command, on ``main``'s sub-parsers."""
    s = sub.add_parser("init", help="scaffold a new ruleset folder that passes check and test")
    s.add_argument("folder", help="the folder to create (it may exist if empty)")
    s.add_argument("--id", help="the ruleset id (default: from the folder's name)")
    s.set_defaults(func=cmd_init)


def cmd_init(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    ruleset_id = args.id or default_id(folder)
    if not RULESET_ID.match(ruleset_id):
        fail(
            f"--id {ruleset_id!r} is not a ruleset id: lower-case letters, digits and '-', "
            "starting with a letter"
        )
    _refuse_to_overwrite(folder)
    for path, text in scaffold(folder, ruleset_id, _dt.date.today()).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    print(f"next: errorrules check {folder} && errorrules test {folder} --engine both")
    return 0


def scaffold(folder: Path, ruleset_id: str, today: _dt.date) -> dict[Path, str]:
    """The files of a new ruleset folder, by path: what ``init`` writes."""

    def fill(text: str) -> str:
        return (
            text.replace("@ID@", ruleset_id)
            .replace("@FOLDER@", folder.as_posix())
            .replace("@DATE@", today.isoformat())
        )

    schema = json.dumps(RULESET_FILE_SCHEMA, ensure_ascii=False, indent=2, sort_keys=True)
    return {
        folder / "ruleset.yaml": fill(RULESET_YAML),
        folder / "tests" / "examples.yaml": fill(SCENARIOS_YAML),
        folder / "ruleset.schema.json": schema + "\n",
    }


def default_id(folder: Path) -> str:
    """The folder's name as a ruleset id (``My Office`` → ``my-office``), else ``my-ruleset``."""
    name = re.sub(r"[^a-z0-9]+", "-", folder.resolve().name.lower()).strip("-")
    return name if RULESET_ID.match(name) else "my-ruleset"


def _refuse_to_overwrite(folder: Path) -> None:
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        fail(f"{folder} exists and is not a folder; init writes a new ruleset folder")
    if folder.is_dir() and any(folder.iterdir()):
        fail(f"{folder} is not empty; init writes only into a new or empty folder")
