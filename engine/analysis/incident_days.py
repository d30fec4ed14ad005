"""Incident day summaries: all that the incident metrics and their weekly series need of one day's
incidents, kept small enough to store (engine.store.summaries) and added up exactly over any days.

A day's incidents become ``{place: {team: {metric: counts}}}``, the team ``""`` for incidents with
none. A proportion metric's counts are ``[n, passes]``; a time metric's ``[n, total, squares,
histogram]``: how many incidents were attended (or calls answered), the sum of their times and of
their squares in whole seconds (whole numbers, so a mean and its interval come out the same
whichever way the days are added up), and a histogram of the times in whole units: seconds for
answer times, minutes (rounded to the nearest) for attendance, the last bin (``SECONDS_CAP``,
``MINUTES_CAP``) holding every longer time. The histogram is flat, ``[first bin, its count, gap to
the next bin, its count, ...]``: gaps and counts are mostly small numbers, which keeps a year of
summaries small, stored and in memory. The mean is exact; the median and 90th percentile are those
of the whole units, so an attendance median is to the minute.

A place's figures pool all its teams (and the incidents with no team); a team's are its own; the
force's pool every place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from engine.core.metrics import INCIDENT_METRICS, PROPORTION_METRICS, TIME_METRICS

#: bump when the incident day summaries change meaning, so summaries kept by an older engine are made
#: again from the rows (engine.runs.gather keys them on it). 2: by team within place; Grade 3
#: attendance; every time metric as whole-second sums and a histogram of [bin, count] (1 kept the
#: 101 answer times alone, as exact seconds). 3: the histogram as [first bin, count, gap, count]
INCIDENT_SUMMARY_FORMAT = 3

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


def _sums(seconds: np.ndarray, cells: np.ndarray, size: int) -> tuple[list[int], list[int]]:
    """Each cell's sum of ``seconds`` and of their squares (``cells`` the cell of each), exactly:
    by bincount when every partial sum stays a whole number below 2**53 (float64 adds those
    exactly, in any order), else as Python integers."""
    if not len(seconds):
        return [0] * size, [0] * size
    big = int(seconds.max())
    if big * big * len(seconds) < 2**53:
        as_float = seconds.astype(np.float64)
        totals = np.bincount(cells, weights=as_float, minlength=size).astype(np.int64)
        squares = np.bincount(cells, weights=as_float * as_float, minlength=size).astype(np.int64)
        return totals.tolist(), squares.tolist()
    totals_int, squares_int = [0] * size, [0] * size
    for cell, value in zip(cells.tolist(), seconds.tolist(), strict=True):
        totals_int[cell] += value
        squares_int[cell] += value * value
    return totals_int, squares_int


def incident_days(incidents: pd.DataFrame) -> dict[date, IncidentDay]:
    """{day: {place: {team: counts}}} of an incidents frame (incidents.incidents_frame), by received
    day (see the module docstring)."""
    if not len(incidents):
        return {}
    cells, days, places, teams = _cells(incidents)
    width = max(len(teams), 1)
    per_day = len(places) * width
    size = len(days) * per_day
    out: dict[date, IncidentDay] = {}
    targets: dict[int, dict[str, Any]] = {}
    for cell in np.flatnonzero(np.bincount(cells, minlength=size)).tolist():
        day, rest = divmod(cell, per_day)
        targets[cell] = out.setdefault(days[day], {}).setdefault(places[rest // width], {})[
            teams[rest % width]
        ] = {}

    for metric in PROPORTION_METRICS:
        applies = incidents[metric + "__applicable"].to_numpy()
        n = np.bincount(cells[applies], minlength=size)
        k = np.bincount(cells[applies & incidents[metric + "__passed"].to_numpy()], minlength=size)
        at = np.flatnonzero(n)
        for cell, count, won in zip(at.tolist(), n[at].tolist(), k[at].tolist(), strict=True):
            targets[cell][metric] = [count, won]

    for metric in TIME_METRICS:
        values = incidents[metric].to_numpy(dtype=float)
        have = ~np.isnan(values)
        if not have.any():
            continue
        seconds = whole_seconds(values[have], metric)
        g = cells[have]
        n_of = np.bincount(g, minlength=size).tolist()
        totals, squares = _sums(seconds, g, size)
        # the histogram: each (cell, bin) once, in order, with how many
        span = (MINUTES_CAP if seconds_per_unit(metric) == 60 else SECONDS_CAP) + 1
        keys, counts = np.unique(g * span + time_bins(seconds, metric), return_counts=True)
        key_cells = keys // span
        bins = keys % span
        first = np.flatnonzero(np.diff(key_cells, prepend=-1))
        gaps = np.diff(bins, prepend=0)
        gaps[first] = bins[first]  # each cell's histogram starts from its first bin
        flat = np.empty(2 * len(keys), dtype=np.int64)
        flat[0::2] = gaps
        flat[1::2] = counts
        pairs = flat.tolist()
        starts = first.tolist()
        ends = [*starts[1:], len(keys)]
        for a, b, cell in zip(starts, ends, key_cells[starts].tolist(), strict=True):
            targets[cell][metric] = [n_of[cell], totals[cell], squares[cell], pairs[2 * a : 2 * b]]
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
    """Two flat histograms [first bin, count, gap, count, ...] as one."""
    counts: dict[int, int] = {}
    for flat in (a, b):
        value = 0
        for gap, count in zip(flat[0::2], flat[1::2], strict=True):
            value += gap
            counts[value] = counts.get(value, 0) + count
    out: list[int] = []
    last = 0
    for value in sorted(counts):
        out += (value - last, counts[value])
        last = value
    return out


def decode_histograms(parts: Sequence[Sequence[int]]) -> np.ndarray:
    """Flat histograms (as stored: [first bin, count, gap, count, ...]) joined as one int64 array
    [bin, count, bin, count, ...]."""
    flat = np.fromiter(chain.from_iterable(parts), dtype=np.int64, count=sum(len(p) for p in parts))
    gaps = flat[0::2]
    bins = np.cumsum(gaps)
    lengths = np.fromiter((len(p) // 2 for p in parts), dtype=np.int64, count=len(parts))
    starts = np.cumsum(lengths) - lengths
    # each part counts from its own first bin: take off what the parts before it added
    bins -= np.repeat(bins[starts] - gaps[starts], lengths)
    flat[0::2] = bins
    return flat


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
