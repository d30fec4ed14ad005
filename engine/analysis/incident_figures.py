"""The incident metrics of any set of days, from their day summaries (engine.analysis.incident_days):
per force, place and team, a proportion's n, passes, rate and Wilson interval, and a time's n,
exact mean with its t interval, median and 90th percentile (and, where a threshold is on the median,
its distribution-free interval).

The days are pooled once at the finest level (a place's team, or its incidents with no team), then
added up: a place is its teams and its incidents with none, the force its places, a PEEL period its
quarters. A time's histograms are flattened into arrays once, at the finest level; the sums above it
join those arrays, so a year's medians cost one pass over its summaries.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from engine.analysis.incident_days import NO_TEAM, TABLE_COLUMNS, decode_histograms, seconds_per_unit
from engine.analysis.stats import Z95, wilson_interval
from engine.core.metrics import METRICS, PROPORTION_METRICS
from engine.core.periods import week_label

#: metric -> [n, passes] (a proportion) or [n, total, squares, parts] (a time: its histograms, each a
#: flat [bin, count, ...] list of a day summary or an int64 array of them joined)
Acc = dict[str, list[Any]]


def _add_into(target: Acc, source: Mapping[str, Sequence[Any]], *, summary: bool = False) -> None:
    """Add an accumulator's counts into ``target`` (with ``summary``, a day summary's: its time's
    histogram is one flat list, not a list of parts). The parts are shared, not copied."""
    for metric, value in source.items():
        got = target.get(metric)
        if len(value) == 4:
            parts = [value[3]] if summary else value[3]
            if got is None:
                target[metric] = [value[0], value[1], value[2], list(parts)]
            else:
                got[0] += value[0]
                got[1] += value[1]
                got[2] += value[2]
                got[3].extend(parts)
        elif got is None:
            target[metric] = [value[0], value[1]]
        else:
            got[0] += value[0]
            got[1] += value[1]


def _flatten(acc: Acc) -> None:
    """Join each time's histogram parts into one int64 array [bin, count, ...], in place (once)."""
    for value in acc.values():
        if len(value) == 4 and (len(value[3]) != 1 or not isinstance(value[3][0], np.ndarray)):
            value[3] = [_joined(value[3])]


def _joined(parts: Sequence[Any]) -> np.ndarray:
    """Histogram parts, each a day summary's list (as stored) or an array already joined, as one
    int64 array [bin, count, ...]."""
    lists = [p for p in parts if not isinstance(p, np.ndarray)]
    arrays = [p for p in parts if isinstance(p, np.ndarray)]
    if lists:
        arrays.append(decode_histograms(lists))
    return np.concatenate(arrays) if len(arrays) > 1 else arrays[0]


@dataclass
class Pooled:
    """The accumulators of a set of days: the force's, each place's and each named team's."""

    force: Acc = field(default_factory=dict)
    places: dict[str, Acc] = field(default_factory=dict)
    teams: dict[tuple[str, str], Acc] = field(default_factory=dict)

    @classmethod
    def of(
        cls, days: Iterable[Mapping[str, Mapping[str, Mapping[str, Sequence[Any]]]]], *, flatten: bool
    ) -> Pooled:
        """Pooled from day summaries ({place: {team: counts}}); with ``flatten``, every time's
        histograms joined (the medians need them)."""
        fine: dict[tuple[str, str], Acc] = {}
        for places in days:
            for place, by_team in places.items():
                for team, counts in by_team.items():
                    _add_into(fine.setdefault((place, team), {}), counts, summary=True)
        out = cls()
        for (place, team), acc in sorted(fine.items()):
            if flatten:
                _flatten(acc)
            if team != NO_TEAM:
                out.teams[(place, team)] = acc
            _add_into(out.places.setdefault(place, {}), acc)
        for acc in out.places.values():
            if flatten:
                _flatten(acc)
            _add_into(out.force, acc)
        if flatten:
            _flatten(out.force)
        return out

    @classmethod
    def combine(cls, parts: Sequence[Pooled], *, flatten: bool) -> Pooled:
        """The pool of disjoint sets of days (a PEEL period's quarters) from theirs."""
        out = cls()
        for part in parts:
            _add_into(out.force, part.force)
            for place, acc in part.places.items():
                _add_into(out.places.setdefault(place, {}), acc)
            for key, acc in part.teams.items():
                _add_into(out.teams.setdefault(key, {}), acc)
        if flatten:
            for acc in (out.force, *out.places.values(), *out.teams.values()):
                _flatten(acc)
        return cls(out.force, dict(sorted(out.places.items())), dict(sorted(out.teams.items())))


def _histogram(parts: Sequence[Any]) -> np.ndarray:
    """The cumulative counts of a time's histogram by bin (index = bin), from its parts."""
    flat = (
        parts[0]
        if len(parts) == 1 and isinstance(parts[0], np.ndarray)
        else np.fromiter(chain.from_iterable(parts), dtype=np.int64, count=sum(len(p) for p in parts))
    )
    return np.cumsum(np.bincount(flat[0::2], weights=flat[1::2]).astype(np.int64))


