"""The fault tests' shared, per-process set-up: the world (world.py) built once, the warm runner
(runner.py) started once, and each command's uninterrupted reference run, made when first needed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest

from tests.faults.runner import Zygote
from tests.faults.states import State, db_state, folder_files
from tests.faults.world import PEEL_FOLDER, PEEL_FROM, PEEL_TO, WEEK, World, build_world

#: each command the kill -9 tests stop: its arguments and the folder it writes (none for submit)
COMMANDS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "submit": (("submit", "late.csv"), None),
    "weekly": (("weekly", "--week", WEEK, "--out", "out"), WEEK),
    "peel": (("peel", "--from", PEEL_FROM, "--to", PEEL_TO, "--out", "out"), PEEL_FOLDER),
}


@dataclass(frozen=True)
class Reference:
    """A command's uninterrupted run: the world it starts from and the world it left, how long it
    took, the database before and after, and its folder's files before (the previous run's) and
    after (None: the command writes no folder)."""

    command: str
    args: tuple[str, ...]
    start: World
    done: World
    elapsed: float
    before: State
    after: State
    folder: str | None
    files_before: dict[str, str] | None
    files_after: dict[str, str] | None


class Lab:
    """The world, the runner and the reference runs, for one test process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.zygote = Zygote()
        self.references: dict[str, Reference] = {}

    @cached_property
    def pre(self) -> World:
        """The world as built (world.py), before late.csv is submitted."""
        return build_world(self.root / "pre")

    def reference(self, command: str) -> Reference:
        """``command``'s reference run, made on first use: `qam submit` on the world as built,
        `qam weekly` and `qam peel` on the world the reference submit left."""
        if command not in self.references:
            start = self.pre if command == "submit" else self.reference("submit").done
            args, folder = COMMANDS[command]
            before = db_state(start.db)
            done = start.copy_to(self.root / f"after-{command}")
            ran = self.zygote.run(done, *args)
            assert ran.returncode == 0 and "Error" not in ran.stderr, ran.stderr
            # timed twice, the shorter kept (the first may wait on the other test process's set-up);
            # the second run, from the same start, must leave exactly what the first left
            again = start.copy_to(self.root / f"again-{command}")
            second = self.zygote.run(again, *args)
            assert second.returncode == 0 and db_state(again.db) == db_state(done.db), second.stderr
            assert folder is None or folder_files(again.out / folder) == folder_files(done.out / folder)
            self.references[command] = Reference(
                command=command,
                args=args,
                start=start,
                done=done,
                elapsed=min(ran.elapsed, second.elapsed),
                before=before,
                after=db_state(done.db),
                folder=folder,
                files_before=folder_files(start.out / folder) if folder else None,
                files_after=folder_files(done.out / folder) if folder else None,
            )
        return self.references[command]

    def close(self) -> None:
        self.zygote.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that use the lab run on one xdist worker (with --dist loadgroup), so that a
    parallel run builds the world and makes the reference runs once, not once a worker."""
    for item in items:
        if "lab" in getattr(item, "fixturenames", ()) and item.nodeid.startswith("tests/faults/"):
            item.add_marker(pytest.mark.xdist_group("faults_lab"))


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    built = Lab(tmp_path_factory.mktemp("faults"))
    yield built
    built.close()
