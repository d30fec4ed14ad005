"""A run's folder written at once (engine/runs/manifest.py write_outputs): what a rerun replaced, and
the replaced run's exceptions.json kept in previous/ without an identical rerun adding anything; an
interrupted swap puts the old folder back, and what a killed run left is put back or removed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.core.errors import ReportError
from engine.runs.manifest import Replaced, folder_before, restore_outputs, write_outputs

OLD, NEW, NEWER = "0d3178ca7d60deff", "e8f7505e36915c94", "1111222233334444"


def run_files(run_id: str | None, pdf: bytes = b"%PDF briefing") -> Callable[[Path], None]:
    """A build writing a run's exceptions.json (with ``run_id``) and one briefing."""

    def build(folder: Path) -> None:
        doc: dict[str, object] = {"exceptions": []}
        if run_id is not None:
            doc["run_id"] = run_id
        (folder / "exceptions.json").write_text(json.dumps(doc) + "\n", encoding="utf-8")
        (folder / "HRB.pdf").write_bytes(pdf)

    return build


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def rerun(target: Path, run_id: str | None, pdf: bytes = b"%PDF briefing") -> Replaced | None:
    """Write the folder as the run ``run_id`` would, and say what it replaced (as runs do)."""
    before = folder_before(target)
    hashes = write_outputs(target, run_files(run_id, pdf))
    return before.replaced_by(run_id or "", hashes) if before else None


def test_a_first_run_replaces_nothing_and_keeps_nothing(tmp_path: Path) -> None:
    target = tmp_path / "2026-W47"
    assert rerun(target, OLD) is None
    assert sorted(tree(target)) == ["HRB.pdf", "exceptions.json"]


def test_an_identical_rerun_is_unchanged_byte_for_byte_and_keeps_no_copy(tmp_path: Path) -> None:
    target = tmp_path / "2026-W47"
    rerun(target, OLD)
    first = tree(target)
    assert rerun(target, OLD) == Replaced(run_id=OLD, unchanged=True, kept=None)
    assert tree(target) == first


def test_another_runs_folder_is_replaced_and_its_exceptions_kept_in_previous(tmp_path: Path) -> None:
    target = tmp_path / "2026-W47"
    rerun(target, OLD, b"old briefing")
    old_exceptions = (target / "exceptions.json").read_bytes()
    replaced = rerun(target, NEW, b"new briefing")
    assert replaced == Replaced(run_id=OLD, unchanged=False, kept=f"previous/exceptions-{OLD}.json")
    files = tree(target)
    assert sorted(files) == ["HRB.pdf", "exceptions.json", f"previous/exceptions-{OLD}.json"]
    assert files[f"previous/exceptions-{OLD}.json"] == old_exceptions
    assert files["HRB.pdf"] == b"new briefing"
    # an identical rerun of the new run carries previous/ over as it was, adding nothing
    assert rerun(target, NEW, b"new briefing") == Replaced(run_id=NEW, unchanged=True, kept=None)
    assert tree(target) == files
    # a third run keeps both; and going back to OLD drops OLD's copy (it is the folder's own again)
    rerun(target, NEWER)
    assert set(tree(target)) == {
        "HRB.pdf",
        "exceptions.json",
        f"previous/exceptions-{OLD}.json",
        f"previous/exceptions-{NEW}.json",
    }
    rerun(target, OLD, b"old briefing")
    assert set(tree(target)) == {
        "HRB.pdf",
        "exceptions.json",
        f"previous/exceptions-{NEW}.json",
        f"previous/exceptions-{NEWER}.json",
    }


def test_the_run_files_hashes_leave_out_previous(tmp_path: Path) -> None:
    target = tmp_path / "2026-W47"
    rerun(target, OLD)
    hashes = write_outputs(target, run_files(NEW))
    assert sorted(hashes) == ["HRB.pdf", "exceptions.json"]
    assert (target / "previous").is_dir()


def test_the_same_run_id_with_different_files_is_not_unchanged(tmp_path: Path) -> None:
    target = tmp_path / "2026-W47"
    rerun(target, OLD, b"made by an earlier engine")
    assert rerun(target, OLD, b"made by this one") == Replaced(run_id=OLD, unchanged=False, kept=None)
    assert not (target / "previous").exists()


