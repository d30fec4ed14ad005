"""What the briefings show, as plain strings and numbers: place briefings and the force summary, in
display order (their wording is engine.reports.wording). No pandas, no reportlab (STYLE.md 11).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol, TypedDict

from engine.core.errors import Location, Problem, ReportError
from engine.core.figure_facts import FigureEvent, figure_of
from engine.core.models import (
    APPLIES,
    KIND_ORDER,
    CaseDetail,
    ExceptionKind,
    PerformanceException,
    RulesetRef,
)
from engine.rules.catalogue import NOT_DEFINED

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

#: what one unit of n is called, by measure ("30 of 212 searches reviewed"), or by ruleset id where
#: several case types feed one measure (runs add each ruleset's form noun); override per force
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
class FailedCriterion:
    """One criterion a case failed, as its entry lists it."""

    criterion: str  # the criterion's id, e.g. "SS01" ("" when not recorded)
    criterion_text: str
    critical: bool
    trace: tuple[str, ...]  # every line of why it failed, "applies: ..." lines included

    @property
    def why(self) -> str:
        """The one line the PDF prints: the trace's first line that is not an "applies: " line."""
        return next((t for t in self.trace if not t.startswith(APPLIES)), "")


@dataclass(frozen=True)
class EntryCase:
    """A failing case of an entry, once, with every criterion it failed on that row."""

    case_ref: str
    team: str
    officer: str
    reviewer: str
    assessed_on: str  # ISO date
    note: str  # the reviewer's note, exactly as submitted
    failed: tuple[FailedCriterion, ...]  # critical first, then by criterion id

    @property
    def critical(self) -> bool:
        return any(f.critical for f in self.failed)


@dataclass(frozen=True)
class Figure:
    """The signals of an entry that state the same figure on the same criterion (a threshold breach
    and a special cause on one metric): the figure is shown once, with each signal's kind and reason."""

    signals: tuple[PerformanceException, ...]  # most serious first

    @property
    def lead(self) -> PerformanceException:
        return self.signals[0]


@dataclass(frozen=True)
class Entry:
    """One problem: the signals (exceptions) on one place and measure in the period, most serious
    first, and their failing cases, each once, worst first."""

    place: str
    measure: str
    priority: int  # the priority of its most serious signal
    signals: tuple[PerformanceException, ...]
    cases: tuple[EntryCase, ...]

    @property
    def lead(self) -> PerformanceException:
        """The most serious signal: it places the entry."""
        return self.signals[0]

    def kinds(self) -> tuple[ExceptionKind, ...]:
        """The kinds of its signals, each once, most serious first."""
        return tuple(k for k in KIND_ORDER if any(e.kind is k for e in self.signals))

    def figures(self) -> tuple[Figure, ...]:
        """Its signals grouped by the figure they state, in the order of their most serious signal."""
        groups: dict[tuple[object, ...], list[PerformanceException]] = {}
        for e in self.signals:
            groups.setdefault((e.criterion, e.n, e.passed, e.rate), []).append(e)
        return tuple(Figure(tuple(es)) for es in groups.values())

    def guidance(self) -> tuple[str, ...]:
        """What to do: the guidance of its signals' criteria, each text once, in signal order."""
        return tuple(dict.fromkeys(g for e in self.signals if (g := e.guidance.strip())))

    def events(self) -> tuple[FigureEvent, ...]:
        """The events of its event-metric signals (each is a signal of its own), by date: what the
        issue lists instead of failing cases."""
        found = {(ev.on, ev.ref): ev for e in self.signals if (f := figure_of(e)) for ev in f.events}
        return tuple(found[k] for k in sorted(found))


