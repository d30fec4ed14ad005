"""The parts of a place briefing that are about its teams (engine.analysis.team_findings): the rule
they follow, page 1's headline and lines, and the kinds of an entry in words (shared with the
place's own entries)."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.platypus import Paragraph

from engine.core.models import KIND_ORDER, ExceptionKind
from engine.reports.briefing_data import Entry, PlaceBriefing
from engine.reports.layout import esc, para
from engine.reports.wording import KIND_LABELS, kind_parts, measure_title, pct

#: what a team exception is, where the briefing lists them
TEAM_RULE = (
    "The same rules applied to each team's own cases and figures: a rate whose whole interval is "
    "below the standard, a special cause on the team's weekly series (where it has enough weeks), a "
    "figure beyond its threshold. A critical failure is never repeated here: it is the place's, and "
    "its cases name the team. A team exception is shown even when the place has the same one: it says "
    "where the problem sits."
)


def teams_headline(b: PlaceBriefing) -> str:
    """'Team exceptions: 3 in 2 teams (Response A, Response B): 2 below standard, 1 special cause.'"""
    teams = sorted({e.team for e in b.team_exceptions})
    kinds = kind_parts([sum(1 for e in b.team_exceptions if e.kind is k) for k in KIND_ORDER])
    where = f"{len(teams)} team{'s' if len(teams) != 1 else ''} ({', '.join(teams)})"
    return f"Team exceptions: {len(b.team_exceptions)} in {where}: {', '.join(kinds)}."


def kinds_text(kinds: Sequence[ExceptionKind]) -> str:
    """'Below standard and special cause'; 'Critical failure, below standard and threshold breach'."""
    labels = [KIND_LABELS[k] if i == 0 else KIND_LABELS[k].lower() for i, k in enumerate(kinds)]
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} and {labels[-1]}"


def team_summary_entry(b: PlaceBriefing, number: int, x: Entry) -> Paragraph:
    """A team's entry on page 1 in one paragraph: 'Team CID · D11 Stop and search: below standard
    SS01 2 of 4 (50%); below standard SS02 2 of 4 (50%); special cause the whole measure 2 of 4
    (50%) · section 3'."""
    parts = []
    for f in x.figures():
        e = f.lead
        kinds = kinds_text(tuple(dict.fromkeys(s.kind for s in f.signals))).lower()
        figure = f" {e.passed:,} of {e.n:,} ({pct(e.rate)})" if e.rate is not None and e.n else ""
        parts.append(f"{kinds} {e.criterion or 'the whole measure'}{figure}")
    link = f"<a href='#ex{number}' color='#1f4e79'>section {number}</a>"
    what = esc(f"Team {x.lead.team} · {measure_title(x.measure, b.measure_names)}")
    return para(f"<b>{what}</b>: {esc('; '.join(parts))} · {link}", "body")
