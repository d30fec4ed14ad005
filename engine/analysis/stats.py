"""Statistics behind exceptions: Wilson intervals (finite-population corrected where the sample frame
is known), XmR charts with the Making Data Count rules (kappa: engine.analysis.kappa).

Pure numpy; no pandas, no I/O. See docs/outputs.md "When is something
an exception" and Part B section 8.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
import numpy.typing as npt

#: two-sided 95 % normal quantile
Z95 = 1.959963984540054

FloatArray = npt.NDArray[np.float64]


# --------------------------------------------------------------------------- Wilson interval


@overload
def wilson_interval(k: float, n: float, z: float = Z95) -> tuple[float, float]: ...
@overload
def wilson_interval(k: npt.ArrayLike, n: npt.ArrayLike, z: float = Z95) -> tuple[FloatArray, FloatArray]: ...


def wilson_interval(k: npt.ArrayLike, n: npt.ArrayLike, z: float = Z95) -> tuple[object, object]:
    """Wilson score interval for k successes in n trials.

    Scalars in, ``(low, high)`` floats out; arrays in, two float arrays out. Where n == 0 there is
    no information and both bounds are NaN (never 0 or 1). Example: ``wilson_interval(8, 10)`` ->
    ``(0.490, 0.943)``.
    """
    if np.ndim(k) == 0 and np.ndim(n) == 0:
        return _wilson_scalar(float(np.asarray(k)), float(np.asarray(n)), z)
    kk = np.asarray(k, dtype=np.float64)
    nn = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = kk / nn
        z2 = z * z
        den = 1.0 + z2 / nn
        centre = (p + z2 / (2.0 * nn)) / den
        half = z * np.sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn)) / den
        # k = 0 and k = n give exactly 0 and 1; computed, they miss by a rounding error
        low = np.where(nn > 0, np.where(kk <= 0, 0.0, np.clip(centre - half, 0.0, 1.0)), np.nan)
        high = np.where(nn > 0, np.where(kk >= nn, 1.0, np.clip(centre + half, 0.0, 1.0)), np.nan)
    return low, high


def _wilson_scalar(k: float, n: float, z: float) -> tuple[float, float]:
    """The same interval for one cell, without numpy's per-call overhead (cases_needed loops)."""
    if not n > 0:
        return math.nan, math.nan
    p, z2 = k / n, z * z
    den = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / den
    half = z * math.sqrt(max(p * (1.0 - p) / n + z2 / (4.0 * n * n), 0.0)) / den
    low = 0.0 if k <= 0 else min(max(centre - half, 0.0), 1.0)
    high = 1.0 if k >= n else min(max(centre + half, 0.0), 1.0)
    return low, high


@overload
def fpc_interval(low: float, high: float, rate: float, n: float, N: float | None) -> tuple[float, float]: ...
@overload
def fpc_interval(
    low: npt.ArrayLike, high: npt.ArrayLike, rate: npt.ArrayLike, n: npt.ArrayLike, N: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]: ...


