"""render_briefings: a period's place briefings and force.pdf rendered in one process or several
give the same files, names and order; a failed, killed or interrupted child changes nothing the
user sees and leaves no process behind.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import engine.reports.briefing as briefing
from engine.core import parallel
from engine.core.errors import ReportError
from engine.reports.briefing import place_pdf
from engine.reports.briefing_data import PlaceBriefing
from engine.reports.force_brief import force_pdf
from engine.reports.force_data import ForceSummary
from engine.reports.render_pool import render_briefings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_briefing import build  # noqa: E402


@pytest.fixture(scope="module")
def period() -> tuple[list[PlaceBriefing], ForceSummary]:
    return build()


@pytest.fixture(scope="module")
def serial(period: tuple[list[PlaceBriefing], ForceSummary]) -> dict[str, bytes]:
    briefings, summary = period
    pdfs = {f"{b.place.code}.pdf": place_pdf(b).data for b in briefings}
    pdfs["force.pdf"] = force_pdf(summary).data
    return pdfs


@pytest.fixture
def few(period: tuple[list[PlaceBriefing], ForceSummary]) -> tuple[list[PlaceBriefing], ForceSummary]:
    """Four places (a big one among them): enough for two processes, quick to render."""
    briefings, summary = period
    return [b for b in briefings if b.place.code in ("RDG", "HRB", "ASH", "STN")], summary


@pytest.fixture(autouse=True)
def no_children_left() -> Iterator[None]:
    yield
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("workers", [2, 3, None])
def test_same_files_names_and_order_whatever_the_workers(
    period: tuple[list[PlaceBriefing], ForceSummary], serial: dict[str, bytes], workers: int | None
) -> None:
    briefings, summary = period
    pdfs = render_briefings(briefings, summary, workers=workers)
    assert list(pdfs) == [f"{b.place.code}.pdf" for b in briefings] + ["force.pdf"]
    assert pdfs == serial


def test_order_follows_the_briefings_given_not_their_size(
    few: tuple[list[PlaceBriefing], ForceSummary], serial: dict[str, bytes]
) -> None:
    briefings, summary = few
    smallest_first = sorted(briefings, key=lambda b: sum(len(e.details) for e in b.exceptions))
    pdfs = render_briefings(smallest_first, summary, workers=2)
    assert list(pdfs) == [f"{b.place.code}.pdf" for b in smallest_first] + ["force.pdf"]
    assert all(pdfs[name] == serial[name] for name in pdfs)


def test_no_exceptions_anywhere_gives_force_pdf_alone(
    period: tuple[list[PlaceBriefing], ForceSummary], serial: dict[str, bytes]
) -> None:
    _, summary = period
    assert render_briefings([], summary, workers=2) == {"force.pdf": serial["force.pdf"]}


def test_only_a_period_with_enough_work_is_shared_out(
    few: tuple[list[PlaceBriefing], ForceSummary], serial: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    briefings, summary = few
    smallest = min(briefings, key=lambda b: sum(len(e.details) for e in b.exceptions))
    forks: list[str] = []
    real = multiprocessing.get_context

    def spy(method: str | None = None) -> object:
        forks.append(str(method))
        return real(method)

    monkeypatch.setattr(parallel.multiprocessing, "get_context", spy)
    pdfs = render_briefings([smallest], summary)
    assert forks == []
    assert pdfs == {name: serial[name] for name in pdfs}
    render_briefings(briefings, summary)
    assert forks == (["fork"] if parallel.cores() > 1 else [])


def test_without_fork_everything_is_rendered_in_this_process(
    few: tuple[list[PlaceBriefing], ForceSummary], serial: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fork(method: str | None = None) -> object:
        raise ValueError(f"cannot find context for {method!r}")

    monkeypatch.setattr(parallel.multiprocessing, "get_context", no_fork)
    briefings, summary = few
    pdfs = render_briefings(briefings, summary, workers=2)
    assert pdfs == {name: serial[name] for name in pdfs}


def test_a_failing_briefing_raises_its_own_error_as_in_a_serial_run(
    few: tuple[list[PlaceBriefing], ForceSummary], monkeypatch: pytest.MonkeyPatch
) -> None:
    briefings, summary = few
    real = briefing.place_pdf

    def broken(b: PlaceBriefing) -> briefing.RenderedPdf:
        if b.place.code == "STN":  # a small one: a child is likely to take it
            raise ReportError("cannot lay out Stonebridge")
        return real(b)

    monkeypatch.setattr(briefing, "place_pdf", broken)
    with pytest.raises(ReportError, match="cannot lay out Stonebridge"):
        render_briefings(briefings, summary, workers=3)


def test_a_child_that_dies_is_made_up_for_here(
    few: tuple[list[PlaceBriefing], ForceSummary], serial: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    parent, real = os.getpid(), briefing.place_pdf

    def killed_in_a_child(b: PlaceBriefing) -> briefing.RenderedPdf:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
        return real(b)

    monkeypatch.setattr(briefing, "place_pdf", killed_in_a_child)
    briefings, summary = few
    pdfs = render_briefings(briefings, summary, workers=2)
    assert pdfs == {name: serial[name] for name in pdfs}


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """Ctrl-C raising KeyboardInterrupt, as in a terminal's foreground: a suite started in the
    background (`pytest &` in a script) inherits it ignored, and would wait for the busy child."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("ctrl_c_raises")
def test_ctrl_c_stops_the_children_quietly(
    few: tuple[list[PlaceBriefing], ForceSummary],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    parent, real = os.getpid(), briefing.place_pdf

    def busy_child_then_ctrl_c(b: PlaceBriefing) -> briefing.RenderedPdf:
        if os.getpid() != parent:
            (tmp_path / str(os.getpid())).touch()
            # busy until stopped: if the parent waited for it, the test would fail after a minute
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                time.sleep(1)
        else:
            while not any(tmp_path.iterdir()):
                time.sleep(0.01)
            # Ctrl-C in a terminal signals every process in the foreground group
            for child in multiprocessing.active_children():
                os.kill(child.pid or 0, signal.SIGINT)
            time.sleep(0.5)  # time for a child that did not ignore it to print its traceback
            os.kill(parent, signal.SIGINT)
        return real(b)

    monkeypatch.setattr(briefing, "place_pdf", busy_child_then_ctrl_c)
    briefings, summary = few
    with pytest.raises(KeyboardInterrupt):
        render_briefings(briefings, summary, workers=2)
    (child_pid,) = (int(p.name) for p in tmp_path.iterdir())
    with pytest.raises(ProcessLookupError):
        os.kill(child_pid, 0)
    assert "Traceback" not in capfd.readouterr().err  # one KeyboardInterrupt, the caller's
