"""The queries for run manifests and their executions, and for what was stored after a run's cut-off
(an audit's "the data moved on"). Functions take the caller's session, or the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from engine.store.db import Assessment, Database, Incident, Run, RunExecution


def recorded_registry_heads(database: Database) -> list[str]:
    """The registry heads that run manifests recorded, so `verify` can detect deleted newest entries."""
    with database.session() as session:
        manifests = session.scalars(select(Run.manifest))
        return sorted({m["registry_head"] for m in manifests if m.get("registry_head")})


def record_run(
    session: Session,
    *,
    run_id: str,
    kind: str,
    command: str,
    arguments: Mapping[str, Any],
    engine_version: str,
    draft: bool,
    manifest: Mapping[str, Any],
    started_at: dt.datetime,
    finished_at: dt.datetime,
) -> None:
    """Store (or refresh) a run manifest and add this execution's times."""
    run = session.get(Run, run_id)
    if run is None:
        session.add(
            Run(
                run_id=run_id,
                kind=kind,
                command=command,
                arguments=dict(arguments),
                engine_version=engine_version,
                draft=draft,
                manifest=dict(manifest),
                first_run_at=started_at,
                last_run_at=finished_at,
            )
        )
    else:
        run.manifest = dict(manifest)
        run.last_run_at = finished_at
    session.flush()
    session.add(RunExecution(run_id=run_id, started_at=started_at, finished_at=finished_at))


def runs(session: Session) -> list[Run]:
    return list(session.scalars(select(Run).order_by(Run.last_run_at.desc(), Run.run_id)))


def run(session: Session, run_id: str) -> Run | None:
    found = session.get(Run, run_id)
    if found is None and len(run_id) >= 4:
        matches = list(session.scalars(select(Run).where(Run.run_id.startswith(run_id))))
        found = matches[0] if len(matches) == 1 else None
    return found


def run_executions(session: Session, run_id: str) -> list[RunExecution]:
    return list(
        session.scalars(
            select(RunExecution).where(RunExecution.run_id == run_id).order_by(RunExecution.started_at)
        )
    )


def runs_matching(session: Session, prefix: str) -> list[Run]:
    """Runs whose id is ``prefix`` or starts with it (an exact id first), for resolving what a user typed."""
    exact = session.get(Run, prefix)
    if exact is not None:
        return [exact]
    return list(session.scalars(select(Run).where(Run.run_id.startswith(prefix)).order_by(Run.run_id)))


def execution_counts(session: Session) -> dict[str, int]:
    """How many times each run id was executed."""
    q = select(RunExecution.run_id, func.count()).group_by(RunExecution.run_id)
    return {run_id: int(n) for run_id, n in session.execute(q)}


# --------------------------------------------------------------------------- audits: data as it stood


@dataclass(frozen=True)
class InputChanges:
    """What was stored after a cut-off among the rows a run read: by how many the data moved on."""

    assessments_added: int
    assessments_amended: int
    incidents_loaded: int

    @property
    def any(self) -> bool:
        return bool(self.assessments_added or self.assessments_amended or self.incidents_loaded)


def changes_since(
    session: Session,
    cutoff: dt.datetime,
    *,
    date_from: dt.date,
    date_to: dt.date,
    received_from: dt.datetime | None = None,
    received_to: dt.datetime | None = None,
) -> InputChanges:
    """Non-calibration assessment revisions assessed in [date_from, date_to] and submitted after
    ``cutoff`` (first revisions count as added, later ones as amended), and incidents received in
    [received_from, received_to) loaded or reloaded after it (None: incidents are not counted)."""
    later = select(
        func.count(), func.coalesce(func.sum(case((Assessment.revision == 1, 1), else_=0)), 0)
    ).where(
        Assessment.submitted_at > cutoff,
        Assessment.calibration_set.is_(None),
        Assessment.assessed_on >= date_from,
        Assessment.assessed_on <= date_to,
    )
    total, added = session.execute(later).one()
    incidents = 0
    if received_from is not None and received_to is not None:
        incidents = int(
            session.scalar(
                select(func.count())
                .select_from(Incident)
                .where(
                    Incident.loaded_at > cutoff,
                    Incident.received_at >= received_from,
                    Incident.received_at < received_to,
                )
            )
            or 0
        )
    return InputChanges(int(added), int(total) - int(added), incidents)
