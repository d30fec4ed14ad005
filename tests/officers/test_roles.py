"""roles.yaml: the bundled roles are valid against the bundled rulesets and extract definitions; a
force's own in its configuration folder is the one used; every mistake is reported at its line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.core.config import (
    DEFAULT_CATALOGUE_FILE,
    DEFAULT_EXTRACTS_DIR,
    DEFAULT_FORMS_DIR,
    DEFAULT_ROLES_FILE,
    DEFAULT_RULESETS_DIR,
    Settings,
    load_settings,
)
from engine.core.roles import RolesError, check_aspects, load_roles
from engine.inputs.extract_definitions import load_extract_definitions
from engine.inputs.forms import load_forms
from engine.rules.ruleset_loader import load_rulesets
from engine.runs.officers import file_names

BAD = """\
format: 1
min_cases: 5
roles:
  response:
    name: Response
    teams: ["Response*"]
    aspects:
      - stop-search-legitimacy/SS02
      - stop-search-legitimacy/SS99
      - stop-search-legitimacy/SS02
      - stop-serch-legitimacy/SS01
      - g1_attended_within_standrd
      - victims-code-compliance/VC01
  custody:
    teams: ["Custody*"]
    aspects:
      - case-file-quality/CF01
      - case-file-quality/CF02
      - case-file-quality/CF03
      - case-file-quality/CF04
      - case-file-quality/CF05
      - case-file-quality/CF06
"""


UNKNOWN = """\
format: 1
roles:
  response:
    name: Response
    teams: ["Response*"]
    aspects:
      - stop-search-legitimacy/SS02
      - stop-search-legitimacy/SS99
      - stop-serch-legitimacy/SS01
      - g1_attended_within_standrd
"""


def _in_use() -> tuple[dict[str, str], dict[str, str]]:
    forms = load_forms(DEFAULT_FORMS_DIR)
    extracts = load_extract_definitions(DEFAULT_EXTRACTS_DIR)
    rulesets = load_rulesets(
        DEFAULT_RULESETS_DIR, {t: f.field_specs() for t, f in forms.items()}, extracts=extracts
    )
    criteria = {f"{r.id}/{c.id}": c.text for r in rulesets if r.case_type for c in r.criteria}
    return criteria, {m: d.text for m, d in extracts.metrics.items()}


def test_the_bundled_roles_name_only_criteria_and_metrics_that_exist() -> None:
    roles = load_roles(DEFAULT_ROLES_FILE)
    assert [r.id for r in roles.roles] == ["response", "neighbourhood", "investigation", "custody"]
    assert all(1 <= len(r.aspects) <= 5 for r in roles.roles)
    check_aspects(roles, *_in_use())  # raises on any unknown aspect
    assert roles.role_of("Response B").id == "response"  # type: ignore[union-attr]
    assert roles.role_of("cid east").id == "investigation"  # type: ignore[union-attr]
    assert roles.role_of("Traffic") is None


def test_too_many_and_duplicate_aspects_are_refused_at_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "roles.yaml"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(RolesError) as caught:
        load_roles(path)
    message = str(caught.value)
    assert f"{path}:13: role response: 6 aspects, at most 5" in message
    assert f"{path}:10: role response: aspect 'stop-search-legitimacy/SS02' is listed twice" in message
    assert f"{path}:22: role custody: 6 aspects, at most 5" in message


def test_unknown_criteria_rulesets_and_metrics_are_refused_at_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "roles.yaml"
    path.write_text(UNKNOWN, encoding="utf-8")
    roles = load_roles(path)
    with pytest.raises(RolesError) as caught:
        check_aspects(roles, *_in_use())
    message = str(caught.value)
    assert "ruleset stop-search-legitimacy has no criterion 'SS99'" in message and f"{path}:8:" in message
    assert f"{path}:9: role response: aspect 'stop-serch-legitimacy/SS01': unknown ruleset" in message
    assert "did you mean 'stop-search-legitimacy'?" in message
    assert f"{path}:10: role response: aspect 'g1_attended_within_standrd' is not a criterion" in message
    assert "did you mean 'g1_attended_within_standard'?" in message


def test_a_config_folders_own_roles_are_used(tmp_path: Path) -> None:
    folder = tmp_path / "northshire"
    folder.mkdir()
    shutil.copyfile(DEFAULT_CATALOGUE_FILE, folder / "catalogue.yaml")
    assert load_settings(config_dir=folder, environ={}).roles_file == DEFAULT_ROLES_FILE
    (folder / "roles.yaml").write_text(BAD, encoding="utf-8")
    assert load_settings(config_dir=folder, environ={}).roles_file == folder / "roles.yaml"


def test_qam_officers_refuses_a_bad_roles_file_with_exit_3(
    published: Settings, tmp_path: Path, runner: CliRunner
) -> None:
    folder = tmp_path / "northshire"
    folder.mkdir()
    shutil.copyfile(DEFAULT_CATALOGUE_FILE, folder / "catalogue.yaml")
    (folder / "roles.yaml").write_text(UNKNOWN, encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["--database", published.database_url, "officers", "--from", "2026-11-01", "--to", "2026-11-30",
         "--out", str(out)],
        env={"QAM_CONFIG": str(folder), "QAM_RULESETS": str(published.rulesets_dir)},
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    assert f"{folder / 'roles.yaml'}:8: role response: aspect 'stop-search-legitimacy/SS99'" in result.output
    assert not out.exists() or not any(out.iterdir())


def test_a_period_that_runs_backwards_is_a_usage_error(published: Settings, runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["--database", published.database_url, "officers", "--from", "2026-11-30", "--to", "2026-11-01"]
    )
    assert result.exit_code == 2 and "before --from" in result.output


def test_officer_file_names_are_safe_and_never_shared() -> None:
    names = file_names(["PC 1000", "pc-1000", "Sgt. O'Neil / ../../etc", "Ñúñez"])
    assert names["Sgt. O'Neil / ../../etc"] == "sgt-o-neil-etc.pdf"
    assert names["Ñúñez"] == "nunez.pdf"
    assert names["PC 1000"] != names["pc-1000"]  # the same safe name: each gets its own hash
    assert all(n.startswith("pc-1000-") and n.endswith(".pdf") for n in (names["PC 1000"], names["pc-1000"]))
    assert all("/" not in n for n in names.values())
