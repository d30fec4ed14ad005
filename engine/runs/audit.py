"""Run manifests read back (`qam runs list|show`) and re-derived (`qam audit RUN`): a run's outputs
rebuilt from the stored data as it stood at its first execution and the exact ruleset versions it
recorded, compared byte for byte. An audit writes nothing to the database or the output folder."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from engine import registry
from engine.core.config import Force
from engine.core.errors import StorageError, UsageError
from engine.core.periods import Period, as_utc
from engine.core.text import short, stamp
from engine.inputs.forms import Form
from engine.registry.entries import RegistryEntry, entry_problems
from engine.rules.catalogue import load_measure_catalogue
from engine.rules.ruleset_loader import load_rulesets, ruleset_from_content
from engine.rules.rulesets import Ruleset
from engine.rules.scoring import score_cases
from engine.runs import peel
from engine.runs.manifest import engine_version
from engine.runs.pipeline import (
    DEFAULT_HISTORY_WEEKS,
    PARALLEL_FROM,
    Gathered,
    RunContext,
    analyse,
    gather,
    incident_window,
    manifest_for,
    prepare,
    write_period,
)
from engine.store import assessments, runs
from engine.store.db import Database, Run

#: run kinds an audit can rebuild (a kind whose run writes extra files needs its writer here too);
#: a scoring run writes no files: its audit checks its versions and re-scores the scores under them
AUDITABLE_KINDS = ("weekly", peel.KIND, "score")
#: shortest run-id prefix accepted, so a typo does not silently pick some run
MIN_PREFIX = 4
RUNS_COLUMNS = ("run", "kind", "period", "draft", "rulesets", "first run", "last run", "executions")


# --------------------------------------------------------------------------- qam runs list / show


@dataclass(frozen=True)
class RunSummary:
    """One line of `qam runs list`."""

    #: the headings of :meth:`to_table_row`'s columns
    COLUMNS: ClassVar[tuple[str, ...]] = RUNS_COLUMNS

    run_id: str
    kind: str
    period: str
    draft: bool
    rulesets: int
    first_run_at: dt.datetime
    last_run_at: dt.datetime
    executions: int

    def to_table_row(self) -> tuple[str, ...]:
        return (
            self.run_id,
            self.kind,
            self.period,
            "DRAFT" if self.draft else "",
            str(self.rulesets),
            stamp(self.first_run_at),
            stamp(self.last_run_at),
            str(self.executions),
        )


def list_runs(database: Database) -> list[RunSummary]:
    """Every recorded run, most recently executed first."""
    with database.session() as session:
        counts = runs.execution_counts(session)
        return [
            RunSummary(
                r.run_id,
                r.kind,
                (r.manifest.get("period") or {}).get("label", ""),
                r.draft,
                len(r.manifest.get("rulesets", [])),
                r.first_run_at,
                r.last_run_at,
                counts.get(r.run_id, 0),
            )
            for r in runs.runs(session)
        ]


def find_run(session: Any, text: str) -> Run:
    """The run whose id is ``text`` or uniquely starts with it; a clear error otherwise."""
    text = text.strip()
    if len(text) < MIN_PREFIX:
        raise UsageError(f"run id '{text}' is too short: give at least {MIN_PREFIX} characters")
    matches = runs.runs_matching(session, text)
    if not matches:
        raise UsageError(f"no run '{text}'", hint="See `qam runs list` for the recorded runs.")
    if len(matches) > 1:
        raise UsageError(
            f"run id '{text}' is ambiguous: it starts {len(matches)} runs "
            f"({', '.join(r.run_id for r in matches[:5])}{', ...' if len(matches) > 5 else ''})",
            hint="Give more characters of the run id.",
        )
    return matches[0]


@dataclass(frozen=True)
class Execution:
    started_at: dt.datetime
    finished_at: dt.datetime
    outputs_matched: bool | None


@dataclass(frozen=True)
class RunDetail:
    """A whole run manifest and its executions (`qam runs show`)."""

    run_id: str
    manifest: Mapping[str, Any]
    executions: tuple[Execution, ...]

    def metadata_rows(self) -> list[tuple[str, str]]:
        m = self.manifest
        period = m.get("period") or {}
        arguments = ", ".join(f"{k}={v}" for k, v in sorted((m.get("arguments") or {}).items()))
        return [
            ("run", self.run_id),
            ("kind", str(m.get("kind", ""))),
            ("command", str(m.get("command", ""))),
            ("arguments", arguments),
            ("period", f"{period.get('label', '')} ({period.get('from', '')} to {period.get('to', '')})"),
            ("draft", "yes (unpublished rulesets, not for operational use)" if m.get("draft") else "no"),
            ("engine version", str(m.get("engine", ""))),
            ("force file sha256", str(m.get("force_sha256", ""))),
            ("registry head", str(m.get("registry_head", "")) or "(none: draft run)"),
        ]

    def ruleset_rows(self) -> list[tuple[str, str, str]]:
        return [(r["id"], r["version"], r["sha256"]) for r in self.manifest.get("rulesets", [])]

    def input_rows(self) -> list[tuple[str, str]]:
        return sorted((self.manifest.get("inputs") or {}).items())

    def output_rows(self) -> list[tuple[str, str]]:
        return sorted((self.manifest.get("outputs") or {}).items())

    def execution_rows(self) -> list[tuple[str, str, str]]:
        shown = {True: "yes", False: "NO", None: ""}
        return [
            (stamp(e.started_at), stamp(e.finished_at), shown[e.outputs_matched]) for e in self.executions
        ]


def show_run(database: Database, run_ref: str) -> RunDetail:
    """The manifest of one run (id or unique prefix) and the times of each execution."""
    with database.session() as session:
        found = find_run(session, run_ref)
        executions = tuple(
            Execution(e.started_at, e.finished_at, e.outputs_matched)
            for e in runs.run_executions(session, found.run_id)
        )
        return RunDetail(found.run_id, dict(found.manifest), executions)


# --------------------------------------------------------------------------- qam audit


@dataclass(frozen=True)
class FileCheck:
    """One output file: its hash in the manifest and as re-derived."""

    name: str
    recorded: str | None
    derived: str | None

    @property
    def status(self) -> str:
        if self.recorded is None:
            return "NOT IN MANIFEST"
        if self.derived is None:
            return "NOT RE-DERIVED"
        return "match" if self.recorded == self.derived else "DIFFERS"

    @property
    def ok(self) -> bool:
        return self.status == "match"


@dataclass(frozen=True)
class InputCheck:
    """One input (assessments, incidents): its hash in the manifest and as re-read at the cut-off."""

    name: str
    recorded: str
    reread: str
    rows: int

    @property
    def ok(self) -> bool:
        return self.recorded == self.reread


@dataclass(frozen=True)
class ScoreMismatch:
    """A stored score that a fresh scoring of the stored answers does not reproduce."""

    assessment_id: str
    case_ref: str
    ruleset: str
    criterion: str
    stored: str
    rescored: str


@dataclass(frozen=True)
class AuditReport:
    """What `qam audit RUN` found. ``ok`` is False on any integrity failure (exit 4)."""

    run_id: str
    kind: str
    period: str
    draft: bool
    cutoff: dt.datetime
    derived_run_id: str
    inputs: tuple[InputCheck, ...]
    changes: runs.InputChanges
    files: tuple[FileCheck, ...]
    scores_checked: int
    score_mismatches: tuple[ScoreMismatch, ...]
    registry_problems: tuple[registry.Discrepancy, ...]
    notes: tuple[str, ...]
    #: stored scores read with no outcome at all (every criterion gives one, so only a hand edit empties them)
    scores_emptied: int = 0
    #: the ruleset versions re-derived with, found intact: (id, version, sha256)
    rulesets: tuple[tuple[str, str, str], ...] = ()

    @property
    def files_differing(self) -> int:
        return sum(not f.ok for f in self.files)

    @property
    def ok(self) -> bool:
        return (
            not self.files_differing
            and all(i.ok for i in self.inputs)
            and not self.score_mismatches
            and not self.scores_emptied
            and not self.registry_problems
        )

    def changes_line(self) -> str:
        c = self.changes
        if not c.any:
            return "Since the run: no assessment or incident in its range was added, amended or reloaded."
        return (
            f"Since the run: {_n(c.assessments_added, 'assessment')} added and {c.assessments_amended} amended, "
            f"{_n(c.incidents_loaded, 'incident')} loaded or reloaded in its range; the audit reads the data as "
            "it stood at the run's first execution, so they are left out."
            + (
                " Reloaded incidents keep only their newest values, so a reload of one the run read shows "
                "as a changed incidents input."
                if c.incidents_loaded
                else ""
            )
        )

    def registry_line(self) -> str:
        if not self.registry_problems:
            return "Registry: hash chain intact, every recorded registry head still in it."
        return f"Registry: {_n(len(self.registry_problems), 'discrepancy', 'discrepancies')} (see `qam rulesets verify`)."

    def scores_line(self) -> str:
        if self.scores_emptied:
            return (
                f"Stored scores: {_n(self.scores_emptied, 'score')} read with no criterion outcome at all "
                f"(emptied by hand); {_n(len(self.score_mismatches), 'other outcome')} differ "
                f"({self.scores_checked} assessments re-scored):"
            )
        if not self.score_mismatches:
            return f"Stored scores: all {self.scores_checked} re-score the same from their stored answers."
        cases = len({(m.assessment_id, m.ruleset) for m in self.score_mismatches})
        return (
            f"Stored scores: {_n(len(self.score_mismatches), 'criterion outcome')} in {_n(cases, 'assessment')} "
            f"{'differs' if len(self.score_mismatches) == 1 else 'differ'} from a fresh scoring of the stored "
            f"answers ({self.scores_checked} assessments checked):"
        )

    @property
    def summary(self) -> str:
        n = len(self.files)
        if self.ok and not n:
            return (
                f"OK: run {self.run_id} wrote no files; its ruleset versions are intact and its stored "
                "scores re-score the same."
            )
        if self.ok:
            return f"OK: all {n} output files of run {self.run_id} re-derive byte for byte."
        problems = []
        if self.files_differing:
            problems.append(f"{self.files_differing} of {n} output files differ")
        if not all(i.ok for i in self.inputs):
            problems.append("the inputs as they stood at the run no longer hash the same")
        if self.score_mismatches:
            problems.append(f"{_n(len(self.score_mismatches), 'stored score outcome')} altered")
        if self.scores_emptied:
            problems.append(f"{_n(self.scores_emptied, 'stored score')} emptied")
        if self.registry_problems:
            problems.append("the ruleset registry fails verification")
        return f"FAILED: {'; '.join(problems)} (a storage or report integrity failure)."


def _n(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count} {noun if count == 1 else (plural or noun + 's')}"


def recorded_rulesets(
    database: Database,
    manifest: Mapping[str, Any],
    *,
    force: Force,
    forms: Mapping[str, Form],
    rulesets_dir: Path,
) -> list[Ruleset]:
    """Compile exactly the ruleset versions a run recorded (id, version, sha256): from the registry,
    integrity-checked; for a draft run also from the working tree if a file still has that hash."""
    fields = {case_type: f.field_specs() for case_type, f in forms.items()}
    overrides = dict(force.setting_overrides)
    working: dict[tuple[str, str], Ruleset] = {}
    if manifest.get("draft"):
        tree = load_rulesets(rulesets_dir, fields, setting_overrides=overrides, overrides_source=force.path)
        working = {(r.id, r.sha256): r for r in tree}
    found: list[Ruleset] = []
    missing: list[str] = []
    for ref in manifest.get("rulesets", []):
        rid, version, sha = ref["id"], ref["version"], ref["sha256"]
        if (rid, sha) in working:
            found.append(working[(rid, sha)])
            continue
        entry = _registry_entry(database, rid, version, sha)
        if entry is None:
            where = "the registry or the working tree" if manifest.get("draft") else "the registry"
            missing.append(f"{rid} {version} (sha256 {short(sha)}) is not in {where}")
            continue
        tampered = [message for _, message in entry_problems(entry)]
        if tampered:
            missing.append(f"{entry.label}: " + "; ".join(tampered))
            continue
        found.append(
            ruleset_from_content(
                entry.content,
                fields,
                source=f"registry:{rid}@{version}",
                setting_overrides={rid: overrides[rid]} if rid in overrides else None,
                overrides_source=force.path,
            )
        )
    if missing:
        raise StorageError(
            "the run cannot be re-derived: the ruleset versions it recorded are not available intact:\n"
            + "\n".join(missing),
            hint="Run `qam rulesets verify`; a published version used by a run must never change or go.",
        )
    return found


def _registry_entry(database: Database, rid: str, version: str, sha: str) -> RegistryEntry | None:
    try:
        entries = registry.history(database, rid).entries
    except UsageError:  # no version of that id at all
        return None
    return next((e for e in entries if e.version == version and e.sha256 == sha), None)


def period_of(manifest: Mapping[str, Any]) -> Period:
    p = manifest["period"]
    return Period(dt.date.fromisoformat(p["from"]), dt.date.fromisoformat(p["to"]), p["label"])


def rescore_check(
    database: Database, context: RunContext, outcome_columns: Mapping[str, Sequence[Any]]
) -> tuple[int, list[ScoreMismatch]]:
    """Score the stored answers of every assessment read afresh and compare with the stored scores
    the run read (outcomes, and why-traces of failures); returns (assessments checked, mismatches)."""
    stored: dict[Any, dict[str, tuple[str, tuple[str, ...]]]] = defaultdict(dict)
    about: dict[Any, tuple[str, str]] = {}
    cols = outcome_columns
    for key, case_ref, case_type, criterion, outcome, trace in zip(
        cols["assessment_key"], cols["case_ref"], cols["case_type"], cols["criterion"], cols["outcome"],
        cols["trace"], strict=True,
    ):  # fmt: skip
        stored[key][criterion] = (outcome, tuple(trace))
        about[key] = (case_ref, case_type)
    with database.session() as session:
        answers = assessments.assessment_answers(session, list(stored))
    mismatches: list[ScoreMismatch] = []
    for ruleset in context.assessment_rulesets:
        keys = [k for k in stored if about[k][1] == ruleset.case_type]
        if not keys:
            continue
        workers = 2 if len(keys) >= PARALLEL_FROM else 1
        cases = [{**answers[k][1], "__key": k} for k in keys]
        for s in score_cases(ruleset, cases, key="__key", workers=workers):
            was = stored[s.key]
            for criterion in sorted(set(was) | set(s.outcomes)):
                outcome = s.outcomes.get(criterion)
                fresh: tuple[str, tuple[str, ...]] = ("(none)", ())
                if outcome is not None:
                    fresh = (outcome.value, tuple(s.traces[criterion]) if outcome.value == "fail" else ())
                old = was.get(criterion, ("(none)", ()))
                if old != fresh:
                    shown = old[0] if old[0] != fresh[0] else f"{old[0]} (trace edited)"
                    mismatches.append(
                        ScoreMismatch(
                            answers[s.key][0], about[s.key][0], ruleset.id, criterion, shown, fresh[0]
                        )
                    )
    return len(stored), mismatches


def audit_run(
    database: Database,
    run_ref: str,
    *,
    force: Force,
    forms: Mapping[str, Form],
    rulesets_dir: Path,
    history_weeks: int = DEFAULT_HISTORY_WEEKS,
) -> AuditReport:
    """Re-derive a weekly or PEEL run's outputs into a temporary folder from the data as it stood at the
    run's first execution (assessment revisions current then, incidents loaded by then) and the exact
    ruleset versions in its manifest; compare them, and the inputs' hashes, with the manifest. A scoring
    run writes no files: its versions are checked and the stored scores under them re-scored.

    Example: report = audit_run(db, "3f9a0c2d", force=force, forms=forms, rulesets_dir=Path("rulesets"))
    """
    with database.session() as session:
        found = find_run(session, run_ref)
        run_id, manifest, cutoff = found.run_id, dict(found.manifest), as_utc(found.first_run_at)
    kind = manifest.get("kind", "")
    if kind not in AUDITABLE_KINDS:
        raise UsageError(
            f"run {run_id} is a '{kind}' run; `qam audit` re-derives {', '.join(AUDITABLE_KINDS)} runs"
        )
    rulesets = recorded_rulesets(database, manifest, force=force, forms=forms, rulesets_dir=rulesets_dir)
    context = RunContext(
        force=force,
        forms=forms,
        rulesets=tuple(sorted(rulesets, key=lambda r: r.id)),
        catalogue=load_measure_catalogue(),
        draft=bool(manifest.get("draft")),
        registry_head=str(manifest.get("registry_head", "")),
    )
    period, history_from = _span(manifest, history_weeks)
    # every row as it stood at the cut-off, summarised afresh (no stored day summary is used)
    gathered = gather(
        database,
        context,
        history_from=history_from,
        period=period,
        cutoff=cutoff,
        with_incidents=kind != "score",
    )
    checked, mismatches = rescore_check(database, context, gathered.outcome_columns)
    received: tuple[dt.datetime | None, dt.datetime | None] = (None, None)
    if context.extract_rulesets and kind != "score":  # a scoring run reads no incidents
        received = incident_window(history_from, period)
    with database.session() as session:
        changes = runs.changes_since(
            session,
            cutoff,
            date_from=history_from,
            date_to=period.end,
            received_from=received[0],
            received_to=received[1],
        )
    notes = _notes(manifest, force)
    if kind == "score":
        inputs: tuple[InputCheck, ...] = ()
        hashes: dict[str, str] = {}
        derived_id = run_id
        notes.append(
            "A scoring run writes no files: the audit checked that its ruleset versions are intact in the "
            "registry and re-scored every stored score under them (revisions current at the run). Its "
            f"assessments hash ({short((manifest.get('inputs') or {}).get('assessments'))}) covers those it "
            "scored, which are not marked on the scores, so that hash is shown by `qam runs show`, not re-read."
        )
    else:
        hashes, derived_id = _rederive(database, context, manifest, gathered, period, cutoff)
        recorded_inputs = manifest.get("inputs") or {}
        read = gathered.input_hashes()
        inputs = (
            InputCheck("assessments", recorded_inputs.get("assessments", ""), read["assessments"],
                       gathered.assessments_read),
            InputCheck("incidents", recorded_inputs.get("incidents", ""), read["incidents"], gathered.incidents_read),
        )  # fmt: skip
        amended = changes.assessments_amended
        if amended and kind == peel.KIND and (manifest.get("arguments") or {}).get("compare_original"):
            notes.append(
                f"{_n(amended, 'assessment')} in the period {'was' if amended == 1 else 'were'} amended since "
                "the run: original scores are read for today's revisions only, so the revisions the run "
                "compared drop out of the re-derived comparison, and peel.pdf (and compare.csv, if a finding "
                "of theirs moved) differ on that account alone."
            )
    recorded_outputs: Mapping[str, str] = manifest.get("outputs") or {}
    files = tuple(
        FileCheck(name, recorded_outputs.get(name), hashes.get(name))
        for name in sorted(set(recorded_outputs) | set(hashes))
    )
    if derived_id != run_id:
        notes.append(
            f"The re-derived run id is {derived_id}, not {run_id}: what was read or how differs from the run."
        )
    heads = tuple(runs.recorded_registry_heads(database))
    report = registry.verify(database, rulesets_dir, anchors=heads)
    problems = tuple(d for d in report.discrepancies if d.kind not in registry.WORKING_TREE_KINDS)
    return AuditReport(
        run_id=run_id,
        kind=kind,
        period=period.label,
        draft=context.draft,
        cutoff=cutoff,
        derived_run_id=derived_id,
        inputs=inputs,
        changes=changes,
        files=files,
        scores_checked=checked,
        score_mismatches=tuple(mismatches),
        registry_problems=problems,
        notes=tuple(notes),
        scores_emptied=gathered.assessments_read - checked,
        rulesets=tuple((r["id"], r["version"], r["sha256"]) for r in context.refs()),
    )


def _span(manifest: Mapping[str, Any], history_weeks: int) -> tuple[Period, dt.date]:
    """The run's period and the first day it read: a weekly run's SPC history reaches back
    ``history_weeks``, a PEEL run reads its own period, a scoring run everything (since --since)."""
    if manifest.get("kind") == "score":
        since = (manifest.get("arguments") or {}).get("since")
        start = dt.date.fromisoformat(since) if since else dt.date.min
        return Period(start, dt.date.max, f"since {since}" if since else "all dates"), start
    period = period_of(manifest)
    if manifest.get("kind") == peel.KIND:
        return period, period.start
    return period, period.start - dt.timedelta(weeks=history_weeks)


def _rederive(
    database: Database,
    context: RunContext,
    manifest: Mapping[str, Any],
    gathered: Gathered,
    period: Period,
    cutoff: dt.datetime,
) -> tuple[dict[str, str], str]:
    """Write a weekly or PEEL run's files afresh into a temporary folder: (their hashes, the run id)."""
    kind = str(manifest.get("kind", ""))
    arguments = manifest.get("arguments") or {}
    read: set[int] = set()
    prepared = None
    if kind == peel.KIND:
        read = set(gathered.outcome_columns["assessment_key"])
        prepared = prepare(context, gathered, release=True)
    derived = manifest_for(
        context, gathered, kind=kind, command=manifest.get("command", ""), arguments=arguments
    )
    # the run id is derived with the engine version the run recorded, so that a changed engine shows
    # as changed bytes (noted) rather than hiding behind a different id
    derived = dataclasses.replace(derived, engine=str(manifest.get("engine", derived.engine)))
    with tempfile.TemporaryDirectory(prefix="qam-audit-") as tmp:
        target = Path(tmp) / period.label
        if prepared is not None:
            as_of = arguments.get("as_of")
            written = peel.write_folder(
                target, database, context, derived, gathered, prepared, period,
                as_of=dt.date.fromisoformat(as_of) if as_of else None,
                compare_original=bool(arguments.get("compare_original")), read=read, cutoff=cutoff,
            )  # fmt: skip
            hashes = written.hashes
        else:
            analysis = analyse(context, gathered, period)
            hashes, _ = write_period(target, context, derived, period, analysis, gathered)
    return hashes, derived.run_id


def _notes(manifest: Mapping[str, Any], force: Force) -> list[str]:
    notes: list[str] = []
    if manifest.get("engine") != engine_version():
        notes.append(
            f"The run was made by engine {manifest.get('engine')}; this audit runs engine {engine_version()}, "
            "so code changes since may show as differing files."
        )
    if manifest.get("force_sha256") != force.sha256:
        notes.append(
            f"The force file {force.path} has changed since the run (sha256 {short(force.sha256)}, the run "
            f"read {short(manifest.get('force_sha256'))}): places and settings come from today's file."
        )
    return notes
