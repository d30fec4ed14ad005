"""engine.core.text: slugs for file names, run times and short hashes as people read them, and text
cells made inert for spreadsheets."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.core.text import FORMULA_STARTS, inert_cell, short, slug, stamp, typed_cell


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
