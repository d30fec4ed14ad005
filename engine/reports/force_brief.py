"""force.pdf: the whole force's week, for the chief officers and every place leader."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, PageBreak, Spacer, Table, TableStyle

from engine.core.models import KIND_ORDER
from engine.reports.briefing import exception_core
from engine.reports.force_data import ForceSummary, PrioritySummary
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
from engine.reports.wording import KIND_LABELS, measure_title, period_text, unit_for


def force_pdf(summary: ForceSummary) -> RenderedPdf:
    """Render force.pdf: one page per priority (byte-identical for identical data)."""
    s = summary
    story: list[Flowable] = []
    for i, page in enumerate(s.priorities):
        if i:
            story.append(PageBreak())
        story += _force_page(s, page)
    return render_story(
        story,
        Furniture(
            title=f"{s.force_name} force summary {s.period_label}",
            author=s.force_name,
            header=None,
            rulesets=s.rulesets,
            run_line=f"Run {s.run_id} · {s.force_name} force summary · {s.period_label}",
            draft=s.draft,
        ),
    )


def _force_page(s: ForceSummary, page: PrioritySummary) -> list[Flowable]:
    briefed = len(s.places_briefed)
    out: list[Flowable] = [
        plain(f"{s.force_name}: force summary", "title"),
        plain(
            f"Week {s.period_label} ({period_text(s.period_from, s.period_to)}) · "
            f"{briefed} of {len(s.places)} places have a briefing this week",
            "subtitle",
        ),
        plain(f"Priority {page.priority}: {page.name}", "h1"),
        HRule(),
        Spacer(1, 6),
    ]
    if page.places_with:
        out += [
            plain(
                "Exceptions by kind, places in alphabetical order. A count is not a score: each place's "
                "briefing says what lies behind it.",
                "small",
            ),
            Spacer(1, 6),
            _counts_table(page),
        ]
    else:
        out.append(plain("No place has an exception under this priority this week.", "body"))
    out.append(Spacer(1, 10))
    if page.places_without:
        if page.places_with:
            names = ", ".join(p.name for p in page.places_without)
        else:
            names = f"all {len(page.places_without)} places"
        out.append(para(f"<b>No exceptions:</b> {esc(names)}.", "lead"))
    out += [Spacer(1, 16), plain("Force-level exceptions", "h2")]
    if not page.force_exceptions:
        out.append(plain("None this week.", "body"))
    for e in page.force_exceptions:
        head = f"{KIND_LABELS[e.kind]} · {measure_title(e.measure, s.measure_names)}"
        core = exception_core(e, page.name, unit_for(e, s.measure_units))
        out += [Spacer(1, 4), KeepTogether([plain(head, "h2"), *core]), Spacer(1, 10)]
    return out


def _counts_table(page: PrioritySummary) -> Table:
    kinds = [KIND_LABELS[k] for k in KIND_ORDER]
    rows: list[list[Flowable]] = [
        [plain("Place", "cellhead"), plain("Division", "cellhead")]
        + [plain(k, "cellhead_right") for k in kinds]
        + [plain("Measures", "cellhead")]
    ]
    for pc in page.places_with:
        rows.append(
            [plain(pc.place.name, "body"), plain(pc.place.division, "body")]
            + [plain(str(c) if c else "–", "count") for c in pc.counts]
            + [plain(", ".join(pc.measures), "body")]
        )
    count_w = 22 * mm
    return Table(
        rows,
        colWidths=[36 * mm, 24 * mm] + [count_w] * len(kinds) + [WIDTH - 60 * mm - count_w * len(kinds)],
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