@pytest.mark.parametrize(
    "exceptions_json",
    [None, '{"exceptions": []}\n', "not json", '["a list"]', '{"run_id": "../../escape"}'],
    ids=["no file", "no run id", "not json", "not an object", "not a run id"],
)
def test_a_folder_naming_no_run_is_replaced_without_a_copy(
    tmp_path: Path, exceptions_json: str | None
) -> None:
    target = tmp_path / "2026-W47"
    target.mkdir()
    (target / "notes.txt").write_text("left by hand")
    if exceptions_json is not None:
        (target / "exceptions.json").write_text(exceptions_json)
    assert rerun(target, NEW) == Replaced(run_id=None, unchanged=False, kept=None)
    assert sorted(tree(target)) == ["HRB.pdf", "exceptions.json"]
    assert not (tmp_path / "escape").exists()


def test_a_failed_build_leaves_the_previous_folder_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "2026-W47"
    rerun(target, OLD)
    rerun(target, NEW)
    before = tree(target)

    def failing(folder: Path) -> None:
        run_files(NEWER)(folder)
        raise OSError(28, "No space left on device")

    with pytest.raises(ReportError, match="No space left on device"):
        write_outputs(target, failing)
    assert tree(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-W47"]


def test_an_interrupt_between_the_two_renames_puts_the_old_folder_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "2026-W47"
    rerun(target, OLD)
    before = tree(target)
    rename = Path.rename

    def interrupted(self: Path, to: Path) -> Path:
        if ".tmp-" in self.name:  # the old folder is already hidden when Ctrl-C or SIGTERM comes
            raise KeyboardInterrupt
        return rename(self, to)

    monkeypatch.setattr(Path, "rename", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_outputs(target, run_files(NEW))
    assert tree(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-W47"]


def dead_pid() -> int:
    """The pid of a process that has ended."""
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def killed_between_the_renames(target: Path, pid: int) -> None:
    """The state a run ``pid`` killed (kill -9) between its two renames leaves: the old folder hidden,
    the new one still temporary, no ``target``."""
    rerun(target, OLD, b"old briefing")
    target.rename(target.parent / f".{target.name}.old-{pid}")
    tmp = target.parent / f".{target.name}.tmp-{pid}"
    tmp.mkdir()
    run_files(NEW)(tmp)


def test_the_folder_a_killed_run_hid_is_back_for_the_next_run(tmp_path: Path) -> None:
    target = tmp_path / "2026-W47"
    killed_between_the_renames(target, dead_pid())
    before = folder_before(target)  # the next run sees the folder, and says what it replaces
    assert before is not None and before.run_id == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-W47"]
    assert tree(target)["HRB.pdf"] == b"old briefing"
    write_outputs(target, run_files(NEW))
    assert sorted(tree(target)) == ["HRB.pdf", "exceptions.json", f"previous/exceptions-{OLD}.json"]


def test_writing_puts_back_and_clears_what_a_killed_run_left(tmp_path: Path) -> None:
    target = tmp_path / "2026-W47"
    killed_between_the_renames(target, dead_pid())
    write_outputs(target, run_files(NEWER))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-W47"]
    assert f"previous/exceptions-{OLD}.json" in tree(target)  # the hidden folder was replaced, as usual


def test_stale_temporary_and_old_folders_of_dead_runs_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "2026-W47"
    rerun(target, OLD)
    before = tree(target)
    dead = dead_pid()
    for name in [f".2026-W47.tmp-{dead}", f".2026-W47.old-{dead}", f".2026-W48.tmp-{dead}", "2026-W46"]:
        (tmp_path / name).mkdir()
    restore_outputs(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".2026-W48.tmp-{dead}", "2026-W46", "2026-W47"]
    assert tree(target) == before


def test_a_running_runs_folders_are_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "2026-W47"
    killed_between_the_renames(target, os.getppid())  # alive: mid-swap, as far as we can tell
    assert folder_before(target) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f".2026-W47.old-{os.getppid()}",
        f".2026-W47.tmp-{os.getppid()}",
    ]
