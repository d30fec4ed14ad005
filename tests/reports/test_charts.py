"""engine.reports.charts: the SPC chart's value axis (range, ticks) and line labels a place leader
reads, as pure functions and as drawn."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from reportlab.graphics.shapes import Circle, Drawing, Polygon, String

from engine.core.models import SeriesPoint, SpcChart
from engine.reports.charts import REACH, line_texts, rate_chart, spc_chart, value_axis, value_range
from tests.reports.briefing_cases import place_exceptions, seconds_chart


@given(
    st.floats(min_value=0, max_value=0.995),
    st.floats(min_value=0.001, max_value=1),
)
def test_rate_axis_ticks_never_repeat_and_cover_the_range(lo: float, width: float) -> None:
    hi = min(lo + width, 1.0)
    axis = value_axis(lo, hi, rate=True)
    assert len(set(axis.labels)) == len(axis.labels) >= 2
    assert axis.lo <= lo + 1e-9 and axis.hi >= hi - 1e-9
    assert 0 <= axis.lo and axis.hi <= 1
    assert list(axis.ticks) == sorted(axis.ticks)


@given(st.floats(min_value=-1e6, max_value=1e6), st.floats(min_value=1e-3, max_value=1e6))
def test_number_axis_ticks_never_repeat(lo: float, width: float) -> None:
    axis = value_axis(lo, lo + width, rate=False)
    assert len(set(axis.labels)) == len(axis.labels) >= 2
    slack = 1e-6 * width  # a value within a millionth of the span of a tick counts as on it
    assert axis.lo <= lo + slack and axis.hi >= lo + width - slack


def test_a_narrow_rate_axis_gets_the_decimals_it_needs() -> None:
    # the place leader saw "98%, 98%, 97%": steps of a quarter point shown without decimals
    axis = value_axis(0.9747, 0.9981, rate=True)
    assert axis.labels == ("97.0%", "97.5%", "98.0%", "98.5%", "99.0%", "99.5%", "100.0%")
    assert value_axis(0.8, 1.0, rate=True).labels == ("80%", "85%", "90%", "95%", "100%")


def test_a_high_series_is_not_squashed_by_a_far_limit() -> None:
    # a series in 95-100% with a lower limit of 40% filled only the top few % of the frame
    lo, hi = value_range([0.95, 0.97, 1.0, 0.98], [0.40, 1.0], rate=True)
    assert 0.9 < lo < 0.95 and hi == 1.0


def test_a_standard_within_reach_is_shown_and_one_too_far_is_not() -> None:
    series = [0.96, 0.97, 0.99, 0.98]
    lo, _ = value_range(series, [0.90], rate=True)
    assert lo < 0.90
    lo, _ = value_range(series, [0.50], rate=True)
    assert lo > 0.90


def test_a_steady_series_is_not_blown_up_into_swings() -> None:
    lo, hi = value_range([0.981, 0.982, 0.981], [], rate=True)
    assert hi - lo >= 0.02
    lo, hi = value_range([0.999, 1.0], [], rate=True)
    assert hi == 1.0 and hi - lo >= 0.02


def test_line_labels_read_differently() -> None:
    assert line_texts([0.9931, 0.9843, 0.9752], rate=True) == ["99.3%", "98.4%", "97.5%"]
    assert line_texts([30.9, 25.1, 36.7], rate=False) == ["30.9", "25.1", "36.7"]
    assert line_texts([31.0, 25.0], rate=False) == ["31", "25"]
    assert line_texts([30.94, 30.9], rate=False) == ["30.94", "30.90"]


# --- as drawn ------------------------------------------------------------------------------------


def high_series_chart() -> SpcChart:
    """Weekly rates in 96-100% whose limits, from a noisy baseline, reach down to 35%; the standard,
    95%, lies close below."""
    values = [0.99, 0.97, 1.0, 0.98, 0.995, 0.97, 0.985, 0.99, 0.975, 0.98, 0.99, 1.0, 0.97, 0.96]
    points = tuple(SeriesPoint(f"2026-W{34 + i:02d}", v, 30, flagged=i >= 12) for i, v in enumerate(values))
    return SpcChart(points, 0.9838, 0.35, 1.2, 12, ("outside_limits",), "hit_and_miss", "higher")


def drawn(d: Drawing, kind: type) -> list:
    return [s for s in d.contents if isinstance(s, kind)]


@pytest.fixture(scope="module")
def high() -> Drawing:
    e = replace(place_exceptions()[2], standard=0.95, chart=high_series_chart())
    return spc_chart(e, e.chart)


def test_drawn_axis_labels_are_unique_and_the_series_fills_the_frame(high: Drawing) -> None:
    ticks = [s.text for s in drawn(high, String) if s.textAnchor == "end"]
    assert len(ticks) == len(set(ticks)) >= 3
    ys = [c.cy for c in drawn(high, Circle)]
    frame = max(r.height for r in drawn(high, type(high.contents[0])) if hasattr(r, "height"))
    assert (max(ys) - min(ys)) >= frame / REACH


def test_drawn_far_limit_is_named_at_the_edge_with_an_arrow(high: Drawing) -> None:
    texts = [s.text for s in drawn(high, String)]
    assert "Lower limit 35%" in texts  # off the chart, below
    assert "Standard 95%" in texts and "Mean 98%" in texts and "Upper limit 100%" in texts
    assert len(drawn(high, Polygon)) == 1


def test_drawn_line_labels_do_not_collide(high: Drawing) -> None:
    right = max(c.cx for c in drawn(high, Circle))
    labels = sorted(s.y for s in drawn(high, String) if s.x > right)  # right of the plot
    assert len(labels) == 4
    assert all(b - a >= 8.9 for a, b in zip(labels, labels[1:], strict=False))


def test_a_seconds_chart_keeps_its_decimals() -> None:
    e = replace(place_exceptions()[-1], chart=seconds_chart())
    texts = [s.text for s in drawn(spc_chart(e, e.chart), String)]
    assert {"Mean 30.9", "Upper limit 36.7", "Lower limit 25.1"} <= set(texts)


def test_rate_chart_does_not_show_a_rate_as_its_standard() -> None:
    e = replace(place_exceptions()[0], n=1000, passed=897, rate=0.897, ci_low=0.877, ci_high=0.914)
    texts = [s.text for s in drawn(rate_chart(e), String)]
    assert "89.7% (95% interval 87.7%-91.4%)" in texts and "Standard 90.0%" in texts


def test_drawn_mean_and_limits_close_together_read_differently() -> None:
    # "Mean 98% / Lower limit 98%": a steady high series whose limits lie within a point of its mean
    chart = replace(high_series_chart(), mean=0.9843, lower_limit=0.9752, upper_limit=0.9931)
    values = [0.984, 0.982, 0.99, 0.978, 0.986, 0.98, 0.983, 0.988, 0.977, 0.985, 0.99, 0.981, 0.97, 0.972]
    points = tuple(replace(p, value=v) for p, v in zip(chart.points, values, strict=True))
    e = replace(place_exceptions()[2], standard=None, chart=replace(chart, points=points))
    texts = [s.text for s in drawn(spc_chart(e, e.chart), String)]
    assert {"Mean 98.4%", "Lower limit 97.5%", "Upper limit 99.3%"} <= set(texts)
