"""engine.inputs.forms: the bundled QA forms and their questions, and a broken form file reported whole
(file:line per problem).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.errors import FormError
from engine.core.models import AnswerType, FieldSpec
from engine.inputs.canonical_questions import CANONICAL_CASE_TYPES
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
        "missing_from_home": "D7",
        "child_sexual_exploitation": "D7",
        "hate_crime": "D7",
        "problem_solving": "D10",
        "dvpn_dvds": "M6",
        "vulnerable_caller": "M7",
        "complaint_handling": "D12",
        "high_impact_investigation": "D6",
    }
    assert tuple(forms) == tuple(sorted(forms))  # by id, as the forms folder lists them
    assert set(CANONICAL_CASE_TYPES) <= set(forms)


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


def test_the_case_types_are_the_forms_in_the_folder(tmp_path: Path) -> None:
    _write(tmp_path, STOP_SEARCH_TEXT)
    own = _own_form("litter_patrol")
    _write(tmp_path, own, name="litter_patrol.yaml")
    forms = load_forms(tmp_path)  # a force may leave bundled types out and add its own
    assert list(forms) == ["litter_patrol", "stop_search"]
    assert forms["litter_patrol"].question_ids == ("bins_emptied",)


def _own_form(case_type: str) -> str:
    return (
        f"form: {case_type}\ntitle: Own form\nversion: 1.0.0\nmeasure: D10\nquestions:\n"
        "  - id: bins_emptied\n    text: Emptied?\n    help: h\n    type: judgement\n    answers: [yes, no]\n"
    )


@pytest.mark.parametrize(
    ("case_type", "message"),
    [
        ("Litter-Patrol", "case type 'Litter-Patrol' must be lower_snake_case, like problem_solving"),
        ("x" * 41, f"case type '{'x' * 41}' is 41 characters long; at most 40 are allowed"),
    ],
)
def test_a_case_type_must_be_an_id_that_fits_the_store(tmp_path: Path, case_type: str, message: str) -> None:
    path = _write(tmp_path, _own_form(case_type), name=f"{case_type}.yaml")
    assert _problems(path) == [f"{path}:1: {message}"]


def test_a_bundled_case_type_in_a_force_folder_keeps_its_canonical_questions(tmp_path: Path) -> None:
    _write(tmp_path, STOP_SEARCH_TEXT.replace("  - id: bwv_activated\n", "  - id: bwv_active\n"))
    _write(tmp_path, _own_form("litter_patrol"), name="litter_patrol.yaml")
    with pytest.raises(FormError) as info:
        load_forms(tmp_path)
    assert [p.message for p in info.value.problems] == [
        "canonical question 'bwv_activated' of stop_search is missing "
        "(renamed to 'bwv_active'? canonical ids may not change)"
    ]


def test_load_forms_on_an_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(FormError, match="holds no QA form files"):
        load_forms(tmp_path)


def test_load_forms_on_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FormError, match="is not a folder of QA form files"):
        load_forms(tmp_path / "nowhere")


def test_unreadable_form_is_a_form_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "stop_search.yaml"
    path.write_bytes(b"form: stop_search\ntitle: \xff\xfe\n")
    with pytest.raises(FormError, match="not UTF-8"):
        load_form(path)
