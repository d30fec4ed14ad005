"""What the run tests check of the CSV files a run writes: that no text cell would run as a formula in
a spreadsheet, and that making cells inert changed nothing else (core.text.inert_cell)."""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from pathlib import Path

#: how a cell a spreadsheet runs as a formula starts
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_EVIL = ("=", "+", "-", "@")


def evil(value: str) -> str:
    """``value`` with a formula start in front, the same one every time for the same value (so a team
    stays one team). Leading tabs and returns are trimmed from refs on input, so they go in notes."""
    return _EVIL[sum(map(ord, value)) % len(_EVIL)] + value


def evil_row(row: Mapping[str, str]) -> dict[str, str]:
    """A submission row whose team, officer, case and assessment refs start like formulas, and whose
    notes start with a tab or a carriage return before one."""
    out = dict(row)
    for column in ("team", "officer", "case_ref", "assessment_id", "reviewer"):
        out[column] = evil(out[column])
    out["notes"] = ("\t" if len(out["case_ref"]) % 2 else "\r") + '=HYPERLINK("x")'
    return out


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def formula_cells(folder: Path) -> list[tuple[str, int, str]]:
    """(file, line, cell) for every cell of every CSV under ``folder`` that starts like a formula and
    is not a number."""
    found = []
    for path in sorted(folder.rglob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            for line, row in enumerate(csv.reader(fh), start=1):
                found += [
                    (path.name, line, c) for c in row if c.startswith(FORMULA_STARTS) and not is_number(c)
                ]
    return found


def plain(cell: str) -> str:
    """A cell with :func:`evil`'s starts (and the ' that made them inert) taken off each ;-joined ref,
    the refs in order: what the same cell reads with the plain refs."""
    refs = [re.sub(r"^'[=+\-@]", "", ref) for ref in cell.split(";")]
    return ";".join(sorted(refs)) if len(refs) > 1 else refs[0]


def plain_rows(path: Path) -> list[tuple[str, ...]]:
    """A CSV's rows with every cell :func:`plain`, sorted (names sort differently with their starts)."""
    with path.open(encoding="utf-8", newline="") as fh:
        return sorted(tuple(plain(c) for c in row) for row in csv.reader(fh))
