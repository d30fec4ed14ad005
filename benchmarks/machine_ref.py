"""A fixed calibration workload, to read benchmark times taken on different machines side by side: the
project machines are all "2 cores", but one session's ran the same PEEL year 35% slower than another's
(benchmarks/README.md, 2026-12-06). The workload is what a PEEL run spends its time on, in small:
Python loops over tuples and dicts, text factorized into categories, numpy sorts and a pandas
group-by. It does not depend on QAM's code, so its seconds change only with the machine.

    python benchmarks/machine_ref.py          # prints {"machine_ref_cpu_s": ..., "runs": [...]}

bench_peel.py prints the same figure (``machine_ref_cpu_s``) beside its own: divide a time by it to
compare two machines' runs.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd

#: how many times the workload runs; the fastest is reported (the others met other people's load)
RUNS = 3


def workload() -> None:
    rng = np.random.default_rng(20261206)
    # Python: a million small tuples walked and counted in a dict
    counts: dict[tuple[int, int], int] = {}
    for pair in zip(range(1_000_000), rng.integers(0, 500, 1_000_000).tolist(), strict=True):
        key = (pair[0] % 97, pair[1])
        counts[key] = counts.get(key, 0) + 1
    # text: a million names made into sorted categories, as outcomes are framed
    names = [f"place-{i % 1_300:05d}" for i in range(1_000_000)]
    codes = pd.Categorical(names).codes
    # numpy: sorts and a grouped sum, as the aggregation does
    values = rng.random(3_000_000)
    np.sort(values)
    frame = pd.DataFrame({"code": np.resize(codes, 3_000_000), "value": values})
    frame.groupby("code", observed=True)["value"].agg(["sum", "count"])


def reference_seconds(runs: int = RUNS) -> tuple[float, list[float]]:
    """The fastest CPU seconds of ``runs`` runs of the workload, and every run's."""
    taken = []
    for _ in range(runs):
        start = time.process_time()
        workload()
        taken.append(round(time.process_time() - start, 3))
    return min(taken), taken


def main() -> None:
    best, taken = reference_seconds()
    print(json.dumps({"machine_ref_cpu_s": best, "runs": taken}))


if __name__ == "__main__":
    main()
