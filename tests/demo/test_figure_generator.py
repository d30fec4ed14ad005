"""The demo's measured figures (engine/demo/figures.py): every metric of every bundled figures
extract has figures for every place, they load as `qam extracts load figures` reads them, the same
seed gives the same files, and the planted problems outside QA are in the data while the latest
period of every other series sits on its better side."""

from __future__ import annotations

import csv
import datetime as dt
import statistics
from collections import defaultdict
from pathlib import Path

import pytest

from engine.core.config import DEFAULT_EXTRACTS_DIR, DEFAULT_FORCE_FILE, load_force
from engine.demo.data import demo_plan
from engine.demo.figure_recipes import PLANTED, PLANTED_HOMICIDE, RECIPES
from engine.demo.figures import FigurePlan, demo_metrics, figure_plan, write_figure_files
from engine.inputs.extract_definitions import ExtractDefinitions, load_extract_definitions
from engine.inputs.figures import read_figures
from engine.rules.catalogue import load_measure_catalogue
from engine.store import db as dbm
from engine.store.figures import current_figures, store_figures

FORCE = load_force(DEFAULT_FORCE_FILE)
WEEKS = demo_plan(dt.date(2026, 11, 16), weeks=13).weeks  # 2026-08-24 to the demo week, 2026-W47
Rows = dict[str, list[dict[str, str]]]


@pytest.fixture(scope="module")
def definitions() -> ExtractDefinitions:
    return load_extract_definitions(DEFAULT_EXTRACTS_DIR, tuple(load_measure_catalogue().measures))


@pytest.fixture(scope="module")
def plan() -> FigurePlan:
    return figure_plan(WEEKS)


