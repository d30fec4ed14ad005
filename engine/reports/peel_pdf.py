"""peel.pdf: the PEEL self-assessment evidence of a rerun, by PEEL pillar and within that by the 12x12
measures (force compliance by period and quarter, criteria, the force's SPC chart, places, exceptions),
then the comparison with the scores first recorded. Same page furniture, fonts and escaping as the briefings.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.platypus import Flowable, KeepTogether, PageBreak, Spacer

from engine.core.models import ExceptionKind, PerformanceException
from engine.reports.charts import spc_chart
from engine.reports.data_table import data_table, measure_head
from engine.reports.figure_blocks import EVENT_ROWS, chart_noun, event_line
from engine.reports.layout import (
    Furniture,
    HRule,
    RenderedPdf,
    plain,
    render_story,
)
from engine.reports.peel_data import (
    Comparison,
    DeclaredMetricSection,
    Figure,
    MeasureSection,
    MetricFigure,
    MetricSection,
    PeelReport,
    PillarSection,
    PlaceFigures,
)
from engine.reports.wording import KIND_LABELS, interval, pct, pcts, period_text, plain_number


def peel_pdf(report: PeelReport) -> RenderedPdf:
    """Render peel.pdf (byte-identical for identical data)."""
    r = report
    story: list[Flowable] = _front(r)
    for pillar in r.pillars:
        story += [PageBreak(), *_pillar(r, pillar)]
    if r.comparison is not None:
        story += [PageBreak(), *_comparison(r.comparison)]
    return render_story(
        story,
        Furniture(
            title=f"{r.force_name} PEEL self-assessment evidence {r.period.label}",
            author=r.force_name,
            header=f"PEEL self-assessment evidence · {_dates(r)} · rulesets as of {r.as_of} · {r.force_name}",
            rulesets=r.rulesets,
            run_line=f"Run {r.run_id} · PEEL self-assessment · {r.period.label}",
            draft=r.draft,
        ),
    )


def _dates(r: PeelReport) -> str:
    return period_text(r.period.start.isoformat(), r.period.end.isoformat())


def _versions(r: PeelReport) -> str:
    """Which ruleset versions the rerun used, in words."""
    if r.as_of == "latest published":
        return "the latest published ruleset versions"
    return f"the ruleset versions published as of {r.as_of}"


def _front(r: PeelReport) -> list[Flowable]:
    facts = [
        ("Period", f"{r.period.label} ({_dates(r)})"),
        ("Quarters", ", ".join(q.label for q in r.quarters)),
        ("Rulesets", f"{_versions(r)} (listed in every page's footer)"),
        ("Cases reviewed", f"{r.cases_reviewed:,}"),
    ]
    kinds = list(ExceptionKind)
    counts = [["Period", *(KIND_LABELS[k] for k in kinds), "All"]]
    counts += [
        [name, *(f"{c[k.value]:,}" for k in kinds), f"{sum(c.values()):,}"] for name, c in r.exception_counts
    ]
    out: list[Flowable] = [
        plain(f"{r.force_name}: PEEL self-assessment evidence", "title"),
        plain(f"{_dates(r)} · rerun under {_versions(r)}", "subtitle"),
        data_table([[k, v] for k, v in facts], (0.2, 0.8), head_rows=0),
        Spacer(1, 12),
        plain("Exceptions found", "h1"),
        HRule(),
        data_table(counts, (0.28, *([0.72 / (len(kinds) + 1)] * (len(kinds) + 1)))),
        Spacer(1, 6),
        *([plain(_team_counts(r), "small"), Spacer(1, 4)] if r.team_exception_counts else []),
        plain(
            "Each PEEL pillar follows on its own pages, and within it each measure of the 12x12 model: "
            "force compliance for the period and each quarter with its 95% interval, the criteria, the "
            "force's weekly SPC chart, the places, and the period's exceptions. Compliance counts "
            "applicable findings (one per case and criterion); N/A findings are left out. Measures fed by "
            "the incidents extract show each response standard the same way, from the period's incidents.",
            "small",
        ),
        Spacer(1, 12),
        plain("Pillars and measures", "h1"),
        HRule(),
    ]
    rows: list[list[object]] = [
        ["Pillar", "Items with data (reviewed cases, incidents or figures)", "Items without"]
    ]
    for p in r.pillars:
        with_data = [s.measure.id for s in p.measures if s.has_data]
        without = [s.measure.id for s in p.measures if not s.has_data]
        rows.append([p.title, ", ".join(with_data) or "none", ", ".join(without) or "none"])
    out.append(data_table(rows, (0.2, 0.4, 0.4)))
    if r.not_defined:
        what = "an item" if len(r.not_defined) == 1 else "items"
        text = (
            f"Not defined: {', '.join(r.not_defined)}, {what} of the catalogue the force has not named yet."
        )
        out += [Spacer(1, 4), plain(text, "small")]
    if r.comparison is not None:
        out += [Spacer(1, 12), plain(r.comparison.lines()[0], "body")]
    return out


def _pillar(r: PeelReport, pillar: PillarSection) -> list[Flowable]:
    out: list[Flowable] = [
        plain(f"PEEL pillar: {pillar.title}", "title"),
        plain(pillar.description, "subtitle"),
    ]
    if not pillar.measures:
        out.append(plain("No measure of the catalogue falls under this pillar.", "body"))
    for i, section in enumerate(pillar.measures):
        if i:
            out.append(Spacer(1, 14))
        out += _measure(r, section)
    return out


def _figure_cells(f: Figure) -> list[str]:
    if not f.n:
        return [f.label, "0", "", "no data", "", f"{f.exceptions:,}"]
    return [
        f.label,
        f"{f.n:,}",
        f"{f.passes:,}",
        pct(f.rate),
        interval(f.ci_low, f.ci_high),
        f"{f.exceptions:,}",
    ]


def _measure(r: PeelReport, s: MeasureSection) -> list[Flowable]:
    m = s.measure
    head = measure_head(m)
    if not s.has_data:
        fed = "reviewed cases or incidents" if s.metrics else "reviewed cases"
        declared = f"; not measured: {', '.join(d.text for d in s.declared)}" if s.declared else ""
        return [
            KeepTogether([*head, plain(f"No {fed} feed this measure in the period{declared}.", "body")]),
            *_exceptions(s),
        ]
    out: list[Flowable] = []
    if s.has_cases:
        out += _cases(r, s, head)
        head = []
    for metric in s.metrics:
        if metric.has_data:
            out += metric_blocks(r, metric, head)
            head = []
    for d in s.declared:
        out += declared_blocks(r, d, head)
        head = []
    return out + _exceptions(s)


def _value(d: DeclaredMetricSection, x: float | None) -> str:
    if x is None:
        return "no data"
    return pct(x) if d.share else plain_number(x) if abs(x) >= 10 or x == 0 else f"{x:.3g}"


def _quarter_cell(d: DeclaredMetricSection, q: MetricFigure) -> str:
    """A quarter's figure, and the quarter it is for when that is an earlier one (a survey's latest)."""
    if not q.has_data:
        return "no data"
    earlier = q.covers and q.covers != q.label and "-Q" in q.covers
    return _value(d, q.value) + (f" ({q.covers})" if earlier else "")


def _declared_cells(d: DeclaredMetricSection, f: MetricFigure) -> list[str]:
    if not f.has_data:
        return [f.label, "", "no data", "", "", f"{f.exceptions:,}"]
    low_high = "-".join(pcts([f.low, f.high])) if d.share else f"{_value(d, f.low)}-{_value(d, f.high)}"
    median = f" (median {_value(d, f.median)})" if d.kind == "time" and f.median is not None else ""
    return [f.label, f.covers, f"{_value(d, f.value)}{median}", low_high if f.low is not None else "",
            f"{int(round(f.n)):,}", f"{f.exceptions:,}"]  # fmt: skip


def declared_blocks(r: PeelReport, d: DeclaredMetricSection, head: list[Flowable]) -> list[Flowable]:
    """One metric an extract definition declares for the measure, from the loaded figures: the force
    for the period and each quarter, the force's series chart, the places, and any events."""
    what = {"time": f"mean {d.unit}", "count": d.unit, "event": "events"}.get(d.kind, "share")
    counted = {
        "proportion": d.unit,
        "survey": "sample",
        "time": "timed",
        "count": d.unit.split(" per ")[0],
    }
    standards = "; ".join(d.standards) if d.standards else "no threshold names it"
    block = [
        *head,
        plain(f"{d.text} ({d.metric})", "h2"),
        plain(f"From the {d.extract} extract: {d.kind}, {what}. {standards}.", "small"),
    ]
    if not d.has_data:
        return [
            KeepTogether([*block, plain("Not measured in the period: no figures loaded.", "body")]),
            Spacer(1, 8),
        ]
    if d.kind == "event":
        rows = [["Period", "Events", "Exceptions"]]
        rows += [[f.label, f"{int(f.n):,}" if f.has_data else "0", f"{f.exceptions:,}"] for f in d.figures]
        table = data_table(rows, (0.4, 0.3, 0.3))
    else:
        rows = [["Period", "Figure covers", "Figure", "95% interval", counted.get(d.kind, "n").capitalize(),
                 "Exceptions"]]  # fmt: skip
        rows += [_declared_cells(d, f) for f in d.figures]
        table = data_table(rows, (0.2, 0.22, 0.18, 0.16, 0.12, 0.12))
    out: list[Flowable] = [KeepTogether([*block, Spacer(1, 2), table])]
    out += _chart(r, d.chart, f"Force {d.text[:1].lower() + d.text[1:]}")
    if d.places and d.kind != "event":
        names = [q.label for q in r.quarters][:QUARTERS_PER_TABLE]
        places = [["Place", "Figure", "95% interval", *names]]
        places += [
            [f"{p.name} ({p.code})", *_declared_cells(d, p.period)[2:4], *(_quarter_cell(d, q) for q in p.quarters[: len(names)])]
            for p in d.places
        ]  # fmt: skip
        rest = 0.45 / max(len(names), 1)
        out += [Spacer(1, 6), plain("Places (the period, then each quarter)", "h2"),
                data_table(places, (0.25, 0.15, 0.15, *([rest] * len(names))))]  # fmt: skip
    if d.events:
        lines = [f"{e.place}: {event_line(e)}" for e in d.events[:EVENT_ROWS]]
        more = len(d.events) - len(lines)
        lines += [f"and {more:,} more (each is a line of exceptions.json)"] if more > 0 else []
        out += [Spacer(1, 4), plain("Events in the period", "h2"), *(plain(x, "small") for x in lines)]
    return [*out, Spacer(1, 8)]


