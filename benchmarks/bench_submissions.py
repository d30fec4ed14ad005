"""Reading and validating a large submission (issue 3): a CSV of N MB, short rows (the worst case:
most rows per MB) or long reviewer notes. Run by hand; prints one JSON line per configuration:

    python benchmarks/bench_submissions.py                 # 50 MB, short and long notes
    python benchmarks/bench_submissions.py --mb 10 --notes short

Each configuration runs in a fresh process so peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTES = {
    "short": "Nothing found; words of advice given.",
    "long": "Searched after a report of a man with a knife near the station; grounds were the description "
    * 4,
}


def _write(path: Path, megabytes: int, note: str) -> int:
    from engine.inputs.forms import load_forms
    from tests.factories import DEMO_PLACE_CODES, build_row

    columns = list(load_forms(REPO / "qa_forms")["stop_search"].columns)
    base = build_row("stop_search", notes=note)
    values = [base[c] for c in columns]
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        while fh.tell() < megabytes * 1_000_000:
            values[0], values[2] = f"SS-{rows:07d}", f"SS/{rows:07d}/26"
            values[3] = DEMO_PLACE_CODES[rows % len(DEMO_PLACE_CODES)]
            writer.writerow(values)
            rows += 1
    return rows


def _measure(megabytes: int, notes: str) -> dict[str, object]:
    from engine.inputs.forms import load_forms
    from engine.inputs.submission_files import read_submission
    from engine.inputs.submissions import load_submission_files
    from tests.factories import DEMO_PLACE_CODES

    forms = load_forms(REPO / "qa_forms")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        rows = _write(path, megabytes, NOTES[notes])
        base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        read = len(read_submission(path))
        read_s = time.perf_counter() - start
        start = time.perf_counter()
        valid = load_submission_files([path], forms, DEMO_PLACE_CODES)
        total_s = time.perf_counter() - start
        peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss) / 1024
    assert read == rows == len(valid)
    return {
        "file_mb": megabytes,
        "notes": notes,
        "rows": rows,
        "read_only_s": round(read_s, 2),
        "read_and_validate_s": round(total_s, 2),
        "rows_per_s": round(rows / total_s),
        "mb_per_s": round(megabytes / total_s, 2),
        "peak_rss_growth_mb": round(peak_mb),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=50)
    parser.add_argument("--notes", choices=[*NOTES, "both"], default="both")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(REPO))
        print(json.dumps(_measure(args.mb, args.notes)))
        return
    for notes in NOTES if args.notes == "both" else [args.notes]:
        cmd = [sys.executable, __file__, "--child", "--mb", str(args.mb), "--notes", notes]
        subprocess.run(cmd, check=True, cwd=REPO)


if __name__ == "__main__":
    main()
