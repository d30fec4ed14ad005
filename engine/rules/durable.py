"""The durable-rules seam, the only module importing it: lowered conditions become durable rulesets and
cases are matched in batches, by the pattern research/durable-rules.md (section 2) measured correct and
fastest, with compact facts and complemented rules where they make the engine do less."""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import count, product
from operator import itemgetter
from typing import Any

import durable_rules_engine as dre

from engine.core.models import AnswerType
from engine.rules.expressions import (
    OPERATORS,
    AllOf,
    AnyOf,
    Atom,
    Field,
    Lowered,
    Source,
    atoms,
    durable_condition,
    negate,
    sources,
    to_ordinal,
)

# The research pattern, kept whole: the engine module directly (no Host), facts not events, explicit
# rule names, 200 facts per session with 'cap' rules, projected facts, one warm-up per ruleset, a full
# drain then delete_state after every batch, an audit rule proving every fact was seen, rc 1 ignored and
# rc 2 fatal, a ruleset never used again after an engine error, rules split so no fact can satisfy 64
# alpha tests (error 303) or carry 252 fields (302), workers forked and each building its own rulesets.

#: facts per session (research section 2: 200 facts with cap rules is the measured optimum)
BATCH = 200
#: durable's alpha DFS stack holds 64 entries (events.c MAX_STACK_SIZE); stay well clear of it
MAX_ALPHA_STACK = 56
#: durable allows 255 properties per fact and adds 'sid' and 'id' itself (error 302 beyond)
MAX_FACT_FIELDS = 250

_AUDIT = "__seen"
_WARMUP = "__warmup"
_ID = re.compile(r'"m":\{"id":(\d+)')
_NAMES = count()


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


# ----------------------------------------------------------------------------- fact encoding


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


class _Encoding:
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
            when = Atom(_Key("id"), "ex")  # type: ignore[arg-type]
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
                return Atom(_Key(self.names[key]), node.op, node.value)  # type: ignore[arg-type]
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
        for key, codes in merged.items():
            part = self._constant(key, codes)
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
        key, universe = _Key(self.names[node.key]), self.universe[node.key]
        chosen, rest = sorted(node.codes), sorted(universe - node.codes)
        if len(chosen) == 1:
            return Atom(key, "eq", chosen[0])  # type: ignore[arg-type]
        if len(rest) == 1:
            return Atom(key, "ne", rest[0])  # type: ignore[arg-type]
        if chosen[-1] - chosen[0] + 1 == len(chosen):  # a run of codes touching either end: one test
            if chosen[0] == min(universe):
                return Atom(key, "le", chosen[-1])  # type: ignore[arg-type]
            if chosen[-1] == max(universe):
                return Atom(key, "ge", chosen[0])  # type: ignore[arg-type]
        if len(chosen) <= len(rest):
            return Atom(key, "in", tuple(chosen))  # type: ignore[arg-type]
        return Atom(key, "nin", tuple(rest))  # type: ignore[arg-type]

    def writer(self, used: Iterable[Source]) -> _FactWriter:
        return _FactWriter(self, {s.key: s for s in used}.values())


class _FactWriter:
    """Writes the JSON text of a fact: '{"id":3,"a":0,"b":739845,...}' (blank dates, numbers left out).

    A question's answer becomes its JSON snippet by one dict lookup (pre-filled for choices, memoised
    for dates and numbers), so the common case runs in C: itemgetter, map(dict.get), str.join.
    Derived values (days between dates, differences, same-answer flags) are computed per case.
    """

    _MEMO = 4096

    def __init__(self, encoding: _Encoding, used: Iterable[Source]) -> None:
        plain: list[Field] = []
        self._derived: list[tuple[str, Callable[[Mapping[str, Any]], Any]]] = []
        for s in used:
            if isinstance(s, Field):
                plain.append(s)
            else:
                self._derived.append((f',"{encoding.names[s.key]}":', s.value))
        self.fields = len(plain) + len(self._derived)
        self._names = tuple(f.name for f in plain)
        getter = itemgetter(*self._names) if self._names else None
        if len(self._names) == 1:
            self._get: Callable[[Mapping[str, Any]], tuple[Any, ...]] = lambda case: (getter(case),)  # type: ignore[misc]
        else:
            self._get = getter or (lambda case: ())  # type: ignore[assignment]
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
                self._render.append(lambda v, text=other: text)
            elif f.type is AnswerType.DATE:
                self._render.append(lambda v, p=prefix: f"{p}{to_ordinal(v)}")
            else:
                self._render.append(lambda v, p=prefix: p + json.dumps(v))
            self._tables.append(table)

    def __call__(self, case: Mapping[str, Any], i: int) -> str:
        try:
            values = self._get(case)
        except KeyError:  # a case without some question at all: same as blank
            values = tuple(case.get(n) for n in self._names)
        try:
            parts = list(map(dict.get, self._tables, values))
        except TypeError:  # an unhashable answer; rendered (and rejected) below
            parts = [None] * len(values)
        if None in parts:
            for k, part in enumerate(parts):
                if part is None:
                    parts[k] = self._miss(k, values[k])
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


