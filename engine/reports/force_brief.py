"""force.pdf: the whole force's week, for the chief officers and every place leader. Page 1 is the
force at a glance: every place with an exception by kind (critical failures first, then by name),
the places with nothing to report, what was not measured anywhere, and each priority in a line.
Then, only if there are any, the force-level exceptions in full."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table, TableStyle

from engine.core.models import KIND_ORDER
from engine.reports.briefing_data import not_defined
from engine.reports.exception_parts import exception_core
from engine.reports.force_data import ForceSummary, PlaceCounts, PrioritySummary, measure_order
from engine.reports.layout import (
    HEAD,
    RULE,
    WIDTH,
    Furniture,
    HRule,
    RenderedPdf,
    esc,
    para,
    plain,
    render_story,
)
from engine.reports.recognition_blocks import force_recognition
from engine.reports.wording import (
    KIND_LABELS,
    counts_text,
    kind_parts,
    measure_title,
    period_text,
    unit_for,
)


def force_pdf(summary: ForceSummary) -> RenderedPdf:
    """Render force.pdf: the force at a glance, then the force-level exceptions in full, if any
    (byte-identical for identical data)."""
    s = summary
    story = _glance(s)
    for page in s.priorities:
        story += _force_exceptions(s, page)
    places = {p.code: p.name for p in s.places}
    story += force_recognition(s.recognition, place_names=places, measure_names=s.measure_names)
    return render_story(
        story,
        Furniture(
            title=f"{s.force_name} force summary {s.period_label}",
            author=s.force_name,
            header=f"{s.force_name} force summary · {s.period_label}",
            rulesets=s.rulesets,
            run_line=f"Run {s.run_id} · {s.force_name} force summary · {s.period_label}",
            draft=s.draft,
        ),
    )


def _glance(s: ForceSummary) -> list[Flowable]:
    """Page 1: every place, every priority and what was not measured, in one view."""
    out: list[Flowable] = [
        plain(f"{s.force_name}: force summary", "title"),
        plain(
            f"Week {s.period_label} ({period_text(s.period_from, s.period_to)}) · "
            f"{len(s.places_briefed)} of {len(s.places)} places have a briefing this week",
            "subtitle",
        ),
        plain(_totals_text(s), "lead"),
        Spacer(1, 8),
        plain("Places", "h1"),
        HRule(),
        Spacer(1, 4),
    ]
    if s.overview:
        out += [
            plain(
                "Exceptions by kind over all priorities; Teams: the place's team exceptions (counted apart: "
                "the same rules applied to each team's own cases). Places with a critical failure first, "
                "then in alphabetical order: a count is not a score; each place's briefing says what lies "
                "behind it.",
                "small",
            ),
            Spacer(1, 5),
            _counts_table(s.overview),
            Spacer(1, 3),
            plain(_measure_key(s, {m for pc in s.overview for m in pc.measures}), "small"),
            Spacer(1, 8),
        ]
    if s.places_without:
        who = ", ".join(p.name for p in s.places_without) if s.overview else f"all {len(s.places)} places"
        out.append(para(f"<b>Nothing to report ({len(s.places_without)}):</b> {esc(who)}.", "lead"))
    slots = not_defined(s.measure_names)
    if missing := [m for m in s.not_measured if m not in slots]:
        names = "; ".join(measure_title(m, s.measure_names) for m in missing)
        out += [
            Spacer(1, 6),
            para(f"<b>Not measured anywhere in the force this week:</b> {esc(names)}.", "body"),
        ]
    if slots:
        what = "an item" if len(slots) == 1 else "items"
        text = f"{', '.join(slots)}, {what} of the catalogue the force has not named yet"
        out += [Spacer(1, 6), para(f"<b>Not defined:</b> {esc(text)}.", "body")]
    out += [Spacer(1, 12), plain("Priorities", "h1"), HRule(), Spacer(1, 4)]
    for page in s.priorities:
        out += [para(_priority_line(page), "body"), Spacer(1, 4)]
    return out


def _totals_text(s: ForceSummary) -> str:
    """'9 exceptions: 1 critical failure, ... (1 of them force-level).' or a sentence for none."""
    force_level = s.force_exceptions
    counts = [
        sum(pc.counts[i] for pc in s.overview) + sum(1 for e in force_level if e.kind is k)
        for i, k in enumerate(KIND_ORDER)
    ]
    teams = sum(pc.teams for pc in s.overview)
    team_text = f" Team exceptions: {teams}." if teams else ""
    if not sum(counts) and teams:
        return f"No place or force-level exceptions this week.{team_text}"
    if not sum(counts):
        return "No exceptions this week: nothing outside normal variation or below a standard."
    extra = f" ({len(force_level)} of them force-level)" if force_level else ""
    return f"{counts_text(counts)}{extra}.{team_text}"


def _priority_line(page: PrioritySummary) -> str:
    """'<b>Priority 3: Protect ...</b>: Kingsgate (D7) 1 critical failure; Ashford Vale (M8) 1 below
    standard, 1 special cause.' or '...: nothing to report.'"""
    head = f"<b>Priority {page.priority}: {esc(page.name)}</b>"
    if page.empty:
        return f"{head}: nothing to report."
    parts = [
        f"{esc(pc.place.name)} ({esc(', '.join(pc.measures))}) {esc(', '.join(kind_parts(pc.counts)))}"
        for pc in page.places_with
    ]
    if page.force_exceptions:
        force = ", ".join(f"{e.measure} {KIND_LABELS[e.kind].lower()}" for e in page.force_exceptions)
        parts.append(f"the force as a whole: {esc(force)} (below)")
    return f"{head}: {'; '.join(parts)}."


