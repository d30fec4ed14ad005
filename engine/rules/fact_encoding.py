"""Compact engine facts: short keys, answers as small codes, one merged test per coded answer in each
and/or, and the writer of each case's fact as JSON text."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import count, product
from operator import itemgetter
from typing import Any, cast

from engine.core.models import AnswerType
from engine.rules.chunks import Rule
from engine.rules.expressions import AllOf, AnyOf, Atom, Field, Lowered, Source, atoms, to_ordinal


def _short_names() -> Iterator[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    for size in count(1):
        for chars in product(letters, repeat=size):
            name = "".join(chars)
            if name not in ("id", "sid"):
                yield name


@dataclass(frozen=True)
class _Key:
    """A fact key as the engine's facts carry it (a short name)."""

    key: str


@dataclass(frozen=True)
class _Codes:
    """A set of codes one coded answer may take: the merged meaning of its tests in one and/or."""

    key: str
    codes: frozenset[int]


_BLANK = -1


def _encoded(name: str, op: str, value: Any = None) -> Atom:
    """An atom on an encoded fact key. A _Key stands in for the Source it encodes: ``durable_condition``
    and ``sources`` read only its ``key``."""
    return Atom(cast(Source, _Key(name)), op, value)


class Encoding:
    """Facts a third the size, and one engine test per question where the expression had several.

    durable parses every fact and copies the whole fact into the action text of every match, so fact
    size is most of the engine's cost. Keys become short names. Answers of choice and judgement
    questions become small integer codes, always present: blank is code -1 and an answer outside the
    question's choices the last code, equal to no constant. Then the tests on one such question in
    one and/or merge into the set of codes they allow, written as the cheapest single test: the
    negated ``x == 'yes'``, ``x != 'yes' or x is blank``, becomes ``x != 0``. Only ==, !=, in and
    not in apply to answers, so the codes keep the meaning exactly.
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.sources: dict[str, Source] = {}
        for r in rules:
            for atom in atoms(r.when):
                self.sources.setdefault(atom.source.key, atom.source)
        names = _short_names()
        self.names = {key: next(names) for key in self.sources}
        self.codes: dict[str, dict[str, int]] = {}
        for r in rules:
            for atom in atoms(r.when):
                s = atom.source
                if isinstance(s, Field) and s.is_text and s.choices is not None:
                    codes = self.codes.setdefault(s.key, {c: i for i, c in enumerate(s.choices)})
                    for v in atom.value if isinstance(atom.value, tuple) else (atom.value,):
                        if isinstance(v, str):
                            codes.setdefault(v, len(codes))
        #: every code a coded answer can have: blank, the answers, and "something else"
        self.universe = {key: frozenset(range(_BLANK, len(codes) + 1)) for key, codes in self.codes.items()}

    def rule(self, rule: Rule) -> Rule | None:
        """The rule over encoded facts; None when it can never hold."""
        when = self._emit(self._merge(rule.when))
        if when is False:
            return None
        if when is True:
            when = _encoded("id", "ex")
        return Rule(rule.name, when, rule.bit)

    def legend(self) -> dict[str, Any]:
        """What the short keys and codes stand for (for audit)."""
        return {
            self.names[key]: {"source": key, **({"codes": self.codes[key]} if key in self.codes else {})}
            for key in self.sources
        }

    def _merge(self, node: Lowered) -> Any:
        """``node`` with each coded answer's tests merged into one ``_Codes`` per and/or (True/False if decided)."""
        if isinstance(node, Atom):
            key = node.source.key
            if key not in self.codes:
                return _encoded(self.names[key], node.op, node.value)
            codes, universe = self.codes[key], self.universe[key]
            values = node.value if isinstance(node.value, tuple) else (node.value,)
            chosen = frozenset(codes[v] for v in values if v is not None)
            allowed = {
                "nex": frozenset({_BLANK}),
                "ex": universe - {_BLANK},
                "eq": chosen,
                "in": chosen,
                "ne": universe - {_BLANK} - chosen,
                "nin": universe - {_BLANK} - chosen,
            }[node.op]
            return self._constant(key, allowed)
        both = isinstance(node, AllOf)
        parts: list[Any] = []
        merged: dict[str, frozenset[int]] = {}
        for item in node.items:
            part = self._merge(item)
            if part is (not both):  # False in an 'and', True in an 'or' decides it
                return part
            if part is both:
                continue
            if isinstance(part, _Codes):
                seen = merged.get(part.key)
                merged[part.key] = (
                    part.codes if seen is None else (seen & part.codes if both else seen | part.codes)
                )
            else:
                parts.extend(part.items if isinstance(part, AllOf if both else AnyOf) else (part,))
        for key, allowed in merged.items():
            part = self._constant(key, allowed)
            if part is (not both):
                return part
            if part is not both:
                parts.append(part)
        if not parts:
            return both
        return parts[0] if len(parts) == 1 else (AllOf if both else AnyOf)(tuple(parts))

    def _constant(self, key: str, codes: frozenset[int]) -> _Codes | bool:
        if not codes:
            return False
        return True if codes == self.universe[key] else _Codes(key, codes)

    def _emit(self, node: Any) -> Any:
        """The cheapest engine test for each ``_Codes``: ==, !=, a range, or the smaller of in / not in."""
        if isinstance(node, bool | Atom):
            return node
        if isinstance(node, AllOf | AnyOf):
            return type(node)(tuple(self._emit(i) for i in node.items))
        name, universe = self.names[node.key], self.universe[node.key]
        chosen, rest = sorted(node.codes), sorted(universe - node.codes)
        if len(chosen) == 1:
            return _encoded(name, "eq", chosen[0])
        if len(rest) == 1:
            return _encoded(name, "ne", rest[0])
        if chosen[-1] - chosen[0] + 1 == len(chosen):  # a run of codes touching either end: one test
            if chosen[0] == min(universe):
                return _encoded(name, "le", chosen[-1])
            if chosen[-1] == max(universe):
                return _encoded(name, "ge", chosen[0])
        if len(chosen) <= len(rest):
            return _encoded(name, "in", tuple(chosen))
        return _encoded(name, "nin", tuple(rest))

    def writer(self, used: Iterable[Source]) -> FactWriter:
        return FactWriter(self, {s.key: s for s in used}.values())


