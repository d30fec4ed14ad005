"""How the PDFs show an exception on a declared metric's figure (engine.core.figure_facts): the figure
in its own terms with its interval, the period it covers and the standard, in one line for page 1
and as evidence tiles; and an event metric's events as a table (date, reference, team, what
happened) where a reviewed issue lists its failing cases.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Table, TableStyle

from engine.core.figure_facts import FigureEvent, FigureFacts
from engine.core.models import SpcChart
from engine.core.text import percents
from engine.reports.layout import HEAD, RULE, WIDTH, esc, para, plain
from engine.reports.wording import plain_number

SHARES = ("proportion", "survey")
#: the most events a briefing's issue lists (each is also a line of exceptions.json)
EVENT_ROWS = 10


def _num(x: float | None) -> str:
    """A value that is not a share: 14.25 -> '14.3', 0.043 -> '0.043' (three significant figures
    below 10), whole numbers plainly."""
    if x is None or math.isnan(x):
        return "no data"
    if abs(x) >= 10 or x == 0:
        return plain_number(x)
    text = f"{x:.{max(2 - math.floor(math.log10(abs(x))), 1)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def per_text(f: FigureFacts) -> str:
    """'per 1,000 population', 'per 100 FTE'; '' for a count without exposure."""
    if f.kind != "count" or not f.exposure or f.exposure == "none" or f.per is None:
        return ""
    return f"per {f.per:,.0f} {'FTE' if f.exposure == 'fte' else f.exposure}"


def values_text(f: FigureFacts, values: Sequence[float | None]) -> list[str]:
    """Values in the figure's terms, told apart from each other: shares as percentages ('84%',
    '95%'), times with their unit on the first ('16.5 minutes', '16.2'), rates bare ('0.31')."""
    if f.kind in SHARES:
        return percents([math.nan if v is None else v for v in values])
    return [_num(v) for v in values]


def unit_text(f: FigureFacts) -> str:
    """What a non-share value is in: 'minutes', 'per 1,000 population', 'complaints'."""
    if f.kind == "time":
        return f.unit
    return per_text(f) or f.unit


def figure_value_text(f: FigureFacts, x: float | None) -> str:
    """One value with its unit: '84%', '16.5 minutes', '0.31 per 1,000 population'."""
    text = values_text(f, [x])[0]
    return text if f.kind in SHARES or text == "no data" else f"{text} {unit_text(f)}".strip()


def counted_text(f: FigureFacts) -> str:
    """'840 of 1,000 days'; '400 respondents'; '280 timed'; '15 complaints in a population of 48,000'."""
    n = int(round(f.n))
    if f.kind == "proportion":
        return f"{int(round(f.k or 0)):,} of {n:,} {f.unit}".strip()
    if f.kind == "survey":
        deff = f", design effect {_num(f.design_effect)}" if f.design_effect != 1 else ""
        return f"{n:,} respondents{deff}"
    if f.kind == "time":
        return f"{n:,} timed"
    if f.kind == "count" and f.exposure_total is not None and per_text(f):
        whom = "FTE" if f.exposure == "fte" else f.exposure
        return f"{n:,} {f.unit} in a {whom} of {int(round(f.exposure_total)):,}"
    return f"{n:,} {f.unit}".strip()


def _bound_text(f: FigureFacts) -> str:
    return f"{f.bound} {figure_value_text(f, f.standard)}" if f.standard is not None and f.bound else ""


def summary_text(f: FigureFacts) -> str:
    """Page 1's one line: '84% (840 of 1,000 days), 95% interval 82%-86%, October 2026; minimum 95%';
    'mean 16.5 minutes of 280 timed, 95% interval 16.2-16.8; median 18, 2026-W47; maximum 15 minutes'."""
    if f.kind == "event":
        return event_line(f.events[0]) if len(f.events) == 1 else f"{len(f.events)} events"
    value, low, high, standard = values_text(f, [f.value, f.low, f.high, f.standard])
    interval = f"95% interval {low}-{high}" if f.low is not None and f.high is not None else "no interval"
    if f.kind in SHARES:
        head = f"{value} ({counted_text(f)})"
    elif f.kind == "time":
        other = f.median if f.statistic == "mean" else f.mean
        name = "median" if f.statistic == "mean" else "mean"
        interval += f"; {name} {_num(other)}" if other is not None else ""
        head = f"{f.statistic} {value} {f.unit} of {counted_text(f)}"
    else:
        head = f"{value} {unit_text(f)}: {counted_text(f)}"
    standard_part = f"; {f.bound} {standard if f.kind in SHARES else figure_value_text(f, f.standard)}"
    return f"{head}, {interval}, {f.period}" + (standard_part if f.standard is not None and f.bound else "")


def evidence_pairs(f: FigureFacts) -> tuple[tuple[str, str], ...]:
    """The evidence tiles of a figure: what was counted, the figure for its period, its interval, the
    standard (and a time's other statistic)."""
    if f.kind == "event":
        return (("Events", f"{len(f.events):,}"), ("Period", f.period))
    value, low, high, standard = values_text(f, [f.value, f.low, f.high, f.standard])
    shown = value if f.kind in SHARES else f"{value} {unit_text(f)}".strip()
    label = f"{f.statistic.capitalize()}, {f.period}" if f.kind == "time" else f"Figure, {f.period}"
    rows = [("Extract", counted_text(f)), (label, shown)]
    rows.append(
        ("95% interval", f"{low}-{high}" if f.low is not None and f.high is not None else "no interval")
    )
    if f.kind == "time":
        other = f.median if f.statistic == "mean" else f.mean
        if other is not None:
            rows.append(("Median" if f.statistic == "mean" else "Mean", f"{_num(other)} {f.unit}"))
    if f.standard is not None and f.bound:
        rows.append((f"{f.bound.capitalize()} standard", standard if f.kind in SHARES else _num(f.standard)))
    return tuple(rows)


def _day(iso: str) -> str:
    d = dt.date.fromisoformat(iso)
    return f"{d.day} {d:%B %Y}"


def event_line(e: FigureEvent) -> str:
    """'18 November 2026, HI-2026-0412: Man stabbed outside a bar'."""
    return f"{_day(e.on)}, {e.ref}" + (f": {e.detail}" if e.detail.strip() else "")


def events_table(events: Sequence[FigureEvent], title: str) -> list[Flowable]:
    """The events of an issue, by date: date, reference, team and what happened (at most EVENT_ROWS;
    exceptions.json lists every one)."""
    if not events:
        return []
    shown = sorted(events, key=lambda e: (e.on, e.ref))[:EVENT_ROWS]
    rows: list[list[Flowable]] = [
        [para(f"<b>{esc(title)} ({len(events):,})</b>", "h2"), "", "", ""],
        [plain(h, "cellhead") for h in ("Date", "Reference", "Team", "What happened")],
    ]
    rows += [
        [
            plain(_day(e.on), "cell"),
            plain(e.ref, "cell"),
            plain(e.team or "–", "cell"),
            plain(e.detail or "–", "cell"),
        ]
        for e in shown
    ]
    style = [
        ("SPAN", (0, 0), (-1, 0)),
        ("LEFTPADDING", (0, 0), (-1, 0), 0),
        ("BACKGROUND", (0, 1), (-1, 1), HEAD),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 1), (-1, -1), 0.4, RULE),
        ("TOPPADDING", (0, 1), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 1), (-1, -1), 4),
    ]
    if len(events) > len(shown):
        rows.append(
            [
                plain(f"and {len(events) - len(shown):,} more: exceptions.json lists every one", "cell"),
                "",
                "",
                "",
            ]
        )
        style.append(("SPAN", (0, -1), (-1, -1)))
    widths = [34 * mm, 40 * mm, 30 * mm, WIDTH - 104 * mm]
    return [Table(rows, colWidths=widths, repeatRows=2, style=TableStyle(style))]


