"""What force.pdf shows, as plain strings and numbers (its rendering is engine.reports.force_brief)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from engine.analysis.recognition import Recognition
from engine.core.models import KIND_ORDER, ExceptionKind, PerformanceException, RulesetRef
from engine.reports.briefing_data import (
    DEFAULT_MEASURE_UNITS,
    FORCE_PLACE,
    BriefingRun,
    PlaceInfo,
    PlaceLike,
    check_exceptions,
    seriousness_key,
)


@dataclass(frozen=True)
class PlaceCounts:
    """One place's exception counts under one priority, by kind (in KIND_ORDER)."""

    place: PlaceInfo
    counts: tuple[int, ...]
    measures: tuple[str, ...]  # the measures behind them, in measure_order (D7 before D11)
    #: how many team exceptions its teams have (counted apart: not in ``counts``)
    teams: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts)

    @property
    def critical(self) -> int:
        """How many critical failures: a place with any is listed first."""
        return self.counts[KIND_ORDER.index(ExceptionKind.CRITICAL)]


@dataclass(frozen=True)
class PrioritySummary:
    """One page of the force summary."""

    priority: int
    name: str
    places_with: tuple[PlaceCounts, ...]  # critical failures first, then by name: never ranked
    places_without: tuple[PlaceInfo, ...]  # alphabetical by place name
    force_exceptions: tuple[PerformanceException, ...]  # place == "FORCE", most serious first

    @property
    def empty(self) -> bool:
        """Nothing to report under this priority: no place and no force-level exception."""
        return not self.places_with and not self.force_exceptions


@dataclass(frozen=True)
class ForceSummary:
    """Everything force.pdf shows. Build with :func:`build_force_summary`."""

    force_name: str
    period_label: str
    period_from: str
    period_to: str
    places: tuple[PlaceInfo, ...]
    priorities: tuple[PrioritySummary, ...]
    rulesets: tuple[RulesetRef, ...]
    run_id: str
    draft: bool = False
    measure_names: Mapping[str, str] = field(default_factory=dict)
    measure_units: Mapping[str, str] = field(default_factory=lambda: DEFAULT_MEASURE_UNITS)
    #: measure ids no place could be measured on this period (no cases, no extract), catalogue order
    not_measured: tuple[str, ...] = ()
    #: every place with an exception under any priority, its counts over all priorities; places
    #: with a critical failure first, then by name (never ranked by count)
    overview: tuple[PlaceCounts, ...] = ()
    #: the places with nothing to report under any priority, by name
    places_without: tuple[PlaceInfo, ...] = ()
    #: the period's good news (engine.analysis.recognition), listed after the exceptions
    recognition: tuple[Recognition, ...] = ()

    @property
    def places_briefed(self) -> tuple[PlaceInfo, ...]:
        codes = {pc.place.code for p in self.priorities for pc in p.places_with}
        codes |= {pc.place.code for pc in self.overview}  # a place with team exceptions only too
        return tuple(p for p in self.places if p.code in codes)

    @property
    def force_exceptions(self) -> tuple[PerformanceException, ...]:
        """The force-level exceptions of every priority, most serious first."""
        return tuple(sorted((e for p in self.priorities for e in p.force_exceptions), key=seriousness_key))


def build_force_summary(
    exceptions: Sequence[PerformanceException],
    places: Sequence[PlaceLike],
    run: BriefingRun,
    not_measured: Sequence[str] = (),
    team_exceptions: Sequence[PerformanceException] = (),
) -> ForceSummary:
    """The force summary: every place's counts by kind over all priorities, and how many team
    exceptions its teams have, and the places with neither (the overview), then per priority the
    place counts and its force-level exceptions. Places with a
    critical failure come first, then the rest by name: never ranked by count. ``not_measured``
    names the measures (ids, catalogue order, kept as given) not measured anywhere in the force."""
    infos = tuple(sorted((PlaceInfo.of(p) for p in places), key=lambda p: (p.name, p.code)))
    check_exceptions(exceptions, {p.code for p in infos}, run.priority_names)
    pages = []
    for priority, name in sorted(run.priority_names.items()):
        here = [e for e in exceptions if e.priority == priority]
        with_ = _place_counts(here, infos)
        without = tuple(p for p in infos if p.code not in {pc.place.code for pc in with_})
        force_level = tuple(sorted((e for e in here if e.place == FORCE_PLACE), key=seriousness_key))
        pages.append(PrioritySummary(priority, name, with_, without, force_level))
    check_exceptions(team_exceptions, {p.code for p in infos}, run.priority_names)
    overview = _place_counts(exceptions, infos, team_exceptions)
    briefed = {pc.place.code for pc in overview}
    return ForceSummary(
        places=infos,
        priorities=tuple(pages),
        not_measured=tuple(not_measured),
        overview=overview,
        places_without=tuple(p for p in infos if p.code not in briefed),
        **run._shared(),
    )


def _place_counts(
    exceptions: Sequence[PerformanceException],
    places: Sequence[PlaceInfo],
    team_exceptions: Sequence[PerformanceException] = (),
) -> tuple[PlaceCounts, ...]:
    """Each place's counts by kind (and its teams' count), for the places with any: those with a
    critical failure first, then in the order of ``places`` (by name)."""
    out = []
    for place in places:
        mine = [e for e in exceptions if e.place == place.code]
        teams = sum(1 for e in team_exceptions if e.place == place.code)
        if mine or teams:
            counts = tuple(sum(1 for e in mine if e.kind is k) for k in KIND_ORDER)
            measures = tuple(sorted({e.measure for e in mine}, key=measure_order))
            out.append(PlaceCounts(place, counts, measures, teams))
    return tuple(sorted(out, key=lambda pc: not pc.critical))  # stable: by name within each


def measure_order(measure: str) -> tuple[tuple[int, str], ...]:
    """A sort key that reads ids as people do: 'D7' before 'D11', 'M2' before 'M10'."""
    return tuple(
        (int(part), "") if part.isdigit() else (-1, part) for part in re.findall(r"\d+|\D+", measure)
    )
