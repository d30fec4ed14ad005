"""Compliance by level (force, division, place, team, officer) and dimension (criterion, measure,
priority, PEEL pillar, I-SERVE strand) with Wilson intervals: the tidy table behind the reports
and aggregates.csv. N/A outcomes leave the denominator; categorical codes keep it fast.

The unit is the case. A criterion's figure counts the cases it applied to and those that met it
(one outcome row per assessment and criterion). A measure's, priority's, pillar's or strand's
counts each case once: n = the cases with at least one applicable criterion in the group, passes =
those of them that failed none. Findings (outcome rows) are never pooled across criteria, so ten
findings of one case are one observation, not ten, and every interval comes from case counts.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from engine.analysis.cases import RowCodes, cell_key
from engine.analysis.cases import case_cells as case_cells  # also engine.analysis.daily's and day_sums'
from engine.analysis.cases import case_codes as case_codes
from engine.analysis.outcomes import OUTCOME_VALUES, Outcomes
from engine.analysis.stats import fpc_interval, wilson_interval

LEVELS: tuple[str, ...] = ("force", "division", "place", "team", "officer")
DIMENSIONS: tuple[str, ...] = ("criterion", "measure", "priority", "peel", "iserve")
#: the key of the single force-level group
FORCE_KEY = "FORCE"
#: levels at which every catalogue measure, priority, pillar and strand gets a row, "no data" or not
FULL_COVERAGE_LEVELS: tuple[str, ...] = ("force", "division", "place")

AGGREGATE_COLUMNS: tuple[str, ...] = (
    "period",
    "level",
    "place",
    "key",
    "dimension",
    "ruleset",
    "dimension_key",
    "n",
    "passes",
    "fails",
    "rate",
    "ci_low",
    "ci_high",
)


# --------------------------------------------------------------------------- aggregation


def _tag_values(dimension: str, c: Mapping[Hashable, Any], m: Mapping[Hashable, Any]) -> Iterable[str]:
    """A criterion's keys in a dimension; its own tags win over its measure's."""
    if dimension == "measure":
        return [str(c["measure"])]
    if dimension == "priority":
        return [str(int(m["priority"] if c["priority"] is None else c["priority"]))]
    if dimension == "peel":
        return [str(c["peel"] or m["peel"])]
    return tuple(c["iserve"] or m["iserve"])


def _dimension_pairs(o: Outcomes, dimension: str) -> tuple[np.ndarray, np.ndarray]:
    """(criterion row, dimension code) pairs in criterion order; I-SERVE gives one per strand."""
    crit, meas = o.criteria, o.measures
    if dimension == "criterion":
        rows = np.arange(len(crit), dtype=np.int64)
        return rows, rows
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r} (known: {', '.join(DIMENSIONS)})")
    code = {k: i for i, k in enumerate(_dimension_keys(o, dimension))}
    by_id = {m["id"]: m for m in meas.to_dict("records")}
    pairs: list[tuple[int, int]] = []
    for i, c in enumerate(crit.to_dict("records")):
        values = _tag_values(dimension, c, by_id[c["measure"]])
        pairs.extend((i, code[v]) for v in values if v in code)
    table = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return table[:, 0], table[:, 1]


def _dimension_keys(o: Outcomes, dimension: str) -> list[str]:
    """The catalogue's keys of a dimension, in reading order (all of them: "no data" rows)."""
    meas = o.measures
    if dimension == "measure":
        return [str(m) for m in meas["id"]]
    crit = o.criteria
    if dimension == "priority":
        given = {int(p) for p in crit["priority"] if p is not None and not pd.isna(p)}
        return [str(p) for p in sorted({int(p) for p in meas["priority"]} | given)]
    if dimension == "peel":
        # an item the catalogue leaves undefined has no pillar ("")
        return sorted({str(p) for p in meas["peel"] if p} | {str(p) for p in crit["peel"] if p})
    if dimension == "iserve":
        strands = {s for ss in meas["iserve"] for s in ss} | {s for ss in crit["iserve"] for s in ss}
        return sorted(strands)
    return [str(c) for c in crit["criterion"]]


