"""The wording the PDFs share (and anything else that prints numbers): rates, intervals and measured
values, periods, a measure's title, an exception's evidence, tags and counts, in plain English.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from engine.core.figure_facts import figure_of
from engine.core.models import KIND_ORDER, ExceptionKind, PerformanceException
from engine.core.text import percents
from engine.inputs.forms import BUNDLED_WORDS, default_words

KIND_LABELS: Mapping[ExceptionKind, str] = MappingProxyType(
    {
        ExceptionKind.CRITICAL: "Critical failure",
        ExceptionKind.BELOW_STANDARD: "Below standard",
        ExceptionKind.SPECIAL_CAUSE: "Special cause",
        ExceptionKind.THRESHOLD: "Threshold breach",
    }
)

#: how each bundled case type is listed ("stop searches 30"), where its form's own label is not at
#: hand (engine.inputs.forms: a form may declare its ``label``)
CASE_TYPE_LABELS: Mapping[str, str] = MappingProxyType({t: label for t, (label, _) in BUNDLED_WORDS.items()})

#: the SPC rule ids the exceptions stage may name, in words a place leader reads
SPC_RULE_TEXT: Mapping[str, str] = MappingProxyType(
    {
        "outside_limits": "a week outside the process limits",
        "astronomical": "a week outside the process limits",
        "shift": "7 or more weeks in a row on one side of the mean",
        "trend": "7 or more weeks in a row moving the same way",
        "two_of_three": "2 of 3 weeks close to a process limit",
        "two_in_three": "2 of 3 weeks close to a process limit",
    }
)

ASSURANCE_TEXT: Mapping[str, str] = MappingProxyType(
    {
        "consistently_pass": "the process as it runs will consistently meet the standard",
        "consistently_fail": "the process as it runs will consistently fail the standard unless it changes",
        "hit_and_miss": "the process as it runs will sometimes meet and sometimes miss the standard",
        "process_changed": (
            "the process has changed; its limits will be recalculated when enough new points exist"
        ),
    }
)


def assurance_text(key: str | None) -> str | None:
    """What an SPC chart's assurance key means, in words; None for no key or one this version does
    not know (a newer analysis may add keys: the briefing then says nothing rather than guess)."""
    return None if key is None else ASSURANCE_TEXT.get(key)


def pct(x: float | None, *others: float | None) -> str:
    """0.1666 -> '17%'; None -> 'no data'. With ``others``, the values shown beside it, as many
    decimals (0 or 1) as tell them apart: ``pct(0.98, 0.975) == '98.0%'``. Never '100%' or '0%'
    unless exactly so: 0.9996 -> '99.96%' (engine.core.text.percents)."""
    return pcts([x, *others])[0]


def pcts(values: Sequence[float | None]) -> list[str]:
    """Rates shown together, each told apart from the others (:func:`pct`); None -> 'no data'."""
    return percents([math.nan if v is None else v for v in values])


def interval(low: float | None, high: float | None) -> str:
    """(0.34, 0.705) -> '34%-71%'; (0.972, 0.974) -> '97.2%-97.4%'."""
    if low is None or high is None:
        return "no data"
    return "-".join(pcts([low, high]))


def plain_number(x: float) -> str:
    """A measured value (not a rate): whole numbers plainly, others to one decimal place."""
    return f"{x:,.0f}" if abs(x - round(x)) < 0.05 else f"{x:,.1f}"


def period_text(start: str, end: str) -> str:
    """('2026-11-16', '2026-11-22') -> '16-22 November 2026' (spanning months or years as needed)."""
    a, b = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    if (a.year, a.month) == (b.year, b.month):
        return f"{a.day}-{b.day} {b:%B %Y}" if a != b else f"{b.day} {b:%B %Y}"
    if a.year == b.year:
        return f"{a.day} {a:%B} - {b.day} {b:%B %Y}"
    return f"{a.day} {a:%B %Y} - {b.day} {b:%B %Y}"


def measure_title(measure: str, names: Mapping[str, str]) -> str:
    """'D11' -> 'D11 Stop and search' when the measure's name is known."""
    name = names.get(measure)
    return f"{measure} {name}" if name else measure


def unit_for(e: PerformanceException, units: Mapping[str, str]) -> str:
    """What one of the exception's n is called: by its ruleset (the noun of the ruleset's case type,
    as a run gives it: several case types may feed one measure), else by measure, else incidents for
    an extract, else cases."""
    if e.ruleset in units:
        return units[e.ruleset]
    if e.measure in units:
        return units[e.measure]
    return "incidents" if e.kind is ExceptionKind.THRESHOLD else "cases"


#: units counted from quantitative extracts, not from QA reviewers' samples
EXTRACT_UNITS: frozenset[str] = frozenset({"incidents"})


def from_extract(e: PerformanceException, unit: str) -> bool:
    """Whether the exception's n comes from an extract (measured) rather than a reviewed sample."""
    return e.kind is ExceptionKind.THRESHOLD or unit in EXTRACT_UNITS