# ----------------------------------------------------------------------------- matching


def _definition(rules: Sequence[Rule]) -> dict[str, Any]:
    definition: dict[str, Any] = {
        r.name: {"all": [{"m": durable_condition(r.when)}], "cap": BATCH} for r in rules
    }
    definition[_WARMUP] = {"all": [{"m": {_WARMUP: 1}}]}
    definition[_AUDIT] = {"all": [{"m": {"$ex": {"id": 1}}}], "cap": BATCH}
    return definition


def _encode(rules: Sequence[Rule]) -> tuple[_Encoding, list[tuple[Rule, Rule]], list[list[int]]]:
    """The encoding, the (original, encoded) rules that can hold, and their chunks (indices)."""
    encoding = _Encoding(rules)
    pairs = [(r, e) for r in rules if (e := encoding.rule(r)) is not None]
    return encoding, pairs, plan_chunks([e for _, e in pairs])


def definitions(rules: Sequence[Rule]) -> dict[str, Any]:
    """What the engine runs for these rules, for audit: the durable rulesets and the key/code legend."""
    encoding, pairs, chunks = _encode(rules)
    return {
        "rulesets": [_definition([pairs[i][1] for i in part]) for part in chunks],
        "facts": encoding.legend(),
    }


class _Chunk:
    def __init__(self, name: str, pairs: Sequence[tuple[Rule, Rule]], encoding: _Encoding) -> None:
        definition = _definition([e for _, e in pairs])
        self.bits = {r.name: 1 << r.bit for r, _ in pairs}
        self.write = encoding.writer(s for r, _ in pairs for s in sources(r.when))
        self.handle = dre.create_ruleset(name, json.dumps(definition))
        # createStateNode leaves the action context uninitialised; deleting a session that never completed
        # an action can free() garbage (research section 3), so complete one action before any real work
        _, off = dre.assert_fact(self.handle, json.dumps({_WARMUP: 1, "id": -1}))
        result = dre.start_action_for_state(self.handle, off)
        while result:
            result = dre.complete_and_start_action(self.handle, off)
        dre.delete_state(self.handle, None)


