"""Never a place's briefing to another place's recipient: many places, their recipients listed in a
shuffled order (some people on two places' lists), every message received checked against the
force file by what it carries (header, attachment names, the PDF's own title, the CSV's rows)."""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest
from pypdf import PdfReader

from engine import api
from engine.core.periods import parse_week
from engine.runs.delivery import _check_addressed
from engine.runs.delivery_plan import Planned, WeekRun, read_week
from tests.delivery.conftest import WEEK, World, build_world, person, shuffled_places
from tests.delivery.smtp_server import Server


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, dict[str, list[str]]]:
    places = shuffled_places(24, seed=19)
    root = tmp_path_factory.mktemp("many-places")
    failing = set(list(places)[::2])  # every other place (in the shuffled order) has exceptions
    world = build_world(
        root, f"sqlite:///{root / 'qam.db'}", places, ["Force Lead <lead@example.org>"], failing
    )
    return world, {c: people for c, people in places.items() if c in failing}


def test_each_message_reaches_only_its_own_places_recipients(
    many: tuple[World, dict[str, list[str]]], server: Server
) -> None:
    world, briefed = many
    report = world.deliver(server)
    assert report.complete
    expected = Counter((code, person(p)[1]) for code, people in briefed.items() for p in people)
    expected[("force", "lead@example.org")] = 1
    got: Counter[tuple[str, str]] = Counter()
    for r in server.received:
        msg = r.message
        (to,) = r.rcpt_tos
        place = msg["X-QAM-Place"]
        got[(place, to)] += 1
        files = r.attachments()
        if place == "force":
            assert sorted(files) == ["force.pdf"]
            continue
        # what it carries is the place's own: file names, the PDF's title, every case in the CSV
        assert sorted(files) == [f"{place}-cases.csv", f"{place}.pdf"]
        title = PdfReader(io.BytesIO(files[f"{place}.pdf"])).pages[0].extract_text()
        assert f"Place {place} ({place})" in title
        others = [c for c in briefed if c != place and f"({c})" in title]
        assert others == []
        rows = list(csv.DictReader(io.StringIO(files[f"{place}-cases.csv"].decode("utf-8-sig"))))
        assert rows and all(row["place"] == place for row in rows), rows[:1]
        assert msg["Subject"].strip().startswith(f"Place {place} ({place}) exception briefing")
        # the recipient is on this place's list in the force file
        assert to in {person(p)[1] for p in briefed[place]}
    assert got == expected  # each person once per place, nobody missing, nobody extra
    assert sum(expected.values()) == len(server.received) > 24


def test_the_last_check_refuses_a_misaddressed_message(many: tuple[World, dict[str, list[str]]]) -> None:
    world, briefed = many
    force = world.force
    a, b = list(briefed)[:2]
    stranger = force.place(b).recipients[0]
    planned = Planned(a, stranger, "briefing", "f" * 64, "<x@example.org>", None)
    files = [f"{a}.pdf", f"{a}-cases.csv"]
    if stranger.key not in {r.key for r in force.place(a).recipients}:
        with pytest.raises(RuntimeError, match="not on its list"):
            _check_addressed(planned, force, files, _run_of(world))
    own = Planned(a, force.place(a).recipients[0], "briefing", "f" * 64, "<x@example.org>", None)
    with pytest.raises(RuntimeError, match="would carry"):
        _check_addressed(own, force, [f"{b}.pdf"], _run_of(world))


def _run_of(world: World) -> WeekRun:
    with api.database_for(world.settings) as database:
        return read_week(database, world.out, parse_week(WEEK))
