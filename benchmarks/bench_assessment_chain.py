"""The assessments' hash chain (issue 20): what storing N assessments costs (one `qam submit` of the
demo's generated files, ~2,000 a week) and what `qam assessments verify` costs on them (time, peak
memory). Run by hand; prints one JSON line per step:

    python benchmarks/bench_assessment_chain.py                      # 25 weeks (~50,000), SQLite
    python benchmarks/bench_assessment_chain.py --weeks 5 --database postgresql://postgres@127.0.0.1/test

Storing and verifying each run in a fresh process so peak memory (max RSS) is its own. On
PostgreSQL the benchmark works in a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _open(url: str, schema: str | None) -> object:
    from engine.store.db import open_database
    from engine.store.schema import upgrade

    database = open_database(url, schema=schema, create=True)
    upgrade(database)
    return database


def store(url: str, schema: str | None, weeks: int, data: Path) -> dict[str, object]:
    """Generate and validate the demo's assessments for ``weeks`` weeks, then store them (timed)."""
    from engine.core.config import DEFAULT_FORCE_FILE, DEFAULT_FORMS_DIR, load_force
    from engine.core.periods import parse_week
    from engine.demo.data import DEMO_WEEK, demo_plan
    from engine.demo.files import write_assessment_files
    from engine.inputs.forms import load_forms
    from engine.inputs.submissions import load_submission_files
    from engine.store import assessments

    force = load_force(DEFAULT_FORCE_FILE)
    plan = demo_plan(parse_week(DEMO_WEEK).start, weeks=weeks, per_week=2000)
    files, _ = write_assessment_files(data, force.places, plan)
    rows = load_submission_files(files, load_forms(DEFAULT_FORMS_DIR), force.place_codes)
    database = _open(url, schema)
    before = _rss_mb()
    start = time.perf_counter()
    with database.session() as session:  # type: ignore[attr-defined]
        assessments.store_assessments(
            session, rows, amend=False, submitted_at=dt.datetime.now(dt.UTC), calibration_set=None
        )
    seconds = time.perf_counter() - start
    return {
        "step": "store",
        "rows": len(rows),
        "seconds": round(seconds, 2),
        "rss_mb_added": round(_rss_mb() - before),
    }


def verify(url: str, schema: str | None) -> dict[str, object]:
    from engine.store import integrity

    database = _open(url, schema)
    before = _rss_mb()
    start = time.perf_counter()
    report = integrity.verify_assessments(database)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    return {
        "step": "verify",
        "rows": report.rows_checked,
        "problems": len(report.problems),
        "seconds": round(seconds, 2),
        "rss_mb_before": round(before),
        "rss_mb_peak": round(_rss_mb()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=25)
    parser.add_argument("--database", help="a PostgreSQL URL (default: a SQLite file in a temporary folder)")
    parser.add_argument("--steps", default="store,verify")
    parser.add_argument("--child", nargs=3, metavar=("STEP", "URL", "SCHEMA"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        step, url, schema = args.child
        schema = schema or None
        if step == "store":
            with tempfile.TemporaryDirectory() as tmp:
                print(json.dumps(store(url, schema, args.weeks, Path(tmp))), flush=True)
        else:
            print(json.dumps(verify(url, schema)), flush=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url, schema = args.database or f"sqlite:///{Path(tmp) / 'bench.db'}", ""
        admin = None
        if args.database:
            from sqlalchemy import create_engine, text

            from engine.store.db import normalise_url

            schema = f"bench_chain_{uuid.uuid4().hex[:8]}"
            admin = create_engine(normalise_url(url))
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            for step in args.steps.split(","):
                cmd = [sys.executable, __file__, "--weeks", str(args.weeks), "--child", step, url, schema]
                subprocess.run(cmd, check=True, cwd=REPO)
        finally:
            if admin is not None:
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
