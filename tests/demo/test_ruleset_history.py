"""The demo's ruleset history (engine/demo/ruleset_history.py): the bundled rulesets published at
the start of the demo's weeks, and a stricter stop-search 1.1.0 part-way through, from the demo's
own rulesets folder, which official runs then find published."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from engine import registry
from engine.core.config import DEFAULT_FORMS_DIR, DEFAULT_RULESETS_DIR
from engine.demo.data import demo_plan
from engine.demo.ruleset_history import (
    REVISED_FILE,
    REVISED_RULESET,
    publication_times,
    publish_history,
    revised_text,
)
from engine.inputs.forms import load_forms
from engine.store import db as dbm

PLAN = demo_plan(dt.date(2026, 11, 16))  # the demo's 26 weeks, 2026-05-25 to 2026-W47


def test_the_revision_makes_ss02_stricter_and_nothing_else() -> None:
    bundled = yaml.safe_load((DEFAULT_RULESETS_DIR / REVISED_FILE).read_text(encoding="utf-8"))
    revised = yaml.safe_load(revised_text((DEFAULT_RULESETS_DIR / REVISED_FILE).read_text(encoding="utf-8")))
    assert bundled["ruleset"] == revised["ruleset"] == REVISED_RULESET
    assert revised["version"] == "1.1.0"
    before = {c["id"]: c for c in bundled["criteria"]}
    after = {c["id"]: c for c in revised["criteria"]}
    assert {i for i in before if before[i] != after[i]} == {"SS02"}
    assert after["SS02"]["pass"] == "grounds_reasonable == 'yes' and object_recorded == 'yes'"
    assert after["SS02"]["text"] != before["SS02"]["text"]


def test_the_versions_are_published_at_the_start_and_the_middle_of_the_demos_weeks() -> None:
    first, revised = publication_times(PLAN)
    assert first == dt.datetime(2026, 5, 25, 8, 0, tzinfo=dt.UTC)  # the first week's Monday
    assert revised == dt.datetime(2026, 8, 24, 8, 0, tzinfo=dt.UTC)  # week 14 of 26
    assert PLAN.weeks[0] < revised.date() <= PLAN.weeks[-1]


def test_publish_history_leaves_the_revision_in_force_from_its_day(
    database: dbm.Database, tmp_path: Path
) -> None:
    fields = {case_type: f.field_specs() for case_type, f in load_forms(DEFAULT_FORMS_DIR).items()}
    folder = tmp_path / "demo-data" / "rulesets"
    history = publish_history(database, DEFAULT_RULESETS_DIR, folder, fields, PLAN)
    assert history.revised == "stop-search-legitimacy 1.1.0"

    def stop_search_in_force(day: dt.date) -> str:
        moment = dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)
        return next(
            e.version
            for e in registry.published_rulesets(database, as_of=moment)
            if e.ruleset_id == REVISED_RULESET
        )

    assert (
        registry.published_rulesets(database, as_of=history.first_published - dt.timedelta(seconds=1)) == []
    )
    assert stop_search_in_force(dt.date(2026, 8, 23)) == "1.0.3"
    assert stop_search_in_force(dt.date(2026, 8, 24)) == "1.1.0"
    # the demo's folder is what is published last, so `qam weekly` (which refuses unpublished
    # edits) runs with QAM_RULESETS pointing at it; the bundled folder itself is left as it was
    assert registry.unpublished_changes(database, folder) == []
    assert "version: 1.1.0" not in (DEFAULT_RULESETS_DIR / REVISED_FILE).read_text(encoding="utf-8")
