"""The durable-rules seam: engine outcomes equal the plain-Python evaluator's, whatever the criteria.

A differential test generates random criteria (expression trees over a small form with judgement,
choice, date, integer and text questions) and random cases with blanks, and compares every
(case, criterion) outcome of durable-rules with the plain-Python evaluator. Also: rules split into
several durable rulesets, batches over 200 cases, the 64-test limit probed on the real engine,
worker processes, and what happens when the engine or a worker fails.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.core.errors import ExpressionError, Location
from engine.core.models import JUDGEMENT_ANSWERS, AnswerType, FieldSpec
from engine.rules import durable
from engine.rules.durable import Matcher, Rule, RulesEngineError
from engine.rules.expressions import Atom, Field, compile_condition
from engine.rules.scoring import engine_rules, score_cases, score_cases_python
from tests.rules.test_scoring import Criterion, Ruleset

J, C, D, N, T = AnswerType.JUDGEMENT, AnswerType.CHOICE, AnswerType.DATE, AnswerType.INTEGER, AnswerType.TEXT
FORM = {
    s.id: s
    for s in (
        FieldSpec("j1", J),
        FieldSpec("j2", J),
        FieldSpec("j3", J, ("yes", "no")),
        FieldSpec("c1", C, ("a", "b", "c")),
        FieldSpec("d1", D),
        FieldSpec("d2", D),
        FieldSpec("d3", D),
        FieldSpec("n1", N, minimum=0, maximum=10),
        FieldSpec("t1", T),
    )
}
SETTINGS: dict[str, int | str] = {"limit": 3, "level": "b"}
HERE = Location("generated.yaml", 1)
# around Christmas and the August bank holiday, so working days differ from calendar days
DATES = [f"2026-12-{d}" for d in range(20, 32)] + ["2027-01-04", "2027-01-05", "2026-08-28", "2026-09-01"]


# ----------------------------------------------------------------------------- generated conditions

OPS = ["==", "!=", "<", "<=", ">", ">="]
ANSWERS = {"j1": JUDGEMENT_ANSWERS, "j2": JUDGEMENT_ANSWERS, "j3": ("yes", "no"), "c1": ("a", "b", "c")}
Pick = Callable[[Sequence[Any]], Any]


def atom(pick: Pick) -> str:
    """One comparison, blank test or deadline; ``pick`` chooses (hypothesis draws or a seeded Random)."""
    kind, q, op, d, k = (
        pick(range(12)),
        pick(sorted(ANSWERS)),
        pick(OPS),
        pick(["d1", "d2", "d3"]),
        pick(range(-2, 9)),
    )
    v = pick(ANSWERS[q])
    if kind == 0:
        return f"{q} {pick(['==', '!='])} '{v}'"
    if kind == 1:
        values = sorted({pick(ANSWERS[q]) for _ in range(pick([1, 2, 3]))})
        return f"{q} {pick(['in', 'not in'])} ({', '.join(repr(x) for x in values)},)"
    if kind == 2:
        return f"n1 {op} {pick(['limit', str(max(k, 0))])}"
    if kind == 3:
        return f"{pick(['blank', 'answered'])}({pick(['j1', 'j3', 'c1', 'd1', 'n1', 't1'])})"
    if kind == 4:
        return f"{pick(['days_between', 'working_days_between'])}(d1, {d}) {op} {k}"
    if kind == 5:
        return f"{d} {op} {pick(['days_after', 'working_days_after'])}(d1, {k})"
    if kind == 6:
        return f"{d} {op} working_days_after(d2, {abs(k)} if {q} == '{v}' else {pick(range(7))})"
    if kind == 7:
        return f"d1 {op} {pick(['d2', repr(DATES[k + 2])])}"
    if kind == 8:
        return f"j1 {pick(['==', '!='])} {pick(['j2', 'j3'])}"
    if kind == 9:
        return f"n1 {op} days_between(d1, {d})"
    if kind == 10:
        return f"c1 {pick(['==', '!='])} level"
    return f"t1 {pick(['==', '!='])} 'x'"


def condition(pick: Pick, depth: int) -> str:
    shape = pick(["atom", "and", "or", "not"]) if depth else "atom"
    if shape == "atom":
        return atom(pick)
    if shape == "not":
        return f"not ({condition(pick, depth - 1)})"
    return f"({condition(pick, depth - 1)}) {shape} ({condition(pick, depth - 1)})"


def criterion(pick: Pick) -> tuple[str | None, str]:
    return (pick([None, "x"]) and condition(pick, 1)), condition(pick, 2)


def case(pick: Pick) -> dict[str, Any]:
    """Answers with blanks both as None and as a missing key, and an answer outside j3's choices."""
    values = {
        "j1": pick([*JUDGEMENT_ANSWERS, "yes", "yes"]),
        "j2": pick([*JUDGEMENT_ANSWERS, "yes", "yes"]),
        "j3": pick(["yes", "no", "maybe"]),
        "c1": pick(["a", "b", "c"]),
        "d1": pick(DATES),
        "d2": pick(DATES),
        "d3": pick(DATES),
        "n1": pick(range(11)),
        "t1": pick(["x", "y", ""]),
    }
    out: dict[str, Any] = {}
    for k, v in values.items():
        blank = pick([None, "missing", v, v, v, v])
        if blank != "missing":
            out[k] = None if blank is None else v
    return out


