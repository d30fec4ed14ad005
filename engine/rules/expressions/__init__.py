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

Explaining: ``Condition.reason(case)`` gives the deciding facts of the outcome, each a statement about
the case ("DASH yes count was 9, less than 14"), so a negation never reverses the words.

Modules: ``vocabulary`` (operators, functions, working days), ``tree`` (terms, nodes, the plain-Python
evaluator), ``compiler`` (parse and type-check), ``description`` (describe), ``explanation`` (why a
condition held or not for a case), ``lowering`` (atoms for the rule engine). The rest of the code
imports the names below from this package.
"""

from engine.rules.expressions.compiler import Condition, compile_condition
from engine.rules.expressions.explanation import Fact, Reason
from engine.rules.expressions.lowering import (
    AllOf,
    AnyOf,
    Atom,
    Lowered,
    Projection,
    Source,
    all_of,
    any_of,
    atoms,
    durable_condition,
    evaluate_lowered,
    negate,
    questions,
    sources,
)
from engine.rules.expressions.tree import Field
from engine.rules.expressions.vocabulary import (
    FUNCTIONS,
    OPERATORS,
    to_ordinal,
    working_days_between,
)

__all__ = [
    "FUNCTIONS",
    "OPERATORS",
    "AllOf",
    "AnyOf",
    "Atom",
    "Condition",
    "Fact",
    "Field",
    "Lowered",
    "Projection",
    "Reason",
    "Source",
    "all_of",
    "any_of",
    "atoms",
    "compile_condition",
    "durable_condition",
    "evaluate_lowered",
    "negate",
    "questions",
    "sources",
    "to_ordinal",
    "working_days_between",
]
