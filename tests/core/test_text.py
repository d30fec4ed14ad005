"""engine.core.text: slugs for file names, run times and short hashes as people read them, and text
cells made inert for spreadsheets."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.core.text import (
    FORMULA_STARTS,
    csv_block_writer,
    csv_row_writer,
    inert_cell,
    inert_refs,
    percent,
    percents,
    short,
    slug,
    stamp,
    typed_cell,
)


def test_slug_is_a_safe_file_name_part() -> None:
    assert slug("Sgt. Ann O'Neil") == "sgt-ann-o-neil"
    assert slug("Zoë Brontë") == "zoe-bronte"
    assert len(slug("x" * 100)) == 60
    assert slug("警察") == slug("警察").lower() and slug("警察").startswith("r-") and len(slug("警察")) == 10


def test_stamp_shows_utc_and_short_cuts_a_hash() -> None:
    moment = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert stamp(moment) == "2026-11-23 09:00:00Z"
    assert stamp(None) == ""
    assert short("0123456789abcdef") == "0123456789ab"
    assert short(None) == ""


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+44 1234", "'+44 1234"),
        ("-0.5", "'-0.5"),  # text that looks like a number is still text
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\uff1d1+1", "'\uff1d1+1"),  # the full-width =
        ("'=1", "''=1"),  # one more ', so it reads back as it was
        ("Response A", "Response A"),
        ("'tis", "'tis"),
        ("", ""),
    ],
)
def test_inert_cell_makes_formula_text_inert_and_typed_cell_gives_it_back(value: str, written: str) -> None:
    assert inert_cell(value) == written
    assert typed_cell(written) == value


@pytest.mark.parametrize("value", [-0.5, -3, 0, None, dt.date(2026, 11, 16)])
def test_inert_cell_leaves_numbers_and_other_values_alone(value: object) -> None:
    assert inert_cell(value) is value


@given(st.text())
def test_every_string_reads_back_exactly(value: str) -> None:
    assert typed_cell(inert_cell(value)) == value
    assert not inert_cell(value).startswith(FORMULA_STARTS)


def test_percent_is_whole_when_that_is_enough_and_rounds_half_up() -> None:
    assert percent(0.875) == "88%"
    assert percent(0.285) == "29%"  # as written, though the float is 0.28499999...
    assert percent(1 / 6) == "17%"
    assert percents([0.98, 0.71, 0.5]) == ["98%", "71%", "50%"]


def test_percents_shown_together_read_differently() -> None:
    # a place leader saw "Mean 98% / Lower limit 98%" for 0.9812 and 0.9768
    assert percents([0.9812, 0.9768, 0.995]) == ["98.1%", "97.7%", "99.5%"]
    assert percent(0.98, 0.975) == "98.0%"
    assert percent(0.975, 0.98) == "97.5%"
    assert percent(0.98, 0.98) == "98%"  # the same value reads the same


def test_percent_reads_100_or_0_only_when_exactly_so() -> None:
    assert percent(1.0) == "100%"
    assert percent(0.0) == "0%"
    assert percent(-0.0) == "0%"
    assert percent(0.9996) == "99.96%"
    assert percent(0.99995) == "99.995%"
    assert percent(0.0004) == "0.04%"
    assert percent(0.99999999) == "99.999%"
    assert percent(1e-9) == "0.001%"
    assert percents([1.0, 0.995]) == ["100.0%", "99.5%"]


def test_percent_of_what_is_not_a_number_is_no_data() -> None:
    assert percents([float("nan"), 0.5, float("inf")]) == ["no data", "50%", "no data"]


@given(st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=6))
def test_percents_never_show_a_value_as_an_edge_it_is_not(values: list[float]) -> None:
    for v, text in zip(values, percents(values), strict=True):
        assert (text in ("100%", "100.0%")) == (v == 1.0)
        assert (text in ("0%", "0.0%")) == (v == 0.0)


_CELL_CHARS = st.sampled_from(["a", "1", " ", ";", "'", "\r", "\n", '"', *FORMULA_STARTS])


@given(st.lists(st.text(_CELL_CHARS, max_size=5), max_size=5))
def test_refs_joined_in_one_cell_are_each_inert(refs: list[str]) -> None:
    """aggregates.csv's cases cell: the refs joined by ';', each as inert_cell writes a cell."""
    assert inert_refs(tuple(refs)) == ";".join(str(inert_cell(r)) for r in refs)


@given(
    st.lists(
        st.tuples(
            st.text(_CELL_CHARS, max_size=4), st.integers(-5, 5), st.one_of(st.none(), st.text(_CELL_CHARS))
        ),
        max_size=8,
    )
)
def test_a_block_of_rows_is_written_as_row_by_row(rows: list[tuple[object, ...]]) -> None:
    """csv_block_writer writes the same bytes as csv_row_writer, rows with a carriage return quoted."""
    by_row, by_block = io.StringIO(), io.StringIO()
    one = csv_row_writer(by_row)
    for row in rows:
        one(row)
    csv_block_writer(by_block)([list(column) for column in zip(*rows, strict=True)] if rows else [[], [], []])
    assert by_block.getvalue() == by_row.getvalue()
