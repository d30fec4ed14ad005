"""Compiling rulesets: conditions and thresholds as compiled, and every validation message of both
phases (parse and compile) with its exact ``file:line: message``, as the loader reports it."""

from __future__ import annotations

import pytest

from engine.core.config import DEFAULT_EXTRACTS_DIR
from engine.core.errors import RulesetError
from engine.core.metrics import METRICS
from engine.inputs.extract_definitions import load_extract_definitions
from engine.rules.ruleset_loader import load_rulesets
from tests.rules.ruleset_texts import EXTRACT, FIELDS, SS, edit, problems_of


def test_conditions_evaluate_against_a_case(rulesets_dir) -> None:
    (ss,) = load_rulesets(rulesets_dir(("priority4/ss.yaml", SS)), FIELDS)
    strip = ss.criterion("SS02")
    assert strip.applies is not None and strip.applies.evaluate({"strip_search": "yes"})
    assert not strip.passes.evaluate({"strip_search": "yes", "strip_search_authorised": "no"})
    assert strip.passes.evaluate({"strip_search": "yes", "strip_search_authorised": "yes"})


def test_extract_ruleset_thresholds(rulesets_dir) -> None:
    (rs,) = load_rulesets(rulesets_dir(("priority1/rs.yaml", EXTRACT)), FIELDS)
    assert rs.extract == "incidents" and rs.case_type is None and rs.criteria == ()
    g2, call101 = rs.thresholds
    assert (g2.metric, g2.minimum, g2.direction, g2.peel) == (
        "g2_attended_within_60",
        0.85,
        "higher",
        "effectiveness",
    )
    # a value metric has no standard and improves when lower
    assert (call101.metric, call101.minimum, call101.direction) == ("call101_answer_seconds", None, "lower")
    assert dict(rs.settings) == {"g2_minutes": 60, "call999_seconds": 10}
    assert "call101_answer_seconds" in METRICS


def test_guidance_is_kept_for_criteria_and_thresholds(rulesets_dir) -> None:
    folded = "    guidance: >-\n      The officer records the grounds\n      before the search ends.\n"
    ss_text = edit(SS, "    minimum: 0.9\n", "    minimum: 0.9\n" + folded)
    rs_text = edit(
        EXTRACT, "    minimum: 0.85\n", "    minimum: 0.85\n    guidance: Control room dispatches at once\n"
    )
    root = rulesets_dir(("priority4/ss.yaml", ss_text), ("priority1/rs.yaml", rs_text))
    by_id = {r.id: r for r in load_rulesets(root, FIELDS)}
    ss01, ss02 = by_id["stop-search"].criteria
    assert ss01.guidance == "The officer records the grounds before the search ends."
    assert ss02.guidance == ""  # optional
    assert by_id["response"].thresholds[0].guidance == "Control room dispatches at once"


# --------------------------------------------------------------------------- every message


