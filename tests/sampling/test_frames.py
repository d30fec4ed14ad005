"""Recorded sample frames in aggregation: the finite-population correction of intervals against
hand-computed values, the frame-size rule of sampling.period_frame_sizes, and a weekly run on
SQLite where a recorded frame turns "30 reviewed" into "30 of 32" and turns a shortfall too small to
be sure of into a below_standard exception."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader

from engine import api
from engine.analysis.stats import fpc_interval, wilson_interval
from engine.core.config import DEFAULT_FORCE_FILE, DEFAULT_FORMS_DIR, DEFAULT_RULESETS_DIR, Settings
from engine.core.periods import parse_week
from engine.demo.factories import build_row
from engine.inputs.submission_files import write_submission_csv
from engine.sampling.draw import draw_sample
from engine.store import sampling

WEEK = "2026-W47"
MONDAY = "2026-11-16"
DRAWN_AT = dt.datetime(2026, 11, 16, 8, 0, tzinfo=dt.UTC)
#: the keys of one exceptions.json entry (docs/outputs.md): the frame must not add any
CONTRACT_KEYS = {"place", "priority", "measure", "peel", "iserve", "ruleset", "criterion", "kind", "reason",
                 "n", "passed", "rate", "ci_low", "ci_high", "standard", "cases"}  # fmt: skip


# --------------------------------------------------------------------------- the correction


@pytest.mark.parametrize(
    ("low", "high", "rate", "n", "N", "expected"),
    [
        # f = sqrt(2 / 31) = 0.254000; 0.8 - 0.2 f = 0.749200, 0.8 + 0.1 f = 0.825400
        (0.6, 0.9, 0.8, 30, 32, (0.749200, 0.825400)),
        # f = sqrt(51 / 100) = 0.714143; 0.8 - 0.2 f = 0.657171, 0.8 + 0.1 f = 0.871414
        (0.6, 0.9, 0.8, 50, 101, (0.657171, 0.871414)),
        # f = sqrt(188 / 211) = 0.943925; 0.5 - 0.2 f = 0.311215, 0.5 + 0.3 f = 0.783178
        (0.3, 0.8, 0.5, 24, 212, (0.311215, 0.783178)),
        (0.6, 0.9, 0.8, 40, 40, (0.8, 0.8)),  # a census: no sampling error left
        (1.0, 1.0, 1.0, 1, 1, (1.0, 1.0)),  # one case of one
        (0.6, 0.9, 0.8, 30, None, (0.6, 0.9)),  # frame unknown: unchanged
        (0.6, 0.9, 0.8, 30, math.nan, (0.6, 0.9)),
    ],
)
def test_fpc_interval_matches_hand_computed_values(
    low: float, high: float, rate: float, n: int, N: int | None, expected: tuple[float, float]
) -> None:
    got = fpc_interval(low, high, rate, n, N)
    assert got == pytest.approx(expected, abs=5e-7)
    assert all(isinstance(x, float) for x in got)


def test_fpc_interval_vectorised_equals_scalar_and_tends_to_wilson_for_a_huge_frame() -> None:
    k, n = np.array([24, 5, 0, 10, 0]), np.array([30, 30, 10, 10, 0])
    big = np.array([32.0, 212.0, np.nan, 10.0, 50.0])
    low, high = wilson_interval(k, n)
    rate = np.where(n > 0, k / np.maximum(n, 1), np.nan)
    got_low, got_high = fpc_interval(low, high, rate, n, big)
    for i in range(len(k)):
        one = fpc_interval(float(low[i]), float(high[i]), float(rate[i]), int(n[i]), float(big[i]))
        assert (got_low[i], got_high[i]) == pytest.approx(one, nan_ok=True)
    assert math.isnan(got_low[-1]) and math.isnan(got_high[-1])  # no cases: still no data
    plain = wilson_interval(24, 30)
    assert fpc_interval(*plain, 0.8, 30, 10**9) == pytest.approx(plain, abs=1e-7)


# --------------------------------------------------------------------------- a weekly run


def _cases(path: Path, place: str, count: int, monday: dt.date) -> list[str]:
    """Stop-search cases of one place dated across the week of ``monday``; appended to the extract."""
    refs = [f"SS-{place}-{monday:%m%d}-{i:03d}" for i in range(count)]
    new = not path.exists()
    with path.open("a", encoding="utf-8") as fh:
        if new:
            fh.write("case_ref,case_type,place,team,officer,case_date\n")
        for i, ref in enumerate(refs):
            fh.write(f"{ref},stop_search,{place},Team A,PC {i},{monday + dt.timedelta(days=i % 7)}\n")
    return refs


def _searches(refs: list[str], place: str, failing: int, case_date: dt.date) -> list[dict[str, str]]:
    """One assessment per case, assessed in WEEK; the first ``failing`` record no grounds."""
    return [
        build_row(
            "stop_search",
            assessment_id=f"QA-{ref}",
            case_ref=ref,
            place=place,
            assessed_on=MONDAY,
            case_date=case_date.isoformat(),
            grounds_missing=i < failing,
        )
        for i, ref in enumerate(refs)
    ]


@pytest.fixture
def fresh(tmp_path: Path) -> Settings:
    """An initialised SQLite database with the repo's rulesets published."""
    rulesets = tmp_path / "rulesets"
    shutil.copytree(DEFAULT_RULESETS_DIR, rulesets)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'qam.db'}",
        force_file=DEFAULT_FORCE_FILE,
        rulesets_dir=rulesets,
        forms_dir=DEFAULT_FORMS_DIR,
    )
    api.init_database(settings)
    api.publish_rulesets(settings, author="test", note="initial")
    return settings


