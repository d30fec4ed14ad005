"""The database schema (SQLAlchemy 2 typed ORM) and connections; Alembic migrations live beside it.

SQLite by default (a file, zero set-up); PostgreSQL through ``QAM_DATABASE_URL``. Only the query
modules beside it (assessments, case_scores, incidents, integrity, runs, registry, sampling,
summaries) issue queries against these tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import orjson
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from engine.core.errors import StorageError

SUPPORTED_SCHEMES = ("sqlite", "postgresql")
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Stable constraint names, so migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _utc_datetime() -> DateTime:
    return DateTime(timezone=True)


class Assessment(Base):
    """One revision of one QA reviewer's assessment of one sampled case. Never deleted."""

    __tablename__ = "assessments"
    __table_args__ = (
        UniqueConstraint("assessment_id", "revision"),
        Index("ix_assessments_current", "is_current", "assessed_on"),
        # finding a case type's unscored assessments without reading every current one
        Index("ix_assessments_case_type_current", "case_type", "is_current", "assessed_on"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assessment_id: Mapped[str] = mapped_column(String(120), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    is_current: Mapped[bool] = mapped_column(Boolean)
    case_type: Mapped[str] = mapped_column(String(40))
    case_ref: Mapped[str] = mapped_column(String(120), index=True)
    place: Mapped[str] = mapped_column(String(16))
    team: Mapped[str] = mapped_column(String(200))
    officer: Mapped[str] = mapped_column(String(200))
    reviewer: Mapped[str] = mapped_column(String(200))
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    case_date: Mapped[dt.date] = mapped_column(Date)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_file: Mapped[str] = mapped_column(String(500))
    source_row: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[dt.datetime] = mapped_column(_utc_datetime())
    #: set for calibration-set submissions, which never count toward performance figures
    calibration_set: Mapped[str | None] = mapped_column(String(120), nullable=True)
    #: sha256 over the row before's row_hash (pk order) and every field above but pk and is_current:
    #: the revisions form a hash chain (engine.store.integrity)
    row_hash: Mapped[str] = mapped_column(String(64))


class CaseScore(Base):
    """The outcome of every criterion of one ruleset version for one assessment revision."""

    __tablename__ = "case_scores"
    __table_args__ = (UniqueConstraint("assessment_pk", "ruleset_sha256", "draft"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assessment_pk: Mapped[int] = mapped_column(ForeignKey("assessments.pk"), index=True)
    ruleset_id: Mapped[str] = mapped_column(String(120))
    ruleset_version: Mapped[str] = mapped_column(String(40))
    ruleset_sha256: Mapped[str] = mapped_column(String(64))
    #: criterion id -> "pass" | "fail" | "na"
    outcomes: Mapped[dict[str, str]] = mapped_column(JSON)
    #: criterion id -> why-trace lines, failures only
    traces: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    critical_failures: Mapped[list[str]] = mapped_column(JSON)
    draft: Mapped[bool] = mapped_column(Boolean, default=False)
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    scored_at: Mapped[dt.datetime] = mapped_column(_utc_datetime())


class Incident(Base):
    """One row of the incidents extract (docs/extracts.md)."""

    __tablename__ = "incidents"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_ref: Mapped[str] = mapped_column(String(120), unique=True)
    place: Mapped[str] = mapped_column(String(16))
    grade: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(10))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(), index=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(), nullable=True)
    arrived_at: Mapped[dt.datetime | None] = mapped_column(DateTime(), nullable=True)
    #: the team that attended or handled it; None when the extract has no team column
    team: Mapped[str | None] = mapped_column(String(200), nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_file: Mapped[str] = mapped_column(String(500))
    source_row: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[dt.datetime] = mapped_column(_utc_datetime())


class RulesetVersion(Base):
    """A published, immutable ruleset version; entries form a hash chain in ``seq`` order."""

    __tablename__ = "ruleset_versions"
    __table_args__ = (UniqueConstraint("ruleset_id", "version"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ruleset_id: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[str] = mapped_column(String(40))
    priority: Mapped[int] = mapped_column(Integer)
    case_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    extract: Mapped[str | None] = mapped_column(String(40), nullable=True)
    sha256: Mapped[str] = mapped_column(String(64))
    #: canonical content (sorted-key JSON of the parsed YAML) and the file as published
    content: Mapped[str] = mapped_column(Text)
    source_text: Mapped[str] = mapped_column(Text)
    source_path: Mapped[str] = mapped_column(String(500))
    author: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)
    published_at: Mapped[dt.datetime] = mapped_column(_utc_datetime())
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class ChainHead(Base):
    """A hash chain's head as it stood after a write (each submission that stored rows, each
    publication), kept apart from the chain: deleting the newest rows must also delete these."""

    __tablename__ = "chain_heads"
    __table_args__ = (UniqueConstraint("chain", "position"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(20))  # assessments | registry
    #: the last row's key: an assessment's pk, a registry entry's seq
    position: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(_utc_datetime())


class Run(Base):
    """A run manifest: what a scoring, weekly or PEEL run read, how, and what it wrote."""

    __tablename__ = "runs"

    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    command: Mapped[str] = mapped_column(Text)
    arguments: Mapped[dict[str, Any]] = mapped_column(JSON)
    engine_version: Mapped[str] = mapped_column(String(40))
    draft: Mapped[bool] = mapped_column(Boolean, default=False)
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    first_run_at: Mapped[dt.datetime] = mapped_column(_utc_datetime())
    last_run_at: Mapped[dt.datetime] = mapped_column(_utc_datetime())


class RunExecution(Base):
    """Each time a run was executed (an identical rerun has the same run id)."""

    __tablename__ = "run_executions"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id"), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(_utc_datetime())
    finished_at: Mapped[dt.datetime] = mapped_column(_utc_datetime())
    outputs_matched: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class DayEpoch(Base):
    """How many times the stored rows of one day changed (assessments submitted, amended or scored;
    incidents loaded or reloaded): a day summary counts only while its epoch is the day's current one."""

    __tablename__ = "day_epochs"
    __table_args__ = (UniqueConstraint("source", "day"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(20))  # assessments | incidents
    day: Mapped[dt.date] = mapped_column(Date)
    epoch: Mapped[int] = mapped_column(Integer)


class DaySummary(Base):
    """What a batch run needs of one day's rows for its weekly series and incident metrics, kept so a
    run does not re-read its whole history: counts by place, the number of rows and the hash of
    their content hashes. ``scope``: the ruleset version (and draft flag) the scores are under, or
    "incidents"; ``basis``: a hash of the settings the counts depend on."""

    __tablename__ = "day_summaries"
    __table_args__ = (UniqueConstraint("source", "scope", "basis", "day"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str] = mapped_column(String(80))
    basis: Mapped[str] = mapped_column(String(64))
    day: Mapped[dt.date] = mapped_column(Date)
    epoch: Mapped[int] = mapped_column(Integer)
    rows: Mapped[int] = mapped_column(Integer)
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)


def normalise_url(url: str) -> str:
    """Check the scheme and pick the installed driver: ``postgresql://`` means psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(
            f"invalid database URL '{url}'",
            hint="Use sqlite:///path/to/qam.db or postgresql://user@host:5432/dbname",
        ) from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_SCHEMES:
        raise StorageError(
            f"unsupported database URL scheme '{parsed.drivername}' in {parsed.render_as_string(hide_password=True)}",
            hint="Supported: sqlite:///FILE and postgresql://USER@HOST:PORT/DB (set QAM_DATABASE_URL)",
        )
    if backend == "postgresql" and parsed.drivername in ("postgresql", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


#: an open transaction as :meth:`Database.session` yields it; other layers only hand it on to the
#: store's query functions (they never import SQLAlchemy themselves)
Transaction: TypeAlias = Session


@dataclass
class Database:
    """An open database: an Engine and a session factory."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error. A database
        whose disk is full, or whose server went away, is a StorageError naming it (exit 4), with
        nothing of the transaction kept."""
        try:
            with self.sessions() as session, session.begin():
                yield session
        except OperationalError as exc:
            raise self._storage_error(exc) from None

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A plain connection (for the schema's migrations), its failures worded as session()'s."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except OperationalError as exc:
            raise self._storage_error(exc) from None

    def _storage_error(self, exc: OperationalError) -> Exception:
        """The StorageError to raise for ``exc``, or ``exc`` itself (e.g. a lock timeout, which its
        caller words)."""
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if _connection_lost(exc):
            return StorageError(
                f"lost the connection to the database {self.display_url}: {reason}; what was being "
                "written was not stored: check that the database server is running and run the "
                "command again"
            )
        if not _out_of_space(exc):
            return exc
        return StorageError(
            f"cannot write to the database {self.display_url}: {reason}; what was being written was "
            "not stored: free space where the database is kept and run the command again"
        )

    def close(self) -> None:
        self.engine.dispose()

    @property
    def display_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)


#: SQLite's result code for "database or disk is full" (SQLITE_FULL)
_SQLITE_FULL = 13


def _out_of_space(exc: OperationalError) -> bool:
    """SQLite's SQLITE_FULL, or a PostgreSQL error of SQLSTATE class 53 (insufficient resources:
    disk full, out of memory, too many connections)."""
    orig = exc.orig
    if getattr(orig, "sqlite_errorcode", None) == _SQLITE_FULL:
        return True
    return str(getattr(orig, "sqlstate", "") or "").startswith("53")


def _connection_lost(exc: OperationalError) -> bool:
    """The server went away under the command: a connection SQLAlchemy found broken (the server
    restarted, or ended the session), a PostgreSQL error of SQLSTATE class 08 (connection exception)
    or 57P01-57P03 (the server shutting down or starting up), or a new connection refused."""
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    if getattr(orig, "sqlite_errorcode", None) is not None:
        return False
    state = str(getattr(orig, "sqlstate", "") or "")
    return state.startswith("08") or state in ("57P01", "57P02", "57P03") or (orig is not None and not state)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def json_text(value: Any) -> str:
    """JSON text for a JSON column, written by orjson (3-5x quicker than the json module); int keys
    become strings, as json.dumps makes them."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")


#: what a command says when it finds no database prepared by `qam init`
NOT_INITIALISED_HINT = (
    "Run `qam init` to create it there, or point QAM_DATABASE_URL (or --database) at the database you meant."
)


def open_database(url: str, *, schema: str | None = None, create: bool = False) -> Database:
    """Connect (and check the connection); ``schema`` sets the PostgreSQL search_path (tests). A
    missing SQLite file is refused unless ``create`` (`qam init`, the demo): connecting would leave
    an empty file behind."""
    url = normalise_url(url)
    parsed = make_url(url)
    # orjson parses and writes the stored outcomes and traces 3-4x faster than the json module (a
    # year's PEEL rerun reads 300,000 of them); the values are the same dicts, lists, strings, numbers
    kwargs: dict[str, Any] = {
        "future": True,
        "json_deserializer": orjson.loads,
        "json_serializer": json_text,
    }
    if parsed.get_backend_name() == "postgresql":
        connect_args: dict[str, Any] = {"connect_timeout": 5}
        # a pooled connection the server dropped while it was idle (a restart between two steps of
        # a run) is replaced before use, instead of failing the step that picks it up
        kwargs["pool_pre_ping"] = True
        if schema:
            connect_args["options"] = f"-csearch_path={schema}"
        kwargs["connect_args"] = connect_args
    else:
        # a batch run's worker processes write day summaries while it stores scores: wait for the
        # other writer (SQLite has one at a time) rather than fail after the default 5 s
        kwargs["connect_args"] = {"timeout": 120}
    if parsed.get_backend_name() == "sqlite" and (not parsed.database or parsed.database == ":memory:"):
        # each connection to one would be a database of its own, and runs use several at once (a
        # thread storing scores, worker processes summarising incidents)
        raise StorageError(
            "an in-memory SQLite database cannot hold QAM's data: give a file, e.g. sqlite:///qam.db"
        )
    if parsed.get_backend_name() == "sqlite" and parsed.database:  # never empty here: refused above
        if not create and not Path(parsed.database).exists():
            raise StorageError(
                f"the database {parsed.render_as_string(hide_password=True)} is not initialised: "
                f"{parsed.database} does not exist",
                hint=NOT_INITIALISED_HINT,
            )
        parent = Path(parsed.database).expanduser().resolve().parent
        if not parent.is_dir():
            raise StorageError(
                f"cannot create the SQLite database {parsed.database}: folder {parent} does not exist"
            )
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:  # OperationalError, or DatabaseError: "file is not a database"
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        not_sqlite = parsed.get_backend_name() == "sqlite" and not isinstance(exc, OperationalError)
        raise StorageError(
            f"cannot connect to the database {parsed.render_as_string(hide_password=True)}: {reason}",
            hint=(
                f"{parsed.database} is not a SQLite database: check the path, or restore the file from a backup."
                if not_sqlite
                else "Check QAM_DATABASE_URL and that the server is running."
            ),
        ) from None
    return Database(url=url, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))


class CaseRecord(Base):
    """One case eligible for QA review (the `cases` extract): the sampling frame."""

    __tablename__ = "case_population"
    __table_args__ = (
        UniqueConstraint("case_type", "case_ref"),
        Index("ix_case_population_frame", "case_type", "place"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_ref: Mapped[str] = mapped_column(String(120))
    case_type: Mapped[str] = mapped_column(String(40))
    place: Mapped[str] = mapped_column(String(16))
    team: Mapped[str] = mapped_column(String(200))
    officer: Mapped[str] = mapped_column(String(200))
    case_date: Mapped[dt.date] = mapped_column(Date)
    #: optional strata columns, e.g. {"crime_type": "burglary"}
    strata: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_file: Mapped[str] = mapped_column(String(500))
    source_row: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[dt.datetime] = mapped_column(_utc_datetime())


class Sample(Base):
    """A drawn sample for one ISO week: how it was drawn, so it can be re-drawn and defended."""

    __tablename__ = "samples"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    week: Mapped[str] = mapped_column(String(8), index=True)
    case_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    seed: Mapped[int] = mapped_column(Integer)
    margin: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    #: per (place, case type): frame size, drawn, formula inputs
    design: Mapped[dict[str, Any]] = mapped_column(JSON)
    drawn_at: Mapped[dt.datetime] = mapped_column(_utc_datetime())


class SampleItem(Base):
    """One case drawn into a sample, assigned to a reviewer."""

    __tablename__ = "sample_items"
    __table_args__ = (
        UniqueConstraint("sample_pk", "case_type", "case_ref"),
        # which frame an assessed case came from (frame sizes for a period's briefings)
        Index("ix_sample_items_case", "case_type", "case_ref"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sample_pk: Mapped[int] = mapped_column(ForeignKey("samples.pk"), index=True)
    case_type: Mapped[str] = mapped_column(String(40))
    case_ref: Mapped[str] = mapped_column(String(120))
    place: Mapped[str] = mapped_column(String(16))
    stratum: Mapped[str] = mapped_column(String(200))
    reviewer: Mapped[str] = mapped_column(String(200))
    frame_size: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[dt.date] = mapped_column(Date)


class CalibrationSet(Base):
    """A set of cases every listed reviewer assesses independently, to measure agreement."""

    __tablename__ = "calibration_sets"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    case_type: Mapped[str] = mapped_column(String(40))
    case_refs: Mapped[list[str]] = mapped_column(JSON)
    reviewers: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(_utc_datetime())
