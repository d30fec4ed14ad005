"""The assessments' hash chain (issue 20, engine.store.integrity), on SQLite and PostgreSQL: stored
revisions verify, and every tamper we can simulate with SQL is reported naming the revision: a
current flag turned off or on, an edited field, a deleted revision; migration 0006 links a database
that already holds assessments."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import delete, select, text, update

from engine import api
from engine.core.config import Settings
from engine.core.models import COMMON_COLUMNS
from engine.demo.factories import build_row
from engine.inputs.submission_files import write_submission_csv
from engine.inputs.submissions import canonical_content, content_hash
from engine.store import db as dbm
from engine.store import integrity
from engine.store.integrity import ProblemKind as K
from engine.store.schema import alembic_config, upgrade


def ss(i: int, **overrides: Any) -> dict[str, str]:
    values = {
        "assessment_id": f"QA-{i:03d}",
        "case_ref": f"SS-{i:03d}",
        "place": "BLK",
        "assessed_on": "2026-11-17",
        "case_date": "2026-11-02",
    }
    return build_row("stop_search", **values | overrides)


def submit(
    settings: Settings, folder: Path, name: str, rows: list[dict[str, str]], amend: bool = False
) -> None:
    api.submit(settings, [write_submission_csv(folder / f"{name}.csv", rows)], amend=amend)


@pytest.fixture
def stored(settings: Settings, tmp_path: Path) -> Settings:
    """Five assessments submitted, then QA-002 amended (its revision 2 is the newest row)."""
    api.init_database(settings)
    submit(settings, tmp_path, "first", [ss(i) for i in range(1, 6)])
    submit(settings, tmp_path, "amended", [ss(2, bwv_activated="no")], amend=True)
    return settings


def tamper(settings: Settings, *statements: Any) -> None:
    """Run SQL statements (text or SQLAlchemy) as someone with database access would."""
    database = dbm.open_database(settings.database_url)
    try:
        with database.engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement) if isinstance(statement, str) else statement)
    finally:
        database.close()


def pk_of(settings: Settings, assessment_id: str, revision: int = 1) -> int:
    database = dbm.open_database(settings.database_url)
    try:
        with database.session() as s:
            a = dbm.Assessment
            return int(
                s.scalar(select(a.pk).where(a.assessment_id == assessment_id, a.revision == revision)) or 0
            )
    finally:
        database.close()


def found(report: integrity.ChainReport) -> list[tuple[K, str | None, int | None]]:
    return [(p.kind, p.assessment_id, p.revision) for p in report.problems]


def test_submissions_and_a_genuine_amendment_verify(stored: Settings) -> None:
    report = api.verify_assessments(stored)
    assert report.ok, [str(p) for p in report.problems]
    assert (report.rows_checked, report.assessments, report.heads_checked) == (6, 5, 2)
    assert report.head is not None and report.head.position == pk_of(stored, "QA-002", 2)
    assert report.summary.startswith("OK: checked 6 revisions of 5 assessments and 2 recorded heads")


@pytest.mark.parametrize(
    ("statement", "expected", "says"),
    [
        pytest.param(
            "UPDATE assessments SET is_current = false WHERE assessment_id = 'QA-003'",
            [(K.WRONG_CURRENT, "QA-003", 1)],
            "not marked current, but it is the newest revision: runs would leave the assessment out",
            id="current-turned-off",
        ),
        pytest.param(
            "UPDATE assessments SET is_current = true WHERE assessment_id = 'QA-002' AND revision = 1",
            [(K.WRONG_CURRENT, "QA-002", 1)],
            "marked current, but revision 2 is the newest",
            id="superseded-turned-on",
        ),
    ],
)
def test_a_current_flag_that_disagrees_with_the_revisions_is_reported(
    stored: Settings, statement: str, expected: list[Any], says: str
) -> None:
    tamper(stored, statement)
    report = api.verify_assessments(stored)
    assert not report.ok and found(report) == expected
    assert says in report.problems[0].message
    assert report.summary.startswith("TAMPERED: checked 6 revisions")


EDITS = [
    pytest.param("answers", {"bwv_activated": "no"}, {K.BROKEN_LINK, K.CONTENT_HASH}, id="answers"),
    pytest.param("raw", {"bwv_activated": "no"}, {K.BROKEN_LINK}, id="raw"),
    pytest.param("team", "Tampered team", {K.BROKEN_LINK, K.CONTENT_HASH}, id="team"),
    pytest.param("officer", "PC Tampered", {K.BROKEN_LINK, K.CONTENT_HASH}, id="officer"),
    pytest.param("assessed_on", dt.date(2026, 11, 10), {K.BROKEN_LINK, K.CONTENT_HASH}, id="assessed_on"),
    pytest.param("case_date", dt.date(2026, 11, 1), {K.BROKEN_LINK, K.CONTENT_HASH}, id="case_date"),
    pytest.param("content_hash", "f" * 64, {K.BROKEN_LINK, K.CONTENT_HASH}, id="content_hash"),
    pytest.param("submitted_at", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), {K.BROKEN_LINK}, id="submitted_at"),
    pytest.param("source_row", 99, {K.BROKEN_LINK}, id="source_row"),
]


@pytest.mark.parametrize(("field", "value", "expected"), EDITS)
def test_an_edited_field_is_reported_naming_the_revision(
    stored: Settings, field: str, value: Any, expected: set[K]
) -> None:
    a = dbm.Assessment
    if field in ("answers", "raw"):
        database = dbm.open_database(stored.database_url)
        with database.session() as s:
            value = s.scalar(select(getattr(a, field)).where(a.assessment_id == "QA-004")) | value
        database.close()
    tamper(stored, update(a).where(a.assessment_id == "QA-004").values({field: value}))
    report = api.verify_assessments(stored)
    assert {kind for kind, *_ in found(report)} == expected
    assert {(aid, revision) for _, aid, revision in found(report)} == {("QA-004", 1)}
    assert all(
        str(p).startswith(f"QA-004 revision 1 (pk {pk_of(stored, 'QA-004')}): ") for p in report.problems
    )


def test_a_deleted_newest_revision_is_reported(stored: Settings) -> None:
    newest = pk_of(stored, "QA-002", 2)
    tamper(stored, delete(dbm.Assessment).where(dbm.Assessment.pk == newest))
    report = api.verify_assessments(stored)
    # revision 1 is the newest left but not current; the head recorded by the amending submission is gone
    assert found(report) == [(K.WRONG_CURRENT, "QA-002", 1), (K.MISSING_HEAD, None, None)]
    assert str(report.problems[1]).startswith(f"pk {newest}: the chain head ")
    assert "recorded when a submission stored rows" in str(report.problems[1])


def test_a_deleted_revision_in_the_middle_breaks_the_next_link(stored: Settings) -> None:
    gone = pk_of(stored, "QA-003")
    tamper(stored, delete(dbm.Assessment).where(dbm.Assessment.pk == gone))
    report = api.verify_assessments(stored)
    assert found(report) == [(K.BROKEN_LINK, "QA-004", 1)]
    assert f"(rows pk {gone} to {gone} before it are gone)" in report.problems[0].message


def test_rows_written_by_hand_after_the_last_recorded_head_are_reported(stored: Settings) -> None:
    """A row added with SQL, even one that links correctly, was not stored by qam submit."""
    database = dbm.open_database(stored.database_url)
    with database.session() as s:
        last = s.scalars(select(dbm.Assessment).order_by(dbm.Assessment.pk.desc()).limit(1)).one()
        values = {c: getattr(last, c) for c in integrity.CHAINED_FIELDS} | {"assessment_id": "QA-FORGED"}
        common = {c: values[c] for c in COMMON_COLUMNS}
        values["content_hash"] = content_hash(canonical_content(common, values["answers"]))
        forged = dbm.Assessment(**values, is_current=True, row_hash="")
        integrity.link_rows(last.row_hash, [forged])
        s.add(forged)
    database.close()
    report = api.verify_assessments(stored)
    assert [p.kind for p in report.problems] == [K.UNRECORDED_ROWS]
    assert "written to the database by hand, not by qam submit" in report.problems[0].message


# --------------------------------------------------------------------------- migration 0006

_OLD_ASSESSMENTS = sa.table(
    "assessments",
    *(
        sa.column(name)
        for name in ("assessment_id", "revision", "is_current", "case_type", "case_ref", "place")
    ),
    *(
        sa.column(name)
        for name in ("team", "officer", "reviewer", "content_hash", "source_file", "source_row")
    ),
    sa.column("assessed_on", sa.Date()),
    sa.column("case_date", sa.Date()),
    sa.column("answers", sa.JSON()),
    sa.column("raw", sa.JSON()),
    sa.column("submitted_at", sa.DateTime(timezone=True)),
    sa.column("calibration_set"),
)


def test_migration_0006_links_the_assessments_a_database_already_holds(
    settings: Settings, tmp_path: Path
) -> None:
    database = dbm.open_database(settings.database_url, create=True)
    command.upgrade(alembic_config(database), "0005")
    moment = dt.datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=dt.UTC)
    row = {
        "case_type": "stop_search",
        "case_ref": "SS-1",
        "place": "BLK",
        "team": "Response A",
        "officer": "PC 1",
        "reviewer": "Ann",
        "content_hash": "c" * 64,
        "source_file": "old.csv",
        "source_row": 2,
        "assessed_on": dt.date(2026, 11, 17),
        "case_date": dt.date(2026, 11, 2),
        "answers": {"grounds_recorded": "yes", "count": 3},
        "raw": {"grounds_recorded": "Yes", "note": "café"},
        "submitted_at": moment,
        "calibration_set": None,
    }
    with database.engine.begin() as conn:
        conn.execute(
            _OLD_ASSESSMENTS.insert(),
            [
                row | {"assessment_id": "OLD-1", "revision": 1, "is_current": False},
                row | {"assessment_id": "OLD-2", "revision": 1, "is_current": True, "calibration_set": "cal"},
                row
                | {
                    "assessment_id": "OLD-1",
                    "revision": 2,
                    "is_current": True,
                    "submitted_at": moment.replace(day=24),
                },
            ],
        )
    upgrade(database)
    database.close()

    report = api.verify_assessments(settings)
    # content hashes made up above do not recompute; the chain, flags and recorded head do
    assert {p.kind for p in report.problems} == {K.CONTENT_HASH}
    assert (report.rows_checked, report.assessments, report.heads_checked) == (3, 2, 1)
    submit(settings, tmp_path, "new", [ss(1)])
    after = api.verify_assessments(settings)
    assert {p.kind for p in after.problems} == {K.CONTENT_HASH} and after.rows_checked == 4
    assert after.heads_checked == 2
