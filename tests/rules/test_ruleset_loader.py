"""Loading rulesets: a folder sorted by priority with defaults filled, one file or a folder, a draft
outside the priority folders, folder problems, every problem of every file at once, stored canonical
content compiled back, and setting overrides.

tests/rules/test_ruleset_content.py covers the real rulesets against the real forms.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.errors import RulesetError
from engine.rules.ruleset_loader import load_rulesets, ruleset_from_content, validate_rulesets
from tests.rules.ruleset_texts import DA, EXTRACT, FIELDS, SS, edit, problems_of


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
        ("investigation", "engagement"),
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


def test_folder_problems(rulesets_dir, tmp_path: Path) -> None:
    root = rulesets_dir(("priority5/ss.yaml", SS))
    assert problems_of(root) == [
        f"{root / 'priority5' / 'ss.yaml'}: unknown priority folder 'priority5' (the plan has priority1..priority4)"
    ]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert problems_of(empty) == [f"{empty}: no ruleset files (*.yaml) found"]
    assert problems_of(tmp_path / "missing") == [f"{tmp_path / 'missing'}: no such rulesets folder"]


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
        "(its measures: M7, M8, D7)",
        f"{a}:16: criterion DA01 'pass': unknown name 'marac_referal': not a question of this form or a setting "
        "(did you mean 'marac_referral_made'?)",
        f"{b}:1: ruleset id 'da-safeguarding' is already used by {a}",
        f"{ss}:2: ruleset: 'version' must be a semantic version x.y.z like 1.0.0, got 'one'",
        f"{ss}:21: criterion SS02: 'weight' must be greater than 0, got -1",
    ]
    assert str(info.value).splitlines()[0] == "invalid rulesets: 5 problems in 3 files"


# --------------------------------------------------------------------------- stored content


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
