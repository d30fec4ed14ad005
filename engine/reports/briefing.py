"""The exception-only PDF briefing of a place that has exceptions (force.pdf is reports.force_brief).

Page 1 lists its issues (one per measure with exceptions: briefing_data.Entry) most serious first,
grouped by priority, says what was not measured, and defines the figures; then one section per
issue (each exception's reason, the evidence once per figure, the chart, what to do, the worst ten
failing cases; every case is in <PLACE>-cases.csv). User text is always escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    ActionFlowable,
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from engine.core.figure_facts import figure_of
from engine.core.models import PerformanceException
from engine.reports.briefing_data import Entry, Figure, PlaceBriefing
from engine.reports.case_table import case_table
from engine.reports.charts import spc_chart
from engine.reports.exception_parts import (
    evidence_of,
    evidence_tiles,
    reason_box,
    spc_caption,
    spc_notes,
    spc_values_of,
    together,
)
from engine.reports.figure_blocks import FIGURE_DEFINITION, events_table, summary_text
from engine.reports.layout import (
    DRAFT_BANNER,
    RULE,
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
from engine.reports.team_parts import TEAM_RULE, kinds_text, team_summary_entry, teams_headline
from engine.reports.wording import (
    case_types_text,
    kind_counts_text,
    measure_title,
    pct,
    period_text,
    tags_text,
    unit_for,
    value_format,
)

# --- place briefing ------------------------------------------------------------------------------

#: a place with up to this many entries gets at most _PAGE_BUDGET pages (issue #16)
_BUDGET_ENTRIES = 5
_PAGE_BUDGET = 4


@dataclass(frozen=True)
class _Fit:
    """How much of each entry the PDF shows: tried in order until the briefing fits its budget."""

    case_rows: int  # at most this many case rows per entry; the rest are in the cases CSV
    spc_charts: bool  # the SPC chart of a special cause (its signal and limits are stated anyway)
    #: the evidence tiles and the SPC signal's notes under each figure (page 1 states the figure,
    #: the reasons its usual range or standard)
    evidence: bool = True


_FITS = (
    _Fit(10, True),
    _Fit(6, True),
    _Fit(6, False),
    _Fit(4, False),
    _Fit(4, False, evidence=False),
    _Fit(3, False, evidence=False),
    _Fit(0, False, evidence=False),  # the last resort: each entry names its cases CSV, no table
)

DEFINITION = (
    "A measure's figure is the share of reviewed cases that met every applicable criterion of that "
    "measure; a criterion's, the share of cases it applied to that met it."
)


def place_pdf(briefing: PlaceBriefing) -> RenderedPdf:
    """Render one place's briefing to PDF bytes (byte-identical for identical data).

    A place with up to five entries gets at most four pages: each entry shows at most ten failing
    cases (the rest are in <PLACE>-cases.csv), and if that is still too long, fewer cases and charts.
    The budget is the place's own part (a page more when page 1 lists team exceptions too); the
    team sections follow it, shorter (see _team_fit), so that they never cost the place's own
    sections their cases or charts.
    """
    entries = briefing.entries()  # the place's own, then its teams'
    own = len(briefing.place_entries())
    extra = 1 if len(entries) > own else 0
    budget = _PAGE_BUDGET + extra if own <= _BUDGET_ENTRIES else None
    for fit in _FITS[:-1]:
        try:
            return _render(briefing, entries, fit, budget)
        except _OverBudget:
            continue
    return _render(briefing, entries, _FITS[-1], None)


class _OverBudget(Exception):
    """Raised while drawing once a briefing runs past its page budget: the next fit is tried."""


class _PageGuard(Flowable):  # type: ignore[misc]  # reportlab has no type information
    """Takes no room; stops the build as soon as it is drawn past the last page allowed."""

    def __init__(self, pages: int) -> None:
        super().__init__()
        self._pages = pages

    def wrap(self, aW: float, aH: float) -> tuple[float, float]:  # noqa: N803 (reportlab's names)
        return 0, 0

    def draw(self) -> None:
        if self.canv.getPageNumber() > self._pages:
            raise _OverBudget(f"past page {self._pages}")


class _EndOfPageOne(ActionFlowable):  # type: ignore[misc]  # reportlab has no type information
    """A page break after page 1 only: if page 1 ran over, the entries follow on at once."""

    def __init__(self) -> None:
        super().__init__(("pageBreak",))

    def apply(self, doc: BaseDocTemplate) -> None:
        if doc.page == 1:
            doc.handle_pageBreak()


def _render(b: PlaceBriefing, entries: Sequence[Entry], fit: _Fit, budget: int | None) -> RenderedPdf:
    place = f"{b.place.name} ({b.place.code})"
    story: list[Flowable] = [*_place_front(b), _EndOfPageOne()]
    own = b.place_entries()
    # the place's own section on each measure, which a team's on the same measure refers to
    sections = {x.measure: (i, x) for i, x in enumerate(own, start=1)}
    for i, x in enumerate(entries, start=1):
        if i > 1:
            story.append(Spacer(1, 14))
        if i == len(own) + 1:
            # the heading never sits alone at a page's foot: it starts a page unless most of one is left
            story += [CondPageBreak(110 * mm), plain("Team exceptions", "title"), plain(TEAM_RULE, "small")]
            story.append(Spacer(1, 8))
        if i > len(own):
            same = sections.get(x.measure)
            story += _entry_section(b, i, x, _team_fit(fit, same), same)
            continue  # the budget is the place's own part's
        story += _entry_section(b, i, x, fit)
        if budget is not None:
            story.append(_PageGuard(budget))
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
    breakdown = case_types_text(b.cases_reviewed_by_type, b.frame_sizes, b.case_labels)
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
    groups = b.groups()
    n = sum(len(g.entries) for g in groups)
    headline = f"{n} issue{'s' if n != 1 else ''}, raised by {kind_counts_text(b.exceptions)}."
    if not n:
        headline = "No exceptions for the place as a whole this week."
    out: list[Flowable] = [
        para(f"{esc(b.place.name)} <font color='#5f6368'>({esc(b.place.code)})</font>", "title"),
        plain(f"Weekly exception briefing · {b.force_name}", "subtitle"),
        facts_table,
        Spacer(1, 14),
        plain(headline, "h2"),
        *([plain(teams_headline(b), "h2")] if b.team_exceptions else []),
        plain(
            "Only exceptions are shown, most serious first; the exceptions on one measure are one issue. "
            f"Everything else measured this week was within normal variation or met its standard. {DEFINITION}"
            + (f" {FIGURE_DEFINITION}" if any(figure_of(e) for e in b.exceptions) else ""),
            "small",
        ),
        Spacer(1, 6),
    ]
    coverage = {c.priority: c for c in b.coverage()}
    number = 0
    for group in groups:
        rows = []
        for x in group.entries:
            number += 1
            rows.append([para(str(number), "num"), _summary_entry(b, number, x)])
        table = _numbered(rows)
        heading = Paragraph(esc(f"Priority {group.priority}: {group.name}"), _group_style())
        missing = coverage[group.priority].not_measured if group.priority in coverage else ()
        slots = coverage[group.priority].not_defined if group.priority in coverage else ()
        more = [_not_measured_line(b, missing)] if missing else []
        more += [para(f"<b>Not defined:</b> {_not_defined_text(slots)}.", "small")] if slots else []
        out += [Spacer(1, 5), KeepTogether([heading, HRule(), table, *more])]
    out += _team_summary(b, number)
    out += _other_priorities(b)
    return out


def _numbered(rows: list[list[Flowable]]) -> Table:
    """Page 1's numbered list of exceptions: the number, then the entry, a rule between entries."""
    return Table(
        rows,
        colWidths=[10 * mm, WIDTH - 10 * mm],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                ("LINEBELOW", (0, 0), (-1, -2), 0.4, RULE),
            ]
        ),
    )


