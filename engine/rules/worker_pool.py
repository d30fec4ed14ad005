"""Matching many cases in this process and in forked worker processes (core.parallel.fork_map), each
building its own rulesets; a slice whose engine fails is redone once in a fresh process."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engine.core.parallel import WorkerError, fork_map
from engine.rules.chunks import Rule, RulesEngineError
from engine.rules.durable import BATCH, Matcher, matcher

#: what a worker builds its matcher with (a seam for tests that make a worker fail)
_worker_factory: Callable[[str, Sequence[Rule]], Matcher] = Matcher


def match(
    name: str, rules: tuple[Rule, ...], cases: Sequence[Mapping[str, Any]], *, workers: int = 1
) -> list[int]:
    """Per case, the OR of the bits of the rules that hold. ``workers`` > 1 uses forked processes too.

    The cases are split into ``workers`` slices, matched by this process with its own (cached)
    rulesets and by forked workers, each building its own rulesets. A slice whose engine fails (an
    engine error here, or an error or crash in a worker) is redone once in a fresh process; a
    second failure raises RulesEngineError.
    """
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
