"""Loading the tidy figures extract (issue 17, Performance: >= 100,000 rows/s): a year of every
figures metric the bundled extract definitions declare, for the 12 demo places, day-grain metrics
by team (4 teams a place), in one CSV, loaded as `qam extracts load figures FILE` loads it
(engine.api.load_figures_extracts: the catalogue and definitions read, the database opened, the file
validated and stored) into an empty database; then the same file again (every row unchanged) and a
corrected copy with --replace (every row replaced, the old ones kept).

    python benchmarks/figures_load.py                      # SQLite, a fresh file under /tmp
    python benchmarks/figures_load.py --database postgresql://postgres@127.0.0.1:5432/test
    python benchmarks/figures_load.py --teams 8            # more day-grain rows

Prints the file's rows and, per step, wall and CPU seconds and rows/s (reading and validating
alone, then each load), and how fast this machine runs plain Python at the moment (on a shared machine the
wall time is mostly waiting). On PostgreSQL the figure tables are emptied first (the rest of the
database is left alone).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

HEADER = "item,metric,place,team,period,numerator,denominator,value,count,event_ref,event_on,detail\n"
YEAR = 2026


def _periods(grain: str) -> list[str]:
    first = dt.date(YEAR, 1, 1)
    if grain == "day":
        return [(first + dt.timedelta(days=d)).isoformat() for d in range(365)]
    if grain == "week":
        return [f"{YEAR}-W{w:02d}" for w in range(1, 53)]
    if grain == "month":
        return [f"{YEAR}-{m:02d}" for m in range(1, 13)]
    if grain == "quarter":
        return [f"{YEAR}-Q{q}" for q in range(1, 5)]
    return [str(YEAR)]


def generate(path: Path, teams: int, seed: int = 7, bump: int = 0) -> int:
    """Write the year's figures to ``path`` (``bump`` changes every figure); returns the rows."""
    from engine.core.config import DEFAULT_EXTRACTS_DIR, DEFAULT_FORCE_FILE, load_force
    from engine.inputs.extract_definitions import load_extract_definitions

    rng = random.Random(seed)
    places = load_force(DEFAULT_FORCE_FILE).place_codes
    metrics = [
        m for m in load_extract_definitions(DEFAULT_EXTRACTS_DIR).metrics.values() if m.source == "figures"
    ]
    rows = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for m in metrics:
            grain = m.periods[0]
            team_names = [f"Team {t}" for t in range(1, teams + 1)] if grain == "day" else [""]
            lines: list[str] = []
            for period in _periods(grain):
                for place in places:
                    for team in team_names:
                        head = f"{m.item},{m.id},{place},{team},{period}"
                        if m.kind == "proportion":
                            n = rng.randint(50, 400)
                            lines.append(f"{head},{rng.randint(0, n - bump)},{n},,,,,\n")
                        elif m.kind == "survey":
                            lines.append(f"{head},,,{rng.randint(40, 90) / 100},{400 + bump},,,\n")
                        elif m.kind == "time":
                            lines += [
                                f"{head},,,{v},{rng.randint(1, 20) + bump},,,\n" for v in range(1, 41, 2)
                            ]
                        elif m.kind == "count":
                            exposure = "" if m.exposure == "none" else str(50_000 + bump)
                            lines.append(f"{head},{rng.randint(0, 300)},{exposure},,,,,\n")
                        elif rng.random() < 0.02:  # an event, now and then
                            day = dt.date.fromisoformat(period) if grain == "day" else dt.date(YEAR, 1, 1)
                            ref = f"{m.id[:3].upper()}-{place}-{period}"
                            lines.append(
                                f"{head},,,,,{ref},{day.isoformat()},Recorded {m.text.lower().replace(',', '')}{'!' * bump}\n"
                            )
            out.writelines(lines)
            rows += len(lines)
    return rows


def _step(name: str, rows: int, wall: float, cpu: float) -> None:
    print(
        f"  {name:<34} {wall:6.2f} s wall {rows / wall:>9,.0f} rows/s   {cpu:6.2f} s cpu {rows / cpu:>9,.0f} rows/s"
    )


class _Clock:
    """Wall and this process's CPU seconds of a step (the machine may be shared: CPU time is what
    the step itself cost; on PostgreSQL the server's share is in the wall time only)."""

    def __enter__(self) -> _Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default="sqlite:////tmp/qam_figures_load.db")
    parser.add_argument("--teams", type=int, default=4)
    parser.add_argument("--folder", default="/tmp/qam_figures_load", help="where the generated files go")
    args = parser.parse_args()

    from sqlalchemy import text

    from engine import api
    from engine.core.config import load_settings
    from engine.inputs.figures import read_figures
    from engine.rules.catalogue import load_measure_catalogue
    from engine.runs.figures_load import extract_definitions
    from engine.store import db as dbm

    folder = Path(args.folder)
    folder.mkdir(exist_ok=True)
    first, second = folder / "figures-year.csv", folder / "figures-year-corrected.csv"
    rows = generate(first, args.teams)
    generate(second, args.teams, bump=1)
    print(
        f"{rows:,} figure rows ({first.stat().st_size / 2**20:.0f} MB) on {dbm.normalise_url(args.database).split(':')[0]}"
    )
    with _Clock() as speed:
        sum(range(10**6))
    print(
        f"this machine now: sum(range(10**6)) in {speed.cpu * 1000:.0f} ms of CPU (an idle 2020s laptop: about 15 ms)"
    )

    if args.database.startswith("sqlite:///"):
        Path(args.database.removeprefix("sqlite:///")).unlink(missing_ok=True)
    settings = replace(load_settings(database_url=args.database))
    api.init_database(settings)
    with api.database_for(settings) as database:
        with database.session() as session:
            session.execute(text("DELETE FROM figures"))
            session.execute(text("DELETE FROM figure_loads"))
        if database.engine.dialect.name == "postgresql":  # as autovacuum would (off on these servers):
            # each run's deleted and replaced rows stayed behind, a million dead rows after a few runs
            with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE figures, figure_loads"))

    places = api.force(settings).place_codes
    items = tuple(load_measure_catalogue().measures)
    definitions = extract_definitions(settings.extracts_dir)
    with _Clock() as read:
        read_figures(first, definitions, places, items)
    _step("read and validate (part of a load)", rows, read.wall, read.cpu)
    for name, path, again in (
        ("first load (empty tables)", first, False),
        ("identical reload (all unchanged)", first, False),
        ("--replace of every row", second, True),
    ):
        with _Clock() as step:  # as `qam extracts load figures FILE [--replace]` loads it
            if hasattr(api, "load_figures_extracts"):
                result = api.load_figures_extracts(settings, [path], replace=again).loads[0]
            else:  # the code before the command took several files (for before/after)
                result = api.load_figures_extract(settings, path, replace=again)
        _step(name, rows, step.wall, step.cpu)
        assert (result.load is None) == (name.startswith("identical"))


if __name__ == "__main__":
    main()
