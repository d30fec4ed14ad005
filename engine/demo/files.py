"""The demo's source files, as a force would receive them: the generated assessments as one
submission CSV per ISO week, and the incidents as one extract CSV per week."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from engine.core.config import Place
from engine.core.periods import week_label
from engine.demo.data import SEED, DemoPlan, generate_assessments
from engine.demo.incidents import generate_incidents, incidents_csv
from engine.demo.incidents_quiet import Figures, history_of, quiet_place_week
from engine.inputs.submission_files import write_submission_csv

#: the place whose Grade 1 attendance drifts, and over how many of the plan's last weeks
DRIFT_PLACE = "DLW"
DRIFT_WEEKS = 8


def write_assessment_files(folder: Path, places: Sequence[Place], plan: DemoPlan) -> tuple[list[Path], int]:
    """Every week's generated assessments as folder/assessments-<week>.csv: (the files, oldest week
    first; how many assessments they hold)."""
    by_week: dict[str, list[dict[str, Any]]] = {}
    n = 0
    for row in generate_assessments(places, plan):
        by_week.setdefault(week_label(dt.date.fromisoformat(str(row["assessed_on"]))), []).append(row)
        n += 1
    files = []
    for label, week_rows in sorted(by_week.items()):
        path = folder / f"assessments-{label}.csv"
        write_submission_csv(path, week_rows)
        files.append(path)
    return files, n


def incident_files(folder: Path, places: Sequence[Place], plan: DemoPlan, *, per_week: int) -> Iterator[Path]:
    """Each week's generated incidents as folder/incidents-<week>.csv, a week's file written just
    before it is yielded (so that it can be loaded before the next week is generated). The latest
    week's are drawn so that no place's response figures signal by chance (engine.demo.incidents_quiet)."""
    drift_from = plan.weeks[max(0, len(plan.weeks) - DRIFT_WEEKS)]
    earlier: dict[str, list[Figures]] = {p.code: [] for p in places}
    for monday in plan.weeks:
        seed = SEED + monday.toordinal()
        if monday == plan.weeks[-1] and len(plan.weeks) > 1:
            drift = (monday - drift_from).days // 7 + 1
            per_place = max(1, per_week // len(places))
            rows = [
                row
                for place in places
                for row in quiet_place_week(
                    place,
                    monday,
                    per_place,
                    seed,
                    earlier[place.code],
                    drift=drift if place.code == DRIFT_PLACE else 0.0,
                )
            ]
        else:
            rows = list(
                generate_incidents(
                    places,
                    [monday],
                    per_week=per_week,
                    seed=seed,
                    drift_place=DRIFT_PLACE,
                    drift_from=drift_from,
                )
            )
            for code, figures in history_of(rows, places).items():
                earlier[code].append(figures)
        path = folder / f"incidents-{week_label(monday)}.csv"
        path.write_text(incidents_csv(rows), encoding="utf-8")
        yield path
