"""engine.inputs.cells: one cell as the reviewer typed it: blank or not, as text, as a date."""

from __future__ import annotations

import datetime as dt

import pytest
from marshmallow import ValidationError

from engine.inputs.cells import as_text, is_blank, shown, to_date


@pytest.mark.parametrize(
    ("value", "blank"), [(None, True), ("", True), (" \t", True), ("x", False), (0, False)]
)
def test_blank_is_nothing_or_only_whitespace(value: object, blank: bool) -> None:
    assert is_blank(value) is blank


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("  kept as typed ", "  kept as typed "),
        (None, ""),
        (True, "true"),
        (7.0, "7"),
        (7.5, "7.5"),
        (dt.datetime(2026, 11, 16), "2026-11-16"),
        (dt.datetime(2026, 11, 16, 9, 30), "2026-11-16T09:30:00"),
        (dt.date(2026, 11, 16), "2026-11-16"),
    ],
)
def test_a_cell_as_the_text_a_reviewer_typed(value: object, text: str) -> None:
    assert as_text(value) == text


def test_long_values_are_cut_for_messages() -> None:
    assert shown("x" * 40) == "x" * 40
    assert shown("x" * 41) == "x" * 37 + "..."


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("2026-11-16", dt.date(2026, 11, 16)),
        ("2026-11-16T00:00:00", dt.date(2026, 11, 16)),
        (46342, dt.date(2026, 11, 16)),
        ("46342", dt.date(2026, 11, 16)),
        (dt.datetime(2026, 11, 16, 12, 0), dt.date(2026, 11, 16)),
        ("  ", None),
    ],
)
def test_dates_from_iso_text_excel_serials_and_datetimes(value: object, day: dt.date | None) -> None:
    assert to_date(value) == day


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("16/11/2026", "'16/11/2026' is not a date (use YYYY-MM-DD)"),
        ("2026-02-30", "'2026-02-30' is not a real date"),
        ("2226-11-16", "2226-11-16 is outside 1900-2099: check the year"),
        (0, "'0' is not a date (use YYYY-MM-DD)"),
    ],
)
def test_a_bad_date_says_what_to_write(value: object, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        to_date(value)
    assert info.value.messages == [message]
