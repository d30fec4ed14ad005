"""Reviewer calibration: sets of cases every listed reviewer assesses independently, and how far they
agree per question (percentage agreement, and Cohen's kappa for two reviewers or Fleiss' for more).

Calibration submissions are assessments whose calibration_set names the set: they never count toward
performance figures (engine.store.sampling.PERFORMANCE_ONLY is the filter).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from engine.analysis.agreement import CalibrationReport, ReviewerAgreement, _divergence, question_agreement
from engine.core.errors import EngineError, Location, Problem, UsageError
from engine.inputs.cases import Case, case_fields
from engine.inputs.forms import Form
from engine.sampling.worklists import WorkItem, check_reviewers, read_reviewers
from engine.store import sampling as store
from engine.store.db import CalibrationSet, Database, Transaction

# numpy and engine.analysis.stats (statsmodels) load only for the agreement report, not `qam submit --calibration`
if TYPE_CHECKING:
    pass


# --------------------------------------------------------------------------- creating a set


@dataclass(frozen=True)
class CalibrationSetResult:
    """A calibration set and the worklist items for it (every reviewer gets every case)."""

    name: str
    case_type: str
    case_refs: tuple[str, ...]
    reviewers: tuple[str, ...]
    #: where the cases came from: "cases extract" or "assessed cases"
    source: str
    items: tuple[WorkItem, ...]
    created_at: dt.datetime
    already_existed: bool = False

    def summary(self) -> str:
        verb = "already exists" if self.already_existed else "created"
        return (
            f"Calibration set {self.name} {verb}: {len(self.case_refs)} {self.case_type} cases from the "
            f"{self.source}, each assessed by {len(self.reviewers)} reviewers ({', '.join(self.reviewers)}).\n"
            f"Reviewers submit with: qam submit --calibration {self.name} FILE"
        )


def _case_details(session: Transaction, case_type: str) -> tuple[dict[str, Case], str]:
    """Case ref -> the case: from the cases extract, else from the latest assessment of each case."""
    population = store.cases_of_type(session, case_type)
    if population:
        return {c.case_ref: Case(**case_fields(c)) for c in population}, "cases extract"
    assessed = store.assessed_cases(session, case_type)
    return {r: Case(**case_fields(a)) for r, a in assessed.items()}, "assessed cases"


def create_calibration(
    database: Database,
    *,
    name: str,
    case_type: str,
    n_cases: int,
    reviewers: Sequence[str] | Path,
    seed: int,
    now: dt.datetime,
) -> CalibrationSetResult:
    """Pick ``n_cases`` cases of ``case_type`` at random (seeded) from the cases extract, or from the
    cases already assessed when no extract is loaded, and record the set. Asking again for a set of
    the same name, type, reviewers and size returns it unchanged. Example:
    ``create_calibration(db, name="SS-2026-11", case_type="stop_search", n_cases=20,
    reviewers=["A. Khan", "B. Jones", "C. Lee"], seed=1, now=now)``.
    """
    name = name.strip()
    if not name or len(name) > 120:
        raise UsageError("a calibration set needs a name of 1 to 120 characters")
    names = read_reviewers(reviewers) if isinstance(reviewers, Path) else tuple(reviewers)
    names = check_reviewers([(r, i) for i, r in enumerate(names, start=1)])
    if len(names) < 2:
        raise UsageError("a calibration set needs at least two reviewers")
    if n_cases < 2:
        raise UsageError("a calibration set needs at least two cases (kappa is undefined for one)")
    with database.session() as session:
        details, source = _case_details(session, case_type)
        existing = store.calibration_set(session, name)
        if existing is not None:
            same = (existing.case_type, tuple(existing.reviewers), len(existing.case_refs)) == (
                case_type,
                names,
                n_cases,
            )
            if not same:
                raise UsageError(
                    f"calibration set {name} already exists ({existing.case_type}, "
                    f"{len(existing.case_refs)} cases, reviewers {', '.join(existing.reviewers)})",
                    hint="Choose another name for a new set.",
                )
            refs, created_at = tuple(existing.case_refs), existing.created_at
            if any(r not in details for r in refs):  # drawn from assessed cases before an extract was loaded
                assessed = store.assessed_cases(session, case_type)
                details.update((r, Case(**case_fields(a))) for r, a in assessed.items() if r not in details)
        else:
            if len(details) < n_cases:
                raise UsageError(
                    f"only {len(details)} {case_type} cases are available in the {source}, {n_cases} were asked for",
                    hint="Ask for fewer cases, or load the cases extract first: qam extracts load cases FILE",
                )
            refs = tuple(
                sorted(random.Random(f"{seed}:calibration:{case_type}").sample(sorted(details), n_cases))
            )
            store.add_calibration_set(
                session,
                CalibrationSet(
                    name=name,
                    case_type=case_type,
                    case_refs=list(refs),
                    reviewers=list(names),
                    created_at=now,
                ),
            )
            created_at = now
    missing = [r for r in refs if r not in details]
    if missing:
        raise EngineError(
            f"calibration set {name}: cases {', '.join(missing[:5])} are in neither the cases extract nor any assessment"
        )
    items = tuple(
        WorkItem(**case_fields(details[ref]), reviewer=reviewer, stratum="calibration")
        for reviewer in names
        for ref in refs
    )
    return CalibrationSetResult(name, case_type, refs, names, source, items, created_at, existing is not None)


class CalibrationRow(Protocol):
    """What a validated submission row offers (engine.inputs.submissions.ValidRow, read-only)."""

    @property
    def case_type(self) -> str: ...
    @property
    def case_ref(self) -> str: ...
    @property
    def reviewer(self) -> str: ...
    @property
    def source_file(self) -> str: ...
    @property
    def source_row(self) -> int: ...


def calibration_problems(database: Database, name: str, rows: Sequence[CalibrationRow]) -> list[Problem]:
    """For `qam submit --calibration NAME`: rows whose case type, case or reviewer is not the set's.

    Raises UsageError when there is no such set.
    """
    with database.session() as session:
        record = store.calibration_set(session, name)
        if record is None:
            raise UsageError(
                f"there is no calibration set '{name}'", hint="Create it with: qam calibrate create"
            )
        case_type, refs, reviewers = record.case_type, set(record.case_refs), list(record.reviewers)
    listed = {r.lower() for r in reviewers}
    problems: list[Problem] = []
    for row in rows:

        def add(column: str, message: str, row: CalibrationRow = row) -> None:
            problems.append(Problem(Location(row.source_file, row.source_row, column), message))

        if row.case_type != case_type:
            add("case_type", f"calibration set {name} is for {case_type} cases, not {row.case_type}")
        elif row.case_ref not in refs:
            add("case_ref", f"'{row.case_ref}' is not one of the cases of calibration set {name}")
        if row.reviewer.strip().lower() not in listed:
            add(
                "reviewer",
                f"'{row.reviewer}' is not a reviewer of calibration set {name} ({', '.join(reviewers)})",
            )
    return problems


# --------------------------------------------------------------------------- agreement


def calibration_report(database: Database, name: str, forms: Mapping[str, Form]) -> CalibrationReport:
    """Agreement per closed question (judgement and choice) over the cases every reviewer who has
    submitted has assessed; blanks (not applicable) leave that case out for that question. A
    reviewer's latest submission of a case counts. Questions with kappa < 0.6 come first, worst first.
    """
    with database.session() as session:
        record = store.calibration_set(session, name)
        if record is None:
            raise UsageError(
                f"there is no calibration set '{name}'", hint="Create it with: qam calibrate create"
            )
        submitted = store.calibration_assessments(session, name)
        case_type, refs, listed = record.case_type, tuple(record.case_refs), tuple(record.reviewers)
    form = forms.get(case_type)
    if form is None:
        raise EngineError(f"no QA form for case type {case_type} (calibration set {name})")
    by_key = {r.strip().lower(): r for r in listed}
    in_set = set(refs)
    answers: dict[str, dict[str, Mapping[str, Any]]] = {}
    ignored = 0
    for a in submitted:  # oldest first, so a reviewer's later submission of a case replaces the earlier
        reviewer = by_key.get(a.reviewer.strip().lower())
        if reviewer is None or a.case_ref not in in_set or a.case_type != case_type:
            ignored += 1
            continue
        answers.setdefault(a.case_ref, {})[reviewer] = a.answers
    included = tuple(r for r in listed if any(r in by for by in answers.values()))
    complete = {
        ref: answers[ref] for ref in refs if ref in answers and all(r in answers[ref] for r in included)
    }
    closed = [q for q in form.questions if q.allowed is not None]
    results = []
    for q in closed:
        ratings = []
        for ref, by_reviewer in complete.items():
            given = [by_reviewer[r].get(q.id) for r in included]
            if all(v is not None for v in given):
                ratings.append((ref, [str(v) for v in given]))
        results.append(question_agreement(q, included, ratings))
    order = {q.id: i for i, q in enumerate(closed)}
    results.sort(key=lambda r: (0, r.kappa, order[r.question]) if r.poor else (1, 0.0, order[r.question]))
    divergence = _divergence(included, closed, complete)
    reviewer_rows = tuple(
        ReviewerAgreement(r, sum(r in by for by in answers.values()), *divergence.get(r, (0, 0)))
        for r in listed
    )
    return CalibrationReport(
        name,
        case_type,
        form.title,
        refs,
        listed,
        included,
        len(complete),
        tuple(results),
        reviewer_rows,
        ignored,
    )
