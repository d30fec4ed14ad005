"""Exceptions from the QA reviewers' criteria: every failure of a critical criterion, and a place's
rate on a criterion whose whole interval misses its minimum (below_standard; or a SmallSample).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from engine.analysis.evidence import (
    Catalogue,
    RateCheck,
    SmallSample,
    case_details,
    group_rows,
    guidance_of,
    unique,
)
from engine.analysis.outcomes import Outcomes, failures
from engine.analysis.reasons import case_noun, reason
from engine.analysis.tables import records
from engine.core.models import ExceptionKind, PerformanceException


def criterion_cells(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The place x criterion rows of an aggregate table (aggregate.aggregate), as dict rows."""
    chosen = table[(table["level"] == "place").to_numpy() & (table["dimension"] == "criterion").to_numpy()]
    return records(chosen)


def critical_failures(
    period: Outcomes,
    cells: list[dict[str, Any]],
    cat: Catalogue,
    frames: Mapping[tuple[str, str], int],
) -> list[PerformanceException]:
    """One critical exception per (place, criterion) with failures in the period, listing every
    failing case; ``cells`` are the period's place x criterion rows (:func:`criterion_cells`)."""
    counts = {(c["place"], c["ruleset"], c["dimension_key"]): c for c in cells}
    out: list[PerformanceException] = []
    for (place, ruleset, criterion), rows in group_rows(
        failures(period, critical=True), "place", "ruleset", "criterion"
    ).items():
        meta = cat.criteria[(ruleset, criterion)]
        cell = counts[(place, ruleset, criterion)]
        refs = unique(r["case_ref"] for r in rows)
        shown = ", ".join(refs[:3]) + (f" and {len(refs) - 3} more" if len(refs) > 3 else "")
        cases_text = f"case {refs[0]}" if len(refs) == 1 else f"{len(refs)} cases ({shown})"
        out.append(
            PerformanceException(
                place=place,
                ruleset=ruleset,
                criterion=criterion,
                kind=ExceptionKind.CRITICAL,
                reason=reason("critical", what=meta["text"], cases_text=cases_text),
                n=int(cell["n"]),
                passed=int(cell["passes"]),
                rate=cell["rate"],
                ci_low=cell["ci_low"],
                ci_high=cell["ci_high"],
                standard=meta["minimum"],
                cases=refs,
                criterion_text=meta["text"],
                details=case_details(rows),
                frame_size=frames.get((place, ruleset)),
                guidance=guidance_of(meta),
                **cat.tags(meta["measure"], meta),
            )
        )
    return out


def below_standard(
    period: Outcomes,
    cells: list[dict[str, Any]],
    cat: Catalogue,
    min_cases: int,
    frames: Mapping[tuple[str, str], int],
) -> tuple[list[PerformanceException], list[SmallSample]]:
    """below_standard exceptions of the non-critical criteria with a minimum, from the period's place
    x criterion ``cells``; the shortfalls too small to be sure of (or under ``min_cases``) as SmallSample."""
    judged: list[tuple[RateCheck, str, dict[str, Any]]] = []
    for c in cells:
        meta = cat.criteria[(c["ruleset"], c["dimension_key"])]
        if meta["minimum"] is None or meta["critical"] or not c["n"]:
            continue
        rate = RateCheck(
            c["place"], c["ruleset"], c["dimension_key"], meta["measure"], int(c["n"]), int(c["passes"]),
            c["rate"], c["ci_low"], c["ci_high"], float(meta["minimum"]), meta["direction"],
        )  # fmt: skip
        verdict = rate.verdict(min_cases)
        if verdict:
            judged.append((rate, verdict, meta))
    wanted = [(r.place, r.ruleset, r.criterion) for r, _, _ in judged]
    fails = group_rows(failures(period, cells=wanted), "place", "ruleset", "criterion")

    out: list[PerformanceException] = []
    notes: list[SmallSample] = []
    for rate, verdict, meta in judged:
        rows = fails.get((rate.place, rate.ruleset, rate.criterion), [])
        noun = case_noun(meta, rows)
        if verdict == "short":
            notes.append(rate.small_sample(meta["text"], noun, "small_sample"))
            continue
        template = "below_standard" if rate.direction == "higher" else "below_standard_max"
        out.append(
            rate.exception(
                ExceptionKind.BELOW_STANDARD,
                reason(template, **rate.facts(meta["text"], noun)),
                meta=meta,
                cases=unique(r["case_ref"] for r in rows),
                criterion_text=meta["text"],
                details=case_details(rows),
                frame_size=frames.get((rate.place, rate.ruleset)),
                **cat.tags(meta["measure"], meta),
            )
        )
    return out, notes
