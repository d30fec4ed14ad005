"""The durable-rules seam, the only module importing it: lowered conditions become durable rulesets and
cases are matched in batches, by the pattern research/durable-rules.md (section 2) measured correct and
fastest, with compact facts and complemented rules where they make the engine do less."""

from __future__ import annotations

import json
import os
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from itertools import count
from typing import Any

import durable_rules_engine as dre

from engine.rules.chunks import Rule, RulesEngineError, plan_chunks
from engine.rules.expressions import durable_condition, negate, sources
from engine.rules.fact_encoding import Encoding

# The research pattern, kept whole: the engine module directly (no Host), facts not events, explicit
# rule names, 200 facts per session with 'cap' rules, projected facts, one warm-up per ruleset, a full
# drain then delete_state after every batch, an audit rule proving every fact was seen, rc 1 ignored and
# rc 2 fatal, a ruleset never used again after an engine error, rules split so no fact can satisfy 64
# alpha tests (error 303) or carry 252 fields (302), workers forked and each building its own rulesets.

#: facts per session (research section 2: 200 facts with cap rules is the measured optimum)
BATCH = 200

_AUDIT = "__seen"
_WARMUP = "__warmup"
_ID = re.compile(r'"m":\{"id":(\d+)')
_NAMES = count()


# ----------------------------------------------------------------------------- matching


def _definition(rules: Sequence[Rule]) -> dict[str, Any]:
    definition: dict[str, Any] = {
        r.name: {"all": [{"m": durable_condition(r.when)}], "cap": BATCH} for r in rules
    }
    definition[_WARMUP] = {"all": [{"m": {_WARMUP: 1}}]}
    definition[_AUDIT] = {"all": [{"m": {"$ex": {"id": 1}}}], "cap": BATCH}
    return definition


def _encode(rules: Sequence[Rule]) -> tuple[Encoding, list[tuple[Rule, Rule]], list[list[int]]]:
    """The encoding, the (original, encoded) rules that can hold, and their chunks (indices)."""
    encoding = Encoding(rules)
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
    def __init__(self, name: str, pairs: Sequence[tuple[Rule, Rule]], encoding: Encoding) -> None:
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
