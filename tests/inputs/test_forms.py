"""engine.inputs.forms: the bundled QA forms and their questions, and a broken form file reported whole
(file:line per problem).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.errors import FormError
from engine.core.models import CASE_TYPES, AnswerType, FieldSpec
from engine.inputs.forms import Form, load_form, load_forms

REPO = Path(__file__).resolve().parents[2]
FORMS_DIR = REPO / "qa_forms"


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
        f"{path}:{line}: 'object_recorded' must allow exactly yes, no (a fixed question: docs/submissions.md)"
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
