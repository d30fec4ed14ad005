"""The library facade: every CLI command is a few lines over one function here; tests call them too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from engine.core.config import DEFAULT_FORCE_FILE, DEFAULT_OUT_DIR, Force, Settings, load_force, load_settings
from engine.core.errors import SubmissionError
from engine.core.models import FieldSpec
from engine.core.periods import Period, parse_week, week_label
from engine.demo import data as demo_data
from engine.demo.incidents import generate_incidents, incidents_csv
from engine.inputs.forms import Form, load_forms
from engine.inputs.submission_files import write_submission_csv
from engine.inputs.submissions import load_submission_files
from engine.store import assessments, incidents
from engine.store import db as dbm

# Each command imports the modules only it needs inside its function, so that `qam submit` does not
# load pandas or reportlab and `qam weekly` does not load openpyxl, faker or statsmodels.
if TYPE_CHECKING:
    from engine import registry
    from engine.analysis.agreement import CalibrationReport
    from engine.rules.rulesets import Ruleset
    from engine.runs import dry_run as dry_runs
    from engine.runs import peel as peel_run
    from engine.runs.audit_report import AuditReport
    from engine.runs.context import RunContext
    from engine.runs.records import RunDetail, RunSummary
    from engine.runs.scoring import ScoreSummary

    # named by the command line (engine.cli.weekly), which imports only engine.api and engine.core
    from engine.runs.weekly import RunResult as RunResult
    from engine.sampling.calibration import CalibrationSetResult
    from engine.sampling.draw import SampleResult
    from engine.sampling.population import LoadCasesResult
    from engine.sampling.worklists import SampleStatus, WorklistFiles


@dataclass(frozen=True)
class InitResult:
    """What `qam init` did."""

    url: str
    revision_before: str | None
    revision_after: str
    tables: tuple[str, ...]

    @property
    def created(self) -> bool:
        return self.revision_before is None

    @property
    def upgraded(self) -> bool:
        return self.revision_before not in (None, self.revision_after)


def open_db(settings: Settings, *, require_current: bool = True) -> dbm.Database:
    """Open the configured database; by default refuse one that `qam init` has not prepared."""
    database = dbm.open_database(settings.database_url)
    if require_current:
        try:
            dbm.require_current(database)
        except Exception:
            database.close()
            raise
    return database


def init_database(settings: Settings) -> InitResult:
    """Check the force file, then create or upgrade the database schema; safe to run twice.

    Example: qam init
    """
    load_force(settings.force_file)  # a bad force file is reported before anything is written
    database = open_db(settings, require_current=False)
    try:
        before, after = dbm.upgrade(database)
        return InitResult(database.display_url, before, after, tuple(dbm.table_names(database)))
    finally:
        database.close()


def force(settings: Settings) -> Force:
    """The force configuration in use (validated)."""
    return load_force(settings.force_file)


@contextmanager
def database_for(settings: Settings) -> Iterator[dbm.Database]:
    """The configured, initialised database, closed afterwards."""
    database = open_db(settings)
    try:
        yield database
    finally:
        database.close()


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
        from engine.core.errors import UsageError

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
    from engine.rules.ruleset_loader import validate_rulesets

    the_force = force(settings)
    return validate_rulesets(
        path or settings.rulesets_dir,
        fields_by_case_type(settings),
        setting_overrides=the_force.setting_overrides,
        overrides_source=the_force.path,
    )


def publish_rulesets(settings: Settings, *, author: str, note: str) -> registry.PublishResult:
    """Snapshot the working tree's rulesets as immutable versions. Example: qam rulesets publish"""
    from engine import registry

    fields = fields_by_case_type(settings)
    with database_for(settings) as database:
        return registry.publish(database, settings.rulesets_dir, fields, author=author, note=note, now=now())


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

    with database_for(settings) as database:
        from engine.store import runs

        recorded = tuple(anchors) + tuple(runs.recorded_registry_heads(database))
        return registry.verify(database, settings.rulesets_dir, anchors=recorded)


# --------------------------------------------------------------------------- submissions


