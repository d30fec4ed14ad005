"""Outcome day summaries as arrays (issue 17): the counts of daily.outcome_days with the teams' of
team_findings.with_team_days, one entry per (day, place, key), made straight from the outcomes frame
(or from stored day summaries) and summed by week for any span with numpy.

A PEEL year's analysis reads the weekly series of its period and of each quarter, in two processes:
from the day summaries' dicts that was a walk over about a million small lists each time, and the
walk wrote their reference counts, so a forked worker copied the pages that hold them. These arrays
are made once, before the fork, and only read after it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from engine.analysis import daily
from engine.analysis.aggregate import case_cells, case_codes
from engine.analysis.outcomes import Outcomes
from engine.analysis.team_findings import SEP, TEAM_KEY
from engine.core.periods import week_label, week_range

_INT = np.int64
#: the entries' dtype: a day's count of one key, and the number of days or keys, are far below 2**31
_ENTRY = np.int32


@dataclass(frozen=True)
class DaySums:
    """Outcome day summaries as entries: entry i holds the counts ``n[i]``, ``passes[i]`` of the key
    ``names[row[i]]`` (a (place, measure, criterion or team key) pair) on the day
    ``dates[day[i]]``; the entries run in the day summaries' order (day, then place, then key).
    ``present[j]``: whether ``dates[j]`` has any row (one with nothing applicable too)."""

    names: list[tuple[str, str]]
    dates: list[date]
    day: np.ndarray
    row: np.ndarray
    n: np.ndarray
    passes: np.ndarray
    present: np.ndarray

    @classmethod
    def empty(cls) -> DaySums:
        none = np.zeros(0, dtype=_ENTRY)
        return cls([], [], none, none, none, none, np.zeros(0, dtype=bool))

    @classmethod
    def of_days(cls, days: daily.Days) -> DaySums:
        """The entries of day summaries (daily.outcome_days, with_team_days or stored ones)."""
        numbers = {day: i for i, day in enumerate(days)}
        found = daily.entries(days, numbers.__getitem__)
        names, day_of, sizes, rows, values = found.names, found.at, found.sizes, found.rows, found.values
        pairs = np.fromiter(
            itertools.chain.from_iterable(values), dtype=_ENTRY, count=2 * len(values)
        ).reshape(-1, 2)
        present = np.fromiter((bool(p) for p in days.values()), dtype=bool, count=len(days))
        return cls(
            names,
            list(days),
            np.repeat(np.asarray(day_of, dtype=_ENTRY), np.asarray(sizes, dtype=np.int64)),
            np.asarray(rows, dtype=_ENTRY),
            pairs[:, 0].copy(),
            pairs[:, 1].copy(),
            present,
        )

    @classmethod
    def of_outcomes(cls, outcomes: Outcomes) -> DaySums:
        """The entries of ``with_team_days(outcomes)``, from the frame's columns: no Python object per
        count. See daily.outcome_days for what is counted."""
        return _of_outcomes(outcomes)

    def then(self, later: DaySums) -> DaySums:
        """These entries followed by ``later``'s, as the day summaries ``{**these, **later}``
        (a day in both is ``later``'s; day summaries of a history and of a period's rows)."""
        if not later.dates:
            return self
        if not self.dates:
            return later
        theirs = set(later.dates)
        kept_days = [i for i, d in enumerate(self.dates) if d not in theirs]
        keep_day = np.zeros(len(self.dates), dtype=bool)
        keep_day[kept_days] = True
        keep = keep_day[self.day]
        renumber = np.full(len(self.dates), -1, dtype=_INT)
        renumber[kept_days] = np.arange(len(kept_days), dtype=_INT)
        names = list(self.names)
        number = {name: i for i, name in enumerate(names)}
        moved = np.empty(len(later.names), dtype=_INT)
        for i, name in enumerate(later.names):
            at = number.get(name)
            if at is None:
                at = number[name] = len(names)
                names.append(name)
            moved[i] = at
        return DaySums(
            names,
            [self.dates[i] for i in kept_days] + list(later.dates),
            np.concatenate([renumber[self.day[keep]], later.day + len(kept_days)]).astype(_ENTRY),
            np.concatenate([self.row[keep], moved[later.row]]).astype(_ENTRY),
            np.concatenate([self.n[keep], later.n]),
            np.concatenate([self.passes[keep], later.passes]),
            np.concatenate([self.present[kept_days], later.present]),
        )

    def weekly(self, first: date | None, last: date, weeks: Sequence[str]) -> daily.WeeklySums:
        """``daily.weekly_sums(daily.between(days, first, last), weeks)`` of these day summaries:
        the same rows in the same order, and the same sums."""
        position = {w: i for i, w in enumerate(weeks)}
        week_of = np.fromiter(
            (
                position.get(week_label(d), -1) if d <= last and (first is None or d >= first) else -1
                for d in self.dates
            ),
            dtype=_INT,
            count=len(self.dates),
        )
        week = week_of[self.day]
        kept = np.flatnonzero(week >= 0)
        if not kept.size:
            none = np.zeros((0, len(weeks)), dtype=_INT)
            return daily.WeeklySums([], none, none, np.zeros(0, dtype=_INT))
        week, rows = week[kept], self.row[kept]
        # rows numbered as first seen, as weekly_sums numbers them walking the dicts
        seen, at = np.unique(rows, return_index=True)
        order = seen[np.argsort(at, kind="stable")]
        renumber = np.empty(len(self.names), dtype=_INT)
        renumber[order] = np.arange(order.size, dtype=_INT)
        row = renumber[rows]
        cell = row * len(weeks) + week
        cells = order.size * len(weeks)
        n = np.bincount(cell, weights=self.n[kept], minlength=cells).astype(_INT)
        passes = np.bincount(cell, weights=self.passes[kept], minlength=cells).astype(_INT)
        first_week = np.full(order.size, len(weeks), dtype=_INT)
        np.minimum.at(first_week, row, week)
        shape = (order.size, len(weeks))
        names = [self.names[i] for i in order.tolist()]
        return daily.WeeklySums(names, n.reshape(shape), passes.reshape(shape), first_week)

    def outcome_weeks(self, last: date, latest_week: str | None = None) -> daily.OutcomeWeeks | None:
        """The weeks from the first with any outcome up to ``latest_week`` (by default the week of
        ``last``) and these day summaries' sums over them, up to ``last``; None without any week."""
        latest_week = latest_week or week_label(last)
        seen = [d for d, p in zip(self.dates, self.present.tolist(), strict=True) if p and d <= last]
        if not seen or week_label(min(seen)) > latest_week:
            return None
        weeks = week_range(week_label(min(seen)), latest_week)
        return daily.OutcomeWeeks(weeks, self.weekly(None, last, weeks))

    def to_days(self) -> dict[date, daily.DayCounts]:
        """The day summaries these entries hold (``{}`` for a place present with nothing applicable
        is not kept: such a place has no entry)."""
        out: dict[date, daily.DayCounts] = {
            d: {} for d, p in zip(self.dates, self.present.tolist(), strict=True) if p
        }
        for d, r, n, k in zip(
            self.day.tolist(), self.row.tolist(), self.n.tolist(), self.passes.tolist(), strict=True
        ):
            place, key = self.names[r]
            out.setdefault(self.dates[d], {}).setdefault(place, {})[key] = [n, k]
        return out


