"""Rules for the rule engine (a mask bit set when a lowered condition holds) and their split into
durable rulesets within durable-rules' per-fact limits, by a model of its alpha network."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from engine.rules.expressions import OPERATORS, Lowered, durable_condition, sources

#: durable's alpha DFS stack holds 64 entries (events.c MAX_STACK_SIZE); stay well clear of it
MAX_ALPHA_STACK = 56
#: durable allows 255 properties per fact and adds 'sid' and 'id' itself (error 302 beyond)
MAX_FACT_FIELDS = 250


class RulesEngineError(RuntimeError):
    """durable-rules failed or broke its contract; the rulesets involved are discarded, never reused."""


@dataclass(frozen=True)
class Rule:
    """Set mask bit ``bit`` of every case for which ``when`` holds; ``name`` is the durable rule name."""

    name: str
    when: Lowered
    bit: int


# ----------------------------------------------------------------------------- chunking


#: durable's comparison names -> the operator table's (same meaning)
_DURABLE_OPS = {"$eq": "eq", "$neq": "ne", "$lt": "lt", "$lte": "le", "$gt": "gt", "$gte": "ge"}


def _satisfies(test: tuple[str, str, Any], value: Any) -> bool:
    op, _, const = test
    if op == "$nex":
        return value is None
    if value is None:
        return False
    if op == "$ex":
        return True
    try:
        return OPERATORS[_DURABLE_OPS[op]].evaluate(value, const)
    except TypeError:  # a number compared with text never holds
        return False


class _AlphaNet:
    """A model of durable's alpha network (rete.c createAlpha/findAlpha), to rule out error 303.

    ``$and`` chains its tests, ``$or`` hangs its branches off the parent and joins them in a fresh
    forward node, identical tests under one parent are shared. Matching a fact is a depth-first walk
    over an explicit stack of 64 entries that holds the *satisfied* children of each node visited;
    so at a node the stack holds its satisfied children plus, for each ancestor, its satisfied
    children but one (probed: research/durable-bench/probe and tests/rules/test_durable.py).
    """

    def __init__(self) -> None:
        self.tests: list[dict[tuple[str, str, Any], int]] = [{}]
        self.forwards: list[set[int]] = [set()]

    def _node(self) -> int:
        self.tests.append({})
        self.forwards.append(set())
        return len(self.tests) - 1

    def add(self, cond: dict[str, Any], parent: int = 0) -> int:
        """Add one durable condition under ``parent``; returns the node its matches leave from."""
        ((key, value),) = cond.items()
        if key == "$and":
            for part in value:
                parent = self.add(part, parent)
            return parent
        if key == "$or":
            forward = self._node()
            for part in value:
                self.forwards[self.add(part, parent)].add(forward)
            return forward
        if key.startswith("$"):
            ((name, const),) = value.items()
            test = (key, name, const)
        else:
            test = ("$eq", key, value)
        found = self.tests[parent].get(test)
        if found is None:
            found = self.tests[parent][test] = self._node()
        return found

    def _satisfiable(self, node: int) -> int:
        """Most children of ``node`` one fact can satisfy at once (values differ per key only)."""
        by_key: dict[str, list[tuple[str, str, Any]]] = {}
        for test in self.tests[node]:
            by_key.setdefault(test[1], []).append(test)
        total = len(self.forwards[node])  # a forward node always passes
        for tests in by_key.values():
            consts = {t[2] for t in tests if t[0] not in ("$ex", "$nex")}
            values: set[Any] = {None, "\x00other"} | consts
            values |= {c + d for c in consts if isinstance(c, int) for d in (-1, 1)}
            total += max(sum(_satisfies(t, v) for t in tests) for v in values)
        return total

    def stack_bound(self) -> int:
        """Most alpha-stack entries one fact can need."""
        memo: dict[int, int] = {}

        def bound(node: int) -> int:
            if node not in memo:
                kids = [*self.tests[node].values(), *self.forwards[node]]
                here = self._satisfiable(node)
                deepest = max((bound(k) for k in kids), default=0)
                memo[node] = max(here, here - 1 + deepest) if kids else 0
            return memo[node]

        return bound(0)


def alpha_stack_bound(conditions: Iterable[dict[str, Any]]) -> int:
    """Upper bound of the alpha-stack entries one fact can need in a ruleset of these conditions."""
    net = _AlphaNet()
    for c in conditions:
        net.add(c)
    net.add({"$ex": {"id": 1}})  # the audit rule; the warm-up rule's key is in no case's fact
    return net.stack_bound()


def plan_chunks(rules: Sequence[Rule]) -> list[list[int]]:
    """Split rules (by index, in order) into rulesets within durable's per-fact limits."""
    conds = [durable_condition(r.when) for r in rules]
    keys = [{s.key for s in sources(r.when)} for r in rules]
    # the bound only grows as rules are added: rules within the limits all together make one ruleset,
    # as the split below would, without its network per rule (a quadratic cost in every process)
    if rules and alpha_stack_bound(conds) <= MAX_ALPHA_STACK and len(set().union(*keys)) <= MAX_FACT_FIELDS:
        return [list(range(len(rules)))]
    chunks: list[list[int]] = []
    current: list[int] = []
    for i in range(len(rules)):
        if alpha_stack_bound([conds[i]]) > MAX_ALPHA_STACK or len(keys[i]) > MAX_FACT_FIELDS:
            raise RulesEngineError(f"rule {rules[i].name} alone exceeds durable-rules' per-fact limits")
        trial = [*current, i]
        fields = set().union(*(keys[j] for j in trial))
        if current and (
            alpha_stack_bound(conds[j] for j in trial) > MAX_ALPHA_STACK or len(fields) > MAX_FACT_FIELDS
        ):
            chunks.append(current)
            trial = [i]
        current = trial
    if current:
        chunks.append(current)
    return chunks
