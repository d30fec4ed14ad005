"""Rules split into durable rulesets so no fact meets durable's per-fact limits: the alpha-stack model,
probed at its limit on the real engine, and tests that cannot hold together."""

from __future__ import annotations

import pytest

from engine.core.models import JUDGEMENT_ANSWERS, AnswerType
from engine.rules import chunks
from engine.rules.chunks import Rule, RulesEngineError
from engine.rules.durable import Matcher
from engine.rules.expressions import Atom, Field
from tests.rules.generated import all_yes, yes_rules

J = AnswerType.JUDGEMENT


def test_rules_are_split_so_no_fact_satisfies_too_many_tests() -> None:
    matcher = Matcher("wide", yes_rules(120))
    assert matcher.rulesets == 3  # 120 satisfiable tests + the audit rule, at most 56 per ruleset
    assert matcher.match(all_yes(120)) == [(1 << 120) - 1] * 3


def test_the_alpha_stack_model_matches_durable_at_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # the model is exact for this shape: 63 rules + the audit rule fill durable's 64-entry stack
    monkeypatch.setattr(chunks, "MAX_ALPHA_STACK", 64)
    assert Matcher("at-limit", yes_rules(63)).match(all_yes(63)) == [(1 << 63) - 1] * 3
    monkeypatch.setattr(chunks, "MAX_ALPHA_STACK", 65)
    over = Matcher("over-limit", yes_rules(64))
    assert over.rulesets == 1
    with pytest.raises(RulesEngineError, match="error code: 303"):
        over.match(all_yes(64))
    # a ruleset is never used again after an engine error
    with pytest.raises(RulesEngineError, match="discarded after an engine error"):
        over.match(all_yes(1))


def test_tests_that_cannot_hold_together_do_not_count_towards_the_limit() -> None:
    # 'yes', 'no' and blank of one question exclude each other: 3 x 40 rules, at most 40 satisfied at once
    rules = []
    for i in range(40):
        f = Field(f"q{i}", J, JUDGEMENT_ANSWERS)
        rules += [Rule(f"Y{i}", Atom(f, "eq", "yes"), 3 * i), Rule(f"N{i}", Atom(f, "eq", "no"), 3 * i + 1)]
        rules.append(Rule(f"B{i}", Atom(f, "nex"), 3 * i + 2))
    matcher = Matcher("exclusive", rules)
    assert matcher.rulesets == 1
    cases = [{f"q{i}": "no" for i in range(40)}, {}]
    assert matcher.match(cases) == [
        sum(1 << (3 * i + 1) for i in range(40)),
        sum(1 << (3 * i + 2) for i in range(40)),
    ]


def _greedy(rules: list[Rule]) -> list[list[int]]:
    """The split rule by rule, as plan_chunks makes it when the rules do not fit in one ruleset."""
    from engine.rules.expressions import durable_condition

    conds = [durable_condition(r.when) for r in rules]
    out: list[list[int]] = []
    current: list[int] = []
    for i in range(len(rules)):
        trial = [*current, i]
        if current and chunks.alpha_stack_bound(conds[j] for j in trial) > chunks.MAX_ALPHA_STACK:
            out.append(current)
            trial = [i]
        current = trial
    return [*out, current] if current else out


@pytest.mark.parametrize("n", [1, 30, 55, 56, 57, 120])
def test_rules_that_fit_together_make_one_ruleset_as_the_split_would(n: int) -> None:
    rules = yes_rules(n)
    assert chunks.plan_chunks(rules) == _greedy(rules)
    assert (len(chunks.plan_chunks(rules)) == 1) == (n <= 55)  # 55 tests + the audit rule fit in 56
