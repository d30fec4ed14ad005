"""What a run reads (engine/runs/gather.py): day summaries give the figures worked out from the rows,
a weekly run that reads its history from stored summaries writes exactly what a run reading every row
writes, also after late submissions, amendments, new scores and reloaded incidents, and the scores a
run stored are read as they are stored."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import delete, func, select

from engine import api
from engine.analysis import daily
from engine.analysis.incidents import incidents_frame
from engine.analysis.outcomes import outcomes_frame
from engine.core.config import Settings
from engine.core.hashing import hash_inputs
from engine.core.metrics import PROPORTION_METRICS
from engine.core.periods import week_label, week_range
from engine.demo.factories import build_row
from engine.demo.incidents import generate_incidents, incidents_csv
from engine.inputs.extracts import CALL101_SECONDS
from engine.inputs.submission_files import write_submission_csv
from engine.store import db as dbm
from engine.store import summaries
from engine.store.summaries import INCIDENTS, StoredDay

SETTINGS = {"BLK": "urban", "RVS": "rural", "ASH": "urban"}


def _incidents(n: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    start = dt.datetime(2026, 11, 2)
    for i in range(n):
        received = start + dt.timedelta(seconds=rng.randint(0, 86400 * 20))
        answered = None if rng.random() < 0.1 else received + dt.timedelta(seconds=rng.randint(1, 400))
        arrived = None if rng.random() < 0.2 else received + dt.timedelta(minutes=rng.random() * 90)
        rows.append(
            {
                "incident_ref": f"I{i}",
                "place": rng.choice(sorted(SETTINGS)),
                "grade": rng.randint(1, 3),
                "channel": rng.choice(["999", "101", "online"]),
                "received_at": received,
                "answered_at": answered,
                "arrived_at": arrived,
            }
        )
    return incidents_frame(rows, SETTINGS)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incident_metrics_from_day_summaries_equal_those_from_the_rows(seed: int) -> None:
    frame = _incidents(3000, seed)
    days = daily.incident_days(frame)
    got = daily.incident_metrics(days).set_index(["place", "period", "metric"])
    for (place, week), rows in frame.groupby(["place", "week"], observed=True):
        for metric in PROPORTION_METRICS:
            applies = rows[metric + "__applicable"]
            if applies.any():
                row = got.loc[(place, week, metric)]
                assert (row["n"], row["passes"]) == (applies.sum(), rows[metric + "__passed"].sum())
        seconds = rows[CALL101_SECONDS].dropna()
        row = got.loc[(place, week, CALL101_SECONDS)]
        assert row["n"] == len(seconds)
        assert row["median"] == pytest.approx(seconds.quantile(0.5), rel=1e-12)
        assert row["p90"] == pytest.approx(seconds.quantile(0.9), rel=1e-12)
    # summaries of chunks of the rows, added together, are the summaries of all of them
    chunks = [daily.incident_days(frame.iloc[i : i + 700]) for i in range(0, len(frame), 700)]
    assert daily.merge(chunks) == days


def test_pooled_incident_metrics_are_those_of_every_place_together() -> None:
    frame = _incidents(3000, 4)
    got = daily.incident_metrics(daily.incident_days(frame), "all", pool="FORCE")
    assert set(got["place"]) == {"FORCE"} and set(got["period"]) == {"all"}
    by_metric = got.set_index("metric")
    for metric in PROPORTION_METRICS:
        expected = (frame[metric + "__applicable"].sum(), frame[metric + "__passed"].sum())
        assert (by_metric.loc[metric, "n"], by_metric.loc[metric, "passes"]) == expected
    seconds = frame[CALL101_SECONDS].dropna()
    assert by_metric.loc[CALL101_SECONDS, "n"] == len(seconds)
    assert by_metric.loc[CALL101_SECONDS, "median"] == pytest.approx(seconds.quantile(0.5), rel=1e-12)
    assert by_metric.loc[CALL101_SECONDS, "p90"] == pytest.approx(seconds.quantile(0.9), rel=1e-12)


def test_outcome_day_summaries_give_the_weekly_series() -> None:
    """A measure's weekly figure recomputed from the raw rows: the cases with any applicable
    criterion of the measure, and those of them that failed none."""
    rows: list[dict[str, Any]] = []
    rng = random.Random(7)
    for i in range(400):
        case = {
            "case_ref": f"C{i}", "case_type": "stop_search", "place": rng.choice(["BLK", "RVS"]),
            "division": "N", "team": "T", "officer": "O", "ruleset": "r",
            "assessed_on": dt.date(2026, 11, 2) + dt.timedelta(days=rng.randint(0, 20)),
        }  # fmt: skip
        for criterion in "ABC":
            rows.append(
                {**case, "criterion": criterion, "outcome": rng.choice(["pass", "pass", "fail", "na"])}
            )
    criteria = [{"ruleset": "r", "criterion": c, "text": c, "measure": "D11"} for c in "ABC"]
    measures = [
        {"id": "D11", "name": "S", "priority": 4, "peel": "legitimacy", "iserve": [], "direction": "higher"}
    ]
    outcomes = outcomes_frame(rows, criteria, measures)
    weeks = week_range("2026-W45", "2026-W47")
    days = daily.outcome_days(outcomes)
    series = daily.measure_weekly_series(days, weeks)
    f = pd.DataFrame(rows)
    f["week"] = [week_label(d) for d in f["assessed_on"]]
    applied = f[f["outcome"] != "na"]
    met = applied.groupby(["place", "week", "case_ref"])["outcome"].agg(lambda o: bool((o == "pass").all()))
    assert sorted(series) == [("BLK", "D11"), ("RVS", "D11")]
    for (place, _measure), values in series.items():
        for week, (n, passes) in zip(weeks, values, strict=True):
            mine = met[(place, week)] if (place, week) in met.index.droplevel(2) else met.iloc[:0]
            assert (n, passes) == (len(mine), int(mine.sum()))
    by_criterion = daily.criterion_weekly_series(days, weeks)
    for (place, _ruleset, criterion), values in by_criterion.items():
        for week, (n, passes) in zip(weeks, values, strict=True):
            mine = applied[
                (applied["place"] == place) & (applied["week"] == week) & (applied["criterion"] == criterion)
            ]
            assert (n, passes) == (len(mine), int((mine["outcome"] == "pass").sum()))


def test_a_summary_of_rows_that_changed_while_it_was_made_is_not_used(database: dbm.Database) -> None:
    day = dt.date(2026, 11, 16)
    with database.session() as session:
        read_at = summaries.epochs(session, INCIDENTS, day, day)  # before the rows are read
    with database.session() as session:
        summaries.bump_epochs(session, INCIDENTS, [day])  # meanwhile, an extract is loaded
    with database.session() as session:
        summaries.store_summaries(session, INCIDENTS, "incidents", "b", {day: StoredDay(1, "h", {})}, read_at)
    with database.session() as session:
        assert summaries.current_summaries(session, INCIDENTS, "incidents", "b", day, day) == {}
        summaries.store_summaries(
            session, INCIDENTS, "incidents", "b", {day: StoredDay(2, "h2", {})}, {day: 1}
        )
    with database.session() as session:
        assert summaries.current_summaries(session, INCIDENTS, "incidents", "b", day, day) == {
            day: StoredDay(2, "h2", {})
        }


# --------------------------------------------------------------------------- weekly runs

WEEK = "2026-W47"
MONDAYS = [dt.date(2026, 11, 16) - dt.timedelta(weeks=w) for w in range(8, -1, -1)]


def _searches(monday: dt.date, week: int, *, grounds_missing: int = 2) -> list[dict[str, str]]:
    return [
        build_row(
            "stop_search",
            assessment_id=f"QA-BLK-{week:02d}-{i:02d}",
            case_ref=f"SS-BLK-{week:02d}-{i:02d}",
            place="BLK",
            assessed_on=(monday + dt.timedelta(days=i % 5)).isoformat(),
            case_date=(monday - dt.timedelta(days=7)).isoformat(),
            grounds_missing=i < grounds_missing,
        )
        for i in range(12)
    ]


@pytest.fixture
def weeks_db(published: Settings, tmp_path: Path) -> Settings:
    """Nine weeks of stop searches at Blackwater and of incidents everywhere, published rulesets."""
    settings = published
    rows = [row for w, monday in enumerate(MONDAYS) for row in _searches(monday, w)]
    api.submit(settings, [write_submission_csv(tmp_path / "qa.csv", rows)])
    incidents = tmp_path / "incidents.csv"
    incidents.write_text(
        incidents_csv(list(generate_incidents(api.force(settings).places, MONDAYS, per_week=60, seed=3)))
    )
    api.load_incidents_extract(settings, incidents)
    return settings


def _run(settings: Settings, out: Path) -> tuple[str, dict[str, bytes]]:
    result = api.weekly(settings, WEEK, out=out)
    return result.run_id, {p.name: p.read_bytes() for p in sorted(result.folder.iterdir())}


def _summaries(settings: Settings) -> int:
    with api.database_for(settings) as database, database.session() as session:
        return session.scalar(select(func.count()).select_from(dbm.DaySummary)) or 0


def _as_from_every_row(settings: Settings, out: Path) -> tuple[str, dict[str, bytes]]:
    """The run with no stored summary: every row of the history read and summarised again."""
    with api.database_for(settings) as database, database.session() as session:
        session.execute(delete(dbm.DaySummary))
    return _run(settings, out)


def test_weekly_runs_from_stored_summaries_write_what_runs_from_every_row_write(
    weeks_db: Settings, tmp_path: Path
) -> None:
    first = _run(weeks_db, tmp_path / "a")
    assert _summaries(weeks_db) > 0
    assert _run(weeks_db, tmp_path / "b") == first  # from the stored summaries

    def check(step: str) -> None:
        cached = _run(weeks_db, tmp_path / f"{step}-cached")
        assert cached[0] != first[0], f"{step}: the run did not see the change"
        assert cached == _as_from_every_row(weeks_db, tmp_path / f"{step}-rows"), step

    # a late submission for a past week, scored by the next run
    late = _searches(MONDAYS[3], 50, grounds_missing=12)
    api.submit(weeks_db, [write_submission_csv(tmp_path / "late.csv", late)])
    check("late")
    first = _run(weeks_db, tmp_path / "base2")
    # an amendment of a past week's assessment
    amended = _searches(MONDAYS[2], 2, grounds_missing=12)[:3]
    api.submit(weeks_db, [write_submission_csv(tmp_path / "amend.csv", amended)], amend=True)
    check("amended")
    first = _run(weeks_db, tmp_path / "base3")
    # a reloaded extract changing a past week's incidents
    places = api.force(weeks_db).places
    rows = list(generate_incidents(places, MONDAYS[:2], per_week=60, seed=3))
    for row in rows[:20]:
        row["arrived_at"] = ""
    reload = tmp_path / "reload.csv"
    reload.write_text(incidents_csv(rows))
    assert api.load_incidents_extract(weeks_db, reload).updated > 0
    check("reloaded")


def test_outcome_summaries_an_older_engine_kept_are_made_again_not_used(
    weeks_db: Settings, tmp_path: Path
) -> None:
    """Summaries kept under an earlier SUMMARY_FORMAT (format 1 pooled a measure's findings) count
    something else: a run must not mix them in."""
    from engine.runs import gather

    first = _run(weeks_db, tmp_path / "a")
    with api.database_for(weeks_db) as database:
        context = api._context(database, weeks_db, draft=False)
        on = gather.outcome_basis(context)
        older = gather._sha(
            {"format": 1, "criteria": sorted((str(c["ruleset"]), str(c["criterion"]), str(c["measure"]))
                                              for c in on.criteria), "measures": [m.id for m in on.measures]}
        )  # fmt: skip
        assert older != on.basis
        with database.session() as session:
            kept = session.scalars(
                select(dbm.DaySummary).where(dbm.DaySummary.source == summaries.ASSESSMENTS)
            )
            for summary in kept:  # as a format-1 engine kept them: another basis, other counts
                summary.basis = older
                summary.counts = {
                    p: {m: [10 * n, k] for m, (n, k) in c.items()} for p, c in summary.counts.items()
                }
        start, end = MONDAYS[0], MONDAYS[-1] - dt.timedelta(days=1)
        with database.session() as session:
            rows = gather.read_outcomes(session, on.versions, draft=False, division={}, first=start, last=end)
        assert gather.outcome_summaries(database, on, start, end).days == gather.outcome_days_of(rows, on)
    assert _run(weeks_db, tmp_path / "b") == first


def test_a_run_goes_on_from_the_scores_it_stored_only_when_they_are_all_the_rows(weeks_db: Settings) -> None:
    """score_pending hands its stored scores to gather as rows; they must be exactly what reading
    them back gives, and a partial hand-over must not hide the stored rows it lacks."""
    from engine.runs import gather, scoring

    first, last = MONDAYS[0], MONDAYS[-1] + dt.timedelta(days=6)
    with api.database_for(weeks_db) as database:
        context = api._context(database, weeks_db, draft=False)
        stored = scoring.score_pending(
            database, context, until=last, scored_at=dt.datetime.now(dt.UTC), with_rows=True
        )
        fresh = stored.rows
        assert stored.summary.total == len(fresh) == 9 * 12
        on = gather.outcome_basis(context)

        def read(rows: list[tuple[Any, ...]]) -> Any:
            with database.session() as session:
                got = gather.read_outcomes(session, on.versions, draft=False, division={}, first=first,
                                            last=last, reviewed_from=first, fresh=rows)  # fmt: skip
            return {name: list(values) for name, values in got.columns.items()}, got.hashes, got.reviewed

        from_table = read([])
        assert read(fresh) == from_table
        assert read(fresh[:50]) == from_table  # 50 of 108: the table is read
        assert from_table[0]["case_ref"][0] == "SS-BLK-00-00"


def test_scored_rows_read_a_few_at_a_time_give_the_same_columns_with_each_outcome_kept_once(
    weeks_db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scored rows carry their outcomes and traces as JSON text: SQLite's are fetched a few at a time
    (rows.TEXT_ROWS; 50,000 rows of text at once held 50 MB more of a year's read), and each outcome
    word is kept once, not once per outcome (a year has 1.3 million): the columns are the same."""
    from engine.runs import gather
    from engine.store import rows

    api.score(weeks_db)
    first, last = MONDAYS[0], MONDAYS[-1] + dt.timedelta(days=6)
    with api.database_for(weeks_db) as database:
        on = gather.outcome_basis(api._context(database, weeks_db, draft=False))

        def read() -> Any:
            with database.session() as session:
                return gather.read_outcomes(session, on.versions, draft=False, division={}, first=first,
                                            last=last, reviewed_from=first)  # fmt: skip

        whole = read()
        monkeypatch.setattr(rows, "TEXT_ROWS", 7)  # 108 cases: 16 fetches
        assert {n: list(v) for n, v in read().columns.items()} == {
            n: list(v) for n, v in whole.columns.items()
        }
    outcomes = whole.columns["outcome"]
    assert len(outcomes) > 100 * len(set(outcomes))
    assert len({id(o) for o in outcomes}) == len(set(outcomes))


def test_incident_hashes_are_kept_as_bytes_and_each_day_hashed_as_its_text(weeks_db: Settings) -> None:
    """Until summarised, a year's million incidents' content hashes as str objects held 120 MB: they
    are kept as arrays of ASCII bytes, and each day's input hash is still hash_inputs of its text."""
    from engine.runs import gather

    first, last = MONDAYS[0] - dt.timedelta(days=7), MONDAYS[-1] + dt.timedelta(days=14)
    with api.database_for(weeks_db) as database, database.session() as session:
        on = gather.incident_basis(api._context(database, weeks_db, draft=False))
        assert on is not None
        counts, hashes = gather.incident_rows(session, on, first, last)
        by_day: dict[dt.date, list[str]] = {}
        for received, digest in session.execute(select(dbm.Incident.received_at, dbm.Incident.content_hash)):
            day = (received.astimezone(dt.UTC) if received.tzinfo else received).date()
            by_day.setdefault(day, []).append(digest)
    assert all(isinstance(h, np.ndarray) and h.dtype.kind == "S" for h in hashes.values())
    assert sum(len(h) for h in hashes.values()) == 9 * 60
    days = {d: gather._stored(h, counts[d]).inputs_sha256 for d, h in hashes.items()}
    assert days == {d: hash_inputs(h) for d, h in by_day.items()}
