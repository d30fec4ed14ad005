"""The condition language of rulesets: parse, type-check, evaluate, describe, explain, and lower to atoms.

A condition is one line of Python *syntax* (``applies:`` and ``pass:`` of a criterion), parsed with
``ast.parse`` and walked over a whitelist of node types; it is never compiled or evaluated by Python,
so a ruleset can never run code. Names are the question ids of the case type's QA form, then named
settings (constants with documented defaults).

Operators (``OPERATORS``; each has python evaluate, durable-rules compile and a describe phrase):

    ======== =================================== ===================================================
    operator operands                            meaning
    ======== =================================== ===================================================
    ==       answer, text, number or date        equal; an answer must be one of the question's answers
    !=       answer, text, number or date        not equal (a blank answer is *not* "not equal")
    <  <=    number or date                      less than, at most (dates: before, on or before)
    >  >=    number or date                      more than, at least (dates: after, on or after)
    in       answer, text or number, (a, b, ...) one of the listed values
    not in   answer, text or number, (a, b, ...) none of the listed values (and not blank)
    and, or  conditions                          both / either
    not      condition                           classical negation: ``not x == 'yes'`` holds when x is blank
    a if c else b  whole numbers                 a number chosen by condition c (e.g. a deadline)
    ======== =================================== ===================================================

Functions (``FUNCTIONS``):

    ================================= ==========================================================
    blank(q)                          q was not answered (missing or None)
    answered(q)                       q is not blank and not 'na'
    days_between(a, b)                calendar days from date a to date b (b minus a)
    working_days_between(a, b)        England and Wales working days after a up to and including b
                                      (weekends and bank holidays from ``holidays.UK(subdiv="ENG")``
                                      excluded); negative when b is before a
    days_after(d, n)                  only as ``x <op> days_after(d, n)``, which means
                                      ``days_between(d, x) <op> n``
    working_days_after(d, n)          only as ``x <op> working_days_after(d, n)``, which means
                                      ``working_days_between(d, x) <op> n``: "x is within n working
                                      days of d". So an update on the Saturday after a Friday
                                      deadline is still within it: no working day had passed.
    ================================= ==========================================================

Semantics (identical in the Python evaluator and in durable-rules): a value is blank when its key is
missing or None; any comparison with a blank operand is false; ``not`` is classical negation.
Values: str for judgement/choice/text answers, ISO ``YYYY-MM-DD`` str (or ``datetime.date``) for
dates, int for integers.

Lowering (for the rule engine): a condition becomes a tree of ``AllOf``/``AnyOf`` over ``Atom``s
(fact key, operator, constant), with negation pushed down to the atoms: ``not (x == 'a')`` becomes
``x != 'a' or x is blank``, exact under the semantics above. Derived numbers (days between two dates,
differences of two questions) are computed by ``Projection`` before a fact reaches the engine, so the
engine only ever compares a fact field with a constant. Dates travel as ordinal day numbers.
"""

from __future__ import annotations

import ast
import difflib
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import holidays

from engine.core.errors import ExpressionError, Location
from engine.core.models import JUDGEMENT_ANSWERS, AnswerType, FieldSpec

# ----------------------------------------------------------------------------- dates and working days

_DAYS: dict[Any, tuple[int, int]] = {}


def _day(value: Any) -> tuple[int, int]:
    """(day number, working-day count) of an ISO date string or ``datetime.date``, cached: dates repeat."""
    found = _DAYS.get(value)
    if found is None:
        ordinal = (date.fromisoformat(value) if isinstance(value, str) else value).toordinal()
        found = (ordinal, _CALENDAR.count(ordinal))
        if len(_DAYS) > 200_000:
            _DAYS.clear()
        _DAYS[value] = found
    return found


def to_ordinal(value: Any) -> int:
    """Day number of an ISO date string or a ``datetime.date``."""
    return _day(value)[0]


class _WorkingDayCalendar:
    """Cumulative count of England and Wales working days, extended a span of years at a time."""

    #: years outside this range are almost certainly typing errors, not dates to count working days over
    FIRST_YEAR, LAST_YEAR = 1900, 2199

    def __init__(self) -> None:
        self._first = 0
        self._counts: list[int] = []
        self._years = (0, -1)

    def count(self, ordinal: int) -> int:
        """Working days from the start of the covered span up to and including ``ordinal``."""
        i = ordinal - self._first
        if 0 <= i < len(self._counts):
            return self._counts[i]
        self._cover(date.fromordinal(ordinal).year)
        return self._counts[ordinal - self._first]

    def _cover(self, year: int) -> None:
        if not self.FIRST_YEAR <= year <= self.LAST_YEAR:
            raise ValueError(
                f"working days are only counted for {self.FIRST_YEAR}-{self.LAST_YEAR}, not {year}"
            )
        lo, hi = self._years
        lo, hi = (year - 5, year + 5) if hi < lo else (min(lo, year), max(hi, year))
        bank = holidays.UK(subdiv="ENG", years=range(lo, hi + 1))
        first = date(lo, 1, 1).toordinal()
        last = date(hi, 12, 31).toordinal()
        counts, n = [], 0
        for o in range(first, last + 1):
            d = date.fromordinal(o)
            if d.weekday() < 5 and d not in bank:
                n += 1
            counts.append(n)
        self._first, self._counts, self._years = first, counts, (lo, hi)


