"""Matching in forked worker processes: the same results as one process, and a slice whose engine fails
(in a worker or in this process) is redone once in a fresh process, a second failure raising. Cases with
the same answers to the questions the rules read are matched once, with the same masks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.core.models import AnswerType
from engine.rules import worker_pool
from engine.rules.chunks import Rule, RulesEngineError
from engine.rules.durable import Matcher
from engine.rules.expressions import Atom, Field
from engine.rules.scoring import engine_rules, score_cases, score_cases_python
from tests.rules.generated import all_yes, large_ruleset, outcomes, yes_rules
from tests.rules.test_scoring import Ruleset


def numbered(n: int, answers: list[dict[str, Any]]) -> tuple[tuple[Rule, ...], list[dict[str, Any]]]:
    """yes_rules(n) and a rule on a case number 'k', with each case numbered: every case is distinct,
    so all of them reach the engine (and the workers)."""
    rules = (*yes_rules(n), Rule("K", Atom(Field("k", AnswerType.INTEGER), "ge", 0), n))
    return rules, [{**a, "k": k} for k, a in enumerate(answers)]


@pytest.fixture(scope="module")
def large() -> tuple[Ruleset, list[dict[str, Any]]]:
    return large_ruleset()


def test_two_worker_processes_give_the_same_results(large: tuple[Ruleset, list[dict[str, Any]]]) -> None:
    ruleset, cases = large
    assert outcomes(score_cases(ruleset, cases, workers=2)) == outcomes(score_cases_python(ruleset, cases))


def test_a_failed_worker_is_redone_in_a_fresh_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    flag = tmp_path / "failed-once"

    def fails_once(name: str, rules: Any) -> Matcher:
        if not flag.exists():
            flag.touch()
            raise RulesEngineError("simulated engine error in a worker")
        return Matcher(name, rules)

    monkeypatch.setattr(worker_pool, "_worker_factory", fails_once)
    rules, cases = numbered(
        5, [{f"q{i}": "yes" if (i + k) % 2 else "no" for i in range(5)} for k in range(500)]
    )
    expected = worker_pool.match("redo", rules, cases)
    assert worker_pool.match("redo", rules, cases, workers=2) == expected
    assert flag.exists()


def test_a_slice_failing_twice_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def always_fails(name: str, rules: Any) -> Matcher:
        raise RulesEngineError("simulated")

    monkeypatch.setattr(worker_pool, "_worker_factory", always_fails)
    with pytest.raises(RulesEngineError, match="failed in two worker processes: RulesEngineError: simulated"):
        worker_pool.match("doomed", *numbered(2, all_yes(2) * 200), workers=2)


def test_a_slice_failing_in_this_process_is_redone_in_a_fresh_one(monkeypatch: pytest.MonkeyPatch) -> None:
    rules, cases = numbered(
        4, [{f"q{i}": "yes" if (i * k) % 3 else "no" for i in range(4)} for k in range(500)]
    )
    expected = worker_pool.match("here", rules, cases)

    class Failing:
        def match(self, cases: Any) -> list[int]:
            raise RulesEngineError("simulated engine error in this process")

    monkeypatch.setattr(worker_pool, "matcher", lambda name, rules: Failing())
    assert worker_pool.match("here", rules, cases, workers=2) == expected


def test_cases_with_the_same_answers_are_matched_once_with_the_same_masks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ruleset, cases = large_ruleset()
    rules = engine_rules(ruleset)
    # each case 8 times over, copies differing only in questions no rule reads, blanks as None or missing
    copies = [{**c, "key": (c["key"], j), "unread": j} for j in range(8) for c in cases]
    for c in copies[::7]:
        for q in [q for q, v in c.items() if v is None]:
            del c[q]
    matched: list[int] = []
    real = worker_pool._match

    def counting(name: str, rules: Any, cases: Any, workers: int) -> list[int]:
        matched.append(len(cases))
        return real(name, rules, cases, workers)

    monkeypatch.setattr(worker_pool, "_match", counting)
    masks = worker_pool.match("copies", rules, copies, workers=2)
    assert len(matched) == 1 and matched[0] <= len(cases)  # the copies were not matched again
    each = Matcher("each", rules)
    assert masks == [each.match([c])[0] for c in copies]


def test_a_case_with_an_unhashable_answer_is_matched_on_its_own() -> None:
    n = Field("n", AnswerType.INTEGER)
    rules = (Rule("one", Atom(n, "eq", 1), 0), Rule("big", Atom(n, "gt", 0), 1))
    cases: list[dict[str, Any]] = [{"n": 1}, {"n": [1]}, {"n": 1}, {}, {"n": None}, {"n": [1]}, {"n": 0}]
    assert worker_pool.match("lists", rules, cases) == [0b11, 0, 0b11, 0, 0, 0, 0]
