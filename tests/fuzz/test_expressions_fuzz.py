"""Fuzzing the ruleset condition compiler (engine.rules.expressions.compile_condition) against the real QA
forms: arbitrary text, random token sequences, mutations of the bundled rulesets' own conditions and
random expression trees. Whatever a ruleset author writes, compiling it either gives a Condition or
raises ExpressionError at the condition's file and line, never another exception, and never hangs;
a condition that compiles can be described, evaluated and explained on any case, and its lowering
for the rule engine (and that of its negation) agrees with the plain evaluation."""

from __future__ import annotations

import datetime as dt
import functools
import tokenize
from collections.abc import Mapping
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import event, given
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from engine.core.config import DEFAULT_FORMS_DIR, DEFAULT_RULESETS_DIR
from engine.core.errors import ExpressionError, Location
from engine.core.models import AnswerType, FieldSpec
from engine.inputs.cells import DATE_MAX, DATE_MIN
from engine.inputs.forms import load_forms
from engine.rules.expressions import (
    FUNCTIONS,
    Condition,
    Projection,
    compile_condition,
    durable_condition,
    evaluate_lowered,
    sources,
)
from tests.fuzz.fuzzing import corpus, fuzz_settings, hang_guard

pytestmark = pytest.mark.fuzz

TARGET = "expressions"
HERE = Location("rulesets/fuzz.yaml", 7)
FIELDS: dict[str, Mapping[str, FieldSpec]] = {
    ct: form.field_specs() for ct, form in load_forms(DEFAULT_FORMS_DIR).items()
}
CASE_TYPES = sorted(FIELDS)
#: settings a condition may name besides the ruleset's own: text, negative, and values no setting
#: may hold (true/false, a decimal), which must be refused by name
EXTRA_SETTINGS: dict[str, Any] = {"word": "good", "negative": -2, "flag": True, "ratio": 1.5}


