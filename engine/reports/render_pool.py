"""A period's place briefings and force.pdf rendered on every core (reportlab is pure Python).

Byte-identical to rendering them one after another: the biggest briefing goes first, forked
children (core.parallel.fork_map: their inputs inherited, never pickled) take jobs from a shared
counter while this process renders too, and whatever a child does not deliver is rendered here.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.core.parallel import RENDER_PARALLEL_SAVING_MS, cores, fork_map
from engine.reports import briefing, force_brief
from engine.reports.briefing_data import PlaceBriefing
from engine.reports.force_data import ForceSummary

_Job = tuple[str, PlaceBriefing | ForceSummary]


def render_briefings(
    briefings: Sequence[PlaceBriefing], summary: ForceSummary, *, workers: int | None = None
) -> dict[str, bytes]:
    """Render every place briefing and force.pdf: ``{"<place code>.pdf": bytes, ..., "force.pdf":
    bytes}`` in that order, byte-identical whatever ``workers`` is.

    ``workers`` processes share the work, the biggest briefing first; the extra ones are forked from
    this one (which renders too). ``None`` uses two when there are two cores and the estimated saving
    (RENDER_PARALLEL_SAVING_MS) pays for the fork, else one. Without fork, everything is rendered here.
    Example: render_briefings(briefings, summary, workers=2)["force.pdf"][:5] == b"%PDF-"
    """
    jobs: list[_Job] = [(f"{b.place.code}.pdf", b) for b in briefings]
    jobs.append(("force.pdf", summary))
    costs = [_cost_ms(item) for _, item in jobs]
    if workers is None:
        workers = _auto_workers(costs)
    order = sorted(range(len(jobs)), key=lambda i: -costs[i])  # stable: ties keep the given order
    rendered = fork_map(lambda k: _render(jobs[order[k]][1]), len(jobs), workers=workers)
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
    if cores() < 2:
        return 1
    loads = [0.0, 0.0]
    for cost in sorted(costs, reverse=True):
        loads[loads.index(min(loads))] += cost
    return 2 if sum(costs) - max(loads) >= RENDER_PARALLEL_SAVING_MS else 1


def _render(item: PlaceBriefing | ForceSummary) -> bytes:
    return (
        briefing.place_pdf(item).data if isinstance(item, PlaceBriefing) else force_brief.force_pdf(item).data
    )


__all__ = ["render_briefings"]
