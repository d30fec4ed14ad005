"""The `qam` command line: parse, call one engine.api function, print, exit with a documented code."""

from __future__ import annotations

import getpass
import json
import secrets
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from engine import api
from engine.core.config import Settings, load_settings
from engine.core.errors import EngineError, ExitCode
from engine.core.periods import parse_date
from engine.core.text import short, stamp

# engine.api imports what a command needs inside its function (the CLI imports only engine.api and core): every
# command pays for what is imported here.

EXTRACT_KINDS = ("incidents", "cases")

app = typer.Typer(
    name="qam",
    help="QAM: case-quality assessment and exception briefings for police performance (measures, not targets).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


@contextmanager
def user_errors() -> Iterator[None]:
    """The one place an EngineError becomes 'Error: ...' on stderr and its documented exit code."""
    try:
        yield
    except EngineError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(int(exc.exit_code)) from None


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


@app.callback()
def main(
    ctx: typer.Context,
    force: Annotated[
        Path | None,
        typer.Option(
            "--force", help="Force configuration YAML (default: $QAM_FORCE or the bundled demo force)."
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database", help="SQLAlchemy database URL (default: $QAM_DATABASE_URL or sqlite:///qam.db)."
        ),
    ] = None,
) -> None:
    """QAM scores QA reviewers' case assessments against versioned rulesets and briefs place leaders
    on the exceptions only.

    Example: qam init && qam submit week47.csv && qam weekly --week 2026-W47
    """
    ctx.obj = load_settings(force_file=force, database_url=database)


@app.command()
def init(ctx: typer.Context) -> None:
    """Create or upgrade the database; safe to run twice.

    Example: qam init
    """
    with user_errors():
        result = api.init_database(_settings(ctx))
    if result.created:
        typer.echo(f"Created database {result.url} (schema {result.revision_after}).")
    elif result.upgraded:
        typer.echo(
            f"Upgraded database {result.url} from {result.revision_before} to {result.revision_after}."
        )
    else:
        typer.echo(f"Database {result.url} is up to date (schema {result.revision_after}).")


def _print_table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Plain aligned columns: readable in a terminal, stable for scripts and tests."""
    text_rows = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [len(c) for c in columns]
    for row in text_rows:
        widths = [max(w, len(v)) for w, v in zip(widths, row, strict=False)]
    for row in [list(columns), *text_rows]:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)).rstrip())


def _print_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


# --------------------------------------------------------------------------- qam forms

forms_app = typer.Typer(help="The QA forms reviewers fill in, one per case type.", no_args_is_help=True)
app.add_typer(forms_app, name="forms")


@forms_app.command("list")
def forms_list(ctx: typer.Context) -> None:
    """List the QA forms: case type, title, version, measure, number of questions.

    Example: qam forms list
    """
    with user_errors():
        known = api.forms(_settings(ctx))
    _print_table(
        ("case type", "title", "version", "measure", "questions"),
        [(f.case_type, f.title, f.version, f.measure, len(f.questions)) for f in known.values()],
    )


@forms_app.command("show")
def forms_show(
    ctx: typer.Context, case_type: Annotated[str, typer.Argument(help="e.g. stop_search")]
) -> None:
    """Show a form's questions: id, answer type and values, when required, and the standard behind it.

    Example: qam forms show stop_search
    """
    with user_errors():
        form = api.form(_settings(ctx), case_type)
    typer.echo(f"{form.title} ({form.case_type}, version {form.version}, measure {form.measure})\n")
    _print_table(
        ("question", "answers", "required", "measure", "question text"),
        [(q.id, q.values_text(), q.requirement_text(), q.measure, q.text) for q in form.questions],
    )


@forms_app.command("template")
def forms_template(
    ctx: typer.Context,
    case_type: Annotated[str, typer.Argument(help="e.g. stop_search")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx or csv")] = "xlsx",
    out: Annotated[
        Path | None, typer.Option("--out", help="file to write (default: <case_type>-template.<format>)")
    ] = None,
) -> None:
    """Write a submission template: Excel with dropdowns and help comments, or a CSV header.

    Example: qam forms template stop_search --format xlsx --out ss_week47.xlsx
    """
    if fmt not in ("xlsx", "csv"):
        raise typer.BadParameter("must be xlsx or csv", param_hint="--format")
    with user_errors():
        path = api.template(_settings(ctx), case_type, fmt, out)
    typer.echo(f"Wrote {path}")


# --------------------------------------------------------------------------- qam rulesets

rulesets_app = typer.Typer(help="Validate, publish and audit the versioned rulesets.", no_args_is_help=True)
app.add_typer(rulesets_app, name="rulesets")


@rulesets_app.command("validate")
def rulesets_validate(
    ctx: typer.Context,
    path: Annotated[
        Path | None, typer.Argument(help="a ruleset file or folder (default: the rulesets folder)")
    ] = None,
) -> None:
    """Check ruleset files without a database: shape, fields against the QA forms, expressions.

    Example: qam rulesets validate rulesets/priority4/stop-search-legitimacy.yaml
    """
    with user_errors():
        loaded = api.check_rulesets(_settings(ctx), path)
    _print_table(
        ("ruleset", "version", "priority", "applies to", "criteria", "file"),
        [
            (
                r.id,
                r.version,
                r.priority,
                r.case_type or f"extract:{r.extract}",
                len(r.criteria) or len(r.thresholds),
                r.path,
            )
            for r in loaded
        ],
    )
    typer.echo(f"{len(loaded)} ruleset{'s' if len(loaded) != 1 else ''} valid.")


@rulesets_app.command("publish")
def rulesets_publish(
    ctx: typer.Context,
    author: Annotated[
        str, typer.Option("--author", help="who is publishing (default: your login name)")
    ] = "",
    note: Annotated[str, typer.Option("--note", help="why: shown in history and to inspectors")] = "",
) -> None:
    """Publish every ruleset as an immutable, hash-chained version (unchanged content is a no-op).

    Example: qam rulesets publish --author "Insp. Jones" --note "SS01 wording per HMICFRS"
    """
    with user_errors():
        result = api.publish_rulesets(_settings(ctx), author=author or getpass.getuser(), note=note)
    _print_table(result.columns, result.to_table_rows())
    n = len(result.published)
    if n:
        typer.echo(
            f"Published {n} ruleset version{'s' if n != 1 else ''} ({len(result.unchanged)} unchanged)."
        )
    else:
        typer.echo(f"Nothing to publish: all {len(result.unchanged)} rulesets are published as they are.")


@rulesets_app.command("list")
def rulesets_list(ctx: typer.Context) -> None:
    """List the current published version of every ruleset.

    Example: qam rulesets list
    """
    with user_errors():
        listing = api.list_rulesets(_settings(ctx))
    _print_table(listing.columns, listing.to_table_rows())


@rulesets_app.command("history")
def rulesets_history(
    ctx: typer.Context, ruleset_id: Annotated[str, typer.Argument(help="ruleset id")]
) -> None:
    """Every published version of a ruleset, with author, time, note and hashes.

    Example: qam rulesets history stop-search-legitimacy
    """
    with user_errors():
        listing = api.ruleset_history(_settings(ctx), ruleset_id)
    _print_table(listing.columns, listing.to_table_rows())


@rulesets_app.command("show")
def rulesets_show(
    ctx: typer.Context,
    ruleset_id: Annotated[str, typer.Argument(help="ruleset id")],
    version: Annotated[str | None, typer.Option("--version", help="default: the latest")] = None,
) -> None:
    """Show a published version: its metadata, then the file exactly as published.

    Example: qam rulesets show stop-search-legitimacy --version 1.0.0
    """
    with user_errors():
        entry = api.show_ruleset(_settings(ctx), ruleset_id, version)
    for key, value in entry.metadata_rows():
        typer.echo(f"{key}: {value}")
    typer.echo("")
    typer.echo(entry.source_text.rstrip("\n"))


@rulesets_app.command("diff")
def rulesets_diff(
    ctx: typer.Context,
    ruleset_id: Annotated[str, typer.Argument(help="ruleset id")],
    v1: Annotated[str, typer.Argument(help="older version")],
    v2: Annotated[str, typer.Argument(help="newer version")],
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    """Criterion-level differences between two published versions.

    Example: qam rulesets diff stop-search-legitimacy 1.0.0 1.1.0
    """
    with user_errors():
        result = api.diff_rulesets(_settings(ctx), ruleset_id, v1, v2)
    if as_json:
        _print_json(result.to_json())
        return
    _print_table(result.columns, result.to_table_rows())
    typer.echo(f"{len(result.changed)} changed, {len(result.added)} added, {len(result.removed)} removed")


@rulesets_app.command("verify")
def rulesets_verify(ctx: typer.Context) -> None:
    """Recompute every hash and the chain, and compare the working tree with the published versions.

    Exits 4 when the database was tampered with, 3 when only the working tree differs, else 0.

    Example: qam rulesets verify
    """
    with user_errors():
        report = api.verify_rulesets(_settings(ctx))
    rows = report.to_table_rows()
    if rows:
        _print_table(report.columns, rows)
    typer.echo(report.summary)
    if report.tampered:
        raise typer.Exit(int(ExitCode.STORAGE))
    if not report.ok:
        raise typer.Exit(int(ExitCode.INVALID_INPUT))


# --------------------------------------------------------------------------- qam submit, qam assessments


@app.command()
def submit(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="CSV, XLSX or JSON files of assessments")],
    amend: Annotated[
        bool, typer.Option("--amend", help="store changed rows as new revisions (the old ones are kept)")
    ] = False,
    sheet: Annotated[str | None, typer.Option("--sheet", help="XLSX sheet name (default: the first)")] = None,
    calibration: Annotated[
        str | None,
        typer.Option(
            "--calibration", help="calibration set name: stored apart, never counted in performance"
        ),
    ] = None,
) -> None:
    """Validate and store reviewers' assessments: every row of every file, or nothing.

    All problems of all files are listed at once as file:row:column: message.

    Example: qam submit ss_week47.csv vc_week47.xlsx
    """
    with user_errors():
        result = api.submit(_settings(ctx), files, amend=amend, sheet=sheet, calibration_set=calibration)
    s = result.summary
    keys = sorted(set(s.stored) | set(s.unchanged) | set(s.amended))
    _print_table(
        ("case type", "place", "stored", "unchanged", "amended"),
        [
            (ct, place, s.stored[(ct, place)], s.unchanged[(ct, place)], s.amended[(ct, place)])
            for ct, place in keys
        ],
    )
    stored, unchanged, amended = s.totals
    typer.echo(
        f"{result.rows} row{'s' if result.rows != 1 else ''} in {len(result.files)} file"
        f"{'s' if len(result.files) != 1 else ''}: {stored} stored, {unchanged} unchanged "
        f"(already stored, nothing to do), {amended} amended."
    )


assessments_app = typer.Typer(help="Stored assessments and their revisions.", no_args_is_help=True)
app.add_typer(assessments_app, name="assessments")


@assessments_app.command("list")
def assessments_list(
    ctx: typer.Context,
    place: Annotated[str | None, typer.Option("--place", help="place code")] = None,
    case_type: Annotated[str | None, typer.Option("--type", help="case type")] = None,
    week: Annotated[str | None, typer.Option("--week", help="ISO week of assessed_on, e.g. 2026-W47")] = None,
) -> None:
    """List stored assessments (current revisions).

    Example: qam assessments list --place BLK --type stop_search --week 2026-W47
    """
    with user_errors():
        lines = api.list_assessments(_settings(ctx), place=place, case_type=case_type, week=week)
    _print_table(api.AssessmentLine.COLUMNS, [a.row() for a in lines])
    typer.echo(f"{len(lines)} assessment{'s' if len(lines) != 1 else ''}")


@assessments_app.command("show")
def assessments_show(
    ctx: typer.Context, assessment_id: Annotated[str, typer.Argument(help="assessment id")]
) -> None:
    """Show every revision of an assessment: common fields, answers as stored and as submitted, source.

    Example: qam assessments show SS-000123
    """
    with user_errors():
        revisions = api.show_assessment(_settings(ctx), assessment_id)
    for rev in revisions:
        state = "current" if rev.current else "superseded"
        typer.echo(f"== {rev.assessment_id} revision {rev.revision} ({state})")
        typer.echo(f"submitted {rev.submitted_at} from {rev.source}; content sha256 {rev.content_hash[:12]}")
        if rev.calibration_set:
            typer.echo(f"calibration set: {rev.calibration_set}")
        rows = [(k, v, "") for k, v in rev.common.items()]
        rows += [(q, v, rev.raw.get(q, "")) for q, v in rev.answers.items()]
        _print_table(("field", "stored", "as submitted"), rows)
        typer.echo("")


# --------------------------------------------------------------------------- qam extracts, sample, calibrate

extracts_app = typer.Typer(
    help="Quantitative extracts: incidents, and the cases eligible for review.", no_args_is_help=True
)
app.add_typer(extracts_app, name="extracts")


@extracts_app.command("load")
def extracts_load(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="incidents or cases")],
    file: Annotated[Path, typer.Argument(help="the extract CSV")],
) -> None:
    """Validate and load an extract: every row or nothing; reloading identical rows changes nothing.

    Example: qam extracts load incidents incidents-2026-W47.csv
    """
    if kind not in EXTRACT_KINDS:
        raise typer.BadParameter(f"must be one of {', '.join(EXTRACT_KINDS)}", param_hint="KIND")
    with user_errors():
        if kind == "cases":
            typer.echo(api.load_cases_extract(_settings(ctx), file).summary())
        else:
            typer.echo(api.load_incidents_extract(_settings(ctx), file).summary())


sample_app = typer.Typer(invoke_without_command=True, no_args_is_help=False)
app.add_typer(sample_app, name="sample")


@sample_app.callback()
def sample(
    ctx: typer.Context,
    week: Annotated[
        str | None, typer.Option("--week", help="ISO week of the cases' dates, e.g. 2026-W48")
    ] = None,
    case_type: Annotated[str | None, typer.Option("--type", help="one case type (default: all)")] = None,
    margin: Annotated[float, typer.Option("--margin", help="margin of error for a compliance rate")] = 0.1,
    confidence: Annotated[float, typer.Option("--confidence", help="confidence level")] = 0.95,
    seed: Annotated[int | None, typer.Option("--seed", help="the same seed draws the same sample")] = None,
    reviewers: Annotated[
        Path | None, typer.Option("--reviewers", help="file of reviewer names, one a line")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="folder for the worklists")] = Path("outputs/worklists"),
) -> None:
    """Draw a stratified random sample per place and case type and write a worklist per reviewer.

    Sample size: n0 = z^2 p(1-p)/e^2 with p = 0.5, finite-population corrected n = n0/(1+(n0-1)/N),
    at least 10 per place (or all) and at most 60.

    Example: qam sample --week 2026-W48 --reviewers reviewers.txt --seed 7
    """
    if ctx.invoked_subcommand is not None:
        return
    if week is None:
        raise typer.BadParameter("is required to draw a sample", param_hint="--week")
    if seed is None:
        seed = secrets.randbelow(1_000_000)
        typer.echo(f"Using seed {seed} (pass --seed {seed} to draw the same sample again).")
    with user_errors():
        outcome = api.draw_week_sample(
            _settings(ctx),
            week,
            seed=seed,
            out=out,
            case_type=case_type,
            margin=margin,
            confidence=confidence,
            reviewers=reviewers,
        )
    typer.echo(outcome.sample.summary())
    typer.echo(outcome.worklists.summary())


@sample_app.command("status")
def sample_status(
    ctx: typer.Context,
    week: Annotated[str, typer.Option("--week", help="the sampled ISO week, e.g. 2026-W48")],
) -> None:
    """Drawn vs submitted per reviewer and place, and overdue items.

    Example: qam sample status --week 2026-W48
    """
    with user_errors():
        typer.echo(api.week_sample_status(_settings(ctx), week).summary())


calibrate_app = typer.Typer(
    help="Reviewer calibration: do reviewers agree on the answers?", no_args_is_help=True
)
app.add_typer(calibrate_app, name="calibrate")


@calibrate_app.command("create")
def calibrate_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="a name for the set")],
    case_type: Annotated[str, typer.Option("--type", help="case type")],
    cases: Annotated[int, typer.Option("--cases", help="how many cases every reviewer assesses")],
    reviewers: Annotated[Path, typer.Option("--reviewers", help="file of reviewer names, one a line")],
    seed: Annotated[int, typer.Option("--seed")] = 1,
    out: Annotated[Path, typer.Option("--out", help="folder for the worklists")] = Path("outputs/worklists"),
) -> None:
    """Create a calibration set that every listed reviewer assesses independently.

    Their submissions (qam submit --calibration NAME) never count toward performance figures.

    Example: qam calibrate create --name grounds-q4 --type stop_search --cases 20 --reviewers reviewers.txt
    """
    with user_errors():
        outcome = api.create_calibration_set(
            _settings(ctx),
            name=name,
            case_type=case_type,
            n_cases=cases,
            reviewers=reviewers,
            seed=seed,
            out=out,
        )
    typer.echo(outcome.created.summary())
    typer.echo(outcome.worklists.summary())


@calibrate_app.command("report")
def calibrate_report(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="the calibration set")],
    out: Annotated[Path, typer.Option("--out", help="folder for the PDF and CSV files")] = Path(
        "outputs/calibration"
    ),
) -> None:
    """Agreement per question (percentage, Cohen's or Fleiss' kappa with intervals), worst first.

    Example: qam calibrate report grounds-q4
    """
    with user_errors():
        result = api.report_calibration(_settings(ctx), name, out)
    typer.echo(result.report.summary())
    for path in result.files:
        typer.echo(f"Wrote {path}")


# --------------------------------------------------------------------------- qam score, weekly, demo


@app.command()
def score(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option("--since", help="only assessments assessed on or after DATE")
    ] = None,
    draft: Annotated[
        bool, typer.Option("--draft", help="score with the working tree's unpublished rulesets")
    ] = False,
) -> None:
    """Score every assessment not yet scored under the published rulesets (idempotent).

    Example: qam score --since 2026-11-01
    """
    with user_errors():
        summary = api.score(
            _settings(ctx), since=parse_date(since, "--since") if since else None, draft=draft
        )
    for ruleset_id, n in sorted(summary.scored.items()):
        typer.echo(f"{ruleset_id}: {n} scored")
    recorded = f" (run {summary.run_id})" if summary.run_id else ""
    typer.echo(f"{summary.total} assessments scored{' with DRAFT rulesets' if draft else ''}{recorded}.")


@contextmanager
def _progress() -> Iterator[Callable[[str], None] | None]:
    """A live status line on a terminal (stderr); nothing at all when output is not a TTY."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console

    with Console(stderr=True).status("starting") as status:
        yield lambda stage: status.update(f"{stage}...")


def _print_run(result: api.RunResult) -> None:
    counts = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in result.counts_by_kind().items())
    draft = "DRAFT (unpublished rulesets, not for operational use): " if result.draft else ""
    typer.echo(
        f"{draft}{result.period.label}: {result.cases_reviewed} cases reviewed, {result.scored.total} newly scored; "
        f"{len(result.exceptions)} exceptions ({counts}); "
        f"{len(result.places_briefed)} place{'s' if len(result.places_briefed) != 1 else ''} briefed; "
        f"{len(result.files)} files written to {result.folder} (run {result.run_id})"
    )


@app.command()
def weekly(
    ctx: typer.Context,
    week: Annotated[str, typer.Option("--week", help="ISO week, e.g. 2026-W47")],
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("outputs"),
    draft: Annotated[
        bool, typer.Option("--draft", help="dry run on unpublished rulesets, marked DRAFT")
    ] = False,
    fail_on_exceptions: Annotated[
        bool, typer.Option("--fail-on-exceptions", help="exit 1 when any exception is found")
    ] = False,
) -> None:
    """The weekly batch: score what is new, find the week's exceptions, write exceptions.json,
    aggregates.csv, one briefing PDF per place with exceptions and force.pdf.

    Example: qam weekly --week 2026-W47 --out outputs/
    """
    with user_errors(), _progress() as progress:
        result = api.weekly(_settings(ctx), week, out=out, draft=draft, progress=progress)
    _print_run(result)
    if fail_on_exceptions and result.exceptions:
        raise typer.Exit(int(ExitCode.EXCEPTIONS_FOUND))


@contextmanager
def _progress_bar() -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar with ETA on a terminal (stderr); nothing at all when output is not a TTY."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("starting", total=None)
        yield lambda what, done, total: bar.update(task, description=what, completed=done, total=total)


@app.command()
def peel(
    ctx: typer.Context,
    date_from: Annotated[str, typer.Option("--from", help="first day of the period, YYYY-MM-DD")],
    date_to: Annotated[str, typer.Option("--to", help="last day of the period, YYYY-MM-DD")],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="use the ruleset versions published by the end of this day (UTC)"),
    ] = None,
    published: Annotated[
        bool, typer.Option("--published", help="use the latest published versions (the default)")
    ] = False,
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("outputs"),
    compare_original: Annotated[
        bool,
        typer.Option("--compare-original", help="compare with the scores first recorded, by ruleset change"),
    ] = False,
) -> None:
    """PEEL self-assessment rerun: rescore every assessment of the period under the rulesets published
    as of a day, find the exceptions of the period and of each quarter, and write peel.pdf (by PEEL
    pillar and measure), exceptions.json, aggregates.csv, incident_metrics.csv, manifest.json (and
    compare.csv) to <out>/peel-<from>-<to>/. Identical reruns write identical files.

    Example: qam peel --from 2026-04-01 --to 2027-03-31 --as-of 2026-03-31 --compare-original
    """
    if as_of is not None and published:
        raise typer.BadParameter("give --as-of DATE or --published, not both", param_hint="--as-of")
    with user_errors():
        start, end = parse_date(date_from, "--from"), parse_date(date_to, "--to")
        day = parse_date(as_of, "--as-of") if as_of else None
        with _progress_bar() as progress:
            result = api.peel(
                _settings(ctx),
                start,
                end,
                as_of=day,
                out=out,
                compare_original=compare_original,
                progress=progress,
            )
    run = result.run
    counts = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in run.counts_by_kind().items())
    quarters = "; ".join(f"{q.label}: {n}" for q, n in result.quarters)
    typer.echo(
        f"{run.period.label} (rulesets as of {as_of or 'latest published'}): {run.cases_reviewed} cases reviewed, "
        f"{run.scored.total} newly scored; {len(run.exceptions)} exceptions ({counts}); by quarter {quarters}; "
        f"{len(run.files)} files written to {run.folder} (run {run.run_id})"
    )
    if result.comparison is not None:
        for line in result.comparison.lines():
            typer.echo(line)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("outputs"),
) -> None:
    """Build a fresh demo database (26 weeks of generated data with four planted problems) and run
    the weekly batch for its latest week, 2026-W47.

    Example: qam demo --out outputs/
    """
    with user_errors():
        result = api.demo(out, progress=lambda message: typer.echo(f"... {message}", err=True))
    typer.echo(
        f"Demo database {result.database_url}: {result.assessments} assessments and {result.incidents} incidents "
        f"(source files in {result.data_folder})."
    )
    _print_run(result.run)


