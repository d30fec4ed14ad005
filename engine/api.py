"""The library facade: every CLI command is a few lines over one function here; tests call them too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.core.config import DEFAULT_OUT_DIR, Force, Settings, load_force
from engine.core.errors import UsageError
from engine.core.models import FieldSpec
from engine.core.periods import parse_week
from engine.demo import data as demo_data
from engine.inputs.cases import read_cases
from engine.inputs.extracts import read_incidents
from engine.inputs.forms import Form, load_forms
from engine.inputs.submissions import validate_submission
from engine.runs import actions as actions  # qam actions add|list|close (engine.cli.actions)
from engine.runs import records
from engine.runs import review_command as review_command  # qam review (engine.cli.review)
from engine.runs.figures_load import load_figures_extracts as load_figures_extracts  # several: all or none
from engine.sampling import jobs
from engine.sampling.population import LoadCasesResult, load_cases
from engine.sampling.worklists import SampleStatus, sample_status
from engine.store import assessments, figures, incidents, integrity, schema
from engine.store import db as dbm
from engine.store.assessment_lines import AssessmentLine as AssessmentLine  # named by the CLI
from engine.store.assessment_lines import AssessmentRevision, assessment_lines, revisions_of
from engine.store.schema import InitResult, initialise

# A command imports the heavier modules only it needs inside its function, so that `qam submit` does
# not load pandas or reportlab and `qam weekly` does not load openpyxl, faker or statsmodels.
if TYPE_CHECKING:
    from engine import registry
    from engine.demo.database import DemoData
    from engine.rules.rulesets import Ruleset
    from engine.runs import delivery
    from engine.runs import dry_run as dry_runs
    from engine.runs import peel as peel_run
    from engine.runs.audit_report import AuditReport
    from engine.runs.context import RunContext
    from engine.runs.officers import OfficersResult
    from engine.runs.scoring import ScoreSummary

    # named by the command line (engine.cli.weekly), which imports only engine.api and engine.core
    from engine.runs.weekly import RunResult as RunResult


def open_db(settings: Settings, *, require_current: bool = True) -> dbm.Database:
    """Open the configured database; by default refuse one that `qam init` has not prepared."""
    return schema.open_initialised(settings.database_url, require=require_current)


def init_database(settings: Settings) -> InitResult:
    """Check the force file, then create or upgrade the database schema; safe to run twice (qam init)."""
    load_force(settings.force_file)  # a bad force file is reported before anything is written
    return initialise(settings.database_url)


def force(settings: Settings) -> Force:
    """The force configuration in use (validated)."""
    return load_force(settings.force_file)


def database_for(settings: Settings) -> AbstractContextManager[dbm.Database]:
    """The configured, initialised database, closed afterwards."""
    return schema.initialised(settings.database_url)


def now() -> dt.datetime:
    """The wall clock, in UTC: used only for what is recorded in the database, never in output files."""
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------- QA forms


def forms(settings: Settings) -> dict[str, Form]:
    """The QA forms in use, by case type. Example: qam forms list"""
    return load_forms(settings.forms_dir)


def form(settings: Settings, case_type: str) -> Form:
    """One QA form; an unknown case type names the known ones. Example: qam forms show stop_search"""
    known = forms(settings)
    if case_type not in known:
        raise UsageError(f"unknown case type '{case_type}' (known: {', '.join(sorted(known))})")
    return known[case_type]


def fields_by_case_type(settings: Settings) -> dict[str, Mapping[str, FieldSpec]]:
    return {case_type: f.field_specs() for case_type, f in forms(settings).items()}


def template(settings: Settings, case_type: str, fmt: str, out: Path | None) -> Path:
    """Write an empty submission template. Example: qam forms template stop_search --format xlsx"""
    from engine.inputs.templates import write_template

    chosen = form(settings, case_type)
    target = out or Path(f"{case_type}-template.{fmt}")
    return write_template(chosen, fmt, target, place_codes=force(settings).place_codes)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- rulesets and the registry


def check_rulesets(settings: Settings, path: Path | None = None) -> list[Ruleset]:
    """Validate ruleset files without a database. Example: qam rulesets validate"""
    from engine.runs.validate import check_rulesets as check

    return check(settings, forms(settings), force(settings), path)


def publish_rulesets(settings: Settings, *, author: str, note: str) -> registry.PublishResult:
    """Snapshot the rulesets, catalogue and extract definitions as versions (qam rulesets publish)."""
    from engine import registry

    fields, docs = fields_by_case_type(settings), registry.DocumentPaths.of(settings)
    with database_for(settings) as database:
        return registry.publish(
            database, settings.rulesets_dir, fields, author=author, note=note, now=now(), documents=docs
        )


def list_rulesets(settings: Settings) -> registry.RegistryListing:
    from engine import registry

    with database_for(settings) as database:
        return registry.list_current(database)


def ruleset_history(settings: Settings, ruleset_id: str) -> registry.RegistryListing:
    from engine import registry

    with database_for(settings) as database:
        return registry.history(database, ruleset_id)


def show_ruleset(settings: Settings, ruleset_id: str, version: str | None) -> registry.RegistryEntry:
    from engine import registry

    with database_for(settings) as database:
        return registry.show(database, ruleset_id, version)


def diff_rulesets(settings: Settings, ruleset_id: str, v1: str, v2: str) -> registry.RulesetDiff:
    from engine import registry

    with database_for(settings) as database:
        return registry.diff(database, ruleset_id, v1, v2)


def verify_rulesets(settings: Settings, anchors: tuple[str, ...] = ()) -> registry.VerifyReport:
    from engine import registry

    docs = registry.DocumentPaths.of(settings)
    with database_for(settings) as database:
        return registry.verify(database, settings.rulesets_dir, anchors=anchors, documents=docs)


# --------------------------------------------------------------------------- submissions


def submit(
    settings: Settings,
    paths: list[Path],
    *,
    amend: bool = False,
    sheet: str | None = None,
    calibration_set: str | None = None,
) -> assessments.SubmitResult:
    """Validate every row of every file, then store them all in one transaction, or nothing. The
    database is opened (and found initialised) first, so a long file is not read in vain.

    Example: qam submit ss_week47.csv vc_week47.xlsx
    """
    # the valid rows wait in a temporary file, not memory (validate_submission): any size of file
    with database_for(settings) as database:
        with validate_submission(paths, forms(settings), force(settings).place_codes, sheet=sheet) as rows:
            if calibration_set:  # a calibration set's submissions are small: its checks take a list
                jobs.check_calibration_rows(database, calibration_set, list(rows))
            with database.session() as session:
                summary = assessments.store_assessments(
                    session, rows, amend=amend, submitted_at=now(), calibration_set=calibration_set
                )
    return assessments.SubmitResult(tuple(str(p) for p in paths), len(rows), summary)


def list_assessments(
    settings: Settings, *, place: str | None = None, case_type: str | None = None, week: str | None = None
) -> list[AssessmentLine]:
    """Current revisions of stored assessments. Example: qam assessments list --place BLK --week 2026-W47"""
    period = parse_week(week) if week else None
    with database_for(settings) as database, database.session() as session:
        return assessment_lines(session, place=place, case_type=case_type, period=period)


def show_assessment(settings: Settings, assessment_id: str) -> list[AssessmentRevision]:
    """Every revision of one assessment, oldest first. Example: qam assessments show SS-000123"""
    with database_for(settings) as database, database.session() as session:
        return revisions_of(session, assessment_id)


def verify_assessments(settings: Settings, heads: tuple[str, ...] = ()) -> integrity.ChainReport:
    """Check the revisions' hash chain, current flags and recorded heads. Example: qam assessments verify"""
    with database_for(settings) as database:
        return integrity.verify_assessments(database, anchors=heads)