OutcomeDays = daily.Days | DaySums


def sums_of(days: OutcomeDays) -> DaySums:
    """``days`` as :class:`DaySums` (day summaries are turned into entries)."""
    return days if isinstance(days, DaySums) else DaySums.of_days(days)


def weeks_to(days: OutcomeDays, last: date, latest_week: str | None = None) -> daily.OutcomeWeeks | None:
    """The outcome weeks (daily.OutcomeWeeks) of ``days`` up to ``last``, day summaries or entries."""
    return sums_of(days).outcome_weeks(last, latest_week)


def measure_series(days: DaySums, first: date, last: date, weeks: Sequence[str]) -> daily.SeriesView:
    """``daily.measure_weekly_series(daily.between(days, first, last), weeks)`` of entries."""
    return daily.series_of(days.weekly(first, last, weeks))[0]


# --------------------------------------------------------------------------- from the frame


def _of_outcomes(outcomes: Outcomes) -> DaySums:
    f = outcomes.frame
    if not len(f):
        return DaySums.empty()
    day_codes, day_values = pd.factorize(f["assessed_on"], sort=True)
    dates = [pd.Timestamp(d).date() for d in day_values]
    places = [str(c) for c in f["place"].cat.categories]
    measures = [str(c) for c in f["measure"].cat.categories]
    keys = measures + [
        daily.criterion_key(r, c)
        for r, c in zip(outcomes.criteria["ruleset"], outcomes.criteria["criterion"], strict=True)
    ]
    rows = np.flatnonzero(f["applicable"].to_numpy())
    case, ncases = case_codes(f, rows)
    # a case has one day, place and team: each case's, then each row's through its case
    case_day = _of_case(case, ncases, day_codes[rows])
    del day_codes
    case_place = _of_case(case, ncases, f["place"].cat.codes.to_numpy()[rows])
    team_names = np.asarray(f["team"].cat.categories, dtype=object)
    case_team = _of_case(case, ncases, f["team"].cat.codes.to_numpy()[rows])
    # the (place, team) of each case with a team (team_findings.team_outcomes' rows), numbered in
    # the order of team_outcomes' joined codes
    nteams = max(len(team_names), 1)
    named = (
        (case_team >= 0) & (team_names != "")[np.maximum(case_team, 0)] if len(team_names) else case_team >= 0
    )
    pair_of, pairs = pd.factorize(case_place[named] * nteams + case_team[named], sort=True)
    pair_place, pair_team = np.divmod(np.asarray(pairs, dtype=_INT), nteams)
    team_cell = np.full(ncases, -1, dtype=_INT)
    team_cell[named] = case_day[named] * max(pairs.size, 1) + pair_of
    own_cell = case_day * max(len(places), 1) + case_place
    del case_day, case_place, case_team, named, pair_of

    # measures: each case once, passing when it failed none of the measure's criteria
    passed = f["passed"].to_numpy()[rows]
    measure = f["measure"].cat.codes.to_numpy()[rows].astype(_INT)
    of_case, of_measure, case_passed = case_cells(case, measure, ~passed, ncases, max(len(measures), 1))
    del measure
    # criteria: each finding (one per case and criterion)
    crit = f["crit"].to_numpy()[rows].astype(_INT) + len(measures)
    del rows
    own = [
        _counted(own_cell[of_case], of_measure, case_passed, len(keys)),
        _counted(own_cell[case], crit, passed, len(keys)),
    ]
    team = [
        _counted(team_cell[of_case], of_measure, case_passed, len(keys)),
        _counted(team_cell[case], crit, passed, len(keys)),
    ]
    del case, crit, passed, of_case, of_measure, case_passed
    o_cell, o_key, o_n, o_passes = (np.concatenate(x) for x in zip(*own, strict=True))
    t_cell, t_key, t_n, t_passes = (np.concatenate(x) for x in zip(*team, strict=True))
    o_day, o_place = np.divmod(o_cell, max(len(places), 1))
    t_day, t_pair = np.divmod(t_cell, max(pairs.size, 1))

    # the day summaries' order: day, place, the place's own keys, then each team's (with_team_days)
    e_day = np.concatenate([o_day, t_day])
    e_place = np.concatenate([o_place, pair_place[t_pair]])
    e_pair = np.concatenate([np.full(o_day.size, -1, dtype=_INT), t_pair])
    e_key = np.concatenate([o_key, t_key])
    order = np.lexsort((e_key, e_pair, e_place, e_day))
    owner = np.where(e_pair < 0, e_place, len(places) + e_pair)
    row, uniques = pd.factorize((owner * len(keys) + e_key)[order], sort=True)
    names: list[tuple[str, str]] = []
    for code in np.asarray(uniques).tolist():
        at, key = divmod(code, len(keys))
        if at < len(places):
            names.append((places[at], keys[key]))
        else:
            p = at - len(places)
            team_key = f"{TEAM_KEY}{team_names[pair_team[p]]}{SEP}{keys[key]}"
            names.append((places[pair_place[p]], team_key))
    return DaySums(
        names,
        dates,
        e_day[order].astype(_ENTRY),
        row.astype(_ENTRY),
        np.concatenate([o_n, t_n])[order].astype(_ENTRY),
        np.concatenate([o_passes, t_passes])[order].astype(_ENTRY),
        np.ones(len(dates), dtype=bool),
    )


