"""How the demo keeps the places without a planted problem quiet in its demo week: the latest figure of
a series is drawn again (from a seed of its own, a few tries at most) until it lies on its better
side of the series' usual level, so that no rule of an SPC chart can signal a concern on it.

Earlier weeks vary as they would by chance (the charts show common-cause variation and now and then
a signal in the past); only the demo week, the one the weekly run briefs, is held on its better side.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from engine.analysis.stats import DEFAULT_BASELINE

#: how many draws the latest figure of a series may take to land on its better side
QUIET_TRIES = 60


def on_better_side(
    figure: float, earlier: Sequence[float], direction: str | None, *, cap: float = math.inf
) -> bool:
    """True when ``figure`` lies on its better side, by a quarter of the earlier figures' standard
    deviation, of both their mean and the mean of the first DEFAULT_BASELINE of them (the SPC chart's
    centre line); a figure at ``cap`` (a share at 100%), or at 0 when lower is better, always does.
    ``direction`` is "lower" when lower is better, else higher is."""
    if len(earlier) < 2:
        return True
    margin = 0.25 * statistics.pstdev(earlier)
    means = (statistics.fmean(earlier), statistics.fmean(earlier[:DEFAULT_BASELINE]))
    if direction == "lower":
        return figure <= max(0.0, min(means) - margin)
    return figure >= min(cap, max(means) + margin)
