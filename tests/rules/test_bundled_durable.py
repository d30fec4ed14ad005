"""The durable-rules differential test on the bundled rulesets: every assessment ruleset of rulesets/
(the first five case types and every one added since: missing from home, child sexual exploitation,
hate crime, problem solving...) scores random cases of its form, and the demo factories' cases with
their failure traits, exactly as the plain-Python evaluator does, case by case and criterion by
criterion, traces included."""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from engine.core.models import AnswerType, FieldSpec
from engine.demo.factories import build_row
from engine.demo.factories_safeguarding import SAFEGUARDING_TRAITS
from engine.inputs.forms import load_forms
from engine.rules.ruleset_loader import load_rulesets
from engine.rules.rulesets import Ruleset
from engine.rules.scoring import score_cases, score_cases_python

REPO = Path(__file__).resolve().parents[2]
FIELDS = {t: f.field_specs() for t, f in load_forms(REPO / "qa_forms").items()}
RULESETS = [r for r in load_rulesets(REPO / "rulesets", FIELDS) if r.case_type]
# around Christmas and the August bank holiday, so working days differ from calendar days
DATES = [f"2026-12-{d}" for d in range(18, 32)] + ["2027-01-04", "2027-01-05", "2026-08-28", "2026-09-01"]


def _answer(spec: FieldSpec, rng: random.Random) -> Any:
    if rng.random() < 0.12:
        return None
    if spec.choices:
        return rng.choice(spec.choices)
    if spec.type is AnswerType.DATE:
        return rng.choice(DATES)
    if spec.type is AnswerType.INTEGER:
        low = 0 if spec.minimum is None else spec.minimum
        return rng.randint(low, min(low + 40, 10**6 if spec.maximum is None else spec.maximum))
    return rng.choice(["", "x", "note"])


def _random_cases(case_type: str, n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    specs = FIELDS[case_type]
    return [
        {"key": i, "case_type": case_type, **{q: _answer(s, rng) for q, s in specs.items()}} for i in range(n)
    ]


def _typed(row: Mapping[str, str], specs: Mapping[str, FieldSpec]) -> dict[str, Any]:
    """A factory row's answers as a validated row holds them: blanks None, whole numbers int."""
    out: dict[str, Any] = {}
    for q, spec in specs.items():
        value = row.get(q) or None
        out[q] = int(value) if value is not None and spec.type is AnswerType.INTEGER else value
    return out


def _factory_cases(case_type: str, seed: int) -> list[dict[str, Any]]:
    """Every trait alone and random pairs, as the demo builds its cases."""
    rng = random.Random(seed)
    traits = SAFEGUARDING_TRAITS.get(case_type, ())
    combos = [{}, *({t: True} for t in traits)]
    combos += [dict.fromkeys(rng.sample(traits, 2), True) for _ in range(40) if len(traits) >= 2]
    rows = [build_row(case_type, **combo) for combo in combos]
    return [{"key": i, "case_type": case_type, **_typed(r, FIELDS[case_type])} for i, r in enumerate(rows)]


def _outcomes(scores: list[Any]) -> list[tuple[Any, ...]]:
    return [(s.key, dict(s.outcomes), s.score, s.critical_failures, dict(s.traces)) for s in scores]


@pytest.mark.parametrize("ruleset", RULESETS, ids=[r.id for r in RULESETS])
def test_durable_scores_the_bundled_ruleset_as_python_does(ruleset: Ruleset) -> None:
    case_type = str(ruleset.case_type)
    cases = _random_cases(case_type, 400, seed=len(ruleset.id)) + [
        {**c, "key": 1000 + c["key"]} for c in _factory_cases(case_type, seed=7)
    ]
    durable = _outcomes(score_cases(ruleset, cases))
    assert durable == _outcomes(score_cases_python(ruleset, cases))
    # the cases reach every outcome of every criterion, so the comparison means something
    seen = {(cid, o.value) for _, outcomes, *_ in durable for cid, o in outcomes.items()}
    assert {(c.id, o) for c in ruleset.criteria for o in ("pass", "fail", "na")} - seen <= {
        (c.id, "na") for c in ruleset.criteria if c.applies is None
    }


def test_the_new_case_types_are_among_them() -> None:
    assert {"missing_from_home", "child_sexual_exploitation", "hate_crime", "problem_solving"} <= {
        str(r.case_type) for r in RULESETS
    }
