"""Storing the tidy figures extract, on SQLite and PostgreSQL: all or nothing; an identical reload is a
no-op; a figure stored with other values is refused unless --replace, which keeps the old rows for
audit; the analysis reads the current figures of a span of days. And `qam extracts load figures`."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from engine import api
from engine.cli import app
from engine.core.config import DEFAULT_EXTRACTS_DIR, Settings
from engine.core.errors import ExtractError
from engine.store.db import Database
from engine.store.figure_tables import Figure, FigureLoad
from engine.store.figures import FigureRecord, current_figures
from tests.inputs.figure_texts import GOOD, HEADER, write_file

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def _rows(database: Database) -> list[tuple[object, ...]]:
    """Every stored figure: (metric, place, team, period, numerator, value, count, current, load, superseded_by)."""
    with database.session() as session:
        q = select(
            Figure.metric, Figure.place, Figure.team, Figure.period, Figure.numerator, Figure.value,
            Figure.count, Figure.is_current, Figure.load_pk, Figure.superseded_by,
        ).order_by(Figure.pk)  # fmt: skip
        return [tuple(r) for r in session.execute(q)]


def _loads(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(FigureLoad)) or 0)


def test_load_reload_refuse_and_replace(figures_settings: Settings, tmp_path: Path) -> None:
    s = figures_settings
    good = write_file(tmp_path, "people-2026-10.csv", GOOD)
    first = api.load_figures_extract(s, good)
    assert first.summary().splitlines()[0] == (
        f"Loaded 11 figure rows from {good}: 11 stored, 0 replaced, 0 unchanged; load 1."
    )
    assert "  days_to_fill     2 stored, 0 replaced, 0 unchanged" in first.summary().splitlines()

    again = api.load_figures_extract(s, good)
    assert again.load is None and again.summary().startswith(
        f"Loaded 11 figure rows from {good}: 0 stored, 0 replaced, 11 unchanged."
    )
    with api.database_for(s) as database:
        assert _loads(database) == 1 and len(_rows(database)) == 11

    # a corrected file: one proportion and one bin of the time metric differ, and one figure is new
    corrected = GOOD.replace("1880,2000", "1885,2000").replace("55.5,3", "55.5,4")
    corrected += "M4,charge_rate,BLK,,2026-10,20,300,,,,,\n"
    changed = write_file(tmp_path, "people-2026-10-v2.csv", corrected)
    with pytest.raises(ExtractError) as caught:
        api.load_figures_extract(s, changed)
    assert [str(p) for p in caught.value.problems] == [
        f"{changed}:2:numerator: metric attendance_rate, place DLW, team Response A, period 2026-10 is "
        f"already stored with different figures (numerator 1880, denominator 2000; loaded "
        f"{api.now().date().isoformat()} from {good})",
        f"{changed}:7:value: metric days_to_fill, place DLW, period 2026-10 is already stored with "
        f"different figures (values x counts 41 x 2, 55.5 x 3; loaded {api.now().date().isoformat()} from {good})",
    ]
    assert "--replace" in str(caught.value)
    with api.database_for(s) as database:
        assert _loads(database) == 1 and len(_rows(database)) == 11  # not even the new BLK figure

    replaced = api.load_figures_extract(s, changed, replace=True)
    assert replaced.load == 2
    counts = {m: (c.stored, c.replaced, c.unchanged) for m, c in replaced.by_metric.items()}
    assert counts["attendance_rate"] == (0, 1, 2)
    assert counts["days_to_fill"] == (0, 2, 0)  # the whole pooled figure is replaced
    assert counts["charge_rate"] == (1, 0, 1)
    with api.database_for(s) as database:
        rows = _rows(database)
        old = [r for r in rows if not r[7]]
        assert sorted((r[0], r[4], r[5], r[6], r[8], r[9]) for r in old) == [
            ("attendance_rate", 1880, None, None, 1, 2),
            ("days_to_fill", None, 41, 2, 1, 2),
            ("days_to_fill", None, 55.5, 3, 1, 2),
        ]
        current = current_figures(database, start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31))
    dlw_a = [f for f in current if f.metric == "attendance_rate" and f.team == "Response A"]
    assert [(f.numerator, f.denominator) for f in dlw_a] == [(1885, 2000)]
    assert [(f.value, f.count) for f in current if f.metric == "days_to_fill"] == [(41, 2), (55.5, 4)]

    # --replace of the same file again changes nothing
    assert api.load_figures_extract(s, changed, replace=True).load is None


def test_current_figures_of_a_span(figures_settings: Settings, tmp_path: Path) -> None:
    api.load_figures_extract(figures_settings, write_file(tmp_path, "f.csv", GOOD))
    with api.database_for(figures_settings) as database:
        october = current_figures(database, start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31))
        with database.session() as session:
            only = current_figures(
                session, start=dt.date(2026, 7, 1), end=dt.date(2026, 9, 30), metrics=["grievances"]
            )
        none = current_figures(database, start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31), metrics=[])
    assert only == [
        FigureRecord(
            "M1",
            "grievances",
            "DLW",
            "",
            "2026-Q3",
            dt.date(2026, 7, 1),
            dt.date(2026, 9, 30),
            4.0,
            180.5,
            None,
            None,
            None,
            None,
            None,
        )  # fmt: skip
    ]
    assert none == []
    # a period meets the span when any of its days does: the quarters and the week 2026-W44 (to 1 November)
    assert sorted({(f.metric, f.period) for f in october}) == [
        ("attendance_rate", "2026-10"),
        ("attendance_rate", "2026-W44"),
        ("burglaries", "2026-10"),
        ("charge_rate", "2026-10"),
        ("days_to_fill", "2026-10"),
        ("misconduct_case", "2026-10-14"),
    ]
    event = next(f for f in october if f.metric == "misconduct_case")
    assert (event.event_ref, event.event_on, event.detail) == (
        "GM-0042",
        dt.date(2026, 10, 14),
        "Officer arrested for assault off duty",
    )
    assert [f.metric for f in october] == sorted(f.metric for f in october)


def test_another_event_in_the_same_period_is_added_not_a_conflict(
    figures_settings: Settings, tmp_path: Path
) -> None:
    one = HEADER + "M1,misconduct_case,DLW,,2026-10,,,,,GM-1,2026-10-03,First\n"
    two = HEADER + "M1,misconduct_case,DLW,,2026-10,,,,,GM-2,2026-10-20,Second\n"
    api.load_figures_extract(figures_settings, write_file(tmp_path, "a.csv", one))
    second = api.load_figures_extract(figures_settings, write_file(tmp_path, "b.csv", two))
    assert second.by_metric["misconduct_case"].stored == 1
    moved = write_file(tmp_path, "c.csv", one.replace("2026-10-03", "2026-10-04"))
    with pytest.raises(
        ExtractError, match=r"c.csv:2:event_on: metric misconduct_case, place DLW, period 2026-10, event GM-1"
    ):
        api.load_figures_extract(figures_settings, moved)


def test_a_figure_names_a_stored_load_and_a_named_load_stays(
    figures_settings: Settings, tmp_path: Path
) -> None:
    """The database refuses a figure of no load and a load deleted, renumbered or emptied while figures
    name it: SQLite by its foreign key, PostgreSQL by statement triggers (migration 0010) that check a
    load's copied rows once; both raise the foreign-key error."""
    first = api.load_figures_extract(figures_settings, write_file(tmp_path, "people.csv", GOOD))
    load = first.load
    assert load is not None
    with api.database_for(figures_settings) as database:
        stored = _stored(database)[0]
        row = {c.name: getattr(stored, c.name) for c in Figure.__table__.c if c.name != "pk"}
        attempts = [
            insert(Figure).values({**row, "load_pk": load + 1}),
            update(Figure).where(Figure.pk == stored.pk).values(load_pk=load + 1),
            delete(FigureLoad).where(FigureLoad.pk == load),
            update(FigureLoad).where(FigureLoad.pk == load).values(pk=load + 1),
        ]
        if database.engine.dialect.name == "postgresql":  # SQLite has no TRUNCATE
            attempts.append(text("TRUNCATE figure_loads"))
        for statement in attempts:
            with pytest.raises(DBAPIError, match=r"(?i)foreign key"), database.session() as session:
                session.execute(statement)
        assert len(_rows(database)) == 11 and _loads(database) == 1
        with database.session() as session:  # a figure of the stored load, and a load no figure names
            session.execute(insert(Figure).values(row))
            other = session.execute(insert(FigureLoad).values(
                source_file="x.csv", sha256="0" * 64, rows=0, replaced=False, loaded_at=api.now()
            ).returning(FigureLoad.pk)).scalar_one()  # fmt: skip
            session.execute(delete(FigureLoad).where(FigureLoad.pk == other))
        assert len(_rows(database)) == 12 and _loads(database) == 1


