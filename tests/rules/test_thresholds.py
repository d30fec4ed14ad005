"""Thresholds on declared metrics: an extract ruleset's thresholds name any metric its extract
definition (extracts/<id>.yaml) declares, with a minimum or maximum in the metric's own terms; every
mistake is reported at its file:line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.core.config import DEFAULT_EXTRACTS_DIR
from engine.core.errors import RulesetError
from engine.inputs.extract_definitions import ExtractDefinitions, load_extract_definitions
from engine.rules.catalogue import load_measure_catalogue
from engine.rules.ruleset_loader import load_rulesets, ruleset_from_content
from tests.rules.ruleset_texts import EXTRACT, FIELDS, edit

DEFINITION = """\
extract: people
version: 1.0.0
format: 1
title: People figures
source: figures
metrics:
  attendance_rate:
    item: M1
    kind: proportion
    text: Working days attended
    unit: days
    direction: higher
    periods: [month]
  sickness_share:
    item: M1
    kind: proportion
    text: Working days lost to sickness
    unit: days
    direction: lower
    periods: [month]
  feel_valued:
    item: M1
    kind: survey
    text: Staff who feel valued
    unit: respondents
    direction: higher
    periods: [quarter]
  days_to_fill:
    item: M1
    kind: time
    text: Days to fill a vacancy
    unit: days
    direction: lower
    periods: [month]
  grievances:
    item: M1
    kind: count
    text: Grievances per 100 FTE
    unit: grievances
    direction: lower
    periods: [quarter]
    exposure: fte
    per: 100
  misconduct_case:
    item: M1
    kind: event
    text: Gross misconduct case opened
    periods: [day]
"""
OTHER = """\
extract: outcomes
version: 1.0.0
format: 1
title: Outcomes
source: figures
metrics:
  charge_rate:
    item: M4
    kind: proportion
    text: Crimes charged
    unit: crimes
    direction: higher
    periods: [month]
"""
PEOPLE = """\
ruleset: people
version: 1.0.0
format: 1
title: Our people
extract: people
thresholds:
  - id: PP01
    text: Attendance
    standard: Force attendance policy
    measure: M1
    metric: attendance_rate
    minimum: 0.95
    source: HR system, monthly
  - id: PP02
    text: Sickness
    standard: Force attendance policy
    measure: M1
    metric: sickness_share
    maximum: 0.05
  - id: PP03
    text: Staff feel valued
    standard: Staff survey
    measure: M1
    metric: feel_valued
    minimum: 0.6
  - id: PP04
    text: Days to fill a vacancy
    standard: Workforce plan
    measure: M1
    metric: days_to_fill
    maximum: 60
    statistic: median
  - id: PP05
    text: Grievances
    standard: Workforce plan
    measure: M1
    metric: grievances
    maximum: 2.5
  - id: PP06
    text: Gross misconduct cases
    standard: Police (Conduct) Regulations 2020
    measure: M1
    metric: misconduct_case
  - id: PP07
    text: Time to fill, watched by SPC
    standard: Workforce plan
    measure: M1
    metric: days_to_fill