def build(sources: list[tuple[str | None, str]]) -> Ruleset:
    criteria = []
    for i, (applies, passes) in enumerate(sources):
        try:
            a = compile_condition(applies, FORM, SETTINGS, location=HERE) if applies else None
            p = compile_condition(passes, FORM, SETTINGS, location=HERE)
        except ExpressionError as e:
            if "always" not in e.message:  # generated conditions are valid; only constant ones are refused
                raise
            continue
        criteria.append(Criterion(f"G{i:02d}", f"generated {i}", a, p, float(i % 3 + 1), i % 4 == 0))
    return Ruleset("generated", "0.0.1", "0" * 64, "synthetic", tuple(criteria))


def outcomes(scores: list[Any]) -> list[tuple[Any, ...]]:
    return [(s.key, tuple(s.outcomes.items()), s.score, s.critical_failures) for s in scores]


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
    """60 generated criteria and 450 cases (three batches of 200 facts), drawn from a fixed seed."""
    rng = random.Random(20261225)
    ruleset = build([criterion(rng.choice) for _ in range(60)])
    return ruleset, [{"key": i, **case(rng.choice)} for i in range(450)]


def test_large_ruleset_in_several_batches_agrees(large: tuple[Ruleset, list[dict[str, Any]]]) -> None:
    ruleset, cases = large
    assert len(ruleset.criteria) > 45
    assert outcomes(score_cases(ruleset, cases)) == outcomes(score_cases_python(ruleset, cases))


def test_two_worker_processes_give_the_same_results(large: tuple[Ruleset, list[dict[str, Any]]]) -> None:
    ruleset, cases = large
    assert outcomes(score_cases(ruleset, cases, workers=2)) == outcomes(score_cases_python(ruleset, cases))


# ----------------------------------------------------------------------------- durable's limits


def yes_rules(n: int) -> tuple[Rule, ...]:
    """n rules on n different questions that a fully 'yes' fact satisfies all at once."""
    return tuple(Rule(f"R{i}", Atom(Field(f"q{i}", J, JUDGEMENT_ANSWERS), "eq", "yes"), i) for i in range(n))


def all_yes(n: int) -> list[dict[str, Any]]:
    return [{f"q{i}": "yes" for i in range(n)} for _ in range(3)]


def test_rules_are_split_so_no_fact_satisfies_too_many_tests() -> None:
    matcher = Matcher("wide", yes_rules(120))
    assert matcher.rulesets == 3  # 120 satisfiable tests + the audit rule, at most 56 per ruleset
    assert matcher.match(all_yes(120)) == [(1 << 120) - 1] * 3


def test_the_alpha_stack_model_matches_durable_at_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # the model is exact for this shape: 63 rules + the audit rule fill durable's 64-entry stack
    monkeypatch.setattr(durable, "MAX_ALPHA_STACK", 64)
    assert Matcher("at-limit", yes_rules(63)).match(all_yes(63)) == [(1 << 63) - 1] * 3
    monkeypatch.setattr(durable, "MAX_ALPHA_STACK", 65)
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


