"""Performance exceptions (not Python errors: those are engine/core/errors.py): which to raise, and why.

The rules are docs/outputs.md "When is something an exception"; every exception carries one
plain-English reason, all worded in engine.analysis.reasons. This module runs the finders over a
period (criteria_findings, spc_findings, threshold_findings) and orders what they find. Choices:

- critical: one exception per (place, criterion) listing every failing case with its trace;
  critical criteria get no below_standard exception on top.
- below_standard / threshold: the whole Wilson 95 % interval is on the wrong side of the
  standard (for a reviewed sample with a recorded frame, the interval narrowed by the
  finite-population correction). Shortfalls too small to be sure of are returned as SmallSample
  records instead.
- special_cause: the (place, measure) or (place, criterion) weekly series signals in the concerning
  direction *and the signal includes the period's latest week*; a signal that ended weeks ago is
  old news and was reported then. A measure's weekly point is the share of the week's cases that
  met every applicable criterion of it (each case once, however many criteria it failed); a
  criterion's, the share of the cases it applied to that met it. Critical criteria get no
  criterion special cause (every failure of them is reported). Extract metrics get the same SPC
  per (place, metric).
- Declared metrics' figures (the tidy figures extract): figure_findings, for the metrics a
  threshold names: threshold, special_cause and, for each event, critical.
- Teams: the same statistical rules within each place (team_findings: below_standard,
  special_cause, threshold on team figures; never critical), kept apart as team_exceptions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from engine.analysis import daily
from engine.analysis.criteria_findings import below_standard, criterion_cells, critical_failures
from engine.analysis.day_sums import OutcomeDays, weeks_to
from engine.analysis.evidence import SmallSample, catalogue_of
from engine.analysis.figure_findings import FigureData, figure_findings
from engine.analysis.outcomes import Outcomes, failing, in_period
from engine.analysis.spc_findings import SpcSettings, metric_special_causes, outcome_special_causes
from engine.analysis.team_findings import team_findings
from engine.analysis.threshold_findings import thresholds
from engine.core.models import KIND_ORDER, PerformanceException
from engine.core.periods import week_label
from engine.inputs.extracts import ResponseSettings


@dataclass(frozen=True)
class PeriodFindings:
    """Everything the exception rules found for one period."""

    exceptions: list[PerformanceException]
    small_samples: list[SmallSample]
    #: the team exceptions (PerformanceException.team set), apart from the place and FORCE ones
    team_exceptions: list[PerformanceException] = field(default_factory=list)


def _measure_key(measure: str) -> tuple[int, int, str]:
    """M1..M12 before D1..D12, numerically."""
    head, tail = measure[:1], measure[1:]
    order = {"M": 0, "D": 1}.get(head, 2)
    return (order, int(tail), "") if tail.isdigit() else (order, 0, measure)


def sort_exceptions(items: Iterable[PerformanceException]) -> list[PerformanceException]:
    """Most serious kind first, then priority, place, measure, criterion, ruleset (and team)."""
    return sorted(
        items,
        key=lambda e: (
            KIND_ORDER.index(e.kind),
            e.priority,
            e.place,
            _measure_key(e.measure),
            e.criterion,
            e.ruleset,
            e.team,
        ),
    )


def _once(
    shared: dict[Any, Any] | None, key: tuple[str, date], find: Callable[[], list[PerformanceException]]
) -> list[PerformanceException]:
    """``find()``, or what it found for ``key`` before in ``shared`` (its exceptions are frozen)."""
    if shared is None:
        return find()
    if key not in shared:
        shared[key] = find()
    return list(shared[key])


def assess_period(
    outcomes: Outcomes,
    period_from: date,
    period_to: date,
    *,
    aggregates: pd.DataFrame,
    outcome_days: OutcomeDays,
    incident_days: daily.Days | None = None,
    metric_standards: Sequence[Mapping[str, Any]] = (),
    place_settings: Mapping[str, str] | None = None,
    response: ResponseSettings | None = None,
    spc: SpcSettings | None = None,
    min_cases: int = 1,
    frames: Mapping[tuple[str, str], int] | None = None,
    figures: FigureData | None = None,
    shared: dict[Any, Any] | None = None,
) -> PeriodFindings:
    """Find every exception for the period, plus the small-sample shortfalls for the record.

    ``outcomes``: from outcomes.outcomes_frame, holding the period (later rows are ignored) and the
    weeks before it, whose failing cases a special cause names; only its failing rows are read
    (outcomes.failing: passing just those is the same). ``aggregates``: the period's
    aggregate table (aggregate.aggregate, computed with the same ``frames``), whose place x
    criterion rows are judged. ``outcome_days``: day summaries (engine.analysis.daily.outcome_days)
    of the outcomes over the SPC history and the period, e.g. kept from earlier runs, or the same as
    arrays (day_sums.DaySums, which several periods share).
    ``incident_days``: the incidents' day summaries (engine.analysis.daily.incident_days), None
    without an incident extract. ``metric_standards``: rows {ruleset, criterion, metric, text,
    measure, minimum (None = SPC only), direction} from the response-standards ruleset.
    ``place_settings`` (place -> urban / rural) only words the Grade 1 reason. ``min_cases``: the
    fewest applicable cases for a below_standard or threshold exception (1 = the pure Wilson rule of
    docs/outputs.md). ``frames``: {(place, ruleset): N}, the sample frame of the place's reviews of that
    ruleset's case type where recorded: the (place, criterion) intervals then carry the
    finite-population correction (see aggregate.aggregate) and the exceptions name N ("30 of 212
    searches reviewed"). ``figures``: the declared metrics' stored figures and the thresholds on
    them (figure_findings). Team exceptions (team_findings) need ``outcome_days`` made with
    team_findings.with_team_days for their special causes; without the teams' counts there are none.
    ``shared``: a dict kept across the periods of one run, analysed from the same rows and settings
    (a PEEL year and its last quarter): the places' special causes, which depend only on the
    history up to the period's end, are found once for each end.
    """
    spc = spc or SpcSettings()
    cat = catalogue_of(outcomes)
    # the finders read the frame only for its failing cases (outcomes.failures): their rows alone are
    # selected by period below (a run analysing several periods passes them so, made once)
    outcomes = failing(outcomes)
    history = in_period(outcomes, None, period_to)
    period = in_period(history, period_from, period_to)
    latest_week = week_label(period_to)
    found: list[PerformanceException] = []
    small: list[SmallSample] = []

    frames = frames or {}
    cells = criterion_cells(aggregates)
    found += critical_failures(period, cells, cat, frames)
    below, notes = below_standard(period, cells, cat, min_cases, frames)
    found += below
    small += notes
    summed = weeks_to(outcome_days, period_to, latest_week)  # the place's and the teams' weekly series
    found += _once(shared, ("outcomes", period_to), lambda: outcome_special_causes(history, summed, cat, spc))
    if incident_days is not None and metric_standards:
        inc = daily.between(incident_days, None, period_to)
        t, notes = thresholds(
            daily.between(inc, period_from, period_to),
            metric_standards,
            cat,
            place_settings or {},
            response or ResponseSettings(),
            min_cases,
            latest_week,
        )
        found += t
        small += notes
        found += _once(
            shared,
            ("incidents", period_to),
            lambda: metric_special_causes(inc, metric_standards, cat, latest_week, spc),
        )
    if figures is not None:
        found += figure_findings(figures, cat, period_from, period_to, spc)
    small.sort(key=lambda s: (s.place, _measure_key(s.measure), s.ruleset, s.criterion))
    teams = team_findings(
        history,
        period,
        aggregates=aggregates,
        summed=summed,
        cat=cat,
        latest_week=latest_week,
        spc=spc,
        min_cases=min_cases,
        place_found=found,
        figures=figures,
        span=(period_from, period_to),
    )
    return PeriodFindings(sort_exceptions(found), small, sort_exceptions(teams))
