"""The figures for the fault note (issue #20): kill -9, disk full and concurrency, from tests/faults/.

Runs the fault suite (``pytest -m faults tests/faults``), which records every case it tries in a
JSON-lines file, then prints, for each category and experiment, the cases tried, the cases survived
(every check passed) and the rows lost, with where the kill -9 cases landed and what failed:

    python benchmarks/fault_figures.py               # 20 seeds per command, as the suite runs them
    python benchmarks/fault_figures.py --seeds 100   # more kill -9 points
    python benchmarks/fault_figures.py --records figures.jsonl   # summarise a recorded run only

Needs the local PostgreSQL (the concurrency cases), as the suite does.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.faults.figures import FIGURES_ENV  # noqa: E402


def run_suite(records: Path, seeds: int) -> tuple[int, float]:
    """Run tests/faults with its cases recorded to ``records``: pytest's exit code and wall time."""
    env = {**os.environ, FIGURES_ENV: str(records), "QAM_FAULT_SEEDS": str(seeds)}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-m", "faults", "-p", "no:cacheprovider", "tests/faults"],
        cwd=REPO,
        env=env,
        check=False,
    )
    return done.returncode, time.monotonic() - started


def summarise(cases: list[dict[str, Any]]) -> str:
    """The table of figures, the kill -9 stages and the failures, as text."""
    by: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for case in cases:
        by[(case["category"], case["experiment"])].append(case)
    lines = [f"{'category':<12} {'experiment':<52} {'cases':>5} {'survived':>8} {'rows lost':>9}"]
    for category in dict.fromkeys(c for c, _ in by):
        experiments = [(e, found) for (c, e), found in by.items() if c == category]
        for experiment, found in experiments:
            lines.append(_row(category, experiment, found))
        every = [case for _, found in experiments for case in found]
        lines.append(_row(category, f"all {len(experiments)} experiments", every))
    lines.append(_row("total", f"all {len(by)} experiments", cases))
    stages = [(c["experiment"], c["outcome"]) for c in cases if c["category"] == "kill -9"]
    if stages:
        lines += ["", "Where the kill -9 cases landed:"]
        lines += [
            f"  {experiment}: {stage}: {n}" for (experiment, stage), n in sorted(Counter(stages).items())
        ]
    failed = [c for c in cases if not c["survived"]]
    if failed:
        lines += ["", "Cases that did not survive (their problems):"]
        lines += [f"  {c['experiment']} / {c['case']}: {_brief(c['problems'])}" for c in failed]
    return "\n".join(lines)


def _brief(problems: list[str]) -> str:
    """A case's problems, the first line of each, on one line."""
    return " | ".join(p.splitlines()[0][:120] for p in problems if p.strip())


def _row(category: str, experiment: str, cases: list[dict[str, Any]]) -> str:
    survived = sum(c["survived"] for c in cases)
    lost = sum(c["rows_lost"] for c in cases)
    return f"{category:<12} {experiment:<52} {len(cases):>5} {survived:>8} {lost:>9}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=20, help="kill -9 points per command (default 20)")
    parser.add_argument("--records", type=Path, help="summarise this JSON-lines file instead of running")
    args = parser.parse_args()
    if args.records is not None:
        text = args.records.read_text(encoding="utf-8")
        print(summarise([json.loads(line) for line in text.splitlines() if line.strip()]))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        records = Path(folder) / "faults.jsonl"
        code, seconds = run_suite(records, args.seeds)
        text = records.read_text(encoding="utf-8") if records.exists() else ""
    print()
    print(f"tests/faults: pytest exit {code} in {seconds:.1f} s ({args.seeds} kill -9 seeds per command)")
    print(summarise([json.loads(line) for line in text.splitlines() if line.strip()]))
    return code


if __name__ == "__main__":
    sys.exit(main())