class FactWriter:
    """Writes the JSON text of a fact: '{"id":3,"a":0,"b":739845,...}' (blank dates, numbers left out).

    A question's answer becomes its JSON snippet by one dict lookup (pre-filled for choices, memoised
    for dates and numbers), so the common case runs in C: itemgetter, map(dict.get), str.join.
    Derived values (days between dates, differences, same-answer flags) are computed per case.
    """

    _MEMO = 4096

    def __init__(self, encoding: Encoding, used: Iterable[Source]) -> None:
        plain: list[Field] = []
        self._derived: list[tuple[str, Callable[[Mapping[str, Any]], Any]]] = []
        for s in used:
            if isinstance(s, Field):
                plain.append(s)
            else:
                self._derived.append((f',"{encoding.names[s.key]}":', s.value))
        self.fields = len(plain) + len(self._derived)
        self._names = tuple(f.name for f in plain)
        self._get: Callable[[Mapping[str, Any]], tuple[Any, ...]]
        if not self._names:
            self._get = lambda case: ()
        elif len(self._names) == 1:
            getter = itemgetter(self._names[0])
            self._get = lambda case: (getter(case),)
        else:
            self._get = itemgetter(*self._names)
        self._tables: list[dict[Any, str]] = []
        self._render: list[Callable[[Any], str]] = []
        for f in plain:
            prefix = f',"{encoding.names[f.key]}":'
            table: dict[Any, str] = {None: ""}
            codes = encoding.codes.get(f.key)
            if codes is not None:
                table = {None: f"{prefix}{_BLANK}"}
                table.update((answer, f"{prefix}{code}") for answer, code in codes.items())
                other = f"{prefix}{len(codes)}"  # an answer outside the choices
                self._render.append(_constant(other))
            elif f.type is AnswerType.DATE:
                self._render.append(_day_number(prefix))
            else:
                self._render.append(_json(prefix))
            self._tables.append(table)

    def __call__(self, case: Mapping[str, Any], i: int) -> str:
        try:
            values = self._get(case)
        except KeyError:  # a case without some question at all: same as blank
            values = tuple(map(case.get, self._names))
        try:
            found: list[str | None] = list(map(dict.get, self._tables, values))
        except TypeError:  # an unhashable answer; rendered (and rejected) below
            found = [None] * len(values)
        if None in found:
            parts = [self._miss(k, values[k]) if part is None else part for k, part in enumerate(found)]
        else:
            parts = cast(list[str], found)  # every answer had its snippet
        for prefix, compute in self._derived:
            v = compute(case)
            if v is not None:
                parts.append(f"{prefix}{v}")
        return f'{{"id":{i}{"".join(parts)}}}'

    def _miss(self, k: int, value: Any) -> str:
        text = self._render[k](value)
        table = self._tables[k]
        if len(table) < self._MEMO:
            try:
                table[value] = text
            except TypeError:
                pass
        return text


def _constant(text: str) -> Callable[[Any], str]:
    return lambda value: text


def _day_number(prefix: str) -> Callable[[Any], str]:
    return lambda value: f"{prefix}{to_ordinal(value)}"


def _json(prefix: str) -> Callable[[Any], str]:
    return lambda value: prefix + json.dumps(value)
