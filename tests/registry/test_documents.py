"""The catalogue and the extract definitions are published, listed, diffed and verified like
rulesets (issue 17): `qam rulesets publish` puts them in the same hash chain, a change needs a
higher version, and verify catches an edit in the database or an unpublished edit in the folder."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from engine import api, registry
from engine.core.config import DEFAULT_CATALOGUE_FILE, DEFAULT_EXTRACTS_DIR, Settings
from engine.core.errors import RulesetError
from engine.registry.entries import DiscrepancyKind as K

M3_NAMED = (
    "  M3:\n    name: Contact handling\n    priority: 1\n    peel: efficiency\n    iserve: [response]\n"
    "    direction: higher\n    evidence: [X]\n"
)


@pytest.fixture
def configured(settings: Settings, tmp_path: Path) -> Settings:
    """Settings whose catalogue and extract definitions are copies in tmp_path (free to edit), on an
    initialised database with everything published."""
    shutil.copyfile(DEFAULT_CATALOGUE_FILE, tmp_path / "catalogue.yaml")
    shutil.copytree(DEFAULT_EXTRACTS_DIR, tmp_path / "extracts")
    shutil.copytree(settings.rulesets_dir, tmp_path / "rulesets")
    s = replace(
        settings,
        catalogue_file=tmp_path / "catalogue.yaml",
        extracts_dir=tmp_path / "extracts",
        rulesets_dir=tmp_path / "rulesets",
    )
    api.init_database(s)
    api.publish_rulesets(s, author="qa.lead", note="first")
    return s


def _name_m3(s: Settings, version: str | None) -> None:
    path = s.catalogue_file
    source = path.read_text(encoding="utf-8")
    edited = source.replace("  M3:\n    defined: false\n    priority: 1\n", M3_NAMED, 1)
    if version:
        edited = edited.replace("version: 1.0.0", f"version: {version}", 1)
    assert edited != source
    path.write_text(edited, encoding="utf-8")


def test_publishing_puts_the_catalogue_and_extract_definitions_in_the_chain(configured: Settings) -> None:
    listed = {e.ruleset_id: e for e in api.list_rulesets(configured).entries}
    assert listed["catalogue"].version == "1.0.0" and listed["catalogue"].applies_to == "catalogue"
    extracts = sorted(i for i in listed if i.startswith("extracts/"))
    assert extracts and "extracts/incidents" in extracts
    assert listed["extracts/incidents"].applies_to == "extract definition"
    rows = {r[0]: r for r in api.list_rulesets(configured).to_table_rows()}
    assert rows["catalogue"][1:4] == ("1.0.0", "-", "catalogue")
    assert rows["stop-search-legitimacy"][2] == "4"
    shown = api.show_ruleset(configured, "catalogue", None)
    assert shown.source_text == configured.catalogue_file.read_text(encoding="utf-8")
    assert api.verify_rulesets(configured).ok
    again = api.publish_rulesets(configured, author="qa.lead", note="again")  # nothing changed
    assert not again.changed and any(e.ruleset_id == "catalogue" for e in again.unchanged)


def test_a_catalogue_change_needs_a_higher_version_and_is_diffed_item_by_item(configured: Settings) -> None:
    _name_m3(configured, version=None)
    found = api.verify_rulesets(configured)
    assert [(d.kind, d.where) for d in found.discrepancies] == [(K.UNPUBLISHED_EDIT, "catalogue.yaml")]
    assert "raise its version above 1.0.0" in found.discrepancies[0].message
    with pytest.raises(RulesetError, match="raise the version") as info:
        api.publish_rulesets(configured, author="qa.lead", note="M3 named")
    assert str(info.value.problems[0]).startswith("catalogue.yaml: content changed but version 1.0.0")

    _name_m3(replace(configured, catalogue_file=configured.catalogue_file), version="1.1.0")
    published = api.publish_rulesets(configured, author="qa.lead", note="M3 named")
    assert [(e.ruleset_id, e.version) for e in published.published] == [("catalogue", "1.1.0")]
    assert [e.version for e in api.ruleset_history(configured, "catalogue").entries] == ["1.0.0", "1.1.0"]
    diff = api.diff_rulesets(configured, "catalogue", "1.0.0", "1.1.0")
    assert diff.summary == "1 item changed, 0 added, 0 removed"
    rows = diff.to_table_rows()
    assert ("changed", "item M3", "name", "(not set)", "Contact handling") in rows
    assert ("changed", "item M3", "defined", "false", "(not set)") in rows
    assert diff.to_json()["items"]["changed"][0]["id"] == "M3"
    assert api.verify_rulesets(configured).ok


def test_an_extract_definition_change_is_diffed_metric_by_metric(configured: Settings) -> None:
    path = configured.extracts_dir / "incidents.yaml"
    source = path.read_text(encoding="utf-8")
    version = next(line for line in source.splitlines() if line.startswith("version: "))
    edited = source.replace(version, "version: 9.0.0", 1).replace("title: ", "title: Revised ", 1)
    path.write_text(edited, encoding="utf-8")
    assert [d.where for d in api.verify_rulesets(configured).discrepancies] == ["extracts/incidents.yaml"]
    api.publish_rulesets(configured, author="qa.lead", note="retitled")
    diff = api.diff_rulesets(configured, "extracts/incidents", version.split()[1], "9.0.0")
    assert [f.field for f in diff.ruleset_fields] == ["title"] and not diff.items
    assert diff.summary == "0 metrics changed, 0 added, 0 removed; extract definition title changed"


def test_a_catalogue_edited_in_the_database_is_caught(configured: Settings) -> None:
    with api.database_for(configured) as database, database.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE ruleset_versions SET source_text = REPLACE(source_text, 'Our People', 'Our Staff') "
                "WHERE ruleset_id = 'catalogue'"
            )
        )
    found = api.verify_rulesets(configured)
    assert found.tampered
    assert [(d.kind, d.where) for d in found.discrepancies] == [
        (K.TAMPERED_CONTENT, "seq 1 (catalogue 1.0.0)")
    ]
    assert "edited in the database" in found.discrepancies[0].message


def test_a_ruleset_cannot_take_the_catalogues_name(configured: Settings) -> None:
    path = configured.rulesets_dir / "priority4" / "stop-search-legitimacy.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("ruleset: stop-search-legitimacy", "ruleset: catalogue", 1),
        encoding="utf-8",
    )
    with pytest.raises(RulesetError, match="registry's name for configuration"):
        api.publish_rulesets(configured, author="qa.lead", note="clash")
    assert registry.CATALOGUE_ID == "catalogue"