@pytest.fixture(scope="module")
def files(
    tmp_path_factory: pytest.TempPathFactory, definitions: ExtractDefinitions, plan: FigurePlan
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("figures")
    return {
        extract: path
        for extract, (path, _n) in write_figure_files(folder, definitions, FORCE.places, plan).items()
    }


@pytest.fixture(scope="module")
def rows(files: dict[str, Path]) -> Rows:
    by_metric: Rows = defaultdict(list)
    for path in files.values():
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                by_metric[row["metric"]].append(row)
    return by_metric


def test_the_plan_ends_with_the_periods_closed_by_the_demo_week(plan: FigurePlan) -> None:
    assert plan.periods("day")[-1] == plan.periods("week")[-1] == "2026-W47"
    assert len(plan.periods("week")) == 13
    assert plan.months[0] == "2025-05" and plan.months[-1] == "2026-10" and len(plan.months) == 18
    assert plan.quarters == ("2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3")
    # a week ending on the last day of a month and quarter closes them
    closing = figure_plan([dt.date(2025, 12, 29)])  # 2026-W01 ends on Sunday 2026-01-04
    assert closing.months[-1] == "2025-12" and closing.quarters[-1] == "2025-Q4"


def test_every_metric_of_every_figures_extract_has_a_recipe(definitions: ExtractDefinitions) -> None:
    declared = {m.id for m in definitions.metrics.values() if m.source == "figures"}
    assert declared == set(RECIPES)
    assert {m.id for m in demo_metrics(definitions)} == declared


def test_every_item_fed_by_a_figures_extract_has_figures_for_every_place(
    definitions: ExtractDefinitions, rows: Rows
) -> None:
    items = {m.item for m in demo_metrics(definitions)}
    assert items == {"M1", "M4", "M6", "M7", "M8", "M9", "M10", "M11", "M12"} | {
        "D1", "D2", "D3", "D4", "D6", "D8", "D9", "D10", "D12"
    }  # fmt: skip
    for metric in demo_metrics(definitions):
        if metric.kind == "event":
            continue
        assert {r["place"] for r in rows[metric.id]} == set(FORCE.place_codes), metric.id
    assert {r["team"] for r in rows["shifts_as_rostered"]} == {
        "Response A",
        "Response B",
        "Neighbourhood",
        "CID",
    }


def test_the_files_load_as_a_figures_extract_and_are_stored(
    files: dict[str, Path], definitions: ExtractDefinitions, database: dbm.Database
) -> None:
    items = tuple(load_measure_catalogue().measures)
    stored = 0
    for path in files.values():
        extract = read_figures(path, definitions, FORCE.place_codes, items)
        loaded = store_figures(
            database, extract, replace=False, loaded_at=dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
        )
        stored += sum(m.stored for m in loaded.by_metric.values())
    assert stored > 10_000
    latest = current_figures(database, start=dt.date(2026, 11, 16), end=dt.date(2026, 11, 22))
    assert {f.item for f in latest} >= {"M8", "M12", "D1", "D2", "D3", "D6"}  # the daily and weekly ones


def test_the_same_seed_writes_the_same_files(
    tmp_path: Path, files: dict[str, Path], definitions: ExtractDefinitions, plan: FigurePlan
) -> None:
    again = write_figure_files(tmp_path, definitions, FORCE.places, plan)
    assert {e: p.read_bytes() for e, (p, _n) in again.items()} == {
        e: p.read_bytes() for e, p in files.items()
    }


def _share(row: dict[str, str]) -> float:
    if row["value"]:
        return float(row["value"])
    return int(row["numerator"]) / int(row["denominator"])


def _series(rows: Rows, metric: str, place: str) -> dict[str, float]:
    return {r["period"]: _share(r) for r in rows[metric] if r["place"] == place}


def test_fenwicks_attendance_drifts_down_from_april(rows: Rows) -> None:
    series = _series(rows, "attendance_rate", "FEN")
    before = [v for p, v in series.items() if p < "2026-04"]
    usual, spread = statistics.fmean(before), statistics.pstdev(before)
    assert series["2026-10"] < usual - 6 * spread  # far below its usual level by October
    assert series["2026-10"] < series["2026-07"] < series["2026-04"]
    others = [_series(rows, "attendance_rate", p)["2026-10"] for p in FORCE.place_codes if p != "FEN"]
    assert min(others) > 0.94


def test_ridgeways_return_interviews_and_fenwicks_feeling_safe_fall_in_their_latest_period(
    rows: Rows,
) -> None:
    interviews = _series(rows, "return_interviews_72h", "RDG")
    assert (
        interviews["2026-10"]
        < 0.55
        < 0.8
        < statistics.fmean(v for p, v in interviews.items() if p != "2026-10")
    )
    safe = {p: _series(rows, "feeling_safe", p) for p in FORCE.place_codes}
    assert safe["FEN"]["2026-Q3"] < 0.65 < 0.78 < min(v for q, v in safe["FEN"].items() if q != "2026-Q3")
    assert min(s["2026-Q3"] for p, s in safe.items() if p != "FEN") > 0.75


def test_the_demo_weeks_only_high_impact_event_is_the_planted_homicide(rows: Rows) -> None:
    code, day, ref, _detail = PLANTED_HOMICIDE
    events = [
        r
        for m in ("homicide", "serious_assault", "hate_crime", "ksi_collision", "rape", "sexual_assault")
        for r in rows[m]
    ]
    in_week = [r for r in events if "2026-11-16" <= r["event_on"] <= "2026-11-22"]
    assert [(r["metric"], r["place"], r["event_on"], r["event_ref"]) for r in in_week] == [
        ("homicide", code, day.isoformat(), ref)
    ]
    assert len(events) > len(in_week)  # the earlier weeks have their own events
    assert len({r["event_ref"] for r in events}) == len(events)


def test_every_other_series_ends_on_its_better_side(definitions: ExtractDefinitions, rows: Rows) -> None:
    planted = {(p.metric, p.place) for p in PLANTED}
    checked = 0
    for metric in demo_metrics(definitions):
        if metric.kind in ("event", "time") or metric.periods[0] == "day":
            continue
        for place in FORCE.place_codes:
            points: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
            for r in rows[metric.id]:
                if r["place"] == place:
                    n, d = (
                        (float(r["value"]) * float(r["count"]), float(r["count"]))
                        if r["value"]
                        else (float(r["numerator"]), float(r["denominator"]))
                    )
                    points[r["period"]][0] += n
                    points[r["period"]][1] += d
            values = [n / d for _p, (n, d) in sorted(points.items())]
            if (metric.id, place) in planted:
                continue
            mean = statistics.fmean(values[:-1])
            better = values[-1] >= mean if metric.direction == "higher" else values[-1] <= mean
            assert better, (metric.id, place, values[-1], mean)
            checked += 1
    assert checked > 300


def test_every_bundled_figures_extract_has_an_example_file_that_loads(
    definitions: ExtractDefinitions,
) -> None:
    examples = Path(__file__).resolve().parents[2] / "docs" / "examples"
    items = tuple(load_measure_catalogue().measures)
    wanted = {e.id for e in definitions.extracts.values() if e.source == "figures"}
    found = {p.stem.removeprefix("figures-") for p in examples.glob("figures-*.csv")}
    assert wanted <= found
    for extract in sorted(wanted):
        read = read_figures(examples / f"figures-{extract}.csv", definitions, FORCE.place_codes, items)
        assert {r.metric for r in read.rows} == set(definitions.extracts[extract].metrics), extract


def test_docs_list_every_bundled_figures_metric_with_its_threshold(definitions: ExtractDefinitions) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "extracts.md").read_text(encoding="utf-8")
    section = docs.split("## Bundled extract definitions", 1)[1]
    for metric in demo_metrics(definitions):
        (line,) = [x for x in section.splitlines() if x.startswith(f"| `{metric.id}` |")]
        assert f"| {metric.item} | {metric.kind} |" in line, line
    for extract in {m.extract for m in demo_metrics(definitions)}:
        assert f"[figures-{extract}.csv](examples/figures-{extract}.csv)" in section
