"""kill -9 at seeded random points of `qam submit`, `qam weekly` and `qam peel` (docs/failure-modes.md).

Each seed copies the prepared world (conftest.Lab), starts the command and sends it SIGKILL after a
delay drawn from the measured length of an uninterrupted run (a delay past its end lets it finish).
Then:

- the database is wholly as before or wholly as after the command, unit by unit where the command
  commits in several transactions (a weekly or PEEL run stores each ruleset's scores in one; each
  day's epoch counter is raised with them), never a unit half-stored, and nothing stored before lost;
- the output folder is the previous run's or complete, its files those of an uninterrupted run (and
  those its manifest records, if the run was recorded), never half-written; while the folders are
  swapped the previous one may be hidden as ``.NAME.old-PID``; scores come before the folder, the
  folder before the run's record;
- running the command again succeeds, leaves nothing hidden beside the folder, writes files byte
  for byte those of an uninterrupted run, and leaves the database as an uninterrupted run does.

QAM_FAULT_SEEDS sets the number of seeds per command (20 by default).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys

import pytest

from tests.faults.conftest import COMMANDS, Lab, Reference
from tests.faults.figures import record_case
from tests.faults.runner import Ran
from tests.faults.states import (
    State,
    db_state,
    differing_units,
    folder_files,
    leftovers,
    mixed_units,
    recorded_outputs,
    rows_lost,
    run_id_in,
)
from tests.faults.world import World

SEEDS = int(os.environ.get("QAM_FAULT_SEEDS", "20"))

pytestmark = pytest.mark.faults


def _changed_units(ref: Reference) -> list[str]:
    return sorted(u for u in set(ref.before) | set(ref.after) if ref.before.get(u) != ref.after.get(u))


def _stage(ref: Reference, world: World, state: State) -> tuple[str, list[str]]:
    """Where a weekly or PEEL run was killed, as what it left shows, and the problems with that: a
    half-written folder, a folder written before the scores, a run recorded before its folder."""
    assert ref.folder is not None
    target = world.out / ref.folder
    files = folder_files(target)
    hidden = [p for p in leftovers(target) if ".old-" in p.name and folder_files(p) == ref.files_before]
    if files not in (ref.files_before, ref.files_after) and not (files is None and hidden):
        changed = sorted(set(files or {}) ^ set(ref.files_after or {}))
        return "half-written folder", [f"{target} is half-written: {len(files or {})} files, {changed[:5]}"]
    problems = []
    scores = [u for u in _changed_units(ref) if u.startswith("case_scores")]
    scored = sum(state.get(u) == ref.after.get(u) for u in scores)
    run_id = run_id_in(ref.done.out / ref.folder)
    recorded = recorded_outputs(world.db, run_id)
    if files == ref.files_after and scored < len(scores):
        problems.append("the folder was written before every ruleset's scores were stored")
    if recorded is not None and files != ref.files_after:
        problems.append(f"run {run_id} is recorded but its folder is not written")
    if recorded is not None and recorded != {k: v for k, v in (files or {}).items() if "/" not in k}:
        problems.append(f"run {run_id}'s manifest records other files than its folder holds: {recorded}")
    if recorded is not None:
        stage = "after recording the run"
    elif files == ref.files_after:
        stage = "after writing the folder, before recording the run"
    elif hidden:
        stage = "while swapping the folders"
    elif any(".tmp-" in p.name for p in leftovers(target)):
        stage = "while writing the folder"
    elif scored == len(scores):
        stage = "after scoring, before writing" if scores else "before writing"
    elif scored:
        stage = f"while scoring ({scored} of {len(scores)} rulesets stored)"
    else:
        stage = "before storing anything"
    return stage, problems


def _kill_and_rerun(lab: Lab, ref: Reference, world: World, ran: Ran) -> tuple[list[str], int, str]:
    """Check what the command ``ran`` (killed, or not) left, rerun it and check again: the problems,
    the rows lost and where the kill landed."""
    problems = []
    if not ran.killed and ran.returncode != 0:
        problems.append(f"the run exited {ran.returncode} before the kill: {ran.stderr[-500:]}")
    state = db_state(world.db)
    lost = rows_lost(state, ref.before)
    if lost:
        problems.append(f"{lost} rows stored before the run are gone")
    if mixed_units(state, ref.before, ref.after):
        problems.append(f"half-stored: {mixed_units(state, ref.before, ref.after)}")
    if ref.folder is None:  # one transaction: all or nothing
        stored = [u for u in _changed_units(ref) if state.get(u) == ref.after.get(u)]
        if stored and len(stored) != len(_changed_units(ref)):
            problems.append(f"partly stored: {stored} as after, the rest as before")
        stage = "after the commit" if stored else "before the commit"
    else:
        stage, found = _stage(ref, world, state)
        problems += found
    rerun = lab.zygote.run(world, *ref.args)
    if rerun.returncode != 0:
        problems.append(f"the rerun exited {rerun.returncode}: {rerun.stderr[-500:]}")
    again = db_state(world.db)
    lost += rows_lost(again, ref.after)
    if differing_units(again, ref.after):
        problems.append(f"after the rerun, unlike an uninterrupted run: {differing_units(again, ref.after)}")
    if ref.folder is not None:
        target = world.out / ref.folder
        if folder_files(target) != ref.files_after:
            problems.append(f"the rerun's {target.name} differs from an uninterrupted run's")
        if leftovers(target):
            problems.append(f"left beside the folder after the rerun: {[p.name for p in leftovers(target)]}")
    problems += [f"a traceback: {text[-500:]}" for text in (ran.stderr, rerun.stderr) if "Traceback" in text]
    return problems, lost, stage if ran.killed else "finished before the kill"


@pytest.mark.parametrize("seed", range(SEEDS))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_kill_9_leaves_before_or_after_and_a_rerun_puts_it_right(lab: Lab, command: str, seed: int) -> None:
    ref = lab.reference(command)
    delay = random.Random(f"{command}:{seed}").uniform(0.0, ref.elapsed)
    world = ref.start.copy_to(lab.root / f"{command}-{seed}")
    ran = lab.zygote.run(world, *ref.args, kill_after=delay)
    problems, lost, stage = _kill_and_rerun(lab, ref, world, ran)
    case = f"seed {seed}: SIGKILL after {delay:.3f} s of {ref.elapsed:.3f} s"
    record_case("kill -9", f"qam {command}", case, problems, lost, stage)
    assert not problems, f"{case} ({stage}): " + "\n".join(problems)


@pytest.mark.parametrize("command", ["weekly", "peel"])
def test_kill_9_between_the_renames_that_swap_the_folders(lab: Lab, command: str) -> None:
    """The point random delays do not reach: the previous folder renamed to ``.NAME.old-PID``, the
    new one not yet renamed from ``.NAME.tmp-PID``. The previous folder must be there, hidden, and
    the next run must put it back before it writes (docs/failure-modes.md)."""
    ref = lab.reference(command)
    world = ref.start.copy_to(lab.root / f"{command}-mid-swap")
    ran = lab.zygote.run(world, *ref.args, die_renaming=r"\..+\.tmp-[0-9]+")
    assert ran.killed, ran.stderr
    problems, lost, stage = _kill_and_rerun(lab, ref, world, ran)
    record_case(
        "kill -9", f"qam {command}", "between the renames that swap the folders", problems, lost, stage
    )
    assert stage == "while swapping the folders"
    assert not problems, "\n".join(problems)


def test_the_warm_runner_runs_qam_as_python_m_engine_does(lab: Lab) -> None:
    """What the kill -9 seeds rest on: a command forked from the warm runner writes the same files and
    leaves the same database as the same command run as ``python -m engine`` from scratch."""
    ref = lab.reference("weekly")
    world = ref.start.copy_to(lab.root / "python-m-engine")
    ran = subprocess.run(
        [sys.executable, "-m", "engine", *ref.args],
        cwd=world.root,
        env={**os.environ, **world.env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert ref.folder is not None and folder_files(world.out / ref.folder) == ref.files_after
    assert differing_units(db_state(world.db), ref.after) == []