@dataclass(frozen=True)
class SubmitResult:
    """What `qam submit` stored, counted by (case type, place)."""

    files: tuple[str, ...]
    rows: int
    summary: assessments.StoreSummary


def submit(
    settings: Settings,
    paths: list[Path],
    *,
    amend: bool = False,
    sheet: str | None = None,
    calibration_set: str | None = None,
) -> SubmitResult:
    """Validate every row of every file, then store them all in one transaction, or nothing.

    Example: qam submit ss_week47.csv vc_week47.xlsx
    """
    the_force = force(settings)
    rows = load_submission_files(paths, forms(settings), the_force.place_codes, sheet=sheet)
    with database_for(settings) as database:
        if calibration_set:
            from engine.sampling.calibration import calibration_problems

            problems = calibration_problems(database, calibration_set, rows)
            if problems:
                raise SubmissionError(
                    f"nothing stored: {len(problems)} rows do not fit calibration set '{calibration_set}'",
                    problems,
                )
        with database.session() as session:
            summary = assessments.store_assessments(
                session, rows, amend=amend, submitted_at=now(), calibration_set=calibration_set
            )
    return SubmitResult(tuple(str(p) for p in paths), len(rows), summary)


@dataclass(frozen=True)
class AssessmentLine:
    """One stored assessment as `qam assessments list` shows it; fields in COLUMNS order."""

    COLUMNS: ClassVar[tuple[str, ...]] = (
        "assessment", "rev", "case type", "case ref", "place", "team", "officer", "reviewer", "assessed on", "week",
    )  # fmt: skip

    assessment_id: str
    revision: int
    case_type: str
    case_ref: str
    place: str
    team: str
    officer: str
    reviewer: str
    assessed_on: str
    week: str

    def row(self) -> tuple[object, ...]:
        return astuple(self)


def list_assessments(
    settings: Settings, *, place: str | None = None, case_type: str | None = None, week: str | None = None
) -> list[AssessmentLine]:
    """Current revisions of stored assessments. Example: qam assessments list --place BLK --week 2026-W47"""
    period = parse_week(week) if week else None
    with database_for(settings) as database, database.session() as session:
        found = assessments.list_assessments(
            session,
            place=place,
            case_type=case_type,
            date_from=period.start if period else None,
            date_to=period.end if period else None,
        )
        return [
            AssessmentLine(
                a.assessment_id,
                a.revision,
                a.case_type,
                a.case_ref,
                a.place,
                a.team,
                a.officer,
                a.reviewer,
                a.assessed_on.isoformat(),
                week_label(a.assessed_on),
            )
            for a in found
        ]


@dataclass(frozen=True)
class AssessmentRevision:
    """One stored revision of an assessment, everything kept about it."""

    assessment_id: str
    revision: int
    current: bool
    common: dict[str, str]
    answers: dict[str, object]
    raw: dict[str, object]
    source: str
    submitted_at: str
    content_hash: str
    calibration_set: str | None


def show_assessment(settings: Settings, assessment_id: str) -> list[AssessmentRevision]:
    """Every revision of one assessment, oldest first. Example: qam assessments show SS-000123"""
    with database_for(settings) as database, database.session() as session:
        revisions = assessments.assessment_revisions(session, assessment_id)
        if not revisions:
            from engine.core.errors import UsageError

            raise UsageError(f"no assessment with id '{assessment_id}'")
        return [
            AssessmentRevision(
                a.assessment_id,
                a.revision,
                a.is_current,
                {c: str(getattr(a, c)) for c in assessments.COMMON_FIELDS},
                dict(a.answers),
                dict(a.raw),
                f"{a.source_file}:{a.source_row}",
                a.submitted_at.isoformat(timespec="seconds"),
                a.content_hash,
                a.calibration_set,
            )
            for a in revisions
        ]


# --------------------------------------------------------------------------- sampling and calibration


def load_cases_extract(settings: Settings, path: Path) -> LoadCasesResult:
    """Load the population of cases eligible for review. Example: qam extracts load cases cases.csv"""
    from engine.inputs.cases import read_cases
    from engine.sampling.population import load_cases

    rows = read_cases(path, force(settings).place_codes, tuple(forms(settings)))
    with database_for(settings) as database:
        return load_cases(database, rows, now(), source=str(path))


