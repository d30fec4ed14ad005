"""Incident day summaries: all that the incident metrics and their weekly series need of one day's
incidents, kept small enough to store (engine.store.summaries) and added up exactly over any days.

A day's incidents become ``{place: {team: {metric: counts}}}``, the team ``""`` for incidents with
none. A proportion metric's counts are ``[n, passes]``; a time metric's ``[n, total, squares,
histogram]``: how many incidents were attended (or calls answered), the sum of their times and of
their squares in whole seconds (whole numbers, so a mean and its interval come out the same
whichever way the days are added up), and a histogram ``[bin, count, bin, count, ...]`` of the
times in whole units: seconds for answer times, minutes (rounded to the nearest) for attendance,
the last bin (``SECONDS_CAP``, ``MINUTES_CAP``) holding every longer time. The mean is exact; the
median and 90th percentile are those of the whole units, so an attendance median is to the minute.

A place's figures pool all its teams (and the incidents with no team); a team's are its own; the
force's pool every place.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import bdtr, stdtrit  # type: ignore[import-untyped]  # scipy ships no type information

from engine.analysis.stats import Z95, wilson_interval
from engine.core.metrics import INCIDENT_METRICS, METRICS, PROPORTION_METRICS, TIME_METRICS
from engine.core.periods import week_label

#: bump when the incident day summaries change meaning, so summaries kept by an older engine are made
#: again from the rows (engine.runs.gather keys them on it). 2: by team within place; Grade 3
#: attendance; every time metric as whole-second sums and a histogram (1 kept the 101 answer times
#: alone, as exact seconds)
INCIDENT_SUMMARY_FORMAT = 2

#: the team of incidents that have none
NO_TEAM = ""
#: the last bin of an answer-time histogram: a day or more
SECONDS_CAP = 86_400
#: the last bin of an attendance-time histogram: 30 days or more
MINUTES_CAP = 43_200

#: place -> team -> metric -> counts (see the module docstring)
IncidentDay = dict[str, dict[str, dict[str, Any]]]

#: the columns of an incident metrics table (incident_metrics): a proportion's n, passes, rate and
#: Wilson interval; a time's n, mean with its t interval (in ci_low, ci_high), median, 90th
#: percentile and, where asked for, the median's own 95% interval
TABLE_COLUMNS: tuple[str, ...] = (
    *("place", "team", "period", "metric", "n", "passes", "rate", "ci_low", "ci_high"),
    *("mean", "median", "p90", "median_low", "median_high"),
)

#: incident_metrics.csv (a weekly run's and a PEEL rerun's): each response standard's figures by
#: period and level: force, place or a team within a place (``key`` FORCE, the place's code or the
#: team, as in aggregates.csv). ``unit``: what a proportion counts, or a time's unit
INCIDENT_METRIC_COLUMNS: tuple[str, ...] = (
    *("period", "level", "place", "key", "ruleset", "criterion", "metric", "unit", "n", "passes"),
    *("rate", "ci_low", "ci_high", "mean", "median", "p90"),
)


def seconds_per_unit(metric: str) -> int:
    """60 for a time in minutes, 1 for one in seconds."""
    return 60 if INCIDENT_METRICS[metric].unit == "minutes" else 1


def time_bins(seconds: np.ndarray, metric: str) -> np.ndarray:
    """Whole seconds -> the histogram bins of ``metric``: whole seconds, or minutes rounded to the
    nearest (half a minute up), capped."""
    if seconds_per_unit(metric) == 60:
        return np.asarray(np.minimum((seconds + 30) // 60, MINUTES_CAP), dtype=np.int64)
    return np.asarray(np.minimum(seconds, SECONDS_CAP), dtype=np.int64)


def whole_seconds(values: np.ndarray, metric: str) -> np.ndarray:
    """A frame's time column (in the metric's unit, from whole seconds) back as whole seconds."""
    return np.asarray(np.rint(values * seconds_per_unit(metric)), dtype=np.int64)


def _cells(frame: pd.DataFrame) -> tuple[np.ndarray, list[date], list[str], list[str]]:
    """Per row, the number of its (day, place, team) cell; the days, places and teams it stands for."""
    day_codes, day_values = pd.factorize(frame["received_day"], sort=True)
    places, teams = frame["place"], frame["team"]
    place_names = [str(c) for c in places.cat.categories]
    team_names = [str(c) for c in teams.cat.categories]
    width = max(len(team_names), 1)
    cells = (
        day_codes.astype(np.int64) * max(len(place_names), 1) * width
        + places.cat.codes.to_numpy().astype(np.int64) * width
        + teams.cat.codes.to_numpy()
    )
    return cells, [pd.Timestamp(d).date() for d in day_values], place_names, team_names


def _sums(seconds: np.ndarray, starts: np.ndarray) -> tuple[list[int], list[int]]:
    """Each run's sum of ``seconds`` and of their squares (runs begin at ``starts``), exactly: in
    int64 when that cannot overflow, else as Python integers."""
    if not len(seconds):
        return [], []
    big = int(seconds.max())
    if big * big * len(seconds) < 2**62:
        return (
            np.add.reduceat(seconds, starts).tolist(),
            np.add.reduceat(seconds * seconds, starts).tolist(),
        )
    values = seconds.tolist()
    ends = [*starts.tolist()[1:], len(values)]
    runs = [values[a:b] for a, b in zip(starts.tolist(), ends, strict=True)]
    return [sum(r) for r in runs], [sum(v * v for v in r) for r in runs]


def incident_days(incidents: pd.DataFrame) -> dict[date, IncidentDay]:
    """{day: {place: {team: counts}}} of an incidents frame (incidents.incidents_frame), by received
    day (see the module docstring)."""
    if not len(incidents):
        return {}
    cells, days, places, teams = _cells(incidents)
    per_day = len(places) * max(len(teams), 1)
    out: dict[date, IncidentDay] = {}
    targets: dict[int, dict[str, Any]] = {}
    for cell in np.unique(cells).tolist():
        day, rest = divmod(cell, per_day)
        place, team = divmod(rest, max(len(teams), 1))
        targets[cell] = out.setdefault(days[day], {}).setdefault(places[place], {})[teams[team]] = {}

    for metric in PROPORTION_METRICS:
        applies = incidents[metric + "__applicable"].to_numpy()
        codes, n = np.unique(cells[applies], return_counts=True)
        won = cells[applies & incidents[metric + "__passed"].to_numpy()]
        k = dict(zip(*(a.tolist() for a in np.unique(won, return_counts=True)), strict=True))
        for cell, count in zip(codes.tolist(), n.tolist(), strict=True):
            targets[cell][metric] = [count, k.get(cell, 0)]

    for metric in TIME_METRICS:
        values = incidents[metric].to_numpy(dtype=float)
        have = ~np.isnan(values)
        if not have.any():
            continue
        seconds = whole_seconds(values[have], metric)
        bins = time_bins(seconds, metric)
        g = cells[have]
        order = np.lexsort((bins, g))
        g, bins, seconds = g[order], bins[order], seconds[order]
        new_cell = np.ones(len(g), dtype=bool)
        new_cell[1:] = g[1:] != g[:-1]
        new_bin = new_cell.copy()
        new_bin[1:] |= bins[1:] != bins[:-1]
        cell_starts, bin_starts = np.flatnonzero(new_cell), np.flatnonzero(new_bin)
        n = np.diff(np.append(cell_starts, len(g))).tolist()
        totals, squares = _sums(seconds, cell_starts)
        flat = np.empty(2 * len(bin_starts), dtype=np.int64)
        flat[0::2] = bins[bin_starts]
        flat[1::2] = np.diff(np.append(bin_starts, len(g)))
        pairs = flat.tolist()
        # where each cell's bins begin among all the bins
        first_bin = np.searchsorted(bin_starts, cell_starts).tolist()
        ends = [*first_bin[1:], len(bin_starts)]
        for i, cell in enumerate(g[cell_starts].tolist()):
            hist = pairs[2 * first_bin[i] : 2 * ends[i]]
            targets[cell][metric] = [n[i], totals[i], squares[i], hist]
    return out


def _add(a: Any, b: Any) -> Any:
    """Two summaries' counts of one metric (or of one place, or team) added up: a new value, the
    parts left unchanged."""
    if isinstance(a, dict):
        out = dict(a)
        for key, value in b.items():
            out[key] = value if key not in out else _add(out[key], value)
        return out
    if len(a) == 4:  # a time: n, total, squares, histogram
        return [a[0] + b[0], a[1] + b[1], a[2] + b[2], merge_histograms(a[3], b[3])]
    return [a[0] + b[0], a[1] + b[1]]


def merge_histograms(a: Sequence[int], b: Sequence[int]) -> list[int]:
    """Two flat histograms [bin, count, ...] as one, by bin."""
    counts: dict[int, int] = {}
    for bins, numbers in ((a[0::2], a[1::2]), (b[0::2], b[1::2])):
        for value, count in zip(bins, numbers, strict=True):
            counts[value] = counts.get(value, 0) + count
    return [x for value in sorted(counts) for x in (value, counts[value])]


def merge(parts: Iterable[Mapping[date, Mapping[str, Any]]]) -> dict[date, dict[str, Any]]:
    """Day summaries of disjoint sets of rows (chunks of a read) added together, outcome or
    incident ones. The result shares the parts' values where a count is in one part only (nothing
    here changes a value in place)."""
    out: dict[date, dict[str, Any]] = {}
    for part in parts:
        for day, places in part.items():
            target = out.get(day)
            out[day] = dict(places) if target is None else _add(target, places)
    return out


# --------------------------------------------------------------------------- figures


def _pool(
    days: Mapping[date, Mapping[str, Any]], period: str | None, pool: str | None, teams: bool
) -> dict[tuple[str, str, str], dict[str, list[Any]]]:
    """(place or pool, team or "", period or week) -> metric -> [n, passes] or [n, total, squares,
    [histograms]]: every place's teams pooled into the place, and with ``teams`` each named team
    on its own too."""
    groups: dict[tuple[str, str, str], dict[str, list[Any]]] = {}
    for day, places in days.items():
        label = period if period is not None else week_label(day)
        for place, by_team in places.items():
            whole = groups.setdefault((pool or place, NO_TEAM, label), {})
            for team, counts in by_team.items():
                targets = [whole]
                if teams and team != NO_TEAM and pool is None:
                    targets.append(groups.setdefault((place, team, label), {}))
                for acc in targets:
                    for metric, value in counts.items():
                        got = acc.get(metric)
                        if got is None:
                            acc[metric] = [*value[:3], [value[3]]] if len(value) == 4 else list(value)
                        elif len(value) == 4:
                            got[0] += value[0]
                            got[1] += value[1]
                            got[2] += value[2]
                            got[3].append(value[3])
                        else:
                            got[0] += value[0]
                            got[1] += value[1]
    return groups


def _histogram(parts: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Flat histograms as (sorted bins, cumulative counts)."""
    flat = np.fromiter(chain.from_iterable(parts), dtype=np.int64, count=sum(len(p) for p in parts))
    table = flat.reshape(-1, 2)
    order = np.argsort(table[:, 0], kind="stable")
    return table[order, 0], np.cumsum(table[order, 1])