# --------------------------------------------------------------------------- qam runs, audit, rulesets dry-run

runs_app = typer.Typer(
    help="Run manifests: what each weekly or PEEL run read and wrote.", no_args_is_help=True
)
app.add_typer(runs_app, name="runs")

#: how many altered score outcomes `qam audit` lists before "... and N more"
AUDIT_ROWS_SHOWN = 20


@runs_app.command("list")
def runs_list(ctx: typer.Context) -> None:
    """List recorded runs, most recently executed first: id, kind, period, draft, rulesets, times.

    Example: qam runs list
    """
    with user_errors():
        found = api.list_runs(_settings(ctx))
    if not found:
        typer.echo("No runs recorded yet (`qam weekly --week 2026-W47` records one).")
        return
    _print_table(found[0].COLUMNS, [r.to_table_row() for r in found])
    typer.echo(f"{len(found)} run{'s' if len(found) != 1 else ''}")


@runs_app.command("show")
def runs_show(
    ctx: typer.Context, run: Annotated[str, typer.Argument(help="run id, or a unique prefix of it")]
) -> None:
    """Show a run's whole manifest: command, arguments, engine version, ruleset versions and hashes,
    force file hash, input and output file hashes, registry head, and every execution's times.

    Example: qam runs show 3f9a0c2d
    """
    with user_errors():
        detail = api.show_run(_settings(ctx), run)
    for key, value in detail.metadata_rows():
        typer.echo(f"{key}: {value}")
    for columns, rows in (
        (("ruleset", "version", "sha256"), detail.ruleset_rows()),
        (("input", "sha256"), detail.input_rows()),
        (("output file", "sha256"), detail.output_rows()),
        (("execution started", "finished", "outputs matched"), detail.execution_rows()),
    ):
        typer.echo("")
        _print_table(columns, rows)


