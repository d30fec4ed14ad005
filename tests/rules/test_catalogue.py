"""The 12x12 catalogue: the bundled model as the framework document states it, the undefined M3
slot, a force's own items, and every problem of a broken catalogue reported at once with its file
and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.errors import RulesetError
from engine.rules.catalogue import (
    DEFAULT_CATALOGUE_FILE,
    MEASURE_IDS,
    NOT_DEFINED,
    load_measure_catalogue,
    load_measures,
)


def test_the_bundled_model_is_the_framework_documents() -> None:
    catalogue = load_measure_catalogue()
    assert DEFAULT_CATALOGUE_FILE.name == "catalogue.yaml" and catalogue.version == "1.0.0"
    assert tuple(catalogue.measures) == MEASURE_IDS and len(MEASURE_IDS) == 24
    assert dict(catalogue.priorities) == {
        1: "Protecting local policing",
        2: "Tackling crime & reoffending",
        3: "Supporting vulnerable people & victims",
        4: "Developing safe, confident communities",
    }
    assert [catalogue.pillar_name(p) for p in catalogue.peel_pillars] == [
        "Efficiency",
        "Effectiveness",
        "Legitimacy",
        "OD (people)",
    ]
    assert list(catalogue.iserve_strands) == [
        "investigation",
        "safeguarding",
        "early_action",
        "response",
        "visibility",
        "engagement",
    ]
    assert catalogue.strand_name("early_action") == "Early Action"
    # the document's table: which items sit under which priority (M3 is the force's slot)
    assert {p: catalogue.of_priority(p) for p in (1, 2, 3, 4)} == {
        1: ("M1", "M2", "M3", "D1", "D2", "D3", "D4"),
        2: ("M4", "M5", "M6", "D5", "D6"),
        3: ("M7", "M8", "D7"),
        4: ("M9", "M10", "M11", "M12", "D8", "D9", "D10", "D11", "D12"),
    }


@pytest.mark.parametrize(
    ("item", "name", "peel", "strand", "evidence"),
    [
        ("M1", "Our People", "people", "response", ("X",)),
        ("M2", "Response Performance", "effectiveness", "response", ("X",)),
        ("M5", "CJ file quality", "effectiveness", "investigation", ("Q", "X")),
        ("M8", "Victims' Code compliance", "effectiveness", "engagement", ("Q", "X")),
        ("M12", "Local policing visibility", "effectiveness", "visibility", ("X",)),
        ("D5", "Investigation quality", "effectiveness", "investigation", ("Q",)),
        ("D7", "Safeguarding", "effectiveness", "safeguarding", ("Q",)),
        ("D11", "Stop and search", "legitimacy", "engagement", ("Q",)),
        ("D12", "Legitimacy monitoring", "legitimacy", "engagement", ("X", "Q")),
    ],
)
def test_items_are_mapped_by_their_content(item, name, peel, strand, evidence) -> None:
    m = load_measures()[item]
    assert (m.name, m.peel, m.evidence, m.defined) == (name, peel, evidence, True)
    assert strand in m.iserve and m.description


def test_m3_is_a_slot_shown_as_not_defined() -> None:
    m3 = load_measures()["M3"]
    assert (m3.defined, m3.priority, m3.name, m3.label) == (False, 1, NOT_DEFINED, "M3 not defined")
    assert (m3.peel, m3.iserve, m3.direction) == ("", (), None)
    assert load_measure_catalogue().undefined == ("M3",)


def test_direction_only_where_one_makes_sense() -> None:
    measures = load_measures()
    assert measures["M2"].direction == "higher"
    # demand is monitored, high-impact crimes are exception reports: neither more nor less is simply better
    assert measures["D1"].direction is None and measures["D6"].direction is None


def _edited(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = DEFAULT_CATALOGUE_FILE.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "catalogue.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_force_names_m3_and_adds_an_item_of_its_own(tmp_path: Path) -> None:
    path = _edited(
        tmp_path,
        (
            "  M3:\n    defined: false\n    priority: 1\n",
            "  M3:\n    name: Contact handling\n    priority: 1\n    peel: efficiency\n"
            "    iserve: [response]\n    evidence: [X]\n",
        ),
        (
            "  D12:\n",
            "  D13:\n    name: Road safety\n    priority: 4\n    peel: effectiveness\n    iserve: [visibility]\n"
            "    direction: lower\n    evidence: [X]\n    description: Collisions.\n  D12:\n",
        ),
    )
    catalogue = load_measure_catalogue(path)
    assert catalogue.measures["M3"].label == "M3 Contact handling" and catalogue.undefined == ()
    assert tuple(catalogue.measures)[-2:] == ("D12", "D13")  # the force's own items after the 24
    assert catalogue.of_priority(4)[-1] == "D13"


def test_a_broken_catalogue_reports_every_problem(tmp_path: Path) -> None:
    m1 = "    name: Our People\n    priority: 1\n    peel: people\n"
    m2 = "    iserve: [response]\n    direction: higher\n    evidence: [X]\n    description: >-\n      Attendance at"
    path = _edited(
        tmp_path,
        (m1, m1.replace("peel: people", "peel: peple")),
        (m2, m2.replace("higher", "up").replace("[response]", "[response, victims]")),
        ("  D12:", "  Q12:"),
        ("    defined: false\n", "    defined: false\n    name: Something\n"),
        ("version: 1.0.0", "version: '1.0'"),
    )
    lines = path.read_text(encoding="utf-8").splitlines()

    def line_of(needle: str) -> int:
        return next(i for i, line in enumerate(lines, 1) if needle in line)

    with pytest.raises(RulesetError) as info:
        load_measure_catalogue(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:{line_of('version:')}: catalogue: 'version' must be x.y.z, e.g. 1.0.0, got '1.0'",
        f"{path}:{line_of('items:')}: item D12 is missing: the 12x12 model needs all of M1-M12 and D1-D12 "
        "(an item the force has not named yet is kept as `defined: false`)",
        f"{path}:{line_of('peel: peple')}: item M1: 'peel' must be one of the known values, "
        "got 'peple' (did you mean 'people'?)",
        f"{path}:{line_of('victims]')}: item M2: unknown iserve value 'victims' (known: early_action, "
        "engagement, investigation, response, safeguarding, visibility)",
        f"{path}:{line_of('direction: up')}: item M2: 'direction' must be one of the known values, got 'up' "
        "(known: higher, lower)",
        f"{path}:{line_of('name: Something')}: item M3 is a slot the force has not defined (defined: false): "
        "remove 'name', or remove `defined: false` to define the item",
        f"{path}:{line_of('Q12:')}: unknown item id 'Q12': an item is M (measure) or D (diagnostic) and a "
        "number, e.g. M3 or D13",
    ]
