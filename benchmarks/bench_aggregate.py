"""Aggregation and exceptions at scale: 100k assessments' outcomes plus 1M incidents (issue 5).

Goal: aggregating into every level and dimension plus finding every exception, once the data is
loaded, in <= 1 s with < 1 GB peak memory on the 2-core box. Run by hand; prints one JSON line
per configuration:

    python benchmarks/bench_aggregate.py            # real criteria counts (~12 per case) and 40 per case
    python benchmarks/bench_aggregate.py --criteria 40 --assessments 100000 --incidents 1000000

"Loaded" means the rows are in memory as columns (what the repository hands over); building the
prepared frames (categorical keys, per-incident metric flags) is timed separately as "prepare".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.analysis import aggregate as agg  # noqa: E402
from engine.analysis import daily  # noqa: E402
from engine.analysis.findings import PeriodFindings, assess_period  # noqa: E402
from engine.analysis.incidents import incidents_frame  # noqa: E402
from engine.analysis.outcomes import Outcomes, in_period, outcomes_frame  # noqa: E402
from engine.analysis.tables import write_aggregates_csv  # noqa: E402
from engine.core.periods import week_label  # noqa: E402
from engine.rules.catalogue import load_measures  # noqa: E402

#: case type -> (ruleset, measure, criteria in the real rulesets, how many are critical)
CASE_TYPES = {
    "stop_search": ("stop-search-legitimacy", "D11", 13, 1),
    "victim_care": ("victims-code-compliance", "M8", 8, 0),
    "crime_file": ("case-file-quality", "M5", 15, 1),
    "investigation": ("investigation-quality", "D5", 13, 0),
    "domestic_abuse": ("domestic-abuse-safeguarding", "D7", 10, 2),
}
PLACES = ["BLK", "CRN", "FEN", "HRB", "ASH", "KNG", "MLB", "STN", "DLW", "ESM", "PRT", "RDG"]
DIVISIONS = ["West"] * 4 + ["Central"] * 4 + ["East"] * 4
SETTINGS = {p: ("rural" if p in {"CRN", "FEN", "STN", "DLW", "ESM"} else "urban") for p in PLACES}
WEEKS = 52
FIRST_MONDAY = date(2025, 11, 24)  # 52 ISO weeks ending 2026-W47


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_criteria(per_case: int | None) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for ruleset, measure, real, critical in CASE_TYPES.values():
        for i in range(per_case or real):
            rows.append(
                {
                    "ruleset": ruleset,
                    "criterion": f"{measure}-{i + 1:02d}",
                    "text": f"{ruleset} criterion {i + 1}",
                    "measure": measure,
                    "minimum": None if i < critical else (0.8, 0.85, 0.9, 0.95)[i % 4],
                    "critical": i < critical,
                }
            )
    return rows


def make_outcomes(
    n_assessments: int, criteria: list[dict[str, object]], rng: np.random.Generator
) -> pd.DataFrame:
    """Outcome rows as the repository would hand them over: columns, categorical where repeated."""
    types = list(CASE_TYPES)
    by_type = [[i for i, c in enumerate(criteria) if c["ruleset"] == CASE_TYPES[t][0]] for t in types]
    a_type = rng.integers(0, len(types), n_assessments)
    a_place = rng.integers(0, len(PLACES), n_assessments)
    a_team = rng.integers(0, 6, n_assessments)
    a_officer = a_team * 25 + rng.integers(0, 25, n_assessments)
    a_day = rng.integers(0, WEEKS * 7, n_assessments)
    per = np.array([len(by_type[t]) for t in a_type])
    assessment = np.repeat(np.arange(n_assessments), per)
    crit = np.concatenate([np.asarray(by_type[t]) for t in a_type])
    n = assessment.size

    # each (place, criterion) has its own level of compliance, mostly a little above its minimum
    # standard (some below); one place drifts down over the last 8 weeks
    minimum = np.array([c["minimum"] or 0.9 for c in criteria], dtype=float)
    level = np.clip(minimum + rng.normal(0.03, 0.03, (len(PLACES), len(criteria))), 0.5, 0.995)
    p_pass = level[a_place[assessment], crit]
    late = a_day[assessment] >= (WEEKS - 8) * 7
    p_pass = np.where(late & (a_place[assessment] == 3), p_pass - 0.15, p_pass)
    critical = np.array([bool(c["critical"]) for c in criteria])[crit]
    p_pass = np.where(critical, 0.995, p_pass)
    u = rng.random(n)
    na = rng.random(n) < np.where(critical, 0.9, 0.06)
    outcome = np.where(na, 2, np.where(u < p_pass, 0, 1))

    days = np.datetime64(FIRST_MONDAY) + a_day.astype("timedelta64[D]")
    weeks = [week_label(FIRST_MONDAY + timedelta(days=int(d))) for d in range(WEEKS * 7)]
    week_codes = pd.Categorical(weeks)
    cat = pd.Categorical.from_codes
    refs = [f"C-{i:06d}" for i in range(n_assessments)]
    rulesets = pd.Categorical([str(c["ruleset"]) for c in criteria])
    division = pd.Categorical(DIVISIONS)
    # every failing row shares one trace tuple, as repeated Python objects would only cost memory here
    traces = np.empty(2, dtype=object)
    traces[0], traces[1] = (), ("answer was 'no'",)
    trace = traces[(outcome == 1).astype(np.int64)]
    return pd.DataFrame(
        {
            "assessment_key": assessment,
            "case_ref": cat(assessment, categories=refs),
            "case_type": cat(a_type[assessment], categories=types),
            "place": cat(a_place[assessment], categories=PLACES),
            "division": cat(division.codes[a_place[assessment]], categories=list(division.categories)),
            "team": cat(a_team[assessment], categories=[f"Team {i}" for i in range(6)]),
            "officer": cat(a_officer[assessment], categories=[f"PC {i:03d}" for i in range(150)]),
            "reviewer": cat(assessment % 40, categories=[f"QA {i:02d}" for i in range(40)]),
            "assessed_on": days[assessment],
            "week": cat(week_codes.codes[a_day[assessment]], categories=list(week_codes.categories)),
            "ruleset": cat(rulesets.codes[crit], categories=list(rulesets.categories)),
            "ruleset_version": cat(np.zeros(n, dtype=np.int8), categories=["1.0.0"]),
            "criterion": cat(crit, categories=[str(c["criterion"]) for c in criteria]),
            "outcome": cat(outcome, categories=["pass", "fail", "na"]),
            "critical": critical,
            "trace": trace,
            "note": "",
        }
    )


def make_incidents(n: int, rng: np.random.Generator) -> pd.DataFrame:
    received = np.datetime64(FIRST_MONDAY, "s") + rng.integers(0, WEEKS * 7 * 86400, n).astype(
        "timedelta64[s]"
    )
    channel = rng.choice(np.array(["999", "101", "online"]), n, p=[0.42, 0.43, 0.15])
    grade = rng.choice(np.array([1, 2, 3]), n, p=[0.14, 0.36, 0.50])
    answer = np.where(
        channel == "999", rng.lognormal(np.log(4.5), 0.55, n), rng.lognormal(np.log(70), 1.4, n)
    )
    answered = np.where(
        channel == "online", np.datetime64("NaT"), received + (answer * 1000).astype("timedelta64[ms]")
    )
    arrive_min = np.where(grade == 1, rng.lognormal(np.log(9), 0.5, n), rng.lognormal(np.log(35), 0.6, n))
    attended = (grade < 3) & (rng.random(n) < 0.97)
    arrived = np.where(
        attended, received + (arrive_min * 60_000).astype("timedelta64[ms]"), np.datetime64("NaT")
    )
    return pd.DataFrame(
        {
            "incident_ref": pd.Categorical([f"I-{i:07d}" for i in range(n)]),
            "place": pd.Categorical.from_codes(rng.integers(0, len(PLACES), n), categories=PLACES),
            "grade": grade,
            "channel": channel,
            "received_at": received,
            "answered_at": answered.astype("datetime64[ms]"),
            "arrived_at": arrived.astype("datetime64[ms]"),
        }
    )


STANDARDS = [
    {"ruleset": "response-standards", "criterion": "RS01", "metric": "g1_attended_within_standard",
     "text": "Grade 1 incidents attended within 15 minutes (urban) or 20 minutes (rural)", "measure": "M2",
     "minimum": 0.9},
    {"ruleset": "response-standards", "criterion": "RS02", "metric": "g2_attended_within_60",
     "text": "Grade 2 incidents attended within 60 minutes", "measure": "M2", "minimum": 0.85},
    {"ruleset": "response-standards", "criterion": "RS03", "metric": "call999_answered_within_10s",
     "text": "999 calls answered within 10 seconds", "measure": "M2", "minimum": 0.9},
    {"ruleset": "response-standards", "criterion": "RS04", "metric": "call101_answer_seconds",
     "text": "101 calls answer time", "measure": "M2", "minimum": None, "direction": "lower"},
]  # fmt: skip


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def exceptions(
    outcomes: Outcomes, period_from: date, period_to: date, incidents: pd.DataFrame, table: pd.DataFrame
) -> PeriodFindings:
    """The period's exceptions from the prepared frames, their day summaries made first."""
    return assess_period(
        outcomes,
        period_from,
        period_to,
        aggregates=table,
        outcome_days=daily.outcome_days(in_period(outcomes, None, period_to)),
        incident_days=daily.incident_days(incidents),
        metric_standards=STANDARDS,
        place_settings=SETTINGS,
    )


