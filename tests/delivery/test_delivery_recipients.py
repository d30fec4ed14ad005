"""Recipients in the force file: each place's list and the force list, read with their addresses
checked, and every bad address refused when the file is loaded, naming file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.core.config import DEFAULT_FORCE_FILE, load_force
from engine.core.errors import ExitCode, ProblemsError
from engine.core.recipients import Recipient


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "force.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """force: F
recipients:
  - {name: Chief Superintendent Q. Example, email: q.example@example.org}
places:
  - code: AAA
    name: A
    division: D
    leader: L
    setting: urban
    recipients:
      - name: Chief Inspector A
        email: A.Leader@Example.ORG
      - {name: "Inspector B, deputy", email: b.deputy@example.org}
  - {code: BBB, name: B, division: D, leader: L, setting: rural}
"""


def test_recipients_are_read_for_each_place_and_the_force(tmp_path: Path) -> None:
    force = load_force(write(tmp_path, GOOD))
    assert force.recipients == (Recipient("Chief Superintendent Q. Example", "q.example@example.org"),)
    a, b = force.places
    # the domain is lower-cased, the local part kept as written; compared case-blind
    assert a.recipients == (
        Recipient("Chief Inspector A", "A.Leader@example.org"),
        Recipient("Inspector B, deputy", "b.deputy@example.org"),
    )
    assert a.recipients[0].key == "a.leader@example.org"
    assert a.recipients[1].address() == '"Inspector B, deputy" <b.deputy@example.org>'
    assert b.recipients == ()


def test_the_demo_force_gives_every_place_example_org_recipients() -> None:
    force = load_force(DEFAULT_FORCE_FILE)
    assert force.recipients and all(r.email.endswith("@example.org") for r in force.recipients)
    for place in force.places:
        assert place.recipients, place.code
        assert all(r.email.endswith("@example.org") for r in place.recipients)


def test_every_bad_recipient_is_refused_with_file_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "force: F\n"
        "recipients: {name: X, email: x@example.org}\n"  # 2: not a list
        "places:\n"
        "  - code: AAA\n"
        "    name: A\n"
        "    division: D\n"
        "    leader: L\n"
        "    setting: urban\n"
        "    recipients:\n"
        "      - {name: Leader, email: leader.example.org}\n"  # 10: no @
        "      - {name: Deputy, email: 'Deputy <d@example.org>'}\n"  # 11: display name
        "      - {name: Third, email: third@localhost}\n"  # 12: no dot in the domain
        "      - {name: '', email: e@example.org}\n"  # 13: empty name
        "      - {name: Fifth, email: fifth@example.org, phone: 123}\n"  # 14: unknown key
        "      - {name: Sixth}\n"  # 15: no email
        "      - {name: Again, email: LEADER2@example.org}\n"  # 16
        "      - {name: Twice, email: leader2@EXAMPLE.org}\n"  # 17: the same address again
        "      - just text\n",  # 18
    )
    with pytest.raises(ProblemsError) as info:
        load_force(path)
    text = str(info.value)
    expected = [
        f"{path}:2:recipients: must be a list of {{name, email}}",
        f"{path}:10:places.0.recipients.0.email: 'leader.example.org' is not a valid e-mail address: "
        "An email address must have an @-sign.",
        f"{path}:11:places.0.recipients.1.email: 'Deputy <d@example.org>' is not a valid e-mail address",
        f"{path}:12:places.0.recipients.2.email: 'third@localhost' is not a valid e-mail address",
        f"{path}:13:places.0.recipients.3.name: must be non-empty text",
        f"{path}:14:places.0.recipients.4.phone: Unknown field.",
        f"{path}:15:places.0.recipients.5.email: Missing data for required field.",
        f"{path}:17:places.0.recipients.7.email: 'leader2@EXAMPLE.org' is listed twice "
        "(first as places.0.recipients.6)",
        f"{path}:18:places.0.recipients.8: must be a mapping {{name: ..., email: ...}}",
    ]
    for line in expected:
        assert line in text, line
    assert info.value.exit_code == ExitCode.INVALID_INPUT


def test_the_same_person_may_receive_two_places_briefings(tmp_path: Path) -> None:
    force = load_force(
        write(
            tmp_path,
            "force: F\nplaces:\n"
            "  - {code: AAA, name: A, division: D, leader: L, setting: urban,"
            " recipients: [{name: Div Cdr, email: cdr@example.org}]}\n"
            "  - {code: BBB, name: B, division: D, leader: L, setting: urban,"
            " recipients: [{name: Div Cdr, email: cdr@example.org}]}\n",
        )
    )
    assert force.places[0].recipients == force.places[1].recipients


def test_qam_init_refuses_a_bad_address_before_touching_the_database(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("b.deputy@example.org", "b.deputy@@example.org"))
    db = tmp_path / "qam.db"
    result = CliRunner().invoke(app, ["--force", str(path), "--database", f"sqlite:///{db}", "init"])
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert f"{path}:13:places.0.recipients.1.email: 'b.deputy@@example.org' is not a valid" in result.output
    assert not db.exists()
