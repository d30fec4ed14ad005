"""`qam officers`: one short PDF per officer with a role (the key aspects of the role over a period,
docs/outputs.md#officer-summaries) and officers.csv for Power BI, written at once into
``<out>/officers-<from>-<to>/`` (a sibling folder renamed into place, as a weekly run's)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.analysis.officers import CSV_COLUMNS, OfficerSummaries, csv_rows, officer_summaries
from engine.analysis.tables import write_rows_csv
from engine.core.config import Settings, load_force
from engine.core.errors import UsageError
from engine.core.roles import Roles, check_aspects, load_roles
from engine.core.text import slug
from engine.inputs.forms import load_forms
from engine.reports.officer_pdf import officer_pdf
from engine.runs.context import RunContext, run_context
from engine.runs.gather import outcome_basis, read_outcomes
from engine.runs.manifest import write_outputs
from engine.runs.scoring import score_pending
from engine.store.db import Database
from engine.store.schema import initialised

CSV_NAME = "officers.csv"


@dataclass(frozen=True)
class OfficersResult:
    """What `qam officers` wrote: the folder, each officer's PDF file name, and who had no role."""

    folder: Path
    files: dict[str, str]  # officer -> PDF file name
    summaries: OfficerSummaries
    scored: int


def folder_name(date_from: dt.date, date_to: dt.date) -> str:
    if date_to < date_from:
        raise UsageError(f"--to {date_to.isoformat()} is before --from {date_from.isoformat()}")
    return f"officers-{date_from.isoformat()}-{date_to.isoformat()}"


def file_names(officers: list[str]) -> dict[str, str]:
    """Each officer's PDF name, made safe ('PC 1000' -> 'pc-1000.pdf'); two officers whose names
    make the same name each get a short hash of their own name added."""
    plain = {o: slug(o) for o in officers}
    taken: dict[str, int] = {}
    for name in plain.values():
        taken[name] = taken.get(name, 0) + 1
    return {
        o: f"{n}.pdf" if taken[n] == 1 else f"{n}-{hashlib.sha256(o.encode('utf-8')).hexdigest()[:8]}.pdf"
        for o, n in plain.items()
    }


def run_officers(
    database: Database,
    context: RunContext,
    roles: Roles,
    date_from: dt.date,
    date_to: dt.date,
    out: Path,
    *,
    now: Callable[[], dt.datetime],
) -> OfficersResult:
    """Score what is new up to ``date_to``, read the period's official outcome rows and write every
    officer's summary PDF and officers.csv. The roles' aspects are checked against the rulesets and
    extract definitions in use first (file:line problems, nothing written)."""
    target = out / folder_name(date_from, date_to)
    criteria = {f"{r.id}/{c.id}": c.text for r in context.assessment_rulesets for c in r.criteria}
    metrics = {m.id: m.text for m in context.extracts.metrics.values()} if context.extracts else {}
    check_aspects(roles, criteria, metrics)
    scored = score_pending(database, context, until=date_to, scored_at=now()).summary
    division = {p.code: p.division for p in context.force.places}
    with database.session() as session:
        rows = read_outcomes(
            session, outcome_basis(context).versions, draft=context.draft, division=division,
            first=date_from, last=date_to,
        )  # fmt: skip
    summaries = officer_summaries(rows.columns, roles, criteria, metrics)
    names = file_names([s.officer for s in summaries.summaries])
    place_names = {p.code: p.name for p in context.force.places}

    def build(folder: Path) -> None:
        write_rows_csv(csv_rows(summaries.summaries), CSV_COLUMNS, folder / CSV_NAME)
        for s in summaries.summaries:
            pdf = officer_pdf(
                s,
                date_from=date_from,
                date_to=date_to,
                place_name=place_names.get(s.place, s.place),
                min_cases=summaries.min_cases,
            )
            (folder / names[s.officer]).write_bytes(pdf)

    write_outputs(target, build)
    return OfficersResult(target, names, summaries, scored.total)


def officers_run(
    settings: Settings, date_from: dt.date, date_to: dt.date, out: Path, *, now: Callable[[], dt.datetime]
) -> OfficersResult:
    """`qam officers`: the roles file read and checked, then run_officers under the published
    rulesets, catalogue and extract definitions (unpublished edits refused, as an official run's)."""
    folder_name(date_from, date_to)  # a backward period is refused before anything is read
    roles = load_roles(settings.roles_file)
    force, forms = load_force(settings.force_file), load_forms(settings.forms_dir)
    with initialised(settings.database_url) as database:
        context = run_context(database, settings, force, forms, draft=False)
        return run_officers(database, context, roles, date_from, date_to, out, now=now)
