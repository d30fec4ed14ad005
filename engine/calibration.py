"""Reviewer calibration: sets of cases every listed reviewer assesses independently, and how far they
agree per question (percentage agreement, and Cohen's kappa for two reviewers or Fleiss' for more).

Calibration submissions are assessments whose calibration_set names the set: they never count toward
performance figures (engine.sampling_store.PERFORMANCE_ONLY is the filter).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from engine import sampling_store as store
from engine.cases import Case, case_fields
from engine.db import CalibrationSet, Database
from engine.errors import EngineError, Location, Problem, UsageError
from engine.forms import Form, Question
from engine.worklists import WorkItem, check_reviewers, read_reviewers

# numpy and engine.stats (statsmodels) load only for the agreement report, not `qam submit --calibration`
if TYPE_CHECKING:
    from engine.stats import KappaEstimate

#: kappa below this is poor agreement: those questions come first in the report
POOR_KAPPA = 0.6
#: Landis & Koch (1977) strength-of-agreement labels, by upper bound (below 0: "poor")
_STRENGTH = ((0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial"), (1.0, "almost perfect"))


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


def _case_details(session: Session, case_type: str) -> tuple[dict[str, Case], str]:
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
    """What a validated submission row offers (engine.submissions.ValidRow)."""

    case_type: str
    case_ref: str
    reviewer: str
    source_file: str
    source_row: int


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


@dataclass(frozen=True)
class Disagreement:
    """One case where reviewers answered a question differently: (reviewer, answer) side by side."""

    case_ref: str
    answers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class QuestionAgreement:
    """Agreement on one closed question across the cases every reviewer answered."""

    question: str
    text: str
    #: "cohen", "fleiss", or "" when kappa could not be computed (see note)
    method: str
    cases: int
    agreed: int
    agreement_low: float | None
    agreement_high: float | None
    kappa: float | None
    kappa_low: float | None
    kappa_high: float | None
    note: str
    disagreements: tuple[Disagreement, ...]

    @property
    def agreement(self) -> float | None:
        return self.agreed / self.cases if self.cases else None

    @property
    def poor(self) -> bool:
        return self.kappa is not None and self.kappa < POOR_KAPPA

    @property
    def agreement_text(self) -> str:
        """'85% (64%-95%)', or '-' without cases."""
        p, low, high = self.agreement, self.agreement_low, self.agreement_high
        if p is None:
            return "-"
        return f"{p:.0%}" + (f" ({low:.0%}-{high:.0%})" if low is not None and high is not None else "")

    @property
    def kappa_text(self) -> str:
        """'0.41 (0.12 to 0.70)', or '-' when undefined."""
        if self.kappa is None:
            return "-"
        low, high = self.kappa_low, self.kappa_high
        return f"{self.kappa:.2f}" + (
            f" ({low:.2f} to {high:.2f})" if low is not None and high is not None else ""
        )

    @property
    def strength(self) -> str:
        return strength(self.kappa)


@dataclass(frozen=True)
class ReviewerAgreement:
    """How often a reviewer's answer differs from the majority answer of the other reviewers."""

    reviewer: str
    cases_submitted: int
    #: answers compared: the other reviewers answered and a strict majority of them agreed
    compared: int
    differs: int

    @property
    def rate(self) -> float | None:
        return self.differs / self.compared if self.compared else None


@dataclass(frozen=True)
class CalibrationReport:
    """Per question agreement (poor agreement first) and per reviewer divergence for one set."""

    name: str
    case_type: str
    form_title: str
    case_refs: tuple[str, ...]
    reviewers: tuple[str, ...]
    #: listed reviewers with at least one submission: the raters compared
    included: tuple[str, ...]
    #: cases every included reviewer has submitted: the subjects
    complete_cases: int
    questions: tuple[QuestionAgreement, ...]
    reviewer_rows: tuple[ReviewerAgreement, ...]
    #: submissions for the set by reviewers not listed, or for cases not in it (left out)
    ignored: int

    @property
    def poor(self) -> tuple[QuestionAgreement, ...]:
        return tuple(q for q in self.questions if q.poor)

    def summary(self) -> str:
        lines = [
            f"Calibration {self.name} ({self.case_type}): {len(self.case_refs)} cases, "
            f"{self.complete_cases} assessed by all {len(self.included)} reviewers who submitted "
            f"({', '.join(self.included) or 'none yet'})."
        ]
        absent = [r for r in self.reviewers if r not in self.included]
        if absent:
            lines.append(f"No submissions yet from: {', '.join(absent)}.")
        if self.ignored:
            lines.append(
                f"{self.ignored} submissions by unlisted reviewers or for other cases were left out."
            )
        lines.append(
            f"Poor agreement (kappa < {POOR_KAPPA}) on {len(self.poor)} of {len(self.questions)} questions."
        )
        lines.append(f"  {'question':<34} {'cases':>5} {'agreement':>18} {'kappa':>22}  strength")
        for q in self.questions:
            lines.append(
                f"  {q.question[:34]:<34} {q.cases:>5} {q.agreement_text:>18} {q.kappa_text:>22}  {q.strength or q.note}"
            )
        lines.append("Differs from the majority of the other reviewers:")
        for r in self.reviewer_rows:
            rate = "-" if r.rate is None else f"{r.rate:.0%}"
            lines.append(
                f"  {r.reviewer}: {rate} ({r.differs} of {r.compared} answers; {r.cases_submitted} cases)"
            )
        return "\n".join(lines)


