"""Concurrent `qam submit`s of overlapping files (engine.store.assessments): each behaves exactly as
if they had run one after the other, on SQLite and PostgreSQL: "unchanged" only when the content is
what is current when it commits, the usual conflict error (file, row, assessment_id), or with --amend
a new revision; never a traceback, nothing lost, nothing stored twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine import api
from engine.core.config import Settings
from engine.core.errors import SubmissionError
from engine.demo.factories import build_row
from engine.inputs.submission_files import write_submission_csv
from engine.store import assessments
from engine.store.db import open_database

#: the content variants a file's rows may have (answers overridden), by name
VARIANTS: dict[str, dict[str, str]] = {
    "base": {},
    "bwv": {"bwv_activated": "no"},
    "receipt": {"receipt_offered": "no"},
}


def ss(i: int, variant: str = "base") -> dict[str, str]:
    values = {
        "assessment_id": f"QA-{i:03d}",
        "case_ref": f"SS-{i:03d}",
        "place": "BLK",
        "assessed_on": "2026-11-17",
        "case_date": "2026-11-02",
        "team": "Response A",
        "officer": "PC 1000",
        "reviewer": "QA Reviewer 1",
    }
    return build_row("stop_search", **values, **VARIANTS[variant])


@pytest.fixture
def ready(settings: Settings) -> Settings:
    api.init_database(settings)
    return settings


@dataclass(frozen=True)
class Submission:
    """One worker's file: these ids, all in one content variant, with or without --amend."""

    name: str
    ids: tuple[int, ...]
    variant: str
    amend: bool

    def write(self, folder: Path) -> Path:
        return write_submission_csv(folder / f"{self.name}.csv", [ss(i, self.variant) for i in self.ids])


#: what a submission reported: its totals (stored, unchanged, amended), or "conflict"
Outcome = tuple[int, int, int] | str


def replay(
    start: dict[int, str], order: tuple[Submission, ...], files: dict[str, Path]
) -> tuple[dict[str, Outcome], dict[str, list[str]]]:
    """What these submissions report and add (each id's new revisions, as source files) when run
    one after the other in this order over ``start`` (each stored id's current variant)."""
    current = dict(start)
    added: dict[str, list[str]] = {}
    outcomes: dict[str, Outcome] = {}
    for sub in order:
        totals = [0, 0, 0]
        if any(i in current and current[i] != sub.variant and not sub.amend for i in sub.ids):
            outcomes[sub.name] = "conflict"
            continue
        for i in sub.ids:
            if current.get(i) == sub.variant:
                totals[1] += 1
                continue
            totals[2 if i in current else 0] += 1
            current[i] = sub.variant
            added.setdefault(f"QA-{i:03d}", []).append(str(files[sub.name]))
        outcomes[sub.name] = (totals[0], totals[1], totals[2])
    return outcomes, added


def serial_orders(
    start: dict[int, str],
    subs: tuple[Submission, ...],
    files: dict[str, Path],
    seen: dict[str, Outcome],
    added: dict[str, list[str]],
) -> list[tuple[str, ...]]:
    """Every order of ``subs`` that, run one after the other over ``start``, reports ``seen`` and
    adds ``added`` (depth first, cut short as soon as a submission would report otherwise)."""
    found: list[tuple[str, ...]] = []

    def extend(prefix: tuple[Submission, ...]) -> None:
        if len(prefix) == len(subs):
            if replay(start, prefix, files)[1] == added:
                found.append(tuple(s.name for s in prefix))
            return
        for sub in subs:
            if sub not in prefix and replay(start, (*prefix, sub), files)[0][sub.name] == seen[sub.name]:
                extend((*prefix, sub))

    extend(())
    return found


