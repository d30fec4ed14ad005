"""The force as a whole on a declared metric's figures (engine/analysis/figure_force.py): a drift
spread over the places, none of whose figures alone is beyond the standard, raises one FORCE
threshold exception on the places' figures added up, its figures recomputed here from the stored
rows, and force.pdf shows it with the force-level exceptions."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import text

from engine import api
from engine.core.config import Settings
from engine.store.db import open_database

WEEK = "2026-W47"
Z = 1.959963984540054
WORKFORCE = """
ruleset: test-workforce
version: 1.0.0
format: 1
title: Attendance
extract: hr
thresholds:
  - {id: TW01, text: Attendance, standard: Force's own, measure: M1, peel: people, iserve: [response],
     metric: attendance_rate, minimum: 0.93, guidance: HR reviews absence with the place leader.}
"""


@pytest.fixture
def drifted(settings: Settings, tmp_path: Path) -> Settings:
    """October's attendance 92% of 2,000 days at each of three places (each one's interval reaches
    93%, the three's together do not); Kingsgate sent September only, the same."""
    folder = tmp_path / "rulesets"
    (folder / "priority1").mkdir(parents=True)
    (folder / "priority1" / "test-workforce.yaml").write_text(WORKFORCE.lstrip(), encoding="utf-8")
    mine = replace(settings, rulesets_dir=folder)
    api.init_database(mine)
    api.publish_rulesets(mine, author="test", note="figures")
    path = tmp_path / "figures.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["item", "metric", "place", "team", "period", "numerator", "denominator", "value",
                      "count", "event_ref", "event_on", "detail"])  # fmt: skip
        for place, period in (("BLK", "2026-10"), ("CRN", "2026-10"), ("FEN", "2026-10"), ("KNG", "2026-09")):
            out.writerow(["M1", "attendance_rate", place, "", period, 1840, 2000, "", "", "", "", ""])
    api.load_figures_extract(mine, path)
    return mine


def _wilson(k: float, n: float) -> tuple[float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return centre - half, centre + half


def _october(settings: Settings) -> list[dict[str, Any]]:
    db = open_database(settings.database_url)
    try:
        with db.engine.connect() as conn:
            result = conn.execute(
                text(
                    "SELECT place, numerator, denominator FROM figures WHERE is_current "
                    "AND metric = 'attendance_rate' AND period = '2026-10'"
                )
            )
            return [dict(r._mapping) for r in result]
    finally:
        db.close()


def test_a_drift_spread_over_the_places_raises_one_force_threshold_exception(
    drifted: Settings, tmp_path: Path
) -> None:
    result = api.weekly(drifted, WEEK, out=tmp_path / "out")
    found = json.loads((result.folder / "exceptions.json").read_text(encoding="utf-8"))["exceptions"]

    rows = _october(drifted)
    for r in rows:  # no place's own interval is wholly below 93%
        assert _wilson(r["numerator"], r["denominator"])[1] > 0.93
    k, n = sum(r["numerator"] for r in rows), sum(r["denominator"] for r in rows)
    low, high = _wilson(k, n)
    assert high < 0.93
    assert [(e["kind"], e["place"], e["criterion"]) for e in found] == [("threshold", "FORCE", "TW01")]
    (e,) = found
    assert (e["n"], e["passed"], e["standard"]) == (n, k, 0.93)
    assert (e["rate"], e["ci_low"], e["ci_high"]) == (round(k / n, 3), round(low, 3), round(high, 3))
    assert "October 2026" in e["reason"]
    assert (
        "adds up the numerators and denominators of 3 places with figures for October 2026 (BLK, CRN, FEN); "
        "1 place that sends them sent none for it (KNG)"
    ) in e["reason"]

    pdf = " ".join(" ".join(p.extract_text() for p in PdfReader(result.folder / "force.pdf").pages).split())
    assert "Force-level threshold breach" in pdf and "(BLK, CRN, FEN)" in pdf
