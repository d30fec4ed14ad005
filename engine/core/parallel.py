"""The one way QAM uses other processes and threads: forked workers that inherit their inputs (never
pickled) while this process works too, jobs running in turn in a forked child while the caller goes
on (a Gate holding one back until this process is ready for it), and writes done in order by a
background thread. The thresholds for going parallel live here.

Forking is chosen over spawning because the inputs (a year of outcomes, compiled rulesets) are
large and already in memory: a forked child reads them from pages it shares with its parent.
Workers ignore Ctrl-C: the parent handles it, terminates them and leaves no orphan behind. On
Linux a worker also dies with its parent (PR_SET_PDEATHSIG), so even kill -9 of the run leaves none.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import select
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkContext
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized
from typing import Any, Generic, TypeVar

from engine.core.memory import give_back

T = TypeVar("T")
R = TypeVar("R")

# --------------------------------------------------------------------------- when to go parallel

#: score one ruleset's pending cases in two processes from this many cases on
SCORING_PARALLEL_FROM = 20_000
#: a PEEL rerun reads and frames its incidents in a worker from this many on (forking costs ~0.1 s)
PEEL_INCIDENTS_PARALLEL_FROM = 100_000
#: a PEEL rerun analyses its quarters in a worker from this many outcome rows on (a year of a force
#: has ~1.2 million; the quarters then take ~2.5 s of a rerun's ~12 s on a 2-core machine)
PEEL_ANALYSIS_PARALLEL_FROM = 200_000
#: a PEEL rerun renders peel.pdf in a worker beside aggregates.csv from this many rows of the whole
#: period's aggregate table on (a year of a force has ~80,000: a 26 MB file, ~1 s; the PDF ~0.5 s)
PEEL_TABLES_PARALLEL_FROM = 10_000
#: briefings are rendered in a second process only if that saves at least this many ms (as
#: estimated by reports.render_pool). Forking the weekly batch (180 MB) and getting the PDFs back
#: costs about 45 ms of CPU; below this the two were level or the serial run won on a busy machine
RENDER_PARALLEL_SAVING_MS = 100


class WorkerError(RuntimeError):
    """A job failed in a worker process and again in the fresh process it was redone in."""

    def __init__(self, job: int, error: str) -> None:
        super().__init__(f"job {job} failed in two worker processes: {error}")
        self.job = job
        self.error = error


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _fork_context() -> ForkContext | None:
    """The fork context, or None where forking is not possible (no fork, or a daemonic process)."""
    if multiprocessing.current_process().daemon:  # a daemonic process may not have children
        return None
    try:
        return multiprocessing.get_context("fork")
    except ValueError:
        return None


def _start(
    context: ForkContext, target: Callable[..., None], *args: Any
) -> tuple[BaseProcess, Connection] | None:
    """A forked child running ``target(send, *args)`` and the receiving end of its pipe; None if it
    cannot be started (out of processes, memory or file descriptors)."""
    try:
        receive, send = context.Pipe(duplex=False)
    except OSError:
        return None
    child = context.Process(target=_child_main, args=(target, os.getpid(), send, *args), daemon=True)
    gc.freeze()  # a collection in the child would touch every inherited object and copy the heap
    # Ctrl-C and SIGTERM are held back while forking: a child must not run this process's handlers
    # (which raise) before it has set its own; the child unblocks them once it has (_child_main)
    blocked = _block(_STOP_SIGNALS)
    try:
        child.start()
    except OSError:
        receive.close()
        return None
    finally:
        _unblock(blocked)
        gc.unfreeze()
        send.close()  # so a child that dies shows up as EOF here
    return child, receive


#: prctl(2) option: the signal a process gets when the thread that forked it ends (linux/prctl.h)
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """In a forked child: be killed when ``parent`` dies, even by kill -9, instead of living on blocked
    on its pipe; exit now if it already died before this was set. A no-op where prctl is unavailable.
    (The signal comes when the forking *thread* ends: QAM forks from its main thread, which lives as
    long as the process.)"""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            return
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died between the fork and prctl
        os._exit(1)


#: the signals a child must not handle with its parent's handlers
_STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


def _block(signals: frozenset[int]) -> set[int] | None:
    """Hold ``signals`` back in this thread; the previous mask to give to _unblock, or None where
    signal masks are unavailable."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return set(signal.pthread_sigmask(signal.SIG_BLOCK, signals))


def _unblock(previous: set[int] | None) -> None:
    if previous is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _child_main(target: Callable[..., None], parent: int, send: Connection, *args: Any) -> None:
    # the parent forked us with Ctrl-C and SIGTERM blocked: set our own handlers, then let them in
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C by terminating us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # terminate() ends us, whatever handler we inherited
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    _die_with_parent(parent)
    gc.disable()  # short-lived: collections would only copy the parent's pages
    try:
        target(send, *args)
    finally:
        send.close()


def _stop(children: Sequence[tuple[BaseProcess, Connection]]) -> None:
    for child, _ in children:
        child.terminate()


def _reap(children: Sequence[tuple[BaseProcess, Connection]]) -> None:
    for child, receive in children:
        receive.close()
        child.join()


