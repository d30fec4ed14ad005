"""An officer's summary PDF (docs/outputs.md#officer-summaries): the key aspects of their role, their
own reviewed cases against each with the rate and its interval (or "too few cases to say"), their
team's and place's figures beside them, and their failing cases with the reviewers' notes.
Developmental in tone: no other officer is named or ranked. Deterministic; user text is escaped."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, SimpleDocTemplate, Spacer, Table, TableStyle

from engine.analysis.officers import AspectSummary, OfficerSummary
from engine.reports.layout import HEAD, RULE, esc, para, plain

_MARGIN = 15 * mm
_WIDTH = A4[0] - 2 * _MARGIN
#: failing cases listed per aspect (the officer's own; a longer list is summarised)
MAX_FAILING = 20

INTRO = (
    "This summary is for you and your supervisor, to talk about your practice: what is going well "
    "and what to learn from. It sets your own reviewed cases against each key aspect of your role, "
    "with your team's and your place's figures beside them for context. It is not a ranking and "
    "names no other officer."
)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _yours(a: AspectSummary, min_cases: int) -> tuple[str, str]:
    if a.is_metric:
        return "", "measured from extracts for teams and places, not per officer"
    if a.n == 0:
        return "0", "no reviewed cases in the period"
    if a.rate is None:
        return f"{a.passed} of {a.n}", f"too few cases to say (fewer than {min_cases})"
    return f"{a.passed} of {a.n}", f"{a.rate:.0%} ({_pct(a.ci_low)} to {_pct(a.ci_high)})"


def _beside(rate: float | None, n: int, is_metric: bool) -> str:
    if is_metric:
        return "-"
    if n == 0:
        return "-"
    return "too few cases" if rate is None else f"{rate:.0%} of {n}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]) -> Table:
    data = [[plain(h, "cellhead") for h in header]]
    data += [[plain(c, "cell") for c in row] for row in rows]
    table = Table(data, colWidths=[w * _WIDTH for w in widths], repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), HEAD),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _aspects(s: OfficerSummary, min_cases: int) -> Table:
    rows = []
    for a in s.aspects:
        cases, rate = _yours(a, min_cases)
        rows.append(
            (
                a.text,
                cases,
                rate,
                _beside(a.team_rate, a.team_n, a.is_metric),
                _beside(a.place_rate, a.place_n, a.is_metric),
            )
        )
    return _table(
        ("Key aspect", "Your cases met", "Your rate (95% interval)", "Your team", "Your place"),
        rows,
        (0.36, 0.12, 0.22, 0.15, 0.15),
    )


def _failing(a: AspectSummary) -> list[Flowable]:
    heading = para(f"To learn from: {esc(a.text)}", "h2")
    heading.keepWithNext = True
    shown = a.failing[:MAX_FAILING]
    story: list[Flowable] = [
        Spacer(1, 2 * mm),
        heading,
        _table(
            ("Your case", "Reviewed", "Reviewer", "Reviewer's note"),
            [(c.case_ref, c.assessed_on.isoformat(), c.reviewer, c.note or "(no note)") for c in shown],
            (0.21, 0.12, 0.2, 0.47),
        ),
    ]
    if len(a.failing) > len(shown):
        story.append(plain(f"... and {len(a.failing) - len(shown)} more of your cases.", "small"))
    return story


def officer_pdf(
    s: OfficerSummary, *, date_from: dt.date, date_to: dt.date, place_name: str, min_cases: int
) -> bytes:
    """One officer's summary as PDF bytes. Same summary, same bytes."""
    story: list[Flowable] = [
        plain(f"Officer summary: {s.officer}", "title"),
        plain(
            f"{s.role_name} role · team {s.team}, {place_name} ({s.place}) · "
            f"{date_from.isoformat()} to {date_to.isoformat()} · {s.cases} of your cases reviewed",
            "subtitle",
        ),
        plain(INTRO, "body"),
        Spacer(1, 3 * mm),
        _aspects(s, min_cases),
        Spacer(1, 2 * mm),
        plain(
            "A rate is the share of your reviewed cases where the aspect applied that met it, with its "
            f"Wilson 95% interval; with fewer than {min_cases} such cases there is too little to say. "
            f"Your team is {s.team} and your place {place_name}: their figures count every reviewed case "
            "of the team and place in the period, yours included.",
            "small",
        ),
    ]
    with_fails = [a for a in s.aspects if a.failing]
    if with_fails:
        story.append(Spacer(1, 3 * mm))
        for a in with_fails:
            story.extend(_failing(a))
    else:
        story.append(Spacer(1, 3 * mm))
        story.append(plain("None of your reviewed cases fell short on these aspects in the period.", "body"))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        invariant=1,
        title=f"Officer summary {s.officer}",
        author="QAM",
        creator="QAM",
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
    )
    doc.build(story)
    return buf.getvalue()
