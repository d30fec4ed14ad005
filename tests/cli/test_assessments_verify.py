"""`qam assessments verify` (engine/cli/assessments.py): OK with the counts and the chain head, exit 0;
every problem named by assessment, revision and pk, exit 4 (tampering, as for the registry)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from engine import api
from engine.cli import app
from engine.core.config import Settings
from engine.demo.factories import build_row
from engine.inputs.submission_files import write_submission_csv
from engine.store import db as dbm


def test_verify_says_ok_then_names_each_tampered_revision_with_exit_4(
    runner: CliRunner, settings: Settings, tmp_path: Path
) -> None:
    api.init_database(settings)
    rows = [build_row("stop_search", assessment_id=f"QA-{i}", place="BLK") for i in (1, 2, 3)]
    api.submit(settings, [write_submission_csv(tmp_path / "qa.csv", rows)])

    ok = runner.invoke(app, ["--database", settings.database_url, "assessments", "verify"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith(
        "OK: checked 3 revisions of 3 assessments and 1 recorded head: hash chain intact, every current "
        "flag right; chain head "
    )

    database = dbm.open_database(settings.database_url)
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE assessments SET is_current = false WHERE assessment_id = 'QA-2'"))
        conn.execute(text("UPDATE assessments SET officer = 'PC Nobody' WHERE assessment_id = 'QA-3'"))
        pks = dict(conn.execute(text("SELECT assessment_id, pk FROM assessments")).tuples().all())
    database.close()

    failed = runner.invoke(app, ["--database", settings.database_url, "assessments", "verify"])
    assert failed.exit_code == 4, failed.output
    lines = failed.output.splitlines()
    assert lines[0].split() == ["kind", "where", "problem"]
    assert [line.split()[:4] for line in lines[1:4]] == [
        ["wrong_current", "QA-2", "revision", "1"],
        ["broken_link", "QA-3", "revision", "1"],
        ["content_hash", "QA-3", "revision", "1"],
    ]
    assert f"(pk {pks['QA-3']})" in lines[2]
    assert lines[-1] == "TAMPERED: checked 3 revisions of 3 assessments and 1 recorded head: 3 problems."

    as_json = runner.invoke(app, ["--database", settings.database_url, "assessments", "verify", "--json"])
    assert as_json.exit_code == 4
    report = json.loads(as_json.output)
    assert report["ok"] is False and [p["assessment_id"] for p in report["problems"]] == [
        "QA-2",
        "QA-3",
        "QA-3",
    ]


def test_a_head_kept_outside_the_database_catches_a_cut_off_tail(
    runner: CliRunner, settings: Settings, tmp_path: Path
) -> None:
    """Deleting the newest revisions and the head their submission recorded leaves a consistent
    database; the head an earlier verify printed, given back with --head, shows it."""
    api.init_database(settings)
    for name, ids in (("first", (1, 2, 3)), ("second", (4, 5))):
        rows = [build_row("stop_search", assessment_id=f"QA-{i}", place="BLK") for i in ids]
        api.submit(settings, [write_submission_csv(tmp_path / f"{name}.csv", rows)])
    kept = api.verify_assessments(settings).head
    assert kept is not None

    database = dbm.open_database(settings.database_url)
    with database.engine.begin() as conn:
        conn.execute(text("DELETE FROM assessments WHERE assessment_id IN ('QA-4', 'QA-5')"))
        conn.execute(text("DELETE FROM chain_heads WHERE position = :pk"), {"pk": kept.position})
    database.close()

    alone = runner.invoke(app, ["--database", settings.database_url, "assessments", "verify"])
    assert alone.exit_code == 0, alone.output  # the database alone cannot tell
    given = runner.invoke(
        app, ["--database", settings.database_url, "assessments", "verify", "--head", kept.text]
    )
    assert given.exit_code == 4, given.output
    assert f"the chain head {kept.hash[:12]} given to verify is no longer in the chain" in given.output
    bad = runner.invoke(
        app, ["--database", settings.database_url, "assessments", "verify", "--head", "5:abc"]
    )
    assert bad.exit_code == 2 and "invalid chain head '5:abc'" in bad.output