def run_together(jobs: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run each job in its own thread, started together; the value or exception of each."""
    barrier = threading.Barrier(len(jobs))
    results: dict[str, Any] = {}

    def work(name: str, job: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[name] = job()
        except Exception as exc:  # every exception is kept and checked by the caller
            results[name] = exc

    threads = [threading.Thread(target=work, args=item, name=item[0]) for item in jobs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return results


def stored_history(settings: Settings, ids: range) -> dict[str, list[str]]:
    """Each stored id's revisions (their source files, revision order); exactly one is current."""
    history: dict[str, list[str]] = {}
    database = open_database(settings.database_url)
    try:
        with database.session() as session:
            for i in ids:
                revisions = assessments.assessment_revisions(session, f"QA-{i:03d}")
                if not revisions:
                    continue
                assert [r.revision for r in revisions] == list(range(1, len(revisions) + 1))
                assert [r.is_current for r in revisions] == [False] * (len(revisions) - 1) + [True]
                history[f"QA-{i:03d}"] = [r.source_file for r in revisions]
    finally:
        database.close()
    return history


SUBMISSIONS = (
    Submission("all_a", tuple(range(1, 13)), "base", amend=False),
    Submission("all_b", tuple(range(1, 13)), "base", amend=False),
    Submission("first_half", tuple(range(1, 7)), "base", amend=False),
    Submission("second_half_bwv", tuple(range(7, 13)), "bwv", amend=False),
    Submission("amend_bwv_a", tuple(range(1, 13)), "bwv", amend=True),
    Submission("amend_bwv_b", tuple(range(1, 13)), "bwv", amend=True),
    Submission("amend_receipt", tuple(range(4, 10)), "receipt", amend=True),
    Submission("amend_base", tuple(range(1, 13)), "base", amend=True),
)
IDS = range(1, 13)


def test_eight_concurrent_overlapping_submits_behave_as_if_one_after_the_other(
    ready: Settings, tmp_path: Path
) -> None:
    """Three rounds of the same eight files at once: the first on an empty database, the others over
    what the rounds before stored."""
    files = {sub.name: sub.write(tmp_path) for sub in SUBMISSIONS}
    variant_of = {str(files[s.name]): s.variant for s in SUBMISSIONS}
    for _ in range(3):
        before = stored_history(ready, IDS)
        results = run_together(
            {s.name: (lambda s=s: api.submit(ready, [files[s.name]], amend=s.amend)) for s in SUBMISSIONS}
        )
        seen: dict[str, Outcome] = {}
        for sub in SUBMISSIONS:
            result = results[sub.name]
            if isinstance(result, SubmissionError):
                text = str(result)
                assert f"{files[sub.name]}:" in text and ":assessment_id: assessment QA-" in text, text
                assert "is already stored" in text and "--amend" in text, text
                seen[sub.name] = "conflict"
                continue
            assert not isinstance(result, BaseException), f"{sub.name}: {result!r}"
            assert sum(result.summary.totals) == len(sub.ids) == result.rows
            seen[sub.name] = tuple(result.summary.totals)
        after = stored_history(ready, IDS)
        # nothing stored before is lost or reordered: this round only added revisions
        assert all(after[aid][: len(revs)] == revs for aid, revs in before.items())
        added = {aid: revs[len(before.get(aid, [])) :] for aid, revs in after.items()}
        added = {aid: revs for aid, revs in added.items() if revs}
        start = {int(aid[3:]): variant_of[revs[-1]] for aid, revs in before.items()}
        assert serial_orders(start, SUBMISSIONS, files, seen, added), (
            f"no order of the submissions one after the other reports {seen} and stores {added}"
        )
        # each linked its revisions after the head the one before it stored, and recorded its own
        chain = api.verify_assessments(ready)
        assert chain.ok, [str(p) for p in chain.problems]


def race(
    ready: Settings, monkeypatch: pytest.MonkeyPatch, first: tuple[Path, bool], second: tuple[Path, bool]
) -> dict[str, Any]:
    """Submit ``first`` and stop it between reading what is stored and writing; submit ``second``
    meanwhile (it may read and write while the first waits, as before the fix), then let the first
    go on. Each file with its --amend flag; the value or exception of each, by "first" and "second"."""
    real = assessments.current_revisions
    first_read, first_go, second_read = threading.Event(), threading.Event(), threading.Event()

    def paused(session: Any, ids: Any) -> Any:
        found = real(session, ids)
        if threading.current_thread().name == "first":
            first_read.set()
            first_go.wait(timeout=60)
        else:
            second_read.set()
        return found

    monkeypatch.setattr(assessments, "current_revisions", paused)
    results: dict[str, Any] = {}

    def work(name: str, path: Path, amend: bool) -> None:
        try:
            results[name] = api.submit(ready, [path], amend=amend)
        except Exception as exc:  # kept and checked by the test
            results[name] = exc

    a = threading.Thread(target=work, args=("first", *first), name="first")
    a.start()
    assert first_read.wait(timeout=60)
    b = threading.Thread(target=work, args=("second", *second), name="second")
    b.start()
    # the second gets this far only if nothing holds it back until the first has finished
    second_read.wait(timeout=1)
    first_go.set()
    a.join(timeout=120)
    b.join(timeout=120)
    return results


@pytest.mark.parametrize(
    ("variant", "amend", "expected"),
    [("base", False, (0, 1, 0)), ("bwv", True, (0, 0, 1)), ("bwv", False, "conflict")],
)
def test_a_submit_racing_another_for_a_new_id_sees_what_the_other_stored(
    ready: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    variant: str,
    amend: bool,
    expected: Outcome,
) -> None:
    """Before the fix both found QA-001 new and one crashed with an IntegrityError traceback."""
    first = write_submission_csv(tmp_path / "first.csv", [ss(1)])
    second = write_submission_csv(tmp_path / "second.csv", [ss(1, variant)])
    results = race(ready, monkeypatch, (first, False), (second, amend))
    assert results["first"].summary.totals == (1, 0, 0)
    if expected == "conflict":
        assert isinstance(results["second"], SubmissionError)
        assert f"{second}:2:assessment_id: assessment QA-001 is already stored (revision 1" in str(
            results["second"]
        )
    else:
        assert results["second"].summary.totals == expected
    monkeypatch.undo()
    history = stored_history(ready, IDS)
    assert history == {"QA-001": [str(first)] + ([str(second)] if amend else [])}


def test_a_losing_amend_is_amended_not_unchanged_when_the_winner_superseded_its_content(
    ready: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA-001 stored as base; one --amend changes it while another --amend submits base again: the
    second, finishing last, stores base as revision 3 (before the fix it said "unchanged", having
    read revision 1, and revision 2 stayed current)."""
    original = write_submission_csv(tmp_path / "original.csv", [ss(1)])
    api.submit(ready, [original])
    first = write_submission_csv(tmp_path / "first.csv", [ss(1, "bwv")])
    second = write_submission_csv(tmp_path / "second.csv", [ss(1)])
    results = race(ready, monkeypatch, (first, True), (second, True))
    assert results["first"].summary.totals == (0, 0, 1)
    assert results["second"].summary.totals == (0, 0, 1)
    monkeypatch.undo()
    assert stored_history(ready, IDS) == {"QA-001": [str(original), str(first), str(second)]}
    assert api.verify_assessments(ready).ok
