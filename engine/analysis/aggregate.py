"""Aggregation with pandas (the only module that uses it): plain rows in, tidy DataFrames out.

Compliance by level (force, division, place, team, officer) and dimension (criterion, measure,
priority, PEEL pillar, I-SERVE strand) with Wilson intervals; weekly series for SPC; incident
metrics from the extracts. N/A outcomes leave the denominator. Categorical keys keep it fast.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.analysis.stats import fpc_interval, wilson_interval
from engine.core.errors import ReportError
from engine.inputs.extracts import (
    CALL101_SECONDS,
    CALL999_ANSWERED,
    G1_ATTENDED,
    G2_ATTENDED,
    METRIC_INPUT_COLUMNS,
    ResponseSettings,
)

# pandas keeps text in Python objects whether or not pyarrow is installed (it is for Parquet, and
# pandas would then keep every text column in Arrow): the same figures at the same speed either way.
# Arrow-backed text made a PEEL year 0.45 s slower and 95 MB larger.
pd.set_option("mode.string_storage", "python")

LEVELS: tuple[str, ...] = ("force", "division", "place", "team", "officer")
DIMENSIONS: tuple[str, ...] = ("criterion", "measure", "priority", "peel", "iserve")
#: the key of the single force-level group
FORCE_KEY = "FORCE"
#: levels at which every catalogue measure, priority, pillar and strand gets a row, "no data" or not
FULL_COVERAGE_LEVELS: tuple[str, ...] = ("force", "division", "place")

OUTCOME_REQUIRED: tuple[str, ...] = (
    "case_ref",
    "case_type",
    "place",
    "division",
    "team",
    "officer",
    "assessed_on",
    "ruleset",
    "criterion",
    "outcome",
)
OUTCOME_DEFAULTS: dict[str, object] = {
    "assessment_key": 0,
    "reviewer": "",
    "ruleset_version": "",
    "trace": (),
    "note": "",
}
CRITERIA_REQUIRED: tuple[str, ...] = ("ruleset", "criterion", "text", "measure")
MEASURE_REQUIRED: tuple[str, ...] = ("id", "name", "priority", "peel", "iserve", "direction")
OUTCOME_VALUES: tuple[str, ...] = ("pass", "fail", "na")
_KEY_COLUMNS = ("case_ref", "case_type", "place", "division", "team", "officer", "reviewer", "ruleset")

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


# --------------------------------------------------------------------------- ISO weeks


def week_label(day: date) -> str:
    """ISO week label of a date, e.g. date(2026, 11, 16) -> "2026-W47"."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_monday(label: str) -> date:
    """The Monday that starts an ISO week label ("2026-W47" -> 2026-11-16)."""
    year, week = label.split("-W")
    return date.fromisocalendar(int(year), int(week), 1)