# --------------------------------------------------------------------------- sampling and calibration


def load_cases_extract(settings: Settings, path: Path) -> LoadCasesResult:
    """Load the population of cases eligible for review. Example: qam extracts load cases cases.csv"""
    rows = read_cases(path, force(settings).place_codes, tuple(forms(settings)))
    with database_for(settings) as database:
        return load_cases(database, rows, now(), source=str(path))


def draw_week_sample(
    settings: Settings,
    week: str,
    *,
    seed: int,
    out: Path,
    case_type: str | None = None,
    margin: float = 0.1,
    confidence: float = 0.95,
    reviewers: Path | None = None,
) -> jobs.SampleOutcome:
    """Draw next week's stratified sample and write a worklist per reviewer.
    Example: qam sample --week 2026-W48 --reviewers reviewers.txt --seed 7"""
    period = parse_week(week)
    with database_for(settings) as database:
        return jobs.draw_week(
            database,
            settings,
            period,
            seed=seed,
            now=now(),
            out=out,
            case_type=case_type,
            margin=margin,
            confidence=confidence,
            reviewers=reviewers,
        )


def week_sample_status(settings: Settings, week: str, today: dt.date | None = None) -> SampleStatus:
    """Drawn vs submitted per reviewer and place, and overdue items. Example: qam sample status --week 2026-W48"""
    with database_for(settings) as database:
        return sample_status(database, parse_week(week), today or now().date())


