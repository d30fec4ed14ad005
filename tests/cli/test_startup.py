"""What a command loads: `qam submit` and `qam weekly`, run in a fresh interpreter, import only the
libraries they use (every command pays at start-up for whatever its imports pull in)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine import api
from engine.core.config import DEFAULT_FORCE_FILE, DEFAULT_FORMS_DIR, DEFAULT_RULESETS_DIR, Settings
from engine.demo.factories import build_row
from engine.inputs.submission_files import write_submission_csv

#: loaded only by the commands that need them: templates and worklists, demo data, calibration kappa
NOT_FOR_WEEKLY = ("openpyxl", "faker", "factory", "statsmodels", "scipy")
#: a CSV submission validates and stores rows: no analysis, no PDFs, no rule engine
NOT_FOR_SUBMIT = (*NOT_FOR_WEEKLY, "pandas", "numpy", "reportlab", "durable_rules_engine")

# Runs `qam ARGS...` in this interpreter, then writes the top-level names of the modules it loaded.
_QAM = """
import json, sys
from engine.cli import app
out = sys.argv.pop(1)
try:
    app(sys.argv[1:], prog_name="qam")
finally:
    with open(out, "w", encoding="utf-8") as f:
        json.dump(sorted({name.split(".")[0] for name in sys.modules}), f)
"""


def _qam(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    modules = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", _QAM, str(modules), *args], capture_output=True, text=True, timeout=300
    )
    return done, set(json.loads(modules.read_text(encoding="utf-8")))


@pytest.fixture
def ready(tmp_path: Path) -> Settings:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'qam.db'}",
        force_file=DEFAULT_FORCE_FILE,
        rulesets_dir=DEFAULT_RULESETS_DIR,
        forms_dir=DEFAULT_FORMS_DIR,
    )
    api.init_database(settings)
    return settings


def _week_csv(path: Path) -> Path:
    rows = [
        build_row(
            "stop_search",
            assessment_id=f"QA-{i:03d}",
            case_ref=f"SS-{i:03d}",
            place="BLK",
            assessed_on="2026-11-17",
            case_date="2026-11-02",
        )
        for i in range(3)
    ]
    return write_submission_csv(path, rows)


def test_submit_loads_no_analysis_pdf_or_spreadsheet_libraries(ready: Settings, tmp_path: Path) -> None:
    path = _week_csv(tmp_path / "week.csv")
    done, loaded = _qam(tmp_path, "--database", ready.database_url, "submit", str(path))
    assert done.returncode == 0, done.stderr
    assert "3 rows in 1 file: 3 stored" in done.stdout
    assert "sqlalchemy" in loaded  # it did store them
    assert sorted(loaded.intersection(NOT_FOR_SUBMIT)) == []


def test_weekly_loads_no_spreadsheet_demo_or_kappa_libraries(ready: Settings, tmp_path: Path) -> None:
    api.publish_rulesets(ready, author="test", note="initial")
    api.submit(ready, [_week_csv(tmp_path / "week.csv")])
    out = tmp_path / "out"
    done, loaded = _qam(
        tmp_path, "--database", ready.database_url, "weekly", "--week", "2026-W47", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert "2026-W47: 3 cases reviewed" in done.stdout
    assert {"pandas", "reportlab", "durable_rules_engine"} <= loaded  # what the batch does need
    assert sorted(loaded.intersection(NOT_FOR_WEEKLY)) == []


def test_the_executable_exits_with_the_commands_code() -> None:
    """`python -m engine` (and the installed `qam`, engine.cli:run) end with the code the command
    gives: run() freezes the collector's objects as the process ends and changes nothing else."""
    for args, code in ((["--help"], 0), (["no-such-command"], 2), (["peel", "--from", "someday"], 2)):
        done = subprocess.run(
            [sys.executable, "-m", "engine", *args], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == code, (args, done.stdout, done.stderr)
    assert (
        "No such command 'no-such-command'"
        in subprocess.run(
            [sys.executable, "-m", "engine", "no-such-command"], capture_output=True, text=True, timeout=120
        ).stderr
    )
