"""A warm process that runs `qam` commands in forked children, for the kill -9 tests.

Run as a script (``python tests/faults/zygote.py``): it imports the engine once, then for each JSON
request on stdin forks a child that runs the command line as ``python -m engine`` does
(``engine.cli.app``; the executable's ``run`` adds only a gc.freeze as the process ends) with the
request's arguments, environment and working folder, its stdout and stderr going to the request's
files. With ``kill_after`` the child is sent SIGKILL that many seconds
after the fork unless it has finished. One JSON line answers each request: the child's pid, how
long it ran, whether it was killed and its exit code. With ``die_renaming`` (a regular expression)
the child kills itself with SIGKILL as it is about to rename a path of that name. Several commands
may be started together (the concurrency tests), each released by one pipe after all are forked.

Forking from an interpreter that has already imported the engine takes the ~1-2 s of imports out
of every run, so the seeded kill points fall in the commands' work rather than in Python starting
up, and 20 kills of each command stay within the suite's time budget. A forked child is an
ordinary process: its database connection, transactions, worker processes and files are its own.
"""

from __future__ import annotations

import importlib
import json
import os
import pathlib
import re
import select
import signal
import sys
import time
import traceback
from typing import Any

if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]  # run as a script: the test helpers beside it are not modules of the engine's

import engine.cli  # noqa: E402

#: what `qam submit`, `qam weekly` and `qam peel` import on first use (as measured), imported here once
WARM = (
    "engine.api",
    "engine.registry",
    "engine.runs.peel",
    "engine.runs.weekly",
    "engine.reports.peel_pdf",
    "alembic.command",
    "alembic.config",
    "alembic.op",
    "alembic.runtime.migration",
    "alembic.script",
    "holidays",
    "mako.template",
    "pyarrow.parquet",
    "reportlab.graphics.shapes",
    "typer._adapters",
)
for _name in WARM:
    try:
        importlib.import_module(_name)
    except ImportError:  # an optional extra (pyarrow) that is not installed
        pass


def _child(request: dict[str, Any]) -> int:
    """Runs in the forked child: the command line with the request's arguments; its exit code."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, fd)
        os.close(out)
    os.chdir(request["cwd"])
    os.environ.update(request["env"])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if request.get("die_renaming"):
        _die_renaming(re.compile(request["die_renaming"]))
    try:
        engine.cli.app(request["args"], prog_name="qam")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # what `python -m engine` would print: the traceback, exit 1
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def _die_renaming(source: re.Pattern[str]) -> None:
    """SIGKILL this process as it is about to rename a path whose name matches ``source``: a kill -9
    at an exact point (between the two renames that swap an output folder), which random delays
    cannot hit."""
    rename = pathlib.Path.rename

    def renaming(self: pathlib.Path, target: Any) -> pathlib.Path:
        if source.fullmatch(self.name):
            os.kill(os.getpid(), signal.SIGKILL)
        return rename(self, target)

    pathlib.Path.rename = renaming  # type: ignore[method-assign]


def _wait(pid: int, timeout: float | None) -> int | None:
    """The child's wait status once it exits within ``timeout`` seconds (None: wait for ever);
    None if it is still running then."""
    if timeout is not None:
        fd = os.pidfd_open(pid)
        try:
            ready, _, _ = select.select([fd], [], [], max(timeout, 0.0))
        finally:
            os.close(fd)
        if not ready:
            return None
    return os.waitpid(pid, 0)[1]


def _start(request: dict[str, Any], go: int | None) -> int:
    """Fork a child for ``request``; with ``go``, it first waits for a byte on that pipe and then
    ``request["delay"]`` seconds. Its pid."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            if go is not None:
                os.read(go, 1)
                time.sleep(request.get("delay") or 0.0)
            code = _child(request)
        finally:
            os._exit(code)
    return pid


def _answer(pid: int, status: int, started: float) -> dict[str, Any]:
    code = os.waitstatus_to_exitcode(status)
    killed = code == -signal.SIGKILL  # not when it finished just before the signal
    return {"pid": pid, "elapsed": time.monotonic() - started, "killed": killed, "returncode": code}


def serve() -> None:
    """One JSON request a line: a command ({"args", "env", "cwd", "stdout", "stderr",
    "kill_after"}) answered by one JSON line, or {"together": [command...]}, commands started at
    once (each after its "delay"), answered by a JSON list once all have exited."""
    for line in sys.stdin:
        request = json.loads(line)
        if "together" in request:
            read, write = os.pipe()
            pids = [_start(r, read) for r in request["together"]]
            started = time.monotonic()
            os.write(write, b"x" * len(pids))
            os.close(read)
            os.close(write)
            answer: Any = [_answer(pid, os.waitpid(pid, 0)[1], started) for pid in pids]
        else:
            started = time.monotonic()
            pid = _start(request, None)
            status = _wait(pid, request.get("kill_after"))
            if status is None:
                os.kill(pid, signal.SIGKILL)
                status = _wait(pid, None)
            assert status is not None
            answer = _answer(pid, status, started)
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    serve()
