"""Statistics of declared metrics by kind (docs/outputs.md "Figures from extracts"): the 95% interval
of a survey share (Wilson on the effective sample), a mean time (t) and a median time (exact, from
order statistics), a count as a rate (exact Poisson, Garwood), and the attribute SPC charts of
proportions (p-chart) and rates (u-chart) with the Making Data Count rules.

Pure numpy and scipy; no pandas, no I/O. A proportion's own interval is stats.wilson_interval, a
mean time's chart stats.xmr_chart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.analysis.stats import (
    CONCERN,
    DEFAULT_BASELINE,
    IMPROVEMENT,
    NO_DATA,
    XmrChart,
    _direction_sign,
    _part_of_run,
    _shift_ends,
    _trend_ends,
    _two_in_three,
    wilson_interval,
)

#: the two-sided level of every interval here
ALPHA = 0.05
#: the mean moving range of two normal values, over sigma (Laney's sigma_z divides by it)
D2 = 1.128

FloatArray = npt.NDArray[np.float64]


def scipy_stats() -> Any:
    """scipy.stats, imported when first needed (it takes a second or two to import)."""
    from scipy import stats  # type: ignore[import-untyped]  # scipy ships no type information

    return stats


def special() -> Any:
    """scipy.special, imported when first needed: the quantiles below are computed with its
    functions, as scipy.stats computes them, without importing scipy.stats (0.5 s more CPU, in
    every run that reads figures)."""
    import scipy.special  # type: ignore[import-untyped]  # scipy ships no type information

    return scipy.special


def t_quantile(q: float, df: Any) -> Any:
    """Student's t quantile ``q`` (0 < q < 1) on ``df`` degrees of freedom, NaN unless df > 0:
    scipy.stats.t.ppf(q, df), which is special.stdtrit(df, q). An array for an array."""
    df = np.asarray(df, dtype=np.float64)
    valid = df > 0
    return np.where(valid, special().stdtrit(np.where(valid, df, 1.0), q), np.nan)


def chi2_quantile(q: float, df: Any) -> Any:
    """The chi-squared quantile ``q`` (0 < q < 1) on ``df`` degrees of freedom, NaN unless df > 0:
    scipy.stats.chi2.ppf(q, df), which is 2 * special.gammaincinv(df / 2, q). An array for an array."""
    df = np.asarray(df, dtype=np.float64)
    valid = df > 0
    return np.where(valid, 2 * special().gammaincinv(np.where(valid, df, 2.0) / 2, q), np.nan)


@lru_cache(maxsize=4096)
def median_rank(big_n: int, alpha: float = ALPHA) -> int:
    """j, the rank of the order statistic that starts the median's interval among ``big_n`` values:
    the largest with P(Binomial(N, 1/2) <= j - 1) <= a/2 (0 when there is none). Binomial quantile
    and distribution function as scipy.stats.binom's ppf and cdf give them (for N >= 1 its own
    functions in scipy.special, called here directly; scipy.stats itself only without them)."""
    q = alpha / 2
    try:  # what scipy.stats.binom's _ppf and _cdf call (scipy 1.12 on); private, so guarded
        from scipy.special._ufuncs import (  # type: ignore[import-untyped]
            _binom_cdf,
            _binom_ppf,
        )
    except ImportError:
        _binom_cdf = _binom_ppf = None
    if big_n < 1 or _binom_ppf is None or not 0 < q < 1:
        sps = scipy_stats()
        m = int(sps.binom.ppf(q, big_n, 0.5))
        return m + 1 if float(sps.binom.cdf(m, big_n, 0.5)) <= q else m
    m = int(_binom_ppf(q, big_n, 0.5))  # the smallest m with P(B <= m) >= a/2
    # binom.cdf(m): 1 from N on, else the function's value clipped to 0-1 (m >= 0: q > 0)
    p = 1.0 if m >= big_n else min(max(float(_binom_cdf(float(m), big_n, 0.5)), 0.0), 1.0)
    return m + 1 if p <= q else m


# --------------------------------------------------------------------------- intervals


def survey_interval(share_k: float, n: float, design_effect: float = 1.0) -> tuple[float, float]:
    """A survey share's 95% interval: Wilson on the effective sample n / deff, so a survey whose
    design widens its margin (clustering, weighting) by sqrt(deff) is judged on that margin.
    ``share_k`` may be fractional (a weighted share times its sample). NaN without a sample.
    Example: 62 of 100 with deff 2 is Wilson on 31 of 50: (0.482, 0.741)."""
    deff = design_effect if design_effect and design_effect > 0 else 1.0
    if not n > 0:
        return math.nan, math.nan
    return wilson_interval(share_k / deff, n / deff)


def poisson_interval(count: float, alpha: float = ALPHA) -> tuple[float, float]:
    """The exact (Garwood 1936) interval of a Poisson count: chi-squared quantiles,
    low = chi2(a/2, 2k) / 2 (0 when k = 0), high = chi2(1 - a/2, 2k + 2) / 2.
    Example: 0 -> (0, 3.689); 5 -> (1.623, 11.668)."""
    if count < 0 or math.isnan(count):
        return math.nan, math.nan
    low = 0.0 if count == 0 else float(chi2_quantile(alpha / 2, 2 * count)) / 2
    high = float(chi2_quantile(1 - alpha / 2, 2 * count + 2)) / 2
    return low, high


def rate_interval(count: float, exposure: float | None, per: float | None) -> tuple[float, float, float]:
    """(rate, low, high) of a count per ``per`` units of ``exposure`` (the count itself when there
    is no exposure): Garwood's interval on the count, scaled. NaN with no exposure to divide by."""
    low, high = poisson_interval(count)
    if exposure is None:
        return float(count), low, high
    if not exposure > 0:
        return math.nan, math.nan, math.nan
    scale = (per or 1.0) / exposure
    return count * scale, low * scale, high * scale