def week_range(first: str, last: str) -> list[str]:
    """Every ISO week label from ``first`` to ``last`` inclusive."""
    start, end = week_monday(first), week_monday(last)
    return [week_label(start + timedelta(weeks=i)) for i in range((end - start).days // 7 + 1)]


def _week_labels(days: pd.Series) -> pd.Series:
    """Week labels for a datetime column, computed once per distinct day."""
    cat = pd.Categorical(days.dt.normalize())
    labels = [week_label(d.date()) for d in cat.categories]
    codes = np.asarray(cat.codes)
    out = np.asarray(labels, dtype=object)[codes] if labels else np.asarray([], dtype=object)
    return pd.Series(pd.Categorical(out), index=days.index)


# --------------------------------------------------------------------------- inputs


class CaseColumns(Mapping[str, list[Any]]):
    """Outcome rows as a database read gives them: the columns that hold one value per case
    (assessment), the columns that hold one per outcome (criterion, outcome, trace), and how many
    outcomes each case has. Read as a mapping, each column has one value per outcome row; framing
    (outcomes_frame) works per case and repeats the codes, which is much quicker than framing
    every repeated value of a year's million outcome rows."""

    def __init__(
        self, per_case: dict[str, list[Any]], per_outcome: dict[str, list[Any]], counts: list[int]
    ) -> None:
        self.per_case, self.per_outcome, self.counts = per_case, per_outcome, counts
        self._expanded: dict[str, list[Any]] = {}

    def __getitem__(self, name: str) -> list[Any]:
        if name in self.per_outcome:
            return self.per_outcome[name]
        if name not in self._expanded:
            values = self.per_case[name]  # KeyError for an unknown column
            self._expanded[name] = [v for v, k in zip(values, self.counts, strict=True) for _ in range(k)]
        return self._expanded[name]

    def __iter__(self) -> Iterator[str]:
        return iter([*self.per_case, *self.per_outcome])

    def __len__(self) -> int:
        return len(self.per_case) + len(self.per_outcome)

    def frame(self) -> pd.DataFrame:
        """The outcome rows as a DataFrame, the per-case columns categorical where they are keys."""
        cases = pd.DataFrame(self.per_case)
        for column in (*_KEY_COLUMNS, "ruleset_version"):
            if column in cases.columns:
                cases[column] = _category(cases[column])
        if "assessed_on" in cases.columns:
            cases["assessed_on"] = pd.to_datetime(cases["assessed_on"]).astype("datetime64[s]")
            cases["week"] = _week_labels(cases["assessed_on"])
        rows = np.repeat(np.arange(len(cases)), np.asarray(self.counts, dtype=np.int64))
        df = cases.take(rows).reset_index(drop=True)
        for name, values in self.per_outcome.items():
            df[name] = values
        return df


def _frame(data: Any, required: Sequence[str], what: str) -> pd.DataFrame:
    """A DataFrame from a DataFrame, a mapping of columns, or rows: dicts, dataclasses, or tuples
    holding the required columns in order (as a query returns them)."""
    if isinstance(data, pd.DataFrame):
        df = data.copy(deep=False)
    elif isinstance(data, CaseColumns):
        df = data.frame()
    elif isinstance(data, Mapping):
        df = pd.DataFrame(dict(data))
    else:
        rows = [_row_dict(r, required) for r in data]
        df = pd.DataFrame.from_records(rows) if rows else pd.DataFrame(columns=list(required))
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lack column(s) {', '.join(missing)}")
    return df


def _row_dict(row: Any, required: Sequence[str]) -> dict[str, Any]:
    if is_dataclass(row) and not isinstance(row, type):
        return {f.name: getattr(row, f.name) for f in fields(row)}
    if hasattr(row, "_asdict"):  # named tuples, SQLAlchemy rows
        return dict(row._asdict())
    if isinstance(row, Mapping):
        return dict(row)
    return dict(zip(required, row, strict=True))


def _category(values: pd.Series) -> pd.Series:
    """Categorical text with sorted categories (so grouping sorts the way people read); missing -> ""."""
    cat = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    if cat.isna().any():
        cat = cat.cat.add_categories([""]) if "" not in cat.cat.categories else cat
        cat = cat.fillna("")
    # tolist() and a type check: iterating the categories Index boxes each of a year's 99,000 case refs
    raw = cat.cat.categories.tolist()
    names = raw if all(type(c) is str for c in raw) else [str(c) for c in raw]
    if len(set(names)) != len(names):  # e.g. 1 and "1": let the text decide
        return _category(values.astype(str))
    if names is not raw:
        cat = cat.cat.rename_categories(names)
    ordered = sorted(names)
    return cat if ordered == names else cat.cat.reorder_categories(ordered)


@dataclass(frozen=True)
class Outcomes:
    """Outcome rows (one per assessment x criterion) ready to aggregate, with their catalogue.

    ``frame`` has categorical keys plus ``crit`` (row of ``criteria``), ``measure``, ``applicable``
    and ``passed``; ``criteria`` is sorted by (ruleset, criterion); ``measures`` keeps the
    catalogue's order (M1..M12, D1..D12 as configured).
    """

    frame: pd.DataFrame
    criteria: pd.DataFrame
    measures: pd.DataFrame


def _blank(value: object) -> bool:
    """None or NaN (what a missing key becomes when rows are framed)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def criteria_table(criteria: Any) -> pd.DataFrame:
    """Criteria metadata as a table sorted by (ruleset, criterion), with defaults filled."""
    crit = _frame(criteria, CRITERIA_REQUIRED, "criteria metadata")
    defaults: dict[str, object] = {
        "priority": None,
        "peel": "",
        "iserve": (),
        "minimum": None,
        "direction": "higher",
        "critical": False,
    }
    for column, default in defaults.items():
        values = crit[column] if column in crit.columns else [None] * len(crit)
        crit[column] = pd.Series(
            [default if _blank(v) else v for v in values], index=crit.index, dtype=object
        )
    crit["iserve"] = [tuple(v) if isinstance(v, list | tuple) else () for v in crit["iserve"]]
    crit["minimum"] = [None if v is None else float(v) for v in crit["minimum"]]
    crit["critical"] = crit["critical"].astype(bool)
    crit = crit.sort_values(["ruleset", "criterion"], kind="stable").reset_index(drop=True)
    dup = crit.duplicated(["ruleset", "criterion"])
    if dup.any():
        first = crit.loc[dup].iloc[0]
        raise ValueError(f"criteria metadata lists {first['ruleset']}/{first['criterion']} twice")
    return crit


def measures_table(measures: Any) -> pd.DataFrame:
    """The measure catalogue (all 24 items) in its given order."""
    table = _frame(measures, MEASURE_REQUIRED, "measures metadata").reset_index(drop=True)
    table["iserve"] = [tuple(v) for v in table["iserve"]]
    if "minimum" not in table.columns:
        table["minimum"] = [None] * len(table)
    return table


def outcomes_frame(outcomes: Any, criteria: Any, measures: Any) -> Outcomes:
    """Prepare outcome rows for aggregation: categorical keys, criterion metadata joined.

    ``outcomes``: rows (dicts or dataclasses), a mapping of columns, or a DataFrame; one row per
    (assessment, criterion) with case_ref, case_type, place, division, team, officer, assessed_on
    (date), ruleset, criterion, outcome (pass | fail | na), and optionally assessment_key,
    reviewer, week (ISO label; else from assessed_on), ruleset_version, critical (else the
    criterion's), trace (tuple, for fails) and note. Repeated text is best given as categoricals.
    ``criteria``: rows {ruleset, criterion, text, measure, priority, peel, iserve, minimum,
    direction, critical} (the last six optional). ``measures``: the 24 catalogue items {id, name,
    priority, peel, iserve, direction, minimum (optional)}, e.g. engine.rules.catalogue' Measure objects.
    Every (ruleset, criterion) needs metadata and every measure must be in the catalogue
    (ValueError otherwise: a wiring mistake, not user input).
    """
    crit = criteria_table(criteria)
    meas = measures_table(measures)
    df = _frame(outcomes, OUTCOME_REQUIRED, "outcome rows")
    n = len(df)
    for column, default in OUTCOME_DEFAULTS.items():
        if column not in df.columns:
            df[column] = [default] * n if isinstance(default, tuple) else default
    df["outcome"] = _category(df["outcome"])
    bad = set(df["outcome"].cat.categories) - set(OUTCOME_VALUES)
    if bad:
        raise ValueError(f"unknown outcome value(s) {', '.join(sorted(bad))} (use pass, fail or na)")
    unknown_measures = set(crit["measure"]) - set(meas["id"])
    if unknown_measures:
        raise ValueError(
            f"criteria refer to measure(s) not in the catalogue: {', '.join(sorted(unknown_measures))}"
        )

    for column in (*_KEY_COLUMNS, "criterion", "ruleset_version"):
        df[column] = _category(df[column])
    if not pd.api.types.is_datetime64_dtype(df["assessed_on"]):
        df["assessed_on"] = pd.to_datetime(df["assessed_on"])
    df["assessed_on"] = df["assessed_on"].astype("datetime64[s]")
    df["week"] = _category(df["week"] if "week" in df.columns else _week_labels(df["assessed_on"]))

    # (ruleset, criterion) -> row of the criteria table, via the category codes
    lookup = {(r, c): i for i, (r, c) in enumerate(zip(crit["ruleset"], crit["criterion"], strict=True))}
    rs_codes = df["ruleset"].cat.codes.to_numpy().astype(np.int64)
    cr_codes = df["criterion"].cat.codes.to_numpy().astype(np.int64)
    ncr = max(len(df["criterion"].cat.categories), 1)
    inverse, pairs = pd.factorize(rs_codes * ncr + cr_codes, sort=True)
    rs_cats, cr_cats = df["ruleset"].cat.categories, df["criterion"].cat.categories
    pair_crit = np.empty(len(pairs), dtype=np.int32)
    missing: list[str] = []
    for i, code in enumerate(pairs):
        key = (str(rs_cats[code // ncr]), str(cr_cats[code % ncr]))
        pair_crit[i] = lookup.get(key, -1)
        if pair_crit[i] < 0:
            missing.append("/".join(key))
    if missing:
        raise ValueError(f"no criteria metadata for {', '.join(sorted(missing))}")
    df["crit"] = pair_crit[inverse] if n else np.empty(0, dtype=np.int32)

    measure_codes = pd.Categorical(crit["measure"], categories=list(meas["id"])).codes
    df["measure"] = pd.Categorical.from_codes(
        measure_codes[df["crit"].to_numpy()], categories=list(meas["id"])
    )
    df["outcome"] = df["outcome"].cat.set_categories(list(OUTCOME_VALUES))
    codes = df["outcome"].cat.codes.to_numpy()
    df["applicable"] = codes != OUTCOME_VALUES.index("na")
    df["passed"] = codes == OUTCOME_VALUES.index("pass")
    # scoring records whether a criterion was critical when scored; rows without it take the catalogue's
    by_catalogue = crit["critical"].to_numpy(dtype=bool)[df["crit"].to_numpy()]
    if "critical" in df.columns:
        given = df["critical"]
        df["critical"] = np.where(
            given.isna().to_numpy(), by_catalogue, given.fillna(False).astype(bool).to_numpy()
        )
    else:
        df["critical"] = by_catalogue
    return Outcomes(frame=df, criteria=crit, measures=meas)


def in_period(outcomes: Outcomes, period_from: date | None, period_to: date) -> Outcomes:
    """The outcomes assessed from ``period_from`` (None: the start) to ``period_to`` inclusive."""
    on = outcomes.frame["assessed_on"]
    mask = on <= pd.Timestamp(period_to)
    if period_from is not None:
        mask &= on >= pd.Timestamp(period_from)
    if mask.all():
        return outcomes
    return Outcomes(frame=outcomes.frame.loc[mask], criteria=outcomes.criteria, measures=outcomes.measures)


# --------------------------------------------------------------------------- aggregation


def _tag_values(dimension: str, c: Mapping[str, Any], m: Mapping[str, Any]) -> Iterable[str]:
    """A criterion's keys in a dimension; its own tags win over its measure's."""
    if dimension == "measure":
        return [str(c["measure"])]
    if dimension == "priority":
        return [str(int(m["priority"] if c["priority"] is None else c["priority"]))]
    if dimension == "peel":
        return [str(c["peel"] or m["peel"])]
    return c["iserve"] or m["iserve"]


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
        return sorted({str(p) for p in meas["peel"]} | {str(p) for p in crit["peel"] if p})
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
) -> pd.DataFrame:
    """Compliance per level and dimension for one period: the tidy table behind reports and the CSV.

    One row per (level, place, key, dimension, ruleset, dimension_key); columns AGGREGATE_COLUMNS
    (+ ``cases``, the sorted failing case refs, when ``with_cases``). ``key`` is the level's own
    value (FORCE, a division, place code, team or officer; teams and officers are grouped within
    their place, which ``place`` names). N/A outcomes are not counted. At force, division and place
    level every catalogue measure, priority, pillar and strand has a row: n = 0 and rate NaN when
    nothing feeds it ("no data", never zero). Rows are sorted deterministically.
    ``frames``: {(place, ruleset): N}, the cases the period's reviews of that place and ruleset's case
    type were drawn from (see sampling_store.period_frame_sizes); the intervals of those place x
    criterion rows carry the finite-population correction (stats.fpc_interval). Other levels and
    dimensions keep the plain Wilson interval: a team's share of the frame is not recorded, and a
    measure pools several outcomes per case.
    """
    f = outcomes.frame
    ncrit = len(outcomes.criteria)
    text = {
        c: np.asarray(f[c].cat.categories, dtype=object) for c in ("division", "place", "team", "officer")
    }
    sizes = {c: max(len(v), 1) for c, v in text.items()}
    codes = {c: f[c].cat.codes.to_numpy().astype(np.int64) for c in ("division", "place", "team", "officer")}
    division_of_place = np.zeros(sizes["place"], dtype=np.int64)
    division_of_place[codes["place"]] = codes["division"]  # a place has one division (force file)

    # one cell per (place, team, officer, criterion): every level and dimension sums these
    app = f["applicable"].to_numpy()
    key = (
        (codes["place"][app] * sizes["team"] + codes["team"][app]) * sizes["officer"] + codes["officer"][app]
    ) * ncrit
    key = key + f["crit"].to_numpy()[app]
    # hashing then sorting the few distinct cells is ~8x faster than np.unique's full sort
    inverse, cell = pd.factorize(key, sort=True)
    cell_n = np.bincount(inverse, minlength=cell.size)
    cell_passes = np.bincount(inverse, weights=f["passed"].to_numpy()[app], minlength=cell.size)
    cell_crit, rest = cell % ncrit, cell // ncrit
    cell_parts = {"officer": rest % sizes["officer"], "team": (rest // sizes["officer"]) % sizes["team"]}
    cell_parts["place"] = rest // sizes["officer"] // sizes["team"]
    cell_parts["division"] = division_of_place[cell_parts["place"]]
    failing = _failing_rows(outcomes, codes, division_of_place) if with_cases else None
    by_dimension = {d: (_dimension_keys(outcomes, d), _dimension_pairs(outcomes, d)) for d in dimensions}

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
        for dimension, (keys, pairs) in by_dimension.items():
            nkeys = len(keys)
            rows, dim = _explode(lc_crit, pairs, ncrit)
            group = lc_rank[rows] * nkeys + dim
            n = np.bincount(group, weights=n_lc[rows], minlength=present.size * nkeys)
            passes = np.bincount(group, weights=passes_lc[rows], minlength=present.size * nkeys)
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
    table.iloc[rows, table.columns.get_loc("ci_low")] = low
    table.iloc[rows, table.columns.get_loc("ci_high")] = high


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
    outcomes: Outcomes, codes: Mapping[str, np.ndarray], division_of_place: np.ndarray
) -> dict[str, np.ndarray]:
    f = outcomes.frame
    fail = f["outcome"].cat.codes.to_numpy() == OUTCOME_VALUES.index("fail")
    rows = {c: codes[c][fail] for c in ("place", "team", "officer")}
    rows["division"] = division_of_place[rows["place"]]
    rows["crit"] = f["crit"].to_numpy()[fail].astype(np.int64)
    rows["case"] = f["case_ref"].cat.codes.to_numpy()[fail].astype(np.int64)
    rows["case_text"] = np.asarray(f["case_ref"].cat.categories, dtype=object)
    return rows


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


def write_aggregates_with_quarters(
    whole: pd.DataFrame, quarter_tables: Sequence[pd.DataFrame], folder: Path
) -> None:
    """A PEEL rerun's aggregates.csv (and aggregates.parquet when pyarrow is installed): the period
    at every level, then each quarter at force, division and place level (a quarter's team and
    officer cells are too thin to read, and would make the file five times as long)."""
    coarse = [t[t["level"].isin(FULL_COVERAGE_LEVELS).to_numpy()] for t in quarter_tables]
    combined = pd.concat([whole, *coarse], ignore_index=True)
    write_aggregates_csv(combined, folder / "aggregates.csv")
    if has_pyarrow():
        parquet = combined.copy()
        parquet["cases"] = [list(c) for c in parquet["cases"]]
        parquet.to_parquet(folder / "aggregates.parquet", index=False)


def has_pyarrow() -> bool:
    """Whether Parquet files can be written (pyarrow is installed)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def write_aggregates_csv(table: pd.DataFrame, path: str | Path) -> None:
    """Write the aggregate table for BI tools: fixed columns, 6-decimal rates, blank for no data.

    ``cases`` (when present) is written as refs joined by ";". Rows keep the table's
    (deterministic) order; the file is replaced atomically. ReportError when it cannot be written.
    """
    write_table_csv(table, [c for c in (*AGGREGATE_COLUMNS, "cases") if c in table.columns], path)


def write_table_csv(table: pd.DataFrame, columns: Sequence[str], path: str | Path) -> None:
    """``columns`` of a table as CSV for BI tools: 6-decimal floats, blank for no data (NaN, None),
    tuples of refs joined by ";"; replaced atomically. ReportError when it cannot be written."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")

    def cell(value: object) -> object:
        if isinstance(value, float | np.floating):
            return "" if math.isnan(value) else f"{value:.6f}"
        if isinstance(value, tuple):
            return ";".join(value)
        return value

    def column(values: pd.Series) -> list[object]:
        """A column's cells, formatted a whole float column at a time."""
        if values.dtype.kind == "f":
            return ["" if v != v else f"{v:.6f}" for v in values.tolist()]  # v != v: NaN
        if values.dtype.kind in "iub":
            return values.tolist()
        return [cell(v) for v in values.tolist()]

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh, lineterminator="\n")
            out.writerow(columns)
            out.writerows(zip(*(column(table[c]) for c in columns), strict=True))
        os.replace(tmp, target)
    except OSError as exc:
        raise ReportError(f"cannot write {target}: {exc.strerror or exc}") from exc


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Plain dict rows (NaN -> None) for code that should not handle DataFrames."""
    out = table.astype(object).where(table.notna(), None).to_dict("records")
    return [{str(k): v for k, v in row.items()} for row in out]


# --------------------------------------------------------------------------- inputs to exceptions


def criterion_cells(
    outcomes: Outcomes,
    table: pd.DataFrame | None = None,
    frames: Mapping[tuple[str, str], int] | None = None,
) -> list[dict[str, Any]]:
    """The place x criterion rows of the aggregate table (of ``table`` when already computed, which
    then already carries any ``frames``; see :func:`aggregate`)."""
    if table is None:
        table = aggregate(outcomes, "", levels=("place",), dimensions=("criterion",), frames=frames)
    chosen = table[(table["level"] == "place").to_numpy() & (table["dimension"] == "criterion").to_numpy()]
    return records(chosen)


def failures(
    outcomes: Outcomes,
    *,
    cells: Collection[tuple[str, str, str]] = (),
    measure_weeks: Collection[tuple[str, str, str]] = (),
    critical: bool = False,
) -> list[dict[str, Any]]:
    """Failing outcome rows with the case details a briefing shows, selected by:

    ``cells`` (place, ruleset, criterion), ``measure_weeks`` (place, measure, week), and with
    ``critical`` every failure of a critical criterion. Sorted by place, ruleset, criterion,
    assessment date and case ref; ``assessed_on`` as ISO text and ``trace`` as a tuple.
    """
    f = outcomes.frame
    fail = np.flatnonzero(f["outcome"].cat.codes.to_numpy() == OUTCOME_VALUES.index("fail"))
    keep = np.zeros(fail.size, dtype=bool)
    if critical:
        keep |= f["critical"].to_numpy()[fail]
    crit = outcomes.criteria
    place_code = f["place"].cat.codes.to_numpy()[fail].astype(np.int64)
    places = _code_of(f["place"])
    if cells:
        crit_of = {(r, c): i for i, (r, c) in enumerate(zip(crit["ruleset"], crit["criterion"], strict=True))}
        wanted = [
            places[p] * len(crit) + crit_of[(r, c)] for p, r, c in cells if p in places and (r, c) in crit_of
        ]
        keep |= np.isin(place_code * len(crit) + f["crit"].to_numpy()[fail], wanted)
    if measure_weeks:
        measures, weeks = _code_of(f["measure"]), _code_of(f["week"])
        nm, nw = len(measures), len(weeks)
        wanted = [
            (places[p] * nm + measures[m]) * nw + weeks[w]
            for p, m, w in measure_weeks
            if p in places and m in measures and w in weeks
        ]
        measure_code = f["measure"].cat.codes.to_numpy()[fail].astype(np.int64)
        code = (place_code * nm + measure_code) * nw + f["week"].cat.codes.to_numpy()[fail]
        keep |= np.isin(code, wanted)
    chosen = fail[keep]
    if chosen.size == 0:
        return []

    # sorted by place, ruleset, criterion, date, case: categories are sorted, so codes sort as text
    order = np.lexsort(
        [f[c].cat.codes.to_numpy()[chosen] for c in ("case_ref",)]
        + [f["assessed_on"].to_numpy()[chosen].astype(np.int64)]
        + [f[c].cat.codes.to_numpy()[chosen] for c in ("criterion", "ruleset", "place")]
    )
    chosen = chosen[order]
    columns: dict[str, list[Any]] = {c: _values(f[c], chosen).tolist() for c in _DETAIL_TEXT}
    columns["criterion_text"] = crit["text"].astype(str).to_numpy()[f["crit"].to_numpy()[chosen]].tolist()
    columns["assessed_on"] = np.datetime_as_string(f["assessed_on"].to_numpy()[chosen], unit="D").tolist()
    columns["trace"] = [
        tuple(t) if isinstance(t, list | tuple) else () for t in f["trace"].to_numpy()[chosen]
    ]
    columns["note"] = ["" if _blank(t) else str(t) for t in f["note"].to_numpy()[chosen]]
    columns["critical"] = f["critical"].to_numpy()[chosen].tolist()
    keys = list(columns)
    return [dict(zip(keys, values, strict=True)) for values in zip(*columns.values(), strict=True)]


_DETAIL_TEXT = (
    "place",
    "ruleset",
    "criterion",
    "measure",
    "week",
    "case_ref",
    "case_type",
    "team",
    "officer",
    "reviewer",
)


def _code_of(column: pd.Series) -> dict[str, int]:
    """Category text -> code of a categorical column."""
    return {str(c): i for i, c in enumerate(column.cat.categories)}


def _values(column: pd.Series, rows: np.ndarray) -> np.ndarray:
    """The text of a categorical column at some row positions (without touching the other rows)."""
    categories = np.asarray(column.cat.categories, dtype=object)
    return categories[column.cat.codes.to_numpy()[rows]]


# --------------------------------------------------------------------------- incidents


def incidents_frame(
    incidents: Any, place_settings: Mapping[str, str], settings: ResponseSettings | None = None
) -> pd.DataFrame:
    """Incidents (IncidentRow objects, rows, columns or a DataFrame holding METRIC_INPUT_COLUMNS;
    tuples in that order) with each metric worked out: ``place`` (categorical), ``week`` (ISO week
    of received_at), ``received_day``, and per proportion metric
    ``<metric>__applicable`` / ``<metric>__passed``, plus ``call101_answer_seconds`` (NaN unless an
    answered 101 call). ``place_settings`` maps place code -> "urban" | "rural" (force file).
    Grade 1/2 incidents not attended count as not attended within the standard; 999 calls not
    answered count as not answered within 10 s; unanswered 101 calls have no answer time.
    Time-zone-aware timestamps are compared in UTC, and their week is the UTC week.
    """
    s = settings or ResponseSettings()
    df = _frame(incidents, METRIC_INPUT_COLUMNS, "incidents")
    out = pd.DataFrame({"place": _category(df["place"])})
    stamps = {
        c: pd.to_datetime(df[c], utc=True, format="ISO8601")
        for c in ("received_at", "answered_at", "arrived_at")
    }
    received = stamps["received_at"]
    out["received_day"] = received.dt.tz_localize(None).dt.normalize()
    out["week"] = _week_labels(out["received_day"])
    grade = pd.to_numeric(df["grade"]).to_numpy()
    channel = df["channel"].astype(str).to_numpy()
    answer_s = (stamps["answered_at"] - received).dt.total_seconds().to_numpy()
    arrive_s = (stamps["arrived_at"] - received).dt.total_seconds().to_numpy()

    unknown = set(out["place"].cat.categories) - set(place_settings)
    if unknown:
        raise ValueError(f"no urban/rural setting for place(s) {', '.join(sorted(unknown))}")
    g1_limit = np.asarray([s.g1_minutes(place_settings[p]) * 60 for p in out["place"].cat.categories])
    limit = g1_limit[out["place"].cat.codes.to_numpy()] if len(out) else np.empty(0)
    with np.errstate(invalid="ignore"):
        out[G1_ATTENDED + "__applicable"] = grade == 1
        out[G1_ATTENDED + "__passed"] = (grade == 1) & (arrive_s <= limit)
        out[G2_ATTENDED + "__applicable"] = grade == 2
        out[G2_ATTENDED + "__passed"] = (grade == 2) & (arrive_s <= s.g2_minutes * 60)
        out[CALL999_ANSWERED + "__applicable"] = channel == "999"
        out[CALL999_ANSWERED + "__passed"] = (channel == "999") & (answer_s <= s.call999_seconds)
    out[CALL101_SECONDS] = np.where(channel == "101", answer_s, np.nan)
    return out
