"""Compact facts: short keys with a legend, answers as codes, and each coded answer's tests merged into
the one cheapest engine test, as the audited definitions show."""

from __future__ import annotations

import json

from engine.rules import durable
from engine.rules.expressions import compile_condition
from engine.rules.scoring import engine_rules
from tests.rules.generated import FORM, HERE, SETTINGS
from tests.rules.test_scoring import Criterion, Ruleset


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
