"""Incident extracts framed with each response standard's metric worked out per incident."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from engine.analysis.frames import as_frame, category, week_labels
from engine.inputs.extracts import (
    CALL101_SECONDS,
    CALL999_ANSWERED,
    G1_ATTENDED,
    G2_ATTENDED,
    METRIC_INPUT_COLUMNS,
    ResponseSettings,
)


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
