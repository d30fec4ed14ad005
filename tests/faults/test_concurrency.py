"""Commands at the same time on PostgreSQL, each a `qam` process of its own (runner.Zygote.together):

- eight `qam submit`s of overlapping files (tests/store/test_assessments.py's eight submissions,
  there run as threads of one process): each reports what it would have reported had they run one
  after the other in some order, the database holds what that order stores (nothing lost, nothing
  stored twice), and a conflict is the usual `Error:` (exit 3), never a traceback;
- `qam weekly` while `qam submit` stores new rows of its week: both succeed, and the weekly run's
  folder is byte for byte the one a run before or a run after the submission writes (the submission
  is wholly in or wholly out of what it read), and so is the input hash its manifest records;
- two `qam rulesets publish` of the same ruleset: of two different contents at one version, one is
  published and the other is refused with an `Error:`; of the same content, it is published once.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from engine import api
from engine.inputs.submission_files import write_submission_csv
from engine.runs import weekly as weekly_run
from engine.store.db import open_database
from tests.faults.conftest import Lab
from tests.faults.figures import record_case
from tests.faults.runner import Call, Ran
from tests.faults.states import folder_files, run_id_in
from tests.faults.world import MONDAYS, WEEK, World, build_world, week_rows
from tests.store.test_assessments import IDS, SUBMISSIONS, Outcome, serial_orders, stored_history

pytestmark = [pytest.mark.faults, pytest.mark.postgres]
on_postgres = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

SUBMIT_ROUNDS = 3
WEEKLY_RACES = 4
PUBLISH_RACES = (("different", 1), ("different", 2), ("same", 3), ("same", 4))
_TOTALS = re.compile(r"(\d+) stored, (\d+) unchanged \(already stored, nothing to do\), (\d+) amended\.")


@pytest.fixture
def pg_world(database_url: str, tmp_path: Path) -> World:
    """The world (world.py) in a PostgreSQL schema of its own, without previous runs."""
    return build_world(tmp_path / "pg", database_url, previous_runs=False)


def _clean(ran: Ran, *codes: int) -> list[str]:
    """The problems with how a command ended: an exit code not in ``codes``, a traceback, or a
    failure without an `Error:` line."""
    problems = []
    if ran.returncode not in codes:
        problems.append(f"exit {ran.returncode} (expected {codes}): {ran.stderr[-400:]}")
    if "Traceback" in ran.stderr:
        problems.append(f"a traceback: {ran.stderr[-400:]}")
    if ran.returncode != 0 and not ran.stderr.startswith("Error: "):
        problems.append(f"failed without an Error: line: {ran.stderr[:200]!r}")
    return problems


@on_postgres
def test_eight_concurrent_submit_processes_behave_as_if_one_after_the_other(
    lab: Lab, pg_world: World, tmp_path: Path
) -> None:
    files = {s.name: s.write(tmp_path) for s in SUBMISSIONS}
    variant_of = {str(files[s.name]): s.variant for s in SUBMISSIONS}
    calls = [
        Call(pg_world, ("submit", str(files[s.name]), *(["--amend"] if s.amend else []))) for s in SUBMISSIONS
    ]
    for round_ in range(SUBMIT_ROUNDS):
        before = stored_history(pg_world.settings, IDS)
        ran = lab.zygote.together(calls)
        problems: list[str] = []
        seen: dict[str, Outcome] = {}
        for sub, r in zip(SUBMISSIONS, ran, strict=True):
            problems += [f"{sub.name}: {p}" for p in _clean(r, 0, 3)]
            if r.returncode == 3 and "is already stored" in r.stderr and "--amend" in r.stderr:
                seen[sub.name] = "conflict"
            elif r.returncode == 0 and (totals := _TOTALS.search(r.stdout)):
                seen[sub.name] = (int(totals[1]), int(totals[2]), int(totals[3]))
            else:
                problems.append(
                    f"{sub.name}: neither stored nor a conflict: {r.stdout[-200:]} {r.stderr[-200:]}"
                )
        after = stored_history(pg_world.settings, IDS)
        lost = sum(max(0, len(revs) - len(after.get(aid, []))) for aid, revs in before.items())
        if any(after.get(aid, [])[: len(revs)] != revs for aid, revs in before.items()):
            problems.append("revisions stored before this round were lost or reordered")
        added = {aid: revs[len(before.get(aid, [])) :] for aid, revs in after.items()}
        added = {aid: revs for aid, revs in added.items() if revs}
        start = {int(aid[3:]): variant_of[revs[-1]] for aid, revs in before.items()}
        if not problems and not serial_orders(start, SUBMISSIONS, files, seen, added):
            problems.append(f"no order of the eight one after the other reports {seen} and stores {added}")
        outcome = ", ".join(f"{k}: {v}" for k, v in seen.items())
        case = f"round {round_ + 1}: 8 submitters, {sum(v == 'conflict' for v in seen.values())} conflicts"
        record_case("concurrency", "8 concurrent qam submit (PostgreSQL)", case, problems, lost, outcome)
        assert not problems, "\n".join(problems)


@on_postgres
def test_a_weekly_run_during_a_submission_reads_it_wholly_or_not_at_all(lab: Lab, pg_world: World) -> None:
    """Each race submits new rows of the week while the weekly run goes, the submission starting at
    a seeded point from half a run before it to its end; runs before and after (folders a and c)
    are the references."""

    def weekly(folder: str) -> tuple[str, ...]:
        return ("weekly", "--week", WEEK, "--out", folder)

    first = lab.zygote.run(pg_world, *weekly("out/race-0-a"))
    assert first.returncode == 0, first.stderr
    for race in range(WEEKLY_RACES):
        late = write_submission_csv(
            pg_world.root / f"late-{race}.csv", week_rows(MONDAYS[-1], 12, f"R{race}")
        )
        # the submission starts up to half a run before the weekly run, or at any point of it
        offset = random.Random(f"weekly-race:{race}").uniform(-first.elapsed / 2, first.elapsed)
        if race:
            shutil.copytree(pg_world.out / f"race-{race - 1}-c", pg_world.out / f"race-{race}-a")
        ran = lab.zygote.together(
            [
                Call(pg_world, weekly(f"out/race-{race}-b"), delay=max(0.0, -offset)),
                Call(pg_world, ("submit", late.name), delay=max(0.0, offset)),
            ]
        )
        problems = _clean(ran[0], 0) + _clean(ran[1], 0)
        after = lab.zygote.run(pg_world, *weekly(f"out/race-{race}-c"))
        problems += _clean(after, 0)
        a, b, c = (pg_world.out / f"race-{race}-{x}" / WEEK for x in "abc")
        files = folder_files(b)
        outcome = "out" if files == folder_files(a) else "in" if files == folder_files(c) else "neither"
        if outcome == "neither":
            problems.append(
                f"the run's folder is neither the one before the submission nor the one after: {files}"
            )
        elif not _recorded_as_written(pg_world, run_id_in(b), b):
            problems.append(f"run {run_id_in(b)}'s manifest does not record the files it wrote")
        case = f"race {race + 1}: submit starting {offset:+.3f} s from the start of a {first.elapsed:.3f} s weekly run"
        record_case("concurrency", "qam weekly during qam submit (PostgreSQL)", case, problems, 0, outcome)
        assert not problems, "\n".join(problems)


@on_postgres
def test_a_submission_committed_between_a_weekly_runs_scoring_and_its_reading_is_out(
    pg_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interleaving the races above may miss: the weekly run (in this process) is held after it
    has scored and before it reads, while late.csv is submitted. Its rows have no scores under the
    run: the run must leave them out as a whole, exactly as a run before the submission."""
    settings = pg_world.settings
    before = api.weekly(settings, WEEK, out=pg_world.out / "a")
    real = weekly_run.gather

    def gather_after_a_submission(*args: Any, **kwargs: Any) -> Any:
        api.submit(settings, [pg_world.root / "late.csv"])
        return real(*args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(weekly_run, "gather", gather_after_a_submission)
        during = api.weekly(settings, WEEK, out=pg_world.out / "b")
    after = api.weekly(settings, WEEK, out=pg_world.out / "c")
    files = [folder_files(pg_world.out / x / WEEK) for x in "abc"]
    problems = []
    if files[1] != files[0] or during.run_id != before.run_id:
        problems.append(
            f"not the run before the submission: {during.run_id}, {during.cases_reviewed} reviewed"
        )
    if after.cases_reviewed != before.cases_reviewed + 30:
        problems.append(f"the run after the submission reviewed {after.cases_reviewed}")
    case = "late.csv committed after the run scored, before it read"
    record_case("concurrency", "qam weekly during qam submit (PostgreSQL)", case, problems, 0, "out")
    assert not problems, "\n".join(problems)


def _recorded_as_written(world: World, run_id: str, folder: Path) -> bool:
    """Whether run ``run_id``'s recorded manifest lists exactly ``folder``'s files and hashes."""
    from engine.store import runs

    database = open_database(world.url)
    try:
        with database.session() as session:
            found = runs.run(session, run_id)
            return found is not None and found.manifest["outputs"] == folder_files(folder)
    finally:
        database.close()


def _edited(world: World, name: str, version: str, text: str) -> Path:
    """A copy of the world's rulesets with stop-search-legitimacy at ``version``, SS01 worded ``text``."""
    folder = world.root / name
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(world.root / "rulesets", folder)
    path = folder / "priority4" / "stop-search-legitimacy.yaml"
    source = path.read_text(encoding="utf-8")
    # whatever version the bundled file is at (its patch version rises with its content)
    edited = re.sub(r"^version: \S+$", f"version: {version}", source, count=1, flags=re.MULTILINE).replace(
        "text: The grounds for the search were recorded", f"text: {text}", 1
    )
    assert edited.count(f"version: {version}") == 1 and edited.count(f"text: {text}") == 1
    path.write_text(edited, encoding="utf-8")
    return folder


def _versions(lab: Lab, world: World) -> list[str]:
    ran = lab.zygote.run(world, "rulesets", "history", "stop-search-legitimacy")
    assert ran.returncode == 0, ran.stderr
    return re.findall(r"^\s*\d+\s+(\d+\.\d+\.\d+)", ran.stdout, flags=re.MULTILINE)


@on_postgres
def test_two_publishers_at_once_one_wins_the_other_is_told(lab: Lab, pg_world: World) -> None:
    for kind, minor in PUBLISH_RACES:
        version = f"1.{minor}.0"
        texts = ("Grounds recorded (A)", "Grounds recorded (B)") if kind == "different" else ("Same", "Same")
        folders = [_edited(pg_world, f"rulesets-{i}", version, t) for i, t in enumerate(texts)]
        before = _versions(lab, pg_world)
        ran = lab.zygote.together(
            [
                Call(pg_world, ("rulesets", "publish", "--author", f"p{i}"), env={"QAM_RULESETS": str(f)})
                for i, f in enumerate(folders)
            ]
        )
        problems = [p for r in ran for p in _clean(r, 0, 3, 4)]
        published = [r for r in ran if r.returncode == 0 and "Published 1 ruleset version" in r.stdout]
        if len(published) != 1:
            problems.append(f"{len(published)} publishers published: {[r.stdout[-200:] for r in ran]}")
        if kind == "same" and any(r.returncode != 0 for r in ran):
            problems.append("publishing what the other had just published failed")
        refused = [r.stderr.strip() for r in ran if r.returncode != 0]
        new = _versions(lab, pg_world)[len(before) :]
        if new != [version]:
            problems.append(f"versions added: {new}, not [{version}]")
        if published:  # the registry's hashes and chain, and the winner's folder, as published
            winner = {"QAM_RULESETS": str(folders[ran.index(published[0])])}
            verify = lab.zygote.run(pg_world, "rulesets", "verify", env=winner)
            if verify.returncode != 0:
                problems.append(
                    f"the registry does not verify: {verify.stdout[-300:]} {verify.stderr[-300:]}"
                )
        case = f"{kind} content at {version}"
        outcome = "; ".join(refused) or "both succeeded"
        record_case(
            "concurrency", "two concurrent qam rulesets publish (PostgreSQL)", case, problems, 0, outcome
        )
        assert not problems, "\n".join(problems)