class Matcher:
    """durable rulesets for one list of rules, in this process. ``match`` gives a bitmask per case.

    Every match costs the engine a copy of the fact, so a rule that holds for most cases (the
    'does not apply' rule of a rarely applicable criterion, say) is compiled as its exact complement
    once the first batch shows it, and its bit is flipped back: the same masks, fewer matches.
    """

    #: a rule holding for more than this share of the first batch is compiled as its complement
    FLIP_ABOVE = 0.6
    #: the first batch decides only if it has at least this many cases
    SAMPLE = 100

    def __init__(self, name: str, rules: Sequence[Rule]) -> None:
        self.name = name
        self.rules = tuple(rules)
        self.broken = False
        #: rules compiled as their complement
        self.flipped: frozenset[str] = frozenset()
        self._flip = 0
        self._sampled = False
        self._chunks = self._build()

    @property
    def rulesets(self) -> int:
        """How many durable rulesets the rules were split into."""
        return len(self._chunks)

    def _build(self) -> list[_Chunk]:
        compiled = [Rule(r.name, negate(r.when), r.bit) if r.name in self.flipped else r for r in self.rules]
        encoding, pairs, chunks = _encode(compiled)
        self._flip = sum(1 << r.bit for r in self.rules if r.name in self.flipped)
        return [_Chunk(f"{self.name}#{next(_NAMES)}", [pairs[i] for i in part], encoding) for part in chunks]

    def match(self, cases: Sequence[Mapping[str, Any]]) -> list[int]:
        """Per case (in order), the OR of the bits of the rules that hold for it.

        A value the facts cannot carry (a date that is not a date) raises ValueError before the engine
        sees the batch; any failure inside the engine raises RulesEngineError and discards the rulesets.
        """
        if self.broken:
            raise RulesEngineError(f"{self.name}: rulesets were discarded after an engine error")
        masks: list[int] = []
        for first in range(0, len(cases), BATCH):
            batch = cases[first : first + BATCH]
            found = [0] * len(batch)
            sample: dict[str, set[str]] | None = None
            if not self._sampled and len(batch) >= self.SAMPLE:
                sample = {}
            for chunk in self._chunks:
                # 'id' (the position in the batch) first in every fact: the action text is scanned for it
                facts = f"[{','.join([chunk.write(c, i) for i, c in enumerate(batch)])}]"
                self._guarded(self._run, chunk, facts, len(batch), found, sample)
            if self._flip:
                flip = self._flip
                found = [m ^ flip for m in found]
            masks += found
            if sample is not None:
                self._sampled = True
                self._guarded(self._reconsider, sample, len(batch))
        return masks

    def _guarded(self, step: Callable[..., None], *args: Any) -> None:
        try:
            step(*args)
        except Exception as e:
            # the engine state may be corrupt (research section 3): never touch these handles again
            self.broken = True
            if isinstance(e, RulesEngineError):
                raise
            raise RulesEngineError(f"{self.name}: durable-rules failed: {e}") from e

    def _run(
        self, chunk: _Chunk, facts: str, size: int, found: list[int], sample: dict[str, set[str]] | None
    ) -> None:
        """Assert one batch of facts in one ruleset, drain every action into ``found``, delete the session."""
        handle, bits, find_ids = chunk.handle, chunk.bits, _ID.findall
        rc, off = dre.assert_facts(handle, facts)
        if rc == 2:
            raise RulesEngineError(f"{self.name}: duplicate fact id in a batch")
        # rc 1 means "some fact matched nothing": the others' actions are pending all the same
        seen = 0
        result = dre.start_action_for_state(handle, off)
        text = result[1] if result else None
        while text is not None:
            rule = text[2 : text.index('"', 2)]
            bit = bits.get(rule)
            if bit is not None:
                ids = find_ids(text)
                for i in map(int, ids):
                    found[i] |= bit
                if sample is not None:
                    sample.setdefault(rule, set()).update(ids)
            elif rule == _AUDIT:
                # numeric ids only: the session's own state fact ("id":"sid-0") matches '$ex id' too
                seen += len(find_ids(text))
            text = dre.complete_and_start_action(handle, off)
        if seen != size:
            raise RulesEngineError(f"{self.name}: audit saw {seen} of {size} facts")
        dre.delete_state(handle, None)  # only after a full drain: one live session per ruleset

    def _reconsider(self, sample: dict[str, set[str]], size: int) -> None:
        """Flip the rules whose compiled form held for most of the sample; rebuild if any changed."""
        busy = {name for name, ids in sample.items() if len(ids) > self.FLIP_ABOVE * size}
        flipped = self.flipped ^ busy
        if flipped != self.flipped:
            old = self._chunks
            self.flipped = frozenset(flipped)
            self._chunks = self._build()
            for c in old:  # fully drained, no live session: safe to free
                dre.delete_ruleset(c.handle)

    def close(self) -> None:
        """Free the durable rulesets (not after an error: their state may be corrupt)."""
        if not self.broken:
            for c in self._chunks:
                dre.delete_ruleset(c.handle)
        self._chunks = []
        self.broken = True


_CACHE: OrderedDict[tuple[int, str, int], Matcher] = OrderedDict()
_CACHE_SIZE = 32