def _team_summary(b: PlaceBriefing, number: int) -> list[Flowable]:
    """Page 1's list of the team entries under one heading, by team, numbered on from the place's own."""
    rows = []
    for _, entries in b.team_groups():
        for x in entries:
            number += 1
            rows.append([para(str(number), "num"), team_summary_entry(b, number, x)])
    if not rows:
        return []
    table = _numbered(rows)
    heading = Paragraph("Team exceptions", _group_style())
    return [Spacer(1, 5), KeepTogether([heading, HRule(), table])]


@cache
def _group_style() -> ParagraphStyle:
    """A priority's heading on page 1: a little smaller than a section's, so page 1 holds more."""
    return ParagraphStyle(
        "group", parent=styles()["h1"], fontSize=12, leading=15, spaceBefore=2, spaceAfter=2
    )


def _not_measured_line(b: PlaceBriefing, measures: Sequence[str]) -> Paragraph:
    names = ", ".join(measure_title(m, b.measure_names) for m in measures)
    return para(f"<b>Not measured this week:</b> {esc(names)}.", "small")


def _not_defined_text(items: Sequence[str]) -> str:
    """'M3, an item the force has not named yet' (never 'no exceptions': nothing can measure it)."""
    what = "an item" if len(items) == 1 else "items"
    return f"{esc(', '.join(items))}, {what} the force has not named yet"


