"""A decision table's rows kept as a CSV file beside the ruleset (Excel, WPS).

The header row names the table's inputs and outputs; each later row is one rule. Every
cell is located ``file.csv:row:col`` (1-based, the column a spreadsheet shows as A, B …).
UTF-8 (with or without Excel's byte-order mark) is read first; GB 18030, what WPS and Excel
save on a Chinese system, is the fallback.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import attrs

from .._base.errors import Problem
from .._base.location import Location
from .files import display


@attrs.frozen
class CsvCell:
    text: str
    location: Location


@attrs.frozen
class CsvTable:
    header: tuple[CsvCell, ...]
    rows: tuple[tuple[CsvCell, ...], ...]  # blank lines left out
    location: Location


def read_csv(path: Path, near: Location, problems: list[Problem]) -> CsvTable | None:
    """The cells of ``path``; None (with a problem at ``near``) when it cannot be read."""
    name = display(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(
            Problem(
                "table.csv",
                f"cannot read the table's CSV file: {exc.strerror or exc}",
                near,
                (),
                "a CSV file beside the ruleset",
                str(path.name),
            )
        )
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030", errors="replace")
    rows: list[tuple[CsvCell, ...]] = []
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if not any(cell.strip() for cell in row):
                continue
            rows.append(
                tuple(CsvCell(cell, Location(name, number, col)) for col, cell in enumerate(row, 1))
            )
    except csv.Error as exc:
        problems.append(Problem("table.csv", f"not a CSV file: {exc}", Location(name, 1, 1)))
        return None
    if not rows:
        problems.append(
            Problem(
                "table.csv",
                "the CSV file is empty",
                Location(name, 1, 1),
                (),
                "a header row of input and output names, then one row per rule",
                "nothing",
            )
        )
        return None
    return CsvTable(rows[0], tuple(rows[1:]), Location(name, 1, 1))