def weighted_mean_interval(
    values: Sequence[float], counts: Sequence[float], alpha: float = ALPHA
) -> tuple[float, float, float, float]:
    """(mean, low, high, sd) of values each seen ``counts`` times (raw values have count 1, a
    histogram's bins their frequency): the sample mean with Student's t interval on N - 1 degrees of
    freedom, N = the sum of counts. The interval is NaN with fewer than two values (or none at all)."""
    v = np.asarray(values, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    big_n = float(c.sum())
    if not big_n > 0:
        return math.nan, math.nan, math.nan, math.nan
    mean = float((v * c).sum() / big_n)
    if big_n < 2:
        return mean, math.nan, math.nan, math.nan
    sd = math.sqrt(max(float((c * (v - mean) ** 2).sum()) / (big_n - 1), 0.0))
    half = float(t_quantile(1 - alpha / 2, big_n - 1)) * sd / math.sqrt(big_n)
    return mean, mean - half, mean + half, sd


def _order_statistic(v: FloatArray, cum: FloatArray, rank: int) -> float:
    """The rank-th smallest (1-based) of sorted values v with cumulative counts cum."""
    return float(v[int(np.searchsorted(cum, rank, side="left"))])


def weighted_median_interval(
    values: Sequence[float], counts: Sequence[float], alpha: float = ALPHA
) -> tuple[float, float, float]:
    """(median, low, high) of values each seen ``counts`` (whole) times: the median as numpy's of the
    values written out (the middle one, or the mean of the middle two), and the distribution-free
    interval between order statistics j and N - j + 1, j the largest with P(Binomial(N, 1/2) < j) <=
    a/2 (Conover, Practical Nonparametric Statistics, 3rd ed., 3.2). The interval is NaN when N is
    too small for any such j (N < 6 at 95%)."""
    c = np.rint(np.asarray(counts, dtype=np.float64))
    order = np.argsort(np.asarray(values, dtype=np.float64), kind="stable")
    v = np.asarray(values, dtype=np.float64)[order]
    c = c[order]
    keep = c > 0
    v, c = v[keep], c[keep]
    big_n = int(c.sum())
    if big_n == 0:
        return math.nan, math.nan, math.nan
    cum = np.cumsum(c)
    if big_n % 2:
        median = _order_statistic(v, cum, (big_n + 1) // 2)
    else:
        median = (_order_statistic(v, cum, big_n // 2) + _order_statistic(v, cum, big_n // 2 + 1)) / 2
    # j: the number of values below the interval's low end is < j with probability <= a/2
    j = median_rank(big_n, alpha)
    if j < 1:
        return median, math.nan, math.nan
    # P(B <= j - 1) <= a/2 with j as found: the interval is [x_(j), x_(N - j + 1)]
    return median, _order_statistic(v, cum, j), _order_statistic(v, cum, big_n - j + 1)


def beyond(low: float, high: float, standard: float, bound: str) -> bool:
    """Whether the whole interval lies beyond a standard: under a ``minimum`` (its high end below) or
    over a ``maximum`` (its low end above). NaN never is."""
    if bound == "maximum":
        return bool(low > standard)
    return bool(high < standard)


# --------------------------------------------------------------------------- attribute charts


def attribute_chart(
    events: Sequence[float | None],
    sizes: Sequence[float | None],
    *,
    kind: str,
    direction: str,
    scale: float = 1.0,
    baseline: int | None = DEFAULT_BASELINE,
    prime: bool = True,
) -> XmrChart:
    """A p-chart (``kind`` "p": events of sizes trials) or u-chart ("u": events per unit of size
    exposure) with the four Making Data Count rules, as an XmrChart whose limits vary by point.

    The centre line is the pooled rate of the first ``baseline`` present points (sum of events over
    sum of sizes; None = all), locked after them; each point's sigma is sqrt(c (1 - c) / size) for p
    or sqrt(c / size) for u, its limits c +/- 3 sigma (a p-chart's cut to 0-1, a u-chart's low one to
    0) and its near-limit line c +/- 2 sigma. Shift, trend and 2-of-3 run as on an XmR chart.
    Values and limits are multiplied by ``scale`` (a rate per 1,000: 1000). A point with no size
    (None or 0) is a gap, as stats.xmr_chart treats a missing week.

    With ``prime`` (the default), Laney's p'- and u'-charts (Laney 2002, Quality Engineering 14:4):
    each sigma is multiplied by sigma_z, the mean moving range of the baseline points' z-scores
    ((y - c) / sigma) over 1.128. Data with no variation beyond the binomial or Poisson give sigma_z
    near 1, the plain chart; large denominators (a month's 4,000 rostered days) whose rates vary more
    than sampling alone explains get limits as wide as that variation, instead of a signal every
    point."""
    sign = _direction_sign(direction)
    n = len(events)
    present = [
        i for i in range(n) if events[i] is not None and sizes[i] is not None and float(sizes[i] or 0) > 0
    ]
    values: list[float | None] = [None] * n
    mean = [math.nan] * n
    lower = [math.nan] * n
    upper = [math.nan] * n
    signals: list[tuple[tuple[str, int], ...]] = [()] * n
    point_type = [NO_DATA] * n
    if not present:
        return XmrChart(tuple(values), tuple(mean), tuple(lower), tuple(upper), (0,) * n, 0,
                        tuple(signals), tuple(point_type), direction)  # fmt: skip
    k = np.asarray([float(events[i] or 0) for i in present], dtype=np.float64)
    size = np.asarray([float(sizes[i] or 0) for i in present], dtype=np.float64)
    y = k / size
    base = len(present) if baseline is None else min(baseline, len(present))
    centre = float(k[:base].sum() / size[:base].sum())
    var = centre * (1 - centre) if kind == "p" else centre
    sigma = np.sqrt(max(var, 0.0) / size)
    if prime and base >= 2 and var > 0:
        z = (y[:base] - centre) / sigma[:base]
        sigma_z = float(np.abs(np.diff(z)).mean() / D2)
        sigma = sigma * (sigma_z if sigma_z > 0 else 1.0)  # a baseline that never moved: the plain chart
    upl, lpl = centre + 3 * sigma, np.maximum(centre - 3 * sigma, 0.0)
    if kind == "p":
        upl = np.minimum(upl, 1.0)
    nupl, nlpl = centre + 2 * sigma, centre - 2 * sigma
    tiny = 1e-12
    outside = (y > upl + tiny) | (y < lpl - tiny)
    close = ~outside & ((y > nupl + tiny) | (y < nlpl - tiny))
    rtm = np.where(np.isclose(y, centre, rtol=0.0, atol=tiny), 0, np.sign(y - centre)).astype(np.int64)
    shift = _part_of_run(_shift_ends(rtm))
    trend = _part_of_run(_trend_ends(y))
    two3 = _two_in_three(close, rtm)
    step = np.sign(np.diff(y)).astype(np.int64)
    after = np.concatenate([step, [0]])
    before = np.concatenate([[0], step])
    next_in_trend = np.concatenate([trend[1:], [False]])
    trend_side = np.where(np.where(trend & next_in_trend, after, before) == 1, 1, -1)
    scaled_y, scaled_low, scaled_high = (y * scale).tolist(), (lpl * scale).tolist(), (upl * scale).tolist()
    for j, i in enumerate(present):
        values[i], lower[i], upper[i] = scaled_y[j], scaled_low[j], scaled_high[j]
        mean[i], point_type[i] = centre * scale, "common_cause"
    # only the points in some signal need a look (most are in none)
    for j in np.flatnonzero(outside | shift | trend | two3).tolist():
        i = present[j]
        found = {
            rule: int(side)
            for rule, hit, side in (
                ("outside_limits", outside[j], rtm[j]),
                ("shift", shift[j], rtm[j]),
                ("trend", trend[j], trend_side[j]),
                ("two_of_three", two3[j], rtm[j]),
            )
            if hit
        }
        signals[i] = tuple(found.items())
        side = next((found[r] for r in ("outside_limits", "trend", "two_of_three", "shift") if r in found), 0)
        if sign == 0:
            point_type[i] = "special_cause_neutral_high" if side > 0 else "special_cause_neutral_low"
        else:
            point_type[i] = IMPROVEMENT if side * sign > 0 else CONCERN
    first = present[0]
    for i in range(n):  # a gap carries the centre line; its own limits depend on a size it lacks
        if point_type[i] == NO_DATA:
            mean[i] = mean[first]
    return XmrChart(
        values=tuple(values),
        mean=tuple(mean),
        lower=tuple(lower),
        upper=tuple(upper),
        group=(0,) * n,
        baseline_points=base,
        signals=tuple(signals),
        point_type=tuple(point_type),
        direction=direction,
    )
