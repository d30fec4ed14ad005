"""Incident extracts framed with each response standard's metric worked out per incident, and the
response standards' figures of a period as incident_metrics.csv holds them (a weekly run's and a
PEEL rerun's)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from engine.analysis import daily
from engine.analysis.aggregate import FORCE_KEY
from engine.analysis.frames import as_frame, category, week_labels
from engine.analysis.incident_days import NO_TEAM
from engine.analysis.incident_figures import Pooled, pooled_rows, table
from engine.analysis.tables import records
from engine.core.metrics import INCIDENT_METRICS, METRIC_UNITS, PROPORTION
from engine.core.periods import Period
from engine.inputs.extracts import (
    CALL101_SECONDS,
    CALL999_ANSWERED,
    CALL999_SECONDS,
    G1_ATTENDED,
    G1_MINUTES,
    G2_ATTENDED,
    G2_MINUTES,
    G3_ATTENDED,
    G3_MINUTES,
    METRIC_INPUT_COLUMNS,
    TEAM,
    ResponseSettings,
)
from engine.rules.catalogue import MeasureCatalogue


def incidents_frame(
    incidents: Any, place_settings: Mapping[str, str], settings: ResponseSettings | None = None
) -> pd.DataFrame:
    """Incidents (IncidentRow objects, rows, columns or a DataFrame holding METRIC_INPUT_COLUMNS and
    optionally ``team``; tuples in METRIC_INPUT_COLUMNS order) with each metric worked out:
    ``place`` and ``team`` (categorical; "" for no team), ``week`` (ISO week of received_at),
    ``received_day``, per proportion metric ``<metric>__applicable`` / ``<metric>__passed``, and per
    time metric ``<metric>``: the attendance time in minutes of an attended incident of its grade,
    or the answer time in seconds of an answered call on its channel, NaN otherwise; times are
    whole seconds (rounded to the nearest, half a second up). ``place_settings`` maps place code ->
    "urban" | "rural" (force file). Grade 1, 2 and 3 incidents not attended count as not attended
    within the standard; 999 calls not answered count as not answered within 10 s. Time-zone-aware
    timestamps are compared in UTC, and their week is the UTC week.
    """
    s = settings or ResponseSettings()
    df = as_frame(incidents, METRIC_INPUT_COLUMNS, "incidents")
    out = pd.DataFrame({"place": category(df["place"])})
    if TEAM in df.columns:  # None (as stored) or "" (as written): no team
        out["team"] = category(df[TEAM])
    else:
        out["team"] = pd.Categorical.from_codes(np.zeros(len(df), dtype=np.int8), pd.Index([NO_TEAM]))
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
        out[G3_ATTENDED + "__applicable"] = grade == 3
        out[G3_ATTENDED + "__passed"] = (grade == 3) & (arrive_s <= s.g3_hours * 3600)
        out[CALL999_ANSWERED + "__applicable"] = channel == "999"
        out[CALL999_ANSWERED + "__passed"] = (channel == "999") & (answer_s <= s.call999_seconds)
    whole_answer = np.floor(answer_s + 0.5)
    whole_arrive = np.floor(arrive_s + 0.5) / 60
    for metric, of in ((G1_MINUTES, grade == 1), (G2_MINUTES, grade == 2), (G3_MINUTES, grade == 3)):
        out[metric] = np.where(of, whole_arrive, np.nan)
    out[CALL999_SECONDS] = np.where(channel == "999", whole_answer, np.nan)
    out[CALL101_SECONDS] = np.where(channel == "101", whole_answer, np.nan)
    return out


@dataclass(frozen=True)
class IncidentMetrics:
    """The incident metrics of a period and of its parts (a PEEL rerun's quarters), worked out once
    from the day summaries: for each span, by (FORCE, metric), by (place code, metric) and by (place
    code, team, metric) for each named team, the rows of daily.incident_metrics (NaN as None; only
    metrics with incidents)."""

    labels: tuple[str, ...]
    force: tuple[dict[tuple[str, str], dict[str, Any]], ...]
    places: tuple[dict[tuple[str, str], dict[str, Any]], ...]
    teams: tuple[dict[tuple[str, str, str], dict[str, Any]], ...] = ()

    @classmethod
    def of(cls, days: daily.Days, spans: Sequence[Period]) -> IncidentMetrics:
        """From the day summaries (any days: those of ``spans[0]``, the whole period, are used) for
        the whole period ``spans[0]`` and its parts ``spans[1:]`` (pooled once, when the parts
        cover the whole without overlapping, as a PEEL rerun's quarters do)."""
        days = daily.between(days, spans[0].start, spans[0].end)

        def pooled(p: Period) -> Pooled:
            return Pooled.of((c for d, c in sorted(days.items()) if p.start <= d <= p.end), flatten=True)

        parts = [pooled(p) for p in spans[1:]]
        tiled = [(p.start, p.end) for p in spans[1:]]
        covers = (
            bool(tiled)
            and tiled[0][0] <= spans[0].start
            and tiled[-1][1] >= spans[0].end
            and all(a[1] + timedelta(days=1) == b[0] for a, b in zip(tiled, tiled[1:], strict=False))
        )
        whole = Pooled.combine(parts, flatten=True) if covers else pooled(spans[0])
        force, places, teams = [], [], []
        for p, of in zip(spans, [whole, *parts], strict=True):
            pooled_force = records(table(pooled_rows(of, p.label, pool=FORCE_KEY)))
            force.append({(r["place"], r["metric"]): r for r in pooled_force})
            rows = records(table(pooled_rows(of, p.label, teams=True)))
            places.append({(r["place"], r["metric"]): r for r in rows if r["team"] == NO_TEAM})
            teams.append({(r["place"], r["team"], r["metric"]): r for r in rows if r["team"] != NO_TEAM})
        return cls(tuple(p.label for p in spans), tuple(force), tuple(places), tuple(teams))


def _csv_row(row: Mapping[str, Any], metric: str) -> dict[str, Any]:
    """The figures of one incident metrics row as incident_metrics.csv has them."""
    n = int(row["n"])
    if INCIDENT_METRICS[metric].kind == PROPORTION:
        return {"n": n, "passes": int(row["passes"]), "rate": row["rate"], "ci_low": row["ci_low"],
                "ci_high": row["ci_high"], "mean": None, "median": None, "p90": None}  # fmt: skip
    return {"n": n, "passes": None, "rate": None, "ci_low": row["ci_low"], "ci_high": row["ci_high"],
            "mean": row["mean"], "median": row["median"], "p90": row["p90"]}  # fmt: skip


def incident_metric_rows(
    metrics: IncidentMetrics, thresholds: Sequence[Mapping[str, Any]], catalogue: MeasureCatalogue
) -> list[dict[str, Any]] | None:
    """incident_metrics.csv's rows (daily.INCIDENT_METRIC_COLUMNS), the same for a weekly run and a
    PEEL rerun: for each span in turn, every response standard (``thresholds``: rows with ruleset,
    criterion, metric and measure, as runs.context.metric_rows gives them; those on metrics of
    other extracts are left out) in the order a report shows them (by PEEL pillar, then measure in
    catalogue order), at force level, then each place with any incident it counts (by code), each
    followed by its named teams (by name). A proportion has n, passes, rate and its Wilson interval;
    a time n (incidents attended, calls answered), the mean with its t interval in ci_low/ci_high,
    the median and 90th percentile, in its unit, and no passes or rate. None when no response
    standard is in force (no file then)."""
    thresholds = [t for t in thresholds if t["metric"] in INCIDENT_METRICS]
    if not thresholds:
        return None
    order = [m.id for p in catalogue.peel_pillars for m in catalogue.measures.values() if m.peel == p]
    thresholds = [t for mid in order for t in thresholds if t["measure"] == mid]
    teams = metrics.teams or tuple({} for _ in metrics.labels)
    out: list[dict[str, Any]] = []
    for label, force, places, of_teams in zip(
        metrics.labels, metrics.force, metrics.places, teams, strict=True
    ):
        for t in thresholds:
            metric = str(t["metric"])
            cells = [("force", "", FORCE_KEY, force.get((FORCE_KEY, metric)))]
            for code in sorted(code for code, of in places if of == metric):
                cells.append(("place", code, code, places[(code, metric)]))
                named = sorted(team for place, team, of in of_teams if place == code and of == metric)
                cells += [("team", code, team, of_teams[(code, team, metric)]) for team in named]
            for level, place, key, row in cells:
                if row is None or not row["n"]:
                    continue
                out.append(
                    {
                        "period": label,
                        "level": level,
                        "place": place,
                        "key": key,
                        "ruleset": t["ruleset"],
                        "criterion": t["criterion"],
                        "metric": metric,
                        "unit": METRIC_UNITS[metric],
                        **_csv_row(row, metric),
                    }
                )
    return out
