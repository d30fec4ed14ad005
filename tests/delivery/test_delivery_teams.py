"""A place whose only exceptions are its teams' is sent its briefing, which lists them; when they are
gone, its recipients are told the briefing is withdrawn (delivery fingerprints count team
exceptions as the place's own)."""

from __future__ import annotations

from engine.demo.factories import build_row
from tests.delivery.conftest import MONDAY, World
from tests.delivery.smtp_server import Server


def searches(team: str, first: int, n: int, *, missing: bool) -> list[dict[str, str]]:
    return [
        build_row(
            "stop_search",
            assessment_id=f"QA-CCC-SS-{i:03d}",
            case_ref=f"SS-CCC-{i:03d}",
            place="CCC",
            team=team,
            assessed_on=MONDAY,
            case_date="2026-11-10",
            grounds_missing=missing,
        )
        for i in range(first, first + n)
    ]


def test_a_place_with_team_exceptions_only_is_briefed_then_withdrawn(world: World, server: Server) -> None:
    # CCC: Response X recorded no grounds in 6 searches (0%, interval 0% to 39%); Response Y in none
    # of 60; the place's 60 of 66 (91%, interval 81% to 96%) reaches the 90% minimum
    world.submit(searches("Response X", 0, 6, missing=True) + searches("Response Y", 6, 60, missing=False))
    world.rerun()
    first = world.deliver(server)
    ccc = {o.recipient.email: o for o in first.outcomes if o.place == "CCC"}
    assert {e: (o.kind, o.outcome) for e, o in ccc.items()} == {
        "c.one@example.org": ("briefing", "delivered")
    }
    message = next(r.message for r in server.received if r.rcpt_tos == ["c.one@example.org"])
    assert message["Subject"].strip().endswith("exception briefing 2026-W47: 2 team exceptions")
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "No exceptions for the place as a whole this week." in text
    assert "Team exceptions\n\nTeam Response X\n" in text and "Response Y" not in text
    assert sorted(a.get_filename() for a in message.iter_attachments()) == ["CCC-cases.csv", "CCC.pdf"]
    force = next(r.message for r in server.received if r.rcpt_tos == ["f.example@example.org"])
    assert "Place CCC (CCC), DC: 2 team exceptions" in force.get_body(("plain",)).get_content()

    # the searches amended to record their grounds: the team exceptions are gone, so is the briefing
    world.submit(searches("Response X", 0, 6, missing=False), amend=True, name="amend.csv")
    world.rerun()
    server.received.clear()
    second = world.deliver(server)
    kinds = {(o.place, o.kind) for o in second.outcomes if o.place == "CCC"}
    assert kinds == {("CCC", "withdrawal")}
