"""The durable-rules differential test on the DVPN and Clare's Law, vulnerable caller, complaint
handling and high-impact investigation rulesets: the demo factories' cases, with every failure and
kind-of-case trait alone and in random pairs, and the pass/fail/N/A cases of
tests/rules/prevention_cases.py, are scored by durable-rules exactly as the plain-Python evaluator
scores them, case by case and criterion by criterion, traces included."""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from engine.core.models import AnswerType, FieldSpec
from engine.demo.factories import build_row
from engine.demo.factories_prevention import PREVENTION_TRAITS
from engine.inputs.forms import load_forms
from engine.rules.ruleset_loader import load_rulesets
from engine.rules.rulesets import Ruleset
from engine.rules.scoring import score_cases, score_cases_python
from tests.rules.prevention_cases import PREVENTION_CASES, PREVENTION_RULESETS

REPO = Path(__file__).resolve().parents[2]
FIELDS = {t: f.field_specs() for t, f in load_forms(REPO / "qa_forms").items()}
IDS = [ruleset_id for ruleset_id, *_ in PREVENTION_RULESETS]
RULESETS = {r.id: r for r in load_rulesets(REPO / "rulesets", FIELDS) if r.id in IDS}
#: traits that only make sense for a Clare's Law case, built on a right-to-ask or right-to-know case
CLARES_LAW_ONLY = {"not_disclosed", "immediate_risk", "immediate_risk_unprotected", "dvds_late"}
CLARES_LAW = ("right_to_ask", "right_to_know")


def _typed(row: Mapping[str, str], specs: Mapping[str, FieldSpec]) -> dict[str, Any]:
    """A factory row's answers as a validated row holds them: blanks None, whole numbers int."""
    out: dict[str, Any] = {}
    for q, spec in specs.items():
        value = row.get(q) or None
        out[q] = int(value) if value is not None and spec.type is AnswerType.INTEGER else value
    return out


def _combos(case_type: str, rng: random.Random) -> list[dict[str, bool]]:
    traits = PREVENTION_TRAITS[case_type]
    combos: list[dict[str, bool]] = [{}, *({t: True} for t in traits)]
    combos += [dict.fromkeys(rng.sample(traits, 2), True) for _ in range(60)]
    out = []
    for combo in combos:
        kinds = [t for t in combo if t in CLARES_LAW]
        if len(kinds) == 2:
            continue  # a case is one kind of decision
        if set(combo) & CLARES_LAW_ONLY and not kinds:
            combo = {**combo, rng.choice(CLARES_LAW): True}
        if kinds and {"not_superintendent", "dvpo_late", "dvpo_refused"} & set(combo):
            continue  # DVPN failures on a Clare's Law case
        if {"no_partner_need", "referral_late"} <= set(combo):
            continue  # no need, so no referral to be late
        out.append(combo)
    return out


def _cases(ruleset: Ruleset) -> list[dict[str, Any]]:
    case_type = str(ruleset.case_type)
    specs = FIELDS[case_type]
    rng = random.Random(len(ruleset.id))
    rows = [build_row(case_type, **combo) for combo in _combos(case_type, rng)]
    cases = [{"case_type": case_type, **_typed(row, specs)} for row in rows]
    for criterion in ruleset.criteria:
        cases += [
            {"case_type": case_type, **dict.fromkeys(specs), **answers}
            for _, answers in PREVENTION_CASES[criterion.id]
        ]
    return [{**case, "key": i} for i, case in enumerate(cases)]


def _outcomes(scores: list[Any]) -> list[tuple[Any, ...]]:
    return [(s.key, dict(s.outcomes), s.score, s.critical_failures, dict(s.traces)) for s in scores]


@pytest.mark.parametrize("ruleset_id", IDS)
def test_durable_scores_the_new_rulesets_as_python_does(ruleset_id: str) -> None:
    ruleset = RULESETS[ruleset_id]
    cases = _cases(ruleset)
    durable = _outcomes(score_cases(ruleset, cases))
    assert durable == _outcomes(score_cases_python(ruleset, cases))
    # every criterion passes, fails and is N/A among them, so the comparison means something
    seen = {(cid, o.value) for _, outcomes, *_ in durable for cid, o in outcomes.items()}
    assert {(c.id, o) for c in ruleset.criteria for o in ("pass", "fail", "na")} <= seen


def test_the_factories_default_case_meets_every_criterion() -> None:
    for ruleset in RULESETS.values():
        case_type = str(ruleset.case_type)
        (score,) = score_cases(
            ruleset, [{"key": 0, "case_type": case_type, **_typed(build_row(case_type), FIELDS[case_type])}]
        )
        assert score.score == 1.0 and not score.critical_failures, ruleset.id


@pytest.mark.parametrize(
    ("case_type", "trait", "criterion"),
    [
        ("dvpn_dvds", "not_superintendent", "DP01"),
        ("dvpn_dvds", "dvpo_late", "DP04"),
        ("dvpn_dvds", "immediate_risk_unprotected", "DP07"),
        ("vulnerable_caller", "high_risk_unsafeguarded", "VL03"),
        ("complaint_handling", "referral_missed", "CH05"),
        ("high_impact_investigation", "scene_lost", "II01"),
    ],
)
def test_each_critical_trait_fails_its_critical_criterion_alone(
    case_type: str, trait: str, criterion: str
) -> None:
    (ruleset,) = [r for r in RULESETS.values() if r.case_type == case_type]
    extra = {"right_to_ask": True} if trait in CLARES_LAW_ONLY else {}
    row = _typed(build_row(case_type, **{trait: True}, **extra), FIELDS[case_type])
    (score,) = score_cases(ruleset, [{"key": 0, "case_type": case_type, **row}])
    assert score.critical_failures == (criterion,)
    assert [cid for cid, o in score.outcomes.items() if o.value == "fail"] == [criterion]