@dataclass(frozen=True)
class SampleOutcome:
    sample: SampleResult
    worklists: WorklistFiles


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
) -> SampleOutcome:
    """Draw next week's stratified sample and write a worklist per reviewer.

    Example: qam sample --week 2026-W48 --reviewers reviewers.txt --seed 7
    """
    from engine.sampling.draw import draw_sample
    from engine.sampling.worklists import write_worklists

    period = parse_week(week)
    with database_for(settings) as database:
        result = draw_sample(
            database,
            period,
            seed=seed,
            now=now(),
            case_type=case_type,
            margin=margin,
            confidence=confidence,
            reviewers=reviewers if reviewers else (),
        )
    files = write_worklists(
        result.items, forms(settings), out, label=period.label, place_codes=force(settings).place_codes
    )
    return SampleOutcome(result, files)


def week_sample_status(settings: Settings, week: str, today: dt.date | None = None) -> SampleStatus:
    """Drawn vs submitted per reviewer and place, and overdue items. Example: qam sample status --week 2026-W48"""
    from engine.sampling.worklists import sample_status

    with database_for(settings) as database:
        return sample_status(database, parse_week(week), today or now().date())


@dataclass(frozen=True)
class CalibrationOutcome:
    created: CalibrationSetResult
    worklists: WorklistFiles


def create_calibration_set(
    settings: Settings, *, name: str, case_type: str, n_cases: int, reviewers: Path, seed: int, out: Path
) -> CalibrationOutcome:
    """A calibration set every listed reviewer assesses independently.

    Example: qam calibrate create --name grounds-q4 --type stop_search --cases 20 --reviewers reviewers.txt
    """
    from engine.core.text import slug
    from engine.sampling.calibration import create_calibration
    from engine.sampling.worklists import write_worklists

    form(settings, case_type)
    with database_for(settings) as database:
        created = create_calibration(
            database,
            name=name,
            case_type=case_type,
            n_cases=n_cases,
            reviewers=reviewers,
            seed=seed,
            now=now(),
        )
    files = write_worklists(
        created.items,
        forms(settings),
        out,
        label=f"calibration-{slug(name)}",
        place_codes=force(settings).place_codes,
    )
    return CalibrationOutcome(created, files)


@dataclass(frozen=True)
class CalibrationFiles:
    report: CalibrationReport
    files: tuple[Path, ...]


def report_calibration(settings: Settings, name: str, out: Path) -> CalibrationFiles:
    """Agreement between reviewers per question (kappa), as PDF and CSV. Example: qam calibrate report grounds-q4"""
    from engine.core.text import slug
    from engine.reports.calibration_pdf import render_calibration_pdf, write_calibration_csv
    from engine.sampling.calibration import calibration_report

    with database_for(settings) as database:
        report = calibration_report(database, name, forms(settings))
    csvs = write_calibration_csv(report, out)
    pdf = out / f"{slug(name)}.pdf"
    render_calibration_pdf(report, pdf)
    return CalibrationFiles(report, (*csvs, pdf))


def load_incidents_extract(settings: Settings, path: Path) -> incidents.IncidentLoad:
    """Validate and load an incidents extract. Example: qam extracts load incidents incidents.csv"""
    from engine.inputs.extracts import read_incidents

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
class DemoData:
    """The demo database as loaded, before its weekly run."""

    settings: Settings
    week: str
    data_folder: Path
    assessments: int
    incidents: int


@dataclass(frozen=True)
class DemoResult:
    database_url: str
    data_folder: Path
    assessments: int
    incidents: int
    run: RunResult


