"""What peel.pdf shows, as plain values: pillars, measures, figures, the comparison."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.core.figure_facts import FigureEvent
from engine.core.metrics import METRIC_UNITS, TIME_METRICS
from engine.core.models import PerformanceException, RulesetRef
from engine.core.periods import Period
from engine.inputs.extracts import CALL999_ANSWERED
from engine.rules.catalogue import Measure


@dataclass(frozen=True)
class ChangeSummary:
    """How many findings one ruleset change moved, and where."""

    ruleset: str
    original_version: str
    rerun_version: str
    criterion: str
    cause: str  # e.g. "SS01 changed (pass)", "settings changed (g1_minutes)"
    findings: int
    moves: tuple[tuple[str, int], ...]  # ("pass -> fail", 37), most first
    places: tuple[tuple[str, int], ...]  # ("BLK", 5), most first

    def text(self) -> str:
        moves = ", ".join(f"{m} {n:,}" for m, n in self.moves)
        places = ", ".join(f"{p} {n:,}" for p, n in self.places)
        return (
            f"{self.ruleset} {self.original_version} -> {self.rerun_version}, {self.cause}: "
            f"{self.findings:,} finding{'s' if self.findings != 1 else ''} moved ({moves}) in {places}"
        )


@dataclass(frozen=True)
class Comparison:
    """Each assessment's first recorded score against the rerun's, attributed to ruleset changes.

    "Original" is the earliest-stored official (non-draft) score of the assessment's current
    revision under each ruleset: what the run that first scored it reported. An assessment first
    scored by this rerun is its own original.
    """

    compared: int  # (assessment, ruleset) pairs with both an original and a rerun score
    same_version: int  # ... whose original was under the rerun's version (nothing can move)
    changed: int  # ... with at least one finding moved
    moved: tuple[dict[str, str], ...]  # one row per moved finding, COMPARE_COLUMNS
    summary: tuple[ChangeSummary, ...]

    def lines(self) -> list[str]:
        head = (
            f"Compared with the scores first recorded: {self.compared:,} assessment scores, "
            f"{self.compared - self.same_version:,} first recorded under other ruleset versions, "
            f"{self.changed:,} with findings moved ({len(self.moved):,} findings)."
        )
        return [head, *(s.text() for s in self.summary)]


@dataclass(frozen=True)
class Figure:
    """Compliance for one period (or one place in it): n applicable findings (or incidents), passes,
    Wilson 95%. For a measured time (attendance minutes, answer seconds): n incidents attended or
    calls answered, the mean with its 95% interval (ci_low, ci_high), the median and 90th
    percentile, no rate."""

    label: str
    n: int
    passes: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    exceptions: int = 0
    median: float | None = None
    p90: float | None = None
    mean: float | None = None


@dataclass(frozen=True)
class PlaceFigures:
    code: str
    name: str
    period: Figure
    quarters: tuple[Figure, ...]


@dataclass(frozen=True)
class CriterionFigure:
    ruleset: str
    criterion: str
    text: str
    minimum: float | None
    figure: Figure


@dataclass(frozen=True)
class MetricSection:
    """One threshold of an extract ruleset (response standards) feeding a measure, worked out from
    the period's incidents: the force's figures for the period and each quarter, its weekly SPC
    chart, and the places' figures."""

    ruleset: str
    criterion: str
    text: str
    minimum: float | None
    metric: str
    figures: tuple[Figure, ...]  # the whole period, then each quarter (force level)
    places: tuple[PlaceFigures, ...]
    chart: PerformanceException | None

    @property
    def has_data(self) -> bool:
        return bool(self.figures and self.figures[0].n)

    @property
    def measured(self) -> bool:
        """A measured time (attendance minutes, answer seconds), not a proportion."""
        return self.metric in TIME_METRICS

    @property
    def unit(self) -> str:
        """What n counts."""
        if self.measured:
            return "attended incidents" if self.time_unit == "minutes" else "answered calls"
        return "calls" if self.metric == CALL999_ANSWERED else "incidents"

    @property
    def time_unit(self) -> str:
        """A measured time's unit (minutes, seconds); "" for a proportion."""
        return METRIC_UNITS[self.metric] if self.measured else ""


