"""Matching many cases in this process and in forked worker processes, each building its own
rulesets; a slice whose engine fails is redone once in a fresh process."""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engine.rules.chunks import Rule, RulesEngineError
from engine.rules.durable import BATCH, Matcher, matcher


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
