"""engine.inputs.canonical_questions: every bundled form keeps the fixed question ids of docs/submissions.md, and a form
that drops, renames or retypes one is told so.
"""

from __future__ import annotations

import dataclasses

import pytest

from engine.core.models import COMMON_COLUMNS, AnswerType
from engine.inputs.canonical_questions import CANONICAL_CASE_TYPES, CANONICAL_QUESTIONS, canonical_problems
from engine.inputs.forms import Form


@pytest.mark.parametrize("case_type", CANONICAL_CASE_TYPES)
def test_bundled_form_keeps_the_canonical_question_ids(forms: dict[str, Form], case_type: str) -> None:
    form = forms[case_type]
    assert set(CANONICAL_QUESTIONS[case_type]) <= set(form.question_ids)
    assert form.columns[: len(COMMON_COLUMNS)] == COMMON_COLUMNS
    for q in form.questions:
        assert q.help and q.text, q.id
        assert q.measure[0] in "MD", q.id


def test_a_form_that_keeps_every_canonical_question_has_no_problems(forms: dict[str, Form]) -> None:
    # the five first case types have fixed questions; the later bundled forms (missing from home...)
    # have none (docs/submissions.md)
    for case_type in CANONICAL_CASE_TYPES:
        assert canonical_problems(case_type, forms[case_type].questions, 7) == [], case_type


def test_a_missing_question_is_reported_at_the_questions_line_with_its_likely_new_name(
    forms: dict[str, Form],
) -> None:
    renamed = [
        dataclasses.replace(q, id="bwv_active") if q.id == "bwv_activated" else q
        for q in forms["stop_search"].questions
    ]
    assert canonical_problems("stop_search", renamed, 7) == [
        (
            7,
            "canonical question 'bwv_activated' of stop_search is missing (renamed to 'bwv_active'? "
            "canonical ids may not change)",
        )
    ]
    # ids are compared as written: an upper-case id is no likely new name
    shouted = [
        dataclasses.replace(q, id="BWV_ACTIVATED") if q.id == "bwv_activated" else q
        for q in forms["stop_search"].questions
    ]
    assert canonical_problems("stop_search", shouted, 7) == [
        (7, "canonical question 'bwv_activated' of stop_search is missing")
    ]


def test_a_canonical_question_keeps_its_type_values_and_range(forms: dict[str, Form]) -> None:
    da = forms["domestic_abuse"]
    count = da.question("dash_yes_count")
    risk = da.question("dash_risk")
    edits = {
        count.id: dataclasses.replace(count, maximum=30),
        risk.id: dataclasses.replace(risk, allowed=("low", "high")),
    }
    changed = [edits.get(q.id, q) for q in da.questions]
    assert canonical_problems("domestic_abuse", changed, 7) == [
        (
            risk.line,
            "'dash_risk' must allow exactly standard, medium, high (a fixed question: docs/submissions.md)",
        ),
        (count.line, "'dash_yes_count' must range 0-27 (a fixed question: docs/submissions.md)"),
    ]
    as_text = [
        dataclasses.replace(q, type=AnswerType.TEXT, allowed=None) if q is risk else q for q in da.questions
    ]
    assert canonical_problems("domestic_abuse", as_text, 7) == [
        (risk.line, "'dash_risk' must be a choice question (a fixed question: docs/submissions.md)")
    ]
