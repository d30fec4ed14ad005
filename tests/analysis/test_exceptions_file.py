"""engine.analysis.exceptions_file: exceptions.json keeps the shape docs/outputs.md gives, deterministically."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.analysis.exceptions_file import write_exceptions_json
from engine.analysis.outcomes import outcomes_frame
from engine.core.errors import ReportError
from engine.core.models import RulesetRef
from tests.analysis.scenarios import CRITERIA, FROM, IQ, MEASURES, SS, TO, Scenario, assess


def test_exceptions_json_has_exactly_the_contract_shape(tmp_path: Path) -> None:
    s = Scenario()
    s.cases("BLK", "SS01", passes=5, fails=25)
    s.cases("BLK", "SS02", passes=1, fails=1)
    found = s.assess().exceptions
    path = tmp_path / "2026-W47" / "exceptions.json"
    rulesets = [
        RulesetRef(SS, "1.0.0", "b" * 64),
        RulesetRef(IQ, "1.0.0", "a" * 64),
        RulesetRef(SS, "1.0.0", "b" * 64),
    ]
    write_exceptions_json(FROM, TO, "2026-W47", rulesets, list(reversed(found)), path)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and text.startswith('{\n  "period": {\n    "from": "2026-11-16"')
    doc = json.loads(text)
    assert list(doc) == ["period", "rulesets", "exceptions"]
    assert doc["period"] == {"from": "2026-11-16", "to": "2026-11-22", "label": "2026-W47"}
    assert doc["rulesets"] == [
        {"id": IQ, "version": "1.0.0", "sha256": "a" * 64},
        {"id": SS, "version": "1.0.0", "sha256": "b" * 64},
    ]
    assert [e["kind"] for e in doc["exceptions"]] == ["critical", "below_standard"]
    keys = ["place", "priority", "measure", "peel", "iserve", "ruleset", "criterion", "kind", "reason", "n",
            "passed", "rate", "ci_low", "ci_high", "standard", "cases"]  # fmt: skip
    assert all(list(e) == keys for e in doc["exceptions"])
    below = doc["exceptions"][1]
    assert (
        below["n"],
        below["passed"],
        below["rate"],
        below["ci_low"],
        below["ci_high"],
        below["standard"],
    ) == (
        30,
        5,
        0.167,
        0.073,
        0.336,
        0.9,
    )


def test_exceptions_json_is_deterministic_and_takes_a_run_id(tmp_path: Path) -> None:
    s = Scenario()
    s.cases("BLK", "SS01", passes=5, fails=25, note="Café stop: grounds missing")
    found = s.assess().exceptions
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    write_exceptions_json("2026-11-16", "2026-11-22", "2026-W47", [], found, a)
    write_exceptions_json("2026-11-16", "2026-11-22", "2026-W47", [], list(reversed(found)), b)
    assert a.read_bytes() == b.read_bytes()
    assert "run_id" not in json.loads(a.read_text(encoding="utf-8"))
    write_exceptions_json("2026-11-16", "2026-11-22", "2026-W47", [], found, b, run_id="run-7")
    doc = json.loads(b.read_text(encoding="utf-8"))
    assert list(doc) == ["period", "rulesets", "exceptions", "run_id"] and doc["run_id"] == "run-7"


def test_exceptions_json_keeps_non_ascii_text(tmp_path: Path) -> None:
    crit = [{**c, "text": "Motif de la fouille noté"} if c["criterion"] == "SS01" else c for c in CRITERIA]
    s = Scenario()
    s.cases("BLK", "SS01", passes=0, fails=10)
    found = assess(outcomes_frame(s.rows, crit, MEASURES)).exceptions
    path = tmp_path / "exceptions.json"
    write_exceptions_json(FROM, TO, "2026-W47", [], found, path)
    assert "noté" in path.read_text(encoding="utf-8")


def test_unwritable_exceptions_json_is_a_report_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ReportError, match="cannot write"):
        write_exceptions_json(FROM, TO, "2026-W47", [], [], blocker / "exceptions.json")
