"""What the fault tests compare: a SQLite database's content by transaction unit, an output folder's
files, what a killed run left beside it, and what a recorded run's manifest says it wrote."""

from __future__ import annotations

import ast
import hashlib
import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

#: columns whose values come from the clock (or are hashed with it) or are surrogate keys: two
#: runs on the same data differ only in these
VOLATILE_COLUMNS = frozenset(
    {
        "pk",
        "submitted_at",
        "scored_at",
        "loaded_at",
        "first_run_at",
        "last_run_at",
        "started_at",
        "finished_at",
        "recorded_at",
        "row_hash",
        "head_hash",
        "position",
    }
)
#: tables stored in units smaller than the table: each ruleset's scores in a transaction of its own
UNITS: Mapping[str, str] = {"case_scores": "ruleset_id"}
#: tables of counters a transaction raises (each day's epoch: every write of scores or assessments
#: raises its days', with the write): a run of several transactions may leave them part-way, each
#: count between its values before and after, never below nor above
COUNTERS: Mapping[str, str] = {"day_epochs": "epoch"}
#: caches a run rebuilds whenever they do not match what they summarise (day summaries carry the
#: epoch they were made at): what a killed run left in them is checked by the rerun's results
CACHES = frozenset({"day_summaries"})
#: tables that log each execution: a killed run that got as far as recording itself, and its rerun,
#: log two executions of one run where an uninterrupted run logs one; compared as sets
LOGS = frozenset({"run_executions"})
#: the tables whose rows are what users stored or a run recorded: a row of these missing is lost
DATA_TABLES = ("assessments", "case_scores", "ruleset_versions", "runs")

#: a database's content as {unit: sorted rows as text}; a unit is a table or one ruleset's scores
State = dict[str, list[str]]


def db_state(path: Path) -> State:
    """Every table's content without its volatile columns, by unit. Opened as the next `qam` command
    would open it: a transaction a killed process left unfinished is rolled back first."""
    conn = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            if not r[0].startswith("sqlite_")
        ]
        state: State = {}
        for table in tables:
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cursor.description]
            keep = [i for i, n in enumerate(names) if n not in VOLATILE_COLUMNS]
            by = names.index(UNITS[table]) if table in UNITS else None
            count = names.index(COUNTERS[table]) if table in COUNTERS else None
            state.setdefault(table, [])
            for row in cursor:
                unit = table if by is None else f"{table}[{row[by]}]"
                key = tuple(row[i] for i in keep if i != count)
                state.setdefault(unit, []).append(repr(key if count is None else (key, row[count])))
        return {unit: sorted(set(rows)) if unit in LOGS else sorted(rows) for unit, rows in state.items()}
    finally:
        conn.close()


def mixed_units(state: State, before: State, after: State) -> list[str]:
    """The units of ``state`` that are neither as ``before`` nor as ``after`` (half-stored), and the
    counter tables with a count outside its values before and after."""
    units = set(state) | set(before) | set(after)
    mixed = []
    for unit in sorted(units - CACHES):
        rows = state.get(unit, [])
        if unit in COUNTERS:
            if not _counts_between(rows, before.get(unit, []), after.get(unit, [])):
                mixed.append(unit)
        elif rows not in (before.get(unit, []), after.get(unit, [])):
            mixed.append(unit)
    return mixed


def _counts_between(rows: list[str], before: list[str], after: list[str]) -> bool:
    """Whether every count of ``rows`` is between its value in ``before`` and in ``after`` (a key
    missing counts 0) and no key is new."""
    low, now, high = (dict(ast.literal_eval(r) for r in x) for x in (before, rows, after))
    return set(now) <= set(high) | set(low) and all(
        low.get(k, 0) <= now.get(k, 0) <= high.get(k, 0) for k in set(low) | set(high)
    )


def differing_units(state: State, expected: State) -> list[str]:
    return sorted(u for u in set(state) | set(expected) if state.get(u, []) != expected.get(u, []))


def rows_lost(state: State, expected: State, tables: Iterable[str] = DATA_TABLES) -> int:
    """How many rows of ``expected``'s data tables ``state`` lacks (counted with multiplicity)."""
    lost = 0
    for unit, rows in expected.items():
        if unit.split("[")[0] in tables:
            lost += sum((Counter(rows) - Counter(state.get(unit, []))).values())
    return lost


def folder_files(folder: Path) -> dict[str, str] | None:
    """{relative path: sha256} of every file under ``folder``; None when there is no folder."""
    if not folder.is_dir():
        return None
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def leftovers(folder: Path) -> list[Path]:
    """The hidden ``.NAME.tmp-PID`` and ``.NAME.old-PID`` folders a killed run left beside ``folder``."""
    return sorted(folder.parent.glob(f".{folder.name}.*"))


def recorded_outputs(path: Path, run_id: str) -> dict[str, str] | None:
    """The output hashes run ``run_id``'s manifest records; None if the run is not recorded."""
    conn = sqlite3.connect(path)
    try:
        found = conn.execute("SELECT manifest FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    finally:
        conn.close()
    if found is None:
        return None
    outputs = json.loads(found[0])["outputs"]
    assert isinstance(outputs, dict)
    return outputs


def run_id_in(folder: Path) -> str:
    """The run id a run's folder names in its exceptions.json."""
    found = json.loads((folder / "exceptions.json").read_text(encoding="utf-8"))["run_id"]
    assert isinstance(found, str)
    return found
