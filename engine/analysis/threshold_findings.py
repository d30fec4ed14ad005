"""Threshold exceptions: a place's share of incidents meeting a response standard (Grade 1 and 2
attendance, 999 answering), whose whole interval misses the standard; or a SmallSample.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.analysis import daily
from engine.analysis.evidence import Catalogue, RateCheck, SmallSample
from engine.analysis.reasons import reason
from engine.analysis.tables import records
from engine.core.metrics import PROPORTION_METRICS
from engine.core.models import ExceptionKind, PerformanceException
from engine.inputs.extracts import CALL999_ANSWERED, G1_ATTENDED, G2_ATTENDED, ResponseSettings


def _metric_phrase(
    metric: str, place: str, place_settings: Mapping[str, str], response: ResponseSettings
) -> tuple[str, str]:
    """(what was achieved, unit noun) for a proportion metric's reason."""
    if metric == G1_ATTENDED:
        setting = place_settings.get(place)
        within = f"{response.g1_minutes(setting):g} minutes" if setting else "the standard time"
        return f"Grade 1 incidents were attended within {within}", "incidents"
    if metric == G2_ATTENDED:
        return f"Grade 2 incidents were attended within {response.g2_minutes:g} minutes", "incidents"
    if metric == CALL999_ANSWERED:
        return f"999 calls were answered within {response.call999_seconds:g} seconds", "calls"
    return metric, "incidents"


def thresholds(
    incidents: daily.Days,
    standards: Sequence[Mapping[str, Any]],
    cat: Catalogue,
    place_settings: Mapping[str, str],
    response: ResponseSettings,
    min_cases: int,
    latest_week: str,
) -> tuple[list[PerformanceException], list[SmallSample]]:
    """threshold exceptions of the period's incident day summaries, for the proportion metrics with a
    minimum in ``standards``; the shortfalls too small to be sure of as SmallSample."""
    by_metric = {
        s["metric"]: s
        for s in standards
        if s.get("minimum") is not None and s["metric"] in PROPORTION_METRICS
    }
    out: list[PerformanceException] = []
    notes: list[SmallSample] = []
    if not by_metric or not incidents:
        return out, notes
    for row in records(daily.incident_metrics(incidents, period=latest_week)):
        spec = by_metric.get(row["metric"])
        if spec is None or not row["n"]:
            continue
        rate = RateCheck(
            row["place"], str(spec["ruleset"]), str(spec["criterion"]), str(spec["measure"]), int(row["n"]),
            int(row["passes"]), row["rate"], row["ci_low"], row["ci_high"], float(spec["minimum"]),
            str(spec.get("direction") or "higher"),
        )  # fmt: skip
        verdict = rate.verdict(min_cases)
        what, noun = _metric_phrase(row["metric"], row["place"], place_settings, response)
        if verdict == "short":
            notes.append(rate.small_sample(what, noun, "small_sample_extract"))
        elif verdict == "breach":
            out.append(
                rate.exception(
                    ExceptionKind.THRESHOLD,
                    reason("threshold", **rate.facts(what, noun)),
                    meta=spec,
                    cases=(),
                    criterion_text=str(spec.get("text") or what),
                    **cat.tags(rate.measure, spec),
                )
            )
    return out, notes
