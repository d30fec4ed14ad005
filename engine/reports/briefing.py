"""The exception-only PDF briefings: one per place that has exceptions, plus force.pdf.

Page 1 of a place briefing lists its exceptions most serious first, grouped by priority; then one
section per exception (reason, evidence, chart, failing cases). User text is always escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, PageBreak, Paragraph, Spacer, Table, TableStyle

from engine.core.models import CaseDetail, PerformanceException, SpcChart
from engine.reports.briefing_data import PlaceBriefing
from engine.reports.charts import rate_chart, spc_chart
from engine.reports.layout import (
    ACCENT,
    DRAFT_BANNER,
    HEAD,
    PAGE_H,
    RULE,
    SHADE,
    WIDTH,
    Furniture,
    HRule,
    RenderedPdf,
    Section,
    esc,
    para,
    plain,
    render_story,
    styles,
)
from engine.reports.wording import (
    ASSURANCE_TEXT,
    KIND_LABELS,
    case_types_text,
    evidence,
    kind_counts_text,
    measure_title,
    period_text,
    spc_signal_text,
    tags_text,
    unit_for,
    value_format,
)

# --- place briefing ------------------------------------------------------------------------------


def place_pdf(briefing: PlaceBriefing) -> RenderedPdf:
    """Render one place's briefing to PDF bytes (byte-identical for identical data)."""
    b = briefing
    place = f"{b.place.name} ({b.place.code})"
    story: list[Flowable] = [*_place_front(b), PageBreak()]
    for i, e in enumerate(b.in_order(), start=1):
        if i > 1:
            story.append(Spacer(1, 18))
        story += _exception_section(b, i, e)
    return render_story(
        story,
        Furniture(
            title=f"{place} exception briefing {b.period_label}",
            author=b.force_name,
            header=f"{place} · exception briefing · {b.period_label} · {b.force_name}",
            rulesets=b.rulesets,
            run_line=f"Run {b.run_id} · {place} · {b.period_label}",
            draft=b.draft,
        ),
    )


def _place_front(b: PlaceBriefing) -> list[Flowable]:
    reviewed = f"<b>{b.cases_reviewed:,}</b>"
    breakdown = case_types_text(b.cases_reviewed_by_type, b.frame_sizes)
    if breakdown:
        reviewed += f": {esc(breakdown)}"
    facts = [
        ("Division", esc(b.place.division)),
        ("Place leader", esc(b.place.leader)),
        ("Week", f"{esc(b.period_label)} ({esc(period_text(b.period_from, b.period_to))})"),
        ("Cases reviewed", reviewed),
    ]
    facts_table = Table(
        [[para(k, "small"), para(v, "body")] for k, v in facts],
        colWidths=[32 * mm, WIDTH - 32 * mm],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        ),
        hAlign="LEFT",
    )
    out: list[Flowable] = [
        para(f"{esc(b.place.name)} <font color='#5f6368'>({esc(b.place.code)})</font>", "title"),
        plain(f"Weekly exception briefing · {b.force_name}", "subtitle"),
        facts_table,
        Spacer(1, 14),
        plain(f"{kind_counts_text(b.exceptions)}.", "h2"),
        plain(
            "Only exceptions are shown, most serious first. Everything else reviewed this week was within "
            "normal variation or met its standard.",
            "small",
        ),
        Spacer(1, 6),
    ]
    number = 0
    for group in b.groups():
        rows = []
        for e in group.exceptions:
            number += 1
            rows.append([para(str(number), "num"), _summary_entry(b, number, e)])
        table = Table(
            rows,
            colWidths=[10 * mm, WIDTH - 10 * mm],
            style=TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 7),
                    ("LINEBELOW", (0, 0), (-1, -2), 0.4, RULE),
                ]
            ),
        )
        heading = plain(f"Priority {group.priority}: {group.name}", "h1")
        out += [Spacer(1, 8), KeepTogether([heading, HRule(), table])]
    quiet = b.quiet_priorities()
    if quiet:
        names = "; ".join(f"Priority {p}: {n}" for p, n in quiet)
        out += [Spacer(1, 14), para(f"<b>No exceptions this week under</b> {esc(names)}.", "body")]
    return out


def _summary_entry(b: PlaceBriefing, number: int, e: PerformanceException) -> list[Flowable]:
    head = f"{KIND_LABELS[e.kind]} · {measure_title(e.measure, b.measure_names)}"
    if e.criterion_text:
        head += f": {e.criterion_text}"
    return [
        para(f"<b>{esc(head)}</b>", "body"),
        Spacer(1, 2),
        plain(e.reason, "body"),
        Spacer(1, 2),
        para(f"{esc(tags_text(e))} · <a href='#ex{number}' color='#1f4e79'>section {number}</a>", "small"),
    ]