def _other_priorities(b: PlaceBriefing) -> list[Flowable]:
    """The priorities with no issue, one line each: 'no exceptions' only where something was measured."""
    lines = []
    teams = {e.priority for e in b.team_exceptions}
    for c in b.coverage():
        if c.has_entries:
            continue
        head = f"<b>Priority {c.priority}: {esc(c.name)}:</b>"
        missing = ", ".join(measure_title(m, b.measure_names) for m in c.not_measured)
        slots = f" Not defined: {_not_defined_text(c.not_defined)}." if c.not_defined else ""
        # a team exception under the priority: the place as a whole has none, its team has
        none = "no exceptions for the place as a whole (team exceptions above)" if c.priority in teams else ""
        if c.nothing_measured:
            lines.append(f"{head} not measured this week ({esc(missing)}).{slots}")
        elif missing:
            lines.append(f"{head} {none or 'no exceptions'}; not measured this week: {esc(missing)}.{slots}")
        else:
            lines.append(f"{head} {none or 'no exceptions'} this week.{slots}")
    unplaced = b.unplaced_not_measured()
    out: list[Flowable] = [Spacer(1, 14)] if lines or unplaced else []
    for line in lines:
        out += [para(line, "body"), Spacer(1, 3)]
    if unplaced:
        out.append(_not_measured_line(b, unplaced))
    return out


def _entry_title(b: PlaceBriefing, x: Entry) -> str:
    team = f"Team {x.lead.team} · " if x.lead.team else ""
    return f"{team}{kinds_text(x.kinds())} · {measure_title(x.measure, b.measure_names)}"


def _criterion_label(e: PerformanceException) -> str:
    """'SS01 The grounds for the search were recorded'; a measure-level signal: 'the whole measure'."""
    if not e.criterion:
        return "the whole measure"
    return f"{e.criterion} {e.criterion_text}".strip()


def _figure_text(b: PlaceBriefing, f: Figure) -> str:
    """'11 of 31 searches (35%); usual range 94% to 100%; minimum standard 90%': the figure, once."""
    e = f.lead
    parts = []
    fig = figure_of(e)
    if fig is not None:  # the figure, its interval, the period it covers and the standard, in its terms
        parts.append(summary_text(fig))
    elif e.rate is not None and e.n:
        parts.append(f"{e.passed:,} of {e.n:,} {unit_for(e, b.measure_units)} ({pct(e.rate)})")
    chart = next((s.chart for s in f.signals if s.chart is not None), None)
    if chart is not None:
        fmt = value_format(e)
        if not parts:
            latest = [(p.week, p.value) for p in chart.points if p.value is not None]
            if latest:
                parts.append(f"{fmt(latest[-1][1])} in {latest[-1][0]}")
        _, low, high = spc_values_of(e, chart)
        parts.append(f"usual range {low} to {high}")
    standard = next((s.standard for s in f.signals if s.standard is not None), None)
    if standard is not None and fig is None:
        parts.append(f"minimum standard {pct(standard)}")
    return "; ".join(parts)


def _summary_entry(b: PlaceBriefing, number: int, x: Entry) -> list[Flowable]:
    lines = []
    for f in x.figures():
        kinds = kinds_text(tuple(dict.fromkeys(s.kind for s in f.signals)))
        figure = _figure_text(b, f)
        lines.append(f"{esc(kinds)} · {esc(_criterion_label(f.lead))}{': ' + esc(figure) if figure else ''}")
    n = len(x.cases)
    cases = f" · {n:,} failing case{'s' if n != 1 else ''}" if n else ""
    link = f"<a href='#ex{number}' color='#1f4e79'>section {number}</a>"
    return [
        para(f"<b>{esc(_entry_title(b, x))}</b>", "body"),
        Spacer(1, 1),
        para("<br/>".join(f"• {line}" for line in lines), "body"),
        Spacer(1, 1),
        para(f"{esc(tags_text(x.lead))}{esc(cases)} · {link}", "small"),
    ]