@app.command()
def audit(
    ctx: typer.Context, run: Annotated[str, typer.Argument(help="run id, or a unique prefix of it")]
) -> None:
    """Re-derive a run's outputs from the data as it stood at its first execution and the exact ruleset
    versions it recorded, and compare them byte for byte with its manifest; also re-score the stored
    answers and verify the registry. Writes nothing.

    Exits 0 when everything matches, 4 when anything differs (a storage or report integrity failure).

    Example: qam audit 3f9a0c2d
    """
    with user_errors():
        report = api.audit(_settings(ctx), run)
    draft = ", DRAFT" if report.draft else ""
    typer.echo(
        f"Audit of run {report.run_id} ({report.kind} {report.period}{draft}): re-derived from the data as it "
        f"stood at {stamp(report.cutoff)}, the run's first execution."
    )
    if report.inputs:
        _print_table(
            ("input", "recorded", "re-read", "rows", "result"),
            [
                (i.name, short(i.recorded), short(i.reread), i.rows, "same" if i.ok else "DIFFERS")
                for i in report.inputs
            ],
        )
    typer.echo(report.changes_line())
    typer.echo("")
    if report.files:
        _print_table(
            ("output file", "recorded", "re-derived", "result"),
            [(f.name, short(f.recorded), short(f.derived), f.status) for f in report.files],
        )
        typer.echo("")
    else:  # a scoring run writes no files: show which versions it scored under, all found intact
        _print_table(("ruleset (intact in the registry)", "version", "sha256"), report.rulesets)
        typer.echo("")
    typer.echo(report.scores_line())
    if report.score_mismatches:
        shown = report.score_mismatches[:AUDIT_ROWS_SHOWN]
        _print_table(
            ("assessment", "case ref", "ruleset", "criterion", "stored", "re-scored"),
            [(m.assessment_id, m.case_ref, m.ruleset, m.criterion, m.stored, m.rescored) for m in shown],
        )
        if len(report.score_mismatches) > len(shown):
            typer.echo(f"... and {len(report.score_mismatches) - len(shown)} more")
    typer.echo(report.registry_line())
    for d in report.registry_problems:
        typer.echo(f"  {d}")
    for note in report.notes:
        typer.echo(f"Note: {note}")
    typer.echo(report.summary)
    if not report.ok:
        raise typer.Exit(int(ExitCode.STORAGE))


