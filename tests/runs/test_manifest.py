"""A run's folder written at once (engine/runs/manifest.py write_outputs): what a rerun replaced, and
the replaced run's exceptions.json kept in previous/ without an identical rerun adding anything."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.core.errors import ReportError
from engine.runs.manifest import Replaced, folder_before, write_outputs

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
