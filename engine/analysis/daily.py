"""Day summaries: all that the weekly series and the incident metrics need of one day's rows.

A day's outcomes become ``{place: {measure: [n, passes], "criterion:<ruleset>/<criterion>": [n,
passes]}}``: a measure's n counts the cases (assessments) with any applicable criterion of the
measure and passes those that failed none of them; a criterion's n counts the cases it applied to
and passes those that met it. A case is assessed on one day, so these add up over days. A day's
incidents ``{place: {team: {metric: counts}}}`` (engine.analysis.incident_days, and the figures of
any days of them engine.analysis.incident_figures; their functions are here too: incident_days,
incident_metrics, incident_weekly_series, merge). Both add up exactly
over any set of days, medians included, so a batch run can keep them in the database
(engine.store.summaries) and read a history of weeks as a few hundred small rows instead of every
assessment and incident again; and the incident metrics are worked out from them whether or not
they were stored, so there is one way to compute them. Like the rest of engine.analysis, this
module may use pandas and numpy.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from engine.analysis.aggregate import case_cells, case_codes
from engine.analysis.incident_days import (
    INCIDENT_METRIC_COLUMNS,
    INCIDENT_SUMMARY_FORMAT,
    incident_days,
    merge,
)
from engine.analysis.incident_figures import incident_metrics, incident_weekly_series
from engine.analysis.outcomes import Outcomes
from engine.core.periods import week_label

__all__ = [
    "INCIDENT_METRIC_COLUMNS",
    "INCIDENT_SUMMARY_FORMAT",
    "incident_days",
    "incident_metrics",
    "incident_weekly_series",
    "merge",
]

#: place -> measure -> counts, or (incidents) place -> team -> metric -> counts (see the module docstring)
DayCounts = dict[str, dict[str, Any]]
Days = Mapping[date, DayCounts]


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


def between(days: Days, first: date | None, last: date) -> dict[date, DayCounts]:
    """The days from ``first`` (None: the earliest) to ``last`` inclusive."""
    return {d: c for d, c in days.items() if d <= last and (first is None or d >= first)}


def weeks_present(days: Days) -> list[str]:
    """The ISO weeks of the days that have any row, in order."""
    return sorted({week_label(d) for d, places in days.items() if places})


# --------------------------------------------------------------------------- from day summaries


WeeklySeries = dict[tuple[str, str], list[tuple[int, int]]]


@dataclass(frozen=True)
class WeeklySums:
    """The outcome day summaries' counts summed by week (:func:`weekly_sums`): ``names[i]`` the
    (place, key) of row i, ``n`` and ``passes`` int64 arrays of one row per (place, key) and one
    column per week (0 where a week has none), ``first`` the first week (column) in which each row
    has an entry."""

    names: list[tuple[str, str]]
    n: np.ndarray
    passes: np.ndarray
    first: np.ndarray

    def rows(self, rows: Sequence[int], names: Sequence[tuple[str, str]], start: int = 0) -> WeeklySums:
        """These ``rows`` under new ``names``, from week ``start`` on."""
        at = np.asarray(rows, dtype=np.int64)
        first = np.maximum(self.first[at] - start, 0)
        return WeeklySums(list(names), self.n[at, start:], self.passes[at, start:], first)


@dataclass(frozen=True)
class Entries:
    """The counts of day summaries in one pass, straight from the dicts (no tuple made per count):
    ``names[r]`` the (place, key) of row r, numbered as first seen; for each non-empty (day, place)
    taken, its index (``at``) and how many counts it has (``sizes``); for each count its row
    (``rows``) and its [n, passes] (``values``)."""

    names: list[tuple[str, str]]
    at: list[int]
    sizes: list[int]
    rows: list[int]
    values: list[Any]


def entries(days: Days, index_of: Callable[[date], int | None]) -> Entries:
    """:class:`Entries` of the days whose ``index_of`` is not None (a week's column, a day's number)."""
    at: list[int] = []
    sizes: list[int] = []
    rows: list[int] = []
    values: list[Any] = []
    number: dict[str, defaultdict[str, int]] = {}
    new_row = itertools.count().__next__
    for day, places in days.items():
        i = index_of(day)
        if i is None:
            continue
        for place, counts in places.items():
            if counts:
                of = number.get(place)
                if of is None:
                    of = number[place] = defaultdict(new_row)
                at.append(i)
                sizes.append(len(counts))
                rows.extend(map(of.__getitem__, counts))
                values.extend(counts.values())
    names = [("", "")] * sum(len(of) for of in number.values())
    for place, of in number.items():
        for key, row in of.items():
            names[row] = (place, key)
    return Entries(names, at, sizes, rows, values)


def weekly_sums(days: Days, weeks: Sequence[str]) -> WeeklySums:
    """Every (place, key) of the day summaries with any counts in ``weeks`` (in first-seen order)
    and its weekly n and passes. One pass over the summaries; the sums are numpy's."""
    position = {w: i for i, w in enumerate(weeks)}
    found = entries(days, lambda day: position.get(week_label(day)))
    names, week_of, sizes, rows, values = found.names, found.at, found.sizes, found.rows, found.values
    if not rows:
        empty = np.zeros((0, len(weeks)), dtype=np.int64)
        return WeeklySums([], empty, empty, np.zeros(0, dtype=np.int64))
    row_of = np.fromiter(rows, dtype=np.int64, count=len(rows))
    week = np.repeat(np.asarray(week_of, dtype=np.int64), np.asarray(sizes, dtype=np.int64))
    cell = row_of * len(weeks) + week
    pairs_of = np.fromiter(chain.from_iterable(values), dtype=np.int64, count=2 * len(values)).reshape(-1, 2)
    cells = len(names) * len(weeks)
    # float sums of whole numbers are exact below 2**53 cases
    n = np.bincount(cell, weights=pairs_of[:, 0], minlength=cells).astype(np.int64)
    passes = np.bincount(cell, weights=pairs_of[:, 1], minlength=cells).astype(np.int64)
    first = np.full(len(names), len(weeks), dtype=np.int64)
    np.minimum.at(first, row_of, week)
    shape = (len(names), len(weeks))
    return WeeklySums(names, n.reshape(shape), passes.reshape(shape), first)


