"""engine.inputs.row_schemas: the schema built from a form normalises and checks one row's answers
(closed answers, dates, whole numbers, text, conditions) and, for a whole row, the common columns.
"""

from __future__ import annotations

import datetime as dt

import pytest
from marshmallow import ValidationError

from engine.core.models import COMMON_COLUMNS
from engine.inputs.canonical_questions import CANONICAL_CASE_TYPES
from engine.inputs.forms import Form
from tests.factories import DEMO_PLACE_CODES, build_row


def _load_answers(form: Form, **answers: object) -> dict[str, object]:
    return form.schema().load(answers)


def _errors(form: Form, **answers: object) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as info:
        form.schema().load(answers)
    return info.value.messages  # type: ignore[return-value]


def _answers(case_type: str, **overrides: str) -> dict[str, str]:
    row = build_row(case_type, **overrides)
    return {k: v for k, v in row.items() if k not in COMMON_COLUMNS}


@pytest.mark.parametrize(
    ("question", "raw", "expected"),
    [
        ("grounds_recorded", "Yes", "yes"),
        ("grounds_recorded", "  NO  ", "no"),
        ("authorisation_recorded", "N/A", "na"),
        ("power", " S60", "s60"),
        (
            "notes",
            '  <b>bold</b> & =HYPERLINK("http://x","y") ',
            '  <b>bold</b> & =HYPERLINK("http://x","y") ',
        ),
        ("notes", "+44 7700 900123", "+44 7700 900123"),
        ("notes", "@mention -minus", "@mention -minus"),
        ("notes", "   ", None),
        ("grounds_reasonable", "", None),
    ],
)
def test_schema_normalises_one_answer(
    forms: dict[str, Form], question: str, raw: str, expected: object
) -> None:
    answers = _answers("stop_search")
    answers[question] = raw
    if question == "authorisation_recorded":
        answers["power"] = "pace_s1"
    if question == "power":
        answers["authorisation_recorded"] = "yes"
    if question == "grounds_reasonable":
        form = forms["stop_search"]
        assert _errors(form, **answers) == {"grounds_reasonable": ["an answer is required"]}
        return
    assert forms["stop_search"].schema().load(answers).get(question) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-16", "2026-11-16"),
        (" 2026-11-16 ", "2026-11-16"),
        (46342, "2026-11-16"),
        (46342.0, "2026-11-16"),
        ("46342", "2026-11-16"),
        (dt.datetime(2026, 11, 16, 0, 0), "2026-11-16"),
        (dt.date(2026, 11, 16), "2026-11-16"),
        ("2026-11-16 00:00:00", "2026-11-16"),
        ("", None),
    ],
)
def test_dates_from_text_excel_serials_and_datetimes(
    forms: dict[str, Form], raw: object, expected: object
) -> None:
    answers: dict[str, object] = dict(_answers("victim_care"))
    answers["support_referral_on"] = raw
    assert forms["victim_care"].schema().load(answers).get("support_referral_on") == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("16/11/2026", "'16/11/2026' is not a date (use YYYY-MM-DD)"),
        ("2026-02-30", "'2026-02-30' is not a real date"),
        ("0226-11-16", "0226-11-16 is outside 1900-2099: check the year"),
        (-5, "'-5' is not a date (use YYYY-MM-DD)"),
        (True, "'true' is not a date (use YYYY-MM-DD)"),
    ],
)
def test_bad_dates_say_what_to_write(forms: dict[str, Form], raw: object, message: str) -> None:
    answers: dict[str, object] = dict(_answers("victim_care"))
    answers["crime_recorded_on"] = raw
    assert _errors(forms["victim_care"], **answers) == {"crime_recorded_on": [message]}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("7", 7),
        (7, 7),
        (7.0, 7),
        (" 14 ", 14),
        ("27", 27),
        ("0", 0),
        ("8.0", 8),
        pytest.param("0" * 4400 + "9", 9, id="4400-zeros"),
    ],
)
def test_integers(forms: dict[str, Form], raw: object, expected: int) -> None:
    answers: dict[str, object] = dict(_answers("domestic_abuse"))
    answers["dash_yes_count"] = raw
    assert forms["domestic_abuse"].schema().load(answers)["dash_yes_count"] == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("28", "28 is above the maximum 27"),
        (-1, "-1 is below the minimum 0"),
        ("3.5", "'3.5' is not a whole number"),
        ("lots", "'lots' is not a whole number"),
        (True, "'true' is not a whole number"),
        # found by tests/fuzz: over 4,300 digits raised Python's ValueError (a traceback, nothing reported)
        pytest.param(
            "1" * 5000,
            f"'{'1' * 37}...' has 5,000 digits: a whole-number answer has at most 18",
            id="5000-digits",
        ),
        ("-" + "9" * 19, "'-9999999999999999999' has 19 digits: a whole-number answer has at most 18"),
        (1e300, f"'{str(int(1e300))[:37]}...' is too large: a whole-number answer has at most 18 digits"),
    ],
)
def test_bad_integers(forms: dict[str, Form], raw: object, message: str) -> None:
    answers: dict[str, object] = dict(_answers("domestic_abuse"))
    answers["dash_yes_count"] = raw
    assert _errors(forms["domestic_abuse"], **answers) == {"dash_yes_count": [message]}


