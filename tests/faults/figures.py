"""The counts for the fault note (benchmarks/fault_figures.py): each case the fault tests try is
appended to the JSON-lines file $QAM_FAULT_FIGURES, when it is set, before the test asserts, so a
case that fails is counted too."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

#: the environment variable naming the file the cases are appended to
FIGURES_ENV = "QAM_FAULT_FIGURES"


def record_case(
    category: str, experiment: str, case: str, problems: Sequence[str], lost: int, outcome: str = ""
) -> None:
    """One case: its category (kill -9, disk full, concurrency), experiment, name, whether it
    survived (no problem found), how many rows it lost, the problems, and what it left (e.g.
    "before", "after")."""
    target = os.environ.get(FIGURES_ENV)
    if not target:
        return
    line = {
        "category": category,
        "experiment": experiment,
        "case": case,
        "survived": not problems,
        "rows_lost": lost,
        "problems": list(problems),
        "outcome": outcome,
    }
    with open(target, "a", encoding="utf-8") as f:  # one short append per case: whole lines under xdist
        f.write(json.dumps(line) + "\n")
