"""engine.analysis.figure_stats: every interval against statsmodels' independent implementation (or
published values), and the p- and u-charts against their textbook limits and the Making Data Count
rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.rates import confint_poisson
from statsmodels.stats.weightstats import DescrStatsW

from engine.analysis.figure_stats import (
    attribute_chart,
    beyond,
    poisson_interval,
    rate_interval,
    survey_interval,
    weighted_mean_interval,
    weighted_median_interval,
)
from engine.analysis.stats import CONCERN, IMPROVEMENT


@pytest.mark.parametrize(
    ("count", "low", "high"),
    [
        # Garwood (1936); the table in Ulm (1990) Am J Epidemiol 131:373 and every epidemiology text
        (0, 0.0, 3.689),
        (1, 0.0253, 5.572),
        (5, 1.623, 11.668),
        (10, 4.795, 18.390),
        (100, 81.36, 121.63),
    ],
)
def test_poisson_interval_matches_published_garwood_values(count: int, low: float, high: float) -> None:
    assert poisson_interval(count) == pytest.approx((low, high), abs=5e-3)


@given(st.integers(0, 5000))
@settings(max_examples=60, deadline=None)
def test_poisson_interval_equals_statsmodels_exact(count: int) -> None:
    expected = confint_poisson(count, 1, method="exact-c")
    assert poisson_interval(count) == pytest.approx(
        (float(expected[0]), float(expected[1])), rel=1e-9, abs=1e-12
    )


def test_a_rate_is_the_count_interval_scaled_per_exposure() -> None:
    # 12 complaints in a population of 48,000: 0.25 per 1,000, Garwood scaled
    rate, low, high = rate_interval(12, 48_000, 1000)
    lo, hi = confint_poisson(12, 48_000, method="exact-c")
    assert (rate, low, high) == pytest.approx((0.25, float(lo) * 1000, float(hi) * 1000))
    # no exposure: the count itself; no exposure to divide by: no data
    assert rate_interval(3, None, None)[0] == 3
    assert all(math.isnan(x) for x in rate_interval(3, 0, 1000))


@pytest.mark.parametrize(
    ("k", "n", "deff"), [(62, 100, 1.0), (62, 100, 2.0), (310.4, 512, 1.7), (0, 40, 1.5)]
)
def test_survey_interval_is_wilson_on_the_effective_sample(k: float, n: float, deff: float) -> None:
    expected = proportion_confint(k / deff, n / deff, method="wilson")
    assert survey_interval(k, n, deff) == pytest.approx(expected, abs=1e-9)


def test_a_design_effect_widens_the_survey_interval() -> None:
    plain = survey_interval(62, 100)
    wide = survey_interval(62, 100, 2.0)
    assert wide[0] < plain[0] and wide[1] > plain[1]
    assert wide == pytest.approx((0.4815, 0.7414), abs=5e-5)


@given(st.lists(st.tuples(st.floats(0, 500, allow_nan=False), st.integers(1, 40)), min_size=2, max_size=30))
@settings(max_examples=80, deadline=None)
def test_mean_and_median_of_a_histogram_equal_statsmodels_and_numpy(bins: list[tuple[float, int]]) -> None:
    values = [v for v, _ in bins]
    counts = [c for _, c in bins]
    mean, low, high, _ = weighted_mean_interval(values, counts)
    described = DescrStatsW(np.asarray(values), weights=np.asarray(counts, dtype=float))
    assert mean == pytest.approx(described.mean, rel=1e-9, abs=1e-9)
    if described.std > 1e-9:
        t_low, t_high = described.tconfint_mean()
        assert (low, high) == pytest.approx((t_low, t_high), rel=1e-7, abs=1e-7)
    written_out = np.repeat(values, counts)
    assert weighted_median_interval(values, counts)[0] == pytest.approx(float(np.median(written_out)))


def test_the_median_interval_is_between_order_statistics() -> None:
    # n = 10: the 95% interval runs from the 2nd to the 9th value (Conover, Table A3: coverage 97.9%)
    values = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]
    median, low, high = weighted_median_interval(values, [1] * 10)
    ordered = sorted(values)
    assert (median, low, high) == (3.5, ordered[1], ordered[8])
    # n = 5 is too few for a 95% interval; n = 6 gives the smallest and largest (coverage 96.9%)
    assert all(math.isnan(x) for x in weighted_median_interval([1, 2, 3, 4, 5], [1] * 5)[1:])
    assert weighted_median_interval([1, 2, 3, 4, 5, 6], [1] * 6)[1:] == (1, 6)
    # a histogram is the same as its values written out
    assert weighted_median_interval([10, 20], [21, 14]) == weighted_median_interval(
        [10] * 21 + [20] * 14, [1] * 35
    )


def test_a_mean_of_one_value_has_no_interval() -> None:
    mean, low, high, _ = weighted_mean_interval([12.0], [1])
    assert mean == 12.0 and math.isnan(low) and math.isnan(high)


def test_beyond_needs_the_whole_interval_past_the_standard() -> None:
    assert beyond(0.80, 0.89, 0.9, "minimum")
    assert not beyond(0.80, 0.91, 0.9, "minimum")
    assert beyond(16.1, 19.0, 15.0, "maximum")
    assert not beyond(14.9, 19.0, 15.0, "maximum")
    assert not beyond(math.nan, math.nan, 15.0, "maximum")


def test_p_chart_limits_are_the_textbook_ones() -> None:
    # Montgomery, Introduction to Statistical Quality Control, p-chart with variable sample size:
    # centre = sum k / sum n over the baseline; limits centre +/- 3 sqrt(centre (1 - centre) / n_i)
    ks = [12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6]
    ns = [100, 80, 80, 100, 110, 110, 100, 100, 90, 90, 110, 120]
    chart = attribute_chart(ks, ns, kind="p", direction="lower", prime=False)
    centre = sum(ks) / sum(ns)
    for i, n in enumerate(ns):
        sigma = math.sqrt(centre * (1 - centre) / n)
        assert chart.mean[i] == pytest.approx(centre)
        assert chart.upper[i] == pytest.approx(centre + 3 * sigma)
        assert chart.lower[i] == pytest.approx(max(centre - 3 * sigma, 0.0))
        assert chart.values[i] == pytest.approx(ks[i] / n)


def test_u_chart_limits_scale_per_exposure() -> None:
    counts = [4, 6, 5, 3, 7, 5, 4, 6, 5, 5, 4, 6]
    exposure = [20_000] * 12
    chart = attribute_chart(counts, exposure, kind="u", direction="lower", scale=1000, prime=False)
    u = sum(counts) / sum(exposure)
    assert chart.mean[0] == pytest.approx(u * 1000)
    assert chart.upper[0] == pytest.approx((u + 3 * math.sqrt(u / 20_000)) * 1000)
    assert chart.lower[0] == pytest.approx(max(u - 3 * math.sqrt(u / 20_000), 0.0) * 1000)


def test_attribute_chart_flags_a_fall_below_the_limits_as_concern_and_a_rise_as_improvement() -> None:
    ks = [950] * 12 + [880]
    ns = [1000] * 13
    chart = attribute_chart(ks, ns, kind="p", direction="higher")
    assert chart.point_type[-1] == CONCERN
    assert chart.concern_rules(12) == ("outside_limits",)
    up = attribute_chart([950] * 12 + [990], ns, kind="p", direction="higher")
    assert up.point_type[-1] == IMPROVEMENT
    # a gap (no size) is skipped, as a missing week on an XmR chart
    gap = attribute_chart([950] * 12 + [None, 880], [1000] * 12 + [None, 1000], kind="p", direction="higher")
    assert gap.values[12] is None and gap.point_type[-1] == CONCERN


def test_attribute_chart_finds_a_shift_of_seven() -> None:
    ks = [500, 520, 480, 510, 490, 505, 495, 515, 485, 500, 510, 490] + [470] * 7
    chart = attribute_chart(ks, [1000] * len(ks), kind="p", direction="higher")
    assert "shift" in chart.concern_rules(len(ks) - 1)


def test_laney_prime_widens_the_limits_by_the_variation_between_points() -> None:
    # a month's attendance over ~4,000 rostered days varies by more than binomial sampling: a plain
    # p-chart's limits (+/- 0.9 points) would flag most months; p' scales sigma by sigma_z
    ns = [4000] * 12
    ks = [3840, 3790, 3870, 3815, 3860, 3800, 3850, 3780, 3875, 3825, 3805, 3855]
    plain = attribute_chart(ks, ns, kind="p", direction="higher", prime=False)
    prime = attribute_chart(ks, ns, kind="p", direction="higher")
    centre = sum(ks) / sum(ns)
    sigma = math.sqrt(centre * (1 - centre) / 4000)
    z = [(k / 4000 - centre) / sigma for k in ks]
    sigma_z = sum(abs(b - a) for a, b in zip(z, z[1:], strict=False)) / 11 / 1.128
    assert prime.upper[0] == pytest.approx(centre + 3 * sigma * sigma_z)
    assert sigma_z > 1.5
    assert sum(t != "common_cause" for t in plain.point_type) > sum(
        t != "common_cause" for t in prime.point_type
    )
    assert all(t == "common_cause" for t in prime.point_type)