def _cases(r: PeelReport, s: MeasureSection, head: list[Flowable]) -> list[Flowable]:
    """What the reviewed cases say of the measure: force figures, criteria, SPC chart, places."""
    figures = [["Period", "Findings", "Met", "Rate", "95% interval", "Exceptions"]]
    figures += [_figure_cells(f) for f in s.figures]
    out: list[Flowable] = [KeepTogether([*head, data_table(figures, (0.3, 0.13, 0.13, 0.12, 0.18, 0.14))])]
    if s.criteria:
        rows = [["Criterion", "Text", "Findings", "Rate", "95% interval", "Standard"]]
        rows += [
            [
                f"{c.ruleset} {c.criterion}",
                c.text,
                f"{c.figure.n:,}",
                pct(c.figure.rate),
                interval(c.figure.ci_low, c.figure.ci_high) if c.figure.n else "",
                pct(c.minimum) if c.minimum is not None else "",
            ]
            for c in s.criteria
        ]
        out += [Spacer(1, 6), data_table(rows, (0.22, 0.35, 0.1, 0.08, 0.13, 0.12))]
    out += _chart(r, s.chart, "Force weekly compliance")
    if s.places:
        out += _places(r, s.places, "Findings")
    return out


def metric_blocks(r: PeelReport, t: MetricSection, head: list[Flowable]) -> list[Flowable]:
    """One response-standards threshold from the period's incidents: force figures, SPC chart, places."""
    unit = t.unit.capitalize()
    standard = (
        f"Standard: {pct(t.minimum)} ({t.ruleset} {t.criterion})"
        if t.minimum is not None
        else f"No standard: watched for special-cause variation only ({t.ruleset} {t.criterion})"
    )
    if t.measured:
        rows = [["Period", unit, "Mean", "95% interval", "Median", "90th percentile", "Exceptions"]]
        rows += [[f.label, f"{f.n:,}", *_time_cells(f, t.time_unit), f"{f.exceptions:,}"] for f in t.figures]
        table = data_table(rows, (0.3, 0.12, 0.11, 0.14, 0.1, 0.12, 0.11))
    else:
        rows = [["Period", unit, "Met", "Rate", "95% interval", "Exceptions"]]
        rows += [_figure_cells(f) for f in t.figures]
        table = data_table(rows, (0.3, 0.13, 0.13, 0.12, 0.18, 0.14))
    block = [
        *head,
        plain(f"{t.criterion} {t.text}", "h2"),
        plain(f"From the incidents extract. {standard}.", "small"),
    ]
    out: list[Flowable] = [KeepTogether([*block, Spacer(1, 2), table])]
    out += _chart(r, t.chart, f"Force weekly mean {t.time_unit}" if t.measured else "Force weekly rate")
    if t.places:
        out += _places(r, t.places, unit, measured=t.time_unit)
    return [*out, Spacer(1, 8)]


