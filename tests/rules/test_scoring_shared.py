"""What cases share once scored (engine/rules/scoring.py): a why-trace is made once for each set of
answers its criterion reads, and cases with the same outcomes share their texts; neither may make
one case's trace or outcomes another's."""

from __future__ import annotations

from engine.core.errors import Location
from engine.core.models import AnswerType, FieldSpec
from engine.rules.expressions import compile_condition
from engine.rules.scoring import score_cases, trace
from tests.rules.test_scoring import STOP_SEARCH, Criterion, Ruleset, random_stop_search_cases

FORM = {
    s.id: s
    for s in (
        FieldSpec("dash_yes_count", AnswerType.INTEGER),
        FieldSpec("risk", AnswerType.CHOICE, ("standard", "medium", "high")),
        FieldSpec("note", AnswerType.TEXT),
    )
}
WHERE = Location("rulesets/priority1/domestic_abuse.yaml", 3)
COUNT = Criterion(
    "DA01",
    "DASH count",
    compile_condition("risk == 'high'", FORM, {}, location=WHERE),
    compile_condition("dash_yes_count >= 14", FORM, {}, location=WHERE),
    1.0,
    False,
)
DOMESTIC = Ruleset("domestic-abuse", "1", "cd" * 32, "domestic_abuse", (COUNT,))


def test_equal_answers_of_other_types_keep_their_own_words() -> None:
    # 9, 9.0 and True are one key of a dict, but a trace shows them as they are
    cases = [{"key": i, "risk": "high", "dash_yes_count": v} for i, v in enumerate([9, 9.0, True, 9])]
    traces = [s.traces["DA01"][0] for s in score_cases(DOMESTIC, cases)]
    assert traces == [
        "DASH yes count was 9, less than 14",
        "DASH yes count was 9.0, less than 14",
        "DASH yes count was True, less than 14",
        "DASH yes count was 9, less than 14",
    ]


def test_each_trace_is_its_cases_own_whatever_else_the_case_answered() -> None:
    # each case's notes are read by no criterion: they must not split the shared traces
    cases = random_stop_search_cases(7, 900, ["yes", "no", "partly", "na", None], notes=True)
    criteria = {c.id: c for c in STOP_SEARCH.criteria}
    scores = score_cases(STOP_SEARCH, cases)
    failed = 0
    for s, case in zip(scores, cases, strict=True):
        for cid in s.traces:
            assert s.traces[cid] == trace(criteria[cid], case)
            failed += 1
    assert failed > 500


def test_a_cases_outcome_texts_are_its_own_to_change() -> None:
    first, second = score_cases(STOP_SEARCH, [{"key": 1, "bwv_activated": "no"}, {"key": 2}])
    texts = first.outcomes.texts()
    texts["SS04"] = "changed"
    assert first.outcomes.texts()["SS04"] == second.outcomes.texts()["SS04"] == "fail"
    assert first.outcomes.shared_texts() is second.outcomes.shared_texts()
