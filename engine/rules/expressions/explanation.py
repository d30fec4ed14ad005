"""Why a condition held or not for a case, in words for a place leader, built so that it can be checked.

``reason(node, case)`` gives a :class:`Reason`: the outcome and its deciding facts, one for each
deciding comparison or blank test (a leaf). A fact says what the case shows and how it stands
against the leaf's value ("DASH yes count was 9, less than 14", "grounds were not recorded (answer:
no)", "support referral has no date"): a statement about the case that is true whichever way the
leaf counts. So a negation changes the outcome and never the words: ``not X`` is explained by the
same facts as ``X``.

Deciding facts: a false ``and`` by its false parts, a true ``or`` by its true parts, otherwise by
every part; together they decide the outcome whatever the other parts are.

Each fact's truth is worked out from the very values its words show, not taken from the evaluator,
so that tests/rules/test_explanation.py can check the words against it on generated conditions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.core.models import AnswerType
from engine.rules.expressions.description import days_text, label, or_list, span_noun, statement
from engine.rules.expressions.tree import And, Compare, Const, Field, Node, Not, Or, Pick, Presence, Span
from engine.rules.expressions.vocabulary import OPERATORS

Leaf = Compare | Presence

#: the relation between two numbers for == and != (the operator table's number phrase is "is")
_EQUALITY = {"eq": "equal to", "ne": "not equal to"}
#: free text longer than this is cut in explanations
_TEXT_SHOWN = 40


@dataclass(frozen=True)
class Fact:
    """One deciding leaf of a condition, for one case: whether it held, and the words saying why."""

    leaf: Leaf
    #: whether the leaf held, as the words say
    holds: bool
    #: one line, e.g. "DASH yes count was 9, less than 14"
    text: str
    #: the operator whose relation the words state between the leaf's two values ('lt' above): the
    #: leaf's own operator when it held, its negation when not; None when a blank decided it or the
    #: words state the answer alone (a blank test)
    stated: str | None = None


@dataclass(frozen=True)
class Reason:
    """A condition's outcome for a case and the facts that decide it, in the condition's order."""

    holds: bool
    facts: tuple[Fact, ...]

    @property
    def lines(self) -> tuple[str, ...]:
        """The facts' words, each once."""
        return tuple(dict.fromkeys(f.text for f in self.facts))

    @property
    def sentence(self) -> str:
        """The facts as one line: "grounds were not recorded (answer: no); BWV was blank"."""
        return "; ".join(self.lines)


def reason(node: Node, case: Mapping[str, Any]) -> Reason:
    """Why ``node`` holds or not for ``case`` (question id -> answer; blank = missing or None)."""
    holds, facts = _deciding(node, case)
    return Reason(holds, tuple(facts))


def explain(node: Node, case: Mapping[str, Any]) -> list[str]:
    """The deciding facts' words, one per line (see :func:`reason`)."""
    return list(reason(node, case).lines)


def _deciding(node: Node, case: Mapping[str, Any]) -> tuple[bool, list[Fact]]:
    if isinstance(node, Not):
        holds, facts = _deciding(node.item, case)
        return not holds, facts
    if isinstance(node, And | Or):
        parts = [_deciding(i, case) for i in node.items]
        want = isinstance(node, Or)  # the value of a part that decides alone
        holds = any(h for h, _ in parts) if want else all(h for h, _ in parts)
        if holds is want:
            parts = [p for p in parts if p[0] is want]
        return holds, [f for _, facts in parts for f in facts]
    fact = _presence(node, case) if isinstance(node, Presence) else _compare(node, case)
    return fact.holds, [fact]


# ----------------------------------------------------------------------------- observed values


def _is_date(term: Any) -> bool:
    return isinstance(term, Field) and term.type is AnswerType.DATE


def _shown(f: Field, v: Any) -> str:
    """An answer as people read it: dates ISO, free text quoted (and cut), other answers as given."""
    if f.type is AnswerType.DATE:
        return v.isoformat() if hasattr(v, "isoformat") else str(v)
    if f.type is AnswerType.TEXT:
        text = " ".join(str(v).split())
        return repr(text if len(text) <= _TEXT_SHOWN else text[: _TEXT_SHOWN - 3] + "...")
    return str(v)


def _blank(f: Field) -> str:
    return f"{label(f.name)} has no date" if f.type is AnswerType.DATE else f"{label(f.name)} was blank"


def _statement(f: Field, v: Any) -> str | None:
    """A judgement or choice answer as a statement: "grounds were not recorded", "grounds recorded was
    not applicable"; None when the id does not read that way."""
    if f.type not in (AnswerType.JUDGEMENT, AnswerType.CHOICE):
        return None
    if v == "na":
        return f"{label(f.name)} was not applicable"
    return statement(f.name, str(v))


