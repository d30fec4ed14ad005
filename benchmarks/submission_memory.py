"""Peak memory and throughput of `qam submit` on one large CSV (issue 20: a 196 MB CSV of 1.21M rows
needed 9.7 GB). Run by hand; prints one JSON line per step:

    python benchmarks/submission_memory.py                            # 200 MB, SQLite
    python benchmarks/submission_memory.py --database postgresql://postgres@127.0.0.1/test
    python benchmarks/submission_memory.py --mb 20 --keep /tmp/big.csv   # keep (or reuse) the file

The file is stop_search rows from the demo factories (engine.demo.factories.build_row, about 160
bytes a row, so 200 MB is about 1.25M rows), each with its own id, case ref and place. Each step is
a `qam submit` in a process of its own under /usr/bin/time -v (peak RSS is that process's maximum
resident set): the first submission into an empty database, then the same file again (every row
unchanged, nothing stored). On PostgreSQL the benchmark works in a schema of its own, dropped
afterwards.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def write_csv(path: Path, megabytes: float) -> int:
    """A stop_search submission of about ``megabytes`` MB; returns its number of rows."""
    sys.path.insert(0, str(REPO))
    from engine.demo.factories import DEMO_PLACE_CODES, build_row

    base = build_row("stop_search")
    columns = list(base)
    values = list(base.values())
    at = {name: columns.index(name) for name in ("assessment_id", "case_ref", "place", "officer")}
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        while fh.tell() < megabytes * 1_000_000:
            values[at["assessment_id"]] = f"SS-{rows:07d}"
            values[at["case_ref"]] = f"SS/{rows:07d}/26"
            values[at["place"]] = DEMO_PLACE_CODES[rows % len(DEMO_PLACE_CODES)]
            values[at["officer"]] = f"PC {1000 + rows % 600}"
            writer.writerow(values)
            rows += 1
    return rows


def _qam(url: str, *args: str, timed: bool = False) -> dict[str, object]:
    """Run one qam command; with ``timed``, under /usr/bin/time -v, returning its peak RSS and time."""
    env = {**os.environ, "QAM_DATABASE_URL": url}
    cmd = [sys.executable, "-m", "engine", *args]
    if timed:
        cmd = ["/usr/bin/time", "-v", *cmd]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(
            f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}"
        )
    out: dict[str, object] = {"seconds": round(elapsed, 1), "printed": done.stdout.strip().splitlines()[-1]}
    if timed:
        peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        out["peak_rss_mb"] = round(int(peak.group(1)) / 1024) if peak else None
        # CPU time too: the machine may be shared, and wall-clock rows/s then depends on the others
        cpu = [re.search(rf"{kind} time \(seconds\): ([\d.]+)", done.stderr) for kind in ("User", "System")]
        out["cpu_seconds"] = round(sum(float(m.group(1)) for m in cpu if m), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200)
    parser.add_argument(
        "--database", default="sqlite", help="'sqlite' (a temporary file) or a PostgreSQL URL"
    )
    parser.add_argument("--keep", type=Path, help="write the CSV here and keep it; reuse it if it exists")
    parser.add_argument("--no-resubmit", action="store_true", help="skip the identical resubmission")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "big.csv"
        if not path.exists():
            write_csv(path, args.mb)
        with path.open("rb") as fh:
            rows = sum(1 for _ in fh) - 1
        schema = None
        if args.database == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        else:
            schema = f"qam_bench_{uuid.uuid4().hex[:8]}"
            _psql(args.database, f'CREATE SCHEMA "{schema}"')
            url = f"{args.database}?options=-csearch_path%3D{schema}"
        try:
            _qam(url, "init")
            steps = [("submit", "empty database")]
            if not args.no_resubmit:
                steps.append(("submit again", "every row unchanged"))
            for step, what in steps:
                result = _qam(url, "submit", str(path), timed=True)
                seconds = float(str(result["seconds"]))
                line = {
                    "step": step,
                    "what": what,
                    "database": "sqlite" if schema is None else "postgresql",
                    "file_mb": round(path.stat().st_size / 1e6, 1),
                    "rows": rows,
                    "rows_per_s": round(rows / seconds),
                    "rows_per_cpu_s": round(rows / max(float(str(result["cpu_seconds"])), 0.1)),
                    **result,
                }
                print(json.dumps(line), flush=True)
        finally:
            if schema is not None:
                _psql(args.database, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _psql(url: str, statement: str) -> None:
    sys.path.insert(0, str(REPO))
    from sqlalchemy import create_engine, text

    from engine.store.db import normalise_url

    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


if __name__ == "__main__":
    main()
