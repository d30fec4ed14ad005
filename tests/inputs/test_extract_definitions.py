"""Extract definitions (extracts/*.yaml): the bundled ones load, and a broken folder reports every
problem at once with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.config import DEFAULT_EXTRACTS_DIR
from engine.core.errors import ExtractError
from engine.inputs.extract_definitions import load_extract_definitions
from engine.rules.catalogue import MEASURE_IDS

HR = """\
extract: hr
version: 1.0.0
format: 1
title: HR figures
source: figures
metrics:
  attendance_rate:
    item: M1
    kind: proportion
    text: Working days attended
    unit: days
    direction: higher
    periods: [month]
  complaints_rate:
    item: D12
    kind: count
    text: Complaints per 1,000 population
    unit: complaints
    direction: lower
    periods: [quarter, month]
    exposure: population
    per: 1000
  feeling_safe:
    item: D9
    kind: survey
    text: Feel safe walking alone after dark
    unit: respondents
    direction: higher
    periods: [quarter]
    design_effect: 1.5
  homicide:
    item: D6
    kind: event
    text: Homicides
    periods: [day]
"""


def _folder(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "extracts"
    folder.mkdir()
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return folder


def test_the_bundled_incidents_definition_declares_the_four_m2_metrics() -> None:
    definitions = load_extract_definitions(DEFAULT_EXTRACTS_DIR, MEASURE_IDS)
    incidents = definitions.of_extract("incidents")
    assert {m.id: m.kind for m in incidents} == {
        "g1_attended_within_standard": "proportion",
        "g2_attended_within_60": "proportion",
        "call999_answered_within_10s": "proportion",
        "call101_answer_seconds": "time",
    } | {m.id: m.kind for m in incidents if m.id not in {
        "g1_attended_within_standard", "g2_attended_within_60",
        "call999_answered_within_10s", "call101_answer_seconds",
    }}  # fmt: skip
    answer = definitions.metrics["call101_answer_seconds"]
    assert (answer.unit, answer.direction, answer.item, answer.source) == (
        "seconds",
        "lower",
        "M2",
        "incidents",
    )
    assert definitions.extracts["incidents"].source == "incidents"


def test_each_kind_keeps_its_own_keys(tmp_path: Path) -> None:
    definitions = load_extract_definitions(_folder(tmp_path, hr=HR), MEASURE_IDS)
    metrics = definitions.metrics
    assert metrics["attendance_rate"].periods == ("month",)
    assert metrics["complaints_rate"].periods == ("month", "quarter")  # shortest grain first
    assert (metrics["complaints_rate"].per, metrics["complaints_rate"].exposure) == (1000, "population")
    assert metrics["feeling_safe"].design_effect == 1.5 and metrics["feeling_safe"].is_share
    assert metrics["homicide"].direction is None and metrics["homicide"].unit == ""
    assert [m.id for m in definitions.of_extract("hr")] == list(metrics)
    assert len(definitions.extracts["hr"].sha256) == 64


def test_a_broken_definition_reports_every_problem_with_its_line(tmp_path: Path) -> None:
    text = (
        HR.replace("item: M1", "item: M13")
        .replace("unit: days", "unit: days\n    design_effect: 2")
        .replace("exposure: population\n    per: 1000", "exposure: people")
        .replace("design_effect: 1.5", "design_effect: .nan")
        .replace("periods: [day]", "periods: [fortnight]\n    direction: lower  # events have none")
    )
    other = HR.replace("extract: hr", "extract: other").replace("source: figures", "source: excel")
    folder = _folder(tmp_path, hr=text, other=other)
    with pytest.raises(ExtractError) as caught:
        load_extract_definitions(folder, MEASURE_IDS)
    lines = text.splitlines()

    def at(needle: str) -> str:
        return f"{folder / 'hr.yaml'}:{next(i for i, s in enumerate(lines, 1) if needle in s)}"

    shown = [str(p) for p in caught.value.problems]
    expected = [
        f"{at('item: M13')}: metric attendance_rate: unknown item 'M13'",
        f"{at('design_effect: 2')}: metric attendance_rate: 'design_effect' is for a survey metric only",
        f"{at('exposure: people')}: metric complaints_rate: 'exposure' must be one of the known values",
        f"{at('design_effect: .nan')}: metric feeling_safe: 'design_effect' must be a finite number",
        f"{at('periods: [fortnight]')}: metric homicide: unknown periods value 'fortnight'",
        f"{at('events have none')}: metric homicide: an event metric has no 'direction'",
    ]
    for wanted in expected:
        assert any(s.startswith(wanted) for s in shown), (wanted, shown)
    other_file = str(folder / "other.yaml")
    assert any(s.startswith(other_file) and "'source' must be one of" in s for s in shown)
    # the other file repeats every metric id: each is named with where it was first declared
    assert any(
        s.startswith(other_file) and "metric 'attendance_rate' is already declared by" in s for s in shown
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("extract: hr", "extract: people"), "extract 'people' must be in a file named people.yaml"),
        (("format: 1", "format: 2"), "unsupported format 2"),
        (("    unit: days\n", ""), "metric attendance_rate: missing required key 'unit'"),
        (
            ("    direction: higher\n    periods: [month]", "    periods: [month]"),
            "missing required key 'direction'",
        ),
        (("    per: 1000\n", ""), "metric complaints_rate: missing required key 'per'"),
        (("exposure: population\n    per: 1000", "exposure: none\n    per: 1000"), "'per' needs an exposure"),
        (("unit: respondents", "unit: respondents\n    per: 10"), "'per' is for a count metric only"),
        (
            ("kind: proportion", "kind: ratio"),
            "metric attendance_rate: 'kind' must be one of the known values",
        ),
        (("attendance_rate:", "Attendance-Rate:"), "a metric id is lower_snake_case"),
        (("metrics:\n", "metrics: {}\nx:\n"), "unknown key 'x'"),
    ],
)
def test_each_refusal_is_named(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    assert HR.count(change[0]) == 1
    folder = _folder(tmp_path, hr=HR.replace(*change))
    with pytest.raises(ExtractError) as caught:
        load_extract_definitions(folder, MEASURE_IDS)
    assert any(message in str(p) for p in caught.value.problems), caught.value.problems


def test_a_time_metric_names_its_unit(tmp_path: Path) -> None:
    text = HR.replace("kind: proportion", "kind: time").replace("unit: days", "unit: fortnights")
    with pytest.raises(ExtractError, match="'unit' must be one of the known values, got 'fortnights'"):
        load_extract_definitions(_folder(tmp_path, hr=text), MEASURE_IDS)


def test_an_incidents_metric_must_be_one_qam_computes(tmp_path: Path) -> None:
    text = HR.replace("source: figures", "source: incidents")
    with pytest.raises(
        ExtractError, match="metric attendance_rate: the incidents extract does not compute it"
    ):
        load_extract_definitions(_folder(tmp_path, hr=text), MEASURE_IDS)


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="no such extract definitions folder"):
        load_extract_definitions(tmp_path / "nowhere")