@pytest.mark.parametrize(
    ("folder", "text", "expected"),
    [
        pytest.param(
            "priority4",
            edit(SS, "    pass: grounds_recorded == 'yes'\n", "    pas: grounds_recorded == 'yes'\n"),
            [
                "7: criterion SS01: missing required key 'pass'",
                "12: criterion SS01: unknown key 'pas' (did you mean 'pass'?)",
            ],
            id="unknown-key-suggested",
        ),
        pytest.param(
            "priority4",
            edit(SS, "title: Stop and search\n", ""),
            ["1: ruleset: missing required key 'title'"],
            id="missing-title",
        ),
        pytest.param(
            "priority4",
            edit(SS, "title: Stop and search\n", "titel: Stop and search\n"),
            [
                "1: ruleset: missing required key 'title'",
                "4: ruleset: unknown key 'titel' (did you mean 'title'?)",
            ],
            id="misspelt-title",
        ),
        pytest.param(
            "priority4",
            edit(SS, "version: 1.0.0", "version: 1.0"),
            ["2: ruleset: 'version' must be a semantic version x.y.z like 1.0.0, got 1.0"],
            id="version-number",
        ),
        pytest.param(
            "priority4",
            edit(SS, "version: 1.0.0", "version: v1.2"),
            ["2: ruleset: 'version' must be a semantic version x.y.z like 1.0.0, got 'v1.2'"],
            id="version-text",
        ),
        pytest.param(
            "priority4",
            edit(SS, "ruleset: stop-search", "ruleset: Stop_Search"),
            [
                "1: ruleset: 'ruleset' must be a kebab-case id like 'stop-search-legitimacy', got 'Stop_Search'"
            ],
            id="ruleset-id",
        ),
        pytest.param(
            "priority4",
            edit(SS, "format: 1", "format: 2"),
            ["3: unsupported format 2 (this QAM reads format 1)"],
            id="format",
        ),
        pytest.param(
            "priority4",
            edit(SS, "case_type: stop_search", "case_type: stopsearch"),
            ["5: no QA form defines case type 'stopsearch' (forms: domestic_abuse, stop_search)"],
            id="case-type",
        ),
        pytest.param(
            "priority4",
            edit(SS, "case_type: stop_search", "case_type: Stop Search"),
            ["5: ruleset: 'case_type' must be a QA form's id like 'stop_search', got 'Stop Search'"],
            id="case-type-not-an-id",
        ),
        pytest.param(
            "priority4",
            edit(SS, "case_type: stop_search\n", ""),
            [
                "1: ruleset: needs exactly one of 'case_type' (assessment ruleset) or 'extract' (quantitative ruleset)"
            ],
            id="no-case-type",
        ),
        pytest.param(
            "priority4",
            edit(SS, "case_type: stop_search\n", "case_type: stop_search\nthresholds: []\n"),
            ["6: ruleset: 'thresholds' do not belong in an assessment ruleset (use 'criteria')"],
            id="thresholds-in-assessment",
        ),
        pytest.param(
            "priority3",
            edit(SS, "format: 1\n", "format: 1\npriority: 4\n"),
            [
                "4: ruleset: 'priority: 4' disagrees with its folder priority3 "
                "(the folder decides: remove the key or move the file)",
                "11: criterion SS01: measure D11 belongs to priority 4, but this ruleset is priority 3 "
                "(its measures: M7, M8, D7)",
                "18: criterion SS02: measure D11 belongs to priority 4, but this ruleset is priority 3 "
                "(its measures: M7, M8, D7)",
            ],
            id="priority-disagrees",
        ),
        pytest.param(
            "priority3",
            SS,
            [
                "10: criterion SS01: measure D11 belongs to priority 4, but this ruleset is priority 3 "
                "(its measures: M7, M8, D7)",
                "17: criterion SS02: measure D11 belongs to priority 4, but this ruleset is priority 3 "
                "(its measures: M7, M8, D7)",
            ],
            id="measure-priority",
        ),
        pytest.param(
            "priority4",
            edit(SS, "measure: D11", "measure: d11"),
            ["10: criterion SS01: unknown measure 'd11' (did you mean 'D11'?)"],
            id="unknown-measure",
        ),
        pytest.param(
            "priority4",
            edit(
                SS,
                "    minimum: 0.9\n",
                "    minimum: 0.9\n    peel: legitamacy\n    iserve: [investigation, trust]\n",
            ),
            [
                "14: criterion SS01: unknown PEEL pillar 'legitamacy' (did you mean 'legitimacy'?)",
                "15: criterion SS01: unknown I-SERVE strand 'trust' (known: early_action, engagement, investigation, "
                "response, safeguarding, visibility)",
            ],
            id="peel-iserve",
        ),
        pytest.param(
            "priority4",
            edit(SS, "    weight: 3\n", "    weight: heavy\n"),
            ["21: criterion SS02: 'weight' must be a number, got 'heavy'"],
            id="weight-type",
        ),
        pytest.param(
            "priority4",
            edit(SS, "    weight: 3\n", "    weight: 0\n"),
            ["21: criterion SS02: 'weight' must be greater than 0, got 0"],
            id="weight-zero",
        ),
        pytest.param(
            "priority4",
            edit(SS, "minimum: 0.9", "minimum: 90"),
            ["13: criterion SS01: 'minimum' must be between 0 and 1, got 90"],
            id="minimum-range",
        ),
        pytest.param(
            "priority4",
            edit(SS, "minimum: 0.9", "minimum: .nan"),
            ["13: criterion SS01: 'minimum' must be a finite number between 0 and 1, got .nan"],
            id="minimum-nan",
        ),
        pytest.param(
            "priority4",
            edit(SS, "minimum: 0.9", "minimum: -.inf"),
            ["13: criterion SS01: 'minimum' must be a finite number between 0 and 1, got -.inf"],
            id="minimum-minus-infinity",
        ),
        pytest.param(
            "priority4",
            edit(SS, "    weight: 3\n", "    weight: .NaN\n"),
            ["21: criterion SS02: 'weight' must be a finite number greater than 0, got .nan"],
            id="weight-nan",
        ),
        pytest.param(
            "priority4",
            edit(SS, "    weight: 3\n", "    weight: .inf\n"),
            ["21: criterion SS02: 'weight' must be a finite number greater than 0, got .inf"],
            id="weight-infinity",
        ),
        pytest.param(
            "priority4",
            edit(SS, "    critical: true\n", "    critical: yes\n"),
            ["20: criterion SS02: 'critical' must be true or false, got 'yes'"],
            id="critical-yes-is-not-a-boolean",
        ),
        pytest.param(
            "priority4",
            edit(SS, "  - id: SS02", "  - id: SS01"),
            ["14: criterion id 'SS01' is used twice (first at line 7)"],
            id="duplicate-criterion",
        ),
        pytest.param(
            "priority4",
            edit(SS, "  - id: SS02", "  - id: ss-2"),
            ["14: criterion ss-2: 'id' must be capitals ending in digits, like SS01, got 'ss-2'"],
            id="criterion-id",
        ),
        pytest.param(
            "priority4",
            edit(
                SS,
                "criteria:\n",
                "settings:\n  grounds_recorded:\n    default: 1\n    description: clash\ncriteria:\n",
            ),
            ["7: setting 'grounds_recorded' has the name of a question of the stop_search form"],
            id="setting-clashes-with-question",
        ),
        pytest.param(
            "priority4",
            edit(
                SS,
                "criteria:\n",
                "settings:\n  limit:\n    default: 0.5\n    description: a float\ncriteria:\n",
            ),
            ["8: setting 'limit': 'default' must be a whole number or text, got 0.5"],
            id="setting-float",
        ),
        pytest.param(
            "priority4",
            edit(SS, "criteria:\n", "settings:\n  limit:\n    default: 3\ncriteria:\n"),
            ["7: setting 'limit': missing required key 'description'"],
            id="setting-description",
        ),
        pytest.param(
            "priority4",
            edit(SS, "pass: grounds_recorded == 'yes'", "pass: grounds_recorded in ('yes', 'no')"),
            [
                "7: criterion SS01: 'pass' is true for every applicable answer the form allows, "
                "so the criterion can never fail"
            ],
            id="pass-always-true",
        ),
        pytest.param(
            "priority4",
            edit(
                SS,
                "applies: strip_search == 'yes'",
                "applies: strip_search == 'yes' and strip_search == 'no'",
            ),
            [
                "18: criterion SS02 'applies': \"strip_search == 'yes' and strip_search == 'no'\" is always "
                "false, whatever the answers; no case can satisfy it"
            ],
            id="applies-never-true",
        ),
        pytest.param(
            "priority4",
            edit(SS, "pass: strip_search_authorised == 'yes'", "pass: strip_search == 'no'"),
            [
                "14: criterion SS02: 'pass' is false for every applicable answer the form allows, "
                "so the criterion can never pass"
            ],
            id="pass-never-true",
        ),
        pytest.param(
            "priority4",
            "ruleset: x\n  version: [",
            None,  # the YAML library's wording; only the location is ours
            id="yaml-syntax",
        ),
        pytest.param(
            "priority4",
            edit(
                SS,
                "    minimum: 0.9\n",
                "    minimum: 0.9\n    guidance: |\n      Sergeant: check.\n      Then brief.\n",
            ),
            [
                "14: criterion SS01: 'guidance' must be one line (a long line may be folded with '>-', not '|')"
            ],
            id="guidance-two-lines",
        ),
        pytest.param(
            "priority4",
            edit(SS, "    minimum: 0.9\n", f"    minimum: 0.9\n    guidance: {'x' * 201}\n"),
            [
                "14: criterion SS01: 'guidance' is 201 characters; keep it to 200 "
                "(one line a place leader reads: who should act and how)"
            ],
            id="guidance-too-long",
        ),
        pytest.param(
            "priority4",
            edit(SS, "    minimum: 0.9\n", "    minimum: 0.9\n    guidance: ''\n"),
            ["14: criterion SS01: 'guidance' must be non-empty text, got ''"],
            id="guidance-empty",
        ),
        pytest.param(
            "priority4",
            "- just a list\n",
            ["1: a ruleset file must be a mapping of keys to values, got a list"],
            id="not-a-mapping",
        ),
    ],
)
def test_each_problem_is_reported_with_file_and_line(rulesets_dir, folder, text, expected) -> None:
    root = rulesets_dir((f"{folder}/rules.yaml", text))
    path = root / folder / "rules.yaml"
    problems = problems_of(root)
    if expected is None:
        assert len(problems) == 1 and problems[0].startswith(f"{path}:2: invalid YAML: ")
        return
    assert problems == [f"{path}:{message}" for message in expected]


