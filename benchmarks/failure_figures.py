"""The figures for the failure note (issue #20), for all six kinds of trouble: bad files, kill -9,
disk full, concurrency, hostile content and bombs. For each: the experiments run, the cases tried,
the cases survived and the rows lost.

kill -9, disk full and concurrency come from the standing fault suite (tests/faults, which records
each case it tries; benchmarks/fault_figures.py prints the same with more detail). Bad files,
hostile content and bombs come from the fuzz suite (tests/fuzz: each hypothesis example is a case)
and the tests that feed QAM broken, hostile and oversized input (each test case is a case: a test
asserts the input is refused with its message and exit code and nothing stored, or read back and
printed exactly). Rows lost: a fault case counts the rows of a submission that were neither wholly
stored nor wholly absent afterwards; the other cases assert nothing is stored of a refused file and
every row of an accepted one reads back, so a lost row fails the case.

    python benchmarks/failure_figures.py                      # runs both suites (~7 min on 2 cores)
    python benchmarks/failure_figures.py --faults faults.jsonl  # a recorded fault run; the rest run

Needs the local PostgreSQL, as the suites do.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.faults.figures import FIGURES_ENV  # noqa: E402

#: the tests (file, or file::test-name prefix) of each input category, and the fuzz targets'
INPUT_TESTS: dict[str, tuple[str, ...]] = {
    "bad files": (
        "tests/fuzz/test_submissions_fuzz.py::test_the_corpus_replays",
        "tests/fuzz/test_submissions_fuzz.py::test_random_bytes_are_read_or_refused_by_file",
        "tests/fuzz/test_submissions_fuzz.py::test_mutated_valid_files_are_read_or_refused_by_file",
        "tests/inputs/test_submission_files.py",
        "tests/inputs/test_submissions.py",
        "tests/inputs/test_extracts.py",
        "tests/inputs/test_incident_text.py",
    ),
    "hostile content": (
        "tests/fuzz/test_submissions_fuzz.py::test_hostile_cells_are_accepted_exactly_or_refused_by_row",
        "tests/fuzz/test_submissions_fuzz.py::test_a_submission_csv_qam_writes_reads_back_to_the_same_rows",
        "tests/runs/test_hostile_outputs.py",
        "tests/reports/test_layout.py",
        "tests/reports/test_fullwidth.py",
        "tests/reports/test_rtl_case_refs.py",
    ),
    "bombs": (
        "tests/fuzz/test_expressions_fuzz.py",
        "tests/core/test_yamlio.py",
        "tests/core/test_files.py",
        "tests/inputs/test_input_limits.py",
        "tests/inputs/test_submission_stream.py",
        "tests/inputs/test_xlsx_huge_cell.py",
    ),
}
_STATS = re.compile(r"(\d+) passing[^,]*, (\d+) failing")


def run_faults(records: Path) -> None:
    env = {**os.environ, FIGURES_ENV: str(records)}
    cmd = [sys.executable, "-m", "pytest", "-n", "0", "-q", "-m", "faults", "-p", "no:cacheprovider"]
    subprocess.run([*cmd, "tests/faults"], cwd=REPO, env=env, check=False)


def run_inputs(folder: Path) -> dict[str, list[tuple[str, int, int]]]:
    """Each category's experiments as (test, cases tried, cases survived)."""
    files = sorted({t.split("::")[0] for tests in INPUT_TESTS.values() for t in tests})
    report = folder / "inputs.xml"
    cmd = [sys.executable, "-m", "pytest", "-n", "0", "-q", "-p", "no:cacheprovider"]
    cmd += ["--hypothesis-show-statistics", f"--junitxml={report}", *files]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    examples = _examples(done.stdout)
    out: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for case in ET.parse(report).getroot().iter("testcase"):
        path = case.get("classname", "").replace(".", "/") + ".py"
        test_id = f"{path}::{case.get('name', '')}"
        category = next(
            (c for c, tests in INPUT_TESTS.items() if any(test_id.startswith(t) for t in tests)), None
        )
        if category is None or case.find("skipped") is not None:
            continue
        ok = case.find("failure") is None and case.find("error") is None
        tried, passed = examples.get(test_id, (1, 1))
        out[category].append((test_id, tried, passed if ok else 0))
    return out


def _examples(stdout: str) -> dict[str, tuple[int, int]]:
    """Hypothesis's statistics: (examples tried, passed) by test id."""
    found: dict[str, tuple[int, int]] = {}
    current = None
    for line in stdout.splitlines():
        if line.startswith("tests/") and line.rstrip().endswith(":"):
            current = line.rstrip()[:-1]
            found[current] = (0, 0)
        elif current and (m := _STATS.search(line)):
            tried, passed = found[current]
            found[current] = (tried + int(m[1]) + int(m[2]), passed + int(m[1]))
    return {k: v for k, v in found.items() if v[0]}


def table(faults: list[dict[str, object]], inputs: dict[str, list[tuple[str, int, int]]]) -> str:
    rows = []
    for category, cases in inputs.items():
        experiments = {t.split("[")[0] for t, _, _ in cases}
        rows.append((category, len(experiments), sum(n for _, n, _ in cases), sum(s for _, _, s in cases), 0))
    by: dict[str, list[dict[str, object]]] = defaultdict(list)
    for case in faults:
        by[str(case["category"])].append(case)
    for category, found in by.items():
        experiments = {str(c["experiment"]) for c in found}
        survived = sum(1 for c in found if c["survived"])
        lost = sum(int(str(c["rows_lost"])) for c in found)
        rows.append((category, len(experiments), len(found), survived, lost))
    order = ["bad files", "kill -9", "disk full", "concurrency", "hostile content", "bombs"]
    rows.sort(key=lambda r: order.index(r[0]) if r[0] in order else len(order))
    lines = ["| kind | experiments | cases tried | cases survived | rows lost |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {c} | {e} | {n:,} | {s:,} | {lost} |" for c, e, n, s, lost in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--faults", type=Path, help="a recorded fault run ($QAM_FAULT_FIGURES) instead of running"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        records = args.faults or folder / "faults.jsonl"
        if args.faults is None:
            run_faults(records)
        text = records.read_text(encoding="utf-8") if records.exists() else ""
        faults = [json.loads(line) for line in text.splitlines() if line.strip()]
        inputs = run_inputs(folder)
    print(table(faults, inputs))
    for category, cases in inputs.items():
        failed = [t for t, n, s in cases if s < n]
        if failed:
            print(f"\n{category}: not survived: {', '.join(failed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
