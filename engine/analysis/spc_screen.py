"""A screen before XmR charts: which of many weekly series could have their latest point flagged
a concern, worked out for all of them at once (engine.analysis.stats.xmr_chart charts one series
at a time, and most series of a year's places and teams signal nothing in their latest week)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from engine.analysis.stats import _ON_MEAN, DEFAULT_BASELINE, NEAR_LIMIT, RULES, SCREEN_MR, FloatArray

#: how close to the outlier screen's cut a moving range is taken to be on either side of it
_SCREEN_MARGIN = 1e-7
#: how far apart two computations of the same mean or limits may be, relative to their size
_ROUNDING = 1e-12


def latest_may_concern(
    values: FloatArray,
    signs: npt.NDArray[np.int64],
    *,
    baseline: int | None = DEFAULT_BASELINE,
    min_points: int = 0,
    screen_outliers: bool = True,
    rules: Sequence[str] = RULES,
    interval: tuple[FloatArray, FloatArray] | None = None,
) -> npt.NDArray[np.bool_]:
    """For many series at once (one row each, NaN = no data, no rebasing), False where
    :func:`xmr_chart` surely would not mark the latest point a concern (``signs``: +1 higher is
    better, -1 lower, 0 neutral) or the series has fewer than ``min_points`` present points; True
    where it might (that series still needs its chart). The limits are worked out as xmr_chart does
    but summed in another order, so every comparison with them keeps a margin: a True is a maybe.

    The latest point is a concern only when a rule flags it on the concerning side: outside or
    near the limits (two of three) on that side, the last 7 present points on that side of the
    mean (shift) or falling (rising) in a row (trend). ``rules``: only a concern that one of these
    flags counts (CHANGE_RULES: a shift or trend; the limits then play no part). ``interval``: the
    (low, high) of each row's latest week, which must then lie wholly on the concerning side of the
    mean too (spc_findings' criterion rule)."""
    m, w = values.shape
    present = ~np.isnan(values)
    count = present.sum(axis=1)
    last = values[:, -1] if w else np.full(m, np.nan)
    ok = (count >= max(min_points, 1)) & ~np.isnan(last) & (signs != 0)
    if not ok.any():
        return np.asarray(ok, dtype=np.bool_)
    # each row's present values first, in order
    y = np.take_along_axis(values, np.argsort(~present, axis=1, kind="stable"), axis=1)
    base = count if baseline is None else np.minimum(count, baseline)
    cols = np.arange(w)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(cols < base[:, None], y, 0.0).sum(axis=1) / base
        mr = np.abs(np.diff(y, axis=1))
        in_mr = cols[: w - 1] < (base - 1)[:, None]
        amr = np.where(in_mr, mr, 0.0).sum(axis=1) / (base - 1)
        unsure = ~np.isfinite(amr)
        if screen_outliers:
            cut = (SCREEN_MR * amr)[:, None]
            kept = in_mr & (mr < cut)
            # a moving range at the screen's edge could fall either side of it in xmr_chart
            edge = (in_mr & (np.abs(mr - cut) <= _SCREEN_MARGIN * (1.0 + cut))).any(axis=1)
            unsure |= edge & (amr > 0)
            screened = np.where(kept, mr, 0.0).sum(axis=1) / kept.sum(axis=1)
            amr = np.where(amr > 0, screened, amr)
            unsure |= ~np.isfinite(amr)
        # xmr_chart's mean and limits may differ from these by rounding (far less than this)
        margin = _ROUNDING * (1.0 + np.abs(mean) + np.nan_to_num(np.abs(amr)))
        good = signs * (last - mean)  # how far the latest point is on the better side of the mean
        near = unsure | (good < -NEAR_LIMIT * amr - _ON_MEAN + margin)
    if not {"outside_limits", "two_of_three"} & set(rules):
        near[:] = False
    # the last 7 present points (shift and trend)
    at = np.clip(count[:, None] - 7 + np.arange(7), 0, max(w - 1, 0))
    tail = np.take_along_axis(y, at, axis=1)
    seven = count >= 7
    with np.errstate(invalid="ignore"):
        shift = seven & (signs[:, None] * (tail - mean[:, None]) < -_ON_MEAN + margin[:, None]).all(axis=1)
        trend = seven & (signs[:, None] * np.diff(tail, axis=1) < 0).all(axis=1)
    if "shift" not in rules:
        shift[:] = False
    if "trend" not in rules:
        trend[:] = False
    maybe = ok & (~np.isfinite(mean) | near | shift | trend)
    if interval is not None:
        low, high = interval
        with np.errstate(invalid="ignore"):
            beyond = np.where(signs > 0, high < mean + margin, low > mean - margin)
        maybe &= beyond | ~np.isfinite(mean)
    return np.asarray(maybe, dtype=np.bool_)
