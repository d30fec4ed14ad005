"""Force configuration and settings: defaults, environment, and every invalid force file named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.config import DEFAULT_FORCE_FILE, load_force, load_settings
from engine.core.errors import ConfigError, ExitCode, ProblemsError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "force.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_demo_force_has_twelve_places_in_three_divisions() -> None:
    force = load_force(DEFAULT_FORCE_FILE)
    assert force.name == "Demo Constabulary"
    assert len(force.places) == 12
    assert {p.division for p in force.places} == {"West", "Central", "East"}
    assert {p.setting for p in force.places} == {"urban", "rural"}


def test_settings_come_from_arguments_then_environment_then_defaults(tmp_path: Path) -> None:
    env = {"QAM_DATABASE_URL": "sqlite:///env.db", "QAM_FORCE": str(tmp_path / "f.yaml")}
    s = load_settings(environ=env)
    assert s.database_url == "sqlite:///env.db"
    assert s.force_file == tmp_path / "f.yaml"
    s = load_settings(database_url="sqlite:///arg.db", environ=env)
    assert s.database_url == "sqlite:///arg.db"
    s = load_settings(environ={})
    assert s.database_url == "sqlite:///qam.db"
    assert s.force_file == DEFAULT_FORCE_FILE


def test_duplicate_place_code_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "force: F\nplaces:\n"
        "  - {code: AAA, name: A, division: D, leader: L, setting: urban}\n"
        "  - {code: AAA, name: B, division: D, leader: L, setting: rural}\n",
    )
    with pytest.raises(ProblemsError) as info:
        load_force(path)
    assert f"{path}:4:places.1.code: duplicate place code 'AAA' (first at line 3)" in str(info.value)
    assert info.value.exit_code == ExitCode.INVALID_INPUT


def test_a_place_coded_force_is_refused_at_its_line(tmp_path: Path) -> None:
    # FORCE is where the force as a whole's exceptions, aggregates and actions go: a place of that
    # code would have its figures mixed with the whole force's
    path = write(
        tmp_path,
        "force: F\nplaces:\n"
        "  - {code: AAA, name: A, division: D, leader: L, setting: urban}\n"
        "  - {code: FORCE, name: Whole, division: D, leader: L, setting: rural}\n",
    )
    with pytest.raises(ProblemsError) as info:
        load_force(path)
    assert f"{path}:4:places.1.code: place code 'FORCE' is reserved" in str(info.value)
    assert info.value.exit_code == ExitCode.INVALID_INPUT


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "force: F\nplaces:\n"
        "  - {code: AAA, name: A, division: D, leader: L, setting: suburban}\n"
        "  - {code: b, name: B, division: D, leader: L, setting: rural}\n"
        "  - {code: CCC, division: D, leader: L, setting: rural}\n",
    )
    with pytest.raises(ProblemsError) as info:
        load_force(path)
    text = str(info.value)
    assert f"{path}:3:places.0.setting: must be one of urban, rural (got 'suburban')" in text
    assert f"{path}:4:places.1.code: must be 2-8 capital letters or digits" in text
    assert f"{path}:5:places.2.name: Missing data for required field." in text


def test_wrong_type_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ProblemsError, match="places: Not a valid list"):
        load_force(write(tmp_path, "force: F\nplaces: Blackwater\n"))
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_force(write(tmp_path, "- just\n- a list\n"))
    with pytest.raises(ConfigError, match=r"force.yaml:2: invalid YAML: did not find expected node content"):
        load_force(write(tmp_path, "force: F\nplaces: [\n"))
    with pytest.raises(ConfigError, match="cannot read file"):
        load_force(tmp_path / "missing.yaml")
