"""Ruleset files: loading, every validation message (exact `file:line: message`), all problems at
once, content hashing, setting overrides, and compiling stored canonical content back.

Forms are built by hand here (a few FieldSpecs) so these tests pin the loader, not the real forms;
tests/rules/test_ruleset_content.py covers the real rulesets against the real forms.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.core.errors import RulesetError
from engine.core.metrics import METRICS
from engine.core.models import AnswerType, FieldSpec
from engine.rules.rulesets import (
    canonical_content,
    content_sha256,
    load_rulesets,
    ruleset_from_content,
    validate_rulesets,
)

J = AnswerType.JUDGEMENT
FIELDS: dict[str, dict[str, FieldSpec]] = {
    "stop_search": {
        f.id: f
        for f in (
            FieldSpec("power", AnswerType.CHOICE, ("pace_s1", "mda_s23", "s60", "s47a", "other")),
            FieldSpec("grounds_recorded", J, ("yes", "no")),
            FieldSpec("strip_search", J, ("yes", "no")),
            FieldSpec("strip_search_authorised", J, ("yes", "no", "na")),
            FieldSpec("notes", AnswerType.TEXT),
        )
    },
    "domestic_abuse": {
        f.id: f
        for f in (
            FieldSpec("dash_risk", AnswerType.CHOICE, ("standard", "medium", "high")),
            FieldSpec("dash_yes_count", AnswerType.INTEGER, None, 0, 27),
            FieldSpec("marac_referral_made", J, ("yes", "no")),
        )
    },
}

# Line numbers matter: tests below name them.
SS = """\
ruleset: stop-search
version: 1.0.0
format: 1
title: Stop and search
case_type: stop_search
criteria:
  - id: SS01
    text: Grounds recorded
    standard: PACE s3
    measure: D11
    applies: answered(grounds_recorded)
    pass: grounds_recorded == 'yes'
    minimum: 0.9
  - id: SS02
    text: Strip search authorised
    standard: Code A 3.7
    measure: D11
    applies: strip_search == 'yes'
    pass: strip_search_authorised == 'yes'
    critical: true
    weight: 3
"""

DA = """\
ruleset: da-safeguarding
version: 2.1.0
format: 1
title: DA safeguarding
case_type: domestic_abuse
settings:
  marac_yes_threshold:
    default: 14
    description: SafeLives high risk
criteria:
  - id: DA01
    text: High risk referred to MARAC
    standard: SafeLives
    measure: D7
    applies: dash_risk == 'high' or dash_yes_count >= marac_yes_threshold
    pass: marac_referral_made == 'yes'
    critical: true
"""

EXTRACT = """\
ruleset: response
version: 1.0.0
format: 1
title: Response
extract: incidents
settings:
  g2_minutes:
    default: 60
    description: Grade 2 minutes
  call999_seconds:
    default: 10
    description: 999 seconds
thresholds:
  - id: RS01
    text: Grade 2 within 60 minutes
    standard: force policy
    measure: M2
    metric: g2_attended_within_60
    minimum: 0.85
  - id: RS02
    text: 101 answer time
    standard: none national
    measure: M2
    metric: call101_answer_seconds