def reviewed_text(e: PerformanceException, unit: str) -> str:
    """'30 of 212 searches reviewed' when the sample frame is known, else '30 searches reviewed';
    '412 incidents measured' for an extract."""
    verb = "measured" if from_extract(e, unit) else "reviewed"
    if e.frame_size is not None:
        return f"{e.n:,} of {e.frame_size:,} {unit} {verb}"
    return f"{e.n:,} {unit} {verb}"


def tags_text(e: PerformanceException) -> str:
    """'PEEL: Legitimacy · I-SERVE: Engagement, Service'."""
    strands = ", ".join(s.replace("_", " ").capitalize() for s in e.iserve) or "none"
    return f"PEEL: {e.peel.replace('_', ' ').capitalize()} · I-SERVE: {strands}"


def value_format(e: PerformanceException) -> Callable[[float], str]:
    """Percentages for a compliance rate, plain numbers for a measured value (e.g. 101 answer seconds)."""
    fig = figure_of(e)
    if fig is not None:  # a declared metric says what it is: a share, or a time, rate or count
        return pct if fig.kind in ("proportion", "survey") else plain_number
    values = [p.value for p in e.chart.points if p.value is not None] if e.chart else []
    # a series decides for itself: a compliance series lies in 0..1, a measured one (seconds) does not
    return pct if all(0 <= v <= 1 for v in values) else plain_number


def evidence(e: PerformanceException, unit: str) -> tuple[tuple[str, str], ...]:
    """The evidence as (label, value) pairs, in reading order; only what the exception has."""
    rows: list[tuple[str, str]] = []
    # the rate, its interval and the standard are read together: 89.7% must not read as its 90% standard
    shown = [e.rate, e.standard] + ([e.ci_low, e.ci_high] if None not in (e.ci_low, e.ci_high) else [])
    rate_text, standard_text, *ci_text = pcts(shown)
    if e.n:
        rows.append(("Extract" if from_extract(e, unit) else "Sample", reviewed_text(e, unit)))
    if e.rate is not None:
        # a whole measure's figure counts the cases that met every applicable criterion of it
        met = "Met every criterion" if not e.criterion and not from_extract(e, unit) else "Met the criterion"
        rows.append((met, f"{e.passed:,} of {e.n:,} ({rate_text})"))
        rows.append(("95% interval", "-".join(ci_text) if ci_text else "no data"))
    elif e.chart is not None:
        weeks = [(p.week, p.value) for p in e.chart.points if p.value is not None]
        if weeks:
            rows.append((f"Latest week ({weeks[-1][0]})", value_format(e)(weeks[-1][1])))
    if e.standard is not None:
        rows.append(("Minimum standard", standard_text))
    return tuple(rows)


def spc_signal_text(rules: Sequence[str]) -> str:
    """('shift', 'trend') -> 'the signal: 7 or more weeks ...; 7 or more weeks ...'."""
    return "; ".join(SPC_RULE_TEXT.get(r, r.replace("_", " ")) for r in rules)


def kind_counts_text(exceptions: Sequence[PerformanceException]) -> str:
    """'5 exceptions: 1 critical failure, 2 below standard, 1 special cause, 1 threshold breach'."""
    return counts_text([sum(1 for e in exceptions if e.kind is k) for k in KIND_ORDER])


def counts_text(counts: Sequence[int]) -> str:
    """The same from counts by kind (in KIND_ORDER): [1, 2, 0, 0] -> '3 exceptions: 1 critical
    failure, 2 below standard'."""
    parts = kind_parts(counts)
    total = sum(counts)
    head = f"{total} exception{'s' if total != 1 else ''}"
    return f"{head}: {', '.join(parts)}" if parts else head


def kind_parts(counts: Sequence[int]) -> list[str]:
    """Counts by kind (in KIND_ORDER) in words, the kinds with none left out: [2, 0, 1, 0] ->
    ['2 critical failures', '1 special cause']."""
    parts = []
    for k, c in zip(KIND_ORDER, counts, strict=True):
        if c:
            label = KIND_LABELS[k].lower()
            parts.append(f"{c} {label}{'s' if c > 1 and k in _PLURAL_KINDS else ''}")
    return parts


_PLURAL_KINDS = (ExceptionKind.CRITICAL, ExceptionKind.THRESHOLD)


def case_types_text(
    by_type: Mapping[str, int], frames: Mapping[str, int] | None, labels: Mapping[str, str] | None = None
) -> str:
    """'stop searches 30 of 212, victim care 50' (frame sizes where known); each case type by the
    label its form declares (``labels``: {case type: label}), else its default words."""
    parts = []
    for t, n in by_type.items():
        label = (labels or {}).get(t) or default_words(t)[0]
        frame = (frames or {}).get(t)
        parts.append(f"{label} {n:,} of {frame:,}" if frame is not None else f"{label} {n:,}")
    return ", ".join(parts)


def shorten(text: str, size: int) -> str:
    """``text`` on one line, cut at a space before ``size`` characters with '…' (a table cell's excerpt;
    the cases CSV keeps the whole text)."""
    text = " ".join(text.split())
    if len(text) <= size:
        return text
    cut = text.rfind(" ", 0, size)
    return text[: cut if cut > size // 2 else size].rstrip(" ,;:") + "…"
