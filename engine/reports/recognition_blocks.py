"""Recognition as the reports show it (engine.analysis.recognition): each item in full for the
Learning Review pack (what was counted, the figures, the improving chart, the reviewer notes behind
it) and a short "Recognition" section for force.pdf, after the exceptions. Good news in a
developmental tone: items are listed by place and never ranked against each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reportlab.platypus import Flowable, Spacer, Table, TableStyle

from engine.analysis.recognition import IMPROVEMENT_KIND, Recognition
from engine.core.models import ExceptionKind, PerformanceException
from engine.reports.charts import spc_chart
from engine.reports.exception_parts import evidence_tiles, reason_box, spc_caption, spc_notes, together
from engine.reports.layout import HEAD, RULE, WIDTH, HRule, esc, para, plain
from engine.reports.wording import measure_title, pct, pcts, shorten

KIND_TITLES = {IMPROVEMENT_KIND: "Improvement", "sustained": "Sustained compliance"}
#: most items force.pdf lists (the Learning Review pack has them all)
FORCE_LINES = 8
_NOTE_CHARS = 160


def recognition_flowables(
    items: Sequence[Recognition],
    *,
    place_names: Mapping[str, str] | None = None,
    measure_names: Mapping[str, str] | None = None,
    charts: bool = True,
) -> list[Flowable]:
    """Every item in full, in the given order: a heading (what and where), the reason, the figures,
    the improving chart (``charts``) and the reviewer notes behind it."""
    places, names = place_names or {}, measure_names or {}
    out: list[Flowable] = []
    for r in items:
        where = places.get(r.place, r.place) + (f", {r.team}" if r.team else "")
        title = f"{KIND_TITLES.get(r.kind, r.kind)} · {where} · {measure_title(r.measure, names)}"
        source = ", ".join(f"{k} {v}" for k, v in (("ruleset", r.ruleset), ("criterion", r.criterion)) if v)
        head: list[Flowable] = [plain(title, "h2")]
        if source:
            head.append(plain(source, "small"))
        if r.criterion_text:
            what = "Criterion" if r.criterion else "Measure"
            head += [Spacer(1, 3), para(f"<b>{what}:</b> {esc(r.criterion_text)}", "body")]
        head += [Spacer(1, 5), reason_box([r.reason]), Spacer(1, 6), evidence_tiles(_evidence(r))]
        out.append(together(head))
        if charts and r.chart is not None:
            e = _as_exception(r)
            out += [
                Spacer(1, 6),
                together([*spc_notes(e, r.chart), Spacer(1, 4), spc_chart(e, r.chart), spc_caption(r.chart)]),
            ]
        out += [Spacer(1, 6), *notes_table(r), Spacer(1, 12)]
    return out


def _evidence(r: Recognition) -> tuple[tuple[str, str], ...]:
    """The figures as (label, value) tiles: what was counted, the rate, its interval, the standard."""
    span = f"in week {r.week}" if r.week else "in the period"
    rate, low, high = pcts([r.rate, r.ci_low, r.ci_high])
    pairs = [
        (f"Cases reviewed {span}", f"{r.passed:,} of {r.n:,} met it"),
        ("Rate", rate),
        ("95% interval", f"{low} to {high}"),
    ]
    if r.standard is not None:
        pairs.append(("Standard", pct(r.standard)))
    return tuple(pairs)


def _as_exception(r: Recognition) -> PerformanceException:
    """The item in the shape the shared chart parts draw (its chart is an improving one)."""
    return PerformanceException(
        place=r.place,
        priority=r.priority,
        measure=r.measure,
        peel=r.peel,
        iserve=r.iserve,
        ruleset=r.ruleset,
        criterion=r.criterion,
        kind=ExceptionKind.SPECIAL_CAUSE,
        reason=r.reason,
        n=r.n,
        passed=r.passed,
        rate=r.rate,
        ci_low=r.ci_low,
        ci_high=r.ci_high,
        standard=r.standard,
        cases=r.cases,
        criterion_text=r.criterion_text,
        chart=r.chart,
    )


def notes_table(r: Recognition) -> list[Flowable]:
    """The reviewer notes behind an item (good practice first), or a line saying there were none."""
    count = f"{len(r.cases):,} passing case{'s' if len(r.cases) != 1 else ''}"
    if not r.details:
        return [plain(f"Behind it: {count}; no reviewer note on them.", "small")]
    good = set(r.good_practice)
    rows: list[list[Flowable]] = [
        [plain(h, "cellhead") for h in ("Case", "Team, officer", "The reviewer's note")]
    ]
    for d in r.details:
        mark = "<b>Good practice:</b> " if d.case_ref in good else ""
        rows.append(
            [
                plain(d.case_ref, "cellnobreak"),
                para("<br/>".join(esc(t) for t in (d.team, d.officer) if t.strip()) or "–", "cell"),
                para(f"{mark}{esc(shorten(d.note, _NOTE_CHARS))}", "cell"),
            ]
        )
    widths = [WIDTH * 0.2, WIDTH * 0.22, WIDTH * 0.58]
    table = Table(
        rows,
        colWidths=widths,
        repeatRows=1,
        style=TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), HEAD),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        ),
    )
    return [plain(f"Behind it: {count}; the reviewers' notes on them:", "small"), Spacer(1, 3), table]


def force_recognition(
    items: Sequence[Recognition],
    *,
    place_names: Mapping[str, str],
    measure_names: Mapping[str, str],
    lines: int = FORCE_LINES,
) -> list[Flowable]:
    """force.pdf's short "Recognition" section, after the exceptions: at most ``lines`` items
    (improvements first, then sustained compliance; each by place name), each in one paragraph with
    a good-practice note where a reviewer marked one; nothing at all when there is no item."""
    if not items:
        return []
    shown = sorted(
        items,
        key=lambda r: (r.kind != IMPROVEMENT_KIND, place_names.get(r.place, r.place), r.measure, r.criterion),
    )[:lines]
    what = (
        "Where a place's weekly series moved beyond normal variation in the better direction (the same "
        "charts and rules as a special cause)"
        if all(r.kind == IMPROVEMENT_KIND for r in items)
        else "An improvement beyond normal variation, or a standard met with confidence in every week"
    )
    out: list[Flowable] = [
        Spacer(1, 14),
        plain("Recognition", "h1"),
        HRule(),
        Spacer(1, 4),
        plain(f"{what}: good news to recognise. By place, never ranked.", "small"),
        Spacer(1, 5),
    ]
    for r in shown:
        where = f"{places_text(r, place_names)} · {measure_title(r.measure, measure_names)}"
        text = f"<b>{esc(where)}</b> ({esc(KIND_TITLES.get(r.kind, r.kind).lower())}): {esc(r.reason)}"
        good = [d for d in r.details if d.case_ref in set(r.good_practice)]
        if good:
            text += f" <i>Reviewer on {esc(good[0].case_ref)}:</i> “{esc(shorten(good[0].note, 90))}”"
        out += [para(text, "body"), Spacer(1, 3)]
    if len(items) > len(shown):
        out.append(plain(f"And {len(items) - len(shown)} more not listed here.", "small"))
    return out


def places_text(r: Recognition, names: Mapping[str, str]) -> str:
    return names.get(r.place, r.place) + (f", {r.team}" if r.team else "")
