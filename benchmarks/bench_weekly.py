"""The demo's weekly run (issue 6): `qam weekly` on the demo database, after the data is loaded.

Goal: <= 2 s wall for the demo week (1,981 assessments to score, ~20k incidents, 12 places, all PDFs).
The demo data are loaded once (api.load_demo: 26 weeks, the 25 earlier ones scored and summarised
as their weekly runs would have left them) into a folder under /tmp, kept and reused. Each
measurement copies that database and runs the CLI in a fresh process, as a user would:

    python benchmarks/bench_weekly.py                # steady state: the earlier weeks' summaries kept
    python benchmarks/bench_weekly.py --cold         # also without any stored day summary (a first run)
    python benchmarks/bench_weekly.py --repeat 5 --profile

Printed: wall seconds (min / median) and peak memory of each run, and with --profile the top of a
cProfile of one in-process run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DEFAULT_FOLDER = Path("/tmp/qam_weekly_bench")


def load(folder: Path) -> str:
    """Load the demo data once (kept in ``folder``); returns the demo week."""
    from engine import api

    marker = folder / "week.txt"
    if not marker.exists():
        started = time.perf_counter()
        data = api.load_demo(folder, progress=lambda m: print(f"... {m}", flush=True))
        marker.write_text(data.week, encoding="utf-8")
        print(f"loaded in {time.perf_counter() - started:.0f} s")
    return marker.read_text(encoding="utf-8").strip()


def fresh_copy(folder: Path, cold: bool) -> Path:
    """A copy of the loaded database to run on (without day summaries with ``cold``)."""
    target = folder / "run.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    source = folder / "demo.db"
    import sqlite3

    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
        if cold:
            dst.execute("DELETE FROM day_summaries")
    return target


def run_cli(db: Path, week: str, out: Path) -> tuple[float, int, str]:
    """(wall seconds, peak KB, summary line) of `qam weekly` in a fresh process."""
    env = {
        **os.environ,
        "QAM_DATABASE_URL": f"sqlite:///{db}",
        "QAM_RULESETS": str(db.parent / "demo-data" / "rulesets"),
    }
    started = time.perf_counter()
    done = subprocess.run(
        [
            "/usr/bin/time",
            "-f",
            "%M",
            shutil.which("qam") or "qam",
            "weekly",
            "--week",
            week,
            "--out",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    return wall, int(done.stderr.strip().splitlines()[-1]), done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="also time runs without stored day summaries")
    parser.add_argument("--profile", action="store_true", help="cProfile one in-process steady-state run")
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    week = load(args.folder)
    out = args.folder / "out"
    for cold in (False, True) if args.cold else (False,):
        walls, peaks = [], []
        for _ in range(args.repeat):
            db = fresh_copy(args.folder, cold)
            wall, peak, line = run_cli(db, week, out)
            walls.append(wall)
            peaks.append(peak)
        label = "cold (no day summaries)" if cold else "steady state"
        print(line)
        print(
            f"{label}: wall min {min(walls):.2f} s, median {statistics.median(walls):.2f} s over {args.repeat} "
            f"runs (goal <= 2 s); peak {max(peaks) / 1024:.0f} MB"
        )
    if args.profile:
        import cProfile
        import pstats

        from engine import api
        from engine.core.config import DEFAULT_FORCE_FILE, load_settings

        db = fresh_copy(args.folder, cold=False)
        settings = load_settings(
            database_url=f"sqlite:///{db}",
            force_file=DEFAULT_FORCE_FILE,
            rulesets_dir=db.parent / "demo-data" / "rulesets",
        )
        profiler = cProfile.Profile()
        profiler.enable()
        api.weekly(settings, week, out=out)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
