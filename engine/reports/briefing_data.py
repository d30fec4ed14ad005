"""What the briefings show, as plain strings and numbers: place briefings and the force summary, in
display order (their wording is engine.reports.wording). No pandas, no reportlab (STYLE.md 11).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol, TypedDict

from engine.core.errors import Location, Problem, ReportError
from engine.core.models import CASE_TYPES, KIND_ORDER, PerformanceException, RulesetRef

#: the place code of an exception that belongs to the whole force (docs/outputs.md)
FORCE_PLACE = "FORCE"

#: the four Police and Crime Plan priorities; pass another mapping to the builders to override
PRIORITY_NAMES: Mapping[int, str] = MappingProxyType(
    {
        1: "Respond to the public and keep people safe",
        2: "Bring offenders to justice",
        3: "Protect vulnerable people and support victims",
        4: "Build trust and confidence",
    }
)

#: most serious first: the order of ExceptionKind is the order of seriousness

#: what one unit of n is called, by measure ("30 of 212 searches reviewed"); override per force
DEFAULT_MEASURE_UNITS: Mapping[str, str] = MappingProxyType(
    {
        "D11": "searches",
        "M8": "victim cases",
        "M5": "case files",
        "D5": "investigations",
        "D7": "domestic abuse cases",
        "M2": "incidents",
    }
)


class PlaceLike(Protocol):
    """Anything shaped like a force file's place (engine.core.config.Place or PlaceInfo)."""

    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def division(self) -> str: ...
    @property
    def leader(self) -> str: ...
    @property
    def setting(self) -> str: ...


@dataclass(frozen=True)
class PlaceInfo:
    """A place as a briefing names it."""

    code: str
    name: str
    division: str
    leader: str
    setting: str

    @classmethod
    def of(cls, place: PlaceLike) -> PlaceInfo:
        return cls(place.code, place.name, place.division, place.leader, place.setting)


@dataclass(frozen=True)
class PriorityGroup:
    """The exceptions of one priority, most serious first."""

    priority: int
    name: str
    exceptions: tuple[PerformanceException, ...]


@dataclass(frozen=True)
class PlaceBriefing:
    """Everything one place's PDF shows. Build with :func:`build_place_briefings`."""

    place: PlaceInfo
    force_name: str
    period_label: str  # e.g. "2026-W47"
    period_from: str  # ISO date
    period_to: str  # ISO date
    cases_reviewed: int
    cases_reviewed_by_type: Mapping[str, int]
    #: display order: priority groups (most serious group first), most serious first within a group
    exceptions: tuple[PerformanceException, ...]
    rulesets: tuple[RulesetRef, ...]
    run_id: str
    draft: bool = False
    #: cases eligible for review by case type, when the sample frame is known
    frame_sizes: Mapping[str, int] | None = None
    measure_names: Mapping[str, str] = field(default_factory=dict)
    measure_units: Mapping[str, str] = field(default_factory=lambda: DEFAULT_MEASURE_UNITS)
    priority_names: Mapping[int, str] = field(default_factory=lambda: PRIORITY_NAMES)
    #: measure ids of the catalogue with no data for this place this period, in catalogue order
    not_measured: tuple[str, ...] = ()
    #: measure id -> priority, for every measure of the catalogue (to group what was not measured)
    measure_priorities: Mapping[str, int] = field(default_factory=dict)

    def groups(self) -> tuple[PriorityGroup, ...]:
        """The exceptions grouped by priority, in display order (page 1 and the sections both use it)."""
        return _group_by_priority(self.exceptions, self.priority_names)

    def in_order(self) -> tuple[PerformanceException, ...]:
        """The exceptions in display order, numbered 1.. in the briefing."""
        return tuple(e for g in self.groups() for e in g.exceptions)

    def quiet_priorities(self) -> tuple[tuple[int, str], ...]:
        """The priorities with no exception this period: good news, named once on page 1."""
        seen = {e.priority for e in self.exceptions}
        return tuple((p, n) for p, n in sorted(self.priority_names.items()) if p not in seen)


# --- ordering ---------------------------------------------------------------------------------


def seriousness_key(e: PerformanceException) -> tuple[int, int, str, str, str]:
    """Most serious kind first, then priority, measure, criterion: a total, stable order."""
    return (KIND_ORDER.index(e.kind), e.priority, e.measure, e.criterion, e.ruleset)


def _group_by_priority(
    exceptions: Iterable[PerformanceException], priority_names: Mapping[int, str]
) -> tuple[PriorityGroup, ...]:
    by_priority: dict[int, list[PerformanceException]] = {}
    for e in exceptions:
        by_priority.setdefault(e.priority, []).append(e)
    groups = [
        PriorityGroup(p, priority_names.get(p, f"Priority {p}"), tuple(sorted(es, key=seriousness_key)))
        for p, es in by_priority.items()
    ]
    # the group holding the most serious exception leads, so a critical failure is read first
    groups.sort(key=lambda g: (seriousness_key(g.exceptions[0])[0], g.priority))
    return tuple(groups)