# --------------------------------------------------------------------------- fork_map


def fork_map(
    work: Callable[[int], R],
    count: int,
    *,
    workers: int,
    redo: str = "here",
    redo_errors: tuple[type[BaseException], ...] = (),
) -> list[R]:
    """``[work(0), ..., work(count - 1)]`` computed by this process and ``workers - 1`` forked children,
    each taking the next job from a shared counter (give the longest jobs the lowest numbers).

    A job a child does not deliver (it raised, crashed or was killed) is redone: ``redo="here"``
    in this process, so its error surfaces as in a serial run; ``redo="fresh"`` once in a fresh
    forked process (for work whose failure may leave this process's state unusable), raising
    WorkerError if it fails again. With ``redo="fresh"``, this process's own job is redone the same
    way when it raises one of ``redo_errors``. With one worker, or where forking is not possible,
    everything runs here, in order.
    Example: fork_map(lambda i: i * i, 4, workers=2) == [0, 1, 4, 9]
    """
    context = _fork_context() if workers > 1 and count > 1 else None
    try:
        counter: Synchronized[int] | None = context.Value("i", 0) if context else None
    except OSError:  # no semaphores on this platform
        counter = None
    if context is None or counter is None:
        return [work(i) for i in range(count)]
    children: list[tuple[BaseProcess, Connection]] = []
    done: dict[int, R] = {}
    failed: dict[int, str] = {}
    catch = redo_errors if redo == "fresh" else ()
    try:
        for _ in range(min(workers, count) - 1):
            started = _start(context, _map_child, work, count, counter)
            if started is None:
                break
            children.append(started)
        while (i := _next(counter)) < count:
            try:
                done[i] = work(i)
            except catch as exc:
                failed[i] = f"{type(exc).__name__}: {exc}"
        for receive in _in_arrival_order([r for _, r in children]):
            try:
                delivered, errors = receive.recv()
            except EOFError:  # the child died: its jobs are redone below
                continue
            done.update(delivered)
            failed.update(errors)
    except BaseException:  # Ctrl-C too, which the children ignore: stop them, leave no orphans
        _stop(children)
        raise
    finally:
        _reap(children)
    for i in range(count):
        if i not in done:
            done[i] = work(i) if redo == "here" else _redo_fresh(context, work, i, failed.get(i))
    return [done[i] for i in range(count)]


def _in_arrival_order(receivers: list[Connection]) -> Iterator[Connection]:
    waiting = list(receivers)
    while waiting:
        ready = wait(waiting)
        for receive in [r for r in waiting if r in ready]:
            waiting.remove(receive)
            yield receive


def _map_child(send: Connection, work: Callable[[int], Any], count: int, counter: Synchronized[int]) -> None:
    done: dict[int, Any] = {}
    errors: dict[int, str] = {}
    while (i := _next(counter)) < count:
        try:
            done[i] = work(i)
        except Exception as exc:  # the parent redoes this job and raises its error there
            errors[i] = f"{type(exc).__name__}: {exc}"
    # sent once at the end: a send blocks until the parent reads, which it does after its own share
    send.send((done, errors))


def _redo_fresh(context: ForkContext, work: Callable[[int], R], i: int, first_error: str | None) -> R:
    started = _start(context, _one_child, work, i)
    if started is None:
        raise WorkerError(i, first_error or "no process could be started to redo it")
    try:
        status, payload = started[1].recv()
    except EOFError:
        status, payload = "error", "the worker process died"
    except BaseException:
        _stop([started])
        raise
    finally:
        _reap([started])
    if status != "ok":
        code = started[0].exitcode
        raise WorkerError(i, f"{payload} (exit code {code})" if code else str(payload))
    result: R = payload
    return result


def _one_child(send: Connection, work: Callable[[int], Any], i: int) -> None:
    _jobs_child(send, [partial(work, i)])


def _next(counter: Synchronized[int]) -> int:
    with counter.get_lock():
        i = counter.value
        counter.value = i + 1
    return i


# --------------------------------------------------------------------------- one job in the background


class _Background:
    """Jobs run one after another in a forked child; a thread here reads each result as soon as it
    is sent, so the child (and the memory its jobs used) is gone before the caller asks for the last."""

    def __init__(self, context: ForkContext, jobs: Sequence[Callable[[], Any]]) -> None:
        self._jobs = jobs
        self._started = _start(context, _jobs_child, jobs)
        #: what the child sent for each job, in order: ("ok", result) or ("error", message)
        self._outcomes: list[tuple[str, Any]] = []
        self._arrived = [threading.Event() for _ in jobs]
        self._reader = threading.Thread(target=self._read, name="qam-worker-result", daemon=True)
        if self._started is not None:
            self._reader.start()

    def _read(self) -> None:
        assert self._started is not None
        child, receive = self._started
        try:
            for arrived in self._arrived:
                self._outcomes.append(receive.recv())
                arrived.set()
        except EOFError:
            pass
        finally:
            receive.close()
            child.join()
            for arrived in self._arrived:  # a child that died sends nothing more
                arrived.set()

    def result(self, i: int) -> Any:
        """Job ``i``'s result; if the child could not start, or failed or died before sending it, the
        job is run here (its error raised as in a serial run)."""
        if self._started is None:
            return self._jobs[i]()
        self._arrived[i].wait()
        if i < len(self._outcomes) and self._outcomes[i][0] == "ok":
            return self._outcomes[i][1]
        return self._jobs[i]()

    def running(self, i: int) -> bool:
        """Whether the child is still at job ``i`` or one before it (its result not yet received)."""
        return self._started is not None and not self._arrived[i].is_set()

    def stop(self) -> None:
        if self._started is not None and self._started[0].is_alive():
            self._started[0].terminate()