def strength(kappa: float | None) -> str:
    """Landis & Koch's label: 0.45 -> 'moderate' (0.41-0.60); below 0 -> 'poor'; None -> ''."""
    if kappa is None:
        return ""
    if kappa < 0:
        return "poor"
    return next((label for bound, label in _STRENGTH if kappa <= bound), "almost perfect")


def _finite(x: float) -> float | None:
    return None if math.isnan(x) else x


def _estimate(kind: str, table: list[list[int]]) -> KappaEstimate:
    # statsmodels warns (and gives NaN) when a variance is undefined, e.g. one reviewer used one answer
    # only; the caller shows such an interval as missing rather than failing the report.
    import numpy as np

    from engine.stats import cohen_kappa, fleiss_kappa

    compute: Callable[[Any], KappaEstimate] = cohen_kappa if kind == "cohen" else fleiss_kappa
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return compute(table)


def question_agreement(
    question: Question, reviewers: Sequence[str], ratings: Sequence[tuple[str, Sequence[str]]]
) -> QuestionAgreement:
    """Agreement on one question from (case_ref, answers in ``reviewers`` order) for cases everyone answered."""
    from engine.stats import wilson_interval

    cases = len(ratings)
    agreed = sum(len(set(answers)) == 1 for _, answers in ratings)
    low, high = wilson_interval(agreed, cases) if cases else (math.nan, math.nan)
    categories = list(question.allowed or ())
    categories += sorted({a for _, answers in ratings for a in answers} - set(categories))
    used = {a for _, answers in ratings for a in answers}
    method = "cohen" if len(reviewers) == 2 else "fleiss"
    note = ""
    if len(reviewers) < 2:
        note = "needs submissions from two reviewers"
    elif cases < 2:
        note = "fewer than 2 cases answered by every reviewer"
    elif len(used) < 2:
        note = f"every answer was '{next(iter(used))}': kappa undefined"
    estimate: KappaEstimate | None = None
    if not note:
        index = {c: i for i, c in enumerate(categories)}
        if method == "cohen":
            table = [[0] * len(categories) for _ in categories]
            for _, (a, b) in ratings:
                table[index[a]][index[b]] += 1
        else:
            table = [[Counter(answers)[c] for c in categories] for _, answers in ratings]
        estimate = _estimate(method, table)
    kappa = None if estimate is None else _finite(estimate.kappa)
    kappa_low = kappa_high = None
    if estimate is not None and kappa is not None and not math.isnan(estimate.se):
        kappa_low, kappa_high = max(-1.0, estimate.ci_low), min(1.0, estimate.ci_high)
    return QuestionAgreement(
        question=question.id,
        text=question.text,
        method=method if kappa is not None else "",
        cases=cases,
        agreed=agreed,
        agreement_low=_finite(low),
        agreement_high=_finite(high),
        kappa=kappa,
        kappa_low=kappa_low,
        kappa_high=kappa_high,
        note=note,
        disagreements=tuple(
            Disagreement(ref, tuple(zip(reviewers, answers, strict=True)))
            for ref, answers in ratings
            if len(set(answers)) > 1
        ),
    )


def _divergence(
    reviewers: Sequence[str],
    questions: Sequence[Question],
    answers: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> dict[str, tuple[int, int]]:
    """reviewer -> (compared, differs) against the strict majority of the other reviewers' answers."""
    out = {}
    for reviewer in reviewers:
        compared = differs = 0
        for by_reviewer in answers.values():
            mine = by_reviewer.get(reviewer, {})
            for q in questions:
                own = mine.get(q.id)
                others = [by_reviewer[r].get(q.id) for r in reviewers if r != reviewer and r in by_reviewer]
                others = [a for a in others if a is not None]
                if own is None or not others:
                    continue
                top, count = Counter(others).most_common(1)[0]
                if count * 2 > len(others):
                    compared += 1
                    differs += own != top
        out[reviewer] = (compared, differs)
    return out


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
