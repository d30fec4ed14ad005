"""How the demo keeps the places without a planted problem quiet in its demo week: the latest figure of
a series is drawn again (from a seed of its own, a few tries at most) until it lies on its better
side of the series' usual level, so that no rule of an SPC chart can signal a concern on it.

Earlier weeks vary as they would by chance (the charts show common-cause variation and now and then
a signal in the past); only the demo week, the one the weekly run briefs, is held on its better side.
The demo week's reviews likewise have about their usual slips (usual_slips).
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from engine.analysis.stats import DEFAULT_BASELINE, xmr_chart

#: how many draws the latest figure of a series may take to land on its better side
QUIET_TRIES = 60
#: a team with this many reviews of a type or fewer in the demo week has no slip on them
SMALL_TEAM = 3


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


def usual_slips(
    rows: Sequence[dict[str, Any]],
    noise: Mapping[str, float],
    key: str,
    earlier: Sequence[Mapping[str, tuple[int, int]]],
) -> None:
    """Turn some "yes" answers of ``rows`` (one place's reviews of one case type in the demo week) to
    "no" at the ``noise`` rates, as in a usual week: each team's slips drawn (QUIET_TRIES at most,
    else none; none at all for a team of SMALL_TEAM cases or fewer) until its share of cases with no slip raises no concern on its
    XmR chart of the earlier weeks, and the whole drawn again (QUIET_TRIES at most, else no slip at
    all) until no question slips more often than its expected count, rounded, and the place's share
    raises no concern and lies within its chart's limits (a week with no slip at all can be an
    improvement beyond normal variation). ``earlier``: the place's earlier weeks, oldest first,
    each team -> (cases, cases with no slip)."""
    bound = {q: round(p * sum(r.get(q) == "yes" for r in rows)) for q, p in noise.items()}
    teams = sorted({str(r.get("team", "")) for r in rows})
    history = {t: [w[t][1] / w[t][0] for w in earlier if w.get(t, (0, 0))[0]] for t in teams}
    place = [sum(c for _n, c in w.values()) / sum(n for n, _c in w.values()) for w in earlier if w]
    for attempt in range(QUIET_TRIES):
        rng = random.Random(f"{key}/{attempt}")
        flips: list[set[str]] = [set() for _ in rows]
        for team in teams:
            mine = [i for i, r in enumerate(rows) if str(r.get("team", "")) == team]
            # one slip in three or fewer cases is below a 95% standard whatever the interval
            for _ in range(QUIET_TRIES if len(mine) > SMALL_TEAM else 0):
                drawn = {
                    i: {q for q, p in noise.items() if rows[i].get(q) == "yes" and rng.random() < p}
                    for i in mine
                }
                if _usual(history[team], sum(not f for f in drawn.values()) / len(mine), within=False):
                    for i, f in drawn.items():
                        flips[i] = f
                    break
        if any(sum(q in f for f in flips) > b for q, b in bound.items()):
            continue
        if _usual(place, sum(not f for f in flips) / max(1, len(rows)), within=True):
            for row, flipped in zip(rows, flips, strict=True):
                for question in flipped:
                    row[question] = "no"
            return


def _usual(earlier: Sequence[float], share: float, *, within: bool) -> bool:
    """True when ``share`` raises no concern on the XmR chart of ``earlier`` (higher is better) and,
    with ``within``, lies within its limits."""
    if len(earlier) < 2:
        return True
    chart = xmr_chart([*earlier, share], direction="higher")
    last = len(earlier)
    return not chart.concern_rules(last) and (not within or share <= chart.upper[last])
