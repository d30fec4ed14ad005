"""Sending a week's briefings to a real SMTP server on 127.0.0.1 (plain, STARTTLS with AUTH, TLS
with AUTH): who gets what, the message as received (headers, both bodies, attachments byte for
byte), and the password never shown anywhere."""

from __future__ import annotations

import hashlib
import io
from email import message_from_bytes, policy
from email.utils import parseaddr
from html import escape
from pathlib import Path

import pytest
from pypdf import PdfReader

from engine import api
from engine.core.errors import ConfigError
from engine.core.mail_settings import load_mail_settings
from engine.rules.catalogue import DEFAULT_CATALOGUE_FILE, load_measure_catalogue
from tests.delivery.conftest import FORCE_LIST, PLACES, WEEK, World, build_world, person
from tests.delivery.smtp_server import PASSWORD, USER, Server, smtp_server


def _expected_recipients() -> dict[str, set[str]]:
    """Place (or 'force') -> the addresses its message must reach: AAA and BBB have exceptions."""
    out = {code: {person(p)[1] for p in PLACES[code]} for code in ("AAA", "BBB")}
    out["force"] = {person(p)[1] for p in FORCE_LIST}
    return out


@pytest.mark.parametrize(("security", "auth"), [("none", False), ("starttls", True), ("tls", True)])
def test_each_place_with_exceptions_gets_its_own_briefing(
    world: World, tmp_path: Path, security: str, auth: bool
) -> None:
    with smtp_server(tmp_path, security, auth=auth) as server:
        report = world.deliver(server)
        received = list(server.received)
        logins = list(server.recorder.logins)
    assert report.complete and len(report.outcomes) == 5
    assert all(o.outcome == "delivered" and o.attempts == 1 for o in report.outcomes)
    if auth:
        assert logins and all(ok for _, ok in logins)
    got: dict[str, set[str]] = {}
    for r in received:
        msg = r.message
        place = msg["X-QAM-Place"]
        assert r.rcpt_tos == [parseaddr(msg["To"])[1]]
        got.setdefault(place, set()).update(r.rcpt_tos)
        assert r.mail_from == "qam@force.example.org"
        assert msg["From"] == "QAM <qam@force.example.org>"
        assert msg["X-QAM-Run"] == report.run_id and msg["X-QAM-Week"] == WEEK
        assert msg["Auto-Submitted"] == "auto-generated"
        assert msg["Message-ID"].startswith(f"<qam.{report.run_id}.") and msg["Message-ID"].endswith(
            "@force.example.org>"
        )
        # the run's own files, byte for byte
        files = r.attachments()
        names = ["force.pdf"] if place == "force" else [f"{place}.pdf", f"{place}-cases.csv"]
        assert sorted(files) == sorted(names)
        for name, data in files.items():
            assert data == (world.folder / name).read_bytes(), name
    # no place's briefing to anyone else, and nobody at CCC (no exceptions: no message)
    assert got == _expected_recipients()
    assert len(received) == 5


def test_the_message_is_page_one_in_words(world: World, server: Server) -> None:
    world.deliver(server)
    msg = next(r.message for r in server.received if r.message["X-QAM-Place"] == "AAA")
    subject = msg["Subject"].strip()
    assert subject == "Place AAA (AAA) exception briefing 2026-W47: 1 critical failure"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    catalogue = load_measure_catalogue()
    lines = [
        "Place AAA (AAA) · weekly exception briefing · Test Constabulary",
        "1 issue, raised by 1 exception: 1 critical failure.",
        f"Priority 3: {catalogue.priorities[3]}",
        f"Critical failure · D7 {catalogue.measures['D7'].name} · DA02:",
        "not met in case DA-AAA-001",
        "(1 failing case; section 1)",
        "Attached: AAA.pdf and AAA-cases.csv",
    ]
    for line in lines:
        assert line in text and escape(line, quote=False) in html, line
    assert html.startswith("<!DOCTYPE html>")
    # the PDF attached is AAA's
    pdf = next(p for p in msg.iter_attachments() if p.get_filename() == "AAA.pdf")
    reader = PdfReader(io.BytesIO(pdf.get_payload(decode=True)))
    assert "Place AAA (AAA)" in reader.pages[0].extract_text()
    force = next(r.message for r in server.received if r.message["X-QAM-Place"] == "force")
    assert force["Subject"].strip() == (
        "Test Constabulary force summary 2026-W47: 2 of 3 places with exceptions: 2 critical failures"
    )
    body = force.get_body(("plain",)).get_content()
    assert "- Place AAA (AAA), DA: 1 critical failure · D7" in body
    assert "No exceptions this week: Place CCC." in body


def test_the_log_records_each_message(world: World, server: Server) -> None:
    report = world.deliver(server)
    status = api.delivery_status(world.settings, WEEK, out=world.out)
    delivered = [r for r in status.rows if r.outcome == "delivered"]
    assert len(delivered) == 5 and status.owed == ()
    for r in delivered:
        assert r.run_id == report.run_id and r.week == WEEK and r.sent_at is not None
        assert r.kind == "briefing" and r.attempts == 1
    messages = {r.message["Message-ID"] for r in server.received}
    assert {r.message_id for r in delivered} == messages


