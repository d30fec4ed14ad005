"""Lowering for the rule engine: a condition becomes ``AllOf``/``AnyOf`` trees over ``Atom``s (fact key,
operator, constant) in negation normal form; ``Projection`` computes the facts they read."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from engine.core.models import AnswerType
from engine.rules.expressions.tree import (
    And,
    Compare,
    Const,
    Field,
    Node,
    Not,
    Or,
    Pick,
    Presence,
    Span,
    Term,
)
from engine.rules.expressions.vocabulary import OPERATORS

# ----------------------------------------------------------------------------- derived sources


@dataclass(frozen=True)
class Diff:
    """Derived: the difference of two numeric sources (a comparison between two questions)."""

    left: Field | Span
    right: Field | Span

    @property
    def key(self) -> str:
        return f"_diff__{self.left.key}__{self.right.key}"

    def value(self, case: Mapping[str, Any]) -> int | None:
        a, b = self.left.value(case), self.right.value(case)
        return None if a is None or b is None else a - b


@dataclass(frozen=True)
class Same:
    """Derived: 1 when two text questions hold the same answer, 0 when they differ."""

    left: Field
    right: Field

    @property
    def key(self) -> str:
        return f"_same__{self.left.key}__{self.right.key}"

    def value(self, case: Mapping[str, Any]) -> int | None:
        a, b = case.get(self.left.name), case.get(self.right.name)
        return None if a is None or b is None else int(a == b)


#: what an engine fact key is computed from
Source = Field | Span | Diff | Same

# ----------------------------------------------------------------------------- lowering for the engine


@dataclass(frozen=True)
class Atom:
    """One engine test: ``fact[source.key] op value``; ops are OPERATORS keys plus 'ex' and 'nex'."""

    source: Source
    op: str
    value: Any = None


@dataclass(frozen=True)
class AllOf:
    items: tuple[Lowered, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Lowered, ...]


Lowered = Atom | AllOf | AnyOf


def _flat(kind: type[AllOf] | type[AnyOf], items: Iterable[Lowered]) -> Lowered:
    out: dict[Lowered, None] = {}
    for i in items:
        for j in i.items if isinstance(i, kind) else (i,):
            out[j] = None
    parts = tuple(out)
    return parts[0] if len(parts) == 1 else kind(parts)


def all_of(*items: Lowered) -> Lowered:
    """Conjunction of lowered conditions (flattened, duplicates dropped)."""
    return _flat(AllOf, items)


def any_of(*items: Lowered) -> Lowered:
    """Disjunction of lowered conditions (flattened, duplicates dropped)."""
    return _flat(AnyOf, items)


def negate(node: Lowered) -> Lowered:
    """The lowered tree that holds exactly when ``node`` does not (blank values included)."""
    if isinstance(node, AllOf):
        return any_of(*(negate(i) for i in node.items))
    if isinstance(node, AnyOf):
        return all_of(*(negate(i) for i in node.items))
    if node.op in ("ex", "nex"):
        return Atom(node.source, "nex" if node.op == "ex" else "ex")
    return any_of(Atom(node.source, OPERATORS[node.op].negation, node.value), Atom(node.source, "nex"))


def _source(term: Term) -> Field | Span:
    assert isinstance(term, Field | Span), term
    return term


def lower(node: Node, positive: bool = True) -> Lowered:
    """The atom tree that is true exactly when ``node`` is (``positive``) or is not (negation normal form)."""
    if isinstance(node, And | Or):
        parts = [lower(i, positive) for i in node.items]
        return all_of(*parts) if isinstance(node, And) == positive else any_of(*parts)
    if isinstance(node, Not):
        return lower(node.item, not positive)
    if isinstance(node, Presence):
        f = node.field
        if not node.answered:
            return Atom(f, "nex" if positive else "ex")
        if f.is_text:
            return Atom(f, "ne", "na") if positive else any_of(Atom(f, "eq", "na"), Atom(f, "nex"))
        return Atom(f, "ex" if positive else "nex")
    if isinstance(node.right, Pick):
        pick = node.right
        chosen = Or((And((pick.test, Compare(node.op, node.left, pick.then))),
                     And((Not(pick.test), Compare(node.op, node.left, pick.orelse)))))  # fmt: skip
        return lower(chosen, positive)
    op, source, value = _atom_parts(node)
    return Atom(source, op, value) if positive else negate(Atom(source, op, value))


def _atom_parts(c: Compare) -> tuple[str, Source, Any]:
    left, right = c.left, c.right
    if isinstance(right, tuple):
        return c.op, _source(left), tuple(r.value for r in right)
    if isinstance(right, Const):
        return c.op, _source(left), right.value
    a, b = _source(left), _source(right)
    if isinstance(a, Field) and isinstance(b, Field) and a.is_text:
        pair = Same(*sorted((a, b), key=lambda f: f.name))
        return "eq", pair, 1 if c.op == "eq" else 0
    if isinstance(a, Field) and isinstance(b, Field) and a.type is AnswerType.DATE:
        return c.op, Span(False, b, a), 0  # a op b  <=>  (a - b) op 0
    return c.op, Diff(a, b), 0


def _plain(atom: Atom) -> tuple[str, Any]:
    return atom.source.key, atom.value


def durable_condition(node: Lowered, encode: Callable[[Atom], tuple[str, Any]] = _plain) -> dict[str, Any]:
    """The durable-rules JSON condition (the value of ``{"m": ...}``) for a lowered tree.

    ``encode`` gives each atom's fact key and constant as the facts carry them (default: as they are).
    """
    if isinstance(node, AllOf):
        return {"$and": [durable_condition(i, encode) for i in node.items]}
    if isinstance(node, AnyOf):
        return {"$or": [durable_condition(i, encode) for i in node.items]}
    key, value = encode(node)
    if node.op == "ex":
        return {"$ex": {key: 1}}
    if node.op == "nex":
        return {"$nex": {key: 1}}
    return OPERATORS[node.op].durable(key, value)


def evaluate_lowered(node: Lowered, fact: Mapping[str, Any]) -> bool:
    """Evaluate a lowered tree on a projected fact, as the engine does (missing key = blank)."""
    if isinstance(node, AllOf):
        return all(evaluate_lowered(i, fact) for i in node.items)
    if isinstance(node, AnyOf):
        return any(evaluate_lowered(i, fact) for i in node.items)
    v = fact.get(node.source.key)
    if node.op == "nex":
        return v is None
    if v is None:
        return False
    return node.op == "ex" or OPERATORS[node.op].evaluate(v, node.value)


def sources(node: Lowered) -> Iterator[Source]:
    """Every source a lowered tree reads (with repeats)."""
    if isinstance(node, Atom):
        yield node.source
    else:
        for i in node.items:
            yield from sources(i)


def questions(node: Lowered) -> Iterator[str]:
    """The question ids a lowered tree reads, derived sources' own questions included (with repeats):
    two cases with the same answers to them make the same facts."""
    todo: list[Source] = list(sources(node))
    while todo:
        s = todo.pop()
        if isinstance(s, Field):
            yield s.name
        elif isinstance(s, Span):
            todo += (s.start, s.end)
        else:  # Diff, Same
            todo += (s.left, s.right)


def atoms(node: Lowered) -> Iterator[Atom]:
    """Every atom of a lowered tree (with repeats)."""
    if isinstance(node, Atom):
        yield node
    else:
        for i in node.items:
            yield from atoms(i)


class Projection:
    """Maps a case to the fact the engine sees: only the keys read, derived values computed, no blanks.

    Dates become day numbers; a derived value is absent when any of its inputs is blank.
    """

    def __init__(self, used: Iterable[Source]) -> None:
        unique = {s.key: s for s in used}
        self.keys: tuple[str, ...] = tuple(sorted(unique))
        plain = [s for s in unique.values() if isinstance(s, Field) and s.type is not AnswerType.DATE]
        self._plain = tuple((s.key, s.name) for s in plain)
        self._computed = tuple((s.key, s.value) for s in unique.values() if s not in plain)

    def __call__(self, case: Mapping[str, Any], fact: dict[str, Any]) -> dict[str, Any]:
        """Add the projected values of ``case`` to ``fact`` (which may already hold an id) and return it."""
        get = case.get
        for key, name in self._plain:
            v = get(name)
            if v is not None:
                fact[key] = v
        for key, compute in self._computed:
            v = compute(case)
            if v is not None:
                fact[key] = v
        return fact


# ----------------------------------------------------------------------------- always true / false


def _candidates(source: Source, constants: list[Any]) -> list[Any]:
    if isinstance(source, Same):
        return [0, 1, None]
    if isinstance(source, Field) and source.is_text:
        if source.choices is not None:
            return [*source.choices, None]
        return [*dict.fromkeys(c for c in constants if isinstance(c, str)), "\x00other", None]
    numbers = {n + d for n in constants if isinstance(n, int) for d in (-1, 0, 1)} or {0}
    if isinstance(source, Field):
        lo, hi = source.minimum, source.maximum
        numbers |= {b for b in (lo, hi) if b is not None}
        numbers = {n for n in numbers if (lo is None or n >= lo) and (hi is None or n <= hi)}
    return [*sorted(numbers), None]


def constant_truth(node: Lowered, limit: int = 4096) -> bool | None:
    """True/False if the tree has that value for every answer, None if not or too large to tell.

    Sources are treated as independent, which only adds impossible combinations: a tree that is
    constant over them is constant in reality too, so this never reports a false alarm.
    """
    consts: dict[str, list[Any]] = {}
    by_key: dict[str, Source] = {}
    for a in atoms(node):
        by_key[a.source.key] = a.source
        vals = consts.setdefault(a.source.key, [])
        vals.extend(a.value if isinstance(a.value, tuple) else [a.value])
    keys = list(by_key)
    domains = [_candidates(by_key[k], consts[k]) for k in keys]
    total = 1
    for d in domains:
        total *= len(d)
    if total > limit:
        return None
    seen: set[bool] = set()
    for combo in itertools.product(*domains):
        seen.add(evaluate_lowered(node, {k: v for k, v in zip(keys, combo, strict=True) if v is not None}))
        if len(seen) == 2:
            return None
    return seen.pop()
