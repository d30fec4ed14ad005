"""The 12x12 measure catalogue: the bundled model's fixed facts, and every problem of a broken
catalogue reported at once with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.errors import RulesetError
from engine.rules.catalogue import DEFAULT_MEASURES_FILE, MEASURE_IDS, load_measure_catalogue, load_measures


def test_the_bundled_model_has_all_24_items_in_order() -> None:
    catalogue = load_measure_catalogue()
    assert tuple(catalogue.measures) == MEASURE_IDS and len(MEASURE_IDS) == 24
    assert list(catalogue.priorities) == [1, 2, 3, 4]
    assert set(catalogue.peel_pillars) == {"effectiveness", "efficiency", "legitimacy", "people"}
    assert "engagement" in catalogue.iserve_strands  # a strand the bundled catalogue keeps
    for priority in (1, 2, 3, 4):
        ids = catalogue.of_priority(priority)
        assert sum(i.startswith("M") for i in ids) == 3 and sum(i.startswith("D") for i in ids) == 3


@pytest.mark.parametrize(
    ("measure", "priority", "peel"),
    [
        ("M2", 1, None),
        ("M5", 2, None),
        ("M8", 3, None),
        ("D5", 2, None),
        ("D7", 3, None),
        ("D11", 4, "legitimacy"),
    ],
)
def test_the_fixed_facts_of_domain_md(measure, priority, peel) -> None:
    m = load_measures()[measure]
    assert m.priority == priority
    assert peel is None or m.peel == peel
    assert m.name and m.description and m.iserve and m.direction in ("higher", "lower")


def test_a_broken_catalogue_reports_every_problem(tmp_path: Path) -> None:
    text = DEFAULT_MEASURES_FILE.read_text(encoding="utf-8")
    m1 = "    name: Neighbourhood crime\n    priority: 1\n    peel: effectiveness\n"
    m2 = "    iserve: [response]\n    direction: higher\n"
    for old, new in (
        (m1, m1.replace("peel: eff", "peel: ef")),
        (m2, m2.replace("higher", "up")),
        ("  D12:", "  D13:"),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "measures.yaml"
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()

    def line_of(needle: str) -> int:
        return next(i for i, line in enumerate(lines, 1) if needle in line)

    with pytest.raises(RulesetError) as info:
        load_measure_catalogue(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:{line_of('measures:')}: measure D12 is missing: the 12x12 model needs all of M1-M12, D1-D12",
        f"{path}:{line_of('peel: efectiveness')}: measure M1: 'peel' must be one of the known values, "
        "got 'efectiveness' (did you mean 'effectiveness'?)",
        f"{path}:{line_of('direction: up')}: measure M2: 'direction' must be one of the known values, got 'up' "
        "(known: higher, lower)",
        f"{path}:{line_of('D13:')}: unknown measure id 'D13' (the model has M1-M12 and D1-D12)",
    ]
