"""A force's configuration folder: named by the force file's `config:` (relative to the force file)
or QAM_CONFIG; it holds the catalogue and optionally qa_forms/, rulesets/ and extracts/ (a part it
lacks falls back to the bundled one, with a note); explicit options and QAM_RULESETS, QAM_FORMS,
QAM_EXTRACTS come first."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.core.config import (
    DEFAULT_CATALOGUE_FILE,
    DEFAULT_EXTRACTS_DIR,
    DEFAULT_FORCE_FILE,
    DEFAULT_FORMS_DIR,
    DEFAULT_RULESETS_DIR,
    load_force,
    load_settings,
)
from engine.core.errors import ConfigError, ProblemsError


def _force_file(tmp_path: Path, config: str | None) -> Path:
    text = DEFAULT_FORCE_FILE.read_text(encoding="utf-8")
    if config is not None:
        text = text.replace("\nforce: ", f"\nconfig: {config}\nforce: ", 1)
    path = tmp_path / "force" / "force.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _folder(root: Path, *parts: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEFAULT_CATALOGUE_FILE, root / "catalogue.yaml")
    sources = {
        "qa_forms": DEFAULT_FORMS_DIR,
        "rulesets": DEFAULT_RULESETS_DIR,
        "extracts": DEFAULT_EXTRACTS_DIR,
    }
    for part in parts:
        shutil.copytree(sources[part], root / part)
    return root


def test_the_force_file_names_a_folder_relative_to_itself(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "force" / "config", "qa_forms", "rulesets", "extracts")
    force_file = _force_file(tmp_path, "config")
    s = load_settings(force_file=force_file, environ={})
    assert s.config is not None and s.config.path == folder
    assert (s.catalogue_file, s.forms_dir, s.rulesets_dir, s.extracts_dir) == (
        folder / "catalogue.yaml",
        folder / "qa_forms",
        folder / "rulesets",
        folder / "extracts",
    )
    assert s.notes == ()
    assert load_force(force_file).name  # the key is part of the force file's format


def test_a_part_the_folder_lacks_falls_back_to_the_bundled_one_with_a_note(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "cfg", "rulesets")
    s = load_settings(force_file=DEFAULT_FORCE_FILE, environ={"QAM_CONFIG": str(folder)})
    assert s.catalogue_file == folder / "catalogue.yaml" and s.rulesets_dir == folder / "rulesets"
    assert (s.forms_dir, s.extracts_dir) == (DEFAULT_FORMS_DIR, DEFAULT_EXTRACTS_DIR)
    assert s.notes == (
        f"config folder {folder} has no qa_forms/: the bundled QA forms are used",
        f"config folder {folder} has no extracts/: the bundled extract definitions are used",
    )


def test_precedence_option_then_variable_then_folder_then_bundled(tmp_path: Path) -> None:
    from_file = _folder(tmp_path / "force" / "mine", "rulesets", "qa_forms", "extracts")
    from_env = _folder(tmp_path / "env", "rulesets", "qa_forms", "extracts")
    force_file = _force_file(tmp_path, "mine")
    # QAM_CONFIG wins over the force file's config:
    assert load_settings(force_file=force_file, environ={"QAM_CONFIG": str(from_env)}).config.path == from_env  # type: ignore[union-attr]
    # QAM_RULESETS (and QAM_FORMS, QAM_EXTRACTS) win over the folder; an explicit option over both
    other = tmp_path / "other-rulesets"
    s = load_settings(force_file=force_file, environ={"QAM_RULESETS": str(other), "QAM_FORMS": str(other)})
    assert (s.rulesets_dir, s.forms_dir, s.extracts_dir) == (other, other, from_file / "extracts")
    explicit = tmp_path / "explicit"
    s = load_settings(force_file=force_file, rulesets_dir=explicit, environ={"QAM_RULESETS": str(other)})
    assert s.rulesets_dir == explicit and s.catalogue_file == from_file / "catalogue.yaml"
    # no folder named: the bundled configuration
    s = load_settings(force_file=DEFAULT_FORCE_FILE, environ={})
    assert (s.config, s.catalogue_file, s.rulesets_dir) == (
        None,
        DEFAULT_CATALOGUE_FILE,
        DEFAULT_RULESETS_DIR,
    )


def test_a_folder_that_is_missing_or_holds_no_catalogue_is_refused_where_it_was_named(tmp_path: Path) -> None:
    force_file = _force_file(tmp_path, "nowhere")
    line = force_file.read_text(encoding="utf-8").splitlines().index("config: nowhere") + 1
    with pytest.raises(ConfigError) as info:
        load_settings(force_file=force_file, environ={})
    where = f"{force_file}:{line}:config"
    assert str(info.value).startswith(f"{where}: config folder {force_file.parent / 'nowhere'} (named by")
    assert "does not exist" in str(info.value)
    with pytest.raises(ProblemsError) as problems:
        load_force(force_file)
    assert str(problems.value.problems[0]).startswith(f"{where}: config folder")

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ConfigError, match="holds no catalogue.yaml"):
        load_settings(force_file=DEFAULT_FORCE_FILE, environ={"QAM_CONFIG": str(empty)})


def test_the_command_line_says_so_with_exit_3_and_prints_the_notes(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["--force", str(_force_file(tmp_path, "nowhere")), "forms", "list"])
    assert bad.exit_code == 3 and "config folder" in bad.output and "Traceback" not in bad.output
    folder = _folder(tmp_path / "cfg")
    ok = runner.invoke(app, ["forms", "list"], env={"QAM_CONFIG": str(folder)})
    assert ok.exit_code == 0, ok.output
    assert f"Note: config folder {folder} has no qa_forms/: the bundled QA forms are used" in ok.output