"""


@pytest.fixture
def extracts(tmp_path: Path) -> ExtractDefinitions:
    folder = tmp_path / "extracts"
    folder.mkdir()
    (folder / "people.yaml").write_text(DEFINITION, encoding="utf-8")
    (folder / "outcomes.yaml").write_text(OTHER, encoding="utf-8")
    (folder / "incidents.yaml").write_text(
        (DEFAULT_EXTRACTS_DIR / "incidents.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return load_extract_definitions(folder, tuple(load_measure_catalogue().measures))


def _problems(root: Path, extracts: ExtractDefinitions) -> list[str]:
    with pytest.raises(RulesetError) as info:
        load_rulesets(root, FIELDS, extracts=extracts)
    return [str(p) for p in info.value.problems]


def test_thresholds_of_every_kind_compile_in_their_metrics_terms(
    rulesets_dir: Callable[..., Path], extracts: ExtractDefinitions
) -> None:
    (rs,) = load_rulesets(rulesets_dir(("priority1/people.yaml", PEOPLE)), FIELDS, extracts=extracts)
    got = {t.id: (t.metric, t.kind, t.minimum, t.maximum, t.statistic, t.direction) for t in rs.thresholds}
    assert got == {
        "PP01": ("attendance_rate", "proportion", 0.95, None, "", "higher"),
        "PP02": ("sickness_share", "proportion", None, 0.05, "", "lower"),
        "PP03": ("feel_valued", "survey", 0.6, None, "", "higher"),
        "PP04": ("days_to_fill", "time", None, 60, "median", "lower"),
        "PP05": ("grievances", "count", None, 2.5, "", "lower"),
        "PP06": ("misconduct_case", "event", None, None, "", "lower"),
        "PP07": ("days_to_fill", "time", None, None, "mean", "lower"),  # the mean by default
    }
    assert rs.thresholds[0].source == "HR system, monthly"
    # published content compiles back to the same thresholds and hash
    again = ruleset_from_content(rs.canonical, FIELDS, source="registry:people@1.0.0", extracts=extracts)
    assert [replace(t, line=0) for t in again.thresholds] == [replace(t, line=0) for t in rs.thresholds]
    assert again.sha256 == rs.sha256


def test_every_threshold_mistake_is_named_at_its_line(
    rulesets_dir: Callable[..., Path], extracts: ExtractDefinitions
) -> None:
    text = (
        edit(PEOPLE, "    minimum: 0.95\n", "    minimum: 95\n")  # a share written as a percentage
        .replace("    maximum: 0.05\n", "    minimum: 0.05\n")  # a metric that improves when lower
        .replace("    minimum: 0.6\n", "    minimum: 0.6\n    maximum: 0.9\n")
        .replace("    statistic: median\n", "    statistic: mode\n")
        .replace("    maximum: 2.5\n", "    maximum: 2.5\n    statistic: median\n")
        .replace("    metric: misconduct_case\n", "    metric: misconduct_case\n    maximum: 1\n")
        .replace(
            "SPC\n    standard: Workforce plan\n    measure: M1\n    metric: days_to_fill\n",
            "SPC\n    standard: Workforce plan\n    measure: M1\n    metric: days_to_fil\n",
        )
    )
    text += (
        "  - id: PP08\n    text: x\n    standard: y\n    measure: M1\n    metric: charge_rate\n"
        "  - id: PP09\n    text: x\n    standard: y\n    measure: M2\n    metric: attendance_rate\n"
        "  - id: PP10\n    text: x\n    standard: y\n    measure: M1\n    metric: attendance_rate\n"
        "    direction: lower\n    maximum: .nan\n"
    )
    path = rulesets_dir(("priority1/people.yaml", text)) / "priority1" / "people.yaml"
    lines = text.splitlines()

    def at(needle: str, nth: int = 1) -> str:
        found = [i for i, line in enumerate(lines, 1) if needle in line]
        return f"{path}:{found[nth - 1]}"

    problems = _problems(path.parent.parent, extracts)
    expected = {
        f"{at('statistic: mode')}: threshold PP04: 'statistic' must be one of the known values, got 'mode' (known: mean, median)",
        f"{at('maximum: .nan')}: threshold PP10: 'maximum' must be a finite number greater than 0, got .nan",
        f"{at('minimum: 95')}: threshold PP01: 'minimum' of a proportion metric is a share between 0 and 1 "
        "(0.9 for 90%), got 95",
        f"{at('minimum: 0.05')}: threshold PP02: metric sickness_share improves when lower, so its standard "
        "is a maximum, not a minimum",
        f"{at('maximum: 0.9')}: threshold PP03: give a minimum or a maximum, not both",
        f"{at('statistic: median')}: threshold PP05: 'statistic' is for a time metric (mean or median); "
        "grievances is a count",
        f"{at('maximum: 1')}: threshold PP06: metric misconduct_case is an event: each one is itself an "
        "exception, so it has no 'maximum' (remove it)",
        f"{at('metric: days_to_fil', 2)}: threshold PP07: unknown metric 'days_to_fil' (did you mean 'days_to_fill'?) "
        "(extract people declares: attendance_rate, sickness_share, feel_valued, days_to_fill, grievances, "
        "misconduct_case)",
        f"{at('charge_rate')}: threshold PP08: metric charge_rate is declared by extract outcomes "
        f"({extracts.metrics['charge_rate'].path}:7), not by this ruleset's extract people",
        f"{at('measure: M2')}: threshold PP09: metric attendance_rate feeds item M1 "
        f"({extracts.metrics['attendance_rate'].path}:7), not M2",
    }
    assert set(problems) == expected and len(problems) == len(expected)


def test_an_extract_without_a_definition_is_named_once(
    rulesets_dir: Callable[..., Path], extracts: ExtractDefinitions
) -> None:
    root = rulesets_dir(("priority1/people.yaml", PEOPLE.replace("extract: people", "extract: hr")))
    (problem,) = _problems(root, extracts)
    assert problem == (
        f"{root / 'priority1' / 'people.yaml'}:5: no extract definition 'hr' in {extracts.folder} "
        "(defined: incidents, outcomes, people): an extract ruleset's thresholds name metrics its "
        "extracts/hr.yaml declares"
    )


def test_the_incidents_metrics_still_need_their_settings(
    rulesets_dir: Callable[..., Path], extracts: ExtractDefinitions
) -> None:
    text = edit(EXTRACT, "  g2_minutes:\n    default: 60\n    description: Grade 2 minutes\n", "")
    path = rulesets_dir(("priority1/rs.yaml", text)) / "priority1" / "rs.yaml"
    assert _problems(path.parent.parent, extracts) == [
        f"{path}:15: threshold RS01: metric g2_attended_within_60 needs setting 'g2_minutes' "
        "(a whole number > 0); it is missing",
    ]


def test_qam_rulesets_validate_reads_the_configured_extracts_folder(
    rulesets_dir: Callable[..., Path], extracts: ExtractDefinitions
) -> None:
    root = rulesets_dir(("priority1/people.yaml", PEOPLE))
    runner = CliRunner()
    env = {"QAM_EXTRACTS": extracts.folder}
    ok = runner.invoke(app, ["rulesets", "validate", str(root)], env=env)
    assert ok.exit_code == 0, ok.output
    assert "people" in ok.output
    # the bundled extracts/ has no 'people' extract: the same rulesets are refused there
    bundled = runner.invoke(
        app, ["rulesets", "validate", str(root)], env={"QAM_EXTRACTS": str(DEFAULT_EXTRACTS_DIR)}
    )
    assert bundled.exit_code == 3
    assert "no extract definition 'people'" in bundled.stderr
    # and the bundled rulesets validate against the bundled definitions
    assert runner.invoke(app, ["rulesets", "validate"], env={"QAM_EXTRACTS": ""}).exit_code == 0
