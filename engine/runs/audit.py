"""Run manifests read back (`qam runs list|show`) and re-derived (`qam audit RUN`): a run's outputs
rebuilt from the stored data as it stood at its first execution and the exact ruleset, catalogue and
extract definition versions it recorded, compared byte for byte; the registry and the assessments'
hash chain verified (engine.store.integrity). An audit writes nothing to the database or the output
folder."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engine import registry
from engine.core import parallel
from engine.core.config import DEFAULT_RULESETS_DIR, Force, Settings
from engine.core.errors import StorageError, UsageError
from engine.core.models import RulesetRef
from engine.core.periods import Period, as_utc
from engine.core.text import short
from engine.inputs.extract_definitions import ExtractDefinitions
from engine.inputs.forms import Form
from engine.registry.entries import RegistryEntry, entry_problems
from engine.rules.catalogue import MeasureCatalogue
from engine.rules.ruleset_loader import load_rulesets, ruleset_from_content
from engine.rules.rulesets import Ruleset
from engine.rules.scoring import score_cases
from engine.runs import peel
from engine.runs.analysis import analyse, prepare
from engine.runs.audit_config import recorded_configuration
from engine.runs.audit_report import AuditReport, FileCheck, InputCheck, ScoreMismatch, counted
from engine.runs.context import RunContext
from engine.runs.gather import DEFAULT_HISTORY_WEEKS, Gathered, gather, incident_window
from engine.runs.manifest import engine_version, manifest_for
from engine.runs.records import find_run
from engine.runs.weekly import write_period
from engine.store import assessments, figures, integrity, runs
from engine.store.db import Database

#: run kinds an audit can rebuild (a kind whose run writes extra files needs its writer here too);
#: a scoring run writes no files: its audit checks its versions and re-scores the scores under them
AUDITABLE_KINDS = ("weekly", peel.KIND, "score")


def recorded_rulesets(
    database: Database,
    manifest: Mapping[str, Any],
    *,
    force: Force,
    forms: Mapping[str, Form],
    rulesets_dir: Path,
    catalogue: MeasureCatalogue | None = None,
    extracts: ExtractDefinitions | None = None,
) -> list[Ruleset]:
    """Compile exactly the ruleset versions a run recorded (id, version, sha256): from the registry,
    integrity-checked; for a draft run also from the working tree if a file still has that hash.
    They are checked against the run's recorded catalogue and extract definitions when given."""
    fields = {case_type: f.field_specs() for case_type, f in forms.items()}
    overrides = dict(force.setting_overrides)
    working: dict[tuple[str, str], Ruleset] = {}
    if manifest.get("draft"):
        tree = load_rulesets(
            rulesets_dir,
            fields,
            setting_overrides=overrides,
            overrides_source=force.path,
            measures=catalogue,
            extracts=extracts,
        )
        working = {(r.id, r.sha256): r for r in tree}
    found: list[Ruleset] = []
    missing: list[str] = []
    for ref in map(RulesetRef.from_json, manifest.get("rulesets", [])):
        rid, version, sha = ref.row()
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
                measures=catalogue,
                extracts=extracts,
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


def rescore_check(
    database: Database, context: RunContext, outcome_columns: Mapping[str, Sequence[Any]]
) -> tuple[int, list[ScoreMismatch], int]:
    """Score the stored answers of every assessment read afresh and compare with the stored scores
    the run read; returns (assessments checked, outcome mismatches, failures whose why-trace reads
    differently). A trace is an explanation worded by the QAM version that scored it (an upgrade
    rewords them), so a different trace is counted for a note, not reported as a changed score."""
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
    reworded = 0
    for ruleset in context.assessment_rulesets:
        keys = [k for k in stored if about[k][1] == ruleset.case_type]
        if not keys:
            continue
        workers = 2 if len(keys) >= parallel.SCORING_PARALLEL_FROM else 1
        cases = [{**answers[k][1], "__key": k} for k in keys]
        for s in score_cases(ruleset, cases, key="__key", workers=workers):
            was = stored[s.key]
            for criterion in sorted(set(was) | set(s.outcomes)):
                outcome = s.outcomes.get(criterion)
                fresh: tuple[str, tuple[str, ...]] = ("(none)", ())
                if outcome is not None:
                    fresh = (outcome.value, tuple(s.traces[criterion]) if outcome.value == "fail" else ())
                old = was.get(criterion, ("(none)", ()))
                if old[0] != fresh[0]:
                    mismatches.append(
                        ScoreMismatch(
                            answers[s.key][0], about[s.key][0], ruleset.id, criterion, old[0], fresh[0]
                        )
                    )
                elif old[1] != fresh[1]:
                    reworded += 1
    return len(stored), mismatches, reworded


