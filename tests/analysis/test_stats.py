"""engine.analysis.stats: Wilson intervals against textbook values, the XmR / Making Data Count rules against
NHSRplotthedots' published outputs (tests/analysis/data/spc), assurance, and kappa against classic examples."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.inter_rater import aggregate_raters

from engine.analysis import stats
from engine.analysis.kappa import cohen_kappa, fleiss_kappa
from engine.analysis.stats import (
    assurance,
    cases_needed,
    interval_breaches,
    wilson_interval,
    xmr_chart,
)

SPC_DATA = Path(__file__).parent / "data" / "spc"


# --------------------------------------------------------------------------- Wilson


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (8, 10, 0.4902, 0.9433),  # the standard worked example
        # Newcombe (1998) Stat Med 17:857, Table I, method 3 (score interval without correction)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (0, 10, 0.0, 0.2775),  # k = 0: the lower bound is exactly 0
        (10, 10, 0.7225, 1.0),  # k = n: the upper bound is exactly 1
        (5, 30, 0.0734, 0.3356),  # 5 of 30: the interval an exceptions.json entry shows (0.073 - 0.336)
    ],
)
def test_wilson_interval_matches_textbook_values(k: int, n: int, low: float, high: float) -> None:
    got = wilson_interval(k, n)
    assert got == pytest.approx((low, high), abs=5e-5)
    assert isinstance(got[0], float)


def test_wilson_interval_without_cases_is_no_data_not_zero() -> None:
    low, high = wilson_interval(0, 0)
    assert math.isnan(low) and math.isnan(high)


def test_wilson_interval_vectorised_equals_scalar() -> None:
    k = np.array([0, 3, 8, 10, 0])
    n = np.array([10, 7, 10, 10, 0])
    low, high = wilson_interval(k, n)
    for i in range(4):
        assert (low[i], high[i]) == pytest.approx(wilson_interval(int(k[i]), int(n[i])))
    assert math.isnan(low[4]) and math.isnan(high[4])


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=5000), st.data())
def test_wilson_interval_contains_the_rate(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(min_value=0, max_value=n))
    low, high = wilson_interval(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0


def test_interval_breaches_only_when_the_whole_interval_is_on_the_wrong_side() -> None:
    assert interval_breaches(0.07, 0.34, 0.9)
    assert not interval_breaches(0.2, 0.94, 0.9)  # straddles: no alarm
    assert interval_breaches(0.15, 0.3, 0.1, "lower")  # a maximum standard
    assert not interval_breaches(math.nan, math.nan, 0.9)


# --------------------------------------------------------------------------- cases needed


@pytest.mark.parametrize(("rate", "standard"), [(2 / 3, 0.9), (0.85, 0.9), (0.5, 0.8), (0.0, 0.95)])
def test_cases_needed_is_the_smallest_sample_that_would_confirm_the_shortfall(
    rate: float, standard: float
) -> None:
    n = cases_needed(rate, standard)
    assert n is not None
    assert interval_breaches(*wilson_interval(rate * n, n), standard)
    if n > 1:
        assert not interval_breaches(*wilson_interval(rate * (n - 1), n - 1), standard)


def test_cases_needed_examples() -> None:
    assert cases_needed(2 / 3, 0.9) == 7
    assert cases_needed(0.85, 0.9) == 139
    assert cases_needed(0.2, 0.1, "lower") == 35


def test_cases_needed_is_none_when_the_rate_meets_the_standard() -> None:
    assert cases_needed(0.95, 0.9) is None
    assert cases_needed(0.9, 0.9) is None
    assert cases_needed(0.05, 0.1, "lower") is None


# --------------------------------------------------------------------------- XmR: published examples


def _reference(name: str) -> list[dict[str, str]]:
    with open(SPC_DATA / name, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_xmr_matches_nhsrplotthedots_ae_performance_with_12_point_baseline() -> None:
    rows = _reference("ae_all_performance.csv")
    chart = xmr_chart([float(r["y"]) for r in rows], direction="higher", baseline=12)
    assert chart.baseline_points == 12
    for i, r in enumerate(rows):
        assert chart.mean[i] == pytest.approx(float(r["mean"]), abs=1e-12)
        assert chart.lower[i] == pytest.approx(float(r["lpl"]), abs=1e-12)
        assert chart.upper[i] == pytest.approx(float(r["upl"]), abs=1e-12)
        outside = any(rule == "outside_limits" for rule, _ in chart.signals[i])
        assert outside == (r["outside_limits"] == "1"), i
        assert (chart.point_type[i] != "common_cause") == (r["special_cause_flag"] == "1.0"), i
    assert chart.point_type == tuple(r["point_type"] for r in rows)


def test_xmr_matches_nhsrplotthedots_ae_attendances_rebased() -> None:
    rows = _reference("ae_all_attendances_rebase.csv")
    start = next(i for i, r in enumerate(rows) if r["rebase_group"] == "1.0")
    assert rows[start]["period"] == "2017-04-01"
    chart = xmr_chart([float(r["y"]) for r in rows], baseline=None, rebase_at=[start])
    assert chart.group == tuple(int(float(r["rebase_group"])) for r in rows)
    for i, r in enumerate(rows):
        assert chart.mean[i] == pytest.approx(float(r["mean"]), rel=1e-14)
        assert chart.lower[i] == pytest.approx(float(r["lpl"]), rel=1e-14)
        assert chart.upper[i] == pytest.approx(float(r["upl"]), rel=1e-14)
    assert chart.point_type == tuple(r["point_type"] for r in rows)


def test_xmr_matches_nhsrplotthedots_rnorm_summaries() -> None:
    y = [float(r["y"]) for r in _reference("rnorm20_seed123.csv")]
    whole = xmr_chart(y, baseline=None)
    assert (round(whole.mean[0], 3), round(whole.lower[0], 2), round(whole.upper[0], 2)) == (
        0.142,
        -3.01,
        3.29,
    )
    assert set(whole.point_type) == {"common_cause"}
    first, second = xmr_chart(y[:10], baseline=None), xmr_chart(y[10:], baseline=None)
    assert (round(first.mean[0], 4), round(first.lower[0], 2), round(first.upper[0], 2)) == (
        0.0746,
        -2.60,
        2.75,
    )
    assert (round(second.mean[0], 3), round(second.lower[0], 2), round(second.upper[0], 2)) == (
        0.209,
        -3.28,
        3.70,
    )


def test_two_of_three_needs_all_three_points_on_the_same_side() -> None:
    # test-ptd_spc_standard.R: symmetric data, then two near-limit points on opposite sides
    y = [1.0, -1.0] * 8
    y[14], y[15] = 5.5, -5.5
    chart = xmr_chart(y, baseline=None)
    assert chart.point_type[-2:] == ("common_cause", "common_cause")


# --------------------------------------------------------------------------- the rules' building blocks
# Cases from NHSRplotthedots tests/testthat/test-ptd_calculate_point_type.R


@pytest.mark.parametrize(
    ("rtm", "expected"),
    [
        ([1] * 6, [0] * 6),
        ([1] * 6 + [-1], [0] * 7),
        ([1] * 8 + [-1], [0] * 6 + [1, 1, 0]),
        ([-1] * 8 + [1], [0] * 6 + [-1, -1, 0]),
        ([-1] + [1] * 8 + [-1], [0] * 7 + [1, 1, 0]),
    ],
)
def test_shift_run_ends(rtm: list[int], expected: list[int]) -> None:
    assert stats._shift_ends(np.asarray(rtm, dtype=np.int64)).tolist() == expected


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        (list(range(1, 7)), [0] * 6),
        ([1, 2, 3, 3, 4, 5, 6], [0] * 7),  # a tie breaks a trend
        (list(range(1, 8)), [0] * 6 + [1]),
        ([2, *range(1, 8), 3], [0] * 7 + [1, 0]),
        (list(range(7, 0, -1)), [0] * 6 + [-1]),
        ([2, *range(7, 0, -1), 3], [0] * 7 + [-1, 0]),
    ],
)
def test_trend_run_ends(y: list[float], expected: list[int]) -> None:
    assert stats._trend_ends(np.asarray(y, dtype=np.float64)).tolist() == expected


@pytest.mark.parametrize(
    ("close", "expected"),
    [
        ([1, 0, 1], [1, 0, 1]),
        ([0, 1, 1], [0, 1, 1]),
        ([1, 1, 0], [1, 1, 0]),
        ([0, 0, 1, 0, 1, 0, 0], [0, 0, 1, 0, 1, 0, 0]),
        ([1, 0, 0, 1], [0, 0, 0, 0]),
        ([1, 0, 0, 1, 1], [0, 0, 0, 1, 1]),
    ],
)
def test_two_in_three_flags_only_the_near_limit_points(close: list[int], expected: list[int]) -> None:
    rtm = np.ones(len(close), dtype=np.int64)
    assert stats._two_in_three(np.asarray(close, dtype=bool), rtm).astype(int).tolist() == expected


# --------------------------------------------------------------------------- the four rules, end to end

BASE = [0.80, 0.90] * 6  # mean 0.85, mean moving range 0.10: limits 0.584 - 1.116, 2-sigma 0.673


def _concerns(chart: stats.XmrChart) -> list[int]:
    return [i for i, t in enumerate(chart.point_type) if t == "special_cause_concern"]


def test_point_outside_the_limits_is_a_concern_when_lower_is_worse() -> None:
    chart = xmr_chart([*BASE, 0.85, 0.50])
    assert _concerns(chart) == [13]
    assert chart.concern_rules(13) == ("outside_limits",)
    assert chart.baseline_points == 12


def test_shift_flags_all_seven_points() -> None:
    chart = xmr_chart([*BASE, *[0.75] * 7])
    assert _concerns(chart) == list(range(12, 19))
    assert chart.concern_rules(18) == ("shift",)
    assert set(xmr_chart([*BASE, *[0.75] * 6]).point_type) == {"common_cause"}  # six is not enough


def test_shift_above_the_mean_is_an_improvement_not_a_concern() -> None:
    chart = xmr_chart([*BASE, *[0.95] * 7])
    assert _concerns(chart) == []
    assert set(chart.point_type[12:]) == {"special_cause_improvement"}
    assert chart.concern_rules(18) == ()


def test_the_same_shift_is_a_concern_when_lower_is_better() -> None:
    chart = xmr_chart([*BASE, *[0.95] * 7], direction="lower")
    assert _concerns(chart) == list(range(11, 19))  # the last baseline week (0.90) is above the mean too


def test_neutral_direction_names_the_side_only() -> None:
    chart = xmr_chart([*BASE, *[0.95] * 7], direction="neutral")
    assert set(chart.point_type[12:]) == {"special_cause_neutral_high"}


def test_trend_of_seven_falling_points() -> None:
    falling = [0.95, 0.90, 0.85, 0.80, 0.75, 0.70, 0.66]
    chart = xmr_chart([*BASE, *falling])
    assert _concerns(chart) == list(range(12, 19))
    assert chart.concern_rules(18) == ("trend",)


def test_a_tie_breaks_a_trend() -> None:
    chart = xmr_chart([*BASE, 0.95, 0.90, 0.85, 0.85, 0.80, 0.75, 0.70])
    assert "trend" not in {r for s in chart.signals for r, _ in s}


def test_rising_trend_is_classed_by_its_direction_not_its_side_of_the_mean() -> None:
    # the rising run starts below the mean: every point of it is an improvement (NHSRplotthedots f7891af)
    chart = xmr_chart([*BASE, 0.70, 0.75, 0.80, 0.84, 0.88, 0.92, 0.96])
    assert set(chart.point_type[12:]) == {"special_cause_improvement"}


def test_two_of_three_near_the_lower_limit() -> None:
    chart = xmr_chart([*BASE, 0.85, 0.65, 0.80, 0.65])
    assert _concerns(chart) == [13, 15]  # the near-limit points only, not the one between
    assert chart.concern_rules(15) == ("two_of_three",)


def test_limits_are_locked_after_the_baseline() -> None:
    chart = xmr_chart([*BASE, 0.1, 0.99, 0.2])
    assert chart.mean[-1] == pytest.approx(0.85)
    assert chart.upper[-1] == pytest.approx(0.85 + 2.66 * 0.1)


def test_fewer_points_than_the_baseline_give_trial_limits_over_all_of_them() -> None:
    chart = xmr_chart([0.8, 0.9, 0.8, 0.9, 0.8])
    assert chart.baseline_points == 5
    assert chart.mean[0] == pytest.approx(0.84)


def test_rebase_on_request_starts_new_limits_and_new_runs() -> None:
    y = [*BASE, *[0.6, 0.7] * 6]
    plain = xmr_chart(y)
    rebased = xmr_chart(y, rebase_at=[12])
    assert _concerns(plain)  # the drop is a signal against the old limits...
    assert _concerns(rebased) == []  # ...and the new normal after a rebase
    assert rebased.mean[-1] == pytest.approx(0.65)
    assert rebased.group[11:13] == (0, 1)


def test_missing_weeks_are_gaps_that_neither_break_nor_extend_a_run() -> None:
    y: list[float | None] = [*BASE, 0.75, 0.75, None, 0.75, 0.75, None, 0.75, 0.75, 0.75]
    chart = xmr_chart(y)
    assert chart.point_type[14] == chart.point_type[17] == "no_data"
    assert _concerns(chart) == [12, 13, 15, 16, 18, 19, 20]  # 7 present points below the mean
    assert chart.mean[14] == pytest.approx(0.85)  # a gap carries its group's limits for drawing
    assert chart.values[14] is None


def test_missing_weeks_before_the_baseline_is_full() -> None:
    chart = xmr_chart([None, 0.8, None, 0.9, 0.8])
    assert chart.baseline_points == 3
    assert chart.point_type[0] == "no_data"
    assert chart.mean[1] == pytest.approx((0.8 + 0.9 + 0.8) / 3)


def test_flat_baseline_has_zero_width_limits_and_a_change_is_special_cause() -> None:
    # NHSRplotthedots screens out every moving range of a flat baseline and leaves the limits
    # undefined; we keep them at the mean so a place whose rate never moved cannot stop a run.
    chart = xmr_chart([0.6] * 13 + [0.5])
    assert chart.upper[-1] == pytest.approx(0.6) and chart.lower[-1] == pytest.approx(0.6)
    assert chart.point_type[-1] == "special_cause_concern"
    assert all(t == "common_cause" for t in chart.point_type[:-1])  # float noise in the mean is no shift
    unscreened = xmr_chart([1.0] * 12 + [0.5], screen_outliers=False)
    assert unscreened.point_type[-1] == "special_cause_concern"


def test_screening_drops_large_moving_ranges_from_the_limits() -> None:
    y = [0.8, 0.9] * 5 + [0.1, 0.85]
    screened, raw = xmr_chart(y), xmr_chart(y, screen_outliers=False)
    assert screened.upper[0] - screened.lower[0] < raw.upper[0] - raw.lower[0]


def test_unknown_direction_is_refused() -> None:
    with pytest.raises(ValueError, match="improvement direction"):
        xmr_chart([1.0, 2.0], direction="up")


# --------------------------------------------------------------------------- assurance
# Cases from NHSRplotthedots tests/testthat/test-ptd_calculate_assurance_type.R (target 4)


@pytest.mark.parametrize(
    ("lower", "upper", "higher_is_better", "lower_is_better"),
    [
        (1, 3, "consistently_fail", "consistently_pass"),
        (5, 7, "consistently_pass", "consistently_fail"),
        (1, 5, "hit_and_miss", "hit_and_miss"),
    ],
)
def test_assurance_against_a_target(
    lower: float, upper: float, higher_is_better: str, lower_is_better: str
) -> None:
    assert assurance(4, lower, upper, "higher") == higher_is_better
    assert assurance(4, lower, upper, "lower") == lower_is_better
    assert assurance(4, lower, upper, "neutral") is None
    assert assurance(None, lower, upper, "higher") is None


def test_chart_assurance_uses_the_latest_limits() -> None:
    chart = xmr_chart([*BASE, *[0.6, 0.7] * 6], rebase_at=[12])  # latest limits 0.384 - 0.916
    assert chart.assurance(0.95) == "consistently_fail"
    assert chart.assurance(0.30) == "consistently_pass"
    assert chart.assurance(0.80) == "hit_and_miss"


@pytest.mark.parametrize(
    ("direction", "lower", "upper", "latest", "expected"),
    [
        # limits 92%-100% all above a 90% minimum, but this week was 83%: it did not meet it
        ("higher", 0.92, 1.0, 0.83, "hit_and_miss"),
        ("higher", 0.92, 1.0, 0.95, "consistently_pass"),
        ("higher", 0.92, 1.0, 0.90, "consistently_pass"),  # exactly the minimum meets it
        # limits 60%-80% all below the minimum, but this week met it
        ("higher", 0.60, 0.80, 0.91, "hit_and_miss"),
        ("higher", 0.60, 0.80, 0.70, "consistently_fail"),
        # a maximum of 90%: mirrored
        ("lower", 0.60, 0.80, 0.93, "hit_and_miss"),
        ("lower", 0.60, 0.80, 0.70, "consistently_pass"),
        ("lower", 0.92, 1.0, 0.85, "hit_and_miss"),
        ("lower", 0.92, 1.0, 0.95, "consistently_fail"),
    ],
)
def test_assurance_never_contradicts_the_latest_point(
    direction: str, lower: float, upper: float, latest: float, expected: str
) -> None:
    assert assurance(0.9, lower, upper, direction, latest=latest) == expected


def test_assurance_after_a_shift_or_trend_says_the_process_changed() -> None:
    assert assurance(0.9, 0.92, 1.0, "higher", latest=0.95, changed=True) == stats.PROCESS_CHANGED
    assert assurance(None, 0.92, 1.0, "higher", changed=True) is None  # no standard, nothing to judge
    # limits 58%-100% from the baseline, then 7 weeks at 75%: a shift below the mean
    shifted = xmr_chart([*BASE, *[0.75] * 7])
    assert [rule for rule, _ in shifted.signals[-1]] == ["shift"]
    assert shifted.assurance(0.5) == "process_changed"
    falling = xmr_chart([*BASE, 0.95, 0.93, 0.91, 0.89, 0.87, 0.85, 0.83])
    assert "trend" in [rule for rule, _ in falling.signals[-1]]
    assert falling.assurance(0.5) == "process_changed"
    # one week outside the limits is not a changed process; below the 90% minimum, it is no pass either
    dropped = xmr_chart([0.95, 0.97] * 6 + [0.83])  # limits about 0.91 - 1.01
    assert dropped.lower[-1] > 0.9 and [rule for rule, _ in dropped.signals[-1]] == ["outside_limits"]
    assert dropped.assurance(0.9) == "hit_and_miss"
    assert xmr_chart([0.95, 0.97] * 6 + [0.96]).assurance(0.9) == "consistently_pass"


# --------------------------------------------------------------------------- kappa

SAS_TABLE = [[0, 4, 1], [0, 8, 0], [0, 1, 5]]  # statsmodels' SAS reference example

# Fleiss (1971): 30 patients, 6 psychiatrists, 5 diagnoses (as statsmodels' tests hold it)
FLEISS_1971 = [
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
    [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
    [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
    [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
    [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
]  # fmt: skip

# Wikipedia "Fleiss' kappa" worked example: 10 subjects, 14 raters, 5 categories (kappa 0.210)
WIKIPEDIA_TABLE = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]  # fmt: skip


def test_cohen_kappa_matches_the_sas_example() -> None:
    k = cohen_kappa(SAS_TABLE)
    assert (k.kappa, k.se, k.ci_low, k.ci_high) == pytest.approx((0.4842, 0.1380, 0.2137, 0.7547), abs=5e-5)
    assert k.se_null == pytest.approx(0.1484, abs=5e-5)
    assert k.subjects == 19


def test_cohen_kappa_classic_two_by_two() -> None:
    # 50 proposals read by two readers: 20 both yes, 15 both no, 5 + 10 disagreements -> kappa 0.4
    assert cohen_kappa([[20, 5], [10, 15]]).kappa == pytest.approx(0.4)


def test_cohen_kappa_needs_a_square_table() -> None:
    with pytest.raises(ValueError, match="square"):
        cohen_kappa([[1, 2, 3], [4, 5, 6]])


def test_fleiss_kappa_matches_fleiss_1971() -> None:
    table, _ = aggregate_raters(np.asarray(FLEISS_1971))
    k = fleiss_kappa(table)
    assert round(k.kappa, 3) == 0.430
    assert round(k.kappa / k.se_null, 1) == 17.7  # R irr::kappam.fleiss(diagnoses): z = 17.7
    assert k.subjects == 30
    assert k.ci_low < k.kappa < k.ci_high


def test_fleiss_kappa_matches_the_wikipedia_example() -> None:
    assert round(fleiss_kappa(WIKIPEDIA_TABLE).kappa, 3) == 0.210


def test_fleiss_kappa_interval_agrees_with_a_jackknife() -> None:
    table, _ = aggregate_raters(np.asarray(FLEISS_1971))
    k = fleiss_kappa(table)
    leave_one_out = np.array([fleiss_kappa(np.delete(table, i, axis=0)).kappa for i in range(len(table))])
    n = len(leave_one_out)
    jack_se = math.sqrt((n - 1) / n * float(((leave_one_out - leave_one_out.mean()) ** 2).sum()))
    assert k.se == pytest.approx(jack_se, rel=0.1)
    assert k.ci_high - k.ci_low == pytest.approx(2 * stats.Z95 * k.se)


def test_fleiss_kappa_needs_equal_raters_per_subject() -> None:
    with pytest.raises(ValueError, match="same number"):
        fleiss_kappa([[2, 1], [1, 1]])
