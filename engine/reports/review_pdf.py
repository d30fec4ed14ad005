"""review.pdf: a quarter's Learning Review pack (docs/reviews.md). The cover (theme, quarter, versions),
then each of the theme's items across places and teams (cases, rate, Wilson interval, standard,
weekly SPC charts over a baseline and the quarter), the exceptions of the quarter's weeks and whether
they persisted, improvements, real stories and actions. Developmental in tone; user text escaped;
the same page furniture, fonts and tables as peel.pdf."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.platypus import Flowable, KeepTogether, PageBreak, Spacer

from engine.core.models import PerformanceException
from engine.reports.charts import spc_chart

# peel.pdf's own blocks for an item's incident metrics and loaded figures, and its table: one look
from engine.reports.data_table import data_table, measure_head
from engine.reports.figure_blocks import chart_noun
from engine.reports.layout import Furniture, HRule, RenderedPdf, plain, render_story
from engine.reports.peel_data import MeasureSection
from engine.reports.peel_pdf import declared_blocks, metric_blocks
from engine.reports.recognition_blocks import recognition_flowables
from engine.reports.review_data import ReviewPack
from engine.reports.wording import KIND_LABELS, interval, pct, period_text

INTRO = (
    "Learning Reviews replace quarterly performance reviews: four a year, each on a theme named in the "
    "annual calendar, timed to support the PEEL self-assessment. This pack is for learning, not for "
    "judging: it sets out what the quarter's evidence says about the theme across places and teams, "
    "what was outside normal variation and whether it persisted, what improved, real stories from "
    "the reviewers, and the actions agreed. Measures, not targets."
)
#: stories shown of each kind (the rest are counted)
MAX_STORIES = 25
#: teams shown per item (the rest are counted; review.csv has them all)
MAX_TEAMS = 60


def review_pdf(pack: ReviewPack) -> RenderedPdf:
    """Render review.pdf (byte-identical for identical data)."""
    p = pack
    story: list[Flowable] = _cover(p)
    for s in p.sections:
        story += [PageBreak(), *_item(p, s)]
    story += [PageBreak(), *_exceptions(p), PageBreak(), *_improvements(p)]
    story += [PageBreak(), *_stories(p), Spacer(1, 10), *_actions(p)]
    q = p.theme
    return render_story(
        story,
        Furniture(
            title=f"{p.force_name} Learning Review {q.quarter}",
            author=p.force_name,
            header=f"Learning Review {q.quarter} · {q.title} · {p.force_name}",
            rulesets=p.report.rulesets,
            run_line=f"Pack {p.run_id} · Learning Review · {q.quarter}",
            draft=p.report.draft,
        ),
    )


def _cover(p: ReviewPack) -> list[Flowable]:
    q = p.theme
    dates = period_text(q.start.isoformat(), q.end.isoformat())
    meeting = f"Review meeting {q.meeting.isoformat()}. " if q.meeting else ""
    undefined = [i for i in p.items if i in p.report.not_defined]
    rows = [
        ["Theme", f"{q.title} ({p.theme_text})"],
        ["Quarter", f"{q.quarter}: {dates}"],
        ["Cases reviewed", f"{p.report.cases_reviewed:,} in the quarter (every case type)"],
        ["Rulesets", "the latest published versions (listed at the foot of every page)"],
        ["Catalogue", f"version {p.catalogue_version or 'not recorded'}"],
        ["Calendar", f"reviews.yaml version {p.calendar_version or 'not recorded'}"],
        ["Pack", f"{p.run_id} (manifest.json lists what was read and written)"],
    ]
    out: list[Flowable] = [
        plain(f"Learning Review {q.quarter}: {q.title}", "title"),
        plain(f"{p.force_name} · {dates} · {meeting}written {p.as_of.isoformat()}", "subtitle"),
        plain(INTRO, "lead"),
        Spacer(1, 8),
        data_table(rows, (0.2, 0.8), head_rows=0),
        Spacer(1, 10),
        plain("In this pack", "h1"),
        HRule(),
    ]
    contents = [f"{s.measure.id} {s.measure.name}" for s in p.sections]
    contents += [
        f"Exceptions raised in the quarter's weeks ({len(p.raised):,})",
        f"Improvements ({len(p.improvements):,})",
        f"Real stories ({len(p.stories):,})",
        f"Actions ({len(p.actions):,})",
    ]
    out += [plain(f"· {c}", "body") for c in contents]
    if undefined:
        out += [
            Spacer(1, 6),
            plain(
                f"Not defined: {', '.join(undefined)}. The catalogue leaves it for the force to name; "
                "until it does, nothing measures it.",
                "body",
            ),
        ]
    return out


def _chart(carrier: PerformanceException | None, title: str) -> list[Flowable]:
    if carrier is None or carrier.chart is None:
        return []
    noun = chart_noun(carrier.chart)
    return [
        Spacer(1, 6),
        KeepTogether(
            [
                plain(title, "h2"),
                spc_chart(carrier, carrier.chart),
                plain(
                    f"Each point is one {noun}: the baseline weeks before the quarter, then the quarter's. "
                    f"Mean (solid) and process limits (dashed) come from the first "
                    f"{carrier.chart.baseline_weeks} {noun}s (shaded); large points are {noun}s of a signal "
                    "in the concerning direction.",
                    "small",
                ),
            ]
        ),
    ]


def _item(p: ReviewPack, s: MeasureSection) -> list[Flowable]:
    m = s.measure
    head = measure_head(m, peel=True)
    if not m.defined:
        return [
            *head,
            plain(f"{m.id} is not defined: the force has not named it, so nothing measures it.", "body"),
        ]
    if not s.has_data:
        declared = f" ({', '.join(d.text for d in s.declared)} not loaded)" if s.declared else ""
        return [
            *head,
            plain(
                f"Not measured this quarter: no reviewed cases, incidents or loaded figures feed {m.id}"
                f"{declared}. What was not measured is not a finding either way.",
                "body",
            ),
        ]
    out: list[Flowable] = []
    if s.has_cases:
        out += _cases(p, s, head)
        head = []
    for metric in s.metrics:
        if metric.has_data:
            out += metric_blocks(p.report, metric, head)
            head = []
    for d in s.declared:
        out += declared_blocks(p.report, d, head)
        head = []
    return out


def _cases(p: ReviewPack, s: MeasureSection, head: list[Flowable]) -> list[Flowable]:
    m = s.measure
    f = s.figures[0]
    minima = {c.minimum for c in s.criteria}
    standard = minima.pop() if len(minima) == 1 else None
    force = [
        ["Reviewed cases", "Cases", "Met every criterion", "Rate", "95% interval", "Standard"],
        [f"Force, {p.theme.quarter}", f"{f.n:,}", f"{f.passes:,}", pct(f.rate), interval(f.ci_low, f.ci_high),
         pct(standard) if standard is not None else "per criterion"],
    ]  # fmt: skip
    out: list[Flowable] = [KeepTogether([*head, data_table(force, (0.24, 0.1, 0.18, 0.1, 0.2, 0.18))])]
    measured = [c for c in s.criteria if c.figure.n]
    if measured:
        rows = [["Criterion", "Text", "Cases", "Rate", "95% interval", "Standard"]]
        rows += [
            [f"{c.ruleset} {c.criterion}", c.text, f"{c.figure.n:,}", pct(c.figure.rate),
             interval(c.figure.ci_low, c.figure.ci_high), pct(c.minimum) if c.minimum is not None else ""]
            for c in measured
        ]  # fmt: skip
        out += [Spacer(1, 6), data_table(rows, (0.22, 0.35, 0.09, 0.09, 0.13, 0.12))]
    unmeasured = [c for c in s.criteria if not c.figure.n]
    if unmeasured:
        ids = ", ".join(f"{c.ruleset} {c.criterion}" for c in unmeasured)
        out.append(plain(f"Not measured (no applicable reviewed case this quarter): {ids}.", "small"))
    charts = p.charts.get(m.id)
    if charts is not None:
        out += _chart(charts.force, f"Force weekly compliance, {m.id}")
    rows = [["Place", "Cases", "Met", "Rate", "95% interval"]]
    rows += [
        [f"{x.name} ({x.code})", f"{x.period.n:,}", f"{x.period.passes:,}", pct(x.period.rate),
         interval(x.period.ci_low, x.period.ci_high)]
        for x in s.places
    ]  # fmt: skip
    absent = sorted(set(p.place_names) - {x.code for x in s.places})
    out += [Spacer(1, 6), plain("Places", "h2"), data_table(rows, (0.34, 0.14, 0.14, 0.14, 0.24))]
    if absent:
        names = ", ".join(f"{p.place_names[c]} ({c})" for c in absent)
        out.append(plain(f"Not measured (no reviewed case of {m.id} this quarter): {names}.", "small"))
    out += _teams(p, m.id)
    if charts is not None:
        for c in charts.places:
            out += _chart(
                c, f"{p.place_names.get(c.place, c.place)} ({c.place}): a signal this quarter, {m.id}"
            )
        if not charts.places:
            out.append(
                plain("No place's weekly chart signals in the concerning direction this quarter.", "small")
            )
    return out


def _teams(p: ReviewPack, item: str) -> list[Flowable]:
    teams = [t for t in p.teams if t.measure == item]
    if not teams:
        return []
    shown = teams[:MAX_TEAMS]
    rows = [["Place", "Team", "Cases", "Rate", "95% interval"]]
    rows += [[t.place, t.team, f"{t.n:,}", pct(t.rate), interval(t.ci_low, t.ci_high)] for t in shown]
    out: list[Flowable] = [
        Spacer(1, 6),
        plain("Teams within places", "h2"),
        plain("A team's interval is wide on few cases: read it as context, not as a ranking.", "small"),
        data_table(rows, (0.12, 0.34, 0.14, 0.14, 0.26)),
    ]
    if len(teams) > len(shown):
        out.append(
            plain(f"and {len(teams) - len(shown):,} more teams (review.csv lists every one).", "small")
        )
    return out


def _exceptions(p: ReviewPack) -> list[Flowable]:
    out: list[Flowable] = [plain("Exceptions raised in the quarter's weeks", "h1"), HRule()]
    weeks = f"{p.weeks[0]} to {p.weeks[-1]}" if p.weeks else "none"
    note = (
        f"Each week's exceptions are worked out as its weekly run finds them (weeks {weeks}), for the "
        f"theme's items. One that was raised again in the quarter's last {p.last_weeks} weeks persisted; "
        "otherwise it cleared."
    )
    if p.weeks_not_ended:
        note += f" Not yet over when the pack was written, so not worked out: {', '.join(p.weeks_not_ended)}."
    out.append(plain(note, "small"))
    if not p.raised:
        return [
            *out,
            Spacer(1, 4),
            plain("No exception was raised for the theme's items in these weeks.", "body"),
        ]
    rows = [["Place", "Item", "About", "Exception", "Weeks raised", "Status"]]
    rows += [
        [r.place + (f" {r.team}" if r.team else ""), r.measure, (f"{r.criterion} " if r.criterion else "") + r.text, KIND_LABELS[r.kind],
         ", ".join(r.weeks),
         "persisted" if r.persisted else "cleared"]
        for r in p.raised
    ]  # fmt: skip
    return [*out, Spacer(1, 4), data_table(rows, (0.1, 0.07, 0.35, 0.14, 0.22, 0.12))]


def _improvements(p: ReviewPack) -> list[Flowable]:
    out: list[Flowable] = [plain("Improvements", "h1"), HRule()]
    if not p.improvements:
        return [
            *out,
            plain(
                "No improvement beyond normal variation and no sustained compliance was found for the theme's "
                "items this quarter.",
                "body",
            ),
        ]
    intro = (
        "What went well: a weekly series of the theme's items that moved beyond normal variation in the "
        "better direction, or a criterion whose whole 95% interval over the quarter lies on the good side of "
        "its standard and whose rate met it every week; at most three a place, listed by place, never ranked."
    )
    names = {s.measure.id: s.measure.name for s in p.sections}
    return [*out, plain(intro, "small"), Spacer(1, 6),
            *recognition_flowables(p.improvements, place_names=p.place_names, measure_names=names)]  # fmt: skip


def _story_rows(p: ReviewPack, kind: str) -> list[Flowable]:
    chosen = [s for s in p.stories if s.kind == kind]
    title = {"good_practice": "Good practice", "learning": "Learning"}[kind]
    if not chosen:
        return [
            plain(title, "h2"),
            plain(f"No note on the theme's cases was marked {title.lower()}.", "small"),
        ]
    shown = chosen[:MAX_STORIES]
    rows: list[Sequence[str]] = [["Case", "Place, team", "Criterion", "Reviewer's note"]]
    rows += [
        [f"{s.case_ref} ({s.assessed_on.isoformat()})", f"{p.place_names.get(s.place, s.place)}, {s.team}",
         "; ".join(s.criteria) or "met every criterion of the theme", s.note]
        for s in shown
    ]  # fmt: skip
    out: list[Flowable] = [
        plain(f"{title} ({len(chosen):,})", "h2"),
        data_table(rows, (0.2, 0.18, 0.24, 0.38)),
    ]
    if len(chosen) > len(shown):
        out.append(plain(f"and {len(chosen) - len(shown):,} more.", "small"))
    return [*out, Spacer(1, 6)]


def _stories(p: ReviewPack) -> list[Flowable]:
    return [
        plain("Real stories", "h1"),
        HRule(),
        plain(
            "Reviewers' notes on the quarter's cases of the theme's items that the reviewer marked as good "
            "practice or as a point of learning on the form (note_kind). Unmarked notes are not shown.",
            "small",
        ),
        Spacer(1, 4),
        *_story_rows(p, "good_practice"),
        *_story_rows(p, "learning"),
    ]


def _actions(p: ReviewPack) -> list[Flowable]:
    out: list[Flowable] = [plain("Actions", "h1"), HRule()]
    if not p.actions:
        return [*out, plain("No action is recorded (qam actions add records one).", "body")]
    rows = [["Action", "Item, place", "Owner", "Due", "Status", "Text"]]
    rows += [
        [f"#{a.id}", f"{a.item}, {a.place}", a.owner, a.due.isoformat(),
         a.status(p.as_of) + (f" {a.closed_on.isoformat()}" if a.closed_on else ""),
         a.text + (f" Closed: {a.closing_note}" if a.closing_note else "")]
        for a in p.actions
    ]  # fmt: skip
    overdue = sum(1 for a in p.actions if a.overdue(p.as_of))
    return [
        *out,
        plain(
            f"Every open action, then those closed in {p.theme.quarter}; overdue means open and due before "
            f"{p.as_of.isoformat()} ({overdue:,} overdue).",
            "small",
        ),
        Spacer(1, 4),
        data_table(rows, (0.08, 0.14, 0.16, 0.12, 0.14, 0.36)),
    ]
