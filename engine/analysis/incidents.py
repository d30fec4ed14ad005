"""Incident extracts framed with each response standard's metric worked out per incident, and the
response standards' figures of a period as incident_metrics.csv holds them (a weekly run's and a
PEEL rerun's)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.analysis import daily
from engine.analysis.aggregate import FORCE_KEY
from engine.analysis.frames import as_frame, category, week_labels
from engine.analysis.tables import records
from engine.core.periods import Period
from engine.inputs.extracts import (
    CALL101_SECONDS,
    CALL999_ANSWERED,
    G1_ATTENDED,
    G2_ATTENDED,
    METRIC_INPUT_COLUMNS,
    ResponseSettings,
)
from engine.rules.catalogue import MeasureCatalogue


def incidents_frame(
    incidents: Any, place_settings: Mapping[str, str], settings: ResponseSettings | None = None
) -> pd.DataFrame:
    """Incidents (IncidentRow objects, rows, columns or a DataFrame holding METRIC_INPUT_COLUMNS;
    tuples in that order) with each metric worked out: ``place`` (categorical), ``week`` (ISO week
    of received_at), ``received_day``, and per proportion metric
    ``<metric>__applicable`` / ``<metric>__passed``, plus ``call101_answer_seconds`` (NaN unless an
    answered 101 call). ``place_settings`` maps place code -> "urban" | "rural" (force file).
    Grade 1/2 incidents not attended count as not attended within the standard; 999 calls not
    answered count as not answered within 10 s; unanswered 101 calls have no answer time.
    Time-zone-aware timestamps are compared in UTC, and their week is the UTC week.
    """
    s = settings or ResponseSettings()
    df = as_frame(incidents, METRIC_INPUT_COLUMNS, "incidents")
    out = pd.DataFrame({"place": category(df["place"])})
    stamps = {
        c: pd.to_datetime(df[c], utc=True, format="ISO8601")
        for c in ("received_at", "answered_at", "arrived_at")
    }
    received = stamps["received_at"]
    out["received_day"] = received.dt.tz_localize(None).dt.normalize()
    out["week"] = week_labels(out["received_day"])
    grade = pd.to_numeric(df["grade"]).to_numpy()
    channel = df["channel"].astype(str).to_numpy()
    answer_s = (stamps["answered_at"] - received).dt.total_seconds().to_numpy()
    arrive_s = (stamps["arrived_at"] - received).dt.total_seconds().to_numpy()

    unknown = set(out["place"].cat.categories) - set(place_settings)
    if unknown:
        raise ValueError(f"no urban/rural setting for place(s) {', '.join(sorted(unknown))}")
    g1_limit = np.asarray([s.g1_minutes(place_settings[p]) * 60 for p in out["place"].cat.categories])
    limit = g1_limit[out["place"].cat.codes.to_numpy()] if len(out) else np.empty(0)
    with np.errstate(invalid="ignore"):
        out[G1_ATTENDED + "__applicable"] = grade == 1
        out[G1_ATTENDED + "__passed"] = (grade == 1) & (arrive_s <= limit)
        out[G2_ATTENDED + "__applicable"] = grade == 2
        out[G2_ATTENDED + "__passed"] = (grade == 2) & (arrive_s <= s.g2_minutes * 60)
        out[CALL999_ANSWERED + "__applicable"] = channel == "999"
        out[CALL999_ANSWERED + "__passed"] = (channel == "999") & (answer_s <= s.call999_seconds)
    out[CALL101_SECONDS] = np.where(channel == "101", answer_s, np.nan)
    return out


@dataclass(frozen=True)
class IncidentMetrics:
    """The incident metrics of a period and of its parts (a PEEL rerun's quarters), worked out once
    from the day summaries: for each span, by (FORCE, metric) and by (place code, metric), the rows of
    daily.incident_metrics (NaN as None; only metrics with incidents)."""

    labels: tuple[str, ...]
    force: tuple[dict[tuple[str, str], dict[str, Any]], ...]
    places: tuple[dict[tuple[str, str], dict[str, Any]], ...]

    @classmethod
    def of(cls, days: daily.Days, spans: Sequence[Period]) -> IncidentMetrics:
        """From the day summaries (any days: those of ``spans[0]``, the whole period, are used) for
        the whole period ``spans[0]`` and its parts ``spans[1:]``."""
        days = daily.between(days, spans[0].start, spans[0].end)

        def rows(p: Period, pool: str | None) -> dict[tuple[str, str], dict[str, Any]]:
            table = daily.incident_metrics(daily.between(days, p.start, p.end), p.label, pool=pool)
            return {(r["place"], r["metric"]): r for r in records(table)}

        return cls(
            tuple(p.label for p in spans),
            tuple(rows(p, FORCE_KEY) for p in spans),
            tuple(rows(p, None) for p in spans),
        )


def incident_metric_rows(
    metrics: IncidentMetrics, thresholds: Sequence[Mapping[str, Any]], catalogue: MeasureCatalogue
) -> list[dict[str, Any]] | None:
    """incident_metrics.csv's rows (daily.INCIDENT_METRIC_COLUMNS), the same for a weekly run and a
    PEEL rerun: for each span in turn, every response standard (``thresholds``: rows with ruleset,
    criterion, metric and measure, as runs.context.metric_rows gives them) in the order a report
    shows them (by PEEL pillar, then measure in catalogue order), at force level, then each place
    with any incident it counts (by code). A proportion has n, passes, rate and its Wilson interval;
    the 101 answer time n answered calls, the median and 90th percentile seconds, and no passes or
    rate. None when no response standard is in force (no file then)."""
    if not thresholds:
        return None
    order = [m.id for p in catalogue.peel_pillars for m in catalogue.measures.values() if m.peel == p]
    thresholds = [t for mid in order for t in thresholds if t["measure"] == mid]
    out: list[dict[str, Any]] = []
    for label, force, places in zip(metrics.labels, metrics.force, metrics.places, strict=True):
        for t in thresholds:
            metric = str(t["metric"])
            cells = [("force", "", force.get((FORCE_KEY, metric)))]
            cells += [("place", code, places[(code, of)]) for code, of in sorted(places) if of == metric]
            for level, place, row in cells:
                if row is None or not row["n"]:
                    continue
                measured = metric == CALL101_SECONDS
                out.append(
                    {
                        "period": label,
                        "level": level,
                        "place": place,
                        "key": place or FORCE_KEY,
                        "ruleset": t["ruleset"],
                        "criterion": t["criterion"],
                        "metric": metric,
                        "n": int(row["n"]),
                        "passes": None if measured else int(row["passes"]),
                        "rate": None if measured else row["rate"],
                        "ci_low": None if measured else row["ci_low"],
                        "ci_high": None if measured else row["ci_high"],
                        "median_seconds": row["median"] if measured else None,
                        "p90_seconds": row["p90"] if measured else None,
                    }
                )
    return out
