"""The ruleset registry (issue 7): publish, history, diff, show, verify against every tamper we can
simulate with SQL, unpublished working-tree edits, official-run loading, and two publishers at once.

Runs on SQLite and PostgreSQL through the ``database`` fixture; concurrency tests need PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from engine import registry as reg
from engine.core.errors import RulesetError, StorageError, UsageError
from engine.core.models import AnswerType, FieldSpec
from engine.registry import DiscrepancyKind as K
from engine.store import db as dbm
from engine.store import registry as store_registry
from engine.store.schema import upgrade

JUDGEMENT = ("yes", "no", "na")
FIELDS = {
    "stop_search": {
        q: FieldSpec(q, AnswerType.JUDGEMENT, JUDGEMENT)
        for q in ("grounds_recorded", "object_recorded", "bwv_activated", "receipt_offered")
    }
}
T0 = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)

CRITERIA = {
    "SS01": """
  - id: SS01
    text: The grounds for the search were recorded
    standard: PACE 1984 s3(6)
    measure: D11
    applies: answered(grounds_recorded)
    pass: grounds_recorded == 'yes'
    minimum: 0.9
""",
    "SS02": """
  - id: SS02
    text: The object of the search was recorded
    standard: PACE 1984 s3(6); Code A para 4.3
    measure: D11
    applies: answered(object_recorded)
    pass: object_recorded == 'yes'
""",
    "SS03": """
  - id: SS03
    text: Body-worn video was activated
    standard: College of Policing APP on body-worn video
    measure: D11
    applies: answered(bwv_activated)
    pass: bwv_activated == 'yes'
""",
}


def ruleset_yaml(
    version: str = "1.0.0",
    *,
    rid: str = "stop-search",
    title: str = "Stop and search",
    criteria: tuple[str, ...] = ("SS01", "SS02"),
    ss01_text: str = "The grounds for the search were recorded",
    threshold_default: int = 3,
) -> str:
    body = "".join(CRITERIA[c] for c in criteria).replace(
        "The grounds for the search were recorded", ss01_text
    )
    return f"""# a comment that is not part of the content
ruleset: {rid}
version: {version}
format: 1
title: {title}
case_type: stop_search
settings:
  review_days:
    default: {threshold_default}
    description: days a supervisor has to review the record
