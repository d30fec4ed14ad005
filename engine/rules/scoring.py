"""Scoring: each criterion's outcome per case, the weighted score, critical failures and why-traces.

Pure: no I/O, clock or database. durable-rules matches (via worker_pool and durable); ``score_cases_python`` is the oracle."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from engine.core.memory import paused_gc
from engine.core.models import APPLIES, Outcome
from engine.rules import worker_pool
from engine.rules.chunks import Rule
from engine.rules.expressions import Condition, all_of


class Criterion(Protocol):
    """What scoring needs of a criterion (engine/rules/rulesets.py provides it)."""

    @property
    def id(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def applies(self) -> Condition | None: ...
    @property
    def passes(self) -> Condition: ...
    @property
    def weight(self) -> float: ...
    @property
    def critical(self) -> bool: ...


class Ruleset(Protocol):
    """What scoring needs of a ruleset (engine/rules/rulesets.py provides it)."""

    @property
    def id(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def case_type(self) -> str | None: ...
    @property
    def criteria(self) -> Sequence[Criterion]: ...


@dataclass(frozen=True, slots=True)
class CaseScore:
    """One case scored against one ruleset version."""

    #: the caller's key for the case (e.g. the assessment's primary key)
    key: Any
    ruleset_id: str
    ruleset_version: str
    ruleset_sha256: str
    #: criterion id -> pass / fail / na, for every criterion, in ruleset order
    outcomes: Outcomes
    #: weight passed / weight applicable; None when no criterion applies
    score: float | None
    #: critical criteria that failed (recorded apart from the score)
    critical_failures: tuple[str, ...]
    #: why each FAILED criterion failed, in words (``trace``; computed on first access, see ``Traces``)
    traces: Mapping[str, tuple[str, ...]]


def _bits(mask: int) -> Iterator[int]:
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


class Outcomes(Mapping[str, Outcome]):
    """Every criterion's outcome for one case, held as two bitmasks (a dict's worth in 100 bytes)."""

    __slots__ = ("_plan", "_na", "_fail")

    def __init__(self, plan: _Plan, na: int, fail: int) -> None:
        self._plan, self._na, self._fail = plan, na, fail

    def __getitem__(self, criterion_id: str) -> Outcome:
        bit = 1 << self._plan.index[criterion_id]
        if self._na & bit:
            return Outcome.NOT_APPLICABLE
        return Outcome.FAILED if self._fail & bit else Outcome.PASSED

    def __iter__(self) -> Iterator[str]:
        return iter(self._plan.ids)

    def __len__(self) -> int:
        return len(self._plan.ids)

    def __repr__(self) -> str:
        return repr({k: v.value for k, v in self.items()})

    def texts(self) -> dict[str, str]:
        """{criterion id: "pass" | "fail" | "na"} for every criterion, in ruleset order (as stored)."""
        return dict(self._plan.texts(self._na, self._fail))

    def shared_texts(self) -> Mapping[str, str]:
        """``texts()`` without the copy: one dict for every case of the ruleset with these outcomes
        (a year's 113,000 cases share a few thousand), which the caller must not change."""
        return self._plan.texts(self._na, self._fail)

    @property
    def failed(self) -> tuple[str, ...]:
        """Ids of the failed criteria, in ruleset order."""
        return tuple(self._plan.ids[i] for i in _bits(self._fail))


class Traces(Mapping[str, tuple[str, ...]]):
    """Why-traces of a case's failed criteria, explained on first access and then kept.

    Explaining every failure of 100,000 cases would cost more than scoring them, and most are only
    read for the few cases a briefing shows; the case mapping must not change before they are read.
    """

    __slots__ = ("_plan", "_case", "_fail", "_done")

    def __init__(self, plan: _Plan, case: Mapping[str, Any], fail: int) -> None:
        self._plan, self._case, self._fail = plan, case, fail
        self._done: dict[str, tuple[str, ...]] | None = None

    def __getitem__(self, criterion_id: str) -> tuple[str, ...]:
        if self._done is None:
            self._done = {}
        found = self._done.get(criterion_id)
        if found is None:
            i = self._plan.index.get(criterion_id)
            if i is None or not self._fail >> i & 1:
                raise KeyError(criterion_id)
            found = self._done[criterion_id] = self._plan.trace(i, self._case)
        return found

    def __iter__(self) -> Iterator[str]:
        return (self._plan.ids[i] for i in _bits(self._fail))

    def __len__(self) -> int:
        return self._fail.bit_count()

    def __repr__(self) -> str:
        return repr(dict(self.items()))


_NO_TRACES: Mapping[str, tuple[str, ...]] = MappingProxyType({})


def _answer_key(value: Any) -> Any:
    """An answer as a key that tells apart what a trace would show differently: 1, 1.0 and True
    are equal in a dict, but read "1", "1.0" and "True"."""
    return value if value is None or type(value) is str else (type(value), repr(value))


def trace(criterion: Criterion, case: Mapping[str, Any]) -> tuple[str, ...]:
    """Why ``criterion`` fails for ``case``, as stored and shown: first the why, one line naming the
    deciding facts of its pass condition (what a briefing prints); then, when it has an ``applies``,
    one line per fact that made it apply, each starting "applies: " (for the cases CSV).

    ("grounds were not recorded (answer: no)", "applies: power was pace_s1, not s60 or s47a", ...)
    """
    lines = [criterion.passes.reason(case).sentence]
    if criterion.applies is not None:
        lines += [f"{APPLIES}{line}" for line in criterion.applies.reason(case).lines]
    return tuple(lines)


class _Plan:
    """A ruleset prepared for scoring: criteria by bit, the engine rules, and weight tables.

    Bit i of a case's mask says criterion i is N/A, bit n+i that it failed; neither means it passed.
    """

    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset
        self.criteria = tuple(ruleset.criteria)
        self.ids = tuple(c.id for c in self.criteria)
        self.index = {cid: i for i, cid in enumerate(self.ids)}
        if len(self.index) != len(self.ids):
            dupes = sorted({cid for cid in self.ids if self.ids.count(cid) > 1})
            raise ValueError(f"ruleset {ruleset.id}: duplicate criterion ids {', '.join(dupes)}")
        self.n = n = len(self.ids)
        weights = [float(c.weight) for c in self.criteria]
        self.total = sum(weights)
        # weight of any set of criteria by one table lookup per 8 of them
        self.tables = [
            [sum(weights[k + j] for j in range(8) if b >> j & 1 and k + j < n) for b in range(256)]
            for k in range(0, n, 8)
        ]
        self.critical = sum(1 << i for i, c in enumerate(self.criteria) if c.critical)
        self._critical_ids: dict[int, tuple[str, ...]] = {0: ()}
        self._texts: dict[tuple[int, int], dict[str, str]] = {}
        # a trace reads only its criterion's questions: cases with the same answers to them share it
        self._read = [
            tuple(sorted(c.passes.fields | (c.applies.fields if c.applies is not None else frozenset())))
            for c in self.criteria
        ]
        self._traces: dict[tuple[int, tuple[Any, ...]], tuple[str, ...]] = {}
        self._weights: dict[int, float] = {}  # masks repeat: most cases share their N/A pattern
        self.name = f"{ruleset.id}@{ruleset.version}"
        rules: list[Rule] = []
        for i, c in enumerate(self.criteria):
            if c.applies is not None:
                rules.append(Rule(f"{c.id}#na", c.applies.negated, i))
                fail = all_of(c.applies.lowered, c.passes.negated)
            else:
                fail = c.passes.negated
            rules.append(Rule(f"{c.id}#fail", fail, n + i))
        self.rules = tuple(rules)

    def weight(self, mask: int) -> float:
        """The total weight of the criteria whose bits are set in ``mask``."""
        found = self._weights.get(mask)
        if found is not None:
            return found
        if len(self._weights) >= 100_000:
            self._weights.clear()
        total = 0.0
        key = mask
        for table in self.tables:
            if not mask:
                break
            total += table[mask & 255]
            mask >>= 8
        self._weights[key] = total
        return total

    def mask_python(self, case: Mapping[str, Any]) -> int:
        """The mask by the plain-Python evaluator (the oracle for the engine)."""
        mask = 0
        for i, c in enumerate(self.criteria):
            if c.applies is not None and not c.applies.evaluate(case):
                mask |= 1 << i
            elif not c.passes.evaluate(case):
                mask |= 1 << (self.n + i)
        return mask

    def trace(self, i: int, case: Mapping[str, Any]) -> tuple[str, ...]:
        """``trace`` of criterion ``i`` for ``case``, made once for each set of answers it reads."""
        key = (i, tuple(map(_answer_key, map(case.get, self._read[i]))))
        found = self._traces.get(key)
        if found is None:
            if len(self._traces) >= 100_000:
                self._traces.clear()
            found = self._traces[key] = trace(self.criteria[i], case)
        return found

    def texts(self, na: int, fail: int) -> dict[str, str]:
        """{criterion id: "pass" | "fail" | "na"} for these masks (cases share a few patterns; the
        dict is kept for the next case with them: callers copy it before changing it)."""
        found = self._texts.get((na, fail))
        if found is None:
            if len(self._texts) >= 100_000:
                self._texts.clear()
            found = self._texts[(na, fail)] = {
                cid: "na" if na >> i & 1 else "fail" if fail >> i & 1 else "pass"
                for i, cid in enumerate(self.ids)
            }
        return found

    def critical_failures(self, fail: int) -> tuple[str, ...]:
        failed = fail & self.critical
        found = self._critical_ids.get(failed)
        if found is None:
            found = self._critical_ids[failed] = tuple(self.ids[i] for i in _bits(failed))
        return found

    def scores(self, cases: Sequence[Mapping[str, Any]], masks: Sequence[int], key: str) -> list[CaseScore]:
        rs = self.ruleset
        rid, version, sha = rs.id, rs.version, rs.sha256
        n, low, weight, total = self.n, (1 << self.n) - 1, self.weight, self.total
        critical = self.critical_failures
        out: list[CaseScore] = []
        append = out.append
        # cases share a few thousand masks: each one's outcomes, score and critical failures once
        shared: dict[int, tuple[Outcomes, float | None, tuple[str, ...], int]] = {}
        for case, mask in zip(cases, masks, strict=True):
            found = shared.get(mask)
            if found is None:
                na, fail = mask & low, mask >> n
                applicable = total - weight(na) if na else total
                if applicable <= 0:
                    score = None
                else:
                    score = (applicable - weight(fail)) / applicable if fail else 1.0
                found = shared[mask] = (Outcomes(self, na, fail), score, critical(fail) if fail else (), fail)
            outcomes, score, failed, fail = found
            traces = Traces(self, case, fail) if fail else _NO_TRACES
            append(CaseScore(case.get(key), rid, version, sha, outcomes, score, failed, traces))
        return out


_PLANS: dict[int, _Plan] = {}


def _plan(ruleset: Ruleset) -> _Plan:
    # keyed by identity: a loaded ruleset is reused for every batch; equal copies just cost a rebuild
    found = _PLANS.get(id(ruleset))
    if found is None or found.ruleset is not ruleset:
        if len(_PLANS) >= 64:
            _PLANS.clear()
        found = _PLANS[id(ruleset)] = _Plan(ruleset)
    return found


def _check_case_type(ruleset: Ruleset, cases: Sequence[Mapping[str, Any]], key: str) -> None:
    wrong = [c.get(key) for c in cases if c.get("case_type", ruleset.case_type) != ruleset.case_type]
    if wrong:
        shown = ", ".join(repr(k) for k in wrong[:5])
        raise ValueError(
            f"{len(wrong)} case(s) are not {ruleset.case_type} cases for ruleset {ruleset.id} (e.g. {shown})"
        )


def score_cases(
    ruleset: Ruleset, cases: Sequence[Mapping[str, Any]], *, key: str = "key", workers: int = 1
) -> list[CaseScore]:
    """Score cases of the ruleset's case type with durable-rules; one CaseScore per case, in order.

    ``key`` names the field of each case that identifies it in the results. ``workers=2`` splits the
    cases over two forked processes (worth it from a few thousand cases).

    >>> scores = score_cases(ruleset, rows, key="assessment_id")            # doctest: +SKIP
    >>> scores[0].outcomes["SS01"], scores[0].score, scores[0].traces["SS01"]  # doctest: +SKIP
    (<Outcome.FAILED: 'fail'>, 0.8, ('grounds were not recorded (answer: no)', 'applies: ...'))
    """
    _check_case_type(ruleset, cases, key)
    plan = _plan(ruleset)
    with paused_gc():  # a CaseScore per case, no cycles among them
        masks = worker_pool.match(plan.name, plan.rules, cases, workers=workers)
        return plan.scores(cases, masks, key)


def engine_rules(ruleset: Ruleset) -> tuple[Rule, ...]:
    """The rule-engine rules a ruleset compiles to: ``<id>#na`` (does not apply), ``<id>#fail``.

    ``durable.definitions(engine_rules(r))`` gives the durable JSON, for audit.
    """
    return _plan(ruleset).rules


def score_cases_python(
    ruleset: Ruleset, cases: Sequence[Mapping[str, Any]], *, key: str = "key"
) -> list[CaseScore]:
    """``score_cases`` by the plain-Python evaluator: same results, no rule engine (the oracle)."""
    _check_case_type(ruleset, cases, key)
    plan = _plan(ruleset)
    return plan.scores(cases, [plan.mask_python(c) for c in cases], key)
