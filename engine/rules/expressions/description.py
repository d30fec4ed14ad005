"""Conditions for people: ``describe`` reads a condition as a sentence; question ids become words
(``label``, ``statement``). :mod:`engine.rules.expressions.explanation` says why one held or not for a case."""

from __future__ import annotations

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


def statement(name: str, answer: str) -> str | None:
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


def or_list(items: list[str]) -> str:
    """["a", "b", "c"] -> "a, b or c"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def days_text(n: int, working: bool) -> str:
    """3 -> "3 working days" (or "3 days"); 1 -> "1 working day"."""
    unit = "working day" if working else "day"
    return f"{n} {unit}{'' if abs(n) == 1 else 's'}"


def span_noun(span: Span) -> str:
    """days_between(a, b) -> "the number of days from a to b"."""
    unit = "working days" if span.working else "days"
    return f"the number of {unit} from {label(span.start.name)} to {label(span.end.name)}"


# ----------------------------------------------------------------------------- describe


def _describe_value(term: Term | tuple[Const, ...], quoted: bool = False) -> str:
    """``quoted``: free text is shown in quotes, answers from a list of choices are not."""
    if isinstance(term, tuple):
        return or_list([_describe_value(c, quoted) for c in term])
    if isinstance(term, Const):
        return term.shown() if quoted else term.text
    if isinstance(term, Field):
        return label(term.name)
    if isinstance(term, Span):
        return span_noun(term)
    return _describe_pick(term, "", None)


def _describe_pick(pick: Pick, op_words: str, working: bool | None) -> str:
    """'1 working day (if X), otherwise within 5' style; ``working`` None means plain numbers."""

    def amount(c: Const) -> str:
        return days_text(int(c.value), working) if working is not None else c.text

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
            amounts = or_list([r.text for r in right])
            return (
                f"{end} {op.span_phrase + ' ' if op.span_phrase else ''}{amounts} {_unit(left)} after {start}"
            )
        linker = "of" if c.op == "le" else "after"
        if isinstance(right, Pick):
            then = days_text(int(right.then.value), left.working)
            rest = right.orelse
            tail = (
                _describe_pick(rest, op.span_phrase, left.working)
                if isinstance(rest, Pick)
                else days_text(int(rest.value), left.working)
            )
            return (
                f"{end} {op.span_phrase} {then} {linker} {start} (if {describe(right.test)}), "
                f"otherwise {op.span_phrase} {tail}"
            )
        assert isinstance(right, Const)
        return f"{end} {op.span_phrase} {days_text(int(right.value), left.working)} {linker} {start}"
    if isinstance(left, Field) and left.type is AnswerType.DATE:
        return f"{label(left.name)} {op.date_phrase} {_describe_value(right)}"
    if isinstance(left, Field) and left.is_text:
        if isinstance(right, Const) and c.op == "eq":
            said = statement(left.name, str(right.value))
            if said:
                return said
        if isinstance(right, Field):
            return f"{label(left.name)} {'is the same as' if c.op == 'eq' else 'differs from'} {label(right.name)}"
        quoted = left.choices is None
        if isinstance(right, tuple) and c.op == "nin":
            shown = [_describe_value(r, quoted) for r in right]
            if len(right) == 2:
                return f"{label(left.name)} is neither {shown[0]} nor {shown[1]}"
            return f"{label(left.name)} is not {or_list(shown)}"
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