criteria:{body}"""


def write(root: Path, name: str, content: str, priority: int = 4) -> Path:
    path = root / f"priority{priority}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture
def rulesets_dir(tmp_path: Path) -> Path:
    root = tmp_path / "rulesets"
    write(root, "stop-search.yaml", ruleset_yaml())
    write(root, "searches-b.yaml", ruleset_yaml(rid="searches-b", criteria=("SS03",)))
    return root


def publish(database: dbm.Database, root: Path, *, note: str = "", minutes: int = 0, author: str = "qa.lead"):
    return reg.publish(
        database, root, FIELDS, author=author, note=note, now=T0 + dt.timedelta(minutes=minutes)
    )


def sql(database: dbm.Database, *statements: str) -> None:
    with database.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def kinds(report: reg.VerifyReport) -> set[K]:
    return {d.kind for d in report.discrepancies}


def chain_discrepancies(database: dbm.Database, root: Path) -> list[reg.Discrepancy]:
    """What verify finds in the stored chain itself, leaving the working tree aside."""
    return [d for d in reg.verify(database, root).discrepancies if d.kind not in reg.WORKING_TREE_KINDS]


def publisher_folders(tmp_path: Path, prefix: str, *files: tuple[str, str]) -> list[Path]:
    """One rulesets folder per publisher, each holding one (file name, YAML) ruleset."""
    roots = [tmp_path / f"{prefix}-{i}" / "rulesets" for i in range(len(files))]
    for root, (name, content) in zip(roots, files, strict=True):
        write(root, name, content)
    return roots


# --------------------------------------------------------------------------- publish


def test_publish_snapshots_every_ruleset_into_a_hash_chain(
    database: dbm.Database, rulesets_dir: Path
) -> None:
    result = publish(database, rulesets_dir, note="first publication")
    assert [(e.seq, e.ruleset_id, e.version) for e in result.published] == [
        (1, "searches-b", "1.0.0"),
        (2, "stop-search", "1.0.0"),
    ]
    first, second = result.published
    assert first.prev_hash == reg.GENESIS_HASH and second.prev_hash == first.entry_hash
    assert result.to_table_rows()[1] == (
        "stop-search",
        "1.0.0",
        "published",
        second.sha256[:12],
        "rulesets/priority4/stop-search.yaml",
    )
    shown = reg.show(database, "stop-search")
    assert shown.source_text == (rulesets_dir / "priority4" / "stop-search.yaml").read_text()
    assert (shown.author, shown.note, shown.published_at) == ("qa.lead", "first publication", T0)
    assert shown.entry_hash == second.entry_hash
    report = reg.verify(database, rulesets_dir)
    assert report.ok, report.to_table_rows()
    assert report.summary == "checked 2 registry entries and 2 ruleset files: no discrepancies"
    assert report.head_hash == second.entry_hash


def test_republishing_unchanged_content_is_a_no_op(database: dbm.Database, rulesets_dir: Path) -> None:
    publish(database, rulesets_dir)
    # comments, blank lines and key order are not content
    path = rulesets_dir / "priority4" / "stop-search.yaml"
    path.write_text("# reworded comment\n\n" + path.read_text().replace("format: 1\n", "") + "format: 1\n")
    again = publish(database, rulesets_dir, minutes=5)
    assert not again.changed
    assert [e.ruleset_id for e in again.unchanged] == ["searches-b", "stop-search"]
    assert {row[2] for row in again.to_table_rows()} == {"unchanged"}
    assert len(reg.history(database, "stop-search").entries) == 1


def test_a_raised_version_is_published_and_history_keeps_order(
    database: dbm.Database, rulesets_dir: Path
) -> None:
    publish(database, rulesets_dir, note="first")
    write(rulesets_dir, "stop-search.yaml", ruleset_yaml("1.1.0", ss01_text="Grounds recorded"))
    result = publish(database, rulesets_dir, note="SS01 wording", minutes=60, author="insp.jones")
    assert [(e.ruleset_id, e.version, e.seq) for e in result.published] == [("stop-search", "1.1.0", 3)]
    listing = reg.history(database, "stop-search")
    assert [row[:5] for row in listing.to_table_rows()] == [
        ("2", "1.0.0", "2026-11-16 09:00:00Z", "qa.lead", "first"),
        ("3", "1.1.0", "2026-11-16 10:00:00Z", "insp.jones", "SS01 wording"),
    ]
    current = {row[0]: row[1] for row in reg.list_current(database).to_table_rows()}
    assert current == {"searches-b": "1.0.0", "stop-search": "1.1.0"}
    assert reg.show(database, "stop-search", "1.0.0").version == "1.0.0"
    in_force = {
        e.ruleset_id: e.version for e in reg.published_rulesets(database, as_of=T0 + dt.timedelta(minutes=59))
    }
    assert in_force == {"searches-b": "1.0.0", "stop-search": "1.0.0"}
    assert reg.published_rulesets(database, as_of=T0 - dt.timedelta(seconds=1)) == []


def test_changed_content_under_the_same_version_is_refused_and_nothing_is_published(
    database: dbm.Database, rulesets_dir: Path
) -> None:
    publish(database, rulesets_dir)
    write(rulesets_dir, "stop-search.yaml", ruleset_yaml(ss01_text="Grounds recorded"))
    # a valid, properly versioned change in the same publish must not go in on its own
    write(rulesets_dir, "searches-b.yaml", ruleset_yaml("2.0.0", rid="searches-b", criteria=("SS01",)))
    with pytest.raises(RulesetError) as info:
        publish(database, rulesets_dir, minutes=1)
    assert str(info.value).splitlines()[1] == (
        "rulesets/priority4/stop-search.yaml: content changed but version 1.0.0 is not higher than the "
        "published 1.0.0; raise the version"
    )
    assert "nothing was published" in str(info.value)
    assert [e.version for e in reg.history(database, "searches-b").entries] == ["1.0.0"]


def test_a_version_downgrade_is_refused(database: dbm.Database, rulesets_dir: Path) -> None:
    write(rulesets_dir, "stop-search.yaml", ruleset_yaml("1.2.0"))
    publish(database, rulesets_dir)
    write(rulesets_dir, "stop-search.yaml", ruleset_yaml("1.1.9", ss01_text="Grounds recorded"))
    with pytest.raises(RulesetError, match=r"version 1\.1\.9 is lower than the published 1\.2\.0") as info:
        publish(database, rulesets_dir, minutes=1)
    assert "rulesets/priority4/stop-search.yaml" in str(info.value)
    # semantic, not textual, order: 1.10.0 is above 1.9.0
    write(rulesets_dir, "stop-search.yaml", ruleset_yaml("1.10.0", ss01_text="Grounds recorded"))
    assert [e.version for e in publish(database, rulesets_dir, minutes=2).published] == ["1.10.0"]


def test_a_duplicate_criterion_id_publishes_nothing(database: dbm.Database, rulesets_dir: Path) -> None:
    write(rulesets_dir, "stop-search.yaml", ruleset_yaml(criteria=("SS01", "SS02", "SS01")))
    with pytest.raises(RulesetError, match="criterion id 'SS01' is used twice"):
        publish(database, rulesets_dir)
    assert reg.list_current(database).entries == ()


def test_publish_needs_an_author(database: dbm.Database, rulesets_dir: Path) -> None:
    with pytest.raises(UsageError, match="needs an author"):
        publish(database, rulesets_dir, author="  ")


# --------------------------------------------------------------------------- reading


def test_diff_lists_criteria_added_removed_and_changed_field_by_field(
    database: dbm.Database, rulesets_dir: Path
) -> None:
    publish(database, rulesets_dir)
    v2 = ruleset_yaml(
        "1.1.0", title="Stop and search legitimacy", criteria=("SS01", "SS03"), ss01_text="Grounds recorded"
    ).replace("minimum: 0.9", "minimum: 0.95\n    weight: 2", 1)
    write(rulesets_dir, "stop-search.yaml", v2.replace("default: 3", "default: 5"))
    publish(database, rulesets_dir, minutes=1)
    result = reg.diff(database, "stop-search", "1.0.0", "1.1.0")
    assert (result.added, result.removed, result.changed) == (("SS03",), ("SS02",), ("SS01",))
    assert result.to_table_rows() == [
        ("changed", "ruleset", "title", "Stop and search", "Stop and search legitimacy"),
        ("changed", "criterion SS01", "text", "The grounds for the search were recorded", "Grounds recorded"),
        ("changed", "criterion SS01", "weight", "(not set)", "2"),
        ("changed", "criterion SS01", "minimum", "0.9", "0.95"),
        ("added", "criterion SS03", "", "", "Body-worn video was activated"),
        ("removed", "criterion SS02", "", "The object of the search was recorded", ""),
        ("changed", "setting review_days", "default", "3", "5"),
    ]
    data = result.to_json()
    assert data["from"]["version"] == "1.0.0" and data["to"]["version"] == "1.1.0"
    assert data["criteria"]["added"][0]["pass"] == "bwv_activated == 'yes'"
    assert data["criteria"]["changed"] == [
        {
            "id": "SS01",
            "fields": [
                {
                    "field": "text",
                    "from": "The grounds for the search were recorded",
                    "to": "Grounds recorded",
                },
                {"field": "weight", "from": None, "to": 2},
                {"field": "minimum", "from": 0.9, "to": 0.95},
            ],
        }
    ]
    assert data["settings"]["changed"] == [
        {"id": "review_days", "fields": [{"field": "default", "from": 3, "to": 5}]}
    ]
    assert reg.diff(database, "stop-search", "1.1.0", "1.1.0").empty


def test_unknown_ids_and_versions_say_what_exists(database: dbm.Database, rulesets_dir: Path) -> None:
    publish(database, rulesets_dir)
    with pytest.raises(UsageError, match="no published ruleset 'stop-serch'") as info:
        reg.history(database, "stop-serch")
    assert "searches-b, stop-search" in str(info.value)
    with pytest.raises(UsageError, match="has no published version 9.0.0") as info:
        reg.diff(database, "stop-search", "1.0.0", "9.0.0")
    assert "Published versions: 1.0.0" in str(info.value)


# --------------------------------------------------------------------------- verify

TAMPERS = [
    pytest.param(
        ["UPDATE ruleset_versions SET content = REPLACE(content, '0.9', '0.5') WHERE seq = 2"],
        {K.TAMPERED_CONTENT},
        id="content-edited",
    ),
    pytest.param(
        ["UPDATE ruleset_versions SET source_text = REPLACE(source_text, '0.9', '0.5') WHERE seq = 2"],
        {K.TAMPERED_CONTENT},
        id="source-text-edited",
    ),
    pytest.param(
        ["UPDATE ruleset_versions SET note = 'approved by the chief' WHERE seq = 2"],
        {K.TAMPERED_ENTRY},
        id="note-edited",
    ),
    pytest.param(
        [f"UPDATE ruleset_versions SET entry_hash = '{'a' * 64}' WHERE seq = 2"],
        # and the head recorded when seq 2 was published is gone
        {K.TAMPERED_ENTRY, K.BROKEN_CHAIN, K.MISSING_ENTRY},
        id="entry-hash-edited",
    ),
    pytest.param(
        ["UPDATE ruleset_versions SET version = '1.0.1' WHERE seq = 3"],
        {K.TAMPERED_ENTRY},
        id="version-column-edited",
    ),
    pytest.param(
        ["DELETE FROM ruleset_versions WHERE seq = 2"], {K.MISSING_ENTRY, K.BROKEN_CHAIN}, id="middle-deleted"
    ),
    pytest.param(
        [
            "UPDATE ruleset_versions SET seq = -1 WHERE seq = 2",
            "UPDATE ruleset_versions SET seq = 2 WHERE seq = 3",
            "UPDATE ruleset_versions SET seq = 3 WHERE seq = -1",
        ],
        {K.TAMPERED_ENTRY, K.BROKEN_CHAIN},
        id="seq-swapped",
    ),
]


@pytest.mark.parametrize(("statements", "expected"), TAMPERS)
def test_verify_catches_registry_tampering(
    database: dbm.Database, rulesets_dir: Path, statements: list[str], expected: set[K]
) -> None:
    publish(database, rulesets_dir)
    write(rulesets_dir, "stop-search.yaml", ruleset_yaml("1.1.0", ss01_text="Grounds recorded"))
    publish(database, rulesets_dir, minutes=1)  # seq 3 = stop-search 1.1.0
    assert reg.verify(database, rulesets_dir).ok
    sql(database, *statements)
    report = reg.verify(database, rulesets_dir)
    assert not report.ok
    assert kinds(report) - {K.UNPUBLISHED_EDIT} == expected
    assert all(
        d.where.startswith(("seq ", "head "))
        for d in report.discrepancies
        if d.kind not in reg.WORKING_TREE_KINDS
    )


def test_verify_names_the_edited_entry(database: dbm.Database, rulesets_dir: Path) -> None:
    publish(database, rulesets_dir)
    sql(database, "UPDATE ruleset_versions SET content = REPLACE(content, '0.9', '0.5') WHERE seq = 2")
    (found,) = reg.verify(database, rulesets_dir).discrepancies
    assert str(found).startswith("seq 2 (stop-search 1.0.0): stored content no longer hashes to its sha256")


def test_a_rehashed_edit_still_breaks_the_link_to_the_next_entry(
    database: dbm.Database, rulesets_dir: Path
) -> None:
    """An attacker who edits a note and recomputes that entry's own hash is caught by the next link."""
    publish(database, rulesets_dir)
    write(rulesets_dir, "stop-search.yaml", ruleset_yaml("1.1.0", ss01_text="Grounds recorded"))
    publish(database, rulesets_dir, minutes=1)
    forged = dataclasses.replace(reg.show(database, "searches-b"), note="forged")
    sql(
        database,
        f"UPDATE ruleset_versions SET note = 'forged', entry_hash = '{reg.compute_entry_hash(forged)}' WHERE seq = 1",
    )
    report = reg.verify(database, rulesets_dir)
    assert [(d.kind, d.seq) for d in report.discrepancies] == [(K.BROKEN_CHAIN, 2)]