def _order_statistic(bins: np.ndarray, cumulative: np.ndarray, rank: int) -> float:
    """The rank-th smallest (0-based) of the histogram's values."""
    return float(bins[int(np.searchsorted(cumulative, rank, side="right"))])


def quantiles(parts: Sequence[Sequence[int]], qs: Sequence[float]) -> tuple[int, list[float]]:
    """(count, the ``qs`` quantiles) of the values of flat histograms [bin, count, ...]: linear
    interpolation between order statistics, as numpy's and pandas' default (R type 7)."""
    bins, cumulative = _histogram(parts)
    total = int(cumulative[-1])
    out = []
    for q in qs:
        at = (total - 1) * q
        low = math.floor(at)
        a = _order_statistic(bins, cumulative, low)
        b = _order_statistic(bins, cumulative, min(low + 1, total - 1))
        out.append(a + (b - a) * (at - low))
    return total, out


def median_interval(parts: Sequence[Sequence[int]], alpha: float = 0.05) -> tuple[float, float]:
    """The distribution-free 95% interval of the median of the histograms' values: order statistics
    j and n - j + 1, j the largest with P(Binomial(n, 1/2) <= j - 1) <= alpha / 2 (Conover,
    Practical Nonparametric Statistics, 3rd ed., 3.2); NaN when n is too small for any (n < 6)."""
    bins, cumulative = _histogram(parts)
    n = int(cumulative[-1])
    j = max(0, int(n / 2 - Z95 * math.sqrt(n) / 2) - 2)
    while j + 1 <= n and float(bdtr(j, n, 0.5)) <= alpha / 2:  # P(B <= (j + 1) - 1)
        j += 1
    if j < 1:
        return math.nan, math.nan
    return _order_statistic(bins, cumulative, j - 1), _order_statistic(bins, cumulative, n - j)