#: the key parts of each level, outermost first (teams and officers are grouped within their place)
_LEVEL_PARTS: dict[str, tuple[str, ...]] = {
    "force": (),
    "division": ("division",),
    "place": ("place",),
    "team": ("place", "team"),
    "officer": ("place", "officer"),
}


def _level_code(level: str, parts: Mapping[str, np.ndarray], sizes: Mapping[str, int], n: int) -> np.ndarray:
    """A group number per row that sorts like the level's text (categories are sorted)."""
    code = np.zeros(n, dtype=np.int64)
    for part in _LEVEL_PARTS[level]:
        code = code * sizes[part] + parts[part]
    return code


def _explode(
    crit: np.ndarray, pairs: tuple[np.ndarray, np.ndarray], ncrit: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row positions repeated once per dimension key of their criterion, and those keys."""
    pair_crit, pair_code = pairs
    per_crit = np.bincount(pair_crit, minlength=ncrit)
    start = np.concatenate([[0], np.cumsum(per_crit)[:-1]])
    counts = per_crit[crit]
    rows = np.repeat(np.arange(crit.size), counts)
    offset = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return rows, pair_code[start[crit[rows]] + offset]


def aggregate(
    outcomes: Outcomes,
    period: str,
    *,
    levels: Sequence[str] = LEVELS,
    dimensions: Sequence[str] = DIMENSIONS,
    with_cases: bool = False,
    frames: Mapping[tuple[str, str], int] | None = None,
    rows: np.ndarray | None = None,
    row_codes: RowCodes | None = None,
) -> pd.DataFrame:
    """Compliance per level and dimension for one period: the tidy table behind reports and the CSV.

    One row per (level, place, key, dimension, ruleset, dimension_key); columns AGGREGATE_COLUMNS
    (+ ``cases``, the sorted failing case refs, when ``with_cases``). ``key`` is the level's own
    value (FORCE, a division, place code, team or officer; teams and officers are grouped within
    their place, which ``place`` names). N/A outcomes are not counted. At force, division and place
    level every catalogue measure, priority, pillar and strand has a row: n = 0 and rate NaN when
    nothing feeds it ("no data", never zero). Rows are sorted deterministically.
    ``frames``: {(place, ruleset): N}, the cases the period's reviews of that place and ruleset's case
    type were drawn from (see engine.store.sampling.period_frame_sizes); the intervals of those place x
    criterion rows carry the finite-population correction (stats.fpc_interval). Other levels and
    dimensions keep the plain Wilson interval (a team's share of the frame is not recorded).
    Criterion rows count findings (one per case and criterion); measure, priority, pillar and
    strand rows count cases (case_codes): n = the cases with any applicable criterion in the group,
    passes = those that failed none of them.
    ``rows``: the positions of the frame's rows to aggregate (None: all), the same table as for a
    frame of those rows; ``row_codes``: the frame's RowCodes (cases.row_codes), so the rows' cases
    and cells are taken, not worked out.
    """
    f = outcomes.frame
    ncrit = len(outcomes.criteria)
    text = {
        c: np.asarray(f[c].cat.categories, dtype=object) for c in ("division", "place", "team", "officer")
    }
    sizes = {c: max(len(v), 1) for c, v in text.items()}
    # the rows' category codes in their own small integer types (not a copy of every row as int64)
    codes = {c: _pick(f[c].cat.codes.to_numpy(), rows) for c in ("division", "place", "team", "officer")}
    division_of_place = np.zeros(sizes["place"], dtype=np.int64)
    division_of_place[codes["place"]] = codes["division"]  # a place has one division (force file)

    # one cell per (place, team, officer, criterion): every level and dimension sums these
    app = np.flatnonzero(_pick(f["applicable"].to_numpy(), rows))
    app = app if rows is None else rows[app]  # positions in the frame
    cell, cell_n, cell_passes = _cells(outcomes, app, row_codes)
    cell_crit, rest = cell % ncrit, cell // ncrit
    cell_parts = {"officer": rest % sizes["officer"], "team": (rest // sizes["officer"]) % sizes["team"]}
    cell_parts["place"] = rest // sizes["officer"] // sizes["team"]
    cell_parts["division"] = division_of_place[cell_parts["place"]]
    failing = _failing_rows(outcomes, rows, codes, division_of_place) if with_cases else None
    by_dimension = {d: (_dimension_keys(outcomes, d), _dimension_pairs(outcomes, d)) for d in dimensions}
    case_parts, by_case = _case_dimensions(outcomes, app, row_codes, division_of_place, by_dimension)

    chunks: list[dict[str, Any]] = []
    for level in levels:
        # the level's groups that have outcomes, in reading order, each with a row per criterion
        rank, present = pd.factorize(_level_code(level, cell_parts, sizes, cell.size), sort=True)
        if level == "force":
            rank, present = np.zeros(cell.size, dtype=np.int64), np.zeros(1, dtype=np.int64)
        dense = present.size * ncrit
        n_lc = np.bincount(rank * ncrit + cell_crit, weights=cell_n, minlength=dense)
        passes_lc = np.bincount(rank * ncrit + cell_crit, weights=cell_passes, minlength=dense)
        lc_rank, lc_crit = np.divmod(np.arange(dense, dtype=np.int64), ncrit)
        ncases = case_parts["place"].size
        case_rank = np.zeros(ncases, dtype=np.int64)
        if level != "force":
            case_rank = np.searchsorted(present, _level_code(level, case_parts, sizes, ncases))
        for dimension, (keys, pairs) in by_dimension.items():
            nkeys = len(keys)
            if dimension == "criterion":
                rows, dim = _explode(lc_crit, pairs, ncrit)
                group = lc_rank[rows] * nkeys + dim
                n = np.bincount(group, weights=n_lc[rows], minlength=present.size * nkeys)
                passes = np.bincount(group, weights=passes_lc[rows], minlength=present.size * nkeys)
            else:  # each case once: it passes the group when it failed none of the group's criteria
                case, dim, passed = by_case[dimension]
                group = case_rank[case] * nkeys + dim
                n = np.bincount(group, minlength=present.size * nkeys)
                passes = np.bincount(group[passed], minlength=present.size * nkeys)
            groups = np.arange(n.size, dtype=np.int64)
            if level not in FULL_COVERAGE_LEVELS or dimension == "criterion":
                groups = np.flatnonzero(n)  # only what was assessed; full coverage keeps "no data" rows
            codes_of = present[groups // nkeys] * nkeys + groups % nkeys
            chunk = _chunk(level, dimension, codes_of, keys, text, sizes, outcomes)
            chunk["n"], chunk["passes"] = n[groups].astype(np.int64), passes[groups].astype(np.int64)
            if failing is not None:
                chunk["cases"] = _cases(level, failing, pairs, ncrit, sizes, codes_of, nkeys)
            chunks.append(chunk)

    columns = list(AGGREGATE_COLUMNS) + (["cases"] if with_cases else [])
    out = pd.DataFrame({c: np.concatenate([ch[c] for ch in chunks]) if chunks else [] for c in columns[1:9]})
    out.insert(0, "period", period)
    out["n"] = out["n"].astype(np.int64)
    out["passes"] = out["passes"].astype(np.int64)
    out["fails"] = out["n"] - out["passes"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["rate"] = np.where(out["n"] > 0, out["passes"] / np.maximum(out["n"], 1), np.nan)
    out["ci_low"], out["ci_high"] = wilson_interval(out["passes"].to_numpy(), out["n"].to_numpy())
    if frames:
        _finite_population(out, frames)
    if with_cases:
        out["cases"] = [c for ch in chunks for c in ch["cases"]]
    return out[columns]


def _pick(values: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """A column's values at the row positions (all of them when ``rows`` is None)."""
    return values if rows is None else values[rows]


def _cells(
    outcomes: Outcomes, rows: np.ndarray, row_codes: RowCodes | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the sorted (place, team, officer, criterion) codes of the applicable outcome ``rows``, their
    rows each, their passes each (float))."""
    passed = outcomes.frame["passed"].to_numpy()[rows]
    if row_codes is not None:
        inverse = row_codes.cell[rows]
        total = row_codes.cells.size
        counts = np.bincount(inverse, minlength=total)
        seen = np.flatnonzero(counts)
        passes = np.bincount(inverse, weights=passed, minlength=total)[seen]
        return row_codes.cells[seen], counts[seen], passes
    # hashing then sorting the few distinct cells is ~8x faster than np.unique's full sort
    inverse, cell = pd.factorize(cell_key(outcomes, rows), sort=True)
    cell_n = np.bincount(inverse, minlength=cell.size)
    return cell, cell_n, np.bincount(inverse, weights=passed, minlength=cell.size)


def _case_dimensions(
    outcomes: Outcomes,
    rows: np.ndarray,
    row_codes: RowCodes | None,
    division_of_place: np.ndarray,
    by_dimension: Mapping[str, tuple[list[str], tuple[np.ndarray, np.ndarray]]],
) -> tuple[dict[str, np.ndarray], dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """The cases of the applicable outcome ``rows``: each case's place, team, officer and division
    code, and per dimension other than criterion its (case, key, passed) cells (case_cells). No
    cases when only criteria are wanted."""
    f = outcomes.frame
    if all(d == "criterion" for d in by_dimension):
        rows = rows[:0]
    if row_codes is None:
        case, ncases = case_codes(f, rows)
    else:  # numbered over the whole frame: a period's numbers need not be dense
        case, ncases = row_codes.case[rows], row_codes.ncases
    parts: dict[str, np.ndarray] = {}
    for part in ("place", "team", "officer"):
        parts[part] = np.zeros(ncases, dtype=np.int64)
        parts[part][case] = f[part].cat.codes.to_numpy()[rows]  # one place, team and officer per case
    parts["division"] = division_of_place[parts["place"]]
    failed = ~f["passed"].to_numpy()[rows]
    # each case's measures first: (case, measure) cells are ~10x fewer than the findings, and a
    # dimension whose keys come from the measures (no criterion's own tags differ) rolls them up
    nmeasures = len(outcomes.measures)
    measure = f["measure"].cat.codes.to_numpy()[rows]
    m_case, m_code, m_passed = case_cells(case, measure, failed, ncases, nmeasures)
    del measure
    cells: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for dimension, (keys, pairs) in by_dimension.items():
        if dimension == "criterion":
            continue
        of_measures = _measure_pairs(outcomes, pairs)
        if of_measures is not None:
            at, key = _explode(m_code, of_measures, nmeasures)
            cells[dimension] = case_cells(m_case[at], key, ~m_passed[at], ncases, len(keys))
        else:
            at, key = _explode(f["crit"].to_numpy()[rows], pairs, len(outcomes.criteria))
            cells[dimension] = case_cells(case[at], key, failed[at], ncases, len(keys))
    return parts, cells


def _measure_pairs(
    outcomes: Outcomes, pairs: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray] | None:
    """A dimension's (measure code, key) pairs in measure order when every criterion has exactly
    its measure's keys there, else None (a criterion's own tags differ from another's)."""
    measure_of = pd.Categorical(outcomes.criteria["measure"], categories=list(outcomes.measures["id"])).codes
    keys_of: dict[int, set[int]] = {}
    for c, k in zip(pairs[0].tolist(), pairs[1].tolist(), strict=True):
        keys_of.setdefault(c, set()).add(k)
    by_measure: dict[int, frozenset[int]] = {}
    for c, m in enumerate(measure_of.tolist()):
        keys = frozenset(keys_of.get(c, ()))
        if by_measure.setdefault(m, keys) != keys:
            return None
    table = sorted((m, k) for m, keys in by_measure.items() for k in keys)
    both = np.asarray(table, dtype=np.int64).reshape(-1, 2)
    return both[:, 0], both[:, 1]


def _finite_population(table: pd.DataFrame, frames: Mapping[tuple[str, str], int]) -> None:
    """Narrow the intervals of the place x criterion rows whose (place, ruleset) frame is known."""
    rows = np.flatnonzero(
        (table["level"] == "place").to_numpy() & (table["dimension"] == "criterion").to_numpy()
    )
    if not rows.size:
        return
    keys = zip(table["place"].to_numpy()[rows], table["ruleset"].to_numpy()[rows], strict=True)
    big = np.asarray([frames.get((str(p), str(r)), np.nan) for p, r in keys], dtype=np.float64)
    low, high = fpc_interval(
        table["ci_low"].to_numpy()[rows],
        table["ci_high"].to_numpy()[rows],
        table["rate"].to_numpy()[rows],
        table["n"].to_numpy()[rows],
        big,
    )
    for column, narrowed in (("ci_low", low), ("ci_high", high)):
        values = table[column].to_numpy(dtype=np.float64, copy=True)
        values[rows] = narrowed
        table[column] = values


def _chunk(
    level: str,
    dimension: str,
    groups: np.ndarray,
    keys: list[str],
    text: Mapping[str, np.ndarray],
    sizes: Mapping[str, int],
    outcomes: Outcomes,
) -> dict[str, Any]:
    """The text columns of one (level, dimension) block of the aggregate table."""
    level_code, dim = groups // len(keys), groups % len(keys)
    parts = _LEVEL_PARTS[level]
    size = groups.size
    if not parts:
        place, key = np.full(size, "", dtype=object), np.full(size, FORCE_KEY, dtype=object)
    elif parts == ("division",):
        place, key = np.full(size, "", dtype=object), text["division"][level_code]
    elif parts == ("place",):
        place = key = text["place"][level_code]
    else:
        inner = parts[1]
        place, key = text["place"][level_code // sizes[inner]], text[inner][level_code % sizes[inner]]
    rulesets = (
        np.asarray(outcomes.criteria["ruleset"], dtype=object)[dim]
        if dimension == "criterion"
        else np.full(size, "", dtype=object)
    )
    return {
        "level": np.full(size, level, dtype=object),
        "place": place,
        "key": key,
        "dimension": np.full(size, dimension, dtype=object),
        "ruleset": rulesets,
        "dimension_key": np.asarray(keys, dtype=object)[dim],
    }


def _failing_rows(
    outcomes: Outcomes,
    rows: np.ndarray | None,
    codes: Mapping[str, np.ndarray],
    division_of_place: np.ndarray,
) -> dict[str, np.ndarray]:
    """The failing rows among ``rows`` (None: all): their place, team, officer, division, criterion
    and case ref codes (int64), with the case refs' text."""
    f = outcomes.frame
    fail = np.flatnonzero(_pick(f["outcome"].cat.codes.to_numpy(), rows) == OUTCOME_VALUES.index("fail"))
    at = fail if rows is None else rows[fail]  # positions in the frame
    failing = {c: codes[c][fail].astype(np.int64) for c in ("place", "team", "officer")}
    failing["division"] = division_of_place[failing["place"]]
    failing["crit"] = f["crit"].to_numpy()[at].astype(np.int64)
    failing["case"] = f["case_ref"].cat.codes.to_numpy()[at].astype(np.int64)
    failing["case_text"] = np.asarray(f["case_ref"].cat.categories, dtype=object)
    return failing


def _cases(
    level: str,
    failing: Mapping[str, np.ndarray],
    pairs: tuple[np.ndarray, np.ndarray],
    ncrit: int,
    sizes: Mapping[str, int],
    groups: np.ndarray,
    nkeys: int,
) -> list[tuple[str, ...]]:
    """Sorted, distinct failing case refs of each group (case categories sort as text)."""
    rows, dim = _explode(failing["crit"], pairs, ncrit)
    group = _level_code(level, failing, sizes, failing["crit"].size)[rows] * nkeys + dim
    ncase = max(len(failing["case_text"]), 1)
    both = np.unique(group * ncase + failing["case"][rows])
    group_of, case_of = both // ncase, both % ncase
    bounds = np.searchsorted(group_of, groups, side="left"), np.searchsorted(group_of, groups, side="right")
    refs = failing["case_text"][case_of]
    return [tuple(refs[a:b].tolist()) for a, b in zip(*bounds, strict=True)]
