"""What a period measured: for each place (and the force), which items of the measure catalogue had
any data, so that a briefing can say what was not measured instead of reading silence as good news.

An item is measured at a place when the period's aggregate table has anything reviewed that applied
to it there (its place-level measure row has n > 0), when one of the response standards feeding
it counted an incident there (a row of incident_metrics.csv with n > 0), or when one of its declared
metrics has a figure there for the period (figures.span_figures: the week, or the latest closed
month, quarter or year that is not stale; an event metric whose extract is live, since events are
reported by exception). Everything else, including the items nothing feeds yet, was not measured;
an item the catalogue leaves undefined (M3 until the force names it) is "not defined".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from engine.analysis.aggregate import FORCE_KEY
from engine.rules.catalogue import MeasureCatalogue

#: coverage.csv: one row per place (the force first, as FORCE) and catalogue item
COVERAGE_COLUMNS: tuple[str, ...] = (
    "place",
    "measure",
    "name",
    "priority",
    "measured",
    "source",
    "cases",
    "incident_standards",
    "figures",
)

REVIEWED = "reviewed cases"
INCIDENTS = "incidents"
EXTRACTS = "extracts"
#: the source of an item the catalogue leaves undefined
NOT_DEFINED = "not defined"


@dataclass(frozen=True)
class CoverageRow:
    """One catalogue item at one place (or FORCE) in the period.

    ``source``: what feeds the item under the run's rulesets and extract definitions ("reviewed
    cases", "incidents", "extracts", those joined by " and ", "none", or "not defined" for a slot
    the catalogue leaves undefined); ``cases``: the n of its measure row in the aggregate table
    (what reviewed cases gave it, as aggregates.csv counts it); ``incident_standards``: how many of
    the response standards feeding it counted an incident; ``figures``: how many of its declared
    metrics had a figure for the period (aggregates.csv's metric rows)."""

    place: str
    measure: str
    name: str
    priority: int
    source: str
    cases: int
    incident_standards: int
    figures: int = 0

    @property
    def defined(self) -> bool:
        return self.source != NOT_DEFINED

    @property
    def measured(self) -> bool:
        return self.cases > 0 or self.incident_standards > 0 or self.figures > 0

    def as_row(self) -> dict[str, object]:
        """The row as coverage.csv has it (COVERAGE_COLUMNS)."""
        return {
            "place": self.place,
            "measure": self.measure,
            "name": self.name,
            "priority": self.priority,
            "measured": "yes" if self.measured else "no",
            "source": self.source,
            "cases": self.cases,
            "incident_standards": self.incident_standards,
            "figures": self.figures,
        }


@dataclass(frozen=True)
class Coverage:
    """Every catalogue item at the force and each place, in that order, items in catalogue order."""

    rows: tuple[CoverageRow, ...]

    def not_measured(self, place: str = FORCE_KEY) -> tuple[str, ...]:
        """The defined item ids with no data at ``place`` (a place code, or FORCE), in catalogue order."""
        return tuple(r.measure for r in self.rows if r.place == place and r.defined and not r.measured)

    def not_defined(self) -> tuple[str, ...]:
        """The item ids the catalogue leaves undefined, in catalogue order."""
        return tuple(r.measure for r in self.rows if r.place == FORCE_KEY and not r.defined)

    def not_measured_by_place(self) -> dict[str, tuple[str, ...]]:
        """{place code: item ids with no data there}, for every place (the force left out)."""
        places = dict.fromkeys(r.place for r in self.rows if r.place != FORCE_KEY)
        return {p: self.not_measured(p) for p in places}

    def csv_rows(self) -> list[dict[str, object]]:
        return [r.as_row() for r in self.rows]


def measure_coverage(
    table: pd.DataFrame,
    incident_rows: Iterable[Mapping[str, Any]],
    catalogue: MeasureCatalogue,
    places: Sequence[str],
    *,
    criteria: Iterable[Mapping[str, Any]],
    thresholds: Iterable[Mapping[str, Any]],
    figures: pd.DataFrame | None = None,
    figure_items: Mapping[str, str] | None = None,
    live_events: Iterable[str] = (),
) -> Coverage:
    """Which catalogue items had data in one period, at the force and at each of ``places``.

    ``table``: the period's aggregate table (aggregate.aggregate); ``incident_rows``: the period's
    incident_metrics.csv rows (incidents.incident_metric_rows); ``criteria`` and ``thresholds``: the
    run's criteria and response standards (rows with ``measure``; thresholds also ruleset and
    criterion), which say what feeds each item. ``figures``: the period's figures of the declared
    metrics (figures.span_figures), ``figure_items`` {metric: item} of every declared metric whose
    figures are loaded, and ``live_events`` the event metrics whose extract is live (measured
    everywhere: events are reported by exception).
    """
    reviewed_by = {str(c["measure"]) for c in criteria}
    standards: dict[tuple[str, str], str] = {}
    for t in thresholds:
        standards[(str(t["ruleset"]), str(t["criterion"]))] = str(t["measure"])
    fed_by_incidents = set(standards.values())

    rows = table[(table["dimension"] == "measure").to_numpy()]
    rows = rows[rows["level"].isin(("force", "place")).to_numpy()]
    reviewed: dict[tuple[str, str], int] = {
        (str(key), str(mid)): int(n)
        for key, mid, n in zip(rows["key"], rows["dimension_key"], rows["n"], strict=True)
    }
    counted: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for r in incident_rows:
        measure = standards.get((str(r["ruleset"]), str(r["criterion"])))
        if measure is not None and r["n"]:
            counted.setdefault((str(r["key"]), measure), set()).add((str(r["ruleset"]), str(r["criterion"])))

    items_of = dict(figure_items or {})
    fed_by_extracts = set(items_of.values())
    with_figures: dict[tuple[str, str], set[str]] = {}
    if figures is not None and len(figures):
        here = figures[figures["level"].isin(("force", "place")).to_numpy()]
        for place, metric in zip(here["place"], here["metric"], strict=True):
            if metric in items_of and items_of[metric] is not None:
                with_figures.setdefault((str(place), items_of[metric]), set()).add(str(metric))
    for metric in live_events:
        for place in (FORCE_KEY, *places):
            with_figures.setdefault((place, items_of[metric]), set()).add(metric)
    undefined = {m.id for m in catalogue.measures.values() if not getattr(m, "defined", True)}

    def source(mid: str) -> str:
        if mid in undefined:
            return NOT_DEFINED
        fed = ((REVIEWED, reviewed_by), (INCIDENTS, fed_by_incidents), (EXTRACTS, fed_by_extracts))
        return " and ".join(s for s, by in fed if mid in by) or "none"

    return Coverage(
        tuple(
            CoverageRow(
                place=place,
                measure=m.id,
                name=m.name,
                priority=m.priority,
                source=source(m.id),
                cases=reviewed.get((place, m.id), 0),
                incident_standards=len(counted.get((place, m.id), ())),
                figures=len(with_figures.get((place, m.id), ())),
            )
            for place in (FORCE_KEY, *places)
            for m in catalogue.measures.values()
        )
    )
