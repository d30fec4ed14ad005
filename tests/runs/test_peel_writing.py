"""engine.runs.peel's writing phase: what a rerun still holds when it writes its folder, and which
process writes what (the folder is the same either way: test_peel)."""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

import pytest

from engine import api
from engine.core import parallel
from engine.core.config import Settings
from engine.runs import peel
from tests.runs.test_peel import AFTER, END, START, _files, peel_db  # noqa: F401 (a fixture)


@pytest.mark.parametrize("workers", [1, 2])
def test_the_framed_rows_are_let_go_before_the_files_are_written(
    workers: int,
    peel_db: Settings,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A year's framed rows and day summaries are 320 MB the writing does not need: a rerun lets them
    go before it writes (and forks the report's worker, which would otherwise share them)."""
    monkeypatch.setattr(parallel, "PEEL_ANALYSIS_PARALLEL_FROM", 1)
    monkeypatch.setattr(parallel, "PEEL_TABLES_PARALLEL_FROM", 1)
    frames: list[weakref.ref[Any]] = []
    prepare, build = peel.prepare, peel._build

    def framed(*args: Any, **kwargs: Any) -> Any:
        prepared = prepare(*args, **kwargs)
        frames.append(weakref.ref(prepared.outcomes.frame))
        return prepared

    alive: list[bool] = []

    def writing(*args: Any, **kwargs: Any) -> None:
        alive.extend(frame() is not None for frame in frames)
        build(*args, **kwargs)

    monkeypatch.setattr(peel, "prepare", framed)
    monkeypatch.setattr(peel, "_build", writing)
    result = api.peel(peel_db, START, END, as_of=AFTER, out=tmp_path, workers=workers)
    assert alive == [False]
    assert {"peel.pdf", "aggregates.csv", "exceptions.json"} <= set(_files(result.run.folder))
