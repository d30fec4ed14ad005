"""A run records the catalogue and extract definition versions it used (issue 17): the manifest
names them with their hashes, `qam runs show` lists them, and `qam audit` re-derives the run under
exactly those versions, refusing when one was edited in the registry."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from engine import api
from engine.core.errors import RulesetError, StorageError
from engine.rules.catalogue import load_measure_catalogue
from engine.runs.records import show_run
from engine.store import runs
from tests.runs.world import WEEK, World, qam, sqlite_only


def _manifest(world: World, run_id: str) -> dict[str, Any]:
    with world.database.session() as session:
        found = runs.run(session, run_id)
        assert found is not None
        return dict(found.manifest)


def test_a_weekly_run_names_the_catalogue_and_extract_definitions_it_used(world: World) -> None:
    run_id = world.weekly()
    manifest = _manifest(world, run_id)
    catalogue = load_measure_catalogue(world.settings.catalogue_file)
    assert manifest["catalogue"] == {"id": "catalogue", "version": "1.0.0", "sha256": catalogue.sha256}
    published = {e.ruleset_id: e for e in api.list_rulesets(world.settings).entries}
    assert manifest["catalogue"]["sha256"] == published["catalogue"].sha256
    extracts = {r["id"]: r for r in manifest["extract_definitions"]}
    assert "extracts/incidents" in extracts
    assert extracts["extracts/incidents"]["sha256"] == published["extracts/incidents"].sha256
    assert world.audit(run_id).ok


@sqlite_only
def test_runs_show_lists_them(runner: CliRunner, world: World) -> None:
    run_id = world.weekly()
    shown = qam(runner, world, "runs", "show", run_id)
    assert shown.exit_code == 0, shown.output
    assert any(line.split()[:2] == ["catalogue", "1.0.0"] for line in shown.output.splitlines())
    assert any(line.split()[:1] == ["extracts/incidents"] for line in shown.output.splitlines())
    assert ("catalogue", "1.0.0") in [r[:2] for r in show_run(world.database, run_id).ruleset_rows()]


def test_a_catalogue_edited_in_the_registry_stops_the_audit(world: World) -> None:
    run_id = world.weekly()
    world.sql(
        "UPDATE ruleset_versions SET content = REPLACE(content, 'Our People', 'Our Staff') "
        "WHERE ruleset_id = 'catalogue'"
    )
    with pytest.raises(StorageError, match="catalogue 1.0.0") as caught:
        world.audit(run_id)
    assert caught.value.exit_code == 4 and "catalogue or extract definition versions" in str(caught.value)


@sqlite_only
def test_an_unpublished_catalogue_edit_stops_an_official_run(world: World, tmp_path: Path) -> None:
    own = tmp_path / "catalogue.yaml"
    shutil.copyfile(world.settings.catalogue_file, own)
    own.write_text(own.read_text(encoding="utf-8").replace("Our People", "Our Staff"), encoding="utf-8")
    world.settings = replace(world.settings, catalogue_file=own)
    with pytest.raises(RulesetError, match="not published") as caught:
        api.weekly(world.settings, WEEK, out=world.out)
    assert "catalogue.yaml: has unpublished edits" in str(caught.value)
    draft = api.weekly(world.settings, WEEK, out=world.out, draft=True)  # a draft run reads it
    assert _manifest(world, draft.run_id)["catalogue"]["version"] == "1.0.0"