def test_an_engine_error_discards_the_rulesets(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = yes_rules(3)
    first = durable.matcher("failing", rules)

    def broken(handle: int, facts: str) -> Any:
        raise MemoryError("simulated")

    monkeypatch.setattr(durable.dre, "assert_facts", broken)
    with pytest.raises(RulesEngineError, match="durable-rules failed: simulated"):
        durable.match("failing", rules, all_yes(3))
    assert first.broken
    monkeypatch.undo()
    assert durable.match("failing", rules, all_yes(3)) == [7, 7, 7]  # rebuilt, not reused
    assert durable.matcher("failing", rules) is not first


def test_a_failed_worker_is_redone_in_a_fresh_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    flag = tmp_path / "failed-once"

    def fails_once(name: str, rules: Any) -> Matcher:
        if not flag.exists():
            flag.touch()
            raise RulesEngineError("simulated engine error in a worker")
        return Matcher(name, rules)

    monkeypatch.setattr(durable, "_worker_factory", fails_once)
    rules = yes_rules(5)
    cases = [{f"q{i}": "yes" if (i + k) % 2 else "no" for i in range(5)} for k in range(500)]
    expected = durable.match("redo", rules, cases)
    assert durable.match("redo", rules, cases, workers=2) == expected
    assert flag.exists()


def test_a_slice_failing_twice_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def always_fails(name: str, rules: Any) -> Matcher:
        raise RulesEngineError("simulated")

    monkeypatch.setattr(durable, "_worker_factory", always_fails)
    with pytest.raises(RulesEngineError, match="failed in two worker processes: RulesEngineError: simulated"):
        durable.match("doomed", yes_rules(2), all_yes(2) * 200, workers=2)


def test_definitions_are_the_auditable_json_the_engine_runs() -> None:
    applies = compile_condition("c1 in ('a', 'b')", FORM, SETTINGS, location=HERE)
    passes = compile_condition("j1 == 'yes' and n1 >= limit", FORM, SETTINGS, location=HERE)
    ruleset = Ruleset(
        "r", "1.0.0", "f" * 64, "synthetic", (Criterion("C1", "t", applies, passes, 1.0, False),)
    )
    compiled = durable.definitions(engine_rules(ruleset))
    assert json.loads(json.dumps(compiled)) == compiled
    (definition,) = compiled["rulesets"]
    assert {"C1#na", "C1#fail", "__seen", "__warmup"} == set(definition)
    assert compiled["facts"] == {
        "a": {"source": "c1", "codes": {"a": 0, "b": 1, "c": 2}},
        "b": {"source": "j1", "codes": {"yes": 0, "no": 1, "partly": 2, "na": 3}},
        "c": {"source": "n1"},
    }
    # does not apply: c1 is blank (-1), 'c' (2) or an answer outside its choices (3)
    assert definition["C1#na"]["all"][0]["m"] == {"$and": [{"$neq": {"a": 0}}, {"$neq": {"a": 1}}]}
    # fails: applies, and n1 below 3 or blank, or j1 anything but 'yes' (blank included: one test, j1 != 0)
    assert definition["C1#fail"]["all"][0]["m"] == {
        "$and": [
            {"$or": [{"$lt": {"c": 3}}, {"$nex": {"c": 1}}, {"$neq": {"b": 0}}]},
            {"$or": [{"a": 0}, {"a": 1}]},
        ]
    }
    assert definition["C1#fail"]["cap"] == 200


def test_a_slice_failing_in_this_process_is_redone_in_a_fresh_one(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = yes_rules(4)
    cases = [{f"q{i}": "yes" if (i * k) % 3 else "no" for i in range(4)} for k in range(500)]
    expected = durable.match("here", rules, cases)

    class Failing:
        def match(self, cases: Any) -> list[int]:
            raise RulesEngineError("simulated engine error in this process")

    monkeypatch.setattr(durable, "matcher", lambda name, rules: Failing())
    assert durable.match("here", rules, cases, workers=2) == expected


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
