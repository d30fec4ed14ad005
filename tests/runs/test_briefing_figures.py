"""Every figure a place briefing prints for reviewed cases is recomputed here from the stored rows
(current assessment revisions and their scores, read with plain SQL), independently of the analysis
code: each criterion's "k of n", each whole measure's (cases that met every applicable criterion of
it), the cases listed, and the cases CSV."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import text

from engine import api
from engine.core.config import Settings
from engine.store.db import open_database
from tests.runs.test_weekly import WEEK, week_db  # noqa: F401 (the fixture)


def _stored_outcomes(settings: Settings) -> dict[tuple[str, str], dict[str, dict[str, str]]]:
    """{(place, ruleset): {case_ref: {criterion: outcome}}} of the week's current, official scores."""
    db = open_database(settings.database_url)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT a.place, s.ruleset_id, a.case_ref, s.outcomes FROM assessments a "
                    "JOIN case_scores s ON s.assessment_pk = a.pk "
                    "WHERE a.is_current AND NOT s.draft AND a.assessed_on BETWEEN :a AND :b"
                ),
                {"a": "2026-11-16", "b": "2026-11-22"},
            ).all()
    finally:
        db.close()
    out: dict[tuple[str, str], dict[str, dict[str, str]]] = defaultdict(dict)
    for place, ruleset, case_ref, outcomes in rows:
        out[(place, ruleset)][case_ref] = outcomes if isinstance(outcomes, dict) else json.loads(outcomes)
    return out


def test_every_reviewed_figure_in_the_briefings_is_recomputed_from_the_stored_rows(
    week_db: Settings,  # noqa: F811
    tmp_path: Path,
) -> None:
    api.weekly(week_db, WEEK, out=tmp_path / "out")
    folder = tmp_path / "out" / WEEK
    stored = _stored_outcomes(week_db)
    data = json.loads((folder / "exceptions.json").read_text(encoding="utf-8"))
    checked = 0
    for e in data["exceptions"]:
        cases = stored[(e["place"], e["ruleset"])]
        applied = {ref: o[e["criterion"]] for ref, o in cases.items() if o.get(e["criterion"], "na") != "na"}
        n, passed = len(applied), sum(v == "pass" for v in applied.values())
        failing = sorted(ref for ref, v in applied.items() if v == "fail")
        assert (e["n"], e["passed"], e["cases"]) == (n, passed, failing), e["criterion"]
        pdf = "".join(p.extract_text() for p in PdfReader(folder / f"{e['place']}.pdf").pages)
        assert f"{passed} of {n}" in " ".join(pdf.split()), (e["place"], e["criterion"])
        listed = {
            r["case_ref"]
            for r in csv.DictReader(
                (folder / f"{e['place']}-cases.csv").read_text(encoding="utf-8").splitlines()
            )
        }
        assert set(failing) <= listed
        checked += 1
    assert checked == 3

    # a whole measure's figure at a place: each case once, met when it failed none of the measure's
    # applicable criteria (D11 at Harbourside: 24 searches failing SS01 and SS02 are 24 failing cases)
    aggregates = {
        (r["level"], r["key"], r["dimension"], r["dimension_key"]): r
        for r in csv.DictReader((folder / "aggregates.csv").read_text(encoding="utf-8").splitlines())
    }
    hrb = stored[("HRB", "stop-search-legitimacy")]
    applicable = [o for o in hrb.values() if any(v != "na" for v in o.values())]
    met_all = sum(all(v != "fail" for v in o.values()) for o in applicable)
    row = aggregates[("place", "HRB", "measure", "D11")]
    assert (int(row["n"]), int(row["passes"])) == (len(applicable), met_all) == (30, 6)
