"""Scoring (engine/runs/scoring.py): score_pending scores what has no score under the run's versions,
once, and hands back what it stored; `qam score` records a run only when it scored anything."""

from __future__ import annotations

import datetime as dt

from engine import api
from tests.runs.world import World, sqlite_only

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)


@sqlite_only
def test_score_pending_hands_back_its_rows_only_when_asked_and_scores_once(world: World) -> None:
    from engine.runs.scoring import score_pending

    context = api._context(world.database, world.settings, draft=False)
    stored = score_pending(world.database, context, until=dt.date.max, scored_at=NOW)
    assert stored.summary.total == 27 and stored.rows == []
    assert stored.summary.scored["stop-search-legitimacy"] == 27 and len(stored.summary.keys) == 27

    again = score_pending(world.database, context, until=dt.date.max, scored_at=NOW, with_rows=True)
    assert again.summary.total == 0 and again.rows == []


@sqlite_only
def test_a_scoring_run_is_recorded_only_when_it_scored_anything(world: World) -> None:
    first = api.score(world.settings)
    assert first.total == 27 and first.run_id
    again = api.score(world.settings)
    assert again.total == 0 and again.run_id == ""
    assert [r.run_id for r in api.list_runs(world.settings)] == [first.run_id]


def test_each_stored_score_is_its_own_assessments(world: World) -> None:
    # cases share their outcomes, traces and critical failures in memory, written once each: every
    # stored row must still hold exactly its own assessment's score (SQLite's inserts, PostgreSQL's COPY)
    from sqlalchemy import select

    from engine.rules.scoring import score_cases_python
    from engine.runs.scoring import score_pending
    from engine.store.db import Assessment, CaseScore

    context = api._context(world.database, world.settings, draft=False)
    (ruleset,) = [r for r in context.assessment_rulesets if r.case_type == "stop_search"]
    stored = score_pending(world.database, context, until=dt.date.max, scored_at=NOW, with_rows=True)
    with world.database.session() as session:
        answers = {pk: a for pk, a in session.execute(select(Assessment.pk, Assessment.answers))}
        rows = session.execute(
            select(CaseScore.assessment_pk, CaseScore.outcomes, CaseScore.traces, CaseScore.score,
                   CaseScore.critical_failures, CaseScore.scored_at)
        ).all()  # fmt: skip
    expected = {
        s.key: s
        for s in score_cases_python(ruleset, [{**a, "pk": pk} for pk, a in answers.items()], key="pk")
    }
    assert len(rows) == len(expected) == 27
    assert {pk for pk, *_ in rows} == set(expected)
    assert len({str(outcomes) for _, outcomes, *_ in rows}) > 1 and any(traces for _, _, traces, *_ in rows)
    for pk, outcomes, traces, score, critical, scored_at in rows:
        s = expected[pk]
        assert outcomes == s.outcomes.texts()
        assert traces == {c: list(t) for c, t in s.traces.items()}
        assert score == s.score and critical == list(s.critical_failures)
        assert scored_at.replace(tzinfo=dt.UTC) == NOW
    fresh = {row[0]: row for row in stored.rows}
    assert all(fresh[pk][-3:] == (outcomes, traces, score) for pk, outcomes, traces, score, *_ in rows)