def _order_statistic(cumulative: np.ndarray, rank: int) -> float:
    """The rank-th smallest (0-based) of the histogram's values (its bin)."""
    return float(np.searchsorted(cumulative, rank, side="right"))


def quantiles(parts: Sequence[Any], qs: Sequence[float]) -> tuple[int, list[float]]:
    """(count, the ``qs`` quantiles) of the values of flat histograms [bin, count, ...]: linear
    interpolation between order statistics, as numpy's and pandas' default (R type 7)."""
    cumulative = _histogram(parts)
    total = int(cumulative[-1])
    out = []
    for q in qs:
        at = (total - 1) * q
        low = math.floor(at)
        a = _order_statistic(cumulative, low)
        b = _order_statistic(cumulative, min(low + 1, total - 1))
        out.append(a + (b - a) * (at - low))
    return total, out


def median_interval(parts: Sequence[Any], alpha: float = 0.05) -> tuple[float, float]:
    """The distribution-free 95% interval of the median of the histograms' values: order statistics
    j and n - j + 1, j the largest with P(Binomial(n, 1/2) <= j - 1) <= alpha / 2 (Conover,
    Practical Nonparametric Statistics, 3rd ed., 3.2); NaN when n is too small for any (n < 6)."""
    from scipy.special import bdtr  # type: ignore[import-untyped]  # untyped; 0.3 s, so only when needed

    cumulative = _histogram(parts)
    n = int(cumulative[-1])
    j = max(0, int(n / 2 - Z95 * math.sqrt(n) / 2) - 2)
    while j + 1 <= n and float(bdtr(j, n, 0.5)) <= alpha / 2:  # P(B <= (j + 1) - 1)
        j += 1
    if j < 1:
        return math.nan, math.nan
    return _order_statistic(cumulative, j - 1), _order_statistic(cumulative, n - j)


def _t_quantiles(df: np.ndarray) -> np.ndarray:
    """Student's t 97.5% quantiles for ``df`` degrees of freedom (NaN where df < 1)."""
    out = np.full(len(df), math.nan)
    ok = df >= 1
    if ok.any():  # scipy takes 0.3 s to import: a week without incidents does without it
        from scipy.special import stdtrit

        out[ok] = stdtrit(df[ok], 0.975)
    return out


_ORDER = {m: i for i, m in enumerate(METRICS)}


def _rows(
    acc: Acc, place: str, team: str, label: str, medians: bool | Collection[str], intervals: Collection[str]
) -> list[tuple[Any, ...]]:
    """One accumulator's table rows (see _table), its metrics in engine.core.metrics order."""
    rows: list[tuple[Any, ...]] = []
    for metric in sorted(acc, key=_ORDER.__getitem__):
        value = acc[metric]
        if not value[0]:
            continue
        if len(value) == 2:
            rows.append((place, team, label, metric, value[0], value[1]))
            continue
        n, total, squares, parts = value
        unit = seconds_per_unit(metric)
        # the variance from whole numbers, exactly, then scaled to the metric's unit
        variance = (n * squares - total * total) / (n * (n - 1)) / unit**2 if n > 1 else math.nan
        median = p90 = low = high = math.nan
        if medians is True or (medians and metric in medians):
            _, (median, p90) = quantiles(parts, (0.5, 0.9))
        if metric in intervals:
            low, high = median_interval(parts)
        rows.append((place, team, label, metric, n, total / n / unit, variance, median, p90, low, high))
    return rows


def pooled_rows(
    pooled: Pooled,
    label: str,
    *,
    pool: str | None = None,
    teams: bool = False,
    medians: bool | Collection[str] = True,
    median_intervals: Collection[str] = (),
) -> list[tuple[Any, ...]]:
    """The rows of a Pooled: the force's as place ``pool``, or each place's (then, with ``teams``,
    its named teams')."""
    if pool is not None:
        return _rows(pooled.force, pool, NO_TEAM, label, medians, median_intervals)
    out: list[tuple[Any, ...]] = []
    for place, acc in sorted(pooled.places.items()):
        out += _rows(acc, place, NO_TEAM, label, medians, median_intervals)
        if teams:
            for (of, team), mine in sorted(pooled.teams.items()):
                if of == place:
                    out += _rows(mine, place, team, label, medians, median_intervals)
    return out


