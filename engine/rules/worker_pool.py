"""Matching many cases in this process and in forked worker processes (core.parallel.fork_map), each
building its own rulesets; a slice whose engine fails is redone once in a fresh process. Cases with
the same answers to every question the rules read are matched once."""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from engine.core.parallel import WorkerError, fork_map
from engine.rules.chunks import Rule, RulesEngineError
from engine.rules.durable import BATCH, Matcher, matcher
from engine.rules.expressions import questions

#: what a worker builds its matcher with (a seam for tests that make a worker fail)
_worker_factory: Callable[[str, Sequence[Rule]], Matcher] = Matcher


def match(
    name: str, rules: tuple[Rule, ...], cases: Sequence[Mapping[str, Any]], *, workers: int = 1
) -> list[int]:
    """Per case, the OR of the bits of the rules that hold. ``workers`` > 1 uses forked processes too.

    Only cases with distinct answers to the questions the rules read are matched; the others take
    the mask of the first with the same answers. These are split into ``workers`` slices (when
    there are enough to be worth it), matched by this process with its own (cached)
    rulesets and by forked workers, each building its own rulesets. A slice whose engine fails (an
    engine error here, or an error or crash in a worker) is redone once in a fresh process; a
    second failure raises RulesEngineError.
    """
    distinct, where = _distinct(rules, cases)
    masks = _match(name, rules, distinct, workers)
    return masks if where is None else [masks[i] for i in where]


def _distinct(
    rules: tuple[Rule, ...], cases: Sequence[Mapping[str, Any]]
) -> tuple[Sequence[Mapping[str, Any]], list[int] | None]:
    """The cases with distinct answers to the questions the rules read (a fact, and so a mask, is a
    function of those answers alone), and where each case's is among them (None: all distinct).
    A year's 113,000 assessments have about 14,000. Equal answers are one answer, as the fact writer
    takes them (its memo of written answers is a dict too); a blank is None whether missing or not,
    as in a fact; a case with an unhashable answer is kept apart."""
    names = tuple(sorted({q for r in rules for q in questions(r.when)}))
    get: Callable[[Mapping[str, Any]], Any] = itemgetter(*names) if names else lambda case: ()
    one = len(names) == 1
    index: dict[Hashable, int] = {}
    distinct: list[Mapping[str, Any]] = []
    where: list[int] = []
    for case in cases:
        try:
            values = (get(case),) if one else get(case)
        except KeyError:  # a question missing: blank, as in a fact
            values = tuple(map(case.get, names))
        try:
            i = index.setdefault(values, len(distinct))
        except TypeError:  # an unhashable answer (rejected when its fact is written)
            i = len(distinct)
        if i == len(distinct):
            distinct.append(case)
        where.append(i)
    return (cases, None) if len(distinct) == len(cases) else (distinct, where)


def _match(name: str, rules: tuple[Rule, ...], cases: Sequence[Mapping[str, Any]], workers: int) -> list[int]:
    if workers <= 1 or len(cases) < 2 * BATCH:
        return matcher(name, rules).match(cases)
    size = -(-len(cases) // workers)
    slices = [(lo, min(lo + size, len(cases))) for lo in range(0, len(cases), size)]
    parent = os.getpid()

    def work(i: int) -> list[int]:
        lo, hi = slices[i]
        here = os.getpid() == parent
        return (matcher(name, rules) if here else _worker_factory(name, rules)).match(cases[lo:hi])

    try:
        masks = fork_map(work, len(slices), workers=workers, redo="fresh", redo_errors=(RulesEngineError,))
    except WorkerError as exc:
        lo, hi = slices[exc.job]
        raise RulesEngineError(
            f"{name}: cases {lo}-{hi - 1} failed in two worker processes: {exc.error}"
        ) from None
    return [m for part in masks for m in part]
