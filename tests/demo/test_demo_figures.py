"""`qam demo` on a smaller data set measures every item of the catalogue (M3 is not defined), and
the weekly batch for 2026-W47 briefs exactly the problems planted in the measured figures: a
homicide in Harbourside, Fenwick's attendance drift, Ridgeway's return home interviews and Fenwick's
feeling safe; every other figure of every place is within normal variation, so it raises nothing.
The demo is the session's small one (tests/demo/conftest.py)."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pypdf import PdfReader

from engine.core.config import DEFAULT_RULESETS_DIR
from tests.demo.conftest import SmallDemo

#: the rulesets on the figures extracts (every bundled extract ruleset but the incidents')
FIGURE_RULESETS = {
    yaml.safe_load(p.read_text(encoding="utf-8"))["ruleset"]
    for p in DEFAULT_RULESETS_DIR.glob("priority*/*.yaml")
    if yaml.safe_load(p.read_text(encoding="utf-8")).get("extract") not in (None, "incidents")
}
PLANTED = {
    ("critical", "HRB", "D6", "HI01"),  # the homicide on 18 November
    ("special_cause", "FEN", "M1", "WF02"),  # attendance drifting down since April...
    ("threshold", "FEN", "M1", "WF02"),  # ...now below the 93% minimum
    ("special_cause", "RDG", "M7", "EA03"),  # return home interviews in October...
    ("threshold", "RDG", "M7", "EA03"),  # ...well below the 70% minimum
    ("threshold", "FEN", "D9", "SV05"),  # feeling safe in 2026-Q3
}


@pytest.fixture
def demo(small_demo: SmallDemo) -> Path:
    return small_demo.folder


def _exceptions(folder: Path) -> list[dict[str, Any]]:
    return list(json.loads((folder / "exceptions.json").read_text(encoding="utf-8"))["exceptions"])


def _text(pdf: Path) -> str:
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(pdf).pages))


def test_every_item_but_the_undefined_m3_is_measured_in_every_place(demo: Path) -> None:
    with (demo / "coverage.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    unmeasured = {(r["place"], r["measure"]) for r in rows if r["measured"] != "yes"}
    assert {measure for _place, measure in unmeasured} == {"M3"}
    assert len({r["measure"] for r in rows}) == 24
    assert {r["source"] for r in rows if r["place"] == "FORCE" and r["measure"] == "M3"} == {"not defined"}


def test_the_figures_raise_exactly_the_planted_problems(demo: Path) -> None:
    found = {
        (e["kind"], e["place"], e["measure"], e["criterion"])
        for e in _exceptions(demo)
        if e["ruleset"] in FIGURE_RULESETS
    }
    assert found == PLANTED


def test_the_planted_problems_are_in_their_places_briefings(demo: Path) -> None:
    assert "HI01 Homicide: 18 November 2026, HIC-2026-HOM101" in _text(demo / "HRB.pdf")
    assert "Working days attended as a share of rostered working days" in _text(demo / "FEN.pdf")
    assert "return home interview within 72 hours" in _text(demo / "RDG.pdf")
    assert "feel safe walking alone in their area after dark" in _text(demo / "FEN.pdf")