def display_order(
    exceptions: Iterable[PerformanceException], priority_names: Mapping[int, str] = PRIORITY_NAMES
) -> tuple[PerformanceException, ...]:
    """Exceptions in the order a briefing shows them (the order of :meth:`PlaceBriefing.groups`)."""
    return tuple(e for g in _group_by_priority(exceptions, priority_names) for e in g.exceptions)


# --- builders ---------------------------------------------------------------------------------


def check_exceptions(
    exceptions: Sequence[PerformanceException], codes: set[str], priority_names: Mapping[int, str]
) -> None:
    problems = []
    for i, e in enumerate(exceptions):
        where = Location(field=f"exceptions[{i}]")
        if e.place != FORCE_PLACE and e.place not in codes:
            problems.append(Problem(where, f"unknown place code '{e.place}' (not in the force file)"))
        if e.priority not in priority_names:
            known = ", ".join(str(p) for p in sorted(priority_names))
            problems.append(Problem(where, f"unknown priority {e.priority} (known: {known})"))
    if problems:
        raise ReportError("\n".join(["cannot build briefings from these exceptions:", *map(str, problems)]))


class _SharedFields(TypedDict):
    force_name: str
    period_label: str
    period_from: str
    period_to: str
    rulesets: tuple[RulesetRef, ...]
    run_id: str
    draft: bool
    measure_names: Mapping[str, str]
    measure_units: Mapping[str, str]


@dataclass(frozen=True)
class BriefingRun:
    """What every PDF of one run shares: the force, the period, the rulesets, the run id and names.

    Example: ``BriefingRun("Demo Constabulary", "2026-W47", "2026-11-16", "2026-11-22", refs, run_id)``
    """

    force_name: str
    period_label: str  # e.g. "2026-W47"
    period_from: str  # ISO date
    period_to: str  # ISO date
    rulesets: tuple[RulesetRef, ...]
    run_id: str
    #: True when any ruleset used is unpublished: every page then carries the draft banner
    draft: bool = False
    measure_names: Mapping[str, str] = field(default_factory=dict)
    measure_units: Mapping[str, str] = field(default_factory=lambda: DEFAULT_MEASURE_UNITS)
    priority_names: Mapping[int, str] = field(default_factory=lambda: PRIORITY_NAMES)
    #: measure id -> priority, for every measure of the catalogue
    measure_priorities: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # the footer lists each ruleset version once, in a stable order
        object.__setattr__(
            self, "rulesets", tuple(sorted(set(self.rulesets), key=lambda r: (r.id, r.version)))
        )

    def _shared(self) -> _SharedFields:
        """The fields PlaceBriefing and ForceSummary both carry."""
        return {
            "force_name": self.force_name,
            "period_label": self.period_label,
            "period_from": self.period_from,
            "period_to": self.period_to,
            "rulesets": self.rulesets,
            "run_id": self.run_id,
            "draft": self.draft,
            "measure_names": MappingProxyType(dict(self.measure_names)),
            "measure_units": self.measure_units,
        }


def build_place_briefings(
    exceptions: Sequence[PerformanceException],
    places: Sequence[PlaceLike],
    cases_reviewed_by_place: Mapping[str, Mapping[str, int]],
    run: BriefingRun,
    *,
    frame_sizes_by_place: Mapping[str, Mapping[str, int]] | None = None,
    not_measured_by_place: Mapping[str, Sequence[str]] | None = None,
) -> list[PlaceBriefing]:
    """One briefing per place that has exceptions, in the order of ``places``.

    A briefing holds only its own place's exceptions (and so only its own cases); force-level
    exceptions go to the force summary. ``cases_reviewed_by_place`` is {place code: {case type: n}};
    ``frame_sizes_by_place`` the same shape, for the cases eligible for review where known;
    ``not_measured_by_place`` {place code: measure ids with no data this period, catalogue order}.
    Raises ReportError naming every exception with an unknown place code or priority.
    """
    infos = [PlaceInfo.of(p) for p in places]
    check_exceptions(exceptions, {p.code for p in infos}, run.priority_names)
    briefings = []
    for place in infos:
        mine = [e for e in exceptions if e.place == place.code]
        if not mine:
            continue  # no PDF: its absence is the good news (docs/outputs.md)
        by_type = _by_case_type(cases_reviewed_by_place.get(place.code, {}))
        frames = (frame_sizes_by_place or {}).get(place.code)
        briefings.append(
            PlaceBriefing(
                place=place,
                cases_reviewed=sum(by_type.values()),
                cases_reviewed_by_type=MappingProxyType(by_type),
                exceptions=display_order(mine, run.priority_names),
                frame_sizes=None if frames is None else MappingProxyType(dict(frames)),
                priority_names=run.priority_names,
                not_measured=tuple((not_measured_by_place or {}).get(place.code, ())),
                measure_priorities=MappingProxyType(dict(run.measure_priorities)),
                **run._shared(),
            )
        )
    return briefings


def _by_case_type(counts: Mapping[str, int]) -> dict[str, int]:
    """Known case types in their canonical order, then any others alphabetically; zeros dropped."""
    order = {t: i for i, t in enumerate(CASE_TYPES)}
    return {t: counts[t] for t in sorted(counts, key=lambda t: (order.get(t, len(order)), t)) if counts[t]}
