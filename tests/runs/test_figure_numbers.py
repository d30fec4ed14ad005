"""Every figure-based number a weekly run writes into exceptions.json, aggregates.csv and the place
briefings, and a PEEL rerun into its aggregates.csv (the figures peel.pdf prints), is recomputed here
from the stored figures (read with plain SQL) by plain arithmetic, on SQLite and PostgreSQL: a
proportion's k of n and Wilson interval, a survey's on n / deff, a time's mean with its t interval
and its median, a count's rate per 1,000 with Garwood's interval, and each event of the week."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import statistics
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from scipy import stats as sps  # type: ignore[import-untyped]
from sqlalchemy import text

from engine import api
from engine.core.config import Settings
from engine.store.db import open_database

WEEK = "2026-W47"
Z = 1.959963984540054

_RULESETS = {
    "priority1/test-workforce.yaml": """
ruleset: test-workforce
version: 1.0.0
format: 1
title: Attendance
extract: hr
thresholds:
  - {id: TW01, text: Attendance, standard: Force's own, measure: M1, peel: people, iserve: [response],
     metric: attendance_rate, minimum: 0.93, guidance: HR reviews absence with the place leader.}
""",
    "priority4/test-surveys.yaml": """
ruleset: test-surveys
version: 1.0.0
format: 1
title: Feeling safe
extract: surveys
thresholds:
  - {id: TS01, text: Feeling safe, standard: Force's own, measure: D9, peel: effectiveness,
     iserve: [visibility], metric: feeling_safe, minimum: 0.75}
""",
    "priority4/test-legitimacy.yaml": """
ruleset: test-legitimacy
version: 1.0.0
format: 1
title: Complaints
extract: legitimacy
thresholds:
  - {id: TL01, text: Complaints recorded, standard: Force's own, measure: D12, peel: legitimacy,
     iserve: [engagement], metric: complaints_recorded, maximum: 0.2}
  - {id: TL02, text: Days to finalise a complaint, standard: Force's own, measure: D12, peel: legitimacy,
     iserve: [engagement], metric: complaint_days_to_finalise, maximum: 60}
""",
    "priority2/test-high-impact.yaml": """
ruleset: test-high-impact
version: 1.0.0
format: 1
title: Homicide
extract: high_impact
thresholds:
  - {id: TH01, text: Homicide, standard: Exception reporting, measure: D6, peel: effectiveness,
     iserve: [investigation], metric: homicide, guidance: The SIO confirms the Gold group.}
