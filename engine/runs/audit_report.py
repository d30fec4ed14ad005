"""What `qam audit RUN` found: each output file and input checked against the manifest, the stored
scores re-scored, the registry and the assessments' hash chain verified; and the lines the command
prints about them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from engine import registry
from engine.core.models import RulesetRef
from engine.store import runs
from engine.store.integrity import ChainProblem


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
    """One input (assessments, incidents, figures): its hash in the manifest and as re-read at the cut-off."""

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
    rulesets: tuple[RulesetRef, ...] = ()
    #: what verifying the assessments' hash chain found (`qam assessments verify`), and how many rows it read
    assessment_problems: tuple[ChainProblem, ...] = ()
    assessments_checked: int = 0

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
            and not self.assessment_problems
        )

    def changes_line(self) -> str:
        c = self.changes
        if not c.any:
            return "Since the run: no assessment or incident in its range was added, amended or reloaded."
        return (
            f"Since the run: {counted(c.assessments_added, 'assessment')} added and {c.assessments_amended} amended, "
            f"{counted(c.incidents_loaded, 'incident')} loaded or reloaded in its range; the audit reads the data as "
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
        return f"Registry: {counted(len(self.registry_problems), 'discrepancy', 'discrepancies')} (see `qam rulesets verify`)."

    def assessments_line(self) -> str:
        if not self.assessment_problems:
            return (
                f"Assessments: hash chain of {counted(self.assessments_checked, 'stored revision')} intact, "
                "current flags right, every recorded chain head still in it."
            )
        return (
            f"Assessments: {counted(len(self.assessment_problems), 'problem')} in the stored revisions "
            "(tampering; see `qam assessments verify`):"
        )

    def scores_line(self) -> str:
        if self.scores_emptied:
            return (
                f"Stored scores: {counted(self.scores_emptied, 'score')} read with no criterion outcome at all "
                f"(emptied by hand); {counted(len(self.score_mismatches), 'other outcome')} differ "
                f"({self.scores_checked} assessments re-scored):"
            )
        if not self.score_mismatches:
            return f"Stored scores: all {self.scores_checked} re-score the same from their stored answers."
        cases = len({(m.assessment_id, m.ruleset) for m in self.score_mismatches})
        return (
            f"Stored scores: {counted(len(self.score_mismatches), 'criterion outcome')} in {counted(cases, 'assessment')} "
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
            problems.append(f"{counted(len(self.score_mismatches), 'stored score outcome')} altered")
        if self.scores_emptied:
            problems.append(f"{counted(self.scores_emptied, 'stored score')} emptied")
        if self.registry_problems:
            problems.append("the ruleset registry fails verification")
        if self.assessment_problems:
            problems.append("the stored assessments fail verification (tampered)")
        return f"FAILED: {'; '.join(problems)} (a storage or report integrity failure)."


def counted(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count} {noun if count == 1 else (plural or noun + 's')}"