def audit_run(
    database: Database,
    run_ref: str,
    *,
    force: Force,
    forms: Mapping[str, Form],
    rulesets_dir: Path | None = None,
    settings: Settings | None = None,
    history_weeks: int = DEFAULT_HISTORY_WEEKS,
) -> AuditReport:
    """Re-derive a weekly or PEEL run's outputs into a temporary folder from the data as it stood at the
    run's first execution (assessment revisions current then, incidents loaded by then) and the exact
    ruleset, catalogue and extract definition versions in its manifest; compare them, and the inputs'
    hashes, with the manifest. A scoring run writes no files: its versions are checked and the stored
    scores under them re-scored. ``settings`` says where the working tree's rulesets, catalogue and
    extract definitions are (a draft run's may be read from there); ``rulesets_dir`` overrides its folder.

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
    documents = registry.DocumentPaths.of(settings) if settings else registry.DocumentPaths()
    rulesets_dir = rulesets_dir or (settings.rulesets_dir if settings else DEFAULT_RULESETS_DIR)
    config, config_notes = recorded_configuration(database, manifest, documents)
    rulesets = recorded_rulesets(
        database,
        manifest,
        force=force,
        forms=forms,
        rulesets_dir=rulesets_dir,
        catalogue=config.catalogue,
        extracts=config.extracts,
    )
    context = RunContext(
        force=force,
        forms=forms,
        rulesets=tuple(sorted(rulesets, key=lambda r: r.id)),
        catalogue=config.catalogue,
        draft=bool(manifest.get("draft")),
        registry_head=str(manifest.get("registry_head", "")),
        extracts=config.extracts,
        configuration=config.refs,
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
    checked, mismatches, reworded = rescore_check(database, context, gathered.outcome_columns)
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
    notes = [*_notes(manifest, force), *config_notes]
    if reworded:
        notes.append(
            f"{counted(reworded, 'failing outcome')} {'has' if reworded == 1 else 'have'} a why-trace worded "
            "differently from what this version of QAM writes (scored by an earlier version, or the trace "
            "was edited); the outcomes themselves match. Traces are explanations, not scores: the "
            "briefings show the stored ones."
        )
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
        if "figures" in recorded_inputs or "figures" in read:  # the figures current at the cut-off
            figures_read = InputCheck(
                "figures", recorded_inputs.get("figures", ""), read.get("figures", ""), len(gathered.figures)
            )
            inputs = (*inputs, figures_read)
        amended = changes.assessments_amended
        if amended and kind == peel.KIND and (manifest.get("arguments") or {}).get("compare_original"):
            notes.append(
                f"{counted(amended, 'assessment')} in the period {'was' if amended == 1 else 'were'} amended since "
                "the run: original scores are read for today's revisions only, so the revisions the run "
                "compared drop out of the re-derived comparison, and peel.pdf (and compare.csv, if a finding "
                "of theirs moved) differ on that account alone."
            )
        notes += _figures_since(database, cutoff)
    recorded_outputs: Mapping[str, str] = manifest.get("outputs") or {}
    files = tuple(
        FileCheck(name, recorded_outputs.get(name), hashes.get(name))
        for name in sorted(set(recorded_outputs) | set(hashes))
    )
    if derived_id != run_id:
        notes.append(
            f"The re-derived run id is {derived_id}, not {run_id}: what was read or how differs from the run."
        )
    # with every head recorded at publication or by a run
    report = registry.verify(database, rulesets_dir, documents=documents)
    problems = tuple(d for d in report.discrepancies if d.kind not in registry.WORKING_TREE_KINDS)
    chain = integrity.verify_assessments(database)
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
        assessment_problems=chain.problems,
        assessments_checked=chain.rows_checked,
        notes=tuple(notes),
        scores_emptied=gathered.assessments_read - checked,
        rulesets=(*context.refs(), *context.configuration),
    )


def _span(manifest: Mapping[str, Any], history_weeks: int) -> tuple[Period, dt.date]:
    """The run's period and the first day it read: a weekly run's SPC history reaches back
    ``history_weeks``, a PEEL run reads its own period, a scoring run everything (since --since)."""
    if manifest.get("kind") == "score":
        since = (manifest.get("arguments") or {}).get("since")
        start = dt.date.fromisoformat(since) if since else dt.date.min
        return Period(start, dt.date.max, f"since {since}" if since else "all dates"), start
    period = Period.from_json(manifest["period"])
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
            analysis = analyse(context, gathered, period, prepared=prepare(context, gathered))
            hashes, _ = write_period(target, context, derived, period, analysis, gathered)
    return hashes, derived.run_id


def _figures_since(database: Database, cutoff: dt.datetime) -> list[str]:
    """A note of the figures loaded or replaced since the run, which the cut-off leaves out."""
    with database.session() as session:
        loads, stored, replaced = figures.loads_since(session, cutoff)
    if not loads:
        return []
    return [
        f"Since the run, {counted(loads, 'figures load')} stored {counted(stored, 'figure row')} and "
        f"replaced {counted(replaced, 'stored figure row')} (`qam extracts load figures`, of any period): "
        "the audit read the figures as they stood at the run, so none of these counts."
    ]


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