def _time_cells(f: Figure, unit: str) -> list[str]:
    """A measured time's mean, its interval, median and 90th percentile: '8.4 min', '8.1-8.7'."""
    if not f.n or f.mean is None:
        return ["no data", "", "", ""]
    short = "min" if unit == "minutes" else "s"
    interval_text = (
        f"{plain_number(f.ci_low)}-{plain_number(f.ci_high)}"
        if f.ci_low is not None and f.ci_high is not None
        else ""
    )
    quantiles = [f"{plain_number(x)} {short}" if x is not None else "" for x in (f.median, f.p90)]
    return [f"{plain_number(f.mean)} {short}", interval_text, *quantiles]


def _chart(r: PeelReport, carrier: PerformanceException | None, title: str) -> list[Flowable]:
    """The force's weekly XmR chart over the period, with its caption (nothing without one)."""
    if carrier is None or carrier.chart is None:
        return []
    noun = chart_noun(carrier.chart)
    return [
        Spacer(1, 6),
        KeepTogether(
            [
                plain(f"{title}, {r.period.label}", "h2"),
                spc_chart(carrier, carrier.chart),
                plain(
                    f"Each point is one {noun} of the period. Mean (solid) and process limits (dashed) "
                    f"come from the first {carrier.chart.baseline_weeks} {noun}s (shaded); large points "
                    f"are {noun}s of a signal in the concerning direction.",
                    "small",
                ),
            ]
        ),
    ]


