"""Faults on the way to the mail server, injected into a real one on 127.0.0.1: a refused recipient,
deferrals, the connection dropped in the middle of a message and after it, a server unreachable or
silent, a crash between the server's acceptance and the log, and `qam deliver` killed with -9. Each
outcome is logged, the command says what is undelivered (exit 4), and a later `qam deliver` sends
only that."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from engine import api
from engine.core.errors import ReportError
from engine.core.mail_settings import MailSettings
from engine.core.periods import parse_week
from engine.runs import delivery
from engine.runs.smtp_sender import SendResult, SmtpSender
from tests.conftest import REPO
from tests.delivery.conftest import WEEK, World, mail_settings
from tests.delivery.smtp_server import Received, Recorder, Server, free_port, silent_server, smtp_server

EVERYONE = 5  # the usual world's messages: AAA x2, BBB x2, the force list


def _copies(received: list[Received]) -> Counter[str]:
    return Counter(r.rcpt_tos[0] for r in received)


def test_a_refused_recipient_is_logged_and_sent_later(world: World, server: Server) -> None:
    server.faults.refuse["b.two@example.org"] = "550 5.1.1 <b.two@example.org>: no such user"
    report = world.deliver(server)
    assert not report.complete
    (refused,) = report.undelivered
    assert (refused.recipient.email, refused.outcome, refused.attempts) == ("b.two@example.org", "refused", 1)
    assert "550 5.1.1 <b.two@example.org>: no such user" in refused.detail
    assert len(server.received) == EVERYONE - 1
    status = api.delivery_status(world.settings, WEEK, out=world.out)
    assert [(p.place, p.recipient.email) for p in status.owed] == [("BBB", "b.two@example.org")]
    # the mailbox is fixed: the next run sends that one message, and nothing else
    server.faults.refuse.clear()
    later = world.deliver(server)
    assert later.complete and [o.recipient.email for o in later.outcomes] == ["b.two@example.org"]
    assert later.settled == EVERYONE - 1
    assert _copies(server.received) == Counter({r: 1 for r in _copies(server.received)})
    assert len(server.received) == EVERYONE


def test_deferrals_are_retried_with_backoff(world: World, server: Server) -> None:
    waits: list[float] = []
    server.faults.defer_data = 1  # the first message's data is deferred once
    server.faults.defer["a.two@example.org"] = 2  # the second message is taken at its third attempt
    report = world.deliver(server, backoff=5.0, sleep=waits.append)
    assert report.complete and len(server.received) == EVERYONE
    attempts = {o.recipient.email: o.attempts for o in report.outcomes}
    assert (attempts["a.one@example.org"], attempts["a.two@example.org"]) == (2, 3)
    assert sum(attempts.values()) == EVERYONE + 3
    assert waits == [5.0, 5.0, 10.0]  # 5 s before a retry, twice as long before the next


def test_a_deferral_that_outlasts_the_retries_fails_and_is_sent_later(world: World, server: Server) -> None:
    server.faults.defer["f.example@example.org"] = 99
    report = world.deliver(server)
    (failed,) = report.undelivered
    assert failed.outcome == "failed" and failed.attempts == 3
    assert "451 4.2.0 mailbox busy" in failed.detail and "(after 3 attempts)" in failed.detail
    server.faults.defer.clear()
    later = world.deliver(server)
    assert later.complete and [o.place for o in later.outcomes] == ["force"]
    assert len(server.received) == EVERYONE


def test_a_connection_dropped_mid_message_is_sent_again_once(world: World, server: Server) -> None:
    server.faults.drop_mid_data = 2  # the first message's first two tries
    report = world.deliver(server)
    assert report.complete
    assert [o.attempts for o in report.outcomes] == [3, 1, 1, 1, 1]
    assert _copies(server.received) == Counter({e: 1 for e in _copies(server.received)})
    assert len(server.received) == EVERYONE


def test_a_connection_dropped_after_the_message_resends_it_under_the_same_message_id(
    world: World, server: Server
) -> None:
    server.faults.drop_after_data = 1
    report = world.deliver(server)
    assert report.complete and report.outcomes[0].attempts == 2
    (lost,) = server.recorder.dropped_after_data
    again = next(r for r in server.received if r.rcpt_tos == lost.rcpt_tos)
    # the server may have delivered the first copy: if so, the person sees one message twice
    assert lost.message["Message-ID"] == again.message["Message-ID"]


def test_an_unreachable_server_sends_nothing_then_everything_once_it_is_up(
    world: World, tmp_path: Path
) -> None:
    port = free_port()
    unreachable = Server(port, "none", Recorder(), None, False)
    report = world.deliver(unreachable)
    assert not report.complete and len(report.undelivered) == EVERYONE
    first, *rest = report.outcomes
    assert f"cannot reach the mail server 127.0.0.1:{port}" in first.detail
    assert "(after 3 attempts)" in first.detail
    assert all(o.detail.startswith("not attempted: cannot reach") and o.attempts == 0 for o in rest)
    status = api.delivery_status(world.settings, WEEK, out=world.out)
    assert len(status.owed) == EVERYONE
    with smtp_server(tmp_path) as server:
        later = world.deliver(server, env={"QAM_SMTP_PORT": str(server.port)})
        assert later.complete and len(server.received) == EVERYONE
        assert world.deliver(server).outcomes == ()


def test_a_silent_server_times_out(world: World) -> None:
    with silent_server() as port:
        silent = Server(port, "none", Recorder(), None, False)
        started = time.monotonic()
        report = world.deliver(silent, timeout=0.3)
        assert time.monotonic() - started < 30
    assert not report.complete
    assert "timed out" in report.outcomes[0].detail and "(after 3 attempts)" in report.outcomes[0].detail


class _CrashAfterAccepted(SmtpSender):
    """The server accepts the third message, then the process dies before logging it."""

    def __init__(self, mail: MailSettings, crash_at: int) -> None:
        super().__init__(mail, backoff=0)
        self.crash_at = crash_at
        self.sent = 0

    def send(self, sender: str, recipient: str, data: bytes) -> SendResult:
        result = super().send(sender, recipient, data)
        self.sent += 1
        if self.sent == self.crash_at:
            raise KeyboardInterrupt  # as if killed here: accepted, outcome never written
        return result


def test_a_crash_after_the_server_took_a_message_resends_only_that_one(world: World, server: Server) -> None:
    with api.database_for(world.settings) as database, pytest.raises(KeyboardInterrupt):
        delivery.deliver_week(
            database,
            world.force,
            parse_week(WEEK),
            world.out,
            now=api.now,
            mail=mail_settings(server),
            sender=lambda m: _CrashAfterAccepted(m, crash_at=3),
        )
    assert len(server.received) == 3
    status = api.delivery_status(world.settings, WEEK, out=world.out)
    resend = [p for p in status.owed if p.resend]
    assert len(resend) == 1 and len(status.owed) == EVERYONE - 2
    report = world.deliver(server)
    assert report.complete and len(report.outcomes) == EVERYONE - 2
    copies = _copies(server.received)
    twice = [r for r, n in copies.items() if n == 2]
    assert twice == [resend[0].recipient.email] and sum(copies.values()) == EVERYONE + 1
    ids = {r.message["Message-ID"] for r in server.received if r.rcpt_tos == twice}
    assert len(ids) == 1  # the same message, recognisably


def test_kill_9_while_the_server_holds_a_message(world: World, server: Server) -> None:
    server.faults.hold_after = 2  # the third message's data is never answered
    env = {**os.environ, **server.environ(), "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine",
            "--force",
            str(world.settings.force_file),
            "--database",
            world.settings.database_url,
            "deliver",
            "--week",
            WEEK,
            "--out",
            str(world.out),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not server.recorder.held and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        assert server.recorder.held, child.communicate(timeout=5)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        if child.stdout:
            child.stdout.close()
        if child.stderr:
            child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    assert len(server.received) == 2
    server.faults.hold_after = None
    report = world.deliver(server)
    assert report.complete and len(report.outcomes) == EVERYONE - 2
    held = server.recorder.held[0].rcpt_tos[0]
    assert next(o for o in report.outcomes if o.recipient.email == held).attempts == 1
    # everybody has exactly one copy: the held one was never taken
    assert _copies(server.received) == Counter({r: 1 for r in _copies(server.received)})
    assert len(server.received) == EVERYONE


def test_a_second_deliver_of_the_week_at_once_is_refused(world: World, server: Server) -> None:
    lock = world.out / f".{WEEK}-deliver.lock"
    with lock.open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a first `qam deliver` still at work holds it
        with pytest.raises(ReportError, match="another `qam deliver` of 2026-W47 is running") as info:
            world.deliver(server)
        assert info.value.exit_code == 4 and server.received == []
        assert world.deliver().dry_run  # a dry run sends nothing: it does not wait for the lock
    assert world.deliver(server).complete and len(server.received) == EVERYONE