@dataclass(frozen=True)
class PriorityGroup:
    """The entries of one priority, most serious first."""

    priority: int
    name: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class PriorityCoverage:
    """What page 1 says of one priority besides its entries: which of its measures had no data."""

    priority: int
    name: str
    not_measured: tuple[str, ...]  # measure ids, catalogue order
    #: every measure of the priority had no data: never call it "no exceptions"
    nothing_measured: bool
    has_entries: bool
    #: its items the catalogue leaves undefined (M3 until the force names it): "not defined"
    not_defined: tuple[str, ...] = ()


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
    #: the raw exceptions (signals), in display order; :meth:`entries` makes one entry per measure
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
    #: measure id -> the case type its reviewed cases are, where one case type feeds it; ruleset id ->
    #: its case type
    measure_case_types: Mapping[str, str] = field(default_factory=dict)
    #: case type -> how its form lists it ("missing from home"); default words where absent
    case_labels: Mapping[str, str] = field(default_factory=dict)
    #: the place's team exceptions (PerformanceException.team set), shown after its own
    team_exceptions: tuple[PerformanceException, ...] = ()

    def entries(self) -> tuple[Entry, ...]:
        """Every numbered entry of the briefing, 1..: the place's own (one per measure with signals,
        in display order), then each team's (:meth:`team_groups`)."""
        return self.place_entries() + tuple(x for _, xs in self.team_groups() for x in xs)

    def place_entries(self) -> tuple[Entry, ...]:
        """The place's own entries: one per measure with signals, in display order."""
        return tuple(x for g in self.groups() for x in g.entries)

    def team_groups(self) -> tuple[tuple[str, tuple[Entry, ...]], ...]:
        """(team, its entries: one per measure with team signals, most serious first), by team."""
        by_team: dict[str, list[PerformanceException]] = {}
        for e in self.team_exceptions:
            by_team.setdefault(e.team, []).append(e)
        return tuple((team, make_entries(by_team[team])) for team in sorted(by_team))

    def groups(self) -> tuple[PriorityGroup, ...]:
        """The entries grouped by priority, in display order (page 1 and the sections both use it)."""
        return _group_by_priority(make_entries(self.exceptions), self.priority_names)

    def in_order(self) -> tuple[PerformanceException, ...]:
        """The signals in display order: entry by entry, most serious first within an entry."""
        return tuple(e for x in self.entries() for e in x.signals)

    def quiet_priorities(self) -> tuple[tuple[int, str], ...]:
        """The priorities with no exception this period (each may still have had nothing measured)."""
        seen = {e.priority for e in self.exceptions}
        return tuple((p, n) for p, n in sorted(self.priority_names.items()) if p not in seen)

    def coverage(self) -> tuple[PriorityCoverage, ...]:
        """Per priority (in priority order), the measures with no data this period; a priority whose
        every measure had no data is "nothing measured". Measures of no known priority are left out:
        see :meth:`unplaced_not_measured`."""
        seen = {e.priority for e in self.exceptions}
        out = []
        undefined = not_defined(self.measure_names)
        for p, name in sorted(self.priority_names.items()):
            items = [m for m, q in self.measure_priorities.items() if q == p and m not in undefined]
            missing = tuple(
                m for m in self.not_measured if self.measure_priorities.get(m) == p and m not in undefined
            )
            nothing = bool(items) and set(items) <= set(missing) and p not in seen
            slots = tuple(m for m in undefined if self.measure_priorities.get(m) == p)
            out.append(PriorityCoverage(p, name, missing, nothing, p in seen, slots))
        return tuple(out)

    def unplaced_not_measured(self) -> tuple[str, ...]:
        """Measures with no data whose priority is not known (no measure_priorities given)."""
        return tuple(
            m
            for m in self.not_measured
            if self.measure_priorities.get(m) not in self.priority_names
            and m not in not_defined(self.measure_names)
        )


# --- entries and their cases ------------------------------------------------------------------


def seriousness_key(e: PerformanceException) -> tuple[int, int, str, str, str]:
    """Most serious kind first, then priority, measure, criterion: a total, stable order."""
    return (KIND_ORDER.index(e.kind), e.priority, e.measure, e.criterion, e.ruleset)


def make_entries(exceptions: Iterable[PerformanceException]) -> tuple[Entry, ...]:
    """One entry per (place, measure), its signals most serious first; entries most serious first."""
    by_measure: dict[tuple[str, str], list[PerformanceException]] = {}
    for e in exceptions:
        by_measure.setdefault((e.place, e.measure), []).append(e)
    entries = []
    for (place, measure), es in by_measure.items():
        signals = tuple(sorted(es, key=_signal_key))
        entries.append(Entry(place, measure, signals[0].priority, signals, merge_cases(signals)))
    return tuple(sorted(entries, key=lambda x: (_signal_key(x.lead), x.place)))


def _signal_key(e: PerformanceException) -> tuple[int, int, str, str, str, int, int, str]:
    """seriousness_key, then the rest of the exception's identity: equal data, equal order."""
    return (*seriousness_key(e), e.n, e.passed, e.reason)