def test_verify_catches_a_deleted_last_version_that_official_scores_used(
    database: dbm.Database, rulesets_dir: Path
) -> None:
    publish(database, rulesets_dir)
    entry = reg.show(database, "stop-search")
    with database.session() as s:
        assessment = dbm.Assessment(
            assessment_id="A1",
            revision=1,
            is_current=True,
            case_type="stop_search",
            case_ref="SS-1",
            place="BLK",
            team="T",
            officer="O",
            reviewer="R",
            assessed_on=dt.date(2026, 11, 16),
            case_date=dt.date(2026, 11, 15),
            answers={},
            raw={},
            content_hash="x",
            source_file="f.csv",
            source_row=2,
            submitted_at=T0,
            row_hash="0" * 64,  # not linked: only the registry is verified here
        )
        s.add(assessment)
        s.flush()
        s.add(
            dbm.CaseScore(
                assessment_pk=assessment.pk,
                ruleset_id=entry.ruleset_id,
                ruleset_version=entry.version,
                ruleset_sha256=entry.sha256,
                outcomes={},
                traces={},
                score=1.0,
                critical_failures=[],
                draft=False,
                scored_at=T0,
            )
        )
    sql(database, f"DELETE FROM ruleset_versions WHERE seq = {entry.seq}")
    report = reg.verify(database, rulesets_dir)
    assert (K.MISSING_ENTRY, "stop-search 1.0.0") in {(d.kind, d.where) for d in report.discrepancies}