def _jobs_child(send: Connection, jobs: Sequence[Callable[[], Any]]) -> None:
    # each result is sent as soon as it is made: the parent may be waiting for it
    for i, job in enumerate(jobs):
        try:
            result = job()
        except Exception as exc:  # the parent runs the job itself and raises its error there
            send.send(("error", f"{type(exc).__name__}: {exc}"))
        else:
            send.send(("ok", result))
            # the next job runs without it, its memory given back to the system: a PEEL run's framed
            # figures (~90 MB) had stayed beside the comparison that follows them
            del result
            if i + 1 < len(jobs):
                give_back()


class Later(Generic[T]):
    """What in_background yields: call it for the job's result (waiting for it, or running the job
    here); ``running()`` says whether a worker is still at it, so the caller may do more meanwhile."""

    def __init__(self, result: Callable[[], T], running: Callable[[], bool] = lambda: False) -> None:
        self._result = result
        self.running = running

    def __call__(self) -> T:
        return self._result()


@contextmanager
def in_background(job: Callable[[], T], *, parallel: bool = True) -> Iterator[Later[T]]:
    """Run ``job`` in a forked child while the caller goes on (``parallel``, where forking is
    possible), or later in this process; yields a Later, the function that returns its result. The
    job must not use this process's database connections (a job opens its own). Leaving the block
    early (an error, Ctrl-C) terminates the child.
    Example: with in_background(lambda: sum(range(10))) as total: ...; total() == 45
    """
    with in_background_each([job], parallel=parallel) as (later,):
        yield later


@contextmanager
def in_background_each(
    jobs: Sequence[Callable[[], Any]], *, parallel: bool = True
) -> Iterator[tuple[Later[Any], ...]]:
    """Run ``jobs`` one after another in one forked child while the caller goes on, as in_background
    runs one; yields a Later for each, whose result is there as soon as its job is done (put first
    the one needed first). A job that failed in the child is run here when its result is asked for.
    Example: with in_background_each([lambda: 1, lambda: 2]) as (one, two): ...; two() == 2
    """
    context = _fork_context() if parallel and jobs else None
    if context is None:
        yield tuple(Later(job) for job in jobs)
        return
    background = _Background(context, jobs)
    try:
        yield tuple(
            Later(partial(background.result, i), partial(background.running, i)) for i in range(len(jobs))
        )
    except BaseException:
        background.stop()
        raise


class Gate:
    """What a forked child's job waits for (``wait``) until this process ``open``s it: e.g. the
    scores a comparison reads being stored. A pipe the child inherits; a job run here after ``open``
    does not wait. Use it as a context manager (the pipe is closed on leaving)."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        self._opened = False

    def open(self) -> None:
        if not self._opened:
            os.write(self._write, b"x")
            self._opened = True

    def wait(self) -> None:
        """Block until opened (returns at once if it already was); a closed pipe counts as open."""
        select.select([self._read], [], [])

    def __enter__(self) -> Gate:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self._read)
        os.close(self._write)


# --------------------------------------------------------------------------- writes in order, in a thread


class InOrder:
    """Jobs run one at a time, in the order given, by one background thread, while the caller goes
    on: e.g. storing one ruleset's scores while the next is scored. ``submit`` first waits for the
    job before (raising its error), so at most one runs while the caller works; leaving the block
    waits for the last one, also when the caller was interrupted (a write under way is finished,
    never half-done)."""

    def __init__(self, name: str) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=name)
        self._running: tuple[Callable[[Any], None], Future[Any]] | None = None

    def __enter__(self) -> InOrder:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self.wait()
        finally:
            self._pool.shutdown(wait=True)

    def submit(self, job: Callable[[], T], then: Callable[[T], None] = lambda _r: None) -> None:
        """Wait for the job before, then start ``job``; ``then(result)`` is called here once it is done."""
        self.wait()
        self._running = (then, self._pool.submit(job))

    def wait(self) -> None:
        """Wait for the job under way, if any: its error is raised here, its ``then`` called."""
        if self._running is not None:
            then, future = self._running
            self._running = None
            then(future.result())


__all__ = [
    "PEEL_ANALYSIS_PARALLEL_FROM",
    "PEEL_INCIDENTS_PARALLEL_FROM",
    "PEEL_TABLES_PARALLEL_FROM",
    "RENDER_PARALLEL_SAVING_MS",
    "SCORING_PARALLEL_FROM",
    "InOrder",
    "Later",
    "WorkerError",
    "cores",
    "fork_map",
    "in_background",
]