def test_a_wrong_password_delivers_nothing_and_is_never_shown(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with smtp_server(tmp_path, "starttls", auth=True) as server:
        mail = load_mail_settings(server.environ() | {"QAM_SMTP_PASSWORD": "Wr0ng-" + PASSWORD})
        assert PASSWORD not in repr(mail) and "Wr0ng" not in repr(mail)
        assert USER in mail.describe() and "Wr0ng" not in mail.describe()
        report = world.deliver(server, env={"QAM_SMTP_PASSWORD": "Wr0ng-" + PASSWORD})
        assert server.received == []
    assert not report.complete
    first, *rest = report.outcomes
    assert first.outcome == "failed" and "refused the login: 535" in first.detail
    assert "check QAM_SMTP_USER and QAM_SMTP_PASSWORD" in first.detail
    assert all(o.detail.startswith("not attempted: ") for o in rest)
    status = api.delivery_status(world.settings, WEEK, out=world.out)
    everything = repr(report) + repr(status) + capsys.readouterr().out
    assert "Wr0ng" not in everything and PASSWORD not in everything


def test_an_untrusted_certificate_is_refused_with_what_to_set(world: World, tmp_path: Path) -> None:
    with smtp_server(tmp_path, "tls") as server:
        server.ca_file = None  # the client does not know the server's authority
        report = world.deliver(server)
        assert server.received == []
    assert (
        "its certificate is not trusted (unable to get local issuer certificate)" in report.outcomes[0].detail
    )
    assert "set QAM_SMTP_CA_FILE" in report.outcomes[0].detail


def test_starttls_asked_of_a_server_without_it(world: World, server: Server) -> None:
    server.security = "starttls"
    report = world.deliver(server)
    assert "does not offer STARTTLS" in report.outcomes[0].detail
    assert server.received == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "QAM_SMTP_HOST is not set"),
        ({"QAM_SMTP_HOST": "mail"}, "QAM_MAIL_FROM is not set"),
        ({"QAM_SMTP_HOST": "m", "QAM_MAIL_FROM": "a@b.org", "QAM_SMTP_SECURITY": "ssl"}, "must be one of"),
        (
            {"QAM_SMTP_HOST": "m", "QAM_MAIL_FROM": "a@b.org", "QAM_SMTP_PORT": "99999"},
            "QAM_SMTP_PORT must be",
        ),
        ({"QAM_SMTP_HOST": "m", "QAM_MAIL_FROM": "nobody"}, "QAM_MAIL_FROM is not a valid sender"),
        (
            {"QAM_SMTP_HOST": "m", "QAM_MAIL_FROM": "a@b.org", "QAM_SMTP_USER": "u"},
            "QAM_SMTP_PASSWORD is not",
        ),
        ({"QAM_SMTP_HOST": "m", "QAM_MAIL_FROM": "a@b.org", "QAM_MAIL_MAX_MB": "lots"}, "QAM_MAIL_MAX_MB"),
        (
            {
                "QAM_SMTP_HOST": "m",
                "QAM_MAIL_FROM": "a@b.org",
                "QAM_SMTP_SECURITY": "none",
                "QAM_SMTP_USER": "u",
                "QAM_SMTP_PASSWORD": "p",
            },
            "does not send a password unencrypted",
        ),
    ],
)
def test_bad_mail_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_mail_settings(env)
    assert info.value.exit_code == 3


def test_the_settings_and_their_defaults() -> None:
    mail = load_mail_settings(
        {"QAM_SMTP_HOST": "smtp.example.org", "QAM_MAIL_FROM": "QAM Briefings <QAM@Force.Example.ORG>"}
    )
    assert (mail.host, mail.port, mail.security, mail.user) == ("smtp.example.org", 587, "starttls", None)
    assert (
        mail.mail_from == "QAM Briefings <QAM@force.example.org>" and mail.sender == "QAM@force.example.org"
    )
    assert mail.max_attachment_bytes == 10_000_000
    tls = load_mail_settings({"QAM_SMTP_HOST": "h", "QAM_MAIL_FROM": "a@b.org", "QAM_SMTP_SECURITY": "TLS"})
    assert (tls.security, tls.port) == ("tls", 465)


def test_attachments_over_the_limit_are_not_sent(world: World, server: Server) -> None:
    size = len((world.folder / "AAA.pdf").read_bytes()) + len((world.folder / "AAA-cases.csv").read_bytes())
    report = world.deliver(server, env={"QAM_MAIL_MAX_MB": f"{(size - 1) / 1e6}"})
    too_large = [o for o in report.outcomes if o.outcome == "too_large"]
    assert {o.place for o in too_large} >= {"AAA"} and "QAM_MAIL_MAX_MB" in too_large[0].detail
    assert not report.complete
    assert all(r.message["X-QAM-Place"] not in {o.place for o in too_large} for r in server.received)
    digest = hashlib.sha256((world.folder / "AAA.pdf").read_bytes()).hexdigest()
    assert digest  # the run's files are untouched


def test_the_names_are_those_of_the_catalogue_the_run_used(tmp_path: Path) -> None:
    """A force's own catalogue renames a measure and a priority: the message says what its PDF says."""
    own = tmp_path / "catalogue.yaml"
    text = DEFAULT_CATALOGUE_FILE.read_text(encoding="utf-8")
    own.write_text(
        text.replace(
            "  D7:\n    name: Safeguarding\n", "  D7:\n    name: Safeguarding (our name)\n", 1
        ).replace("  3: Supporting vulnerable people & victims", "  3: Our third priority", 1),
        encoding="utf-8",
    )
    root = tmp_path / "own"
    world = build_world(root, f"sqlite:///{root / 'qam.db'}", PLACES, FORCE_LIST, {"AAA"}, catalogue=own)
    world.deliver()
    eml = (world.out / f"{WEEK}-mail" / "AAA-a.one@example.org.eml").read_bytes()
    text = message_from_bytes(eml, policy=policy.default).get_body(("plain",)).get_content()
    assert "Priority 3: Our third priority" in text and "D7 Safeguarding (our name) · DA02" in text
    pdf = " ".join(PdfReader(world.folder / "AAA.pdf").pages[0].extract_text().split())
    assert "Our third priority" in pdf and "Safeguarding (our name)" in pdf