def test_deleting_the_newest_entries_is_tampering_even_before_any_run_used_them(
    database: dbm.Database, rulesets_dir: Path
) -> None:
    """Deleting the newest entries leaves a valid-looking chain; the head recorded when they were
    published shows it (it was a mere working-tree difference before issue 20)."""
    publish(database, rulesets_dir)
    write(rulesets_dir, "stop-search.yaml", ruleset_yaml("1.1.0", ss01_text="Grounds recorded"))
    publish(database, rulesets_dir, minutes=1)
    head = reg.registry_head(database)
    assert reg.verify(database, rulesets_dir).ok
    sql(database, "DELETE FROM ruleset_versions WHERE seq = 3")
    report = reg.verify(database, rulesets_dir)
    assert report.tampered
    ((kind, where, message),) = [
        (d.kind, d.where, d.message) for d in report.discrepancies if d.kind not in reg.WORKING_TREE_KINDS
    ]
    assert (kind, where) == (K.MISSING_ENTRY, f"head {head[:12]}")
    assert message.startswith("the registry head recorded when seq 3 was published (2026-11-16 09:01:00Z)")


def test_a_cut_off_tail_and_its_recorded_head_are_caught_by_a_head_kept_elsewhere(
    database: dbm.Database, rulesets_dir: Path
) -> None:
    """Deleting the newest entries and the heads recorded at their publication leaves a consistent
    database: a head kept outside it (a run's manifest, an anchor given to verify) shows it."""
    publish(database, rulesets_dir)
    write(rulesets_dir, "stop-search.yaml", ruleset_yaml("1.1.0", ss01_text="Grounds recorded"))
    publish(database, rulesets_dir, minutes=1)
    head = reg.registry_head(database)
    assert reg.verify(database, rulesets_dir, anchors=[head]).ok
    sql(
        database,
        "DELETE FROM ruleset_versions WHERE seq = 3",
        "DELETE FROM chain_heads WHERE chain = 'registry' AND position = 3",
    )
    assert chain_discrepancies(database, rulesets_dir) == []  # the database alone cannot tell
    report = reg.verify(database, rulesets_dir, anchors=[head])
    assert report.tampered
    assert [(d.kind, d.where) for d in report.discrepancies if d.kind not in reg.WORKING_TREE_KINDS] == [
        (K.MISSING_ENTRY, f"head {head[:12]}")
    ]