def create_calibration_set(
    settings: Settings, *, name: str, case_type: str, n_cases: int, reviewers: Path, seed: int, out: Path
) -> jobs.CalibrationOutcome:
    """A calibration set every listed reviewer assesses independently.

    Example: qam calibrate create --name grounds-q4 --type stop_search --cases 20 --reviewers reviewers.txt
    """
    form(settings, case_type)
    with database_for(settings) as database:
        return jobs.create_set(
            database,
            settings,
            name=name,
            case_type=case_type,
            n_cases=n_cases,
            reviewers=reviewers,
            seed=seed,
            now=now(),
            out=out,
        )


def report_calibration(settings: Settings, name: str, out: Path) -> jobs.CalibrationFiles:
    """Agreement between reviewers per question (kappa), as PDF and CSV. Example: qam calibrate report grounds-q4"""
    with database_for(settings) as database:
        return jobs.report_set(database, name, forms(settings), out)


def load_figures_extract(settings: Settings, path: Path, replace: bool = False) -> figures.FiguresLoad:
    """Validate and store a figures extract. Example: qam extracts load figures hr-2026-10.csv"""
    return load_figures_extracts(settings, [path], replace=replace).loads[0]


def load_incidents_extract(settings: Settings, path: Path) -> incidents.IncidentLoad:
    """Validate and load an incidents extract. Example: qam extracts load incidents incidents.csv"""
    rows = read_incidents(path, force(settings).place_codes)
    with database_for(settings) as database, database.session() as session:
        return incidents.store_incidents(session, rows, source_file=str(path), loaded_at=now())


# --------------------------------------------------------------------------- scoring, the weekly batch, the demo


def _context(
    database: dbm.Database, settings: Settings, *, draft: bool, as_of: dt.datetime | None = None
) -> RunContext:
    from engine.runs.context import run_context

    return run_context(database, settings, force(settings), forms(settings), draft=draft, as_of=as_of)


def score(settings: Settings, *, since: dt.date | None = None, draft: bool = False) -> ScoreSummary:
    """Score every assessment not yet scored under the published rulesets (or the working tree's,
    with draft); already-scored assessments are left as they are. Example: qam score"""
    from engine.runs.scoring import score_run

    with database_for(settings) as database:
        return score_run(database, _context(database, settings, draft=draft), since=since, now=now)


