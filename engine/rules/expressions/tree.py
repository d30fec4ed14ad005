"""The checked condition tree: its values (questions, constants, numbers of days, numbers chosen by a
condition), its nodes (comparisons, blank tests, and, or, not), and their plain-Python evaluation."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.core.models import AnswerType
from engine.rules.expressions.vocabulary import OPERATORS, day_numbers, to_ordinal

# ----------------------------------------------------------------------------- terms (values)

Predicate = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class Field:
    """A question of the case type's form, as a value (and as a fact key for the engine)."""

    name: str
    type: AnswerType
    choices: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None

    @property
    def key(self) -> str:
        # 'id' and 'sid' are durable-rules' own fact keys; '_' starts derived keys
        return f"_q_{self.name}" if self.name in ("id", "sid") or self.name.startswith("_") else self.name

    @property
    def is_text(self) -> bool:
        return self.type in (AnswerType.JUDGEMENT, AnswerType.CHOICE, AnswerType.TEXT)

    def value(self, case: Mapping[str, Any]) -> Any:
        v = case.get(self.name)
        if v is not None and self.type is AnswerType.DATE:
            return to_ordinal(v)
        return v

    def kind(self) -> str:
        return {
            AnswerType.JUDGEMENT: "a judgement question",
            AnswerType.CHOICE: "a choice question",
            AnswerType.DATE: "a date question",
            AnswerType.INTEGER: "a whole-number question",
            AnswerType.TEXT: "a text question",
        }[self.type]


@dataclass(frozen=True)
class Const:
    """A literal or a setting. Date constants hold their day number."""

    value: str | int
    text: str
    setting: str | None = None
    is_date: bool = False

    def kind(self) -> str:
        what = f"{self.text!r}" if isinstance(self.value, str) and not self.is_date else self.text
        noun = "a date" if self.is_date else "text" if isinstance(self.value, str) else "a whole number"
        return f"{what} ({noun}{', setting ' + self.setting if self.setting else ''})"

    def shown(self) -> str:
        return f"{self.text!r}" if isinstance(self.value, str) and not self.is_date else self.text


@dataclass(frozen=True)
class Span:
    """days_between / working_days_between of two date questions (end minus start)."""

    working: bool
    start: Field
    end: Field

    @property
    def key(self) -> str:
        return f"_{'wd' if self.working else 'd'}__{self.start.key}__{self.end.key}"

    def value(self, case: Mapping[str, Any]) -> int | None:
        a = case.get(self.start.name)
        b = case.get(self.end.name)
        if a is None or b is None:
            return None
        k = 1 if self.working else 0
        return day_numbers(b)[k] - day_numbers(a)[k]

    def kind(self) -> str:
        return "a number of working days" if self.working else "a number of days"


@dataclass(frozen=True)
class Pick:
    """``then if test else orelse`` over whole numbers."""

    test: Node
    then: Const
    orelse: Const | Pick
    _test: Predicate = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_test", evaluator(self.test))

    def chosen(self, case: Mapping[str, Any]) -> Const:
        """The branch that applies to ``case``."""
        picked = self.then if self._test(case) else self.orelse
        return picked.chosen(case) if isinstance(picked, Pick) else picked

    def value(self, case: Mapping[str, Any]) -> int:
        return int(self.chosen(case).value)

    def kind(self) -> str:
        return "a number"


Term = Field | Const | Span | Pick


# ----------------------------------------------------------------------------- conditions (the tree)


@dataclass(frozen=True)
class Compare:
    """``left op right``; ``right`` is a tuple of constants for in / not in. Constants are on the right."""

    op: str
    left: Term
    right: Term | tuple[Const, ...]


@dataclass(frozen=True)
class Presence:
    """blank(q) (``answered=False``) or answered(q)."""

    field: Field
    answered: bool


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Compare | Presence | And | Or | Not

# ----------------------------------------------------------------------------- python evaluation


def _value_getter(term: Term) -> Callable[[Mapping[str, Any]], Any]:
    if isinstance(term, Const):
        v = term.value
        return lambda case: v
    return term.value


def evaluator(node: Node) -> Predicate:
    """A closure evaluating ``node`` on a case (the plain-Python evaluator and the oracle)."""
    if isinstance(node, And):
        parts = tuple(evaluator(i) for i in node.items)
        return lambda case: all(p(case) for p in parts)
    if isinstance(node, Or):
        parts = tuple(evaluator(i) for i in node.items)
        return lambda case: any(p(case) for p in parts)
    if isinstance(node, Not):
        inner = evaluator(node.item)
        return lambda case: not inner(case)
    if isinstance(node, Presence):
        name = node.field.name
        if node.answered:
            return lambda case: (v := case.get(name)) is not None and v != "na"
        return lambda case: case.get(name) is None
    test = OPERATORS[node.op].evaluate
    left = _value_getter(node.left)
    if isinstance(node.right, tuple):
        values = tuple(c.value for c in node.right)
        return lambda case: (v := left(case)) is not None and test(v, values)
    if (
        isinstance(node.left, Field)
        and node.left.type is not AnswerType.DATE
        and isinstance(node.right, Const)
    ):
        name, const = node.left.name, node.right.value
        if node.op == "eq":
            return lambda case: case.get(name) == const
        return lambda case: (v := case.get(name)) is not None and test(v, const)
    right = _value_getter(node.right)

    def compare(case: Mapping[str, Any]) -> bool:
        a = left(case)
        if a is None:
            return False
        b = right(case)
        return b is not None and test(a, b)

    return compare


def fields_of(node: Node | Term) -> Iterator[Field]:
    """Every question a node or term reads (with repeats)."""
    if isinstance(node, Field):
        yield node
    elif isinstance(node, Span):
        yield node.start
        yield node.end
    elif isinstance(node, Pick):
        yield from fields_of(node.test)
        yield from fields_of(node.orelse)
    elif isinstance(node, Presence):
        yield node.field
    elif isinstance(node, Compare):
        yield from fields_of(node.left)
        if not isinstance(node.right, tuple):
            yield from fields_of(node.right)
    elif isinstance(node, And | Or):
        for i in node.items:
            yield from fields_of(i)
    elif isinstance(node, Not):
        yield from fields_of(node.item)