def test_verify_and_official_runs_catch_working_tree_changes(
    database: dbm.Database, rulesets_dir: Path
) -> None:
    publish(database, rulesets_dir)
    write(rulesets_dir, "stop-search.yaml", ruleset_yaml(ss01_text="Grounds recorded"))
    write(rulesets_dir, "new-rules.yaml", ruleset_yaml(rid="new-rules"), priority=4)
    (rulesets_dir / "priority4" / "searches-b.yaml").unlink()
    write(rulesets_dir, "broken.yaml", "ruleset: [unclosed", priority=4)
    report = reg.verify(database, rulesets_dir)
    assert not report.ok and not report.tampered
    assert sorted((d.kind.value, d.where) for d in report.discrepancies) == [
        ("invalid_file", "rulesets/priority4/broken.yaml:1"),
        ("missing_file", "rulesets/priority4/searches-b.yaml"),
        ("unpublished_edit", "rulesets/priority4/stop-search.yaml"),
        ("unpublished_file", "rulesets/priority4/new-rules.yaml"),
    ]
    assert len(reg.unpublished_changes(database, rulesets_dir)) == 4
    with pytest.raises(RulesetError) as info:
        reg.require_published(database, rulesets_dir)
    message = str(info.value)
    assert "rulesets/priority4/stop-search.yaml: has unpublished edits" in message
    assert message.endswith(reg.PUBLISH_HINT)


