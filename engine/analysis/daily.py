"""Day summaries: all that the weekly series and the incident metrics need of one day's rows.

A day's outcomes become ``{place: {measure: [n, passes], "criterion:<ruleset>/<criterion>": [n,
passes]}}``: a measure's n counts the cases (assessments) with any applicable criterion of the
measure and passes those that failed none of them; a criterion's n counts the cases it applied to
and passes those that met it. A case is assessed on one day, so these add up over days. A day's
incidents ``{place: {metric: [n, passes], CALL101_SECONDS: [[seconds, calls], ...]}}`` (the answered
101 calls' answer times, sorted, with how many calls took each). Both add up exactly over any set of
days, medians included, so a batch run can keep them in the database (engine.store.summaries) and read a
history of weeks as a few hundred small rows instead of every assessment and incident again; and
the incident metrics are worked out from them whether or not they were stored, so there is one way
to compute them. Like the rest of engine.analysis, this module may use pandas and numpy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from engine.analysis.aggregate import case_cells, case_codes
from engine.analysis.outcomes import Outcomes
from engine.analysis.stats import wilson_interval
from engine.core.metrics import PROPORTION_METRICS
from engine.core.periods import week_label
from engine.inputs.extracts import CALL101_SECONDS

#: place -> measure or metric -> counts (see the module docstring)
DayCounts = dict[str, dict[str, Any]]
Days = Mapping[date, DayCounts]

METRIC_COLUMNS: tuple[str, ...] = (
    "place",
    "period",
    "metric",
    "n",
    "passes",
    "rate",
    "ci_low",
    "ci_high",
    "median",
    "p90",
)


#: incident_metrics.csv (a PEEL rerun's): each response standard's figures by period and by level,
#: force or place (``key`` FORCE or the place's code, as in aggregates.csv)
INCIDENT_METRIC_COLUMNS: tuple[str, ...] = (
    *("period", "level", "place", "key", "ruleset", "criterion"),
    *METRIC_COLUMNS[METRIC_COLUMNS.index("metric") : METRIC_COLUMNS.index("median")],
    *("median_seconds", "p90_seconds"),
)


def _day_place_cells(days: pd.Series, places: pd.Series) -> tuple[np.ndarray, list[date], list[str]]:
    """Per row, the number of its (day, place) cell; the days and places the numbers stand for."""
    day_codes, day_values = pd.factorize(days, sort=True)
    place_names = [str(c) for c in places.cat.categories]
    cells = day_codes.astype(np.int64) * max(len(place_names), 1) + places.cat.codes.to_numpy()
    return cells, [pd.Timestamp(d).date() for d in day_values], place_names


def _present(cells: np.ndarray, days: list[date], places: list[str]) -> dict[date, DayCounts]:
    """An empty entry for every (day, place) that has any row."""
    out: dict[date, DayCounts] = {}
    for cell in np.unique(cells).tolist():
        day, place = divmod(cell, len(places))
        out.setdefault(days[day], {})[places[place]] = {}
    return out


#: the key of a criterion's counts in an outcome day summary (a measure's key is its id)
CRITERION_KEY = "criterion:"


def criterion_key(ruleset: str, criterion: str) -> str:
    """'criterion:stop-search-legitimacy/SS01': a criterion's key in an outcome day summary."""
    return f"{CRITERION_KEY}{ruleset}/{criterion}"