@rulesets_app.command("dry-run")
def rulesets_dry_run(
    ctx: typer.Context,
    against: Annotated[str | None, typer.Option("--against", help="ISO week to score, e.g. 2026-W47")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="last day, YYYY-MM-DD")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="also write OUT/dry-run-<period>/changes.csv")
    ] = None,
) -> None:
    """Before publishing: score a past week's assessments under the working tree's draft rulesets and
    the published ones side by side, and list the findings (per criterion: pass -> fail, fail -> pass,
    N/A changes, by place, example cases) and exceptions that would change. Only draft scores are
    stored; no output is written without --out.

    Example: qam rulesets dry-run --against 2026-W47
    """
    with user_errors():
        report = api.dry_run(
            _settings(ctx),
            week=against,
            date_from=parse_date(date_from, "--from") if date_from else None,
            date_to=parse_date(date_to, "--to") if date_to else None,
            out=out,
        )
    if not report.rulesets:
        typer.echo(report.summary)
        return
    typer.echo(report.headline)
    typer.echo("Rulesets that differ: " + "; ".join(r.text for r in report.rulesets))
    typer.echo("")
    if report.findings:
        _print_table(report.findings[0].COLUMNS, [f.to_table_row() for f in report.findings])
    else:
        typer.echo("No finding would change.")
    typer.echo("")
    if report.exceptions:
        _print_table(report.exceptions[0].COLUMNS, [e.to_table_row() for e in report.exceptions])
    else:
        typer.echo("No exception would appear, disappear or change.")
    typer.echo("")
    typer.echo(report.summary)
    if report.csv_path is not None:
        typer.echo(f"Wrote {report.csv_path}")


def run() -> None:  # pragma: no cover - console entry for `python -m engine`
    app()


__all__ = ["app", "user_errors", "ExitCode"]
