"""A PEEL rerun at force scale (issue 8): a year of 100,000 assessments and 1,000,000 incidents read
from the database, rescored, aggregated by period and quarter, compared and reported.

Goal: <= 10 s wall and < 1 GB peak on the 2-core box. The data set is built once (bulk inserts, not
the CLI) into a file database kept under /tmp and reused; each measurement runs in a fresh process.

    python benchmarks/bench_peel.py                      # SQLite, build if missing, then time
    python benchmarks/bench_peel.py --database postgresql://postgres@127.0.0.1:5432/test
    python benchmarks/bench_peel.py --profile            # cProfile of one cold run, top 35 by cumulative
    python benchmarks/bench_peel.py --repeat 3 --cli     # each mode 3 times, in process and as `qam peel`

"cold": no score stored under the rulesets and no day summary, so every assessment is rescored
(and stored) and every incident read; "rescore": no score stored, but the incidents' day summaries
kept (a rerun after a ruleset change, once weekly runs have summarised the incidents); "warm": the
same rerun again, reusing the stored scores and the incidents' day summaries.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DEFAULT_DB = "sqlite:////tmp/qam_peel_bench.db"
FIRST_MONDAY = dt.date(2026, 3, 30)
WEEKS = 52
ASSESSMENTS_PER_WEEK = 1923  # 32 per place and case type: 99,840 in the year
INCIDENTS_PER_WEEK = 19231  # 1,000,012 in the year
START, END = dt.date(2026, 4, 1), dt.date(2027, 3, 31)
SUBMITTED_AT = dt.datetime(2027, 4, 1, 9, tzinfo=dt.UTC)
PUBLISHED_AT = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
MODES = ("cold", "rescore", "warm")


def _settings(url: str):  # type: ignore[no-untyped-def]
    from engine.core.config import DEFAULT_FORCE_FILE, DEFAULT_FORMS_DIR, DEFAULT_RULESETS_DIR, Settings

    return Settings(
        database_url=url,
        force_file=DEFAULT_FORCE_FILE,
        rulesets_dir=DEFAULT_RULESETS_DIR,
        forms_dir=DEFAULT_FORMS_DIR,
    )


def build(url: str) -> None:
    """Generate the year once: the assessments stored as a submission stores them
    (store.assessments.store_assessments, which links each into the hash chain: a plain bulk insert
    would leave assessments.row_hash empty), the incidents bulk-inserted, the checkout's rulesets,
    catalogue and extract definitions published."""
    from sqlalchemy import insert

    from engine import api, registry
    from engine.demo.data import DemoPlan, generate_assessments
    from engine.demo.incidents import generate_incidents
    from engine.inputs.extracts import content_hash as incident_hash
    from engine.inputs.submission_files import RawRow
    from engine.inputs.submissions import validate_rows
    from engine.registry.documents import DocumentPaths
    from engine.store import assessments
    from engine.store.db import Incident

    settings = _settings(url)
    api.init_database(settings)
    the_force = api.force(settings)
    t = time.perf_counter()
    with api.database_for(settings) as database:
        registry.publish(
            database,
            settings.rulesets_dir,
            api.fields_by_case_type(settings),
            author="bench",
            note="benchmark",
            now=PUBLISHED_AT,
            documents=DocumentPaths.of(settings),
        )
        weeks = tuple(FIRST_MONDAY + dt.timedelta(weeks=w) for w in range(WEEKS))
        plan = DemoPlan(weeks, per_week=ASSESSMENTS_PER_WEEK)
        raw = [
            RawRow("bench.csv", i + 2, {k: str(v) for k, v in row.items()})
            for i, row in enumerate(generate_assessments(the_force.places, plan))
        ]
        valid, problems = validate_rows(raw, api.forms(settings), the_force.place_codes)
        assert not problems, problems[:3]
        with database.session() as session:
            assessments.store_assessments(session, valid, amend=False, submitted_at=SUBMITTED_AT)
        print(f"generated and stored {len(valid):,} assessments in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        n = 0
        with database.session() as session:
            batch: list[dict[str, object]] = []
            for row in generate_incidents(the_force.places, weeks, per_week=INCIDENTS_PER_WEEK, seed=7):
                batch.append(
                    {
                        "incident_ref": row["incident_ref"],
                        "place": row["place"],
                        "grade": int(row["grade"]),
                        "channel": row["channel"],
                        "received_at": dt.datetime.fromisoformat(row["received_at"]),
                        "answered_at": dt.datetime.fromisoformat(row["answered_at"]),
                        "arrived_at": dt.datetime.fromisoformat(row["arrived_at"])
                        if row["arrived_at"]
                        else None,
                        "team": row.get("team") or None,
                        "content_hash": incident_hash(row),
                        "source_file": "bench-incidents.csv",
                        "source_row": n + 2,
                        "loaded_at": SUBMITTED_AT,
                    }
                )
                n += 1
                if len(batch) == 20000:
                    session.execute(insert(Incident), batch)
                    batch = []
            if batch:
                session.execute(insert(Incident), batch)
        print(f"generated and inserted {n:,} incidents in {time.perf_counter() - t:.1f} s")
        _maintain(database)


def _maintain(database: Any) -> None:
    """On PostgreSQL, VACUUM ANALYZE as autovacuum would have by the time an analyst reruns a year.
    The servers here run with autovacuum off: without this, each cold run's DELETE left its 99,000
    dead score rows behind (case_scores reached 1.5 GB over a session of runs, slowing every COPY
    and read), and no table had statistics (the planner guessed 875 rows of a million incidents)."""
    if database.engine.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def _exists(url: str) -> bool:
    from sqlalchemy import text

    from engine.store import db as dbm

    try:
        database = dbm.open_database(url)
    except Exception:
        return False
    try:
        with database.engine.connect() as conn:
            return bool(conn.execute(text("SELECT count(*) FROM incidents")).scalar())
    except Exception:
        return False
    finally:
        database.close()


def _reset(url: str, mode: str) -> None:
    """Leave the database as ``mode`` finds it (see the module docstring)."""
    from sqlalchemy import text

    from engine.store import db as dbm

    if mode in ("cold", "rescore"):
        database = dbm.open_database(url)
        with database.engine.begin() as conn:
            conn.execute(text("DELETE FROM case_scores"))
            if mode == "cold":
                conn.execute(text("DELETE FROM day_summaries"))
        _maintain(database)
        database.close()


def measure_cli(url: str, mode: str, out: str) -> None:
    """One rerun as an analyst runs it, `qam peel` in a process of its own, timed from outside
    (start-up and exit included); prints a JSON line."""
    _reset(url, mode)
    cmd = [sys.executable, "-m", "engine", "--database", url, "peel", "--from", START.isoformat()]
    cmd += ["--to", END.isoformat(), "--compare-original", "--out", out]
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"backend": url.split(":")[0], "mode": mode, "via": "cli", "wall_s": round(wall, 2),
                      "peak_mb_of_any_process": round(peak)}))  # fmt: skip


def _cpu_seconds() -> float:
    """User and system CPU seconds of this process and of its children waited for (the forked
    workers): what a run cost whatever else the machine was doing, unlike its wall time."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def measure(url: str, mode: str, out: str, profile: bool, workers: int | None) -> None:
    """One rerun in this process; prints a JSON line (cpu_s: its CPU seconds, workers' included;
    load_1min: the machine's load average as it ended, beside which to read wall_s)."""
    from engine import api

    _reset(url, mode)
    settings = _settings(url)
    t, cpu_before = time.perf_counter(), _cpu_seconds()
    if profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        result = prof.runcall(
            api.peel, settings, START, END, out=Path(out), compare_original=True, workers=workers
        )
        pstats.Stats(prof, stream=sys.stderr).sort_stats("cumulative").print_stats(35)
    else:
        result = api.peel(settings, START, END, out=Path(out), compare_original=True, workers=workers)
    wall = time.perf_counter() - t
    cpu = _cpu_seconds() - cpu_before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "backend": url.split(":")[0],
                "mode": mode,
                "workers": workers,
                "assessments": result.run.cases_reviewed,
                "newly_scored": result.run.scored.total,
                "exceptions": len(result.run.exceptions),
                "cpu_s": round(cpu, 2),
                "wall_s": round(wall, 2),
                "load_1min": round(os.getloadavg()[0], 1),
                "peak_mb": round(peak),
                "worker_peak_mb": round(child),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=DEFAULT_DB)
    parser.add_argument("--out", default="/tmp/qam_peel_bench_out")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--workers", type=int, help="2: score and read incidents on both cores (more memory at once)"
    )
    parser.add_argument("--measure", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--measure-cli", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=1, help="measure each mode this many times, in turn")
    parser.add_argument("--cli", action="store_true", help="also time each mode as `qam peel` from outside")
    args = parser.parse_args()
    if args.measure:
        measure(args.database, args.measure, args.out, args.profile, args.workers)
        return
    if args.measure_cli:
        measure_cli(args.database, args.measure_cli, args.out)
        return
    if not _exists(args.database):
        build(args.database)
    modes = ("cold",) if args.profile else MODES * args.repeat
    for mode in modes:
        cmd = [sys.executable, __file__, "--database", args.database, "--out", args.out, "--measure", mode]
        cmd += ["--profile"] if args.profile else []
        cmd += ["--workers", str(args.workers)] if args.workers else []
        subprocess.run(cmd, check=True)
        if args.cli:  # from a process of its own, whose only child is the CLI
            subprocess.run([*cmd[:-2], "--measure-cli", mode], check=True)
    # this machine's speed, to read these times beside another machine's (machine_ref.py)
    subprocess.run([sys.executable, str(Path(__file__).with_name("machine_ref.py"))], check=True)


if __name__ == "__main__":
    main()