@dataclass(frozen=True)
class OutcomeWeeks:
    """The weeks from the first with any outcome to the latest, and the day summaries' weekly sums
    over them (made once for the place and the team special causes of a period)."""

    weeks: list[str]
    sums: WeeklySums


class SeriesView(Mapping[Any, list[tuple[int, int]]]):
    """Weekly (n, passes) series of rows of :class:`WeeklySums`, by key, each made into a list of
    pairs only when read: a period's SPC screens thousands of series (numpy, :meth:`counts`) and
    charts a few."""

    def __init__(self, keys: Sequence[Any], rows: Sequence[int], sums: WeeklySums) -> None:
        self._row = dict(zip(keys, rows, strict=True))
        self._sums = sums

    def __getitem__(self, key: Any) -> list[tuple[int, int]]:
        row = self._row[key]
        return list(zip(self._sums.n[row].tolist(), self._sums.passes[row].tolist(), strict=True))

    def __iter__(self) -> Iterator[Any]:
        return iter(self._row)

    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, key: object) -> bool:
        return key in self._row

    def counts(self, keys: Sequence[Any]) -> np.ndarray:
        """float64 (len(keys), weeks, 2) of these series' (n, passes), as np.asarray of their lists."""
        rows = np.asarray([self._row[k] for k in keys], dtype=np.int64)
        return np.stack([self._sums.n[rows], self._sums.passes[rows]], axis=-1).astype(np.float64)

    def same(self, key: Any, other: SeriesView, other_key: Any) -> bool:
        """Whether this ``key``'s series equals ``other``'s ``other_key``'s week for week (False when
        ``other`` has no such series)."""
        theirs = other._row.get(other_key)
        if theirs is None:
            return False
        mine, sums = self._row[key], other._sums
        return bool(
            self._sums.n.shape[1] == sums.n.shape[1]
            and np.array_equal(self._sums.n[mine], sums.n[theirs])
            and np.array_equal(self._sums.passes[mine], sums.passes[theirs])
        )


def series_of(sums: WeeklySums) -> tuple[SeriesView, SeriesView]:
    """(measure series, criterion series) of :func:`weekly_sums`' rows, each in order of its key:
    {(place, measure): [(n, passes) per week]} and {(place, ruleset, criterion): ...}."""
    names = sums.names
    measures: list[tuple[tuple[str, str], int]] = []
    criteria: list[tuple[tuple[str, str, str], int]] = []
    for row in sorted(range(len(names)), key=names.__getitem__):
        place, key = names[row]
        if key.startswith(CRITERION_KEY):
            ruleset, _, criterion = key[len(CRITERION_KEY) :].rpartition("/")
            criteria.append(((place, ruleset, criterion), row))
        else:
            measures.append(((place, key), row))
    criteria.sort()
    return (
        SeriesView([k for k, _ in measures], [r for _, r in measures], sums),
        SeriesView([k for k, _ in criteria], [r for _, r in criteria], sums),
    )


def outcome_weekly_series(
    days: Days, weeks: Sequence[str]
) -> tuple[WeeklySeries, dict[tuple[str, str, str], list[tuple[int, int]]]]:
    """(measure_weekly_series, criterion_weekly_series) of the outcome day summaries, read in one
    pass."""
    measures, criteria = series_of(weekly_sums(days, weeks))
    return dict(measures), dict(criteria)


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