def matcher(name: str, rules: tuple[Rule, ...]) -> Matcher:
    """The Matcher of this rules tuple in this process: built on first use, warm afterwards.

    Cached by the tuple's identity (hashing rule trees costs more than scoring one case), so keep
    and pass the same tuple.
    """
    key = (os.getpid(), name, id(rules))
    found = _CACHE.get(key)
    if found is not None and found.rules is rules and not found.broken:
        _CACHE.move_to_end(key)
        return found
    _CACHE.pop(key, None)
    made = _CACHE[key] = Matcher(name, rules)
    while len(_CACHE) > _CACHE_SIZE:
        (pid, _, _), old = _CACHE.popitem(last=False)
        if pid == os.getpid():  # a forked child leaves its parent's rulesets alone
            old.close()
    return made


def match(
    name: str, rules: tuple[Rule, ...], cases: Sequence[Mapping[str, Any]], *, workers: int = 1
) -> list[int]:
    """Per case, the OR of the bits of the rules that hold. ``workers`` > 1 uses forked processes too.

    The cases are split into ``workers`` slices: this process matches the first with its own
    rulesets, a forked worker each other one, building its own rulesets. A slice whose engine fails
    (an engine error here, or an error or crash in a worker) is redone once in a fresh process; a
    second failure raises RulesEngineError.
    """
    if workers <= 1 or len(cases) < 2 * BATCH:
        return matcher(name, rules).match(cases)
    size = -(-len(cases) // workers)
    (lo, hi), *others = [(lo, min(lo + size, len(cases))) for lo in range(0, len(cases), size)]
    runs = [_start(name, rules, cases, a, b) for a, b in others]
    try:
        out = matcher(name, rules).match(cases[lo:hi])
    except RulesEngineError:  # these rulesets are discarded; the slice gets a fresh process
        out = _redo(name, rules, cases, lo, hi, _start(name, rules, cases, lo, hi))
    for (a, b), run in zip(others, runs, strict=True):
        out += _redo(name, rules, cases, a, b, run)
    return out


_Run = tuple[Any, Any]
#: what a worker builds its matcher with (a seam for tests that make a worker fail)
_worker_factory: Callable[[str, Sequence[Rule]], Matcher] = Matcher


def _redo(
    name: str, rules: Sequence[Rule], cases: Sequence[Mapping[str, Any]], lo: int, hi: int, run: _Run
) -> list[int]:
    """The masks of a worker's slice, redone once in a fresh process if the worker failed."""
    masks, error = _finish(run)
    if masks is None:
        masks, error = _finish(_start(name, rules, cases, lo, hi))
    if masks is None:
        raise RulesEngineError(f"{name}: cases {lo}-{hi - 1} failed in two worker processes: {error}")
    return masks


def _start(name: str, rules: Sequence[Rule], cases: Sequence[Mapping[str, Any]], lo: int, hi: int) -> _Run:
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_work, args=(send, name, rules, cases, lo, hi), daemon=True)
    # a collection in the child would touch every inherited object and copy the whole heap
    gc.freeze()
    try:
        process.start()
    finally:
        gc.unfreeze()
    send.close()  # so a crashed worker shows up as EOF here
    return process, receive


def _finish(run: _Run) -> tuple[list[int] | None, str]:
    """The worker's masks, or None and why it failed."""
    process, receive = run
    try:
        status, payload = receive.recv()
    except EOFError:
        status, payload = "error", "the worker process died"
    finally:
        receive.close()
        process.join()
    if status != "ok":
        return None, f"{payload} (exit code {process.exitcode})" if process.exitcode else str(payload)
    return payload, ""


def _work(
    send: Any, name: str, rules: Sequence[Rule], cases: Sequence[Mapping[str, Any]], lo: int, hi: int
) -> None:
    gc.disable()  # short-lived: collections would only copy the parent's pages
    try:
        masks = _worker_factory(name, rules).match(cases[lo:hi])
    except Exception as e:  # reported to the parent, which redoes the slice in a fresh process
        send.send(("error", f"{type(e).__name__}: {e}"))
    else:
        send.send(("ok", masks))
    send.close()