def outcome_days(outcomes: Outcomes) -> dict[date, DayCounts]:
    """{day: {place: {measure or criterion_key: [n, passes]}}} of the outcome rows, counting cases
    (see the module docstring; N/A leaves the denominator); a place with rows that day but none
    applicable has ``{}``. Each place's measures come first, in catalogue order, then its criteria
    in (ruleset, criterion) order."""
    f = outcomes.frame
    if not len(f):
        return {}
    cells, days, places = _day_place_cells(f["assessed_on"], f["place"])
    out = _present(cells, days, places)
    rows = np.flatnonzero(f["applicable"].to_numpy())
    ncells = len(days) * len(places)
    measures = [str(c) for c in f["measure"].cat.categories]
    criteria = [
        criterion_key(r, c)
        for r, c in zip(outcomes.criteria["ruleset"], outcomes.criteria["criterion"], strict=True)
    ]
    passed = f["passed"].to_numpy()[rows]

    # measures: each case once, passing when it failed none of the measure's criteria
    case, ncases = case_codes(f, rows)
    case_cell = np.zeros(ncases, dtype=np.int64)
    case_cell[case] = cells[rows]  # a case has one day and place
    measure = f["measure"].cat.codes.to_numpy()[rows].astype(np.int64)
    of_case, of_measure, case_passed = case_cells(case, measure, ~passed, ncases, max(len(measures), 1))
    code = case_cell[of_case] * len(measures) + of_measure
    n_m = np.bincount(code, minlength=ncells * len(measures))
    passes_m = np.bincount(code[case_passed], minlength=ncells * len(measures))
    # criteria: each finding (one per case and criterion)
    code = cells[rows] * len(criteria) + f["crit"].to_numpy()[rows]
    n_c = np.bincount(code, minlength=ncells * len(criteria))
    passes_c = np.bincount(code[passed], minlength=ncells * len(criteria))

    targets = {
        cell: out[days[cell // len(places)]][places[cell % len(places)]]
        for cell in np.unique(cells[rows]).tolist()
    }
    for names, n, k in ((measures, n_m, passes_m), (criteria, n_c, passes_c)):
        at = np.flatnonzero(n)
        for cell, key, count, won in zip(
            (at // len(names)).tolist(),
            (at % len(names)).tolist(),
            n[at].tolist(),
            k[at].tolist(),
            strict=True,
        ):
            targets[cell][names[key]] = [count, won]
    return out


def incident_days(incidents: pd.DataFrame) -> dict[date, DayCounts]:
    """{day: {place: counts}} of an incidents frame (incidents.incidents_frame), by received day."""
    if not len(incidents):
        return {}
    cells, days, places = _day_place_cells(incidents["received_day"], incidents["place"])
    out = _present(cells, days, places)

    def put(cell: int, metric: str, value: Any) -> None:
        day, place = divmod(cell, len(places))
        out[days[day]][places[place]][metric] = value

    size = len(days) * len(places)
    for metric in PROPORTION_METRICS:
        applies = incidents[metric + "__applicable"].to_numpy()
        n = np.bincount(cells[applies], minlength=size)
        k = np.bincount(cells[applies & incidents[metric + "__passed"].to_numpy()], minlength=size)
        for cell in np.flatnonzero(n).tolist():
            put(cell, metric, [int(n[cell]), int(k[cell])])
    seconds = incidents[CALL101_SECONDS].to_numpy(dtype=float)
    answered = ~np.isnan(seconds)
    g, v = cells[answered], seconds[answered]
    order = np.lexsort((v, g))
    g, v = g[order], v[order]
    first = np.ones(len(g), dtype=bool)
    first[1:] = (g[1:] != g[:-1]) | (v[1:] != v[:-1])
    starts = np.flatnonzero(first)
    calls = np.diff(np.append(starts, len(g)))
    histograms: dict[int, list[list[float | int]]] = {}
    for cell, value, count in zip(g[starts].tolist(), v[starts].tolist(), calls.tolist(), strict=True):
        histograms.setdefault(cell, []).append([value, count])
    for cell, pairs in histograms.items():
        put(cell, CALL101_SECONDS, pairs)
    return out


def merge(parts: Iterable[Days]) -> dict[date, DayCounts]:
    """Day summaries of disjoint sets of rows (chunks of a read) added together. The result shares
    the parts' lists where a count is in one part only (nothing here changes a list in place;
    copying a year's 101 answer-time histograms cost 0.4 s)."""
    out: dict[date, DayCounts] = {}
    for part in parts:
        for day, places in part.items():
            target = out.setdefault(day, {})
            for place, counts in places.items():
                into = target.setdefault(place, {})
                for key, value in counts.items():
                    if key not in into:
                        into[key] = value
                    elif key == CALL101_SECONDS:
                        into[key] = _merge_histograms(into[key], value)
                    else:
                        into[key] = [into[key][0] + value[0], into[key][1] + value[1]]
    return out


def _merge_histograms(a: Sequence[Sequence[float]], b: Sequence[Sequence[float]]) -> list[list[float | int]]:
    counts: dict[float, int] = {}
    for value, count in (*a, *b):
        counts[value] = counts.get(value, 0) + int(count)
    return [[value, counts[value]] for value in sorted(counts)]


def between(days: Days, first: date | None, last: date) -> dict[date, DayCounts]:
    """The days from ``first`` (None: the earliest) to ``last`` inclusive."""
    return {d: c for d, c in days.items() if d <= last and (first is None or d >= first)}


def weeks_present(days: Days) -> list[str]:
    """The ISO weeks of the days that have any row, in order."""
    return sorted({week_label(d) for d, places in days.items() if places})


# --------------------------------------------------------------------------- from day summaries


WeeklySeries = dict[tuple[str, str], list[tuple[int, int]]]


def outcome_weekly_series(
    days: Days, weeks: Sequence[str]
) -> tuple[WeeklySeries, dict[tuple[str, str, str], list[tuple[int, int]]]]:
    """(measure_weekly_series, criterion_weekly_series) of the outcome day summaries, read in one
    pass."""
    position = {w: i for i, w in enumerate(weeks)}
    sums: dict[tuple[str, str], list[int]] = {}  # [n, passes] of each week, flattened
    for day, places in days.items():
        i = position.get(week_label(day))
        if i is None:
            continue
        at = 2 * i
        for place, counts in places.items():
            for key, (n, passes) in counts.items():
                row = sums.get((place, key))
                if row is None:
                    row = sums[(place, key)] = [0] * (2 * len(weeks))
                row[at] += n
                row[at + 1] += passes
    measures: WeeklySeries = {}
    criteria: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
    for (place, key), row in sorted(sums.items()):
        series = list(zip(row[::2], row[1::2], strict=True))
        if key.startswith(CRITERION_KEY):
            ruleset, _, criterion = key[len(CRITERION_KEY) :].rpartition("/")
            criteria[(place, ruleset, criterion)] = series
        else:
            measures[(place, key)] = series
    return measures, dict(sorted(criteria.items()))


def measure_weekly_series(days: Days, weeks: Sequence[str]) -> WeeklySeries:
    """Weekly (n, passes) of every (place, measure) with any applicable outcome over ``weeks``: n the
    cases with an applicable criterion of the measure, passes those that failed none; weeks with
    none give (0, 0). Sorted by (place, measure)."""
    return outcome_weekly_series(days, weeks)[0]


def criterion_weekly_series(
    days: Days, weeks: Sequence[str]
) -> dict[tuple[str, str, str], list[tuple[int, int]]]:
    """Weekly (n, passes) of every (place, ruleset, criterion) with any applicable outcome over
    ``weeks``: the cases it applied to and those that met it; weeks with none give (0, 0). Sorted by
    (place, ruleset, criterion)."""
    return outcome_weekly_series(days, weeks)[1]


def _quantiles(pairs: Sequence[Sequence[float]], qs: Sequence[float]) -> tuple[int, list[float]]:
    """(calls, the ``qs`` quantiles) of answer times given as [seconds, calls] pairs: linear
    interpolation between order statistics, as numpy's and pandas' default (R type 7)."""
    # flattened first: numpy reads a flat iterator several times faster than a list of pairs
    flat = np.fromiter(chain.from_iterable(pairs), dtype=float, count=2 * len(pairs))
    table = flat.reshape(-1, 2)
    order = np.argsort(table[:, 0], kind="stable")
    values, cumulative = table[order, 0], np.cumsum(table[order, 1].astype(np.int64))
    total = int(cumulative[-1])
    ats = [(total - 1) * q for q in qs]
    lows = [math.floor(at) for at in ats]
    # the order statistics either side of each quantile, found in one search
    found = np.searchsorted(cumulative, lows + [min(lo + 1, total - 1) for lo in lows], side="right")
    picked = values[found].tolist()
    out = []
    for j, (at, lo) in enumerate(zip(ats, lows, strict=True)):
        low, high = picked[j], picked[len(qs) + j]
        out.append(float(low + (high - low) * (at - lo)))
    return total, out


def incident_metrics(days: Days, period: str | None = None, *, pool: str | None = None) -> pd.DataFrame:
    """Incident metrics per place and ISO week (or per place over all the days, labelled ``period``);
    with ``pool``, of every place together, as place ``pool`` (the force).

    Columns: place, period, metric, n, passes, rate, ci_low, ci_high, median, p90. Proportions carry
    n/passes/rate and a Wilson interval; call101_answer_seconds carries n (answered 101 calls), the
    median and 90th percentile seconds, no rate. Only rows with n > 0; sorted by place, period and
    metric (the proportion metrics in their standard order, then the 101 answer time).
    """
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for day, places in days.items():
        label = period if period is not None else week_label(day)
        for place, counts in places.items():
            acc = groups.setdefault((pool or place, label), {})
            for metric, value in counts.items():
                if metric == CALL101_SECONDS:
                    acc.setdefault(metric, []).extend(value)
                else:
                    n, k = acc.get(metric, (0, 0))
                    acc[metric] = (n + value[0], k + value[1])
    order = [*PROPORTION_METRICS, CALL101_SECONDS]
    cols: dict[str, list[Any]] = {c: [] for c in METRIC_COLUMNS if c not in ("rate", "ci_low", "ci_high")}
    for (place, label), acc in sorted(groups.items()):
        for metric in order:
            if metric not in acc:
                continue
            if metric == CALL101_SECONDS:
                n, (median, p90) = _quantiles(acc[metric], (0.5, 0.9))
                passes = math.nan
            else:
                n, passes = acc[metric]
                median = p90 = math.nan
            if not n:
                continue
            for column, value in zip(cols, (place, label, metric, n, passes, median, p90), strict=True):
                cols[column].append(value)
    n_arr = np.asarray(cols["n"], dtype=np.int64)
    passes_arr = np.asarray(cols["passes"], dtype=float)
    low, high = wilson_interval(passes_arr, n_arr)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = passes_arr / n_arr
    return pd.DataFrame(
        {
            "place": np.asarray(cols["place"], dtype=object),
            "period": np.asarray(cols["period"], dtype=object),
            "metric": np.asarray(cols["metric"], dtype=object),
            "n": n_arr,
            "passes": passes_arr,
            "rate": rate,
            "ci_low": np.asarray(low, dtype=float),
            "ci_high": np.asarray(high, dtype=float),
            "median": np.asarray(cols["median"], dtype=float),
            "p90": np.asarray(cols["p90"], dtype=float),
        }
    )


def incident_weekly_series(
    days: Days, weeks: Sequence[str], *, pool: str | None = None
) -> dict[tuple[str, str], list[tuple[int, int, float | None]]]:
    """Weekly (n, passes, value) per (place, metric) over ``weeks``; value = rate or median seconds.
    With ``pool``: of every place together, as place ``pool``."""
    table = incident_metrics(days, pool=pool)
    position = {w: i for i, w in enumerate(weeks)}
    series: dict[tuple[str, str], list[tuple[int, int, float | None]]] = {}
    for place, week, metric, n, passes, rate, median in zip(
        *(table[c].tolist() for c in ("place", "period", "metric", "n", "passes", "rate", "median")),
        strict=True,
    ):
        if week not in position:
            continue
        value = median if metric == CALL101_SECONDS else rate
        row = series.setdefault((place, metric), [(0, 0, None)] * len(weeks))
        row[position[week]] = (
            n,
            0 if math.isnan(passes) else int(passes),
            None if math.isnan(value) else value,
        )
    return dict(sorted(series.items()))


def by_day(days: pd.Series, values: Sequence[Any] | np.ndarray) -> dict[date, list[Any]]:
    """``values`` (one per row) grouped by the rows' day (a datetime column such as received_day),
    each day's in the rows' order."""
    codes, uniques = pd.factorize(days, sort=True)
    if len(codes) != len(values):
        raise ValueError(f"{len(values)} values for {len(codes)} days")
    order = np.argsort(codes, kind="stable")
    ends = np.cumsum(np.bincount(codes, minlength=len(uniques)))[:-1]
    groups = np.split(np.asarray(values, dtype=object)[order], ends)
    return {pd.Timestamp(d).date(): g.tolist() for d, g in zip(uniques, groups, strict=True)}