def point_noun(label: str) -> str:
    """What one point of a series is, from its label: '2026-W47' week, '2026-10' month, '2026-Q3'
    quarter, '2026' year."""
    if "-W" in label:
        return "week"
    if "-Q" in label:
        return "quarter"
    return "year" if len(label) == 4 else "month"


def chart_noun(chart: SpcChart) -> str:
    """What one point of a chart is: 'week', 'month', 'quarter' or 'year'."""
    return point_noun(chart.points[-1].week) if chart.points else "week"


def per_point(text: str, noun: str) -> str:
    """A sentence about weeks said of the chart's own points: 'a week outside ...' -> 'a month outside ...'."""
    return text if noun == "week" else text.replace("weeks", f"{noun}s").replace("week", noun)


def spc_values(f: FigureFacts, chart: SpcChart) -> tuple[str, str, str]:
    """A figure's chart mean and process limits in its terms (a share's limits within 0-100%)."""
    share = f.kind in SHARES
    low, high = max(chart.lower_limit, 0.0), min(chart.upper_limit, 1.0) if share else chart.upper_limit
    mean, low_text, high_text = values_text(f, [chart.mean, low, high])
    return mean, low_text, high_text


#: what page 1 adds when an issue is on a figure from an extract
FIGURE_DEFINITION = (
    "A figure from an extract is for the period it names: the week, or the latest month, quarter "
    "or year sent (never one more than two of its periods old)."
)
