"""engine.analysis.spc_screen: the screen before the XmR charts never rules out a series whose chart
flags its latest week a concern (a special cause a weekly run would then miss), and does rule out
the usual flat series."""

from __future__ import annotations

import random

import numpy as np

from engine.analysis.spc_screen import latest_may_concern
from engine.analysis.stats import CHANGE_RULES, CONCERN, RULES, wilson_interval, xmr_chart

SIGN = {"higher": 1, "lower": -1, "neutral": 0}


def _weekly(rng: random.Random, weeks: int) -> tuple[list[float | None], tuple[int, int]]:
    """A weekly share of a few dozen cases, often 100%, with gaps; and the last week's (passes, n)."""
    perfect = rng.random() < 0.4
    values: list[float | None] = []
    last = (0, 0)
    for _ in range(weeks):
        if rng.random() < 0.15:
            values.append(None)
            last = (0, 0)
            continue
        n = rng.randint(1, 30)
        k = n if perfect and rng.random() < 0.85 else rng.randint(max(0, n - rng.randint(0, 6)), n)
        values.append(k / n)
        last = (k, n)
    return values, last


def test_no_series_whose_latest_week_is_a_concern_is_screened_out() -> None:
    rng = random.Random(17)
    concerns = kept = total = 0
    for case in range(60):
        weeks = rng.randint(1, 55)
        baseline = rng.choice([12, 5, 1, None])
        min_points = rng.choice([0, 5, 12])
        rules = RULES if case % 2 else CHANGE_RULES
        with_interval = rules == CHANGE_RULES and case % 4 == 0
        screen_outliers = case % 5 != 0
        made = [_weekly(rng, weeks) for _ in range(40)]
        directions = [rng.choice(["higher", "lower", "neutral", "higher"]) for _ in made]
        values = np.array([[np.nan if v is None else v for v in series] for series, _ in made])
        passes = np.array([float(k) for _, (k, _) in made])
        cases = np.array([float(n) for _, (_, n) in made])
        maybe = latest_may_concern(
            values,
            np.array([SIGN[d] for d in directions]),
            baseline=baseline,
            min_points=min_points,
            screen_outliers=screen_outliers,
            rules=rules,
            interval=wilson_interval(passes, cases) if with_interval else None,
        )
        for (series, (k, n)), direction, screened_in in zip(made, directions, maybe.tolist(), strict=True):
            chart = xmr_chart(series, direction=direction, baseline=baseline, screen_outliers=screen_outliers)
            present = sum(v is not None for v in series)
            concern = (
                series[-1] is not None
                and present >= min_points
                and chart.point_type[-1] == CONCERN
                and any(r in rules for r in chart.concern_rules(weeks - 1))
            )
            if concern and with_interval:
                low, high = wilson_interval(k, n)
                mean = chart.mean[-1]
                concern = high < mean if direction == "higher" else low > mean
            assert screened_in or not concern, (series, direction, baseline, min_points, rules)
            concerns += concern
            kept += screened_in
            total += 1
    assert concerns > 50  # the check saw real concerns
    assert kept < total / 3  # and most series were never charted


def test_a_flat_series_is_screened_out_and_a_fall_is_kept() -> None:
    flat = [1.0] * 20
    fall = [1.0, 0.9, 1.0, 0.95] * 4 + [0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6]
    values = np.array([flat + [np.nan] * (len(fall) - len(flat)), fall])
    values[0, -1] = 1.0
    maybe = latest_may_concern(values, np.array([1, 1]), rules=CHANGE_RULES)
    assert maybe.tolist() == [False, True]
    assert CONCERN == xmr_chart(fall).point_type[-1]