def run(n_assessments: int, n_incidents: int, per_case: int | None, seed: int) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    criteria = make_criteria(per_case)
    measures = list(load_measures().values())
    raw, t_gen = timed(make_outcomes, n_assessments, criteria, rng)
    raw_inc, t_gen_inc = timed(make_incidents, n_incidents, rng)

    outcomes, t_prep = timed(outcomes_frame, raw, criteria, measures)
    incidents, t_prep_inc = timed(incidents_frame, raw_inc, SETTINGS)
    del raw, raw_inc

    period_from, period_to = FIRST_MONDAY, FIRST_MONDAY + timedelta(days=WEEKS * 7 - 1)
    label = f"{period_from.isoformat()}..{period_to.isoformat()}"
    table, t_agg = timed(agg.aggregate, in_period(outcomes, period_from, period_to), label)
    findings, t_exc = timed(exceptions, outcomes, period_from, period_to, incidents, table)
    rss_goal = peak_rss_mb()
    week_from = period_to - timedelta(days=6)

    def latest_week() -> PeriodFindings:
        # the week's place x criterion cells only: the weekly figure never needed the whole table
        cells = agg.aggregate(
            in_period(outcomes, week_from, period_to), "", levels=("place",), dimensions=("criterion",)
        )
        return exceptions(outcomes, week_from, period_to, incidents, cells)

    weekly, t_weekly = timed(latest_week)
    with_cases, t_cases = timed(agg.aggregate, outcomes, label, with_cases=True)
    with tempfile.TemporaryDirectory() as tmp:
        _, t_csv = timed(write_aggregates_csv, with_cases, os.path.join(tmp, "aggregates.csv"))
    by_kind: dict[str, int] = {}
    for e in findings.exceptions:
        by_kind[e.kind.value] = by_kind.get(e.kind.value, 0) + 1
    return {
        "assessments": n_assessments,
        "criteria_per_case": per_case or "real (8-15)",
        "outcome_rows": len(outcomes.frame),
        "incident_rows": len(incidents),
        "generate_s": round(t_gen + t_gen_inc, 3),
        "prepare_outcomes_s": round(t_prep, 3),
        "prepare_incidents_s": round(t_prep_inc, 3),
        "aggregate_all_levels_s": round(t_agg, 3),
        "exceptions_year_s": round(t_exc, 3),
        "goal_aggregate_plus_exceptions_s": round(t_agg + t_exc, 3),
        "exceptions_latest_week_s": round(t_weekly, 3),
        "aggregate_rows": len(table),
        "exceptions": by_kind,
        "weekly_exceptions": len(weekly.exceptions),
        "small_samples": len(findings.small_samples),
        "aggregate_with_case_refs_s": round(t_cases, 3),
        "write_csv_s": round(t_csv, 3),
        "peak_rss_through_goal_mb": round(rss_goal, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assessments", type=int, default=100_000)
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument(
        "--criteria", default="both", help="'real', a number per case, or 'both' (real and 40)"
    )
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    if args.criteria == "both":
        # one process per configuration, so that each peak memory figure is its own
        for criteria in ("real", "40"):
            argv = [*sys.argv[1:], "--criteria", criteria]
            subprocess.run([sys.executable, __file__, *argv], check=True)
        return
    per_case = None if args.criteria == "real" else int(args.criteria)
    print(json.dumps(run(args.assessments, args.incidents, per_case, args.seed)), flush=True)


if __name__ == "__main__":
    main()
