"""`qam rulesets verify --head` and entries added by hand (issue 20), as `qam assessments verify` does
for the assessments: a registry head kept outside the database (a run manifest's registry_head, or
the SEQ:ENTRY_HASH verify prints) must still be in the chain, and an entry after the last head a
publication recorded was written by hand, however well it links."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import api
from engine import registry as reg
from engine.cli import app
from engine.core.config import Settings
from engine.core.errors import UsageError
from engine.registry import DiscrepancyKind as K
from engine.store import db as dbm
from tests.registry.test_registry import publish, ruleset_yaml, rulesets_dir, sql, write

__all__ = ["rulesets_dir"]  # the fixture, used here too


def test_an_entry_that_links_but_was_not_published_is_caught(
    database: dbm.Database, rulesets_dir: Path
) -> None:
    """Entries copied into the table by hand link like published ones (here: a publication whose
    recorded head is taken away, which leaves the same database). Before, verify found nothing."""
    publish(database, rulesets_dir)
    write(rulesets_dir, "stop-search.yaml", ruleset_yaml("1.1.0", ss01_text="Grounds recorded"))
    publish(database, rulesets_dir, minutes=1)
    assert reg.verify(database, rulesets_dir).ok
    sql(database, "DELETE FROM chain_heads WHERE chain = 'registry' AND position = 3")
    report = reg.verify(database, rulesets_dir)
    assert report.tampered
    assert [(d.kind, d.where, d.seq) for d in report.discrepancies] == [
        (K.UNRECORDED_ENTRY, "seq 3 (stop-search 1.1.0)", 3)
    ]
    assert report.discrepancies[0].message == (
        "comes after the last head recorded by a publication (seq 2): it was written to the database by "
        "hand, not by qam rulesets publish"
    )


def test_a_head_from_a_manifest_or_as_verify_prints_it_is_checked(
    database: dbm.Database, rulesets_dir: Path
) -> None:
    publish(database, rulesets_dir)
    write(rulesets_dir, "stop-search.yaml", ruleset_yaml("1.1.0", ss01_text="Grounds recorded"))
    publish(database, rulesets_dir, minutes=1)
    report = reg.verify(database, rulesets_dir)
    manifest_head, printed = report.head_hash, report.head
    assert printed == f"3:{manifest_head}"
    assert reg.verify(database, rulesets_dir, anchors=[manifest_head, printed]).ok
    # the newest entry and its recorded head deleted: consistent inside the database, not with the heads
    sql(
        database,
        "DELETE FROM ruleset_versions WHERE seq = 3",
        "DELETE FROM chain_heads WHERE chain = 'registry' AND position = 3",
    )
    for head in (manifest_head, printed):
        found = [(d.kind, d.where) for d in reg.verify(database, rulesets_dir, anchors=[head]).discrepancies]
        assert (K.MISSING_ENTRY, f"head {manifest_head[:12]}") in found


@pytest.mark.parametrize("head", ["abc", "3:" + "g" * 64, "x:" + "a" * 64, "a" * 63])
def test_a_malformed_head_is_a_usage_error(database: dbm.Database, rulesets_dir: Path, head: str) -> None:
    with pytest.raises(UsageError, match="invalid registry head"):
        reg.verify(database, rulesets_dir, anchors=[head])


def test_the_command_takes_heads_prints_its_own_and_exits_by_what_it_found(published: Settings) -> None:
    runner = CliRunner()
    base = ["--database", published.database_url, "rulesets", "verify"]
    env = {"QAM_RULESETS": str(published.rulesets_dir)}
    ok = runner.invoke(app, base, env=env)
    assert ok.exit_code == 0, ok.output
    line = ok.output.strip().splitlines()[-1]
    assert line.startswith("registry head ") and line.endswith(" (keep it: --head checks it later)")
    head = line.split()[2]
    assert runner.invoke(app, [*base, "--head", head, "--head", head.split(":")[1]], env=env).exit_code == 0
    assert runner.invoke(app, [*base, "--head", "12:abc"], env=env).exit_code == 2
    other = "0" * 63 + "1"
    gone = runner.invoke(app, [*base, "--head", other], env=env)
    assert gone.exit_code == 4
    assert f"head {other[:12]}" in gone.output and "given to verify is no longer in the chain" in gone.output
    assert api.verify_rulesets(published, (head,)).ok