def _exception_section(b: PlaceBriefing, number: int, e: PerformanceException) -> list[Flowable]:
    title = f"{number}. {KIND_LABELS[e.kind]} · {measure_title(e.measure, b.measure_names)}"
    heading = para(f"<a name='ex{number}'/>{esc(title)}", "h1")
    core = exception_core(e, b.priority_names.get(e.priority, ""), unit_for(e, b.measure_units))
    return [Section([heading, *core], [Spacer(1, 10), *_cases(e, title)])]


def exception_core(e: PerformanceException, priority_name: str, unit: str) -> list[Flowable]:
    """Where it sits, the criterion, the reason (prominent), the evidence and the chart."""
    source = ", ".join(f"{k} {v}" for k, v in (("ruleset", e.ruleset), ("criterion", e.criterion)) if v)
    where = " · ".join(x for x in (f"Priority {e.priority}: {priority_name}", tags_text(e), source) if x)
    out: list[Flowable] = [plain(where, "small"), Spacer(1, 6)]
    if e.criterion_text:
        out += [para(f"<b>Criterion:</b> {esc(e.criterion_text)}", "body"), Spacer(1, 6)]
    out += [_reason_box(e.reason), Spacer(1, 8), _evidence_tiles(evidence(e, unit))]
    if e.chart is not None:
        out += [
            Spacer(1, 6),
            *_spc_notes(e, e.chart),
            Spacer(1, 4),
            spc_chart(e, e.chart),
            _spc_caption(e.chart),
        ]
    elif e.rate is not None:
        out += [Spacer(1, 8), rate_chart(e)]
    return out


def _reason_box(reason: str) -> Table:
    return Table(
        [[plain(reason, "reason")]],
        colWidths=[WIDTH],
        style=TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), SHADE),
                ("LINEBEFORE", (0, 0), (0, -1), 3, ACCENT),
                ("LEFTPADDING", (0, 0), (-1, -1), 10),
                ("RIGHTPADDING", (0, 0), (-1, -1), 10),
                ("TOPPADDING", (0, 0), (-1, -1), 8),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 9),
            ]
        ),
    )


def _evidence_tiles(pairs: Sequence[tuple[str, str]]) -> Table:
    n = max(len(pairs), 1)
    widths = [WIDTH / n] * n
    if n > 1:  # the first tile ("30 of 212 searches reviewed") needs the room
        widths = [WIDTH * 0.28] + [WIDTH * 0.72 / (n - 1)] * (n - 1)
    return Table(
        [[plain(label, "label") for label, _ in pairs], [plain(value, "value") for _, value in pairs]],
        colWidths=widths,
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        ),
    )


def _spc_notes(e: PerformanceException, chart: SpcChart) -> list[Flowable]:
    fmt = value_format(e)
    low, high = chart.lower_limit, chart.upper_limit
    if fmt(0.5).endswith("%"):  # a rate cannot leave 0-100%, whatever mean +/- 2.66 mR says
        low, high = max(low, 0.0), min(high, 1.0)
    limits = f"{fmt(low)} to {fmt(high)}"
    lines = [
        f"<b>Signal:</b> {esc(spc_signal_text(chart.rules))}. Weekly mean {esc(fmt(chart.mean))}, "
        f"process limits {esc(limits)}, from the first {chart.baseline_weeks} weeks; "
        f"{'higher' if chart.direction == 'higher' else 'lower'} is better."
    ]
    if chart.assurance:
        text = ASSURANCE_TEXT.get(chart.assurance, chart.assurance.replace("_", " "))
        # the assurance is read off the baseline limits; a signal says the process has since moved
        basis = " (judged on the baseline limits, before this signal)" if chart.rules else ""
        lines.append(f"<b>Against the standard{basis}:</b> {esc(text)}.")
    return [para(line, "body") for line in lines]


def _spc_caption(chart: SpcChart) -> Paragraph:
    return plain(
        "Each point is one week. Large dark points are the weeks that make up the signal. "
        f"The shaded weeks are the baseline the mean (solid line) and process limits (dashed) come from"
        f"{' (trial limits: fewer than 12 weeks)' if chart.baseline_weeks < 12 else ''}.",
        "small",
    )