""",
}


def _months(first: tuple[int, int], last: tuple[int, int]) -> list[str]:
    out, (y, m) = [], first
    while (y, m) <= last:
        out.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _figures_csv(path: Path) -> Path:
    """Harbourside's attendance falls from May 2026 to 90% in October; Blackwater's holds at 96%;
    Harbourside's feeling safe is 58% of 400 in 2026-Q3; its complaints 15 in 48,000 in October and
    days to finalise (raw values) average over 60; a homicide at Blackwater in the week, another
    the week before."""
    rows = [["item", "metric", "place", "team", "period", "numerator", "denominator", "value", "count",
             "event_ref", "event_on", "detail"]]  # fmt: skip
    for i, month in enumerate(_months((2025, 1), (2026, 10))):
        drop = max(0, i - 15) * 40
        rows.append(
            ["M1", "attendance_rate", "HRB", "Response A", month, 1920 - drop // 2, 2000, "", "", "", "", ""]
        )
        rows.append(
            ["M1", "attendance_rate", "HRB", "Response B", month, 1930 - drop // 2, 2000, "", "", "", "", ""]
        )
        rows.append(["M1", "attendance_rate", "BLK", "", month, 2880 + (i % 3) * 5, 3000, "", "", "", "", ""])
    rows.append(["D9", "feeling_safe", "HRB", "", "2026-Q3", "", "", "0.58", "400", "", "", ""])
    rows.append(["D9", "feeling_safe", "BLK", "", "2026-Q3", 320, 400, "", "", "", "", ""])
    rows.append(["D12", "complaints_recorded", "HRB", "", "2026-10", 15, 48000, "", "", "", "", ""])
    for days in (50, 65, 71, 80, 82, 90, 100, 75, 68, 87, 93, 79):
        rows.append(["D12", "complaint_days_to_finalise", "HRB", "", "2026-10", "", "", days, 1, "", "", ""])
    rows.append(["D6", "homicide", "BLK", "", "2026-11-18", "", "", "", "", "HOM-1", "2026-11-18",
                 "Man stabbed outside a bar"])  # fmt: skip
    rows.append(["D6", "homicide", "BLK", "", "2026-11-10", "", "", "", "", "HOM-0", "2026-11-10", "Earlier"])
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


@pytest.fixture
def figures_db(settings: Settings, tmp_path: Path) -> Settings:
    """An initialised database with only the four figure rulesets above published and the figures loaded."""
    folder = tmp_path / "rulesets"
    for name, body in _RULESETS.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(body.lstrip(), encoding="utf-8")
    mine = replace(settings, rulesets_dir=folder)
    api.init_database(mine)
    api.publish_rulesets(mine, author="test", note="figures")
    api.load_figures_extract(mine, _figures_csv(tmp_path / "figures.csv"))
    return mine


def _stored(settings: Settings) -> list[dict[str, Any]]:
    db = open_database(settings.database_url)
    try:
        with db.engine.connect() as conn:
            result = conn.execute(
                text(
                    "SELECT metric, place, team, period, numerator, denominator, value, count, event_ref, "
                    "event_on, detail FROM figures WHERE is_current"
                )
            )
            return [dict(r._mapping) for r in result]
    finally:
        db.close()


def _wilson(k: float, n: float) -> tuple[float, float]:
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / (1 + Z * Z / n)
    return max(centre - half, 0.0), min(centre + half, 1.0)


def _pdf(path: Path) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(path).pages).split())


def test_every_figure_in_the_week_recomputed_from_the_stored_rows(
    figures_db: Settings, tmp_path: Path
) -> None:
    api.weekly(figures_db, WEEK, out=tmp_path / "out")
    folder = tmp_path / "out" / WEEK
    stored = _stored(figures_db)
    by = defaultdict(list)
    for r in stored:
        by[(r["metric"], r["place"], r["period"])].append(r)
    found = json.loads((folder / "exceptions.json").read_text(encoding="utf-8"))["exceptions"]
    got = {(e["kind"], e["place"], e["criterion"]): e for e in found}

    # attendance: October (the latest closed month) at Harbourside, both teams pooled
    october = by[("attendance_rate", "HRB", "2026-10")]
    k, n = int(sum(r["numerator"] for r in october)), int(sum(r["denominator"] for r in october))
    low, high = _wilson(k, n)
    t = got[("threshold", "HRB", "TW01")]
    assert (t["n"], t["passed"], t["standard"]) == (n, k, 0.93)
    assert (t["rate"], t["ci_low"], t["ci_high"]) == (round(k / n, 3), round(low, 3), round(high, 3))
    assert "October 2026" in t["reason"]
    spc = got[("special_cause", "HRB", "TW01")]
    assert (spc["n"], spc["passed"]) == (n, k)
    hrb = _pdf(folder / "HRB.pdf")
    assert f"{k:,} of {n:,} days" in hrb and "October 2026" in hrb

    # feeling safe: the share times its sample, Wilson on n / 1.2 (the survey's design effect)
    share, sample = 0.58, 400
    low, high = _wilson(share * sample / 1.2, sample / 1.2)
    s = got[("threshold", "HRB", "TS01")]
    assert (s["n"], s["passed"], s["rate"], s["ci_low"], s["ci_high"]) == (
        sample,
        round(share * sample),
        share,
        round(low, 3),
        round(high, 3),
    )
    assert "2026-Q3" in s["reason"] and "400 respondents" in hrb

    # complaints: 15 in 48,000 is 0.3125 per 1,000, Garwood's interval scaled
    (c,) = by[("complaints_recorded", "HRB", "2026-10")]
    rate = c["numerator"] / c["denominator"] * 1000
    g_low = sps.chi2.ppf(0.025, 2 * c["numerator"]) / 2 / c["denominator"] * 1000
    g_high = sps.chi2.ppf(0.975, 2 * c["numerator"] + 2) / 2 / c["denominator"] * 1000
    assert ("threshold", "HRB", "TL01") not in got  # 0.31 per 1,000, but the interval reaches 0.2
    assert g_low < 0.2 < rate < g_high

    # days to finalise: the mean of the values (each counted once) and its t interval
    values = [
        r["value"]
        for r in by[("complaint_days_to_finalise", "HRB", "2026-10")]
        for _ in range(int(r["count"]))
    ]
    mean, sd = statistics.fmean(values), statistics.stdev(values)
    half = sps.t.ppf(0.975, len(values) - 1) * sd / math.sqrt(len(values))
    d = got[("threshold", "HRB", "TL02")]
    assert (d["n"], d["passed"], d["rate"], d["ci_low"], d["ci_high"], d["standard"]) == (
        len(values),
        0,
        round(mean, 3),
        round(mean - half, 3),
        round(mean + half, 3),
        60,
    )
    assert f"median {statistics.median(values):g}" in hrb

    # the week's homicide, and not the one before it
    h = got[("critical", "BLK", "TH01")]
    assert (h["cases"], h["n"], h["rate"]) == (["HOM-1"], 1, None)
    blk = _pdf(folder / "BLK.pdf")
    assert "HOM-1" in blk and "Man stabbed outside a bar" in blk and "HOM-0" not in blk
    assert {(e["kind"], e["place"]) for e in found} == {
        ("threshold", "HRB"), ("special_cause", "HRB"), ("critical", "BLK"),
        ("threshold", "FORCE"), ("special_cause", "FORCE"),  # feeling safe, attendance (figure_force)
    } and len(found) == 7  # fmt: skip

    # aggregates.csv: each place's metric rows are the same plain sums
    metric_rows = {
        (r["level"], r["key"], r["dimension_key"]): r
        for r in csv.DictReader((folder / "aggregates.csv").read_text(encoding="utf-8").splitlines())
        if r["dimension"] == "metric"
    }
    row = metric_rows[("place", "HRB", "attendance_rate")]
    assert (int(row["n"]), int(row["passes"]), row["covers"], row["kind"]) == (n, k, "2026-10", "proportion")
    team = metric_rows[("team", "Response A", "attendance_rate")]
    (a,) = [r for r in october if r["team"] == "Response A"]
    assert (int(team["n"]), int(team["passes"])) == (a["denominator"], a["numerator"])
    blk_oct = by[("attendance_rate", "BLK", "2026-10")][0]
    force = metric_rows[("force", "FORCE", "attendance_rate")]
    assert int(force["n"]) == n + blk_oct["denominator"] and int(force["passes"]) == k + blk_oct["numerator"]
    assert float(metric_rows[("place", "HRB", "complaint_days_to_finalise")]["median"]) == statistics.median(
        values
    )
    assert float(metric_rows[("place", "HRB", "complaints_recorded")]["rate"]) == pytest.approx(
        rate, abs=1e-6
    )

    # coverage.csv: D9 measured at both places from the survey; D6 everywhere (its extract is live)
    coverage = {
        (r["place"], r["measure"]): r
        for r in csv.DictReader((folder / "coverage.csv").read_text(encoding="utf-8").splitlines())
    }
    assert coverage[("HRB", "D9")]["figures"] == "1" and coverage[("KNG", "D9")]["measured"] == "no"
    assert (
        coverage[("KNG", "D6")]["measured"] == "yes" and coverage[("FORCE", "M3")]["source"] == "not defined"
    )


def test_a_peel_quarter_pools_the_months_inside_it(figures_db: Settings, tmp_path: Path) -> None:
    result = api.peel(figures_db, dt.date(2026, 7, 1), dt.date(2026, 9, 30), out=tmp_path / "peel")
    folder = result.run.folder
    stored = _stored(figures_db)
    rows = [
        r
        for r in stored
        if r["metric"] == "attendance_rate" and r["period"] in ("2026-07", "2026-08", "2026-09")
    ]
    k, n = int(sum(r["numerator"] for r in rows)), int(sum(r["denominator"] for r in rows))
    low, high = _wilson(k, n)
    metric = {
        (r["period"], r["level"], r["key"], r["dimension_key"]): r
        for r in csv.DictReader((folder / "aggregates.csv").read_text(encoding="utf-8").splitlines())
        if r["dimension"] == "metric"
    }
    force = metric[(folder.name, "force", "FORCE", "attendance_rate")]
    assert (int(force["n"]), int(force["passes"]), force["covers"]) == (n, k, "2026-07 to 2026-09")
    assert (float(force["ci_low"]), float(force["ci_high"])) == pytest.approx((low, high), abs=1e-6)
    peel = _pdf(folder / "peel.pdf")
    assert "Working days attended" in peel and "M3" in peel


def test_a_peel_run_frames_its_figures_in_a_worker_or_here_alike(
    figures_db: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With both cores the figures are read and framed in a worker while the outcomes are read (on
    PostgreSQL once the scores are stored, whether or not any were left to score, as in the rerun);
    alone, in the run's own process. The folder is the same file for file, and the manifest records
    the figures read either way (an audit, which reads them in process, checks that hash)."""
    import os

    from engine.runs import analysis

    framed_here: list[int] = []
    framed_figures = analysis.framed_figures

    def spy(*args: Any, **kwargs: Any) -> Any:
        framed_here.append(os.getpid())  # a worker appends to its own copy, unseen here
        return framed_figures(*args, **kwargs)

    monkeypatch.setattr(analysis, "framed_figures", spy)
    span = (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    apart = api.peel(figures_db, *span, out=tmp_path / "apart", workers=2).run.folder
    here = api.peel(figures_db, *span, out=tmp_path / "here", workers=1).run.folder
    rerun = api.peel(figures_db, *span, out=tmp_path / "rerun", workers=2)
    assert rerun.run.scored.total == 0
    assert framed_here == [os.getpid()]  # the run alone; the others' workers framed theirs
    files = sorted(p.name for p in apart.iterdir())
    assert files == sorted(p.name for p in here.iterdir()) and "aggregates.csv" in files
    for name in files:
        assert (apart / name).read_bytes() == (here / name).read_bytes(), name
        assert (rerun.run.folder / name).read_bytes() == (here / name).read_bytes(), name
    manifest = json.loads((apart / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"]["figures"]
