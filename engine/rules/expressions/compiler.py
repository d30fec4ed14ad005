"""Parse and type-check a condition's text against a form and settings (``compile_condition``), giving a
``Condition``: one checked tree to evaluate, describe, explain, or lower for the rule engine."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from engine.core.errors import ExpressionError, Location
from engine.core.models import JUDGEMENT_ANSWERS, AnswerType, FieldSpec
from engine.core.shape import nearest
from engine.rules.expressions.description import describe
from engine.rules.expressions.explanation import Reason, reason
from engine.rules.expressions.lowering import Lowered, constant_truth, lower
from engine.rules.expressions.tree import (
    And,
    Compare,
    Const,
    Field,
    Node,
    Not,
    Or,
    Pick,
    Predicate,
    Presence,
    Span,
    Term,
    evaluator,
    fields_of,
)
from engine.rules.expressions.vocabulary import FUNCTIONS, OPERATORS

# ----------------------------------------------------------------------------- the compiler

_AST_OPERATORS: dict[type[ast.cmpop], str] = {
    ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge",
    ast.In: "in", ast.NotIn: "nin",
}  # fmt: skip

_ORDERING = frozenset({"lt", "le", "gt", "ge"})

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
            if isinstance(node.ops[0], ast.Is | ast.IsNot):
                word = "is not" if isinstance(node.ops[0], ast.IsNot) else "is"
                raise self.fail(
                    f"{self.snippet(node)!r}: '{word}' is not allowed; write {'!=' if word == 'is not' else '=='}, "
                    "or blank(q) / answered(q) for a blank answer",
                    hint=_ALLOWED,
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
        close = nearest(name, [*self.fields, *self.settings], ignore_case=False)
        suggestion = f" (did you mean {close!r}?)" if close else ""
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
        if not right_node.elts:
            raise self.fail(
                f"{self.snippet(right_node)!r}: the list after '{OPERATORS[op].symbol}' is empty; "
                f"list at least one value, e.g. {self.snippet(left_node)} {OPERATORS[op].symbol} ('a', 'b')"
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
    condition = Condition(text.strip(), frozenset(f.name for f in fields_of(node)), node, location)
    truth = constant_truth(condition.lowered)
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
        object.__setattr__(self, "_test", evaluator(self.node))

    def evaluate(self, case: Mapping[str, Any]) -> bool:
        """Whether the condition holds for ``case`` (question id -> answer; blank = missing or None)."""
        return self._test(case)

    def describe(self) -> str:
        """The condition as a sentence for people."""
        return describe(self.node)

    def reason(self, case: Mapping[str, Any]) -> Reason:
        """Why the condition holds or not for ``case``: its deciding facts, each with its words."""
        return reason(self.node, case)

    def explain(self, case: Mapping[str, Any]) -> tuple[str, ...]:
        """Why the condition holds or not for ``case``: the deciding facts' words, one per line."""
        return reason(self.node, case).lines