def _t_quantiles(df: np.ndarray) -> np.ndarray:
    """Student's t 97.5% quantiles for ``df`` degrees of freedom (NaN where df < 1)."""
    out = np.full(len(df), math.nan)
    ok = df >= 1
    out[ok] = stdtrit(df[ok], 0.975)
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
    groups = _pool(days, period, pool, teams)
    order = {m: i for i, m in enumerate(METRICS)}
    rows: list[tuple[Any, ...]] = []
    for (place, team, label), acc in sorted(groups.items()):
        for metric in sorted(acc, key=order.__getitem__):
            value = acc[metric]
            if not value[0]:
                continue
            if len(value) == 2:
                rows.append((place, team, label, metric, value[0], value[1], None, None, None, None))
                continue
            n, total, squares, hists = value
            unit = seconds_per_unit(metric)
            # the variance from whole numbers, exactly, then scaled to the metric's unit
            variance = (n * squares - total * total) / (n * (n - 1)) / unit**2 if n > 1 else math.nan
            median = p90 = low = high = math.nan
            if medians is True or (medians and metric in medians):
                _, (median, p90) = quantiles(hists, (0.5, 0.9))
            if metric in median_intervals:
                low, high = median_interval(hists)
            rows.append(
                (place, team, label, metric, n, math.nan, total / n / unit, variance, median, p90, low, high)
            )
    return _table(rows)