#: the most quarter columns one places table holds; a longer period continues in further tables
QUARTERS_PER_TABLE = 6


def _places(
    r: PeelReport, places: Sequence[PlaceFigures], unit: str, *, measured: str = ""
) -> list[Flowable]:
    """The places' figures for the period, then each quarter's rate (or, ``measured`` a time's
    unit, mean time): a long period's quarters continue in further tables of QUARTERS_PER_TABLE
    columns, the places repeated."""
    quarter_names = [q.label for q in r.quarters]
    if measured:
        head = ["Place", unit, "Mean", "Median"]
        lead = [
            [f"{p.name} ({p.code})", f"{p.period.n:,}", *_time_cells(p.period, measured)[0:3:2]]
            for p in places
        ]
        quarter_cells = [
            [plain_number(q.mean) if q.n and q.mean is not None else "no data" for q in p.quarters]
            for p in places
        ]
        what = f"mean {measured}"
        widths: tuple[float, ...] = (0.24, 0.13, 0.09, 0.13)
    else:
        head = ["Place", unit, "Rate", "95% interval"]
        lead = [
            [
                f"{p.name} ({p.code})",
                f"{p.period.n:,}",
                pct(p.period.rate),
                interval(p.period.ci_low, p.period.ci_high),
            ]
            for p in places
        ]
        quarter_cells = [[pct(q.rate) if q.n else "no data" for q in p.quarters] for p in places]
        what = "rate"
        widths = (0.25, 0.1, 0.08, 0.12)
    out: list[Flowable] = [Spacer(1, 6), plain(f"Places (the period, then each quarter's {what})", "h2")]
    step = QUARTERS_PER_TABLE
    for first in range(0, max(len(quarter_names), 1), step):
        names = quarter_names[first : first + step]
        if first == 0:
            rows = [[*head, *names]] + [[*lead[i], *cells[:step]] for i, cells in enumerate(quarter_cells)]
            shown = widths
        else:
            rows = [["Place", *names]] + [
                [lead[i][0], *cells[first : first + step]] for i, cells in enumerate(quarter_cells)
            ]
            shown = (widths[0],)
            out.append(Spacer(1, 6))
        rest = (1 - sum(widths)) / step
        out.append(data_table(rows, (*shown, *([rest] * len(names)))))
    return out


