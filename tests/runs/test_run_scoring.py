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