def _table(rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """The TABLE_COLUMNS frame of _rows' tuples (a proportion's short, a time's long)."""
    count = len(rows)
    text = {c: np.empty(count, dtype=object) for c in ("place", "team", "period", "metric")}
    n = np.zeros(count, dtype=np.int64)
    num = {c: np.full(count, math.nan) for c in ("passes", "mean", "variance", "median", "p90", "median_low", "median_high")}  # fmt: skip
    proportion = np.zeros(count, dtype=bool)
    for i, row in enumerate(rows):
        text["place"][i], text["team"][i], text["period"][i], text["metric"][i] = row[:4]
        n[i] = row[4]
        if len(row) == 10:
            proportion[i] = True
            num["passes"][i] = row[5]
        else:
            for c, v in zip(
                ("mean", "variance", "median", "p90", "median_low", "median_high"), row[6:], strict=True
            ):
                num[c][i] = v
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(proportion, num["passes"] / np.maximum(n, 1), math.nan)
        w_low, w_high = wilson_interval(np.where(proportion, num["passes"], 0), np.where(proportion, n, 1))
        half = _t_quantiles((n - 1).astype(float)) * np.sqrt(num["variance"] / np.maximum(n, 1))
    ci_low = np.where(proportion, w_low, num["mean"] - half)
    ci_high = np.where(proportion, w_high, num["mean"] + half)
    return pd.DataFrame(
        {
            **text,
            "n": n,
            "passes": num["passes"],
            "rate": rate,
            "ci_low": np.asarray(ci_low, dtype=float),
            "ci_high": np.asarray(ci_high, dtype=float),
            "mean": num["mean"],
            "median": num["median"],
            "p90": num["p90"],
            "median_low": num["median_low"],
            "median_high": num["median_high"],
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
    together, as place ``pool``. Weeks with none give (0, 0, None)."""
    table = incident_metrics(days, pool=pool, medians=medians)
    position = {w: i for i, w in enumerate(weeks)}
    series: dict[tuple[str, str], list[tuple[int, int, float | None]]] = {}
    for place, week, metric, n, passes, rate, mean, median in zip(
        *(table[c].tolist() for c in ("place", "period", "metric", "n", "passes", "rate", "mean", "median")),
        strict=True,
    ):
        if week not in position:
            continue
        value = rate if metric in PROPORTION_METRICS else median if metric in medians else mean
        row = series.setdefault((place, metric), [(0, 0, None)] * len(weeks))
        row[position[week]] = (
            n,
            0 if math.isnan(passes) else int(passes),
            None if math.isnan(value) else value,
        )
    return dict(sorted(series.items()))