def _team_counts(r: PeelReport) -> str:
    """What the table above leaves out: the teams' own exceptions, by period."""
    counts = dict(r.team_exception_counts)
    whole = counts.get(r.period.label, 0)
    quarters = "; ".join(f"{label}: {n:,}" for label, n in r.team_exception_counts if label != r.period.label)
    if not any(counts.values()):
        return "The table counts the force's and the places' exceptions; no team had one of its own."
    return (
        f"The table counts the force's and the places' exceptions. Teams had {whole:,} of their own over "
        f"the whole period ({quarters}): a team's shortfall or special cause within its place, each a "
        "line of team_exceptions in exceptions.json (and in each quarter's file), with its team named."
    )


def _exceptions(s: MeasureSection) -> list[Flowable]:
    if not s.exceptions:
        return [Spacer(1, 4), plain(f"No exceptions for {s.measure.id} over the whole period.", "body")]
    rows = [["Place", "Exception", "Reason"]]
    rows += [[e.place, KIND_LABELS[e.kind], e.reason] for e in s.exceptions]
    n = len(s.exceptions)
    return [
        Spacer(1, 6),
        plain(f"Exceptions over the whole period ({n:,})", "h2"),
        data_table(rows, (0.1, 0.18, 0.72)),
    ]


def _comparison(c: Comparison) -> list[Flowable]:
    out: list[Flowable] = [
        plain("Compared with the scores first recorded", "title"),
        plain(c.lines()[0], "body"),
        Spacer(1, 4),
        plain(
            "Original = the earliest official score stored for the assessment's current revision under "
            "each ruleset (what the run that first scored it reported). Each moved finding is attributed "
            "to the change between the two published versions (qam rulesets diff); compare.csv lists "
            "every moved finding.",
            "small",
        ),
        Spacer(1, 8),
    ]
    if not c.summary:
        return [*out, plain("No finding moved.", "body")]
    rows = [["Ruleset", "Versions", "Change", "Findings moved", "Moves", "Places"]]
    rows += [
        [
            s.ruleset,
            f"{s.original_version} -> {s.rerun_version}",
            s.cause,
            f"{s.findings:,}",
            ", ".join(f"{m} {n:,}" for m, n in s.moves),
            ", ".join(f"{p} {n:,}" for p, n in s.places),
        ]
        for s in c.summary
    ]
    return [*out, data_table(rows, (0.2, 0.12, 0.2, 0.1, 0.16, 0.22))]


__all__ = ["peel_pdf"]