def _bundled() -> list[tuple[str, dict[str, Any], str]]:
    """(case type, settings, condition) of every applies/pass of the repository's rulesets."""
    found = []
    for path in sorted(DEFAULT_RULESETS_DIR.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "case_type" not in data:
            continue
        values = {k: v["default"] for k, v in (data.get("settings") or {}).items()}
        for criterion in data.get("criteria") or []:
            found += [
                (data["case_type"], values, criterion[k]) for k in ("applies", "pass") if k in criterion
            ]
    return found


BUNDLED = _bundled()
SETTINGS: dict[str, dict[str, Any]] = {
    ct: {**EXTRA_SETTINGS, **{k: v for c, s, _ in BUNDLED if c == ct for k, v in s.items()}}
    for ct in CASE_TYPES
}


def _corpus() -> list[tuple[str, Path]]:
    """(case type, file) of the corpus: corpus/expressions/<case type>/<name>.txt, one condition each."""
    return [(ct, p) for ct in CASE_TYPES for p in corpus(f"{TARGET}/{ct}", "*.txt")]


# ----------------------------------------------------------------------------- the property


@functools.cache
def _case_strategy(case_type: str) -> st.SearchStrategy[dict[str, Any]]:
    """Cases as stored answers are: closed answers, ISO dates in the accepted range, whole numbers in
    the question's range, any text; each possibly blank (None or missing)."""
    values: dict[str, st.SearchStrategy[Any]] = {}
    for name, spec in FIELDS[case_type].items():
        if spec.type in (AnswerType.JUDGEMENT, AnswerType.CHOICE):
            answer: st.SearchStrategy[Any] = st.sampled_from(spec.choices or ("yes", "no", "na"))
        elif spec.type is AnswerType.DATE:
            answer = st.dates(DATE_MIN, DATE_MAX).map(dt.date.isoformat)
        elif spec.type is AnswerType.INTEGER:
            answer = st.integers(spec.minimum or 0, 100 if spec.maximum is None else spec.maximum)
        else:
            answer = st.text(max_size=8)
        values[name] = st.one_of(st.none(), answer)
    return st.fixed_dictionaries({}, optional=values)


def compiles(case_type: str, text: str) -> Condition | None:
    """Compile ``text`` against the form: a Condition, or None when refused with an ExpressionError
    that names the condition's file and line. Any other exception, or a hang, fails the test."""
    try:
        with hang_guard(text):
            return compile_condition(text, FIELDS[case_type], SETTINGS[case_type], location=HERE)
    except ExpressionError as refused:
        assert refused.location == HERE and refused.message.strip(), text
        assert str(refused).startswith(f"{HERE}: "), text
        return None


def holds_together(condition: Condition, case: Mapping[str, Any]) -> None:
    """What a compiled condition must do on any case: describe, evaluate, explain, and lower to atoms
    that agree with the evaluation (and the negation's atoms with its opposite)."""
    with hang_guard(condition.source):
        assert condition.describe().strip()
        truth = condition.evaluate(case)
        assert condition.explain(case)
        used = [*sources(condition.lowered), *sources(condition.negated)]
        fact = Projection(used)(case, {})
        assert evaluate_lowered(condition.lowered, fact) is truth, (condition.source, case)
        assert evaluate_lowered(condition.negated, fact) is not truth, (condition.source, case)
        durable_condition(condition.lowered)
        durable_condition(condition.negated)


def check(case_type: str, text: str, data: st.DataObject | None = None) -> bool:
    """The whole property for one condition; whether it compiled."""
    condition = compiles(case_type, text)
    if currently_in_test_context():
        event("compiled" if condition else "refused")  # --hypothesis-show-statistics counts them
    if condition is None:
        return False
    holds_together(condition, {})
    if data is not None:
        holds_together(condition, data.draw(_case_strategy(case_type), label="case"))
    return True


# ----------------------------------------------------------------------------- the corpus first


@pytest.mark.parametrize(("case_type", "path"), _corpus(), ids=lambda v: getattr(v, "name", v))
def test_the_corpus_replays(case_type: str, path: Path) -> None:
    """valid-* seeds compile; crash-* files (inputs that once raised something else) are refused."""
    text = path.read_text(encoding="utf-8")
    compiled = check(case_type, text)
    if path.name.startswith("valid-"):
        assert compiled, text
    if path.name.startswith("crash-"):
        assert not compiled, text


def test_every_bundled_condition_compiles_and_holds_together() -> None:
    assert len(BUNDLED) > 50
    for case_type, _, text in BUNDLED:
        assert check(case_type, text), text


# ----------------------------------------------------------------------------- arbitrary text


@fuzz_settings(600)
@given(case_type=st.sampled_from(CASE_TYPES), text=st.text(max_size=120), data=st.data())
def test_arbitrary_text_is_compiled_or_refused_with_its_location(
    case_type: str, text: str, data: st.DataObject
) -> None:
    check(case_type, text, data)


# ----------------------------------------------------------------------------- token sequences

_SYMBOLS = (
    "==", "!=", "<", "<=", ">", ">=", "in", "not in", "is", "is not", "and", "or", "not", "if", "else",
    "(", ")", ",", "[", "]", "{", "}", ":", ".", "+", "-", "*", "**", "/", "%", "@", "~", ":=", "lambda",
    "for", "yield", "await", "True", "None", "...", "1.5", "1j", "0x10", "10**9", "'", '"', "\\", "#",
    "\n", ";", "f'{x}'", "b'x'", "__import__", "open", "len",
)  # fmt: skip
_LITERALS = (
    "0", "1", "-1", "3", "27", "28", "99999999999999999999999", "'yes'", "'no'", "'na'", "'partly'",
    "''", "'2026-11-16'", "'1900-01-01'", "'2099-12-31'", "'0001-01-01'", "'9999-12-31'",
    "'2026-02-30'", "'16/11/2026'",
)  # fmt: skip


@functools.cache
def _vocabulary(case_type: str) -> tuple[str, ...]:
    answers = sorted({repr(c) for spec in FIELDS[case_type].values() for c in spec.choices or ()})
    return (*FIELDS[case_type], *SETTINGS[case_type], *FUNCTIONS, *answers, *_LITERALS, *_SYMBOLS)


@st.composite
def _tokens(draw: st.DrawFn) -> tuple[str, str]:
    case_type = draw(st.sampled_from(CASE_TYPES))
    words = draw(st.lists(st.sampled_from(_vocabulary(case_type)), min_size=1, max_size=16))
    return case_type, " ".join(words)


@fuzz_settings(800)
@given(drawn=_tokens(), data=st.data())
def test_random_token_sequences_are_compiled_or_refused(drawn: tuple[str, str], data: st.DataObject) -> None:
    check(*drawn, data)


# ----------------------------------------------------------------------------- mutated conditions


def _split(text: str) -> list[str]:
    """A condition's tokens as Python reads them (what the compiler parses), or its words."""
    try:
        return [
            t.string
            for t in tokenize.generate_tokens(StringIO(text).readline)
            if t.string.strip() and t.type != tokenize.ENDMARKER
        ]
    except (tokenize.TokenError, SyntaxError):
        return text.split()


@st.composite
def _mutated_condition(draw: st.DrawFn) -> tuple[str, str]:
    """A bundled or corpus condition with one to four of its tokens replaced, dropped, repeated,
    swapped, or with a token of the form's vocabulary inserted."""
    seeds = [(ct, text) for ct, _, text in BUNDLED] + [
        (ct, p.read_text(encoding="utf-8")) for ct, p in _corpus()
    ]
    case_type, text = draw(st.sampled_from(seeds))
    tokens = _split(text)
    vocabulary = _vocabulary(case_type)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(tokens) - 1, 0)))
        kind = draw(st.sampled_from(["replace", "drop", "repeat", "swap", "insert"]))
        if kind == "insert" or not tokens:
            tokens.insert(at, draw(st.sampled_from(vocabulary)))
        elif kind == "replace":
            tokens[at] = draw(st.sampled_from(vocabulary))
        elif kind == "drop":
            del tokens[at]
        elif kind == "repeat":
            tokens.insert(at, tokens[at])
        else:
            other = draw(st.integers(0, len(tokens) - 1))
            tokens[at], tokens[other] = tokens[other], tokens[at]
    return case_type, " ".join(tokens)


