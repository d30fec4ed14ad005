"""Reviewer agreement on a calibration set: per question and per reviewer, with kappa."""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.analysis.kappa import KappaEstimate
from engine.inputs.forms import Question

#: kappa below this is poor agreement: those questions come first in the report
POOR_KAPPA = 0.6


#: Landis & Koch (1977) strength-of-agreement labels, by upper bound (below 0: "poor")
_STRENGTH = ((0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial"), (1.0, "almost perfect"))


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

    from engine.analysis.kappa import cohen_kappa, fleiss_kappa

    compute: Callable[[Any], KappaEstimate] = cohen_kappa if kind == "cohen" else fleiss_kappa
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return compute(table)


def question_agreement(
    question: Question, reviewers: Sequence[str], ratings: Sequence[tuple[str, Sequence[str]]]
) -> QuestionAgreement:
    """Agreement on one question from (case_ref, answers in ``reviewers`` order) for cases everyone answered."""
    from engine.analysis.stats import wilson_interval

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
