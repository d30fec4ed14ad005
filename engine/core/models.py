"""Small frozen types shared across stages (forms, rulesets, scoring, aggregation)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class AnswerType(StrEnum):
    """The answer types a QA form question can have."""

    JUDGEMENT = "judgement"  # a subset of yes/no/partly/na
    CHOICE = "choice"  # one of a closed list of codes
    DATE = "date"  # ISO YYYY-MM-DD
    INTEGER = "integer"  # whole number, optional min/max
    TEXT = "text"  # free text, stored exactly


JUDGEMENT_ANSWERS: tuple[str, ...] = ("yes", "no", "partly", "na")

COMMON_COLUMNS: tuple[str, ...] = (
    "assessment_id",
    "case_type",
    "case_ref",
    "place",
    "team",
    "officer",
    "reviewer",
    "assessed_on",
    "case_date",
)


@dataclass(frozen=True, order=True)
class RulesetRef:
    """One ruleset version, as runs record it (manifests, exceptions.json) and every page's footer
    names it: ``{"id", "version", "sha256"}`` in JSON. Ordered by id, then version and hash."""

    id: str
    version: str
    sha256: str

    @property
    def short_hash(self) -> str:
        return self.sha256[:8]

    @property
    def label(self) -> str:
        return f"{self.id} {self.version} ({self.short_hash})"

    def row(self) -> tuple[str, str, str]:
        """(id, version, sha256), as tables show it."""
        return (self.id, self.version, self.sha256)

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "version": self.version, "sha256": self.sha256}

    @classmethod
    def from_json(cls, entry: Mapping[str, str]) -> RulesetRef:
        """From an exceptions.json / run manifest entry {"id", "version", "sha256"}."""
        return cls(str(entry["id"]), str(entry["version"]), str(entry["sha256"]))


@dataclass(frozen=True)
class FieldSpec:
    """What a ruleset may know about one form question: its type and allowed values."""

    id: str
    type: AnswerType
    #: allowed answers for judgement/choice questions, else None
    choices: tuple[str, ...] | None = None
    minimum: int | None = None
    maximum: int | None = None


class Outcome(StrEnum):
    """The outcome of one criterion for one case."""

    PASSED = "pass"
    FAILED = "fail"
    NOT_APPLICABLE = "na"


class ExceptionKind(StrEnum):
    """The four kinds of performance exception (docs/outputs.md), most serious first."""

    CRITICAL = "critical"
    BELOW_STANDARD = "below_standard"
    SPECIAL_CAUSE = "special_cause"
    THRESHOLD = "threshold"


#: the kinds, most serious first: the order briefings and exceptions.json list them in
KIND_ORDER: tuple[ExceptionKind, ...] = tuple(ExceptionKind)


#: how a why-trace's lines after the first begin: why the criterion applied to the case (scoring
#: writes them; the cases CSV keeps them, a PDF does not)
APPLIES = "applies: "


@dataclass(frozen=True)
class CaseDetail:
    """A failing case behind an exception, as a briefing lists it."""

    case_ref: str
    team: str
    officer: str
    reviewer: str
    assessed_on: str  # ISO date
    criterion_text: str
    trace: tuple[str, ...]  # why it failed, in the criterion's own words
    note: str  # the reviewer's free-text note, exactly as submitted (escape when rendering)
    criterion: str = ""  # the criterion's id, e.g. "SS01"
    critical: bool = False  # the criterion was critical when the case was scored


@dataclass(frozen=True)
class SeriesPoint:
    """One week of an SPC series."""

    week: str  # ISO week label, e.g. "2026-W47"
    value: float | None  # compliance rate (0..1) or measured value; None = no data that week
    n: int
    flagged: bool = False  # part of a special-cause signal in the concerning direction


@dataclass(frozen=True)
class SpcChart:
    """An XmR chart of a (place, measure) weekly series, with the signal that raised it."""

    points: tuple[SeriesPoint, ...]
    mean: float
    lower_limit: float
    upper_limit: float
    baseline_weeks: int  # how many points the limits were computed from
    rules: tuple[str, ...]  # which MDC rules fired, e.g. ("shift",)
    #: "consistently_pass" | "consistently_fail" | "hit_and_miss" | "process_changed" | None
    assurance: str | None
    direction: str  # "higher" or "lower" is better


@dataclass(frozen=True)
class PerformanceException:
    """One exception for one place (or the force, place="FORCE"); what briefings show.

    The first block of fields is exactly one entry of exceptions.json (docs/outputs.md);
    the rest feed the PDF only.
    """

    place: str
    priority: int
    measure: str
    peel: str
    iserve: tuple[str, ...]
    ruleset: str
    criterion: str
    kind: ExceptionKind
    reason: str
    n: int
    passed: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    standard: float | None
    cases: tuple[str, ...]
    # --- for the briefing only
    criterion_text: str = ""
    details: tuple[CaseDetail, ...] = ()
    chart: SpcChart | None = None
    frame_size: int | None = None  # cases eligible for review, when a sample frame is recorded
    guidance: str = ""  # the criterion's guidance from its ruleset: who should act and how
    #: the team within ``place`` a team exception is about ("" for a place or FORCE exception);
    #: exceptions.json lists team exceptions apart, under "team_exceptions" (docs/outputs.md)
    team: str = ""

    def to_json(self) -> dict[str, object]:
        """The exceptions.json entry: exactly the contract's keys, rates rounded to 3 places."""

        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 3)

        return {
            "place": self.place,
            "priority": self.priority,
            "measure": self.measure,
            "peel": self.peel,
            "iserve": list(self.iserve),
            "ruleset": self.ruleset,
            "criterion": self.criterion,
            "kind": self.kind.value,
            "reason": self.reason,
            "n": self.n,
            "passed": self.passed,
            "rate": r(self.rate),
            "ci_low": r(self.ci_low),
            "ci_high": r(self.ci_high),
            "standard": self.standard,
            "cases": list(self.cases),
        }