def observe(f: Field, case: Mapping[str, Any]) -> str:
    """What the case answered: "grounds were not recorded (answer: no)", "power was s60", "crime
    recorded on 2026-12-24", "DASH yes count was 9", "victim updated has no date"."""
    v = case.get(f.name)
    if v is None:
        return _blank(f)
    if f.type is AnswerType.DATE:
        return f"{label(f.name)} on {_shown(f, v)}"
    said = _statement(f, v)
    if said:
        return f"{said} (answer: {v})"
    return f"{label(f.name)} was {_shown(f, v)}"


def _blanks(terms: tuple[Any, ...], case: Mapping[str, Any]) -> list[Field]:
    """The blank questions among the terms' own operands (a Pick always gives a number)."""
    fields: list[Field] = []
    for t in terms:
        if isinstance(t, Field):
            fields.append(t)
        elif isinstance(t, Span):
            fields += [t.start, t.end]
    return [f for f in dict.fromkeys(fields) if case.get(f.name) is None]


def _span(span: Span, n: int) -> str:
    """ "victim updated 5 working days after suspect event"."""
    where = "after" if n >= 0 else "before"
    return f"{label(span.end.name)} {days_text(abs(n), span.working)} {where} {label(span.start.name)}"


def _value_text(term: Any, case: Mapping[str, Any], days: Span | None = None) -> str:
    """The value compared with, as read for this case; ``days``: a number counts days of that span."""
    if isinstance(term, Pick):
        chosen, why = _picked(term, case)
        return f"{_value_text(chosen, case, days)} (as {why})"
    if isinstance(term, Const):
        if days is not None and isinstance(term.value, int):
            return days_text(term.value, days.working)
        return term.text
    if isinstance(term, Field):
        return (
            observe(term, case)
            if _is_date(term)
            else f"{label(term.name)} ({_shown(term, case.get(term.name))})"
        )
    assert isinstance(term, Span)
    return f"{span_noun(term)} ({term.value(case)})"


def _picked(pick: Pick, case: Mapping[str, Any]) -> tuple[Const, str]:
    """The number a Pick chose for ``case`` and why: the deciding facts of each test it read."""
    holds, facts = _deciding(pick.test, case)
    why = "; ".join(dict.fromkeys(f.text for f in facts))
    if holds:
        return pick.then, why
    if isinstance(pick.orelse, Pick):
        chosen, more = _picked(pick.orelse, case)
        return chosen, f"{why}; {more}"
    return pick.orelse, why


# ----------------------------------------------------------------------------- the leaves


def _presence(node: Presence, case: Mapping[str, Any]) -> Fact:
    v = case.get(node.field.name)
    holds = (v is not None and v != "na") if node.answered else v is None
    return Fact(node, holds, observe(node.field, case))


def _compare(node: Compare, case: Mapping[str, Any]) -> Fact:
    left, right = node.left, node.right
    missing = _blanks((left, *(() if isinstance(right, tuple) else (right,))), case)
    if missing:  # every comparison with a blank is false
        return Fact(node, False, " and ".join(_blank(f) for f in missing))
    assert isinstance(left, Field | Span)  # the compiler puts constants and picks on the right
    a: Any = left.value(case)
    if isinstance(right, tuple):
        return _member(node, left, a, right, case)
    if isinstance(right, Const) and node.op in _EQUALITY and not _is_date(left) and isinstance(left, Field):
        return _member(node, left, a, (right,), case)
    b = right.value if isinstance(right, Const) else right.value(case)
    holds = bool(OPERATORS[node.op].evaluate(a, b))
    stated = node.op if holds else OPERATORS[node.op].negation
    op = OPERATORS[stated]
    if isinstance(left, Span):
        days = None if isinstance(right, Field | Span) else left
        text = f"{_span(left, int(a))}, {op.span_phrase} {_value_text(right, case, days)}"
    elif _is_date(left):
        text = f"{observe(left, case)}, {op.date_phrase} {_value_text(right, case)}"
    elif left.is_text:  # two text questions
        assert isinstance(right, Field)
        same = "the same answer" if a == b else "different answers"
        text = f"{observe(left, case)} and {observe(right, case)}: {same}"
    else:
        phrase = _EQUALITY.get(stated, op.number_phrase.removeprefix("is "))
        text = f"{observe(left, case)}, {phrase} {_value_text(right, case)}"
    return Fact(node, holds, text, stated)


def _member(
    node: Compare, left: Field | Span, a: Any, values: tuple[Const, ...], case: Mapping[str, Any]
) -> Fact:
    """== and != with a constant, in and not in: the answer, and the values it is not, if none."""
    member = a in tuple(c.value for c in values)
    holds = member if node.op in ("eq", "in") else not member
    if node.op in _EQUALITY:
        stated = "eq" if member else "ne"
    else:
        stated = "in" if member else "nin"
    said = _span(left, int(a)) if isinstance(left, Span) else observe(left, case)
    # a statement ("grounds were not recorded (answer: no)") already says it is not 'yes'
    if not member and not (isinstance(left, Field) and _statement(left, a)):
        quoted = isinstance(left, Field) and left.type is AnswerType.TEXT
        said += f", not {or_list([c.shown() if quoted else c.text for c in values])}"
    return Fact(node, holds, said, stated)
