"""A period's place briefings and force.pdf rendered on every core (reportlab is pure Python).

Byte-identical to rendering them one after another: the biggest briefing goes first, forked
children (their inputs inherited, never pickled) take jobs from a shared counter while this process
renders too, and whatever a child does not deliver is rendered here.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Sequence
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkContext
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized

from engine.reports import briefing
from engine.reports.briefing_data import ForceSummary, PlaceBriefing

#: ``workers=None`` forks a second process only if it saves at least this many ms (as estimated by
#: _cost_ms). Forking the weekly batch (180 MB) and getting the PDFs back costs about 45 ms of CPU;
#: below this the two were level or the serial run won in measurements on a busy machine
_MIN_PARALLEL_SAVING_MS = 100

_Job = tuple[str, PlaceBriefing | ForceSummary]


def render_briefings(
    briefings: Sequence[PlaceBriefing], summary: ForceSummary, *, workers: int | None = None
) -> dict[str, bytes]:
    """Render every place briefing and force.pdf: ``{"<place code>.pdf": bytes, ..., "force.pdf":
    bytes}`` in that order, byte-identical whatever ``workers`` is.

    ``workers`` processes share the work, the biggest briefing first; the extra ones are forked from
    this one (which renders too). ``None`` uses two when there are two cores and the estimated saving
    pays for the fork, else one. Without fork, or if it fails, everything is rendered here.
    Example: render_briefings(briefings, summary, workers=2)["force.pdf"][:5] == b"%PDF-"
    """
    jobs: list[_Job] = [(f"{b.place.code}.pdf", b) for b in briefings]
    jobs.append(("force.pdf", summary))
    costs = [_cost_ms(item) for _, item in jobs]
    if workers is None:
        workers = _auto_workers(costs)
    order = sorted(range(len(jobs)), key=lambda i: -costs[i])  # stable: ties keep the given order
    by_cost = [jobs[i] for i in order]
    rendered = _render_forked(by_cost, min(workers, len(jobs))) if workers > 1 else None
    if rendered is None:
        return {name: _render(item) for name, item in jobs}
    data = dict(zip(order, rendered, strict=True))
    return {name: data[i] for i, (name, _) in enumerate(jobs)}


def _cost_ms(item: PlaceBriefing | ForceSummary) -> float:
    """Estimated rendering time on the project machine: 25 ms an exception, 1 ms a failing-case row
    and 1 ms per 60 characters of why-trace and note (fitted on the demo's and the benchmark's
    briefings: typically within 20%, always within a factor of 2)."""
    if isinstance(item, PlaceBriefing):
        rows = [d for e in item.exceptions for d in e.details]
        text = sum(len(d.note) + sum(map(len, d.trace)) for d in rows)
        return 25 * len(item.exceptions) + len(rows) + text / 60
    force_exceptions = sum(len(p.force_exceptions) for p in item.priorities)
    return 13 * len(item.priorities) + 25 * force_exceptions


def _auto_workers(costs: Sequence[float]) -> int:
    """2 if the longest-processing-time split over two processes saves enough, else 1."""
    if _cores() < 2:
        return 1
    loads = [0.0, 0.0]
    for cost in sorted(costs, reverse=True):
        loads[loads.index(min(loads))] += cost
    return 2 if sum(costs) - max(loads) >= _MIN_PARALLEL_SAVING_MS else 1


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _render(item: PlaceBriefing | ForceSummary) -> bytes:
    return briefing.place_pdf(item).data if isinstance(item, PlaceBriefing) else briefing.force_pdf(item).data


def _render_forked(jobs: Sequence[_Job], workers: int) -> list[bytes] | None:
    """Render ``jobs`` here and in ``workers - 1`` forked children, each taking the next job from a
    shared counter; None if not even one child could be forked. A job a child does not deliver
    (it failed or was killed) is rendered here afterwards, so its error surfaces as in a serial run."""
    if multiprocessing.current_process().daemon:  # a daemonic process may not have children
        return None
    try:
        context = multiprocessing.get_context("fork")
        counter = context.Value("i", 0)
    except (ValueError, OSError):  # no fork, or no semaphores, on this platform
        return None
    children: list[tuple[BaseProcess, Connection]] = []
    done: dict[int, bytes] = {}
    try:
        for _ in range(workers - 1):
            started = _start_child(context, jobs, counter)
            if started is None:
                break
            children.append(started)
        if not children:
            return None
        while (i := _next_job(counter)) < len(jobs):
            done[i] = _render(jobs[i][1])
        waiting = [receive for _, receive in children]
        while waiting:
            ready = wait(waiting)
            for receive in [r for r in waiting if r in ready]:
                try:
                    done.update(receive.recv())
                except EOFError:  # the child died: its jobs are rendered below
                    pass
                waiting.remove(receive)
    except BaseException:  # Ctrl-C too, which the children ignore: stop them, leave no orphans
        for child, _ in children:
            child.terminate()
        raise
    finally:
        for child, receive in children:
            receive.close()
            child.join()
    return [done[i] if i in done else _render(item) for i, (_, item) in enumerate(jobs)]


def _start_child(
    context: ForkContext, jobs: Sequence[_Job], counter: Synchronized[int]
) -> tuple[BaseProcess, Connection] | None:
    """A forked child rendering ``jobs`` and the end of its pipe; None if it cannot be started."""
    try:
        receive, send = context.Pipe(duplex=False)
    except OSError:  # out of file descriptors
        return None
    child = context.Process(target=_child, args=(jobs, counter, send), daemon=True)
    try:
        child.start()
    except OSError:  # out of processes or memory
        receive.close()
        return None
    finally:
        send.close()
    return child, receive


def _child(jobs: Sequence[_Job], counter: Synchronized[int], send: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C by terminating us
    done: list[tuple[int, bytes]] = []
    try:
        while (i := _next_job(counter)) < len(jobs):
            done.append((i, _render(jobs[i][1])))
    except Exception:  # the parent renders this job again, and raises the error there
        pass
    # sent once at the end: a send blocks until the parent reads, which it does after its own share
    send.send(done)
    send.close()


def _next_job(counter: Synchronized[int]) -> int:
    with counter.get_lock():
        i = counter.value
        counter.value = i + 1
    return i


__all__ = ["render_briefings"]