W45, W46 = parse_week("2026-W45"), parse_week("2026-W46")


@pytest.fixture
def sampled(fresh: Settings, tmp_path: Path) -> Settings:
    """Harbourside: 30 searches drawn from the 32 of W46, 24 with grounds recorded (80 % against a
    90 % standard). Blackwater: 10 drawn from 12 in W45 and all 8 of W46, all good. Reviewed in W47."""
    extract = tmp_path / "cases.csv"
    _cases(extract, "BLK", 12, W45.start)
    _cases(extract, "HRB", 32, W46.start)
    _cases(extract, "BLK", 8, W46.start)
    api.load_cases_extract(fresh, extract)
    with api.database_for(fresh) as database:
        early = draw_sample(database, W45, seed=3, now=DRAWN_AT, minimum=10, cap=10)
        late = draw_sample(database, W46, seed=3, now=DRAWN_AT, minimum=30, cap=30)
    drawn: dict[tuple[str, bool], list[str]] = {}
    for item in (*early.items, *late.items):
        drawn.setdefault((item.place, item.case_date < W46.start), []).append(item.case_ref)
    assert [len(drawn[k]) for k in (("HRB", False), ("BLK", True), ("BLK", False))] == [30, 10, 8]
    rows = _searches(drawn[("HRB", False)], "HRB", 6, W46.start)
    rows += _searches(drawn[("BLK", True)], "BLK", 0, W45.start)
    rows += _searches(drawn[("BLK", False)], "BLK", 0, W46.start)
    api.submit(fresh, [write_submission_csv(tmp_path / "week.csv", rows)])
    return fresh


def _text(pdf: Path) -> str:
    return " ".join(p.extract_text() for p in PdfReader(pdf).pages).replace("\n", " ")


def test_a_recorded_frame_narrows_the_interval_and_is_named_in_the_briefing(
    sampled: Settings, tmp_path: Path
) -> None:
    api.weekly(sampled, WEEK, out=tmp_path / "out")
    folder = tmp_path / "out" / WEEK
    data = json.loads((folder / "exceptions.json").read_text(encoding="utf-8"))
    ss01 = next(e for e in data["exceptions"] if (e["place"], e["criterion"]) == ("HRB", "SS01"))
    assert set(ss01) == CONTRACT_KEYS
    assert (ss01["kind"], ss01["n"], ss01["passed"], ss01["standard"]) == ("below_standard", 30, 24, 0.9)
    plain_low, plain_high = wilson_interval(24, 30)
    assert plain_high > 0.9  # without the frame the interval reaches the standard: no exception
    low, high = fpc_interval(plain_low, plain_high, 0.8, 30, 32)
    assert (ss01["ci_low"], ss01["ci_high"]) == (round(low, 3), round(high, 3)) == (0.756, 0.827)
    assert "at most 83%" in ss01["reason"]

    with (folder / "aggregates.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    cell = next(r for r in rows if (r["level"], r["key"], r["dimension_key"]) == ("place", "HRB", "SS01"))
    assert float(cell["ci_high"]) == pytest.approx(high, abs=1e-6)
    team = next(r for r in rows if (r["level"], r["place"], r["dimension_key"]) == ("team", "HRB", "SS01"))
    # a team's share of the frame is not recorded: its interval stays the plain Wilson one
    team_wilson = wilson_interval(int(team["passes"]), int(team["n"]))
    assert float(team["ci_high"]) == pytest.approx(team_wilson[1], abs=1e-6)

    text = _text(folder / "HRB.pdf")
    assert "stop searches 30 of 32" in text  # the cases-reviewed line
    assert "30 of 32 searches reviewed" in text  # the exception's evidence


def test_frames_sum_over_the_weeks_reviewed_and_an_unsampled_review_makes_n_unknown(
    sampled: Settings, tmp_path: Path
) -> None:
    def frames() -> dict[tuple[str, str], int]:
        with api.database_for(sampled) as database, database.session() as session:
            return sampling.period_frame_sizes(session, parse_week(WEEK).start, parse_week(WEEK).end)

    assert frames() == {("BLK", "stop_search"): 12 + 8, ("HRB", "stop_search"): 32}
    extra = _searches(["SS-BLK-ADHOC"], "BLK", 0, W46.start)
    api.submit(sampled, [write_submission_csv(tmp_path / "adhoc.csv", extra)])
    assert frames() == {("HRB", "stop_search"): 32}


def test_without_a_recorded_frame_the_same_reviews_raise_no_exception(
    fresh: Settings, tmp_path: Path
) -> None:
    refs = [f"SS-HRB-{i:03d}" for i in range(30)]
    api.submit(fresh, [write_submission_csv(tmp_path / "week.csv", _searches(refs, "HRB", 6, W46.start))])
    api.weekly(fresh, WEEK, out=tmp_path / "out")
    data = json.loads((tmp_path / "out" / WEEK / "exceptions.json").read_text(encoding="utf-8"))
    assert not [e for e in data["exceptions"] if e["place"] == "HRB" and e["criterion"] == "SS01"]
    assert not (tmp_path / "out" / WEEK / "HRB.pdf").exists()