def _measure_key(s: ForceSummary, measures: set[str]) -> str:
    """'D7 Domestic abuse safeguarding · D11 Stop and search legitimacy' (by id, D7 before D11)."""
    return " · ".join(measure_title(m, s.measure_names) for m in sorted(measures, key=measure_order))


def _force_exceptions(s: ForceSummary, page: PrioritySummary) -> list[Flowable]:
    """A priority's force-level exceptions in full, as a place briefing shows its own."""
    out: list[Flowable] = []
    for i, e in enumerate(page.force_exceptions):
        title = f"Force-level {KIND_LABELS[e.kind].lower()} · {measure_title(e.measure, s.measure_names)}"
        core = exception_core(e, page.name, unit_for(e, s.measure_units))
        lead = (
            [Spacer(1, 14), plain(f"Priority {page.priority}: {page.name}", "h1"), HRule()] if i == 0 else []
        )
        out += [KeepTogether([*lead, Spacer(1, 6), plain(title, "h2"), *core]), Spacer(1, 10)]
    return out


def _counts_table(rows_of: Sequence[PlaceCounts]) -> Table:
    kinds = [KIND_LABELS[k] for k in KIND_ORDER] + ["Teams"]
    rows: list[list[Flowable]] = [
        [plain("Place", "cellhead"), plain("Division", "cellhead")]
        + [plain(k, "cellhead_right") for k in kinds]
        + [plain("Measures", "cellhead")]
    ]
    for pc in rows_of:
        rows.append(
            [plain(pc.place.name, "body"), plain(pc.place.division, "body")]
            + [plain(str(c) if c else "–", "count") for c in (*pc.counts, pc.teams)]
            + [plain(", ".join(pc.measures), "body")]
        )
    # the team exceptions' count last, narrower: "Teams"
    count_w, team_w, place_w, division_w = 19.5 * mm, 14 * mm, 27.5 * mm, 18.5 * mm
    return Table(
        rows,
        colWidths=[place_w, division_w]
        + [count_w] * len(KIND_ORDER)
        + [team_w, WIDTH - place_w - division_w - count_w * len(KIND_ORDER) - team_w],
        repeatRows=1,
        style=TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), HEAD),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        ),
    )