def fpc_interval(
    low: npt.ArrayLike, high: npt.ArrayLike, rate: npt.ArrayLike, n: npt.ArrayLike, N: npt.ArrayLike | None
) -> tuple[object, object]:
    """An interval from n of N cases, narrowed by the finite-population correction.

    Each half-width around the point estimate ``rate`` is multiplied by

        f = sqrt((N - n) / (N - 1))

    the factor by which the standard error of a proportion shrinks under simple random sampling
    without replacement, V(p) = (PQ / n) (N - n) / (N - 1) (Cochran, *Sampling Techniques*, 3rd ed.
    1977, section 3.2); scaling the Wilson bounds by it keeps their asymmetry. n >= N (a census)
    gives f = 0, so the interval is the rate itself. Where N is unknown (None, NaN or <= 0) the
    interval is returned unchanged. Scalars in, floats out; arrays in, arrays out (NaN where the
    inputs are NaN). Example: ``fpc_interval(0.627, 0.905, 0.8, 30, 32)`` -> ``(0.756, 0.827)``.
    """
    if N is None:
        return low, high
    scalar = all(np.ndim(x) == 0 for x in (low, high, rate, n, N))
    lo, hi, p = (np.asarray(x, dtype=np.float64) for x in (low, high, rate))
    nn, big = np.asarray(n, dtype=np.float64), np.asarray(N, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        known = np.isfinite(big) & (big > 0)
        # N = 1 leaves 0 / 0 for one case reviewed: a census like any n >= N
        f = np.where(nn >= big, 0.0, np.sqrt(np.clip((big - nn) / (big - 1.0), 0.0, 1.0)))
        f = np.where(known, f, 1.0)
        new_low, new_high = p - (p - lo) * f, p + (hi - p) * f
    if scalar:
        return float(new_low), float(new_high)
    return new_low, new_high


def interval_breaches(ci_low: float, ci_high: float, standard: float, direction: str = "higher") -> bool:
    """True when the whole interval lies on the wrong side of the standard (the exception rule).

    direction "higher": the standard is a minimum, so the upper bound must be below it;
    "lower": the standard is a maximum, so the lower bound must be above it. NaN never breaches.
    """
    if direction == "lower":
        return bool(ci_low > standard)
    return bool(ci_high < standard)


def cases_needed(rate: float, standard: float, direction: str = "higher", z: float = Z95) -> int | None:
    """Smallest number of cases at which, with ``rate`` held, the interval would breach the standard.

    For the record when a small sample raises no alarm ("about 40 cases would be needed"). None when
    the observed rate itself meets the standard (no sample size would make it an exception).
    """
    if math.isnan(rate) or (rate >= standard if direction == "higher" else rate <= standard):
        return None

    def breaches(n: int) -> bool:
        low, high = wilson_interval(rate * n, n, z)
        return interval_breaches(low, high, standard, direction)

    # the bound tends to the rate as n grows, so a doubling search then bisection finds the edge
    hi = 1
    while not breaches(hi):
        hi *= 2
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if breaches(mid):
            hi = mid
        else:
            lo = mid
    return hi


# --------------------------------------------------------------------------- XmR / Making Data Count

#: NHSRplotthedots constants: 3 / d2 (d2 = 1.128) and the 2-sigma line at two thirds of it
LIMIT = 2.66
NEAR_LIMIT = 2 * (LIMIT / 3)
#: moving ranges at or above this multiple of the mean moving range are screened out (Wheeler)
SCREEN_MR = 3.267
#: Making Data Count default baseline: limits from the first 12 points, then locked
DEFAULT_BASELINE = 12

RULES = ("outside_limits", "shift", "trend", "two_of_three")
#: values this close to the mean count as on it (rates are 0..1, measured values are seconds)
_ON_MEAN = 1e-9

#: signals that show the process itself has changed (a run, not one unusual week)
CHANGE_RULES = ("shift", "trend")
#: the assurance of a chart whose latest point is part of a CHANGE_RULES signal
PROCESS_CHANGED = "process_changed"

IMPROVEMENT = "special_cause_improvement"
CONCERN = "special_cause_concern"
COMMON = "common_cause"
NO_DATA = "no_data"


@dataclass(frozen=True)
class XmrChart:
    """An XmR chart: limits per point (they differ between rebase groups) and each point's signals.

    ``signals[i]`` lists the (rule, side) pairs whose run includes point i, side +1 = high/rising,
    -1 = low/falling. ``point_type[i]`` follows NHSRplotthedots: common_cause,
    special_cause_improvement / _concern, special_cause_neutral_high / _low, or no_data.
    """

    values: tuple[float | None, ...]
    mean: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    group: tuple[int, ...]
    baseline_points: int
    signals: tuple[tuple[tuple[str, int], ...], ...]
    point_type: tuple[str, ...]
    direction: str

    def concern_rules(self, i: int) -> tuple[str, ...]:
        """The rules that flag point i in the concerning direction (in MDC rule order)."""
        sign = _direction_sign(self.direction)
        if sign == 0:
            return ()
        found = {rule for rule, side in self.signals[i] if side * sign < 0}
        return tuple(r for r in RULES if r in found)

    def assurance(self, target: float | None) -> str | None:
        """Assurance of the latest limits against a target, never contradicting the latest point:
        see :func:`assurance` (``latest`` = the last value, ``changed`` = a shift or trend signal
        includes it)."""
        if not self.values:
            return None
        changed = any(rule in CHANGE_RULES for rule, _ in self.signals[-1])
        return assurance(
            target, self.lower[-1], self.upper[-1], self.direction, latest=self.values[-1], changed=changed
        )


def _direction_sign(direction: str) -> int:
    if direction in ("higher", "increase"):
        return 1
    if direction in ("lower", "decrease"):
        return -1
    if direction == "neutral":
        return 0
    raise ValueError(f"unknown improvement direction {direction!r} (use higher, lower or neutral)")


def assurance(
    target: float | None,
    lower: float,
    upper: float,
    direction: str,
    *,
    latest: float | None = None,
    changed: bool = False,
) -> str | None:
    """Will the process meet the target? As NHSRplotthedots' ptd_calculate_assurance_type, except
    that it never contradicts the latest point.

    Target above the upper limit: consistently_fail if higher is better, else consistently_pass;
    below the lower limit: the reverse; between the limits: hit_and_miss. None without a target,
    a direction, or limits. With ``changed`` (the latest point is part of a shift or trend: the
    process is no longer the one the limits describe) PROCESS_CHANGED instead. A ``latest`` value
    on the other side of the target than the limits say it will be (a week below a minimum the
    limits say is always met, or meeting one they say is always missed) gives hit_and_miss, not
    consistently_pass or consistently_fail: the process has both met and missed it.
    """
    sign = _direction_sign(direction)
    if target is None or sign == 0 or math.isnan(lower) or math.isnan(upper):
        return None
    if changed:
        return PROCESS_CHANGED
    if target > upper:
        verdict = "consistently_fail" if sign > 0 else "consistently_pass"
    elif target < lower:
        verdict = "consistently_pass" if sign > 0 else "consistently_fail"
    else:
        return "hit_and_miss"
    if latest is None or math.isnan(latest):
        return verdict
    meets = latest >= target if sign > 0 else latest <= target
    if meets != (verdict == "consistently_pass"):
        return "hit_and_miss"
    return verdict


def _limits(y: FloatArray, baseline: int | None, screen_outliers: bool) -> tuple[float, float]:
    """Mean and mean moving range of the baseline points (NHSRplotthedots ptd_spc_standard)."""
    fix = y if baseline is None else y[:baseline]
    mean = float(fix.mean())
    mr = np.abs(np.diff(fix))
    amr = float(mr.mean()) if mr.size else math.nan
    if screen_outliers and mr.size and amr > 0:
        # A baseline with no variation at all (mean MR 0) is kept as it is: NHSRplotthedots would
        # screen out every moving range and leave the limits undefined, and a weekly run must not
        # stop on a place whose rate never moved; any change from it is then outside the limits.
        kept = mr[mr < SCREEN_MR * amr]
        amr = float(kept.mean()) if kept.size else math.nan
    return mean, amr


def _windows(v: npt.NDArray[np.int64], width: int) -> npt.NDArray[np.int64]:
    return np.lib.stride_tricks.sliding_window_view(v, width)


def _part_of_run(end: npt.NDArray[np.int64], length: int = 7) -> npt.NDArray[np.bool_]:
    """Mark every point of a run whose last point carries a non-zero end marker."""
    padded = np.concatenate([end != 0, np.zeros(length - 1, dtype=bool)])
    return np.asarray(_windows(padded.astype(np.int64), length).any(axis=1), dtype=np.bool_)


def _shift_ends(rtm: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """+1/-1 at the 7th and later point of a run on one side of the mean (0 = on the mean)."""
    end = np.zeros(rtm.size, dtype=np.int64)
    if rtm.size >= 7:
        w = _windows(rtm, 7)
        same = (w == w[:, -1:]).all(axis=1) & (w[:, -1] != 0)
        end[6:] = np.where(same, w[:, -1], 0)
    return end


def _trend_ends(y: FloatArray) -> npt.NDArray[np.int64]:
    """+1/-1 at the 7th and later point of 7 rising/falling points (a tie breaks the run)."""
    end = np.zeros(y.size, dtype=np.int64)
    if y.size >= 7:
        w = _windows(np.sign(np.diff(y)).astype(np.int64), 6)
        end[6:] = np.where((w == 1).all(axis=1), 1, np.where((w == -1).all(axis=1), -1, 0))
    return end


def _two_in_three(close: npt.NDArray[np.bool_], rtm: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Near-limit points in a window of 3 with >= 2 near the limits, all 3 on one side of the mean."""
    hit = np.zeros(close.size, dtype=bool)
    if close.size >= 3:
        ok = (_windows(close.astype(np.int64), 3).sum(axis=1) >= 2) & (
            np.abs(_windows(rtm, 3).sum(axis=1)) == 3
        )
        for offset in range(3):
            hit[offset : offset + ok.size] |= ok
    return hit & close


@dataclass(frozen=True)
class _GroupChart:
    """One rebase group's limits and, per present point, its signals and deciding side."""

    mean: float
    lower: float
    upper: float
    baseline: int
    signals: list[tuple[tuple[str, int], ...]]
    sides: list[int]  # the side that decides the point's type, 0 = common cause


#: NHSRplotthedots' precedence when a point is in several signals (ptd_special_cause_type)
_TYPE_PRECEDENCE = ("outside_limits", "trend", "two_of_three", "shift")


def _group_chart(y: FloatArray, baseline: int | None, screen_outliers: bool) -> _GroupChart:
    mean, amr = _limits(y, baseline, screen_outliers)
    upl, lpl = mean + LIMIT * amr, mean - LIMIT * amr
    nupl, nlpl = mean + NEAR_LIMIT * amr, mean - NEAR_LIMIT * amr
    with np.errstate(invalid="ignore"):
        outside = (y > upl + _ON_MEAN) | (y < lpl - _ON_MEAN)
        close = ~outside & ((y < nlpl - _ON_MEAN) | (y > nupl + _ON_MEAN))
    # float noise in the mean (0.6 averaging to 0.5999...) must not put equal points on one side
    rtm = np.where(np.isclose(y, mean, rtol=0.0, atol=_ON_MEAN), 0, np.sign(y - mean)).astype(np.int64)
    shift = _part_of_run(_shift_ends(rtm))
    trend = _part_of_run(_trend_ends(y))
    two3 = _two_in_three(close, rtm)

    # a trend point's side is its run's direction: the step after it when the next point is in
    # the trend too, else the step before it (ptd_special_cause_type's sdy)
    m = y.size
    step = np.sign(np.diff(y)).astype(np.int64)
    after = np.concatenate([step, [0]])
    before = np.concatenate([[0], step])
    next_in_trend = np.concatenate([trend[1:], [False]])
    trend_side = np.where(trend & next_in_trend, after, before)
    trend_side = np.where(trend_side == 1, 1, -1)  # NHSRplotthedots labels anything else "Decreasing"

    signals: list[tuple[tuple[str, int], ...]] = [()] * m
    sides: list[int] = [0] * m
    # only the points in some signal need a look (most are in none)
    for i in np.flatnonzero(outside | shift | trend | two3).tolist():
        found = {
            rule: side
            for rule, hit, side in (
                ("outside_limits", outside[i], rtm[i]),
                ("shift", shift[i], rtm[i]),
                ("trend", trend[i], trend_side[i]),
                ("two_of_three", two3[i], rtm[i]),
            )
            if hit
        }
        signals[i] = tuple((rule, int(side)) for rule, side in found.items())
        sides[i] = next((int(found[r]) for r in _TYPE_PRECEDENCE if r in found), 0)
    size = int(y.size if baseline is None else min(baseline, y.size))
    return _GroupChart(mean, lpl, upl, size, signals, sides)


def xmr_chart(
    values: Sequence[float | None],
    *,
    direction: str = "higher",
    baseline: int | None = DEFAULT_BASELINE,
    rebase_at: Sequence[int] = (),
    screen_outliers: bool = True,
) -> XmrChart:
    """An XmR chart with the four Making Data Count rules, as NHSRplotthedots computes it.

    ``values`` is the series in time order; None marks a period with no data (a week with no
    applicable cases). Missing points are left out before anything is computed, exactly as if the
    row were absent from NHSRplotthedots' input: they neither extend nor break a run and moving
    ranges join the points either side; the chart shows them as gaps. Limits come from the first
    ``baseline`` present points of each rebase group (None = all points; fewer present points =
    trial limits over those), are locked after that, and restart at each index in ``rebase_at``
    (a rebase at a missing week starts the group at the next present week). The rules run within
    each group. ``direction`` is "higher", "lower" or "neutral" (which way is improvement).
    """
    sign = _direction_sign(direction)
    n = len(values)
    starts = sorted({i for i in rebase_at if 0 < i < n})
    group_of = np.searchsorted(np.asarray(starts, dtype=np.int64), np.arange(n), side="right")
    present = [i for i, v in enumerate(values) if v is not None and not math.isnan(v)]

    mean = [math.nan] * n
    lower = [math.nan] * n
    upper = [math.nan] * n
    signals: list[tuple[tuple[str, int], ...]] = [()] * n
    point_type = [NO_DATA] * n
    baseline_points = 0
    for g in sorted({int(group_of[i]) for i in present}):
        idx = [i for i in present if group_of[i] == g]
        y = np.asarray([values[i] for i in idx], dtype=np.float64)
        chart = _group_chart(y, baseline, screen_outliers)
        baseline_points = chart.baseline
        for j, i in enumerate(idx):
            mean[i], lower[i], upper[i] = chart.mean, chart.lower, chart.upper
            signals[i] = chart.signals[j]
            side = chart.sides[j]
            if side == 0:
                point_type[i] = COMMON
            elif sign == 0:
                point_type[i] = "special_cause_neutral_high" if side > 0 else "special_cause_neutral_low"
            else:
                point_type[i] = IMPROVEMENT if side * sign > 0 else CONCERN
    # a missing week carries the limits of its group so the drawn lines have no holes
    first_of_group: dict[int, int] = {}
    for i in present:
        first_of_group.setdefault(int(group_of[i]), i)
    for i in range(n):
        first = first_of_group.get(int(group_of[i]))
        if point_type[i] == NO_DATA and first is not None:
            mean[i], lower[i], upper[i] = mean[first], lower[first], upper[first]
    return XmrChart(
        values=tuple(values),
        mean=tuple(mean),
        lower=tuple(lower),
        upper=tuple(upper),
        group=tuple(int(g) for g in group_of),
        baseline_points=baseline_points,
        signals=tuple(signals),
        point_type=tuple(point_type),
        direction=direction,
    )