def demo(
    out: Path = DEFAULT_OUT_DIR,
    *,
    progress: Callable[[str], None] = lambda _m: None,
    weeks: int = demo_data.HISTORY_WEEKS,
    per_week: int = demo_data.ASSESSMENTS_PER_WEEK,
    incidents_per_week: int = demo_data.INCIDENTS_PER_WEEK,
) -> DemoResult:
    """Build a fresh SQLite database of generated demo data (26 weeks, ~2,000 assessments a week,
    20,000 incidents a week, four planted problems), publish the rulesets and run the weekly batch
    for the latest week; the sizes can be made smaller for tests. Example: qam demo --out outputs/"""
    data = load_demo(
        out, progress=progress, weeks=weeks, per_week=per_week, incidents_per_week=incidents_per_week
    )
    progress(f"running the weekly batch for {data.week}")
    result = weekly(data.settings, data.week, out=out)
    return DemoResult(data.settings.database_url, data.data_folder, data.assessments, data.incidents, result)


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
    out.mkdir(parents=True, exist_ok=True)
    db_path = out / "demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    settings = load_settings(database_url=f"sqlite:///{db_path}", force_file=DEFAULT_FORCE_FILE)
    init_database(settings)
    progress("publishing the rulesets")
    publish_rulesets(settings, author="QAM demo", note="demo publication of the bundled rulesets")

    the_force = force(settings)
    period = parse_week(demo_data.DEMO_WEEK)
    plan = demo_data.demo_plan(period.start, weeks=weeks, per_week=per_week)
    data = out / "demo-data"
    data.mkdir(exist_ok=True)
    progress(f"generating {len(plan.weeks)} weeks of assessments")
    rows = list(demo_data.generate_assessments(the_force.places, plan))
    by_week: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        by_week.setdefault(week_label(dt.date.fromisoformat(str(row["assessed_on"]))), []).append(row)
    files = []
    for label, week_rows in sorted(by_week.items()):
        path = data / f"assessments-{label}.csv"
        write_submission_csv(path, week_rows)
        files.append(path)
    progress(f"submitting {len(rows)} assessments")
    submit(settings, files)
    progress("generating and loading incidents")
    n_incidents = 0
    for monday in plan.weeks:
        incident_rows = list(
            generate_incidents(
                the_force.places,
                [monday],
                per_week=incidents_per_week,
                seed=demo_data.SEED + monday.toordinal(),
                drift_place="DLW",
                drift_from=plan.weeks[max(0, len(plan.weeks) - 8)],
            )
        )
        path = data / f"incidents-{week_label(monday)}.csv"
        path.write_text(incidents_csv(incident_rows), encoding="utf-8")
        n_incidents += load_incidents_extract(settings, path).new
    progress(f"scoring and summarising the weeks before {period.label}, as their weekly runs would have")
    from engine.runs.weekly import summarise_history

    with database_for(settings) as database:
        summarise_history(
            database, _context(database, settings, draft=False), before=period.start, scored_at=now()
        )
    return DemoData(settings, period.label, data, len(rows), n_incidents)


# --------------------------------------------------------------------------- run manifests, audits, dry runs


def list_runs(settings: Settings) -> list[RunSummary]:
    """Every recorded run, most recently executed first. Example: qam runs list"""
    from engine.runs import records

    with database_for(settings) as database:
        return records.list_runs(database)


def show_run(settings: Settings, run: str) -> RunDetail:
    """One run's whole manifest and executions (id or unique prefix). Example: qam runs show 3f9a0c2d"""
    from engine.runs import records

    with database_for(settings) as database:
        return records.show_run(database, run)


def audit(settings: Settings, run: str) -> AuditReport:
    """Re-derive a run's outputs from the data as it stood then and compare them byte for byte.

    Example: qam audit 3f9a0c2d
    """
    from engine.runs import audit as audits

    with database_for(settings) as database:
        return audits.audit_run(
            database, run, force=force(settings), forms=forms(settings), rulesets_dir=settings.rulesets_dir
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
    from engine.core.errors import UsageError
    from engine.runs import dry_run as dry_runs

    if week and (date_from or date_to):
        raise UsageError("give either --against WEEK or --from DATE --to DATE, not both")
    if week:
        period = parse_week(week)
    elif date_from and date_to:
        period = Period.of(date_from, date_to)
    else:
        raise UsageError("say which assessments to score: --against WEEK, or --from DATE and --to DATE")
    with database_for(settings) as database:
        published = _context(database, settings, draft=False, as_of=now())
        draft = _context(database, settings, draft=True)
        return dry_runs.dry_run(database, published, draft, period, now=now, out=out)
