"""What force.pdf shows, as plain strings and numbers (its rendering is engine.reports.force_brief)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from engine.core.models import KIND_ORDER, PerformanceException, RulesetRef
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
    measures: tuple[str, ...]  # the measures behind them, sorted

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class PrioritySummary:
    """One page of the force summary."""

    priority: int
    name: str
    places_with: tuple[PlaceCounts, ...]  # alphabetical by place name: never ranked
    places_without: tuple[PlaceInfo, ...]  # alphabetical by place name
    force_exceptions: tuple[PerformanceException, ...]  # place == "FORCE", most serious first


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

    @property
    def places_briefed(self) -> tuple[PlaceInfo, ...]:
        codes = {pc.place.code for p in self.priorities for pc in p.places_with}
        return tuple(p for p in self.places if p.code in codes)


def build_force_summary(
    exceptions: Sequence[PerformanceException],
    places: Sequence[PlaceLike],
    run: BriefingRun,
    not_measured: Sequence[str] = (),
) -> ForceSummary:
    """The force summary: per priority, every place's counts by kind, the places with none, and the
    force-level exceptions. Places are listed alphabetically by name, never ranked. ``not_measured``
    names the measures (ids, catalogue order, kept as given) not measured anywhere in the force."""
    infos = tuple(sorted((PlaceInfo.of(p) for p in places), key=lambda p: (p.name, p.code)))
    check_exceptions(exceptions, {p.code for p in infos}, run.priority_names)
    pages = []
    for priority, name in sorted(run.priority_names.items()):
        here = [e for e in exceptions if e.priority == priority]
        with_: list[PlaceCounts] = []
        without: list[PlaceInfo] = []
        for place in infos:
            mine = [e for e in here if e.place == place.code]
            if not mine:
                without.append(place)
                continue
            counts = tuple(sum(1 for e in mine if e.kind is k) for k in KIND_ORDER)
            with_.append(PlaceCounts(place, counts, tuple(sorted({e.measure for e in mine}))))
        force_level = tuple(sorted((e for e in here if e.place == FORCE_PLACE), key=seriousness_key))
        pages.append(PrioritySummary(priority, name, tuple(with_), tuple(without), force_level))
    return ForceSummary(
        places=infos, priorities=tuple(pages), not_measured=tuple(not_measured), **run._shared()
    )
