"""engine.core.parallel: forked workers give the serial results whatever fails in them, a background
job's result arrives or is redone here, and ordered background writes run one at a time in order;
a worker dies with its parent, even when that is killed with kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.core.parallel import Gate, InOrder, WorkerError, fork_map, in_background, in_background_each

PARENT = os.getpid()


def in_child() -> bool:
    return os.getpid() != PARENT


def test_fork_map_gives_the_serial_results_in_order() -> None:
    assert fork_map(lambda i: i * i, 50, workers=2) == [i * i for i in range(50)]
    assert fork_map(lambda i: i * i, 50, workers=1) == [i * i for i in range(50)]
    assert fork_map(lambda i: i, 0, workers=2) == []


def test_fork_map_really_uses_a_second_process() -> None:
    def pid(_i: int) -> int:
        time.sleep(0.02)  # long enough for the child to take jobs too
        return os.getpid()

    assert len(set(fork_map(pid, 20, workers=2))) == 2


def test_a_job_that_fails_in_a_child_is_redone_here() -> None:
    def work(i: int) -> int:
        time.sleep(0.01)
        if in_child():
            raise ValueError("only in the child")
        return i

    assert fork_map(work, 10, workers=2) == list(range(10))


def test_a_child_that_dies_has_its_jobs_redone_here() -> None:
    def work(i: int) -> int:
        time.sleep(0.01)
        if in_child():
            os._exit(3)
        return -i

    assert fork_map(work, 6, workers=2) == [-i for i in range(6)]


def test_an_error_everywhere_surfaces_as_in_a_serial_run() -> None:
    def work(i: int) -> int:
        raise KeyError(f"job {i}")

    with pytest.raises(KeyError):
        fork_map(work, 4, workers=2)


def test_redo_fresh_redoes_a_failed_job_once_in_a_new_process(tmp_path: Path) -> None:
    marker = tmp_path / "failed-once"

    def work(i: int) -> int:
        if i == 1 and not marker.exists():
            marker.write_text("x")
            raise RuntimeError("engine crashed")
        return i * 10

    assert fork_map(work, 2, workers=2, redo="fresh", redo_errors=(RuntimeError,)) == [0, 10]
    assert marker.exists()


def test_redo_fresh_gives_up_after_a_second_failure() -> None:
    def work(i: int) -> int:
        if i == 1:
            raise RuntimeError("engine crashed")
        return i

    with pytest.raises(WorkerError, match="RuntimeError: engine crashed"):
        fork_map(work, 2, workers=2, redo="fresh", redo_errors=(RuntimeError,))


def test_in_background_returns_the_childs_result() -> None:
    with in_background(lambda: (os.getpid(), sum(range(1000)))) as result:
        pid, total = result()
    assert total == 499500
    assert pid != PARENT


def test_in_background_runs_later_here_when_not_parallel() -> None:
    calls: list[int] = []
    with in_background(lambda: calls.append(os.getpid()) or 7, parallel=False) as result:
        assert calls == []
        assert result() == 7
    assert calls == [PARENT]


def test_in_background_says_whether_its_worker_is_still_at_the_job(tmp_path: Path) -> None:
    go = tmp_path / "go"

    def job() -> int:
        while not go.exists():
            time.sleep(0.01)
        return 3

    with in_background(job) as result:
        assert result.running()
        go.touch()
        deadline = time.monotonic() + 30
        while result.running() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not result.running()
        assert result() == 3
    with in_background(job, parallel=False) as here:
        assert not here.running()  # nothing runs meanwhile: the job runs when its result is asked for


def test_in_background_each_sends_each_result_as_soon_as_its_job_is_done() -> None:
    """The first job's result is there while the second still waits for this process (a Gate):
    a PEEL run frames its figures first and compares once its scores are stored."""
    with Gate() as gate:

        def second() -> tuple[int, str]:
            gate.wait()
            return os.getpid(), "compared"

        with in_background_each([lambda: os.getpid(), second]) as (first, then):
            child = first()
            assert child != PARENT
            time.sleep(0.05)
            assert then.running()  # still waiting at the gate
            gate.open()
            assert then() == (child, "compared")  # the same child, after the first job


def test_in_background_each_runs_a_failed_job_here_and_goes_on_with_the_next() -> None:
    def flaky() -> int:
        if in_child():
            raise ValueError("child only")
        return os.getpid()

    with in_background_each([flaky, lambda: os.getpid()]) as (here, there):
        assert there() != PARENT
        assert here() == PARENT  # redone in this process


def test_in_background_each_runs_every_job_here_when_not_parallel() -> None:
    with Gate() as gate, in_background_each([lambda: 1, lambda: (gate.wait(), 2)[1]], parallel=False) as jobs:
        gate.open()  # a job run here after the gate opened does not wait
        assert [job() for job in jobs] == [1, 2]


def test_in_background_redoes_a_failed_job_here_and_raises_its_error() -> None:
    def job() -> int:
        if in_child():
            raise ValueError("child only")
        return 5

    with in_background(job) as result:
        assert result() == 5

    def always() -> int:
        raise LookupError("everywhere")

    with in_background(always) as result, pytest.raises(LookupError):
        result()


def test_in_order_runs_jobs_one_at_a_time_in_order() -> None:
    seen: list[str] = []
    done: list[int] = []
    with InOrder("test") as writer:
        for n in range(5):

            def job(n: int = n) -> int:
                time.sleep(0.005)
                seen.append(f"start {n}")
                seen.append(f"end {n}")
                return n

            writer.submit(job, done.append)
    assert seen == [x for n in range(5) for x in (f"start {n}", f"end {n}")]
    assert done == [0, 1, 2, 3, 4]


def test_in_order_raises_a_jobs_error_at_the_next_submit() -> None:
    def boom() -> int:
        raise OSError("disk full")

    with InOrder("test") as writer:
        writer.submit(boom)
        with pytest.raises(OSError, match="disk full"):
            writer.submit(lambda: 1)


def test_in_order_finishes_the_write_under_way_when_interrupted() -> None:
    finished: list[bool] = []

    def slow() -> None:
        time.sleep(0.05)
        finished.append(True)

    with pytest.raises(KeyboardInterrupt), InOrder("test") as writer:
        writer.submit(slow)
        raise KeyboardInterrupt
    assert finished == [True]


# Forks one worker through fork_map or in_background (argv[2]); the worker writes its pid to
# argv[1] and, like everything here, hangs.
_FORK_AND_HANG = """
import os, sys, time
from engine.core.parallel import fork_map, in_background
pids, way, helper = sys.argv[1], sys.argv[2], os.getpid()