"""


@pytest.fixture
def rulesets_dir(tmp_path: Path) -> Callable[..., Path]:
    """Write YAML strings into a rulesets folder: ``rulesets_dir(("priority4/ss.yaml", SS), ...)``."""
    root = tmp_path / "rulesets"

    def write(*files: tuple[str, str]) -> Path:
        for rel, text in files:
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        root.mkdir(exist_ok=True)
        return root

    return write


def problems_of(root: Path, **kwargs: object) -> list[str]:
    with pytest.raises(RulesetError) as info:
        load_rulesets(root, FIELDS, **kwargs)  # type: ignore[arg-type]
    return [str(p) for p in info.value.problems]


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# --------------------------------------------------------------------------- loading


def test_valid_rulesets_load_sorted_by_priority_with_defaults_filled(rulesets_dir) -> None:
    root = rulesets_dir(("priority4/ss.yaml", SS), ("priority3/da.yaml", DA), ("priority1/rs.yaml", EXTRACT))
    rulesets = load_rulesets(root, FIELDS)
    assert [(r.priority, r.id) for r in rulesets] == [
        (1, "response"),
        (3, "da-safeguarding"),
        (4, "stop-search"),
    ]
    ss = rulesets[2]
    assert (ss.case_type, ss.extract, ss.version, ss.format, ss.title) == (
        "stop_search",
        None,
        "1.0.0",
        1,
        "Stop and search",
    )
    assert ss.path == root / "priority4" / "ss.yaml"
    first, strip = ss.criteria
    # peel and iserve default to the measure's (D11: legitimacy); weight 1, not critical, higher is better
    assert (first.id, first.measure, first.peel, first.iserve) == (
        "SS01",
        "D11",
        "legitimacy",
        ("integrity", "engagement"),
    )
    assert (first.weight, first.critical, first.minimum, first.direction, first.line) == (
        1.0,
        False,
        0.9,
        "higher",
        7,
    )
    assert (strip.critical, strip.weight, strip.minimum) == (True, 3.0, None)
    assert strip.fields == frozenset({"strip_search", "strip_search_authorised"})
    assert ss.criterion("SS02") is strip


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


def test_validate_a_single_file_or_a_folder(rulesets_dir) -> None:
    root = rulesets_dir(("priority4/ss.yaml", SS), ("priority3/da.yaml", DA))
    assert [r.id for r in validate_rulesets(root / "priority4" / "ss.yaml", FIELDS)] == ["stop-search"]
    assert [r.id for r in validate_rulesets(root / "priority3", FIELDS)] == ["da-safeguarding"]
    assert len(validate_rulesets(root, FIELDS)) == 2


def test_a_draft_outside_the_priority_folders_states_its_priority(tmp_path: Path) -> None:
    draft = tmp_path / "draft.yaml"
    draft.write_text(SS.replace("format: 1\n", "format: 1\npriority: 4\n"), encoding="utf-8")
    (rs,) = validate_rulesets(draft, FIELDS)
    assert rs.priority == 4
    draft.write_text(SS, encoding="utf-8")
    with pytest.raises(RulesetError) as info:
        validate_rulesets(draft, FIELDS)
    assert [str(p) for p in info.value.problems] == [
        f"{draft}:1: ruleset: cannot tell its priority: put the file in a priority1..priority4 folder "
        "or add 'priority: N'"
    ]


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
            [
                "5: ruleset: 'case_type' must be one of the known values, got 'stopsearch' "
                "(did you mean 'stop_search'?)"
            ],
            id="case-type",
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
                "(its measures: M7, M8, M9, D7, D8, D9)",
                "18: criterion SS02: measure D11 belongs to priority 4, but this ruleset is priority 3 "
                "(its measures: M7, M8, M9, D7, D8, D9)",
            ],
            id="priority-disagrees",
        ),
        pytest.param(
            "priority3",
            SS,
            [
                "10: criterion SS01: measure D11 belongs to priority 4, but this ruleset is priority 3 "
                "(its measures: M7, M8, M9, D7, D8, D9)",
                "17: criterion SS02: measure D11 belongs to priority 4, but this ruleset is priority 3 "
                "(its measures: M7, M8, M9, D7, D8, D9)",
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
                "    minimum: 0.9\n    peel: legitamacy\n    iserve: [integrity, trust]\n",
            ),
            [
                "14: criterion SS01: unknown PEEL pillar 'legitamacy' (did you mean 'legitimacy'?)",
                "15: criterion SS01: unknown I-SERVE strand 'trust' (known: engagement, evidence, integrity, "
                "response, safeguarding, victims)",
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
        f"{path}:22: threshold RS02: metric call101_answer_seconds is a value, not a proportion: it has no "
        "minimum standard and is watched by SPC alone (remove 'minimum')",
        f"{path}:27: threshold RS03: unknown metric '999_fast' "
        "(known: call101_answer_seconds, call999_answered_within_10s, g1_attended_within_standard, "
        "g2_attended_within_60)",
        f"{path}:33: threshold RS04: metric call999_answered_within_10s improves when higher, not lower",
    ]


def test_folder_problems(rulesets_dir, tmp_path: Path) -> None:
    root = rulesets_dir(("priority5/ss.yaml", SS))
    assert problems_of(root) == [
        f"{root / 'priority5' / 'ss.yaml'}: unknown priority folder 'priority5' (the plan has priority1..priority4)"
    ]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert problems_of(empty) == [f"{empty}: no ruleset files (*.yaml) found"]
    assert problems_of(tmp_path / "missing") == [f"{tmp_path / 'missing'}: no such rulesets folder"]


def test_a_case_type_without_a_form_is_reported(rulesets_dir) -> None:
    root = rulesets_dir(("priority4/ss.yaml", SS))
    with pytest.raises(RulesetError) as info:
        load_rulesets(root, {"domestic_abuse": FIELDS["domestic_abuse"]})
    assert [str(p) for p in info.value.problems] == [
        f"{root / 'priority4' / 'ss.yaml'}:5: no QA form defines case type 'stop_search' (forms: domestic_abuse)"
    ]


def test_every_problem_of_every_file_is_reported_at_once(rulesets_dir) -> None:
    root = rulesets_dir(
        ("priority4/ss.yaml", edit(edit(SS, "version: 1.0.0", "version: one"), "weight: 3", "weight: -1")),
        (
            "priority3/a.yaml",
            edit(edit(DA, "measure: D7", "measure: D5"), "marac_referral_made ==", "marac_referal =="),
        ),
        ("priority3/b.yaml", DA),
    )
    a, b, ss = root / "priority3" / "a.yaml", root / "priority3" / "b.yaml", root / "priority4" / "ss.yaml"
    with pytest.raises(RulesetError) as info:
        load_rulesets(root, FIELDS)
    assert [str(p) for p in info.value.problems] == [
        f"{a}:14: criterion DA01: measure D5 belongs to priority 2, but this ruleset is priority 3 "
        "(its measures: M7, M8, M9, D7, D8, D9)",
        f"{a}:16: criterion DA01 'pass': unknown name 'marac_referal': not a question of this form or a setting "
        "(did you mean 'marac_referral_made'?)",
        f"{b}:1: ruleset id 'da-safeguarding' is already used by {a}",
        f"{ss}:2: ruleset: 'version' must be a semantic version x.y.z like 1.0.0, got 'one'",
        f"{ss}:21: criterion SS02: 'weight' must be greater than 0, got -1",
    ]
    assert str(info.value).splitlines()[0] == "invalid rulesets: 5 problems in 3 files"


# --------------------------------------------------------------------------- content hash


def test_hash_ignores_whitespace_comments_and_key_order(rulesets_dir, tmp_path: Path) -> None:
    (original,) = load_rulesets(rulesets_dir(("priority4/ss.yaml", SS)), FIELDS)
    reordered = "# a comment that changes nothing\n" + edit(
        SS, "ruleset: stop-search\nversion: 1.0.0\n", "version: '1.0.0'\n\n\nruleset:    stop-search\n"
    ).replace("    weight: 3\n", "    weight: 3.0   # same number\n").replace(
        "    text: Grounds recorded\n    standard: PACE s3\n",
        "    standard: PACE s3\n    text: Grounds recorded\n",
    )
    other = tmp_path / "other" / "priority4"
    other.mkdir(parents=True)
    (other / "ss.yaml").write_text(reordered, encoding="utf-8")
    (same,) = load_rulesets(other.parent, FIELDS)
    assert same.sha256 == original.sha256 and same.canonical == original.canonical


@pytest.mark.parametrize(
    ("folder", "old", "new"),
    [
        ("priority4", "text: Grounds recorded", "text: Grounds were recorded"),
        ("priority4", "minimum: 0.9", "minimum: 0.8"),
        ("priority4", "pass: grounds_recorded == 'yes'", "pass: grounds_recorded == 'no'"),
        ("priority4", "version: 1.0.0", "version: 1.0.1"),
        ("priority4", "    critical: true\n", ""),
    ],
)
def test_hash_changes_with_any_change_of_meaning(rulesets_dir, tmp_path: Path, folder, old, new) -> None:
    (original,) = load_rulesets(rulesets_dir(("priority4/ss.yaml", SS)), FIELDS)
    changed_dir = tmp_path / "changed"
    (changed_dir / folder).mkdir(parents=True)
    (changed_dir / folder / "ss.yaml").write_text(edit(SS, old, new), encoding="utf-8")
    (changed,) = load_rulesets(changed_dir, FIELDS)
    assert changed.sha256 != original.sha256


def test_the_priority_from_the_folder_is_part_of_the_content(rulesets_dir, tmp_path: Path) -> None:
    (implicit,) = load_rulesets(rulesets_dir(("priority4/ss.yaml", SS)), FIELDS)
    explicit_dir = tmp_path / "explicit" / "priority4"
    explicit_dir.mkdir(parents=True)
    (explicit_dir / "ss.yaml").write_text(
        SS.replace("format: 1\n", "format: 1\npriority: 4\n"), encoding="utf-8"
    )
    (explicit,) = load_rulesets(explicit_dir.parent, FIELDS)
    assert '"priority":4' in implicit.canonical
    assert explicit.sha256 == implicit.sha256


def test_canonical_content_is_sorted_compact_and_normalises_whole_floats() -> None:
    assert (
        canonical_content({"b": 1.0, "a": [True, None, "é"], "c": 0.5})
        == '{"a":[true,null,"é"],"b":1,"c":0.5}'
    )
    assert content_sha256("{}") == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


def test_stored_canonical_content_compiles_back_to_the_same_ruleset(rulesets_dir) -> None:
    (original,) = load_rulesets(rulesets_dir(("priority3/da.yaml", DA)), FIELDS)
    restored = ruleset_from_content(original.canonical, FIELDS, source="registry:da-safeguarding@2.1.0")
    assert (restored.id, restored.version, restored.priority, restored.sha256) == (
        original.id,
        original.version,
        3,
        original.sha256,
    )
    assert restored.path is None
    assert [c.id for c in restored.criteria] == ["DA01"]
    assert restored.criteria[0].passes.evaluate({"marac_referral_made": "yes"})


def test_broken_stored_content_names_its_source() -> None:
    with pytest.raises(RulesetError) as info:
        ruleset_from_content('{"ruleset": "x"}', FIELDS, source="registry:x@1.0.0")
    problems = [str(p) for p in info.value.problems]
    assert "registry:x@1.0.0:1: ruleset: missing required key 'version'" in problems
    assert any("cannot tell its priority" in p for p in problems)


# --------------------------------------------------------------------------- setting overrides


def test_setting_overrides_change_the_conditions_but_not_the_hash(rulesets_dir) -> None:
    root = rulesets_dir(("priority3/da.yaml", DA))
    (default,) = load_rulesets(root, FIELDS)
    (force,) = load_rulesets(root, FIELDS, setting_overrides={"da-safeguarding": {"marac_yes_threshold": 10}})
    case = {"dash_risk": "medium", "dash_yes_count": 12, "marac_referral_made": "no"}
    assert not default.criteria[0].applies.evaluate(case)  # 12 < 14: not high risk by default
    assert force.criteria[0].applies.evaluate(case)  # 12 >= 10 for this force
    assert force.settings["marac_yes_threshold"] == 10 and default.settings["marac_yes_threshold"] == 14
    (spec,) = force.setting_specs
    assert (spec.name, spec.default, spec.value, spec.line) == ("marac_yes_threshold", 14, 10, 7)
    assert force.sha256 == default.sha256


def test_bad_setting_overrides_are_reported_with_their_source(rulesets_dir) -> None:
    root = rulesets_dir(("priority3/da.yaml", DA))
    problems = problems_of(
        root,
        setting_overrides={
            "da-safeguard": {"marac_yes_threshold": 10},
            "da-safeguarding": {"marac_yes_treshold": 10, "marac_yes_threshold": "ten"},
        },
        overrides_source="force.yaml",
    )
    assert problems == [
        "force.yaml: settings for unknown ruleset 'da-safeguard' (did you mean 'da-safeguarding'?)",
        "force.yaml:da-safeguarding.marac_yes_treshold: ruleset da-safeguarding has no setting "
        "'marac_yes_treshold' (did you mean 'marac_yes_threshold'?)",
        "force.yaml:da-safeguarding.marac_yes_threshold: must be a whole number like its default 14, got 'ten'",
    ]


def test_overrides_for_other_rulesets_do_not_stop_a_single_file_or_stored_version(rulesets_dir) -> None:
    root = rulesets_dir(("priority3/da.yaml", DA), ("priority4/ss.yaml", SS))
    force = {"da-safeguarding": {"marac_yes_threshold": 10}, "stop-search": {}}
    (ss,) = validate_rulesets(root / "priority4" / "ss.yaml", FIELDS, setting_overrides=force)
    (da,) = validate_rulesets(root / "priority3" / "da.yaml", FIELDS, setting_overrides=force)
    restored = ruleset_from_content(da.canonical, FIELDS, source="registry", setting_overrides=force)
    assert (ss.id, da.settings["marac_yes_threshold"], restored.settings["marac_yes_threshold"]) == (
        "stop-search",
        10,
        10,
    )
