"""The condition language: every operator and function, blanks, negation, working days, and the errors.

One table of valid conditions (source, case, truth, sentence) and one of invalid ones with their exact
messages. Each valid row is also checked through the lowered atoms the rule engine receives.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.core.errors import ExpressionError, Location
from engine.core.models import AnswerType, FieldSpec
from engine.rules import expressions
from engine.rules.expressions import (
    FUNCTIONS,
    OPERATORS,
    Projection,
    compile_condition,
    evaluate_lowered,
    sources,
    working_days_between,
)

J, C, D, N, T = AnswerType.JUDGEMENT, AnswerType.CHOICE, AnswerType.DATE, AnswerType.INTEGER, AnswerType.TEXT

FORM = {
    s.id: s
    for s in (
        FieldSpec("grounds_recorded", J, ("yes", "no")),
        FieldSpec("authorisation_recorded", J),
        FieldSpec("supervisor_reviewed", J),
        FieldSpec("children_present", J),
        FieldSpec("enhanced_rights_eligible", J),
        FieldSpec("enhanced_rights_identified", J),
        FieldSpec("power", C, ("pace_s1", "mda_s23", "s60", "s47a", "other")),
        FieldSpec("dash_risk", C, ("standard", "medium", "high")),
        FieldSpec("dash_yes_count", N, minimum=0, maximum=27),
        FieldSpec("crime_recorded_on", D),
        FieldSpec("support_referral_on", D),
        FieldSpec("suspect_event_on", D),
        FieldSpec("victim_updated_on", D),
        FieldSpec("charged_on", D),
        FieldSpec("file_submitted_on", D),
        FieldSpec("notes", T),
    )
}
SETTINGS: dict[str, int | str] = {
    "support_referral_working_days": 2,
    "marac_yes_threshold": 14,
    "marac_risk": "high",
}
WHERE = Location("rulesets/priority3/victims.yaml", 12)

UPDATE = (
    "victim_updated_on <= working_days_after(suspect_event_on, 1 if enhanced_rights_eligible == 'yes' else 5)"
)
UPDATE_TEXT = (
    "victim updated within 1 working day of suspect event (if enhanced rights eligible is yes), "
    "otherwise within 5 working days"
)
REFERRAL = "working_days_between(crime_recorded_on, support_referral_on) <= support_referral_working_days"

VALID: list[tuple[str, dict[str, Any], bool, str]] = [
    # == and != on answers; a blank answer makes every comparison false
    ("grounds_recorded == 'yes'", {"grounds_recorded": "yes"}, True, "grounds were recorded"),
    ("grounds_recorded == 'yes'", {"grounds_recorded": "no"}, False, "grounds were recorded"),
    ("grounds_recorded == 'yes'", {}, False, "grounds were recorded"),
    ("grounds_recorded == 'yes'", {"grounds_recorded": None}, False, "grounds were recorded"),
    ("grounds_recorded != 'yes'", {"grounds_recorded": "no"}, True, "grounds recorded is not yes"),
    ("grounds_recorded != 'yes'", {}, False, "grounds recorded is not yes"),
    ("authorisation_recorded == 'partly'", {"authorisation_recorded": "partly"}, True, "authorisation was partly recorded"),
    ("supervisor_reviewed == 'no'", {"supervisor_reviewed": "no"}, True, "supervisor had not reviewed"),
    ("children_present == 'yes'", {"children_present": "yes"}, True, "children were present"),
    # not: classical negation, so it holds for a blank answer
    ("not grounds_recorded == 'yes'", {}, True, "not (grounds were recorded)"),
    ("not grounds_recorded == 'yes'", {"grounds_recorded": "yes"}, False, "not (grounds were recorded)"),
    # in / not in
    ("power in ('s60', 's47a')", {"power": "s47a"}, True, "power is s60 or s47a"),
    ("power in ('s60', 's47a')", {"power": "other"}, False, "power is s60 or s47a"),
    ("power not in ('s60', 's47a')", {"power": "pace_s1"}, True, "power is neither s60 nor s47a"),
    ("power not in ('s60', 's47a')", {}, False, "power is neither s60 nor s47a"),
    ("dash_yes_count in (0, 1)", {"dash_yes_count": 1}, True, "DASH yes count is 0 or 1"),
    # ordering on numbers, with a setting
    ("dash_yes_count >= marac_yes_threshold", {"dash_yes_count": 14}, True, "DASH yes count is at least 14"),
    ("dash_yes_count >= marac_yes_threshold", {"dash_yes_count": 13}, False, "DASH yes count is at least 14"),
    ("dash_yes_count < 14", {"dash_yes_count": 13}, True, "DASH yes count is less than 14"),
    ("dash_yes_count <= 3", {"dash_yes_count": 4}, False, "DASH yes count is at most 3"),
    ("dash_yes_count > 3", {}, False, "DASH yes count is more than 3"),
    ("dash_yes_count > 3", {"dash_yes_count": 0}, False, "DASH yes count is more than 3"),
    # and / or, with a text setting
    (
        "dash_risk == marac_risk or dash_yes_count >= marac_yes_threshold",
        {"dash_risk": "medium", "dash_yes_count": 20},
        True,
        "DASH risk is high or DASH yes count is at least 14",
    ),
    (
        "power in ('s60', 's47a') and authorisation_recorded != 'yes'",
        {"power": "s60", "authorisation_recorded": "no"},
        True,
        "power is s60 or s47a, and authorisation recorded is not yes",
    ),
    (
        "(power == 's60' or power == 's47a') and not answered(authorisation_recorded)",
        {"power": "s60", "authorisation_recorded": "na"},
        True,
        "(power is s60 or power is s47a) and authorisation recorded was not answered",
    ),
    # blank() and answered(); '' is an answer, only missing or None is blank
    ("blank(notes)", {}, True, "notes was blank"),
    ("blank(notes)", {"notes": ""}, False, "notes was blank"),
    ("not blank(notes)", {"notes": "seen"}, True, "notes was not blank"),
    ("answered(authorisation_recorded)", {"authorisation_recorded": "na"}, False, "authorisation recorded was answered"),
    ("answered(authorisation_recorded)", {"authorisation_recorded": "no"}, True, "authorisation recorded was answered"),
    ("answered(victim_updated_on)", {"victim_updated_on": "2026-01-05"}, True, "victim updated has a date"),
    ("blank(victim_updated_on)", {}, True, "victim updated has no date"),
    # working days: Christmas Day (Fri), a weekend and Boxing Day observed (Mon 28th) are not working days
    (REFERRAL, {"crime_recorded_on": "2026-12-24", "support_referral_on": "2026-12-29"}, True,
     "support referral within 2 working days of crime recorded"),
    (REFERRAL, {"crime_recorded_on": "2026-12-24", "support_referral_on": "2026-12-30"}, True,
     "support referral within 2 working days of crime recorded"),
    (REFERRAL, {"crime_recorded_on": "2026-12-24", "support_referral_on": "2026-12-31"}, False,
     "support referral within 2 working days of crime recorded"),
    (REFERRAL, {"crime_recorded_on": "2026-12-24"}, False, "support referral within 2 working days of crime recorded"),
    # the late summer bank holiday (Mon 31 August 2026): Friday to Tuesday is one working day
    ("working_days_between(crime_recorded_on, support_referral_on) <= 1",
     {"crime_recorded_on": "2026-08-28", "support_referral_on": "2026-09-01"}, True,
     "support referral within 1 working day of crime recorded"),
    ("days_between(crime_recorded_on, support_referral_on) > 3",
     {"crime_recorded_on": "2026-08-28", "support_referral_on": "2026-09-01"}, True,
     "support referral more than 3 days after crime recorded"),
    ("days_between(crime_recorded_on, support_referral_on) == 0",
     {"crime_recorded_on": "2026-08-28", "support_referral_on": "2026-08-28"}, True,
     "support referral exactly 0 days after crime recorded"),
    # a deadline chosen by a condition: 1 working day for enhanced rights, else 5
    (UPDATE, {"suspect_event_on": "2026-12-24", "victim_updated_on": "2026-12-29", "enhanced_rights_eligible": "yes"},
     True, UPDATE_TEXT),
    (UPDATE, {"suspect_event_on": "2026-12-24", "victim_updated_on": "2026-12-30", "enhanced_rights_eligible": "yes"},
     False, UPDATE_TEXT),
    (UPDATE, {"suspect_event_on": "2026-12-24", "victim_updated_on": "2027-01-05", "enhanced_rights_eligible": "no"},
     True, UPDATE_TEXT),
    (UPDATE, {"suspect_event_on": "2026-12-24", "victim_updated_on": "2027-01-06", "enhanced_rights_eligible": "no"},
     False, UPDATE_TEXT),
    # blank eligibility is not 'yes', so the 5-day deadline applies
    (UPDATE, {"suspect_event_on": "2026-12-24", "victim_updated_on": "2027-01-05"}, True, UPDATE_TEXT),
    (UPDATE, {"suspect_event_on": "2026-12-24", "enhanced_rights_eligible": "yes"}, False, UPDATE_TEXT),
    ("victim_updated_on <= days_after(suspect_event_on, 2)",
     {"suspect_event_on": "2026-12-24", "victim_updated_on": "2026-12-26"}, True,
     "victim updated within 2 days of suspect event"),
    # dates against dates and ISO dates
    ("charged_on <= file_submitted_on", {"charged_on": "2026-03-02", "file_submitted_on": "2026-03-01"}, False,
     "charged on or before file submitted"),
    ("charged_on <= file_submitted_on", {"charged_on": "2026-03-01", "file_submitted_on": "2026-03-01"}, True,
     "charged on or before file submitted"),
    ("charged_on < '2026-04-01'", {"charged_on": "2026-03-31"}, True, "charged before 2026-04-01"),
    ("'2026-04-01' > charged_on", {"charged_on": "2026-04-01"}, False, "charged before 2026-04-01"),
    # two questions compared with each other
    ("enhanced_rights_identified == enhanced_rights_eligible",
     {"enhanced_rights_identified": "yes", "enhanced_rights_eligible": "yes"}, True,
     "enhanced rights identified is the same as enhanced rights eligible"),
    ("enhanced_rights_identified == enhanced_rights_eligible", {"enhanced_rights_identified": "yes"}, False,
     "enhanced rights identified is the same as enhanced rights eligible"),
    ("enhanced_rights_identified != enhanced_rights_eligible",
     {"enhanced_rights_identified": "no", "enhanced_rights_eligible": "yes"}, True,
     "enhanced rights identified differs from enhanced rights eligible"),
    ("days_between(crime_recorded_on, support_referral_on) <= days_between(crime_recorded_on, victim_updated_on)",
     {"crime_recorded_on": "2026-03-02", "support_referral_on": "2026-03-04", "victim_updated_on": "2026-03-03"},
     False,
     "the number of days from crime recorded to support referral is at most "
     "the number of days from crime recorded to victim updated"),
    # a number chosen by a condition
    ("dash_yes_count >= (10 if dash_risk == 'high' else 14)", {"dash_yes_count": 12, "dash_risk": "high"}, True,
     "DASH yes count is at least 10 (if DASH risk is high), otherwise 14"),
    ("dash_yes_count >= (10 if dash_risk == 'high' else 14)", {"dash_yes_count": 12}, False,
     "DASH yes count is at least 10 (if DASH risk is high), otherwise 14"),
    # free text keeps its quotes in sentences
    ("notes == 'none given'", {"notes": "none given"}, True, "notes is 'none given'"),
]  # fmt: skip


def facts(condition: expressions.Condition, case: dict[str, Any]) -> dict[str, Any]:
    used = [*sources(condition.lowered), *sources(condition.negated)]
    return Projection(used)(case, {})


@pytest.mark.parametrize(("source", "case", "truth", "sentence"), VALID)
def test_condition(source: str, case: dict[str, Any], truth: bool, sentence: str) -> None:
    condition = compile_condition(source, FORM, SETTINGS, location=WHERE)
    assert condition.evaluate(case) is truth
    assert condition.describe() == sentence
    # the atoms the rule engine receives agree, for the condition and for its negation
    fact = facts(condition, case)
    assert evaluate_lowered(condition.lowered, fact) is truth
    assert evaluate_lowered(condition.negated, fact) is not truth


INVALID: list[tuple[str, str]] = [
    ("grounds_recorded == 'Y'", "'Y' is not an answer of grounds_recorded (yes, no)"),
    ("power in ('s60', 'section 60')", "'section 60' is not an answer of power (pace_s1, mda_s23, s60, s47a, other)"),
    ("grounds_recordd == 'yes'",
     "unknown name 'grounds_recordd': not a question of this form or a setting (did you mean 'grounds_recorded'?)"),
    ("zzz == 1", "unknown name 'zzz': not a question of this form or a setting"),
    ("grounds_recorded.__class__ == 'x'", "'grounds_recorded.__class__': attribute access is not allowed in a condition"),
    ("x.__class__", "'x.__class__': attribute access is not allowed in a condition"),
    ("open('/etc/passwd') == 'x'",
     "unknown function 'open' (allowed: blank, answered, days_between, working_days_between, days_after, "
     "working_days_after)"),
    ("__import__('os').system('ls')", "\"__import__('os').system\": attribute access is not allowed in a condition"),
    ("notes[0] == 'a'", "'notes[0]': a subscript is not allowed in a condition"),
    ("(lambda: 1)() == 1", "'lambda: 1': a lambda is not allowed in a condition"),
    ("[n for n in notes] == 'a'", "'[n for n in notes]': a comprehension is not allowed in a condition"),
    ("f'{notes}' == 'a'", "\"f'{notes}'\": an f-string is not allowed in a condition"),
    ("dash_yes_count + 1 > 3", "'dash_yes_count + 1': arithmetic is not allowed in a condition"),
    ("0 < dash_yes_count < 5", "'0 < dash_yes_count < 5': chained comparisons are not allowed; write 'a < b and b < c'"),
    # found by tests/fuzz: 'is' raised a KeyError (a traceback) instead of naming the fix
    ("power is 's60'", "\"power is 's60'\": 'is' is not allowed; write ==, or blank(q) / answered(q) for a blank answer"),
    ("grounds_recorded is not None",
     "'grounds_recorded is not None': 'is not' is not allowed; write !=, or blank(q) / answered(q) for a blank answer"),
    ("crime_recorded_on == 5",
     "cannot compare crime_recorded_on (a date question) with 5 (a whole number); a date question compares with "
     "another date question, an ISO date 'YYYY-MM-DD', days_after() or working_days_after()"),
    ("dash_yes_count == 'yes'",
     "cannot compare dash_yes_count (a whole-number question) with 'yes' (text); a number compares with whole "
     "numbers, number settings, numbers of days or whole-number questions"),
    ("grounds_recorded == dash_yes_count",
     "cannot compare grounds_recorded (a judgement question) with dash_yes_count (a whole-number question); "
     "grounds_recorded compares with text (its answers, with == != in) or another text question"),
    ("grounds_recorded > 'no'", "'>' needs numbers or dates, but grounds_recorded is a judgement question; use ==, != or in"),
    ("charged_on < '1 April'", "'1 April' is not a date (write 'YYYY-MM-DD') to compare with charged_on"),
    ("grounds_recorded == 'yes' and grounds_recorded == 'no'",
     "\"grounds_recorded == 'yes' and grounds_recorded == 'no'\" is always false, whatever the answers; "
     "no case can satisfy it"),
    ("power in ()", "'()': the list after 'in' is empty; list at least one value, e.g. power in ('a', 'b')"),
    # found by tests/fuzz: an empty list inside a larger condition compiled, then describing it raised IndexError
    ("notes == 'x' and dash_risk not in ()",
     "'()': the list after 'not in' is empty; list at least one value, e.g. dash_risk not in ('a', 'b')"),
    ("dash_yes_count > 27", "'dash_yes_count > 27' is always false, whatever the answers; no case can satisfy it"),
    ("blank(notes) or not blank(notes)", "'blank(notes) or not blank(notes)' is always true, whatever the answers"),
    ("1 == 1", "1 == 1: compares two constants; one side must be a question or a number of days"),
    ("grounds_recorded", "'grounds_recorded' is not a condition: compare it, e.g. grounds_recorded == 'yes'"),
    ("grounds_recorded == True", "'True': only 'text' and whole numbers are allowed as literals"),
    ("grounds_recorded ==", "cannot parse 'grounds_recorded ==': invalid syntax"),
    ("days_between(crime_recorded_on) > 1", "'days_between(crime_recorded_on)': days_between() takes 2 arguments (1 given)"),
    ("days_between(crime_recorded_on, dash_yes_count) > 1",
     "days_between() needs a date question, not dash_yes_count (a whole-number question)"),
    ("victim_updated_on <= working_days_after(suspect_event_on, 'two')",
     "working_days_after() needs a whole number of days, a setting or 'a if condition else b', not 'two' (text)"),
    ("working_days_after(suspect_event_on, 2) >= victim_updated_on",
     "'working_days_after(suspect_event_on, 2)': working_days_after() is a deadline and only goes on the right of "
     "a comparison with a date question, e.g. victim_updated_on <= working_days_after(suspect_event_on, 2)"),
    ("dash_yes_count <= (1 if power == 's60' else 'x')",
     "\"'x'\": the branches of 'a if condition else b' must be whole numbers"),
    ("blank(3)", "blank() needs a question id, not 3 (a whole number)"),
    ("blank == 1", "blank is a function: call it, e.g. blank(question)"),
]  # fmt: skip


@pytest.mark.parametrize(("source", "message"), INVALID)
def test_invalid_condition(source: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_condition(source, FORM, SETTINGS, location=WHERE)
    assert caught.value.message == message
    assert str(caught.value).startswith("rulesets/priority3/victims.yaml:12: ")


def test_bad_setting_value_is_reported() -> None:
    with pytest.raises(ExpressionError, match="setting flag is True; settings used in conditions"):
        compile_condition("dash_yes_count > flag", FORM, {"flag": True}, location=WHERE)


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        ("2026-12-24", "2026-12-29", 1),  # Fri 25th Christmas, weekend, Mon 28th Boxing Day (observed)
        ("2026-12-24", "2026-12-30", 2),
        ("2026-12-29", "2026-12-24", -1),  # negative when the second date is earlier
        ("2026-08-28", "2026-09-01", 1),  # Mon 31 August, late summer bank holiday
        ("2026-04-02", "2026-04-07", 1),  # Good Friday and Easter Monday
        ("2026-03-06", "2026-03-09", 1),  # an ordinary weekend
        ("2026-03-09", "2026-03-09", 0),
    ],
)
def test_working_days_between(start: str, end: str, days: int) -> None:
    assert working_days_between(start, end) == days


def test_condition_reports_its_questions_and_is_a_value() -> None:
    a = compile_condition(UPDATE, FORM, SETTINGS, location=WHERE)
    b = compile_condition(UPDATE, FORM, SETTINGS, location=Location("other.yaml", 1))
    assert a.fields == {"victim_updated_on", "suspect_event_on", "enhanced_rights_eligible"}
    assert a == b and hash(a) == hash(b)  # equal conditions compile to equal values wherever they are written


def test_module_docstring_documents_every_operator_and_function() -> None:
    doc = expressions.__doc__ or ""
    for op in OPERATORS.values():
        assert f"\n    {op.symbol}" in doc or f" {op.symbol} " in doc, op.symbol
    for name in FUNCTIONS:
        assert f"{name}(" in doc, name
