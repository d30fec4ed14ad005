"""engine.analysis.coverage: which catalogue items had no data at a place (and the force) in a
period, from the aggregate table and the response standards' incident figures, so that a briefing
does not read silence as good news."""

from __future__ import annotations

from datetime import date
from typing import Any

from engine.analysis import daily
from engine.analysis.aggregate import aggregate
from engine.analysis.coverage import COVERAGE_COLUMNS, measure_coverage
from engine.analysis.incidents import IncidentMetrics, incident_metric_rows, incidents_frame
from engine.analysis.tables import records
from engine.core.periods import Period
from engine.rules.catalogue import load_measure_catalogue
from tests.analysis.sample_rows import CRITERIA, frame, incident, row
from tests.analysis.scenarios import STANDARDS

CATALOGUE = load_measure_catalogue()
WEEK = Period(date(2026, 11, 16), date(2026, 11, 22), "2026-W47")  # the sample incidents' week
PLACES = ("BLK", "RVS", "HLM")
SETTINGS = {"BLK": "urban", "RVS": "rural", "HLM": "urban"}


def _week() -> tuple[Any, list[dict[str, Any]]]:
    """Blackwater: stop-search and victim-care reviews, no incidents. Riverside: Grade 1 incidents
    only. Holmfirth: stop-searches reviewed, every criterion not applicable, and no incidents."""
    outcomes = [row("BLK", "SS01", "pass", f"S{i}") for i in range(5)]
    outcomes += [row("BLK", "SS01", "fail", "SF"), row("BLK", "VC01", "pass", "V1")]
    outcomes += [row("HLM", "SS01", "na", f"H{i}") for i in range(4)]
    table = aggregate(frame(outcomes), WEEK.label)
    incidents = incidents_frame([incident(f"R{i}", "RVS", 1, "999", 5, 12) for i in range(3)], SETTINGS)
    metrics = IncidentMetrics.of(daily.incident_days(incidents), [WEEK])
    return table, incident_metric_rows(metrics, STANDARDS, CATALOGUE) or []


def _coverage(table: Any, incident_rows: list[dict[str, Any]]) -> Any:
    return measure_coverage(table, incident_rows, CATALOGUE, PLACES, criteria=CRITERIA, thresholds=STANDARDS)


def test_not_measured_is_every_item_with_no_applicable_review_and_no_incident() -> None:
    table, incident_rows = _week()
    coverage = _coverage(table, incident_rows)
    # every item but the slots the catalogue leaves undefined (M3): those are "not defined"
    everything = tuple(m.id for m in CATALOGUE.measures.values() if m.defined)
    assert coverage.not_defined() == ("M3",)
    assert coverage.not_measured_by_place() == {
        "BLK": tuple(m for m in everything if m not in ("D11", "M8")),
        # an extract-fed measure with incidents that week counts as measured
        "RVS": tuple(m for m in everything if m != "M2"),
        # reviewed, but nothing applicable: silence, not good news
        "HLM": everything,
    }
    assert coverage.not_measured() == tuple(m for m in everything if m not in ("D11", "M8", "M2"))


def test_a_place_with_no_data_on_a_priority_gets_all_its_items() -> None:
    table, incident_rows = _week()
    by_place = _coverage(table, incident_rows).not_measured_by_place()
    priority4 = CATALOGUE.of_priority(4)
    assert "D11" in priority4
    assert set(priority4) <= set(by_place["HLM"]) and set(priority4) <= set(by_place["RVS"])
    assert set(priority4) - set(by_place["BLK"]) == {"D11"}
    # in catalogue order, as the briefings list them
    assert list(by_place["HLM"]) == [m for m in CATALOGUE.measures if m in by_place["HLM"]]


def test_a_declared_metric_with_a_figure_measures_its_item_and_a_live_event_extract_every_place() -> None:
    from engine.analysis.figures import figure_frame, levels, span_figures
    from tests.analysis.figure_rows import METRICS, fig

    table, incident_rows = _week()
    figures = span_figures(
        levels(
            figure_frame([fig("attendance_rate", "RVS", "2026-10", numerator=9, denominator=10)], METRICS)
        ),
        METRICS,
        WEEK.start,
        WEEK.end,
    )
    coverage = measure_coverage(
        table, incident_rows, CATALOGUE, PLACES, criteria=CRITERIA, thresholds=STANDARDS,
        figures=figures, figure_items={m: d.item for m, d in METRICS.items()}, live_events=["homicide"],
    )  # fmt: skip
    rows = {(r["place"], r["measure"]): r for r in coverage.csv_rows()}
    assert rows[("RVS", "M1")]["figures"] == 1 and rows[("RVS", "M1")]["measured"] == "yes"
    assert rows[("RVS", "M1")]["source"] == "extracts"
    assert rows[("BLK", "M1")]["measured"] == "no"  # October's figure was RVS's alone
    assert rows[("FORCE", "M1")]["figures"] == 1
    # D6 events are reported by exception: a live extract measures every place, events or none
    assert all(rows[(p, "D6")]["measured"] == "yes" for p in ("FORCE", *PLACES))
    assert rows[("FORCE", "M3")]["source"] == "not defined" and "M3" not in coverage.not_measured()


def test_coverage_recomputed_from_the_aggregate_and_incident_rows() -> None:
    table, incident_rows = _week()
    rows = _coverage(table, incident_rows).csv_rows()
    assert all(list(r) == list(COVERAGE_COLUMNS) for r in rows)
    assert [r["place"] for r in rows[:: len(CATALOGUE.measures)]] == ["FORCE", *PLACES]
    reviewed = {
        (r["key"], r["dimension_key"]): r["n"]
        for r in records(table)
        if r["dimension"] == "measure" and r["level"] in ("force", "place")
    }
    fed = {(t["ruleset"], t["criterion"]): t["measure"] for t in STANDARDS}
    counted: dict[tuple[str, str], int] = {}
    for r in incident_rows:
        key = (r["key"], fed[(r["ruleset"], r["criterion"])])
        counted[key] = counted.get(key, 0) + (r["n"] > 0)
    for r in rows:
        key = (r["place"], r["measure"])
        assert r["cases"] == reviewed.get(key, 0)
        assert r["incident_standards"] == counted.get(key, 0)
        assert r["measured"] == ("yes" if reviewed.get(key, 0) or counted.get(key, 0) else "no")
        assert r["figures"] == 0
        assert r["priority"] == CATALOGUE.measures[r["measure"]].priority
    by_key = {(r["place"], r["measure"]): r for r in rows}
    # Riverside's Grade 1 incidents and 999 calls: two of M2's three standards counted something
    assert by_key[("RVS", "M2")]["incident_standards"] == 2
    assert {by_key[("BLK", m)]["source"] for m in ("D11", "M2", "M1")} == {
        "reviewed cases",
        "incidents",
        "none",
    }