def _stored(database: Database) -> list[Figure]:
    with database.session() as session:
        return list(session.scalars(select(Figure).order_by(Figure.pk)))


def test_a_bad_file_stores_nothing_and_exits_3(figures_settings: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--database", figures_settings.database_url, "extracts", "load", "figures"]
    env = {"QAM_EXTRACTS": str(figures_settings.extracts_dir)}
    bad = write_file(tmp_path, "bad.csv", GOOD + "M1,attendance_rate,DLW,,2026-11,2001,2000,,,,,\n")
    result = runner.invoke(app, [*base, str(bad)], env=env)
    assert result.exit_code == 3
    assert result.stderr.startswith("Error: 1 problem in 1 file; nothing was loaded")
    assert f"{bad}:14:numerator: 2001 is more than the denominator 2000" in result.stderr
    with api.database_for(figures_settings) as database:
        assert _rows(database) == [] and _loads(database) == 0

    good = write_file(tmp_path, "good.csv", GOOD)
    ok = runner.invoke(app, [*base, str(good)], env=env)
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith(f"Loaded 11 figure rows from {good}: 11 stored")
    conflict = write_file(tmp_path, "conflict.csv", GOOD.replace("27,", "28,"))
    refused = runner.invoke(app, [*base, str(conflict)], env=env)
    assert refused.exit_code == 3 and f"{conflict}:13:numerator: metric burglaries" in refused.stderr
    assert "Give --replace" in refused.stderr
    kept = runner.invoke(app, [*base, "--replace", str(conflict)], env=env)
    assert kept.exit_code == 0 and "1 replaced" in kept.output


def test_replace_is_for_figures_only_and_the_help_lists_the_columns() -> None:
    runner = CliRunner()
    misuse = runner.invoke(app, ["extracts", "load", "incidents", "--replace", "x.csv"])
    assert misuse.exit_code == 2 and "--replace is for a figures extract only" in misuse.output
    shown = runner.invoke(app, ["extracts", "load", "--help"], terminal_width=100).output
    for column in (
        "item",
        "metric",
        "period",
        "numerator",
        "denominator",
        "value",
        "count",
        "event_ref",
        "event_on",
    ):
        assert f"\n    {column} " in shown, column


def test_the_documented_example_files_load_with_the_bundled_definitions(
    settings: Settings, tmp_path: Path
) -> None:
    api.init_database(settings)
    bundled = replace(settings, extracts_dir=DEFAULT_EXTRACTS_DIR)
    example = tmp_path / "figures-example.csv"
    shutil.copyfile(EXAMPLES / "figures-example.csv", example)
    loaded = api.load_figures_extract(bundled, example)
    assert {m: c.stored for m, c in loaded.by_metric.items()} == {
        "attendance_rate": 3,
        "positive_outcome_rate": 1,
        "feeling_safe": 1,
        "public_confidence": 1,
        "days_to_outcome": 3,
        "complaints_recorded": 1,
        "homicide": 1,
    }
    # the definitions example of docs/extracts.md is a valid definition
    from engine.runs.figures_load import extract_definitions

    folder = tmp_path / "extracts"
    folder.mkdir()
    shutil.copyfile(EXAMPLES / "extracts-hr-example.yaml", folder / "hr.yaml")
    assert "attendance_rate" in extract_definitions(folder).metrics


def test_a_period_overlapping_stored_figures_of_another_grain_is_refused_unless_replaced(
    figures_settings: Settings, tmp_path: Path
) -> None:
    month = write_file(tmp_path, "month.csv", HEADER + "M1,attendance_rate,DLW,,2026-10,1880,2000,,,,,\n")
    weeks = write_file(
        tmp_path,
        "weeks.csv",
        HEADER
        + "M1,attendance_rate,DLW,,2026-W42,470,500,,,,,\nM1,attendance_rate,BLK,,2026-W42,400,500,,,,,\n",
    )
    api.load_figures_extract(figures_settings, month)
    with pytest.raises(ExtractError) as caught:
        api.load_figures_extract(figures_settings, weeks)
    (problem,) = caught.value.problems
    assert str(problem) == (
        f"{weeks}:2:period: metric attendance_rate, place DLW, period 2026-W42 overlaps the stored figures "
        f"for 2026-10 (loaded {api.now().date().isoformat()} from {month}): a metric's figures for one "
        "place and team are for periods that do not overlap"
    )
    replaced = api.load_figures_extract(figures_settings, weeks, replace=True)
    by = replaced.by_metric["attendance_rate"]
    assert (by.stored, by.replaced, by.unchanged) == (1, 1, 0)
    with api.database_for(figures_settings) as database:
        current = current_figures(database, start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31))
        assert sorted((f.place, f.period) for f in current) == [("BLK", "2026-W42"), ("DLW", "2026-W42")]
        assert [(r[3], r[7], r[9]) for r in _rows(database) if r[3] == "2026-10"] == [("2026-10", False, 2)]
