"""The peak memory of a whole process tree, summed as the goal counts it: run a command and sample
every 50 ms the proportional set size (PSS, /proc/PID/smaps_rollup) of it and of every process it
forks, children of children included. A forked worker shares its parent's pages until either writes
them: RSS counts each shared page in both processes, PSS splits it between them, so the sum of PSS
is what the tree really holds. Linux only. The sampling runs in this process, not the measured one,
so it adds nothing to the command's CPU time.

    python benchmarks/pss_peak.py -- python benchmarks/bench_peel.py --measure warm
    python benchmarks/pss_peak.py --series /tmp/pss.tsv -- ...   # also every sample: seconds, PID:MB...

Prints the command's own output, then one JSON line: the peak of the summed PSS in MB, the
processes alive at that peak with their PSS, the peak RSS of any one process, and the wall time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

INTERVAL_S = 0.05


def _children(pid: int) -> list[int]:
    """Every process below ``pid``, from the kernel's per-thread children lists."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                text = Path(f"/proc/{parent}/task/{task}/children").read_text()
            except OSError:
                continue
            for child in text.split():
                found.append(int(child))
                todo.append(int(child))
    return found


def _memory_kb(pid: int) -> tuple[int, int] | None:
    """(PSS, RSS) in kB of ``pid``, or None if it has gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("Pss:", "Rss:"):
            values[parts[0]] = int(parts[1])
    if "Pss:" not in values:
        return None
    return values["Pss:"], values.get("Rss:", 0)


def main() -> None:
    argv = sys.argv[1:]
    series = None
    if argv[:1] == ["--series"]:
        series, argv = open(argv[1], "w", encoding="utf-8"), argv[2:]  # noqa: SIM115
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        sys.exit("usage: pss_peak.py -- COMMAND [ARGS...]")
    started = time.perf_counter()
    process = subprocess.Popen(argv)
    peak_sum = 0
    peak_rss = 0
    at_peak: dict[int, int] = {}
    while process.poll() is None:
        sizes = {}
        for pid in [process.pid, *_children(process.pid)]:
            memory = _memory_kb(pid)
            if memory is not None:
                sizes[pid] = memory[0]
                peak_rss = max(peak_rss, memory[1])
        total = sum(sizes.values())
        if series is not None:
            now = time.perf_counter() - started
            cells = " ".join(f"{pid}:{kb // 1024}" for pid, kb in sizes.items())
            series.write(f"{now:.2f}\t{total // 1024}\t{cells}\n")
        if total > peak_sum:
            peak_sum, at_peak = total, sizes
        time.sleep(INTERVAL_S)
    print(
        json.dumps(
            {
                "pss_peak_mb_summed": round(peak_sum / 1024),
                "pss_mb_by_process_at_peak": [round(kb / 1024) for kb in at_peak.values()],
                "rss_peak_mb_of_any_process": round(peak_rss / 1024),
                "wall_s": round(time.perf_counter() - started, 2),
                "exit": process.returncode,
            }
        )
    )
    sys.exit(process.returncode)


if __name__ == "__main__":
    main()