_CASE_COLUMNS = ("Case", "Team", "Officer", "Why it failed", "Reviewer note")
_CASE_WIDTHS = tuple(f * WIDTH for f in (0.14, 0.17, 0.14, 0.30, 0.25))
_CELL_PAD_X = 7
#: a row taller than this is continued in the next row, so that no row is taller than a page
_MAX_ROW_HEIGHT = 400


def _cases(e: PerformanceException, title: str) -> list[Flowable]:
    """The failing cases; long tables split across pages repeating the title and column headings."""
    if not e.details:
        if not e.cases:
            return []
        refs = ", ".join(e.cases)
        return [para(f"<b>Cases behind this exception ({len(e.cases):,}):</b> {esc(refs)}", "body")]
    noun = "case" if len(e.details) == 1 else "cases"
    rows: list[list[Flowable | str]] = [
        [
            para(
                f"<b>Failing {noun} ({len(e.details):,})</b> <font color='#5f6368' size='8'>{esc(title)}</font>",
                "h2",
            )
        ],
        [plain(h, "cellhead") for h in _CASE_COLUMNS],
    ]
    for d in e.details:
        rows += _case_rows(e, d)
    return [
        Table(
            rows,
            colWidths=list(_CASE_WIDTHS),
            repeatRows=2,
            style=TableStyle(
                [
                    ("SPAN", (0, 0), (-1, 0)),
                    ("LEFTPADDING", (0, 0), (-1, 0), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, 0), 6),
                    ("BACKGROUND", (0, 1), (-1, 1), HEAD),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 1), (-1, -1), 0.4, RULE),
                    ("LEFTPADDING", (0, 1), (-1, -1), 3),
                    ("RIGHTPADDING", (0, 0), (-1, -1), _CELL_PAD_X - 3),
                    ("TOPPADDING", (0, 1), (-1, -1), 3),
                    ("BOTTOMPADDING", (0, 1), (-1, -1), 4),
                ]
            ),
        )
    ]


def _case_rows(e: PerformanceException, d: CaseDetail) -> list[list[Flowable | str]]:
    """One row per case; a very long why-trace or note continues in further rows."""
    why = []
    if d.criterion_text and d.criterion_text != e.criterion_text:
        why.append(f"<b>{esc(d.criterion_text)}</b>")
    for line in d.trace:
        pieces = _text_chunks(line, 600) if len(line) > 600 else [line]
        why += [f"• {esc(pieces[0])}", *(esc(p) for p in pieces[1:])]
    note = []
    if d.note.strip():
        who = ", ".join(x for x in (d.reviewer, d.assessed_on) if x)
        note = [esc(d.note)] if len(d.note) <= 600 else [esc(c) for c in _text_chunks(d.note, 600)]
        if who:
            note[-1] += f"<br/><font color='#5f6368' size='7'>{esc(who)}</font>"
    long = len(why) > 12 or sum(map(len, why)) > 1200  # cheap test first: measuring costs
    why_groups = _line_groups(why, _CASE_WIDTHS[3] - _CELL_PAD_X) if long else [why]
    rows: list[list[Flowable | str]] = []
    for i in range(max(len(why_groups), len(note), 1)):
        lines = why_groups[i] if i < len(why_groups) else []
        ref = plain(d.case_ref, "cell") if i == 0 else plain(f"{d.case_ref} (continued)", "cell")
        first = i == 0
        rows.append(
            [
                ref,
                plain(d.team, "cell") if first else "",
                plain(d.officer, "cell") if first else "",
                para("<br/>".join(lines) or ("–" if first else ""), "cell"),
                para(note[i], "cell") if i < len(note) else "",
            ]
        )
    return rows


def _line_groups(lines: list[str], width: float) -> list[list[str]]:
    """Markup lines grouped so that no group is taller than a row may be."""
    style = styles()["cell"]
    groups: list[list[str]] = [[]]
    height = 0.0
    for line in lines:
        h = Paragraph(line, style).wrap(width, PAGE_H)[1]
        if groups[-1] and height + h > _MAX_ROW_HEIGHT:
            groups.append([])
            height = 0.0
        groups[-1].append(line)
        height += h
    return groups


def _text_chunks(text: str, size: int) -> list[str]:
    """Plain text cut at spaces into pieces of about ``size`` characters (a very long note)."""
    chunks, rest = [], text
    while len(rest) > size:
        cut = rest.rfind(" ", 0, size)
        cut = cut if cut > size // 2 else size
        chunks.append(rest[:cut])
        rest = rest[cut:].lstrip(" ")
    return [*chunks, rest] if rest else chunks


__all__ = [
    "DRAFT_BANNER",
    "RenderedPdf",
    "esc",
    "place_pdf",
]
