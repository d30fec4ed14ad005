"""A force folder adds a catalogue item and a metric with no code change (issue 17): its own
catalogue.yaml names M3 and adds D13, an extract definition in its extracts/ declares a metric
feeding D13, and the weekly run measures D13 from the loaded figures by the force's name, shows M3
by its new name, and records the force's catalogue version."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

from engine import api
from engine.core.config import DEFAULT_CATALOGUE_FILE, DEFAULT_EXTRACTS_DIR, DEFAULT_FORCE_FILE, load_settings
from engine.demo.factories import build_row
from engine.inputs.submission_files import RawRow
from engine.inputs.submissions import validate_rows
from engine.store import assessments, runs
from tests.runs.world import WEEK, sqlite_only

D13 = """  D13:
    name: Body-worn video use
    priority: 4
    peel: legitimacy
    iserve: [engagement]
    direction: higher
    evidence: [X]
    description: Encounters filmed on body-worn video, from the camera system.
"""
M3 = """  M3:
    name: Contact handling
    priority: 1
    peel: efficiency
    iserve: [response, engagement]
    direction: higher
    evidence: [X]
    description: How the force handles contact from the public.
"""
BWV_EXTRACT = """extract: bwv
version: 1.0.0
format: 1
title: Body-worn video use
source: figures
metrics:
  bwv_share:
    item: D13
    kind: proportion
    text: Encounters filmed on body-worn video
    unit: encounters
    direction: higher
    periods: [week]
"""
FIGURES = (
    "item,metric,place,team,period,numerator,denominator,value,count,event_ref,event_on,detail\n"
    + "".join(
        f"D13,bwv_share,{p},,2026-W47,{n},40,,,,,\n" for p, n in (("BLK", 36), ("CRN", 30), ("HRB", 38))
    )
)


def _folder(root: Path) -> Path:
    text = DEFAULT_CATALOGUE_FILE.read_text(encoding="utf-8").replace("version: 1.0.0", "version: 1.1.0", 1)
    start = text.index("  M3:\n")
    end = text.index("  D1:\n", start)
    text = text[:start] + M3 + text[end:] + D13
    root.mkdir()
    (root / "catalogue.yaml").write_text(text, encoding="utf-8")
    shutil.copytree(DEFAULT_EXTRACTS_DIR, root / "extracts")
    (root / "extracts" / "bwv.yaml").write_text(BWV_EXTRACT, encoding="utf-8")
    return root


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@sqlite_only
def test_a_force_folder_adds_an_item_and_names_m3(database_url: str, tmp_path: Path) -> None:
    folder = _folder(tmp_path / "config")
    settings = load_settings(
        force_file=DEFAULT_FORCE_FILE, environ={"QAM_CONFIG": str(folder), "QAM_DATABASE_URL": database_url}
    )
    assert settings.catalogue_file == folder / "catalogue.yaml"
    api.init_database(settings)
    api.publish_rulesets(settings, author="qa.lead", note="the force's own model")
    rows = [build_row("stop_search", case_date="2026-11-16", assess_delay=2) for _ in range(20)]
    raw = [RawRow("qa.csv", i + 2, row, header_row=1) for i, row in enumerate(rows)]
    valid, problems = validate_rows(raw, api.forms(settings), api.force(settings).place_codes)
    assert not problems
    with api.database_for(settings) as database, database.session() as session:
        assessments.store_assessments(
            session, valid, amend=False, submitted_at=dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)
        )

    (tmp_path / "figures.csv").write_text(FIGURES, encoding="utf-8")
    api.load_figures_extract(settings, tmp_path / "figures.csv")
    result = api.weekly(settings, WEEK, out=tmp_path / "out")
    folder_out = tmp_path / "out" / WEEK
    coverage = {(r["place"], r["measure"]): r for r in _rows(folder_out / "coverage.csv")}
    assert coverage[("FORCE", "D13")]["name"] == "Body-worn video use"
    assert coverage[("FORCE", "D13")]["measured"] == "yes"
    assert coverage[("FORCE", "M3")]["name"] == "Contact handling"
    assert coverage[("BLK", "D13")]["measured"] == "yes" and coverage[("KNG", "D13")]["measured"] == "no"
    with api.database_for(settings) as database, database.session() as session:
        manifest = runs.run(session, result.run_id).manifest  # type: ignore[union-attr]
    assert manifest["catalogue"]["version"] == "1.1.0"