def incident_metrics(
    days: Mapping[date, Mapping[str, Any]],
    period: str | None = None,
    *,
    pool: str | None = None,
    teams: bool = False,
    medians: bool | Collection[str] = True,
    median_intervals: Collection[str] = (),
) -> pd.DataFrame:
    """Incident metrics per place and ISO week (or per place over all the days, labelled ``period``);
    with ``pool``, of every place together, as place ``pool`` (the force); with ``teams``, each
    named team of a place too (``team`` is "" on a place's own rows).

    Columns TABLE_COLUMNS. A proportion carries n, passes, rate and its Wilson interval. A time
    carries n (the incidents attended or calls answered), the mean (in its unit: minutes or
    seconds) with Student's t 95% interval in ci_low/ci_high (none for n = 1), and, for the metrics
    in ``medians`` (True: all), the median and 90th percentile; for those in ``median_intervals``
    the median's own interval. Only rows with n > 0; sorted by place, team, period and metric (in
    engine.core.metrics order).
    """
    flatten = bool(medians) or bool(median_intervals)
    by_label: dict[str, list[Any]] = {}
    for day, places in sorted(days.items()):
        by_label.setdefault(period if period is not None else week_label(day), []).append(places)
    rows: list[tuple[Any, ...]] = []
    for label, parts in by_label.items():
        pooled = Pooled.of(parts, flatten=flatten)
        rows += pooled_rows(
            pooled, label, pool=pool, teams=teams, medians=medians, median_intervals=median_intervals
        )
    rows.sort(key=lambda r: (r[0], r[1], r[2], _ORDER[r[3]]))
    return table(rows)


def table(rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """The TABLE_COLUMNS frame of _rows' tuples: (place, team, period, metric, n, passes) of a
    proportion, (place, team, period, metric, n, mean, variance, median, p90, median_low,
    median_high) of a time."""
    count = len(rows)
    text = {c: np.empty(count, dtype=object) for c in ("place", "team", "period", "metric")}
    n = np.zeros(count, dtype=np.int64)
    names = ("passes", "mean", "variance", "median", "p90", "median_low", "median_high")
    num = {c: np.full(count, math.nan) for c in names}
    proportion = np.zeros(count, dtype=bool)
    for i, row in enumerate(rows):
        text["place"][i], text["team"][i], text["period"][i], text["metric"][i] = row[:4]
        n[i] = row[4]
        if len(row) == 6:
            proportion[i] = True
            num["passes"][i] = row[5]
        else:
            for c, v in zip(names[1:], row[5:], strict=True):
                num[c][i] = v
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(proportion, num["passes"] / np.maximum(n, 1), math.nan)
        w_low, w_high = wilson_interval(np.where(proportion, num["passes"], 0), np.where(proportion, n, 1))
        half = _t_quantiles((n - 1).astype(float)) * np.sqrt(num["variance"] / np.maximum(n, 1))
    return pd.DataFrame(
        {
            **text,
            "n": n,
            "passes": num["passes"],
            "rate": rate,
            "ci_low": np.asarray(np.where(proportion, w_low, num["mean"] - half), dtype=float),
            "ci_high": np.asarray(np.where(proportion, w_high, num["mean"] + half), dtype=float),
            **{c: num[c] for c in ("mean", "median", "p90", "median_low", "median_high")},
        },
        columns=list(TABLE_COLUMNS),
    )


def incident_weekly_series(
    days: Mapping[date, Mapping[str, Any]],
    weeks: Sequence[str],
    *,
    pool: str | None = None,
    medians: Collection[str] = (),
) -> dict[tuple[str, str], list[tuple[int, int, float | None]]]:
    """Weekly (n, passes, value) per (place, metric) over ``weeks``: the value a proportion's rate,
    a time's mean, or its median for the metrics in ``medians``. With ``pool``: of every place
    together, as place ``pool``. Weeks with none give (0, 0, None).

    Added up in one pass over the summaries (a PEEL year's SPC reads two years of weeks for each
    span): each (place, metric) keeps its weeks' n and passes (or sum of seconds) side by side."""
    position = {w: i for i, w in enumerate(weeks)}
    at_day = {d: position.get(week_label(d)) for d in days}
    sums: dict[tuple[str, str], list[int]] = {}
    width = 2 * len(weeks)
    for day, places in days.items():
        i = at_day[day]
        if i is None:
            continue
        for place, by_team in places.items():
            key = pool or place
            for counts in by_team.values():
                for metric, value in counts.items():
                    row = sums.get((key, metric))
                    if row is None:
                        row = sums[(key, metric)] = [0] * width
                    row[2 * i] += value[0]
                    row[2 * i + 1] += value[1]
    series: dict[tuple[str, str], list[tuple[int, int, float | None]]] = {}
    for (place, metric), row in sums.items():
        proportion = metric in PROPORTION_METRICS
        unit = 1 if proportion else seconds_per_unit(metric)
        series[(place, metric)] = [
            (n, k if proportion else 0, (k / n if proportion else k / n / unit) if n else None)
            for n, k in zip(row[0::2], row[1::2], strict=True)
        ]
    if medians:  # a median needs the week's histograms
        weekly = incident_metrics(days, pool=pool, medians=medians)
        for place, week, metric, median in zip(
            *(weekly[c].tolist() for c in ("place", "period", "metric", "median")), strict=True
        ):
            if metric in medians and week in position:
                n, k, _ = series[(place, metric)][position[week]]
                series[(place, metric)][position[week]] = (n, k, None if math.isnan(median) else median)
    return dict(sorted(series.items()))
