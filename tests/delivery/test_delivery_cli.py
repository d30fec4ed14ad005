"""`qam deliver` and `qam weekly --deliver` on the command line: what they print, the .eml files of
a dry run, --status, the exit codes (2 usage, 3 settings, 4 undelivered or no usable run), and the
password never printed."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from engine import api
from engine.cli import app
from engine.core.errors import ExitCode
from tests.delivery.conftest import FORCE_LIST, PLACES, WEEK, World, force_yaml
from tests.delivery.smtp_server import PASSWORD, Server, smtp_server


def qam(world: World, *args: str, env: dict[str, str] | None = None) -> Result:
    base = ["--force", str(world.settings.force_file), "--database", world.settings.database_url]
    environ = {"QAM_RULESETS": str(world.settings.rulesets_dir)} | (env or {})
    return CliRunner().invoke(app, [*base, *args], env=environ)


def deliver(world: World, *args: str, env: dict[str, str] | None = None) -> Result:
    return qam(world, "deliver", "--week", WEEK, "--out", str(world.out), *args, env=env)


def test_help_names_the_options_and_the_settings() -> None:
    result = CliRunner().invoke(app, ["deliver", "--help"])
    assert result.exit_code == 0
    for text in (
        "--week",
        "--out",
        "--dry-run",
        "--status",
        "QAM_SMTP_HOST",
        "QAM_SMTP_PASSWORD",
        "Example:",
    ):
        assert text in result.output
    weekly = CliRunner().invoke(app, ["weekly", "--help"])
    assert "--deliver" in weekly.output


def test_a_dry_run_writes_the_messages_and_sends_and_records_nothing(world: World) -> None:
    result = deliver(world, "--dry-run")
    assert result.exit_code == 0, result.output
    folder = world.out / f"{WEEK}-mail"
    assert result.output.startswith(f"DRY RUN {WEEK} (run ")
    assert f"5 messages written to {folder}; nothing sent, nothing recorded" in result.output
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "AAA-a.one@example.org.eml",
        "AAA-a.two@example.org.eml",
        "BBB-b.one@example.org.eml",
        "BBB-b.two@example.org.eml",
        "force-f.example@example.org.eml",
    ]
    msg = message_from_bytes((folder / "AAA-a.one@example.org.eml").read_bytes(), policy=policy.default)
    assert msg["To"] == '"Chief Inspector A. One" <a.one@example.org>'
    assert msg["From"] == "QAM <qam@example.invalid>"  # no QAM_MAIL_FROM: a placeholder
    pdf = next(p for p in msg.iter_attachments() if p.get_filename() == "AAA.pdf")
    assert pdf.get_payload(decode=True) == (world.folder / "AAA.pdf").read_bytes()
    # nothing recorded: everything is still owed, and a real delivery sends all of it
    status = deliver(world, "--status")
    assert status.exit_code == 0 and f"Nothing recorded for {WEEK} yet." in status.output
    assert "5 messages owed (`qam deliver --week 2026-W47` sends them)" in status.output
    # a second dry run replaces the files
    (folder / "stale.eml").write_text("old", encoding="utf-8")
    assert deliver(world, "--dry-run").exit_code == 0
    assert not (folder / "stale.eml").exists()


def test_deliver_then_status(world: World, server: Server) -> None:
    result = deliver(world, env=server.environ())
    assert result.exit_code == 0, result.output
    assert f"5 messages delivered through 127.0.0.1:{server.port} (none)" in result.output
    again = deliver(world, env=server.environ())
    assert (
        again.exit_code == 0
        and "0 messages delivered" in again.output
        and "5 already delivered" in again.output
    )
    status = deliver(world, "--status")
    assert status.exit_code == 0
    assert status.output.count(" delivered ") == 5 and "everything is delivered" in status.output
    assert len(server.received) == 5


def test_weekly_deliver_runs_the_week_then_sends(world: World, server: Server) -> None:
    result = qam(world, "weekly", "--week", WEEK, "--out", str(world.out), "--deliver", env=server.environ())
    assert result.exit_code == 0, result.output
    assert "2 places briefed" in result.output and "5 messages delivered" in result.output
    assert len(server.received) == 5
    # the same week again: the run is identical, nothing more is sent
    result = qam(world, "weekly", "--week", WEEK, "--out", str(world.out), "--deliver", env=server.environ())
    assert result.exit_code == 0 and "0 messages delivered" in result.output and len(server.received) == 5


def test_undelivered_messages_exit_4_and_a_later_run_sends_them(
    world: World, server: Server, no_backoff: None
) -> None:
    server.faults.refuse["a.two@example.org"] = "550 5.1.1 no such user"
    result = deliver(world, env=server.environ())
    assert result.exit_code == ExitCode.STORAGE
    assert (
        "Error: not everything can be delivered (`qam deliver --week 2026-W47` later sends only what is owed):\n"
        "AAA to a.two@example.org: refused: recipient a.two@example.org refused: 550 5.1.1 no such user"
    ) in result.output
    server.faults.refuse.clear()
    later = deliver(world, env=server.environ())
    assert later.exit_code == 0 and "1 message delivered" in later.output
    assert len(server.received) == 5


def test_the_password_is_never_printed(world: World, tmp_path: Path, no_backoff: None) -> None:
    with smtp_server(tmp_path, "starttls", auth=True) as server:
        wrong = qam(
            world,
            "weekly",
            "--week",
            WEEK,
            "--out",
            str(world.out),
            "--deliver",
            env=server.environ() | {"QAM_SMTP_PASSWORD": "Wr0ng-" + PASSWORD},
        )
        assert server.received == []
        ok = deliver(world, env=server.environ())
        assert len(server.received) == 5
    assert wrong.exit_code == ExitCode.STORAGE
    assert (
        "refused the login: 535" in wrong.output
        and "check QAM_SMTP_USER and QAM_SMTP_PASSWORD" in wrong.output
    )
    assert ok.exit_code == 0, ok.output
    status = deliver(world, "--status")
    for text in (ok.output, wrong.output, status.output):
        assert PASSWORD not in text and "Wr0ng" not in text


@pytest.mark.parametrize(
    ("args", "env", "code", "message"),
    [
        ((), {}, ExitCode.INVALID_INPUT, "QAM_SMTP_HOST is not set"),
        (("--dry-run", "--status"), {}, ExitCode.USAGE, "--dry-run and --status cannot be given together"),
    ],
)
def test_exit_codes(
    world: World, args: tuple[str, ...], env: dict[str, str], code: int, message: str
) -> None:
    result = deliver(world, *args, env=env)
    assert result.exit_code == code and result.output.startswith("Error: ") and message in result.output


def test_a_week_without_a_run_or_a_bad_week(world: World) -> None:
    missing = qam(world, "deliver", "--week", "2026-W46", "--out", str(world.out), "--dry-run")
    assert missing.exit_code == ExitCode.STORAGE
    assert f"Error: no weekly run's files for 2026-W46 in {world.out}" in missing.output
    assert "Run `qam weekly --week 2026-W46" in missing.output
    bad = qam(world, "deliver", "--week", "2026-47", "--dry-run")
    assert bad.exit_code == ExitCode.USAGE
    draft = qam(world, "weekly", "--week", WEEK, "--draft", "--deliver")
    assert draft.exit_code == ExitCode.USAGE and "drafts are never e-mailed" in draft.output


def test_a_file_changed_by_hand_is_not_sent(world: World, server: Server) -> None:
    pdf = world.folder / "BBB.pdf"
    pdf.write_bytes(pdf.read_bytes() + b"\n% edited")
    result = deliver(world, env=server.environ())
    assert result.exit_code == ExitCode.STORAGE
    assert f"{pdf} is not the file run " in result.output and "changed by hand" in result.output
    assert server.received == []


def test_a_draft_run_is_never_e_mailed(world: World) -> None:
    api.weekly(world.settings, WEEK, out=world.out, draft=True)
    result = deliver(world, "--dry-run")
    assert result.exit_code == ExitCode.STORAGE and "is a DRAFT" in result.output


def test_a_place_with_exceptions_and_nobody_to_send_to(world: World, server: Server) -> None:
    world.settings.force_file.write_text(force_yaml(PLACES | {"BBB": []}, FORCE_LIST), encoding="utf-8")
    result = deliver(world, env=server.environ())
    assert result.exit_code == ExitCode.STORAGE
    assert (
        "BBB: exceptions, but nobody to send them to (places.1.recipients in the force file)" in result.output
    )
    assert sorted(r.rcpt_tos[0] for r in server.received) == [
        "a.one@example.org",
        "a.two@example.org",
        "f.example@example.org",
    ]