#: the most failing cases a team's section lists (the rest are in the cases CSV)
_TEAM_CASE_ROWS = 5


def _team_fit(fit: _Fit, place_section: tuple[int, Entry] | None) -> _Fit:
    """How much of a team's entry to show: at most five cases; when the place has its own section on
    the measure (``place_section``), no chart and no evidence tiles either (the team's reason
    states its figures, the signal and the place's; the place's section has the chart)."""
    rows = min(fit.case_rows, _TEAM_CASE_ROWS)
    if place_section is None:
        return _Fit(rows, fit.spc_charts, fit.evidence)
    return _Fit(rows, False, evidence=False)


def _entry_section(
    b: PlaceBriefing, number: int, x: Entry, fit: _Fit, place_section: tuple[int, Entry] | None = None
) -> list[Flowable]:
    """An entry's section; a team's entry whose place has its own on the measure (``place_section``:
    its number and entry) refers to that section's "What to do" rather than repeating it."""
    title = f"{number}. {_entry_title(b, x)}"
    heading = para(f"<a name='ex{number}'/>{esc(title)}", "h1")
    rulesets = ", ".join(dict.fromkeys(e.ruleset for e in x.signals if e.ruleset))
    priority = f"Priority {x.priority}"  # its name heads the entry's group on page 1
    where = " · ".join(
        s for s in (priority, tags_text(x.lead), f"ruleset {rulesets}" if rulesets else "") if s
    )
    figures = x.figures()
    # one chart an entry: the most serious figure's that has one (the others state their signal)
    charted = next((f for f in figures if any(s.chart is not None for s in f.signals)), None)
    blocks = [_figure_block(b, f, fit, draw_chart=f is charted) for f in figures]
    # the section starts on this page if its heading and first figure fit: charts may follow overleaf
    head: list[Flowable] = [heading, plain(where, "small"), Spacer(1, 4), *blocks[0][0]]
    tail: list[Flowable] = [*blocks[0][1]]
    for text, chart in blocks[1:]:
        tail += [*text, *chart]
    guidance = x.guidance()
    if guidance and place_section is not None and set(guidance) <= set(place_section[1].guidance()):
        tail += [Spacer(1, 6), para(f"<b>What to do:</b> as in section {place_section[0]}.", "body")]
    elif guidance:
        what = [para("<b>What to do</b>", "body"), *(para(f"• {esc(g)}", "body") for g in guidance)]
        tail += [Spacer(1, 6), together(what)]
    listed = events_table(x.events(), "Events") if x.events() else case_table(b, number, x, fit.case_rows)
    return [Section(head, [*tail, Spacer(1, 8), *listed])]


def _figure_block(
    b: PlaceBriefing, f: Figure, fit: _Fit, *, draw_chart: bool
) -> tuple[list[Flowable], list[Flowable]]:
    """One figure: its kinds and criterion, each signal's reason and the evidence once; then its
    chart (kept together, and apart so that it may go overleaf)."""
    e = f.lead
    kinds = kinds_text(tuple(dict.fromkeys(s.kind for s in f.signals)))
    text: list[Flowable] = [
        Spacer(1, 4),
        para(f"<b>{esc(kinds)} · {esc(_criterion_label(e))}</b>", "body"),
        Spacer(1, 3),
        reason_box([s.reason for s in f.signals], "lead"),
    ]
    chart: list[Flowable] = []
    if not fit.evidence:
        return text, chart
    text += [Spacer(1, 5), evidence_tiles(evidence_of(e, unit_for(e, b.measure_units)))]
    signal = next((s for s in f.signals if s.chart is not None), None)
    if signal is not None and signal.chart is not None:
        chart = [Spacer(1, 5), *spc_notes(signal, signal.chart)]
        if fit.spc_charts and draw_chart:
            chart += [Spacer(1, 3), spc_chart(signal, signal.chart), spc_caption(signal.chart)]
    # no rate chart: it would print the figure, its interval and the standard a second time
    return text, [together(chart)] if chart else []


__all__ = [
    "DRAFT_BANNER",
    "RenderedPdf",
    "esc",
    "place_pdf",
]