def test_moving_a_file_to_another_priority_is_an_unpublished_edit(
    database: dbm.Database, rulesets_dir: Path
) -> None:
    publish(database, rulesets_dir)
    moved = rulesets_dir / "priority4" / "searches-b.yaml"
    write(rulesets_dir, "searches-b.yaml", moved.read_text(), priority=3)
    moved.unlink()
    assert [d.kind for d in reg.unpublished_changes(database, rulesets_dir)] == [K.UNPUBLISHED_EDIT]


# --------------------------------------------------------------------------- official runs


def test_load_published_compiles_the_stored_versions(database: dbm.Database, rulesets_dir: Path) -> None:
    publish(database, rulesets_dir)
    write(rulesets_dir, "stop-search.yaml", ruleset_yaml("1.1.0", criteria=("SS01",)))
    publish(database, rulesets_dir, minutes=10)
    write(rulesets_dir, "stop-search.yaml", ruleset_yaml("1.2.0", criteria=("SS03",)))  # not published
    loaded = {
        r.id: r
        for r in reg.load_published(database, FIELDS, setting_overrides={"stop-search": {"review_days": 7}})
    }
    assert [c.id for c in loaded["stop-search"].criteria] == ["SS01"]
    assert loaded["stop-search"].sha256 == reg.show(database, "stop-search").sha256
    assert loaded["stop-search"].settings["review_days"] == 7
    earlier = reg.load_published(database, FIELDS, as_of=T0 + dt.timedelta(minutes=5))
    assert {r.id: [c.id for c in r.criteria] for r in earlier}["stop-search"] == ["SS01", "SS02"]


def test_load_published_refuses_a_tampered_version(database: dbm.Database, rulesets_dir: Path) -> None:
    publish(database, rulesets_dir)
    sql(database, "UPDATE ruleset_versions SET content = REPLACE(content, '0.9', '0.1') WHERE seq = 2")
    with pytest.raises(StorageError, match="fail their integrity checks") as info:
        reg.load_published(database, FIELDS)
    assert "seq 2 (stop-search 1.0.0)" in str(info.value)


def test_load_published_needs_a_publication(database: dbm.Database) -> None:
    with pytest.raises(RulesetError, match="no ruleset was published"):
        reg.load_published(database, FIELDS)


# --------------------------------------------------------------------------- two publishers at once


def _current_schema(database: dbm.Database) -> str:
    with database.engine.connect() as conn:
        return str(conn.execute(text("SELECT current_schema()")).scalar_one())


def _waiting_on_registry(database: dbm.Database, schema: str) -> int:
    query = text(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relname = 'ruleset_versions' AND n.nspname = :schema AND NOT l.granted"
    )
    with database.engine.connect() as conn:
        return int(conn.execute(query, {"schema": schema}).scalar_one())


