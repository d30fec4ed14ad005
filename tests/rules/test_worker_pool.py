"""Matching in forked worker processes: the same results as one process, and a slice whose engine fails
(in a worker or in this process) is redone once in a fresh process, a second failure raising."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.rules import worker_pool
from engine.rules.chunks import RulesEngineError
from engine.rules.durable import Matcher
from engine.rules.scoring import score_cases, score_cases_python
from tests.rules.generated import all_yes, large_ruleset, outcomes, yes_rules
from tests.rules.test_scoring import Ruleset


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
    rules = yes_rules(5)
    cases = [{f"q{i}": "yes" if (i + k) % 2 else "no" for i in range(5)} for k in range(500)]
    expected = worker_pool.match("redo", rules, cases)
    assert worker_pool.match("redo", rules, cases, workers=2) == expected
    assert flag.exists()


def test_a_slice_failing_twice_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def always_fails(name: str, rules: Any) -> Matcher:
        raise RulesEngineError("simulated")

    monkeypatch.setattr(worker_pool, "_worker_factory", always_fails)
    with pytest.raises(RulesEngineError, match="failed in two worker processes: RulesEngineError: simulated"):
        worker_pool.match("doomed", yes_rules(2), all_yes(2) * 200, workers=2)


def test_a_slice_failing_in_this_process_is_redone_in_a_fresh_one(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = yes_rules(4)
    cases = [{f"q{i}": "yes" if (i * k) % 3 else "no" for i in range(4)} for k in range(500)]
    expected = worker_pool.match("here", rules, cases)

    class Failing:
        def match(self, cases: Any) -> list[int]:
            raise RulesEngineError("simulated engine error in this process")

    monkeypatch.setattr(worker_pool, "matcher", lambda name, rules: Failing())
    assert worker_pool.match("here", rules, cases, workers=2) == expected