@dataclass(frozen=True)
class MetricFigure:
    """A declared metric's figure for one span (the period, or a quarter) at the force or a place:
    ``covers`` names the points it pools ("June to October 2026", "2026-Q3"); ``n`` what was counted
    (denominators, respondents, values timed, the count, events); ``value`` the figure (a share, mean
    time, rate per ``per`` or events) with its 95% interval; a time's median."""

    label: str
    covers: str = ""
    n: float = 0
    value: float | None = None
    low: float | None = None
    high: float | None = None
    median: float | None = None
    exceptions: int = 0

    @property
    def has_data(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class PlaceMetricFigures:
    code: str
    name: str
    period: MetricFigure
    quarters: tuple[MetricFigure, ...]


@dataclass(frozen=True)
class DeclaredMetricSection:
    """One metric an extract definition declares for the measure, from the loaded figures: the
    force's figure for the period and each quarter, the places', the force's series chart, the
    thresholds on it, and an event metric's events."""

    metric: str
    extract: str
    text: str
    kind: str  # proportion | survey | time | count | event
    unit: str  # what a value is in: "minutes", "per 1,000 population", "respondents", "days"
    standards: tuple[str, ...]  # "workforce HR02: minimum 95%", one per threshold naming it
    figures: tuple[MetricFigure, ...]  # the whole period, then each quarter (force level)
    places: tuple[PlaceMetricFigures, ...]
    chart: PerformanceException | None = None
    events: tuple[FigureEvent, ...] = ()

    @property
    def has_data(self) -> bool:
        return bool(self.figures and (self.figures[0].has_data or self.events))

    @property
    def share(self) -> bool:
        """A proportion or survey share (shown as percentages)."""
        return self.kind in ("proportion", "survey")


@dataclass(frozen=True)
class MeasureSection:
    """One of the 12x12 measures in the PEEL report."""

    measure: Measure
    figures: tuple[Figure, ...]  # the whole period, then each quarter (force level)
    places: tuple[PlaceFigures, ...]
    criteria: tuple[CriterionFigure, ...]
    chart: PerformanceException | None  # the force's weekly series, carried as briefings draw it
    exceptions: tuple[PerformanceException, ...]  # the whole period's
    metrics: tuple[MetricSection, ...] = ()  # from the incidents, where an extract ruleset feeds it
    #: the metrics extract definitions declare for it, from the loaded figures
    declared: tuple[DeclaredMetricSection, ...] = ()

    @property
    def has_cases(self) -> bool:
        """Whether reviewed cases feed the measure in the period."""
        return bool(self.figures and self.figures[0].n)

    @property
    def has_data(self) -> bool:
        """Whether reviewed cases, incidents or loaded figures feed the measure in the period."""
        return (
            self.has_cases or any(m.has_data for m in self.metrics) or any(d.has_data for d in self.declared)
        )


@dataclass(frozen=True)
class PillarSection:
    pillar: str
    description: str
    measures: tuple[MeasureSection, ...]
    name: str = ""  # the catalogue's display name, e.g. "OD (people)"

    @property
    def title(self) -> str:
        return self.name or self.pillar.capitalize()


@dataclass(frozen=True)
class PeelReport:
    """Everything peel.pdf shows; pure data (peel_pdf renders it)."""

    force_name: str
    period: Period
    quarters: tuple[Period, ...]
    as_of: str  # "2026-03-31" or "latest published"
    rulesets: tuple[RulesetRef, ...]
    run_id: str
    cases_reviewed: int
    exception_counts: tuple[tuple[str, Mapping[str, int]], ...]  # (period label, kind -> count)
    pillars: tuple[PillarSection, ...]
    comparison: Comparison | None
    draft: bool = False
    #: the catalogue's items the force has not named yet (M3): no pillar, shown as "not defined"
    not_defined: tuple[str, ...] = ()
    #: (period label, how many team exceptions: a team's own, within its place), as exception_counts
    team_exception_counts: tuple[tuple[str, int], ...] = ()

    @property
    def thresholds(self) -> list[MetricSection]:
        """Every response standard shown (none when no extract ruleset is in force), in page order."""
        return [t for pillar in self.pillars for s in pillar.measures for t in s.metrics]