def _of_case(case: np.ndarray, ncases: int, values: np.ndarray) -> np.ndarray:
    """Each case's value of a column that is the same on all its rows (``values``: the rows')."""
    out = np.zeros(ncases, dtype=_INT)
    out[case] = values
    return out


def _counted(
    cell: np.ndarray, key: np.ndarray, passed: np.ndarray, nkeys: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(cell, key, n, passes) of each distinct (cell, key) of these counted items (cases or
    findings; a cell below 0: not counted), sorted; n the items and passes those ``passed``."""
    mine = cell >= 0
    if not mine.all():
        cell, key, passed = cell[mine], key[mine], passed[mine]
    if not cell.size:
        none = np.zeros(0, dtype=_INT)
        return none, none, none, none
    code = cell * nkeys + key
    size = int(code.max()) + 1
    if size <= 4 * code.size:  # dense counts when there are few possible cells
        n = np.bincount(code, minlength=size)
        seen = np.flatnonzero(n)
        counts, passes = n[seen], np.bincount(code[passed], minlength=size)[seen]
    else:
        at, unique = pd.factorize(code, sort=True)
        seen = np.asarray(unique, dtype=_INT)
        counts = np.bincount(at, minlength=seen.size)
        passes = np.bincount(at[passed], minlength=seen.size)
    cells, keys = np.divmod(seen, nkeys)
    return cells, keys, counts.astype(_INT), passes.astype(_INT)


__all__ = ["DaySums", "OutcomeDays", "measure_series", "sums_of", "weeks_to"]
