"""The parts of an exception's evidence the place briefings and force.pdf share: the reason box,
the evidence tiles (a figure from an extract in its own terms: figure_blocks), the SPC chart's notes
and caption, and an exception in full (exception_core) as force.pdf shows a force-level one.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from engine.core.figure_facts import figure_of
from engine.core.models import PerformanceException, SpcChart
from engine.reports.charts import rate_chart, spc_chart
from engine.reports.figure_blocks import chart_noun, evidence_pairs, per_point, spc_values
from engine.reports.layout import ACCENT, SHADE, WIDTH, esc, para, plain
from engine.reports.wording import (
    assurance_text,
    evidence,
    pcts,
    spc_signal_text,
    tags_text,
    value_format,
)


def together(flowables: list[Flowable]) -> Table:
    """Flowables kept on one page (KeepTogether cannot be measured before it is drawn, as a
    Section measures its content)."""
    zero = [(f"{side}PADDING", (0, 0), (-1, -1), 0) for side in ("LEFT", "RIGHT", "TOP", "BOTTOM")]
    return Table([[flowables]], colWidths=[WIDTH], style=TableStyle(zero))


def exception_core(e: PerformanceException, priority_name: str, unit: str) -> list[Flowable]:
    """Where it sits, the criterion, the reason (prominent), the evidence and the chart."""
    source = ", ".join(f"{k} {v}" for k, v in (("ruleset", e.ruleset), ("criterion", e.criterion)) if v)
    where = " · ".join(x for x in (f"Priority {e.priority}: {priority_name}", tags_text(e), source) if x)
    out: list[Flowable] = [plain(where, "small"), Spacer(1, 6)]
    if e.criterion_text:
        out += [para(f"<b>Criterion:</b> {esc(e.criterion_text)}", "body"), Spacer(1, 6)]
    out += [reason_box([e.reason]), Spacer(1, 8), evidence_tiles(evidence_of(e, unit))]
    if e.chart is not None:
        out += [
            Spacer(1, 6),
            *spc_notes(e, e.chart),
            Spacer(1, 4),
            spc_chart(e, e.chart),
            spc_caption(e.chart),
        ]
    elif e.rate is not None and getattr(figure_of(e), "kind", "proportion") in ("proportion", "survey"):
        out += [Spacer(1, 8), rate_chart(e)]  # a 0-100% scale: a share's, never a time's or a rate's
    return out


def evidence_of(e: PerformanceException, unit: str) -> tuple[tuple[str, str], ...]:
    """The evidence tiles: a figure's in its own terms (figure_blocks), else wording.evidence's."""
    fig = figure_of(e)
    return evidence_pairs(fig) if fig is not None else evidence(e, unit)


def reason_box(reasons: Sequence[str], style: str = "reason") -> Table:
    return Table(
        [[[plain(r, style) for r in reasons]]],
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


def evidence_tiles(pairs: Sequence[tuple[str, str]]) -> Table:
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


def spc_notes(e: PerformanceException, chart: SpcChart) -> list[Flowable]:
    mean, low, high = spc_values_of(e, chart)
    noun = chart_noun(chart)
    often = {"week": "Weekly", "month": "Monthly", "quarter": "Quarterly", "year": "Yearly"}[noun]
    lines = [
        f"<b>Signal:</b> {esc(per_point(spc_signal_text(chart.rules), noun))}. {often} mean {esc(mean)}, "
        f"process limits {esc(low)} to {esc(high)}, from the first {chart.baseline_weeks} {noun}s; "
        f"{'higher' if chart.direction == 'higher' else 'lower'} is better."
    ]
    text = assurance_text(chart.assurance)
    if text:
        # the assurance is read off the baseline limits; a signal says the process has since moved
        basis = " (judged on the baseline limits, before this signal)" if chart.rules else ""
        lines.append(f"<b>Against the standard{basis}:</b> {esc(text)}.")
    return [para(line, "body") for line in lines]


def spc_values_of(e: PerformanceException, chart: SpcChart) -> tuple[str, str, str]:
    """The mean and process limits as shown together: a rate's limits clipped to 0-100% (whatever
    mean +/- 2.66 mR says) and worded with the precision that tells the three apart."""
    fig, low, high = figure_of(e), chart.lower_limit, chart.upper_limit
    if fig is not None:
        return spc_values(fig, chart)
    fmt = value_format(e)
    if fmt(0.5).endswith("%"):
        mean, low_text, high_text = pcts([chart.mean, max(low, 0.0), min(high, 1.0)])
        return mean, low_text, high_text
    return fmt(chart.mean), fmt(low), fmt(high)


def spc_caption(chart: SpcChart) -> Paragraph:
    noun = chart_noun(chart)
    return plain(
        f"Each point is one {noun}. Large dark points are the {noun}s that make up the signal. "
        f"The shaded {noun}s are the baseline the mean (solid line) and process limits (dashed) come from"
        f"{f' (trial limits: fewer than 12 {noun}s)' if chart.baseline_weeks < 12 else ''}.",
        "small",
    )