@fuzz_settings(800)
@given(drawn=_mutated_condition(), data=st.data())
def test_mutated_ruleset_conditions_are_compiled_or_refused(
    drawn: tuple[str, str], data: st.DataObject
) -> None:
    check(*drawn, data)


# ----------------------------------------------------------------------------- random expression trees

_OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in", "is", "is not")


@functools.cache
def _wild(case_type: str) -> st.SearchStrategy[str]:
    """Any Python expression over the form's names, its answers and the language's functions:
    comparisons of every kind (chained, 'is', membership in tuples, lists and sets), and/or/not,
    'a if c else b', calls with any number of arguments, unary minus."""
    answers = sorted({repr(c) for spec in FIELDS[case_type].values() for c in spec.choices or ()})
    leaves = st.one_of(
        st.sampled_from([*FIELDS[case_type], *SETTINGS[case_type], "unknown_name"]),
        st.sampled_from([*answers, *_LITERALS, "True", "None", "1.5", "b'x'", "..."]),
        st.integers(-(10**20), 10**20).map(str),
        st.text(max_size=6).map(repr),
    )
    calls = [*FUNCTIONS, "open", "len"]

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(st.sampled_from(calls), st.lists(inner, max_size=3)).map(
                lambda t: f"{t[0]}({', '.join(t[1])})"
            ),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
            st.tuples(st.sampled_from(["(%s,)", "[%s]", "{%s}", "(%s)"]), st.lists(inner, max_size=3)).map(
                lambda t: t[0] % ", ".join(t[1])
            ),
            st.tuples(inner, st.sampled_from(_OPS), inner).map(" ".join),
            st.tuples(inner, inner, inner).map(lambda t: f"{t[0]} < {t[1]} <= {t[2]}"),
            st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(
                lambda t: f"({t[0]}) {t[1]} ({t[2]})"
            ),
            inner.map(lambda t: f"not ({t})"),
            inner.map(lambda t: f"-{t}"),
        )

    return st.recursive(leaves, extend, max_leaves=8)


