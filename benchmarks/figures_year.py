"""A year of the force's figures extracts (issue 17, Performance): every metric of every bundled
figures extract for the 12 demo places (daily and weekly figures for 52 weeks, monthly for 12
months, surveys for 4 quarters), loaded through `qam extracts load figures` into the PEEL benchmark's
database (the 1,000,000 incidents and 100,000 assessments of bench_peel.py), then a PEEL year run
over all 24 items.

Goals: loading >= 100,000 figure rows/s; the PEEL year <= 10 s wall and < 1 GB summed over
processes, on SQLite and PostgreSQL. The database is built once (bench_peel's year, its
assessments stored as a submission stores them, with their hash chain, and the checkout's rulesets,
catalogue and extract definitions published) and reused; each measurement runs in a fresh process.

    python benchmarks/figures_year.py                       # SQLite: build if missing, load, PEEL
    python benchmarks/figures_year.py --database postgresql://postgres@127.0.0.1:5432/test
    python benchmarks/figures_year.py --repeat 3            # load and PEEL (cold, warm) 3 times each
    python benchmarks/figures_year.py --measure-load        # only the load, as one command: qam
                                                            # extracts load figures figures-*.csv
    python benchmarks/figures_year.py --measure-load --one-by-one   # a command a file
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

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import bench_peel  # noqa: E402  (the PEEL year's data set and its measurement)

DEFAULT_DB = "sqlite:////tmp/qam_figures_year.db"
FILES = Path("/tmp/qam_figures_year")
MONTHS = tuple(f"{2026 + (m // 12)}-{m % 12 + 1:02d}" for m in range(3, 15))  # 2026-04 to 2027-03
QUARTERS = ("2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1")


def build(url: str) -> None:
    """bench_peel's year (its build: the assessments stored with their hash chain)."""
    bench_peel.build(url)


def generate(folder: Path) -> dict[str, tuple[Path, int]]:
    """The year's figures extracts as folder/figures-<extract>.csv: {extract: (file, rows)}."""
    from engine.core.config import DEFAULT_EXTRACTS_DIR, DEFAULT_FORCE_FILE, load_force
    from engine.demo.figures import FigurePlan, write_figure_files
    from engine.inputs.extract_definitions import load_extract_definitions

    folder.mkdir(parents=True, exist_ok=True)
    mondays = tuple(bench_peel.FIRST_MONDAY + dt.timedelta(weeks=w) for w in range(bench_peel.WEEKS))
    plan = FigurePlan(mondays, MONTHS, QUARTERS)
    definitions = load_extract_definitions(DEFAULT_EXTRACTS_DIR)
    return write_figure_files(folder, definitions, load_force(DEFAULT_FORCE_FILE).places, plan)


def measure_load(url: str, folder: Path, *, one_by_one: bool = False) -> None:
    """Load every figures file of ``folder`` into a database with no figures as `qam extracts load
    figures <folder>/figures-*.csv` does (engine.api.load_figures_extracts: one transaction, the
    catalogue, definitions and database opened once); with ``one_by_one``, a command a file instead
    (api.load_figures_extract each). Prints a JSON line: CPU seconds of this process (on PostgreSQL
    the server's share is in the wall time only) and the load average beside the wall time."""
    from sqlalchemy import text

    from engine import api
    from engine.store import db as dbm

    database = dbm.open_database(url)
    with database.engine.begin() as conn:
        conn.execute(text("DELETE FROM figures"))
        conn.execute(text("DELETE FROM figure_loads"))
    bench_peel._maintain(database)
    database.close()
    settings = bench_peel._settings(url)
    files = sorted(folder.glob("figures-*.csv"))
    load_1min = os.getloadavg()[0]
    t, cpu = time.perf_counter(), time.process_time()
    if one_by_one or not hasattr(api, "load_figures_extracts"):  # before it existed: one by one
        loads = [api.load_figures_extract(settings, path) for path in files]
    else:
        loads = list(api.load_figures_extracts(settings, files).loads)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    rows = sum(m.stored for loaded in loads for m in loaded.by_metric.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "backend": url.split(":")[0],
                "step": "load figures" + (" one by one" if one_by_one else ""),
                "files": len(files),
                "rows": rows,
                "cpu_s": round(cpu, 2),
                "rows_per_cpu_s": round(rows / cpu),
                "wall_s": round(wall, 2),
                "rows_per_s": round(rows / wall),
                "load_1min": round(max(load_1min, os.getloadavg()[0]), 1),
                "peak_mb": round(peak),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=DEFAULT_DB)
    parser.add_argument("--out", default="/tmp/qam_figures_year_out")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--measure-load",
        action="store_true",
        help="only load the year's files (generated before) into the database, as one command loads them",
    )
    parser.add_argument(
        "--one-by-one", action="store_true", help="with --measure-load: a command a file, as before"
    )
    args = parser.parse_args()
    if args.measure_load:
        measure_load(args.database, FILES, one_by_one=args.one_by_one)
        return
    if not bench_peel._exists(args.database):
        build(args.database)
    t = time.perf_counter()
    files = generate(FILES)
    rows = sum(n for _p, n in files.values())
    print(
        json.dumps(
            {
                "step": "generate",
                "files": len(files),
                "rows": rows,
                "wall_s": round(time.perf_counter() - t, 2),
            }
        )
    )
    here = [sys.executable, __file__, "--database", args.database]
    peel = [sys.executable, str(REPO / "benchmarks" / "bench_peel.py"), "--database", args.database]
    for _ in range(args.repeat):
        subprocess.run([*here, "--measure-load"], check=True)
        for mode in ("cold", "warm"):
            subprocess.run([*peel, "--out", args.out, "--measure", mode], check=True)


if __name__ == "__main__":
    main()