def test_an_unknown_question_in_a_condition_names_the_criterion_and_line(rulesets_dir) -> None:
    root = rulesets_dir(
        ("priority4/ss.yaml", edit(SS, "pass: grounds_recorded == 'yes'", "pass: ground == 'yes'"))
    )
    (problem,) = problems_of(root)
    assert problem.startswith(f"{root / 'priority4' / 'ss.yaml'}:12: criterion SS01 'pass': ")
    assert "ground" in problem


def test_extract_threshold_problems(rulesets_dir) -> None:
    text = edit(EXTRACT, "  g2_minutes:\n    default: 60\n    description: Grade 2 minutes\n", "")
    text = edit(
        text, "    metric: call101_answer_seconds\n", "    metric: call101_answer_seconds\n    minimum: 0.5\n"
    )
    text += "  - id: RS03\n    text: x\n    standard: y\n    measure: M2\n    metric: 999_fast\n"
    text += "  - id: RS04\n    text: x\n    standard: y\n    measure: M2\n    metric: call999_answered_within_10s\n"
    text += "    direction: lower\n"
    path = rulesets_dir(("priority1/rs.yaml", text)) / "priority1" / "rs.yaml"
    assert problems_of(path.parent.parent) == [
        f"{path}:15: threshold RS01: metric g2_attended_within_60 needs setting 'g2_minutes' "
        "(a whole number > 0); it is missing",
        f"{path}:22: threshold RS02: metric call101_answer_seconds improves when lower, so its standard "
        "is a maximum, not a minimum",
        f"{path}:27: threshold RS03: unknown metric '999_fast' (extract incidents declares: "
        f"{', '.join(load_extract_definitions(DEFAULT_EXTRACTS_DIR).extracts['incidents'].metrics)})",
        f"{path}:33: threshold RS04: metric call999_answered_within_10s improves when higher, not lower",
    ]


def test_a_case_type_without_a_form_is_reported(rulesets_dir) -> None:
    root = rulesets_dir(("priority4/ss.yaml", SS))
    with pytest.raises(RulesetError) as info:
        load_rulesets(root, {"domestic_abuse": FIELDS["domestic_abuse"]})
    assert [str(p) for p in info.value.problems] == [
        f"{root / 'priority4' / 'ss.yaml'}:5: no QA form defines case type 'stop_search' (forms: domestic_abuse)"
    ]
