"""The cases of outcome rows (one assessed case: its rows share place, team, officer, ruleset,
case ref, day and assessment key), each case's cells per group, and RowCodes: what aggregation needs
of each row, worked out once over a run's whole frame so each period selects its rows' codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.analysis.outcomes import Outcomes

#: what one case is: its rows share these (and the day assessed and the assessment key), see case_codes
CASE_PARTS: tuple[str, ...] = ("place", "team", "officer", "ruleset", "case_ref")
#: combined codes are renumbered before they could overflow int64
_CODE_LIMIT = 2**62
#: the most (case, key) cells counted densely (an int64 array each)
_DENSE_LIMIT = 1 << 23


def _join(code: np.ndarray, size: int, part: np.ndarray, part_size: int) -> tuple[np.ndarray, int]:
    """Two codes as one (code * part_size + part), renumbered densely first if it would overflow."""
    part_size = max(part_size, 1)
    if size * part_size >= _CODE_LIMIT:
        code, uniques = pd.factorize(code)
        size = max(len(uniques), 1)
    return code * part_size + part, size * part_size


def _dense(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer values as codes 0..size-1 (offsets when their range is small, else renumbered)."""
    if not values.size:
        return values.astype(np.int64), 1
    low, high = int(values.min()), int(values.max())
    if high - low < 4 * values.size + 1024:
        return values.astype(np.int64) - low, high - low + 1
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64), max(len(uniques), 1)


def _integers(column: pd.Series) -> np.ndarray:
    """An integer key column as int64 (any other column numbered by its distinct values)."""
    if pd.api.types.is_integer_dtype(column.dtype):
        return column.to_numpy(dtype=np.int64)
    return pd.factorize(column)[0].astype(np.int64)


def case_codes(frame: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, int]:
    """(a case number for each of the outcome rows at positions ``rows``, how many cases).

    A case is one assessed case: the rows of one case_ref in one place, team and officer, under one
    ruleset (case type), assessed on one day, with one assessment key; in practice one assessment.
    Cases are numbered in order of their first row."""
    code, size = np.zeros(rows.size, dtype=np.int64), 1
    for part in CASE_PARTS:
        column = frame[part]
        codes = column.cat.codes.to_numpy()[rows].astype(np.int64)
        code, size = _join(code, size, codes, len(column.cat.categories))
    day = frame["assessed_on"].to_numpy()[rows].astype("datetime64[D]").astype(np.int64)
    for values in (day, _integers(frame["assessment_key"])[rows]):
        code, size = _join(code, size, *_dense(values))
    cases, uniques = pd.factorize(code)
    return cases.astype(np.int64), len(uniques)


def case_cells(
    case: np.ndarray, key: np.ndarray, failed: np.ndarray, ncases: int, nkeys: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(case, key, passed) of each distinct (case, key) among applicable findings, given each
    finding's ``case``, group ``key`` and whether it ``failed``: a case passes a group when none of
    its findings in it failed. Sorted by case, then key."""
    cell = np.multiply(case, nkeys, dtype=np.int64)
    cell += key
    size = ncases * nkeys
    if size <= min(16 * cell.size + 4096, _DENSE_LIMIT):  # dense marks: ~20x faster than hashing
        marked = np.zeros(size, dtype=bool)  # a byte a cell, not a count (8 bytes)
        marked[cell] = True
        seen = np.flatnonzero(marked)
        marked[:] = False
        marked[cell[failed]] = True
        passed = ~marked[seen]
    else:
        inverse, unique = pd.factorize(cell, sort=True)
        seen, passed = unique, np.bincount(inverse[failed], minlength=unique.size) == 0
    return seen // nkeys, seen % nkeys, passed


@dataclass(frozen=True)
class RowCodes:
    """Codes of every row of an outcomes frame, made once (before a PEEL run forks its worker) so
    each period aggregated takes its rows' codes by position instead of working them out again
    over a copy of its rows: what a forked process writes after the fork costs memory twice."""

    #: each row's case number (case_codes over all rows, so N/A rows too)
    case: np.ndarray
    ncases: int
    #: each applicable row's (place, team, officer, criterion) cell, as a position in ``cells``
    #: (-1 for N/A rows)
    cell: np.ndarray
    #: the cells' codes, sorted: ((place * teams + team) * officers + officer) * criteria + criterion
    cells: np.ndarray


def cell_key(outcomes: Outcomes, rows: np.ndarray) -> np.ndarray:
    """The (place, team, officer, criterion) code of the outcome rows at positions ``rows``."""
    f = outcomes.frame
    size = {c: max(len(f[c].cat.categories), 1) for c in ("team", "officer")}
    code = {c: f[c].cat.codes.to_numpy()[rows].astype(np.int64) for c in ("place", "team", "officer")}
    key = ((code["place"] * size["team"] + code["team"]) * size["officer"] + code["officer"]) * len(
        outcomes.criteria
    )
    key += f["crit"].to_numpy()[rows]
    return np.asarray(key, dtype=np.int64)


def row_codes(outcomes: Outcomes) -> RowCodes:
    """The RowCodes of a whole outcomes frame."""
    f = outcomes.frame
    case, ncases = case_codes(f, np.arange(len(f), dtype=np.int64))
    app = np.flatnonzero(f["applicable"].to_numpy())
    # hashing then sorting the few distinct cells is ~8x faster than np.unique's full sort
    inverse, cells = pd.factorize(cell_key(outcomes, app), sort=True)
    cell = np.full(len(f), -1, dtype=np.int32)
    cell[app] = inverse
    return RowCodes(case.astype(np.int32), ncases, cell, np.asarray(cells, dtype=np.int64))
