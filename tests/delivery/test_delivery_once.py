"""Exactly once: a rerun of `qam deliver` sends nothing new; a new run of the week (after an
amendment) sends a marked update where a place's exceptions changed, nothing where they did not,
and a withdrawal where they are gone; the log says who received what. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import api
from engine.store import db as dbm
from tests.conftest import POSTGRES_URL, PostgresSchemas
from tests.delivery.conftest import FORCE_LIST, PLACES, WEEK, World, build_world, da_row
from tests.delivery.smtp_server import Server


def test_a_rerun_sends_nothing_new(world: World, server: Server) -> None:
    first = world.deliver(server)
    again = world.deliver(server)
    assert len(server.received) == 5 and len(first.outcomes) == 5
    assert again.outcomes == () and again.unchanged == () and again.settled == 5 and again.complete
    status = api.delivery_status(world.settings, WEEK, out=world.out)
    assert status.owed == () and len(status.rows) == 5


def _amend(world: World) -> None:
    """BBB's failing case amended to pass (its exceptions are gone); AAA gets a second failing
    case (its exceptions change); the week is run again."""
    world.submit([da_row("BBB", 1, failing=False)], amend=True, name="amend.csv")
    world.submit([da_row("AAA", 2, failing=True)], name="more.csv")


def test_a_new_run_sends_an_update_a_withdrawal_or_nothing(world: World, server: Server) -> None:
    first = world.deliver(server)
    sent_at = {o.recipient.email: o for o in first.outcomes}
    _amend(world)
    new_run = world.rerun()
    assert new_run != first.run_id
    server.received.clear()
    second = world.deliver(server)
    kinds = {(o.place, o.recipient.email): (o.kind, o.outcome) for o in second.outcomes}
    assert kinds == {
        ("AAA", "a.one@example.org"): ("update", "delivered"),
        ("AAA", "a.two@example.org"): ("update", "delivered"),
        ("BBB", "b.one@example.org"): ("withdrawal", "delivered"),
        ("BBB", "b.two@example.org"): ("withdrawal", "delivered"),
        ("force", "f.example@example.org"): ("update", "delivered"),
    }
    by_to = {r.rcpt_tos[0]: r.message for r in server.received}
    update = by_to["a.one@example.org"]
    # (a header folded right after "Subject:" is read back with the space: RFC 5322 folding)
    assert (
        update["Subject"].strip()
        == "Updated: Place AAA (AAA) exception briefing 2026-W47: 1 critical failure"
    )
    text = update.get_body(("plain",)).get_content()
    assert "This replaces the briefing sent on " in text and f"(run {first.run_id})" in text
    assert update["In-Reply-To"] == sent_at["a.one@example.org"].message_id
    assert update["X-QAM-Run"] == new_run
    assert "DA-AAA-002" in text and "(2 failing cases; section 1)" in text
    withdrawal = by_to["b.one@example.org"]
    assert withdrawal["Subject"].strip() == (
        "Withdrawn: Place BBB (BBB) exception briefing 2026-W47: no exceptions in the latest run"
    )
    assert list(withdrawal.iter_attachments()) == []
    assert "finds no exceptions here" in withdrawal.get_body(("plain",)).get_content()
    # a third run of the same data: nothing at all
    server.received.clear()
    third = world.deliver(server)
    assert third.outcomes == () and server.received == []


def test_nothing_is_sent_when_the_places_exceptions_did_not_change(world: World, server: Server) -> None:
    first = world.deliver(server)
    # a new case at CCC, passing: a new run (new inputs), the same exceptions everywhere
    world.submit([da_row("CCC", 2, failing=False)], name="ccc.csv")
    assert world.rerun() != first.run_id
    server.received.clear()
    second = world.deliver(server)
    assert server.received == [] and second.outcomes == ()
    assert len(second.unchanged) == 5 and all(o.outcome == "unchanged" for o in second.unchanged)
    assert "holds these exceptions already" in second.unchanged[0].detail
    # recorded once: a further deliver finds them settled
    again = world.deliver(server)
    assert again.unchanged == () and again.settled == 5 and server.received == []
    # a new recipient added to AAA's list meanwhile gets the briefing: nobody else does
    force_file = world.settings.force_file
    force_file.write_text(
        force_file.read_text(encoding="utf-8").replace(
            "      - {name: 'Inspector A. Two', email: 'a.two@example.org'}\n",
            "      - {name: 'Inspector A. Two', email: 'a.two@example.org'}\n"
            "      - {name: 'Sergeant A. Three', email: 'a.three@example.org'}\n",
        ),
        encoding="utf-8",
    )
    later = world.deliver(server)
    assert [(o.place, o.recipient.email, o.kind) for o in later.outcomes] == [
        ("AAA", "a.three@example.org", "briefing")
    ]
    assert [r.rcpt_tos for r in server.received] == [["a.three@example.org"]]


@pytest.fixture
def postgres_url(postgres_schemas: PostgresSchemas) -> Iterator[str]:
    name = postgres_schemas.create()
    try:
        yield f"{dbm.normalise_url(POSTGRES_URL)}?options=-csearch_path%3D{name}"
    finally:
        postgres_schemas.drop(name)


@pytest.mark.postgres
def test_exactly_once_on_postgresql(postgres_url: str, tmp_path: Path, server: Server) -> None:
    world = build_world(tmp_path / "pg", postgres_url, PLACES, FORCE_LIST, {"AAA", "BBB"})
    first = world.deliver(server)
    assert first.complete and len(server.received) == 5
    assert world.deliver(server).outcomes == ()
    _amend(world)
    world.rerun()
    second = world.deliver(server)
    assert sorted(o.kind for o in second.outcomes) == [
        "update",
        "update",
        "update",
        "withdrawal",
        "withdrawal",
    ]
    status = api.delivery_status(world.settings, WEEK, out=world.out)
    assert status.owed == () and all(
        r.sent_at and r.sent_at.utcoffset() == dt.timedelta(0) for r in status.rows
    )
    assert len(server.received) == 10
