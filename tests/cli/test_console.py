"""What every command shares (engine/cli/console.py): an engine error is one `Error:` line on stderr,
without a traceback, and its documented exit code; SIGTERM cleans up as Ctrl-C does and exits 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from engine import api
from engine.cli import app
from engine.core.config import DEFAULT_FORCE_FILE, DEFAULT_FORMS_DIR, DEFAULT_RULESETS_DIR, Settings
from engine.demo.factories import build_row
from engine.inputs.submission_files import write_submission_csv


def test_unknown_url_scheme_is_a_storage_error_without_traceback(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--database", "oracle://x/y", "init"])
    assert result.exit_code == 4
    assert result.stderr.startswith("Error: unsupported database URL scheme 'oracle'")
    assert "Traceback" not in result.output


def test_unreachable_postgresql_exits_4(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--database", "postgresql://postgres@127.0.0.1:1/test", "init"])
    assert result.exit_code == 4
    assert "cannot connect to the database" in result.stderr


# `qam ARGS...` in a fresh interpreter, stopped while it writes its output folder: a worker is
# forked (its pid written to argv[1]), then the run waits until it is signalled.
_QAM_STOPPED_WRITING = """
import multiprocessing, os, sys, time
from engine.cli import app
from engine.core.parallel import in_background
from engine.runs import manifest

pids = sys.argv.pop(1)
hashes = manifest._file_hashes

def hang():
    time.sleep(120)

def stopped_here(folder):
    if ".tmp-" not in folder.name:
        return hashes(folder)
    with in_background(hang) as result:
        with open(pids, "w") as f:
            f.write(" ".join(str(c.pid) for c in multiprocessing.active_children()) + "\\n")
        result()

manifest._file_hashes = stopped_here
app(sys.argv[1:], prog_name="qam")
"""


def _week(tmp_path: Path) -> Settings:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'qam.db'}",
        force_file=DEFAULT_FORCE_FILE,
        rulesets_dir=DEFAULT_RULESETS_DIR,
        forms_dir=DEFAULT_FORMS_DIR,
    )
    api.init_database(settings)
    api.publish_rulesets(settings, author="test", note="initial")
    rows = [
        build_row("stop_search", assessment_id=f"QA-{i:03d}", case_ref=f"SS-{i:03d}", place="BLK")
        for i in range(3)
    ]
    api.submit(settings, [write_submission_csv(tmp_path / "week.csv", rows)])
    return settings


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_sigterm_cleans_up_as_ctrl_c_and_exits_130(tmp_path: Path) -> None:
    settings = _week(tmp_path)
    out = tmp_path / "out"
    args = ["--database", settings.database_url, "weekly", "--week", "2026-W47", "--out", str(out)]
    first = subprocess.run([sys.executable, "-m", "engine", *args], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in (out / "2026-W47").iterdir()}

    pids = tmp_path / "pids"
    run = subprocess.Popen(
        [sys.executable, "-c", _QAM_STOPPED_WRITING, str(pids), *args], stderr=subprocess.PIPE, text=True
    )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while not pids.exists() or not pids.read_text().endswith("\n"):
            assert run.poll() is None and time.monotonic() < deadline, "the run never got to its writing"
            time.sleep(0.05)
        workers = [int(p) for p in pids.read_text().split()]
        assert workers and list(out.glob(".2026-W47.tmp-*"))  # stopped mid-write, a worker running
        run.send_signal(signal.SIGTERM)
        _, stderr = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 130, stderr
    assert "Traceback" not in stderr  # neither from the run nor from its terminated worker
    assert sorted(p.name for p in out.iterdir()) == ["2026-W47"]  # no .2026-W47.tmp-* left
    assert {p.name: p.read_bytes() for p in (out / "2026-W47").iterdir()} == before
    deadline = time.monotonic() + 5
    while not all(_gone(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(w) for w in workers)
