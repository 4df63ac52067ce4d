"""Recording in order (``errorrules._record``): what the CLI's register command and the service's
register endpoints share — one outcome per record, and a book that stays right between calls.

A long-running service keeps a RecordBook per register and reads only what was appended since
it last looked; these tests hold it to giving the same decisions as reading the register whole,
whoever appended in between, and to starting over when the register underneath was replaced.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import errorrules
from errorrules._record import RecordBook, record_batch

ROOT = Path(__file__).resolve().parent.parent
YEAR = ROOT / "examples" / "year-2026.jsonl"


@pytest.fixture(scope="module")
def rules() -> errorrules.Ruleset:
    return errorrules.load("party-office")


def _year() -> list[dict[str, Any]]:
    return [json.loads(x) for x in YEAR.read_text(encoding="utf-8").splitlines() if x.strip()]


def test_a_kept_book_decides_as_a_fresh_read_while_another_writer_appends(
    rules: errorrules.Ruleset, tmp_path: Path
) -> None:
    records = _year()
    # One register written by two writers taking turns, the first keeping its book between
    # calls; another register written in one go. Same records, same order: same chain.
    shared, whole = tmp_path / "shared.sqlite", tmp_path / "whole.sqlite"
    book = RecordBook()
    with errorrules.Register(shared) as mine, errorrules.Register(shared) as other:
        for k in range(0, len(records), 10):
            writer = mine if (k // 10) % 2 == 0 else other
            kept = book if writer is mine else None
            report = record_batch(rules, writer, records[k : k + 10], book=kept)
            assert report.refused == 0
        head = mine.head()
    with errorrules.Register(whole) as reg:
        report = record_batch(rules, reg, records)
    assert report.refused == 0
    assert head is not None and (report.head_seq, report.head_hash) == (head.seq, head.hash)


def test_an_item_another_writer_stored_is_present_to_a_kept_book(
    rules: errorrules.Ruleset, tmp_path: Path
) -> None:
    first, second = _year()[:2]
    path = tmp_path / "r.sqlite"
    book = RecordBook()
    with errorrules.Register(path) as mine, errorrules.Register(path) as other:
        assert record_batch(rules, mine, [first], book=book).outcomes[0].status == "appended"
        assert record_batch(rules, other, [second]).outcomes[0].status == "appended"
        again = record_batch(rules, mine, [first, second], book=book)
    assert [o.status for o in again.outcomes] == ["present", "present"]
    assert [o.seq for o in again.outcomes] == [1, 2]


def test_a_book_whose_register_was_replaced_reads_the_new_one_whole(
    rules: errorrules.Ruleset, tmp_path: Path
) -> None:
    records = _year()[:3]
    path = tmp_path / "r.sqlite"
    book = RecordBook()
    with errorrules.Register(path) as reg:
        record_batch(rules, reg, records, book=book)
    path.unlink()
    (tmp_path / "r.sqlite-wal").unlink(missing_ok=True)
    (tmp_path / "r.sqlite-shm").unlink(missing_ok=True)
    with errorrules.Register(path) as reg:
        # A book that trusted what it read before would call these present.
        report = record_batch(rules, reg, records, book=book)
    assert [o.status for o in report.outcomes] == ["appended"] * 3


def test_a_refused_record_names_its_place_and_the_rest_are_recorded(
    rules: errorrules.Ruleset, tmp_path: Path
) -> None:
    good = _year()[:2]
    bad = dict(good[0], id=good[0]["id"], area="drafting-typo")
    with errorrules.Register(tmp_path / "r.sqlite") as reg:
        report = record_batch(rules, reg, [good[0], bad, good[1]], principal="clerk")
        stored = list(reg.entries())
    assert [o.status for o in report.outcomes] == ["appended", "refused", "appended"]
    problem = report.outcomes[1].problems[0]
    assert problem.code == "register.conflict" and problem.location.line == 2
    assert report.counts == {
        "decisions": 2,
        "corrections": 0,
        "events": 0,
        "present": 0,
        "refused": 1,
    }
    assert [e.principal for e in stored] == ["clerk", "clerk"]
    assert report.to_dict()["outcomes"][1]["problems"][0]["code"] == "register.conflict"


def test_a_failed_transaction_leaves_the_book_to_read_again(
    rules: errorrules.Ruleset, tmp_path: Path
) -> None:
    records = _year()[:2]
    book = RecordBook()
    with errorrules.Register(tmp_path / "r.sqlite") as reg:

        class Boom(Exception):
            pass

        def explode(index: int) -> Any:
            if index == 1:
                raise Boom
            return errorrules.Location("<records>", index + 1, 0)

        with pytest.raises(Boom):
            record_batch(rules, reg, records, book=book, where=explode)
        assert len(reg) == 0  # rolled back: nothing of the batch was kept
        report = record_batch(rules, reg, records, book=book)
    assert [o.status for o in report.outcomes] == ["appended", "appended"]