def test_closed_answer_outside_the_allowed_set(forms: dict[str, Form]) -> None:
    answers = _answers("stop_search", grounds_recorded="Y", grounds_reasonable="no way")
    assert _errors(forms["stop_search"], **answers) == {
        "grounds_recorded": ["'Y' is not one of yes, no"],
        "grounds_reasonable": ["'no way' is not one of yes, partly, no"],
    }


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"power": "s60", "authorisation_recorded": ""}, "an answer is required when power is s60 or s47a"),
        ({"power": "s47a", "authorisation_recorded": "na"}, "must not be na when power is s60 or s47a"),
        (
            {"power": "pace_s1", "authorisation_recorded": "yes"},
            "must be na or blank unless power is s60 or s47a (power is pace_s1)",
        ),
    ],
)
def test_required_when_on_a_list_of_values(
    forms: dict[str, Form], overrides: dict[str, str], expected: str
) -> None:
    answers = _answers("stop_search", **overrides)
    assert _errors(forms["stop_search"], **answers) == {"authorisation_recorded": [expected]}


@pytest.mark.parametrize(
    ("strip_search", "authorised", "ok"),
    [
        ("yes", "yes", True),
        ("yes", "no", True),
        ("yes", "na", False),
        ("yes", "", False),
        ("no", "na", True),
        ("no", "", True),
        ("no", "yes", False),
        ("no", "no", False),
    ],
)
def test_strip_search_authorised_follows_strip_search(
    forms: dict[str, Form], strip_search: str, authorised: str, ok: bool
) -> None:
    answers = _answers("stop_search", strip_search=strip_search, strip_search_authorised=authorised)
    if ok:
        _load_answers(forms["stop_search"], **answers)
    else:
        assert list(_errors(forms["stop_search"], **answers)) == ["strip_search_authorised"]


def test_dependent_answer_is_not_blamed_when_its_condition_is_itself_wrong(forms: dict[str, Form]) -> None:
    answers = _answers("stop_search", strip_search="perhaps", strip_search_authorised="yes")
    assert _errors(forms["stop_search"], **answers) == {"strip_search": ["'perhaps' is not one of yes, no"]}


def test_condition_on_a_choice_question_blank_unless(forms: dict[str, Form]) -> None:
    answers = _answers("domestic_abuse", dash_completed="no", dash_risk="high", dash_yes_count="")
    assert _errors(forms["domestic_abuse"], **answers) == {
        "dash_risk": ["must be blank unless dash_completed is yes (dash_completed is no)"]
    }


def test_row_schema_checks_the_common_columns(forms: dict[str, Form]) -> None:
    schema = forms["stop_search"].row_schema(DEMO_PLACE_CODES, CANONICAL_CASE_TYPES)
    row = build_row("stop_search", place="blk", reviewer="  ", assessed_on="2026-11-01", case_ref="x" * 121)
    with pytest.raises(ValidationError) as info:
        schema.load(row)
    assert info.value.messages == {
        "reviewer": ["a value is required"],
        "assessed_on": ["2026-11-01 is before the case date 2026-11-16"],
        "case_ref": ["is 121 characters long; at most 120 are allowed"],
    }
    loaded = schema.load(build_row("stop_search", place=" blk ", case_type="Stop_Search"))
    assert (loaded["place"], loaded["case_type"]) == ("BLK", "stop_search")
    assert loaded["assessed_on"] == dt.date(2026, 12, 7)


def test_unknown_place_suggests_the_nearest_code(forms: dict[str, Form]) -> None:
    schema = forms["stop_search"].row_schema(DEMO_PLACE_CODES, CANONICAL_CASE_TYPES)
    with pytest.raises(ValidationError) as info:
        schema.load(build_row("stop_search", place="BLX"))
    assert info.value.messages == {"place": ["'BLX' is not a place of this force (did you mean 'BLK'?)"]}


@pytest.mark.parametrize("case_type", CANONICAL_CASE_TYPES)
def test_default_factory_row_passes_its_form(forms: dict[str, Form], case_type: str) -> None:
    forms[case_type].row_schema(DEMO_PLACE_CODES, CANONICAL_CASE_TYPES).load(build_row(case_type))
