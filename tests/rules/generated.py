"""Generated criteria, cases and engine rules for the rule-engine tests: random expression trees over a
small form with judgement, choice, date, integer and text questions, and cases with blanks."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from engine.core.errors import ExpressionError, Location
from engine.core.models import JUDGEMENT_ANSWERS, AnswerType, FieldSpec
from engine.rules.chunks import Rule
from engine.rules.expressions import Atom, Field, compile_condition
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


def large_ruleset() -> tuple[Ruleset, list[dict[str, Any]]]:
    """60 generated criteria and 450 cases (three batches of 200 facts), drawn from a fixed seed."""
    rng = random.Random(20261225)
    ruleset = build([criterion(rng.choice) for _ in range(60)])
    return ruleset, [{"key": i, **case(rng.choice)} for i in range(450)]


def yes_rules(n: int) -> tuple[Rule, ...]:
    """n rules on n different questions that a fully 'yes' fact satisfies all at once."""
    return tuple(Rule(f"R{i}", Atom(Field(f"q{i}", J, JUDGEMENT_ANSWERS), "eq", "yes"), i) for i in range(n))


def all_yes(n: int) -> list[dict[str, Any]]:
    return [{f"q{i}": "yes" for i in range(n)} for _ in range(3)]