def _run_publishers(
    database: dbm.Database, roots: list[Path], *, while_running: Callable[[], None] | None = None
) -> list[object]:
    """One publisher thread per folder, started together; each one's result or exception."""
    results: list[object] = [None] * len(roots)
    barrier = threading.Barrier(len(roots))

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = publish(database, roots[i], note=f"publisher {i}", minutes=i)
        except Exception as exc:  # collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(roots))]
    for t in threads:
        t.start()
    if while_running is not None:
        while_running()
    for t in threads:
        t.join(timeout=60)
    return results


def _race(database: dbm.Database, roots: list[Path]) -> list[object]:
    """Publishers queued on a held registry lock, released together once all are waiting."""
    schema = _current_schema(database)
    with database.engine.connect() as holder:
        lock = holder.begin()
        holder.execute(text("LOCK TABLE ruleset_versions IN EXCLUSIVE MODE"))

        def release_when_all_wait() -> None:
            deadline = time.monotonic() + 20
            while _waiting_on_registry(database, schema) < len(roots):
                assert time.monotonic() < deadline, "the publishers never queued on the registry lock"
                time.sleep(0.05)
            lock.commit()

        return _run_publishers(database, roots, while_running=release_when_all_wait)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_publishers_at_once_both_succeed_and_the_chain_stays_valid(
    database: dbm.Database, tmp_path: Path
) -> None:
    roots = publisher_folders(
        tmp_path, "p", ("first.yaml", ruleset_yaml(rid="first")), ("second.yaml", ruleset_yaml(rid="second"))
    )
    results = _race(database, roots)
    assert all(isinstance(r, reg.PublishResult) and len(r.published) == 1 for r in results), results
    seqs = sorted(e.seq for r in results if isinstance(r, reg.PublishResult) for e in r.published)
    assert seqs == [1, 2]
    assert chain_discrepancies(database, roots[0]) == []


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_publishers_of_the_same_version_one_wins_one_is_told_why(
    database: dbm.Database, tmp_path: Path
) -> None:
    roots = publisher_folders(
        tmp_path,
        "p",
        ("stop-search.yaml", ruleset_yaml(ss01_text="Wording A")),
        ("stop-search.yaml", ruleset_yaml(ss01_text="Wording B")),
    )
    results = _race(database, roots)
    winners = [r for r in results if isinstance(r, reg.PublishResult)]
    losers = [r for r in results if isinstance(r, RulesetError)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert "content changed but version 1.0.0 is not higher than the published 1.0.0" in str(losers[0])
    assert [e.seq for e in reg.history(database, "stop-search").entries] == [1]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_publisher_kept_waiting_gets_a_retry_message(
    database: dbm.Database, rulesets_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_registry, "LOCK_TIMEOUT_SECONDS", 1)
    with database.engine.connect() as holder:
        lock = holder.begin()
        holder.execute(text("LOCK TABLE ruleset_versions IN EXCLUSIVE MODE"))
        with pytest.raises(StorageError) as info:
            publish(database, rulesets_dir)
        lock.rollback()
    assert str(info.value) == reg.RETRY_MESSAGE
    assert publish(database, rulesets_dir).changed


def test_publishers_racing_on_sqlite_all_succeed(tmp_path: Path) -> None:
    """SQLite serialises writers only from a transaction's first write, so publish takes the write
    lock before reading the chain's tail; without that about half of these races collide."""
    database = dbm.open_database(f"sqlite:///{tmp_path / 'race.db'}", create=True)
    upgrade(database)
    try:
        for round_ in range(5):
            roots = publisher_folders(
                tmp_path,
                f"r{round_}",
                *((f"x{i}.yaml", ruleset_yaml(rid=f"rules-{round_}-{i}")) for i in range(2)),
            )
            results = _run_publishers(database, roots)
            assert all(isinstance(r, reg.PublishResult) for r in results), results
        assert chain_discrepancies(database, tmp_path / "r0-0" / "rulesets") == []
        assert len(reg.published_rulesets(database)) == 10
    finally:
        database.close()
