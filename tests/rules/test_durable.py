"""The durable-rules seam: engine outcomes equal the plain-Python evaluator's, whatever the criteria.

A differential test generates random criteria (expression trees over a small form with judgement,
choice, date, integer and text questions) and random cases with blanks, and compares every
(case, criterion) outcome of durable-rules with the plain-Python evaluator. Also: batches over 200
cases, what happens when the engine fails, and rules that hold for most cases run as their complement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.core.models import AnswerType
from engine.rules import durable, worker_pool
from engine.rules.chunks import Rule, RulesEngineError
from engine.rules.durable import Matcher
from engine.rules.expressions import Atom, Field
from engine.rules.scoring import score_cases, score_cases_python
from tests.rules.generated import all_yes, build, case, criterion, large_ruleset, outcomes, yes_rules
from tests.rules.test_scoring import Ruleset

D = AnswerType.DATE


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.integers(1, 6), st.integers(1, 60))
def test_durable_agrees_with_python_on_generated_criteria_and_cases(
    data: st.DataObject, n: int, m: int
) -> None:
    def pick(options: Sequence[Any]) -> Any:
        return data.draw(st.sampled_from(options))

    ruleset = build([criterion(pick) for _ in range(n)])
    rows = [{"key": i, **case(pick)} for i in range(m)]
    assert outcomes(score_cases(ruleset, rows)) == outcomes(score_cases_python(ruleset, rows))


# ----------------------------------------------------------------------------- a large generated ruleset


@pytest.fixture(scope="module")
def large() -> tuple[Ruleset, list[dict[str, Any]]]:
    return large_ruleset()


def test_large_ruleset_in_several_batches_agrees(large: tuple[Ruleset, list[dict[str, Any]]]) -> None:
    ruleset, cases = large
    assert len(ruleset.criteria) > 45
    assert outcomes(score_cases(ruleset, cases)) == outcomes(score_cases_python(ruleset, cases))


# ----------------------------------------------------------------------------- engine errors and complements


def test_an_engine_error_discards_the_rulesets(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = yes_rules(3)
    first = durable.matcher("failing", rules)

    def broken(handle: int, facts: str) -> Any:
        raise MemoryError("simulated")

    monkeypatch.setattr(durable.dre, "assert_facts", broken)
    with pytest.raises(RulesEngineError, match="durable-rules failed: simulated"):
        worker_pool.match("failing", rules, all_yes(3))
    assert first.broken
    monkeypatch.undo()
    assert worker_pool.match("failing", rules, all_yes(3)) == [7, 7, 7]  # rebuilt, not reused
    assert durable.matcher("failing", rules) is not first


def test_a_value_the_facts_cannot_carry_is_a_data_error_not_an_engine_error() -> None:
    rules = (Rule("late", Atom(Field("d1", D), "gt", 0), 0),)
    m = Matcher("dates", rules)
    with pytest.raises(ValueError, match="month must be in 1..12"):
        m.match([{"d1": "2026-13-01"}])
    assert not m.broken
    assert m.match([{"d1": "2026-01-01"}, {}]) == [1, 0]


def test_a_rule_holding_for_most_cases_runs_as_its_complement() -> None:
    cases = [
        {"q0": "yes", "q1": "yes" if k % 10 == 0 else "no", "q2": None if k % 3 else "yes"}
        for k in range(450)
    ]
    expected = [(c["q0"] == "yes") | (c["q1"] == "yes") << 1 | (c["q2"] == "yes") << 2 for c in cases]
    matcher = Matcher("busy", yes_rules(3))
    assert matcher.match(cases) == expected
    assert matcher.flipped == {"R0"}  # it held for the whole first batch; the others for 10% and 33%
    assert matcher.match(cases) == expected
    assert matcher.match([{"q0": "no", "q1": "yes"}]) == [2]
