"""QA form files: the bundled forms keep DOMAIN.md's contract, a broken form file is reported whole
(file:line per problem), and the schema built from a form normalises and checks one row's answers.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from marshmallow import ValidationError

from engine.core.errors import FormError
from engine.core.models import CASE_TYPES, COMMON_COLUMNS, AnswerType, FieldSpec
from engine.inputs.canonical_questions import CANONICAL_QUESTIONS
from engine.inputs.forms import Form, load_form, load_forms
from tests.factories import DEMO_PLACE_CODES, build_row

REPO = Path(__file__).resolve().parents[2]
FORMS_DIR = REPO / "qa_forms"


@pytest.fixture(scope="module")
def forms() -> dict[str, Form]:
    return load_forms(FORMS_DIR)


def test_every_case_type_has_a_form_with_its_measure(forms: dict[str, Form]) -> None:
    measures = {ct: f.measure for ct, f in forms.items()}
    assert measures == {
        "stop_search": "D11",
        "victim_care": "M8",
        "crime_file": "M5",
        "investigation": "D5",
        "domestic_abuse": "D7",
    }
    assert tuple(forms) == CASE_TYPES


@pytest.mark.parametrize("case_type", CASE_TYPES)
def test_bundled_form_keeps_the_canonical_question_ids(forms: dict[str, Form], case_type: str) -> None:
    form = forms[case_type]
    assert set(CANONICAL_QUESTIONS[case_type]) <= set(form.question_ids)
    assert form.columns[: len(COMMON_COLUMNS)] == COMMON_COLUMNS
    for q in form.questions:
        assert q.help and q.text, q.id
        assert q.measure[0] in "MD", q.id


def test_field_specs_give_types_and_allowed_values(forms: dict[str, Form]) -> None:
    specs = forms["stop_search"].field_specs()
    assert specs["power"] == FieldSpec(
        "power", AnswerType.CHOICE, ("pace_s1", "mda_s23", "s60", "s47a", "other")
    )
    assert specs["authorisation_recorded"].choices == ("yes", "no", "na")
    assert specs["notes"].type is AnswerType.TEXT
    da = forms["domestic_abuse"].field_specs()["dash_yes_count"]
    assert (da.type, da.minimum, da.maximum) == (AnswerType.INTEGER, 0, 27)
    assert forms["victim_care"].field_specs()["victim_updated_on"].type is AnswerType.DATE


def test_conditions_read_as_the_reviewer_needs_them(forms: dict[str, Form]) -> None:
    q = forms["stop_search"].question("authorisation_recorded")
    assert q.requirement_text() == "required when power is s60 or s47a, else na or blank"
    assert forms["domestic_abuse"].question("dash_yes_count").values_text() == "whole number 0-27"


# --------------------------------------------------------------------------- broken form files

STOP_SEARCH_TEXT = (FORMS_DIR / "stop_search.yaml").read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str, name: str = "stop_search.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _line(text: str, needle: str, occurrence: int = 1) -> int:
    lines = text.splitlines()
    hits = [i + 1 for i, line in enumerate(lines) if needle in line]
    return hits[occurrence - 1]


def _problems(path: Path) -> list[str]:
    with pytest.raises(FormError) as info:
        load_form(path)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("old", "new", "needle", "message"),
    [
        (
            "    type: choice\n",
            "    type: multiple\n",
            "type: multiple",
            "unknown answer type 'multiple' (known: judgement, choice, date, integer, text)",
        ),
        (
            "required_when: {strip_search: yes}",
            "required_when: {strip_searched: yes}",
            "strip_searched",
            "condition on unknown question 'strip_searched'",
        ),
        (
            "  - id: object_found\n",
            "  - id: object_recorded\n",
            "id: object_recorded",
            "duplicate question id 'object_recorded'",
        ),
        (
            "  - id: bwv_activated\n",
            "  - id: bwv_active\n",
            "questions:",
            "canonical question 'bwv_activated' of stop_search is missing (renamed to 'bwv_active'?",
        ),
        (
            "    answers: [yes, partly, no]\n    required: true\n    measure: D11\n\n  - id: object_recorded",
            "    answers: [yes, maybe, no]\n    required: true\n    measure: D11\n\n  - id: object_recorded",
            "answers: [yes, maybe, no]",
            "'maybe' is not a judgement answer (allowed: yes, no, partly, na)",
        ),
        (
            "    required: true\n    measure: D11\n\n  - id: grounds_recorded",
            "    requried: true\n    measure: D11\n\n  - id: grounds_recorded",
            "requried",
            "unknown key 'requried' (did you mean 'required'?)",
        ),
        (
            "required_when: {power: [s60, s47a]}",
            "required_when: {power: [s60, s47]}",
            "s47]",
            "'power' cannot be ['s47']",
        ),
    ],
)
def test_a_broken_form_names_file_line_and_problem(
    tmp_path: Path, old: str, new: str, needle: str, message: str
) -> None:
    assert old in STOP_SEARCH_TEXT
    text = STOP_SEARCH_TEXT.replace(old, new, 1)
    path = _write(tmp_path, text)
    occurrence = 2 if needle == "id: object_recorded" else 1
    expected = f"{path}:{_line(text, needle, occurrence)}: {message}"
    assert any(p.startswith(expected) for p in _problems(path)), (expected, _problems(path))


def test_every_problem_of_a_form_file_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        STOP_SEARCH_TEXT.replace("    type: choice\n", "    type: multiple\n", 1)
        .replace("required_when: {strip_search: yes}", "required_when: {strip_searched: yes}")
        .replace("  - id: object_found\n", "  - id: object_recorded\n")
    )
    problems = _problems(_write(tmp_path, text))
    assert len(problems) >= 3
    assert any("unknown answer type" in p for p in problems)
    assert any("strip_searched" in p for p in problems)
    assert any("duplicate question id" in p for p in problems)


def test_a_form_cannot_change_the_allowed_answers_of_a_canonical_question(tmp_path: Path) -> None:
    old = "record item.\n    type: judgement\n    answers: [yes, no]\n"
    assert STOP_SEARCH_TEXT.count(old) == 2  # object_recorded, officer_identity_recorded
    text = STOP_SEARCH_TEXT.replace(old, old.replace("[yes, no]", "[yes, no, na]"), 1)
    path = _write(tmp_path, text)
    line = _line(text, "id: object_recorded")
    assert _problems(path) == [
        f"{path}:{line}: 'object_recorded' must allow exactly yes, no (DOMAIN.md Part A)"
    ]


def test_a_form_may_add_questions_and_conditions_on_them(tmp_path: Path) -> None:
    extra = (
        "  - id: drugs_found\n    text: Were drugs found?\n    help: local question\n    type: judgement\n"
        "    answers: [yes, no, na]\n    required_when: {power: mda_s23}\n    measure: D11\n"
    )
    form = load_form(_write(tmp_path, STOP_SEARCH_TEXT + "\n" + extra))
    assert form.question("drugs_found").required_when == (("power", ("mda_s23",)),)


def test_condition_on_a_later_question_is_rejected(tmp_path: Path) -> None:
    text = STOP_SEARCH_TEXT.replace(
        "required_when: {power: [s60, s47a]}", "required_when: {supervisor_reviewed: yes}"
    )
    problems = _problems(_write(tmp_path, text))
    assert any("conditions may only use earlier questions" in p for p in problems)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    text = STOP_SEARCH_TEXT.replace("title: Stop and search record review", "title: [unclosed")
    path = _write(tmp_path, text)
    problems = _problems(path)
    assert len(problems) == 1 and problems[0].startswith(f"{path}:") and "invalid YAML" in problems[0]


def test_form_name_must_match_its_file(tmp_path: Path) -> None:
    problems = _problems(_write(tmp_path, STOP_SEARCH_TEXT, name="victim_care.yaml"))
    assert any("form 'stop_search' must be in a file named stop_search.yaml" in p for p in problems)


def test_load_forms_requires_a_form_for_every_case_type(tmp_path: Path) -> None:
    _write(tmp_path, STOP_SEARCH_TEXT)
    with pytest.raises(FormError) as info:
        load_forms(tmp_path)
    missing = [str(p) for p in info.value.problems]
    assert len(missing) == 4
    assert f"{tmp_path / 'victim_care.yaml'}: no QA form for case type victim_care" in missing


def test_load_forms_on_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FormError, match="is not a folder of QA form files"):
        load_forms(tmp_path / "nowhere")


def test_unreadable_form_is_a_form_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "stop_search.yaml"
    path.write_bytes(b"form: stop_search\ntitle: \xff\xfe\n")
    with pytest.raises(FormError, match="not UTF-8"):
        load_form(path)


# --------------------------------------------------------------------------- the schema of a row


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
    ("raw", "expected"), [("7", 7), (7, 7), (7.0, 7), (" 14 ", 14), ("27", 27), ("0", 0), ("8.0", 8)]
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
    schema = forms["stop_search"].row_schema(DEMO_PLACE_CODES, CASE_TYPES)
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
    schema = forms["stop_search"].row_schema(DEMO_PLACE_CODES, CASE_TYPES)
    with pytest.raises(ValidationError) as info:
        schema.load(build_row("stop_search", place="BLX"))
    assert info.value.messages == {"place": ["'BLX' is not a place of this force (did you mean 'BLK'?)"]}


@pytest.mark.parametrize("case_type", CASE_TYPES)
def test_default_factory_row_passes_its_form(forms: dict[str, Form], case_type: str) -> None:
    forms[case_type].row_schema(DEMO_PLACE_CODES, CASE_TYPES).load(build_row(case_type))