class _Typed:
    """Draws conditions that are well typed for the form, except that now and then (one part in
    ``wild``) an operator, operand or whole part is swapped for anything at all: the inputs near the
    valid ones, where a checker's corner cases are."""

    def __init__(self, draw: st.DrawFn, case_type: str, wild: int) -> None:
        self.draw, self.case_type, self.wild = draw, case_type, wild
        self.fields = FIELDS[case_type]
        self.settings = SETTINGS[case_type]
        self.by_type = {t: [n for n, f in self.fields.items() if f.type is t] for t in AnswerType}

    def pick(self, options: Any) -> Any:
        return self.draw(st.sampled_from(list(options)))

    def odd(self) -> bool:
        return self.draw(st.integers(0, self.wild - 1)) == 0

    def op(self, usual: tuple[str, ...]) -> str:
        return self.pick(_OPS) if self.odd() else self.pick(usual)

    def operand(self, usual: str) -> str:
        return self.draw(_wild(self.case_type)) if self.odd() else usual

    def number(self) -> str:
        settings = [k for k, v in self.settings.items() if type(v) is int]
        return self.pick([*settings, "0", "1", "5", "14", "-3", "27", "28", "99999999999999999999"])

    def condition(self, depth: int) -> str:
        if self.odd():
            return self.draw(_wild(self.case_type))
        shape = self.pick(["atom", "atom", "and", "or", "not"]) if depth else "atom"
        if shape == "not":
            return f"not ({self.condition(depth - 1)})"
        if shape != "atom":
            return f"({self.condition(depth - 1)}) {shape} ({self.condition(depth - 1)})"
        return self.atom()

    def atom(self) -> str:
        kinds = [t for t in AnswerType if self.by_type[t]]
        kind = self.pick([*kinds, "presence"])
        if kind == "presence":
            return f"{self.pick(['blank', 'answered'])}({self.operand(self.pick(self.fields))})"
        name = self.pick(self.by_type[kind])
        spec = self.fields[name]
        if kind in (AnswerType.JUDGEMENT, AnswerType.CHOICE):
            answers = [repr(a) for a in spec.choices or ("yes", "no")]
            op = self.op(("==", "!=", "in", "not in"))
            if op in ("in", "not in"):
                values = self.draw(st.lists(st.sampled_from(answers), max_size=3))
                right = f"({', '.join(values)}{',' if len(values) == 1 else ''})"
            else:
                same = [n for n in self.by_type[kind] if n != name]
                right = self.pick(
                    answers + same[:3] + [repr(v) for v in self.settings.values() if type(v) is str]
                )
            return f"{self.operand(name)} {op} {self.operand(right)}"
        if kind is AnswerType.DATE:
            other = self.pick(self.by_type[kind])
            amount = self.number()
            if self.draw(st.booleans()):
                test = self.atom()
                amount = f"{amount} if {test} else {self.number()}"
            right = self.pick(
                [
                    other,
                    repr(self.draw(st.dates(DATE_MIN, DATE_MAX)).isoformat()),
                    f"{self.pick(['days_after', 'working_days_after'])}({other}, {amount})",
                ]
            )
            return f"{self.operand(name)} {self.op(('==', '!=', '<', '<=', '>', '>='))} {self.operand(right)}"
        if kind is AnswerType.INTEGER:
            return f"{self.operand(name)} {self.op(('==', '!=', '<', '<=', '>', '>=', 'in'))} {self.number()}"
        if kind is AnswerType.TEXT:
            return f"{self.operand(name)} {self.op(('==', '!='))} {self.operand(repr(self.draw(st.text(max_size=4))))}"
        dates = self.by_type[AnswerType.DATE]
        return f"days_between({self.pick(dates)}, {self.pick(dates)}) > {self.number()}"


@st.composite
def _typed(draw: st.DrawFn, case_type: str) -> str:
    return _Typed(draw, case_type, wild=8).condition(draw(st.integers(0, 3)))


@fuzz_settings(600)
@given(case_type=st.sampled_from(CASE_TYPES), data=st.data())
def test_random_expression_trees_are_compiled_or_refused(case_type: str, data: st.DataObject) -> None:
    check(case_type, data.draw(_typed(case_type), label="condition"), data)