def weekly(
    settings: Settings,
    week: str,
    *,
    out: Path = DEFAULT_OUT_DIR,
    draft: bool = False,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """The weekly batch: score what is new, find the week's exceptions, write the briefings.

    Example: qam weekly --week 2026-W47 --out outputs/
    """
    from engine.runs.weekly import run_week

    period = parse_week(week)
    with database_for(settings) as database:
        context = _context(database, settings, draft=draft)
        return run_week(database, context, period, out, now=now, workers=workers, progress=progress)


def peel(
    settings: Settings,
    date_from: dt.date,
    date_to: dt.date,
    *,
    as_of: dt.date | None = None,
    out: Path = DEFAULT_OUT_DIR,
    compare_original: bool = False,
    workers: int | None = None,
    progress: peel_run.Progress | None = None,
) -> peel_run.PeelResult:
    """A PEEL self-assessment rerun: rescore the period under the rulesets published as of a day
    (default: the latest published; the working tree is not read), analyse it and its quarters, and
    write <out>/peel-<from>-<to>/.

    Example: qam peel --from 2026-04-01 --to 2027-03-31 --as-of 2026-03-31 --compare-original
    """
    from engine.runs import peel as peel_run

    period = peel_run.rerun_period(date_from, date_to)
    when = peel_run.end_of_day(as_of) if as_of else now()
    with database_for(settings) as database:
        context = _context(database, settings, draft=False, as_of=when)
        return peel_run.run_peel(
            database,
            context,
            period,
            out,
            as_of=as_of,
            compare_original=compare_original,
            now=now,
            progress=progress,
            workers=workers,
        )


@dataclass(frozen=True)
class DemoResult:
    """The demo's data as loaded (database, source files, ruleset history) and its weekly run."""

    data: DemoData
    run: RunResult


def demo(
    out: Path = DEFAULT_OUT_DIR,
    *,
    progress: Callable[[str], None] = lambda _m: None,
    weeks: int = demo_data.HISTORY_WEEKS,
    per_week: int = demo_data.ASSESSMENTS_PER_WEEK,
    incidents_per_week: int = demo_data.INCIDENTS_PER_WEEK,
) -> DemoResult:
    """Build a fresh SQLite database of generated demo data (26 weeks, ~2,200 assessments a week of
    13 case types, 20,000 incidents a week, figures for every measured item, 14 planted problems in
    six places), publish the rulesets as at the start of those
    weeks and a stricter stop-search revision part-way through, and run the weekly batch for the
    latest week; the sizes can be made smaller for tests. Example: qam demo --out outputs/"""
    data = load_demo(
        out, progress=progress, weeks=weeks, per_week=per_week, incidents_per_week=incidents_per_week
    )
    progress(f"running the weekly batch for {data.week}")
    result = weekly(data.settings, data.week, out=out)
    return DemoResult(data, result)


def load_demo(
    out: Path = DEFAULT_OUT_DIR,
    *,
    progress: Callable[[str], None] = lambda _m: None,
    weeks: int = demo_data.HISTORY_WEEKS,
    per_week: int = demo_data.ASSESSMENTS_PER_WEEK,
    incidents_per_week: int = demo_data.INCIDENTS_PER_WEEK,
) -> DemoData:
    """The demo's data loaded into a fresh ``out``/demo.db, with the weeks before the demo week scored
    and summarised as their weekly runs would have left them (see demo)."""
    from engine.demo.database import build_demo_database
    from engine.runs.weekly import summarise_history

    data = build_demo_database(
        out, progress=progress, now=now, weeks=weeks, per_week=per_week, incidents_per_week=incidents_per_week
    )
    progress(f"scoring and summarising the weeks before {data.week}, as their weekly runs would have")
    with database_for(data.settings) as database:
        # the weeks before the revision under the versions then in force, then the rest under the latest
        first = _context(database, data.settings, draft=False, as_of=data.rulesets.first_published)
        summarise_history(database, first, before=data.rulesets.revised_at.date(), scored_at=now())
        latest = _context(database, data.settings, draft=False)
        summarise_history(database, latest, before=parse_week(data.week).start, scored_at=now())
    return data


def deliver(
    settings: Settings, week: str, *, out: Path = DEFAULT_OUT_DIR, dry_run: bool = False
) -> delivery.DeliveryReport:
    """E-mail each place's briefing of a week to its recipients, exactly once. Example: qam deliver --week 2026-W47"""
    from engine.runs import delivery

    with database_for(settings) as database:
        return delivery.deliver_week(
            database, force(settings), parse_week(week), out, dry_run=dry_run, now=now
        )


def delivery_status(settings: Settings, week: str, *, out: Path = DEFAULT_OUT_DIR) -> delivery.DeliveryStatus:
    """The week's delivery log and what is still owed. Example: qam deliver --week 2026-W47 --status"""
    from engine.runs import delivery

    with database_for(settings) as database:
        return delivery.delivery_status(database, force(settings), parse_week(week), out)


def officers(settings: Settings, start: dt.date, end: dt.date, out: Path = DEFAULT_OUT_DIR) -> OfficersResult:
    """Each officer's summary PDF and officers.csv. Example: qam officers --from 2026-09-01 --to 2026-11-29"""
    from engine.runs.officers import officers_run

    return officers_run(settings, start, end, out, now=now)


# --------------------------------------------------------------------------- run manifests, audits, dry runs


def list_runs(settings: Settings) -> list[records.RunSummary]:
    """Every recorded run, most recently executed first. Example: qam runs list"""
    with database_for(settings) as database:
        return records.list_runs(database)


def show_run(settings: Settings, run: str) -> records.RunDetail:
    """One run's whole manifest and executions (id or unique prefix). Example: qam runs show 3f9a0c2d"""
    with database_for(settings) as database:
        return records.show_run(database, run)


def audit(settings: Settings, run: str) -> AuditReport:
    """Re-derive a run's outputs from the data as it stood then, compare byte for byte. Example: qam audit 3f9a0c2d"""
    from engine.runs import audit as audits

    with database_for(settings) as database:
        return audits.audit_run(
            database, run, force=force(settings), forms=forms(settings), settings=settings
        )


def dry_run(
    settings: Settings,
    *,
    week: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    out: Path | None = None,
) -> dry_runs.DryRunReport:
    """Score a past week (or date range) under the working tree's rulesets and the published ones and
    list what would change; only draft scores are stored. Example: qam rulesets dry-run --against 2026-W47
    """
    from engine.runs import dry_run as dry_runs

    period = dry_runs.dry_run_period(week, date_from, date_to)
    with database_for(settings) as database:
        published = _context(database, settings, draft=False, as_of=now())
        draft = _context(database, settings, draft=True)
        return dry_runs.dry_run(database, published, draft, period, now=now, out=out)