def hang(*_args):
    if os.getpid() != helper:
        with open(pids, "a") as f:
            f.write(f"{os.getpid()}\\n")
    time.sleep(120)

if way == "fork_map":
    fork_map(hang, 2, workers=2)
else:
    with in_background(hang) as result:
        result()
"""


def _gone(pid: int) -> bool:
    """No such process, or only its zombie is left."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
@pytest.mark.parametrize("way", ["fork_map", "in_background"])
def test_a_worker_dies_with_its_parent_killed_by_kill_9(way: str, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    helper = subprocess.Popen([sys.executable, "-c", _FORK_AND_HANG, str(pids), way])
    worker = 0
    try:
        deadline = time.monotonic() + 60
        while not pids.exists() or not pids.read_text().endswith("\n"):
            assert helper.poll() is None and time.monotonic() < deadline, "no worker started"
            time.sleep(0.02)
        worker = int(pids.read_text().split()[0])
        helper.kill()
        helper.wait()
        deadline = time.monotonic() + 3
        while not _gone(worker) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _gone(worker), f"worker {worker} outlived its killed parent"
    finally:
        helper.kill()
        if worker and not _gone(worker):
            os.kill(worker, signal.SIGKILL)


def test_a_worker_terminated_as_it_starts_dies_quietly_of_sigterm() -> None:
    """A run stopped by SIGTERM terminates the workers it has just forked; a worker must not run the
    run's own handler (which raises, and printed a traceback) in the moment before it sets its own."""
    from multiprocessing import get_context

    from engine.core.parallel import _start

    def raising(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, raising)
    exit_codes = []
    try:
        for _ in range(30):
            started = _start(get_context("fork"), lambda _send: time.sleep(5))
            assert started is not None
            child, receive = started
            child.terminate()  # at once: before the child has got far
            child.join()
            receive.close()
            exit_codes.append(child.exitcode)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert exit_codes == [-signal.SIGTERM] * 30