_CALENDAR = _WorkingDayCalendar()


def working_days_between(start: str | date, end: str | date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative if ``end`` is earlier).

    >>> working_days_between("2026-12-24", "2026-12-30")   # Christmas, a weekend, Boxing Day observed
    2
    """
    return _day(end)[1] - _day(start)[1]


# ----------------------------------------------------------------------------- the operator table


@dataclass(frozen=True)
class Operator:
    """One comparison: how Python evaluates it, how durable-rules spells it, how people read it."""

    key: str
    symbol: str
    accepts: str
    evaluate: Callable[[Any, Any], bool]
    durable: Callable[[str, Any], dict[str, Any]]
    #: the operator that holds exactly when this one does not (both operands present)
    negation: str
    #: the operator to use when the operands swap sides
    flipped: str
    #: phrase between two numbers ("is at least"), between two dates ("on or after"), and for deadlines
    number_phrase: str
    date_phrase: str
    span_phrase: str


def _durable_in(key: str, values: Any) -> dict[str, Any]:
    if not values:
        raise ValueError(f"'in' needs at least one value for {key}")
    if len(values) == 1:
        return {key: values[0]}
    return {"$or": [{key: v} for v in values]}


def _durable_not_in(key: str, values: Any) -> dict[str, Any]:
    if len(values) == 1:
        return {"$neq": {key: values[0]}}
    return {"$and": [{"$neq": {key: v}} for v in values]}


def _dop(name: str) -> Callable[[str, Any], dict[str, Any]]:
    return lambda key, value: {name: {key: value}}


OPERATORS: dict[str, Operator] = {
    op.key: op
    for op in (
        Operator("eq", "==", "answer, text, number, date", operator.eq, lambda k, v: {k: v}, "ne", "eq",
                 "is", "on the same day as", "exactly"),
        Operator("ne", "!=", "answer, text, number, date", operator.ne, _dop("$neq"), "eq", "ne",
                 "is not", "not on the same day as", "not exactly"),
        Operator("lt", "<", "number, date", operator.lt, _dop("$lt"), "ge", "gt",
                 "is less than", "before", "less than"),
        Operator("le", "<=", "number, date", operator.le, _dop("$lte"), "gt", "ge",
                 "is at most", "on or before", "within"),
        Operator("gt", ">", "number, date", operator.gt, _dop("$gt"), "le", "lt",
                 "is more than", "after", "more than"),
        Operator("ge", ">=", "number, date", operator.ge, _dop("$gte"), "lt", "le",
                 "is at least", "on or after", "at least"),
        Operator("in", "in", "answer, text, number; a tuple of literals", lambda a, b: a in b, _durable_in,
                 "nin", "in", "is", "on", ""),
        Operator("nin", "not in", "answer, text, number; a tuple of literals", lambda a, b: a not in b,
                 _durable_not_in, "in", "nin", "is not", "not on", "not"),
    )
}  # fmt: skip

_AST_OPERATORS: dict[type[ast.cmpop], str] = {
    ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge",
    ast.In: "in", ast.NotIn: "nin",
}  # fmt: skip

_ORDERING = frozenset({"lt", "le", "gt", "ge"})


@dataclass(frozen=True)
class Function:
    """A function a condition may call."""

    name: str
    params: tuple[str, ...]
    returns: str  # "condition", "number" or "deadline"
    meaning: str


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function("blank", ("question",), "condition", "the question was not answered"),
        Function("answered", ("question",), "condition", "answered, and not 'na'"),
        Function("days_between", ("date", "date"), "number", "calendar days from the first date to the second"),
        Function("working_days_between", ("date", "date"), "number",
                 "England and Wales working days after the first date up to and including the second"),
        Function("days_after", ("date", "number"), "deadline", "a deadline n calendar days after a date"),
        Function("working_days_after", ("date", "number"), "deadline", "a deadline n working days after a date"),
    )
}  # fmt: skip

# ----------------------------------------------------------------------------- words for people

_ACRONYMS = frozenset(
    "bwv cctv cps da dash dg6 dvds dvpn gap marac mda mg2 mg4 mg5 mg6 mg9 mg10 mg11 mg18 mg19 ngap nfs "
    "pace pnc s1 s23 s47a s60 vps wcu gowisely".split()
)
_PARTICIPLES = frozenset("done made given found taken seen held known shown sent kept present met".split())
#: a question named after who acted ("supervisor_reviewed") reads in the active voice
_AGENTS = frozenset("supervisor cps reviewer officer".split())


def _words(name: str) -> list[str]:
    return [w.upper() if w in _ACRONYMS else w for w in name.split("_") if w]


def label(name: str) -> str:
    """A question id in words: ``dash_yes_count`` -> "DASH yes count", ``crime_recorded_on`` -> "crime recorded"."""
    words = _words(name)
    if len(words) > 1 and words[-1] in ("on", "at", "date"):
        words = words[:-1]
    return " ".join(words)


def _statement(name: str, answer: str) -> str | None:
    """``grounds_recorded``/'no' -> "grounds were not recorded"; None when the id does not read that way."""
    words = _words(name)
    if words[-2:] == ["set", "out"]:
        subject, done = words[:-2], "set out"
    elif words and (words[-1] in _PARTICIPLES or (words[-1].endswith("ed") and len(words[-1]) > 3)):
        subject, done = words[:-1], words[-1]
    else:
        return None
    adverb = {"yes": "", "no": "not ", "partly": "partly "}.get(answer)
    if not subject or adverb is None:
        return None
    if len(subject) == 1 and subject[0].lower() in _AGENTS:
        return f"{subject[0]} {'had ' + adverb if adverb else ''}{done}"
    last = subject[-1]
    plural = last == "children" or (last.islower() and last.endswith("s") and not last.endswith("ss"))
    return f"{' '.join(subject)} {'were' if plural else 'was'} {adverb}{done}"


def _or_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _days(n: int, working: bool) -> str:
    unit = "working day" if working else "day"
    return f"{n} {unit}{'' if abs(n) == 1 else 's'}"


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
        return _day(b)[k] - _day(a)[k]

    def kind(self) -> str:
        return "a number of working days" if self.working else "a number of days"

    def noun(self) -> str:
        unit = "working days" if self.working else "days"
        return f"the number of {unit} from {label(self.start.name)} to {label(self.end.name)}"


@dataclass(frozen=True)
class Pick:
    """``then if test else orelse`` over whole numbers."""

    test: Node
    then: Const
    orelse: Const | Pick
    _test: Predicate = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_test", _evaluator(self.test))

    def chosen(self, case: Mapping[str, Any]) -> Const:
        """The branch that applies to ``case``."""
        picked = self.then if self._test(case) else self.orelse
        return picked.chosen(case) if isinstance(picked, Pick) else picked

    def value(self, case: Mapping[str, Any]) -> int:
        return int(self.chosen(case).value)

    def kind(self) -> str:
        return "a number"


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


Term = Field | Const | Span | Pick
#: what an engine fact key is computed from
Source = Field | Span | Diff | Same

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


def _evaluator(node: Node) -> Predicate:
    """A closure evaluating ``node`` on a case (the plain-Python evaluator and the oracle)."""
    if isinstance(node, And):
        parts = tuple(_evaluator(i) for i in node.items)
        return lambda case: all(p(case) for p in parts)
    if isinstance(node, Or):
        parts = tuple(_evaluator(i) for i in node.items)
        return lambda case: any(p(case) for p in parts)
    if isinstance(node, Not):
        inner = _evaluator(node.item)
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


# ----------------------------------------------------------------------------- describe and explain


def _describe_value(term: Term | tuple[Const, ...], quoted: bool = False) -> str:
    """``quoted``: free text is shown in quotes, answers from a list of choices are not."""
    if isinstance(term, tuple):
        return _or_list([_describe_value(c, quoted) for c in term])
    if isinstance(term, Const):
        return term.shown() if quoted else term.text
    if isinstance(term, Field):
        return label(term.name)
    if isinstance(term, Span):
        return term.noun()
    return _describe_pick(term, "", None)


def _describe_pick(pick: Pick, op_words: str, working: bool | None) -> str:
    """'1 working day (if X), otherwise within 5' style; ``working`` None means plain numbers."""

    def amount(c: Const) -> str:
        return _days(int(c.value), working) if working is not None else c.text

    rest = pick.orelse
    tail = _describe_pick(rest, op_words, working) if isinstance(rest, Pick) else amount(rest)
    lead = f"{op_words} " if op_words else ""
    return f"{amount(pick.then)} (if {describe(pick.test)}), otherwise {lead}{tail}"


def _describe_compare(c: Compare) -> str:
    op = OPERATORS[c.op]
    left, right = c.left, c.right
    if isinstance(left, Span) and not isinstance(right, Field | Span):
        start, end = label(left.start.name), label(left.end.name)
        if isinstance(right, tuple):
            amounts = _or_list([r.text for r in right])
            return (
                f"{end} {op.span_phrase + ' ' if op.span_phrase else ''}{amounts} {_unit(left)} after {start}"
            )
        linker = "of" if c.op == "le" else "after"
        if isinstance(right, Pick):
            then = _days(int(right.then.value), left.working)
            rest = right.orelse
            tail = (
                _describe_pick(rest, op.span_phrase, left.working)
                if isinstance(rest, Pick)
                else _days(int(rest.value), left.working)
            )
            return (
                f"{end} {op.span_phrase} {then} {linker} {start} (if {describe(right.test)}), "
                f"otherwise {op.span_phrase} {tail}"
            )
        assert isinstance(right, Const)
        return f"{end} {op.span_phrase} {_days(int(right.value), left.working)} {linker} {start}"
    if isinstance(left, Field) and left.type is AnswerType.DATE:
        return f"{label(left.name)} {op.date_phrase} {_describe_value(right)}"
    if isinstance(left, Field) and left.is_text:
        if isinstance(right, Const) and c.op == "eq":
            said = _statement(left.name, str(right.value))
            if said:
                return said
        if isinstance(right, Field):
            return f"{label(left.name)} {'is the same as' if c.op == 'eq' else 'differs from'} {label(right.name)}"
        quoted = left.choices is None
        if isinstance(right, tuple) and c.op == "nin":
            shown = [_describe_value(r, quoted) for r in right]
            if len(right) == 2:
                return f"{label(left.name)} is neither {shown[0]} nor {shown[1]}"
            return f"{label(left.name)} is not {_or_list(shown)}"
        return f"{label(left.name)} {op.number_phrase} {_describe_value(right, quoted)}"
    return f"{_describe_value(left)} {op.number_phrase} {_describe_value(right)}"


def _unit(span: Span) -> str:
    return "working days" if span.working else "days"


def describe(node: Node, *, nested: bool = False) -> str:
    """A sentence for people: ``grounds_recorded == 'yes'`` -> "grounds were recorded"."""
    if isinstance(node, And | Or):
        word, other = ("and", " or ") if isinstance(node, And) else ("or", " and ")
        parts = [describe(i, nested=True) for i in node.items]
        # "power is s60 or s47a, and ...": a comma keeps an inner 'or' from reading as the outer one
        loose = any(other in p for p, i in zip(parts, node.items, strict=True) if not isinstance(i, And | Or))
        text = (f", {word} " if loose else f" {word} ").join(parts)
        return f"({text})" if nested else text
    if isinstance(node, Presence):
        return _describe_presence(node, True)
    if isinstance(node, Not):
        if isinstance(node.item, Presence):
            return _describe_presence(node.item, False)
        return f"not ({describe(node.item)})"
    return _describe_compare(node)


def _describe_presence(node: Presence, holds: bool) -> str:
    name = label(node.field.name)
    if node.field.type is AnswerType.DATE:
        return f"{name} has {'a' if holds == node.answered else 'no'} date"
    if node.answered:
        return f"{name} was {'' if holds else 'not '}answered"
    return f"{name} was {'' if holds else 'not '}blank"


def _observed(f: Field, case: Mapping[str, Any]) -> str:
    v = case.get(f.name)
    return f"{f.name} was blank" if v is None else f"{f.name} was {v!r}"


def _fields_of(node: Node | Term) -> Iterator[Field]:
    if isinstance(node, Field):
        yield node
    elif isinstance(node, Span):
        yield node.start
        yield node.end
    elif isinstance(node, Pick):
        yield from _fields_of(node.test)
        yield from _fields_of(node.orelse)
    elif isinstance(node, Presence):
        yield node.field
    elif isinstance(node, Compare):
        yield from _fields_of(node.left)
        if not isinstance(node.right, tuple):
            yield from _fields_of(node.right)
    elif isinstance(node, And | Or):
        for i in node.items:
            yield from _fields_of(i)
    elif isinstance(node, Not):
        yield from _fields_of(node.item)


def _observations(node: Node | Term, case: Mapping[str, Any]) -> str:
    seen: dict[str, Field] = {f.name: f for f in _fields_of(node)}
    return ", ".join(_observed(f, case) for f in seen.values())


def _need(c: Compare, case: Mapping[str, Any]) -> str:
    op, right = OPERATORS[c.op], c.right
    why = ""
    if isinstance(right, Pick):
        why = f", as {_observations(right, case)}"
        right = right.chosen(case)
    if isinstance(right, tuple):
        if isinstance(c.left, Span):
            amount = _or_list([r.text for r in right])
            return f"{op.span_phrase + ' ' if op.span_phrase else ''}{amount}"
        values = ", ".join(r.shown() for r in right)
        return f"one of {values}" if c.op == "in" else f"none of {values}"
    if isinstance(right, Field | Span):
        return f"{_symbolic(c.left)} {op.symbol} {_symbolic(right)}"
    if isinstance(c.left, Span):
        return f"{op.span_phrase} {right.text}{why}"
    if isinstance(c.left, Field) and c.left.type is AnswerType.DATE:
        return f"{op.date_phrase} {right.text}"
    if c.op == "eq":
        return f"{right.shown()}{why}"
    if c.op == "ne":
        return f"anything but {right.shown()}{why}"
    return f"{op.number_phrase.removeprefix('is ')} {right.text}{why}"


def _symbolic(term: Term) -> str:
    if isinstance(term, Field):
        return term.name
    if isinstance(term, Span):
        return f"{'working_days_between' if term.working else 'days_between'}({term.start.name}, {term.end.name})"
    return _describe_value(term)


def _explain_leaf(node: Compare | Presence, case: Mapping[str, Any], truth: bool) -> str:
    if isinstance(node, Presence):
        obs = _observed(node.field, case)
        if not node.answered:
            need = "no answer"
        elif node.field.is_text:
            need = "an answer other than 'na'"
        else:
            need = "a date" if node.field.type is AnswerType.DATE else "an answer"
    else:
        left = node.left
        if isinstance(left, Span):
            n = left.value(case)
            if n is None:
                obs = _observations(left, case)
            else:
                where = "after" if n >= 0 else "before"
                obs = f"{label(left.end.name)} {_days(abs(n), left.working)} {where} {label(left.start.name)}"
        else:
            obs = _observations(left, case)
            if isinstance(node.right, Field | Span):
                obs += ", " + _observations(node.right, case)
        need = _need(node, case)
    return f"{obs} ({'as needed: ' if truth else 'needed '}{need})"


def explain(node: Node, case: Mapping[str, Any]) -> list[str]:
    """Why ``node`` is true or false for ``case``: the deciding sub-conditions with observed values."""
    truth = _evaluator(node)(case)
    if isinstance(node, And | Or):
        deciding = [i for i in node.items if _evaluator(i)(case) == truth]
        # a false 'and' is decided by its false parts, a true 'or' by its true parts; otherwise all count
        if (isinstance(node, And) and truth) or (isinstance(node, Or) and not truth):
            deciding = list(node.items)
        return [line for i in deciding for line in explain(i, case)]
    if isinstance(node, Not):
        inner = explain(node.item, case)
        return inner if truth else [f"needed not ({describe(node.item)}), but:", *inner]
    return [_explain_leaf(node, case, truth)]


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


def _constant_truth(node: Lowered, limit: int = 4096) -> bool | None:
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


# ----------------------------------------------------------------------------- the compiler

_ALLOWED = (
    "allowed: question ids, settings, 'text' and whole-number literals, ==, !=, <, <=, >, >=, in, not in, "
    "and, or, not, 'a if condition else b', and the functions " + ", ".join(FUNCTIONS)
)

_FORBIDDEN: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "a subscript",
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.JoinedStr: "an f-string",
    ast.BinOp: "arithmetic",
    ast.NamedExpr: "assignment",
    ast.Starred: "unpacking",
    ast.Dict: "a dictionary",
    ast.Await: "await",
    ast.Yield: "yield",
}


class _Compiler:
    def __init__(
        self,
        text: str,
        fields: Mapping[str, FieldSpec],
        settings: Mapping[str, int | str],
        location: Location,
    ) -> None:
        self.text = text
        self.fields = fields
        self.settings = settings
        self.location = location

    def fail(self, message: str, hint: str | None = None) -> ExpressionError:
        return ExpressionError(message, hint=hint, location=self.location)

    def snippet(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or ast.dump(node)

    # --- conditions
    def condition(self, node: ast.AST) -> Node:
        if isinstance(node, ast.BoolOp):
            items = tuple(self.condition(v) for v in node.values)
            return And(items) if isinstance(node.op, ast.And) else Or(items)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return Not(self.condition(node.operand))
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                raise self.fail(
                    f"{self.snippet(node)!r}: chained comparisons are not allowed; write 'a < b and b < c'"
                )
            return self.compare(node.ops[0], node.left, node.comparators[0])
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("blank", "answered")
        ):
            (arg,) = self.arguments(node, 1)
            f = self.question(arg, f"{node.func.id}()")
            return Presence(f, node.func.id == "answered")
        if isinstance(node, ast.Name | ast.Constant | ast.Call | ast.IfExp | ast.Tuple | ast.List):
            shown = self.snippet(node)
            term = self.term(node)  # reports unknown names and functions first
            example = f"{shown} == 'yes'" if isinstance(term, Field) and term.is_text else f"{shown} >= 1"
            raise self.fail(f"{shown!r} is not a condition: compare it, e.g. {example}")
        raise self.forbidden(node)

    def forbidden(self, node: ast.AST) -> ExpressionError:
        what = _FORBIDDEN.get(type(node), type(node).__name__)
        return self.fail(f"{self.snippet(node)!r}: {what} is not allowed in a condition", hint=_ALLOWED)

    def arguments(self, call: ast.Call, n: int) -> list[ast.expr]:
        name = call.func.id if isinstance(call.func, ast.Name) else "?"
        if call.keywords:
            raise self.fail(f"{self.snippet(call)!r}: {name}() takes no keyword arguments")
        if len(call.args) != n:
            raise self.fail(
                f"{self.snippet(call)!r}: {name}() takes {n} argument{'s' if n != 1 else ''} ({len(call.args)} given)"
            )
        return list(call.args)

    def question(self, node: ast.AST, where: str, date_only: bool = False) -> Field:
        term = self.term(node)
        if not isinstance(term, Field) or (date_only and term.type is not AnswerType.DATE):
            need = "a date question" if date_only else "a question id"
            raise self.fail(f"{where} needs {need}, not {self.describe_kind(term, node)}")
        return term

    def describe_kind(self, term: Term, node: ast.AST) -> str:
        return term.kind() if isinstance(term, Const) else f"{self.snippet(node)} ({term.kind()})"

    # --- values
    def term(self, node: ast.AST) -> Term:
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, str):
                return Const(v, v)
            if isinstance(v, int) and not isinstance(v, bool):
                return Const(v, str(v))
            raise self.fail(f"{self.snippet(node)!r}: only 'text' and whole numbers are allowed as literals")
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
            and type(node.operand.value) is int
        ):
            return Const(-node.operand.value, str(-node.operand.value))
        if isinstance(node, ast.IfExp):
            return Pick(
                self.condition(node.test), self.number(node.body), self.number(node.orelse, allow_pick=True)
            )
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Tuple | ast.List):
            raise self.fail(f"{self.snippet(node)!r}: a list of values only goes after 'in' or 'not in'")
        if isinstance(node, ast.BoolOp | ast.Compare) or (
            isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)
        ):
            raise self.fail(f"{self.snippet(node)!r} is a condition, not a value")
        raise self.forbidden(node)

    def number(self, node: ast.AST, allow_pick: bool = False) -> Any:
        term = self.term(node)
        if (isinstance(term, Const) and isinstance(term.value, int)) or (
            allow_pick and isinstance(term, Pick)
        ):
            return term
        raise self.fail(
            f"{self.snippet(node)!r}: the branches of 'a if condition else b' must be whole numbers"
        )

    def name(self, name: str) -> Term:
        spec = self.fields.get(name)
        if spec is not None:
            choices = spec.choices
            if spec.type is AnswerType.JUDGEMENT and choices is None:
                choices = JUDGEMENT_ANSWERS
            return Field(
                name, spec.type, tuple(choices) if choices is not None else None, spec.minimum, spec.maximum
            )
        if name in self.settings:
            v = self.settings[name]
            if isinstance(v, bool) or not isinstance(v, int | str):
                raise self.fail(
                    f"setting {name} is {v!r}; settings used in conditions are whole numbers or text"
                )
            return Const(v, str(v), setting=name)
        if name in FUNCTIONS:
            raise self.fail(
                f"{name} is a function: call it, e.g. {name}({', '.join(FUNCTIONS[name].params)})"
            )
        close = difflib.get_close_matches(name, [*self.fields, *self.settings], n=1, cutoff=0.6)
        suggestion = f" (did you mean {close[0]!r}?)" if close else ""
        raise self.fail(f"unknown name {name!r}: not a question of this form or a setting{suggestion}")

    def call(self, node: ast.Call) -> Term:
        if not isinstance(node.func, ast.Name) and type(node.func) in _FORBIDDEN:
            raise self.forbidden(node.func)
        fname = node.func.id if isinstance(node.func, ast.Name) else None
        if fname not in FUNCTIONS:
            shown = fname if fname else self.snippet(node.func)
            raise self.fail(f"unknown function {shown!r} (allowed: {', '.join(FUNCTIONS)})")
        fn = FUNCTIONS[fname]
        if fn.returns == "condition":
            raise self.fail(f"{self.snippet(node)!r} is a condition, not a value")
        a, b = self.arguments(node, 2)
        start = self.question(a, f"{fname}()", date_only=True)
        working = fname.startswith("working")
        if fn.returns == "number":
            end = self.question(b, f"{fname}()", date_only=True)
            return Span(working, start, end)
        raise self.fail(
            f"{self.snippet(node)!r}: {fname}() is a deadline and only goes on the right of a comparison "
            f"with a date question, e.g. victim_updated_on <= {fname}({self.snippet(a)}, {self.snippet(b)})"
        )

    # --- comparisons
    def compare(self, astop: ast.cmpop, left_node: ast.expr, right_node: ast.expr) -> Compare:
        op = _AST_OPERATORS[type(astop)]
        if op in ("in", "nin"):
            return self.membership(op, left_node, right_node)
        if isinstance(right_node, ast.Call) and isinstance(right_node.func, ast.Name):
            fn = FUNCTIONS.get(right_node.func.id)
            if fn is not None and fn.returns == "deadline":
                return self.deadline(op, left_node, right_node)
        left, right = self.term(left_node), self.term(right_node)
        self.check_pair(op, left, right, left_node, right_node)
        if isinstance(left, Const | Pick):
            if isinstance(right, Const | Pick):
                raise self.fail(
                    f"{self.snippet(left_node)} {OPERATORS[op].symbol} {self.snippet(right_node)}: "
                    "compares two constants; one side must be a question or a number of days"
                )
            left, right, op = right, left, OPERATORS[op].flipped
        if isinstance(left, Field) and left.type is AnswerType.DATE and isinstance(right, Const):
            right = self.date_const(right, left)
        return Compare(op, left, right)

    def deadline(self, op: str, left_node: ast.expr, call: ast.Call) -> Compare:
        fname = call.func.id if isinstance(call.func, ast.Name) else "?"
        a, b = self.arguments(call, 2)
        start = self.question(a, f"{fname}()", date_only=True)
        amount = self.term(b)
        if not (isinstance(amount, Const) and isinstance(amount.value, int)) and not isinstance(amount, Pick):
            raise self.fail(
                f"{fname}() needs a whole number of days, a setting or 'a if condition else b', "
                f"not {self.describe_kind(amount, b)}"
            )
        x = self.term(left_node)
        if not (isinstance(x, Field) and x.type is AnswerType.DATE):
            raise self.fail(
                f"{fname}() is a deadline: compare a date question with it, not {self.describe_kind(x, left_node)}"
            )
        return Compare(op, Span(fname.startswith("working"), start, x), amount)

    def membership(self, op: str, left_node: ast.expr, right_node: ast.expr) -> Compare:
        left = self.term(left_node)
        if not isinstance(right_node, ast.Tuple | ast.List | ast.Set):
            raise self.fail(
                f"{self.snippet(right_node)!r}: '{OPERATORS[op].symbol}' needs a list of values, "
                f"e.g. {self.snippet(left_node)} {OPERATORS[op].symbol} ('a', 'b')"
            )
        values = [self.term(e) for e in right_node.elts]
        if not isinstance(left, Field | Span) or (isinstance(left, Field) and left.type is AnswerType.DATE):
            raise self.fail(
                f"'{OPERATORS[op].symbol}' needs an answer, text or number question on the left, "
                f"not {self.describe_kind(left, left_node)}"
            )
        for v, node in zip(values, right_node.elts, strict=True):
            if not isinstance(v, Const):
                raise self.fail(
                    f"{self.snippet(node)!r}: the list after 'in' holds literals and settings only"
                )
            self.check_pair("eq", left, v, left_node, node)
        return Compare(op, left, tuple(v for v in values if isinstance(v, Const)))

    def date_const(self, const: Const, f: Field) -> Const:
        if not isinstance(const.value, str):
            raise self.fail(self.mismatch(f, const))
        try:
            day = date.fromisoformat(const.value)
        except ValueError:
            raise self.fail(
                f"{const.value!r} is not a date (write 'YYYY-MM-DD') to compare with {f.name}"
            ) from None
        return Const(day.toordinal(), day.isoformat(), const.setting, is_date=True)

    def mismatch(self, left: Term, right: Term) -> str:
        return f"cannot compare {self.shown(left)} with {self.shown(right)}; {self.allowed_for(left)}"

    def shown(self, term: Term) -> str:
        if isinstance(term, Field):
            return f"{term.name} ({term.kind()})"
        if isinstance(term, Span):
            return f"{'working_days_between' if term.working else 'days_between'}() ({term.kind()})"
        return term.kind()

    def allowed_for(self, term: Term) -> str:
        if isinstance(term, Field) and term.type is AnswerType.DATE:
            return (
                "a date question compares with another date question, an ISO date 'YYYY-MM-DD', "
                "days_after() or working_days_after()"
            )
        if isinstance(term, Field) and term.is_text:
            return f"{term.name} compares with text (its answers, with == != in) or another text question"
        return (
            "a number compares with whole numbers, number settings, numbers of days or whole-number questions"
        )

    def check_pair(self, op: str, left: Term, right: Term, ln: ast.AST, rn: ast.AST) -> None:
        pair = (left, right)
        dated = [t for t in pair if isinstance(t, Field) and t.type is AnswerType.DATE]
        if dated:
            other = right if left is dated[0] else left
            if isinstance(other, Field) and other.type is AnswerType.DATE:
                return
            if isinstance(other, Const) and isinstance(other.value, str):
                self.date_const(other, dated[0])
                return
            raise self.fail(self.mismatch(dated[0], other))
        texts = [
            t
            for t in pair
            if (isinstance(t, Field) and t.is_text) or (isinstance(t, Const) and isinstance(t.value, str))
        ]
        if texts:
            if len(texts) != 2:
                first = texts[0] if isinstance(texts[0], Field) else (right if texts[0] is left else left)
                raise self.fail(self.mismatch(first, right if first is left else left))
            if op in _ORDERING:
                f = next((t for t in texts if isinstance(t, Field)), None)
                what = f"{f.name} is {f.kind()}" if f else "text has no order"
                raise self.fail(
                    f"'{OPERATORS[op].symbol}' needs numbers or dates, but {what}; use ==, != or in"
                )
            fields = [t for t in pair if isinstance(t, Field)]
            consts = [t for t in pair if isinstance(t, Const)]
            if (
                fields
                and consts
                and fields[0].choices is not None
                and consts[0].value not in fields[0].choices
            ):
                raise self.fail(
                    f"{consts[0].value!r} is not an answer of {fields[0].name} ({', '.join(fields[0].choices)})"
                )
            if len(fields) == 2 and fields[0].choices and fields[1].choices:
                if not set(fields[0].choices) & set(fields[1].choices):
                    raise self.fail(f"{fields[0].name} and {fields[1].name} have no answer in common")
            return
        # both numeric: whole-number questions, numbers of days, whole numbers, settings, a if c else b


def compile_condition(
    text: str,
    fields: Mapping[str, FieldSpec],
    settings: Mapping[str, int | str],
    *,
    location: Location,
) -> Condition:
    """Parse and type-check one condition against a case type's form questions and the settings.

    >>> from engine.core.models import FieldSpec, AnswerType
    >>> form = {"grounds_recorded": FieldSpec("grounds_recorded", AnswerType.JUDGEMENT, ("yes", "no"))}
    >>> c = compile_condition("grounds_recorded == 'yes'", form, {}, location=Location("x.yaml", 3))
    >>> c.evaluate({"grounds_recorded": "no"}), c.describe()
    (False, 'grounds were recorded')

    Raises ExpressionError (with ``location``) on any problem, naming what is allowed instead.
    """
    compiler = _Compiler(text.strip(), fields, settings, location)
    if len(text) > 2000:
        raise compiler.fail("condition is longer than 2,000 characters; split the criterion")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise compiler.fail(f"cannot parse {text.strip()!r}: {e.msg}") from None
    except (ValueError, MemoryError, RecursionError) as e:
        raise compiler.fail(f"cannot parse {text.strip()!r}: {e}") from None
    try:
        node = compiler.condition(tree.body)
    except RecursionError:
        raise compiler.fail("condition is nested too deeply") from None
    condition = Condition(text.strip(), frozenset(f.name for f in _fields_of(node)), node, location)
    truth = _constant_truth(condition.lowered)
    if truth is not None:
        raise compiler.fail(
            f"{condition.source!r} is always {'true' if truth else 'false'}, whatever the answers"
            + ("" if truth else "; no case can satisfy it")
        )
    return condition


@dataclass(frozen=True)
class Condition:
    """A checked condition: evaluate it, describe it, explain it, or lower it for the rule engine."""

    source: str
    #: question ids the condition reads
    fields: frozenset[str]
    node: Node = field(repr=False)
    location: Location | None = field(default=None, compare=False, repr=False)
    #: atoms true exactly when the condition holds / does not hold (for the rule engine)
    lowered: Lowered = field(init=False, compare=False, repr=False)
    negated: Lowered = field(init=False, compare=False, repr=False)
    _test: Predicate = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lowered", lower(self.node, True))
        object.__setattr__(self, "negated", lower(self.node, False))
        object.__setattr__(self, "_test", _evaluator(self.node))

    def evaluate(self, case: Mapping[str, Any]) -> bool:
        """Whether the condition holds for ``case`` (question id -> answer; blank = missing or None)."""
        return self._test(case)

    def describe(self) -> str:
        """The condition as a sentence for people."""
        return describe(self.node)

    def explain(self, case: Mapping[str, Any]) -> tuple[str, ...]:
        """Why the condition holds or not for ``case``: the deciding parts, with the observed values."""
        return tuple(explain(self.node, case))