def merge_cases(signals: Sequence[PerformanceException]) -> tuple[EntryCase, ...]:
    """The failing cases of all ``signals``, each once with every criterion it failed, worst first:
    any critical failure first, then the most criteria failed, then by case reference. A case
    named in a signal's ``cases`` without a detail is listed with that signal's criterion."""
    first: dict[str, CaseDetail | None] = {}  # the case's facts (team, officer, ...) from its first row
    failed: dict[str, dict[str, FailedCriterion]] = {}
    for e in signals:
        if figure_of(e) is not None:  # a figure has no failing cases; an event's ref is listed by events()
            continue
        for d in e.details:
            if first.get(d.case_ref) is None:
                first[d.case_ref] = d
            criterion = d.criterion or e.criterion
            # a critical exception's cases failed its (critical) criterion, whatever the row recorded
            critical = d.critical or (e.kind is ExceptionKind.CRITICAL and criterion == e.criterion)
            f = FailedCriterion(criterion, d.criterion_text or e.criterion_text, critical, d.trace)
            _add_failure(failed.setdefault(d.case_ref, {}), f)
        detailed = {d.case_ref for d in e.details}
        for ref in (r for r in e.cases if r not in detailed):
            first.setdefault(ref, None)
            mine = failed.setdefault(ref, {})
            if e.criterion:
                critical = e.kind is ExceptionKind.CRITICAL
                _add_failure(mine, FailedCriterion(e.criterion, e.criterion_text, critical, ()))
    cases = []
    for ref, fs in failed.items():
        row = first[ref]
        facts = ("",) * 5 if row is None else (row.team, row.officer, row.reviewer, row.assessed_on, row.note)
        cases.append(
            EntryCase(ref, *facts, tuple(sorted(fs.values(), key=lambda f: (not f.critical, f.criterion))))
        )
    return tuple(sorted(cases, key=lambda c: (not c.critical, -len(c.failed), c.case_ref)))


def _add_failure(into: dict[str, FailedCriterion], f: FailedCriterion) -> None:
    """One failure per criterion: a detailed one (with its trace) beats a bare one; critical sticks."""
    key = f.criterion or f.criterion_text
    old = into.get(key)
    if old is None:
        into[key] = f
    elif not old.trace and f.trace:
        into[key] = FailedCriterion(f.criterion, f.criterion_text, f.critical or old.critical, f.trace)
    elif f.critical and not old.critical:
        into[key] = FailedCriterion(old.criterion, old.criterion_text, True, old.trace)


def _group_by_priority(
    entries: Iterable[Entry], priority_names: Mapping[int, str]
) -> tuple[PriorityGroup, ...]:
    by_priority: dict[int, list[Entry]] = {}
    for x in entries:
        by_priority.setdefault(x.priority, []).append(x)
    groups = [
        PriorityGroup(p, priority_names.get(p, f"Priority {p}"), tuple(xs)) for p, xs in by_priority.items()
    ]
    # the group holding the most serious entry leads, so a critical failure is read first
    groups.sort(key=lambda g: (seriousness_key(g.entries[0].lead)[0], g.priority))
    return tuple(groups)


def display_order(
    exceptions: Iterable[PerformanceException], priority_names: Mapping[int, str] = PRIORITY_NAMES
) -> tuple[PerformanceException, ...]:
    """Exceptions in the order a briefing shows them: entry by entry (:meth:`PlaceBriefing.entries`)."""
    groups = _group_by_priority(make_entries(exceptions), priority_names)
    return tuple(e for g in groups for x in g.entries for e in x.signals)


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


def not_defined(measure_names: Mapping[str, str]) -> tuple[str, ...]:
    """The items the catalogue leaves undefined (named "not defined"), in the order given."""
    return tuple(m for m, name in measure_names.items() if name == NOT_DEFINED)


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
    #: measure id -> the case type its reviewed cases are, where one case type feeds it, and ruleset
    #: id -> its case type (cases CSV)
    measure_case_types: Mapping[str, str] = field(default_factory=dict)
    #: case type -> how its form lists it ("missing from home"), for the cases reviewed
    case_labels: Mapping[str, str] = field(default_factory=dict)

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
    team_exceptions: Sequence[PerformanceException] = (),
) -> list[PlaceBriefing]:
    """One briefing per place that has exceptions or team exceptions, in the order of ``places``.

    A briefing holds only its own place's exceptions and its own teams' (and so only its own
    cases); force-level exceptions go to the force summary. ``cases_reviewed_by_place`` is {place code: {case type: n}};
    ``frame_sizes_by_place`` the same shape, for the cases eligible for review where known;
    ``not_measured_by_place`` {place code: measure ids with no data this period, catalogue order}.
    Raises ReportError naming every exception with an unknown place code or priority.
    """
    infos = [PlaceInfo.of(p) for p in places]
    check_exceptions(exceptions, {p.code for p in infos}, run.priority_names)
    check_exceptions(team_exceptions, {p.code for p in infos}, run.priority_names)
    briefings = []
    for place in infos:
        mine = [e for e in exceptions if e.place == place.code]
        teams = tuple(e for e in team_exceptions if e.place == place.code)
        if not mine and not teams:
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
                measure_case_types=MappingProxyType(dict(run.measure_case_types)),
                case_labels=MappingProxyType(dict(run.case_labels)),
                team_exceptions=teams,
                **run._shared(),
            )
        )
    return briefings


def _by_case_type(counts: Mapping[str, int]) -> dict[str, int]:
    """The case types by id, as the forms folder lists them (engine.inputs.forms); zeros dropped."""
    return {t: counts[t] for t in sorted(counts) if counts[t]}
