"""A real SMTP server for the delivery tests: aiosmtpd on 127.0.0.1 (plain, STARTTLS, implicit TLS,
AUTH), keeping every message it accepts, with faults to inject: recipients refused (5xx) or deferred
(4xx), the message's data deferred, the connection dropped in the middle of the message or after
it but before the answer, and a port that accepts connections and never says anything."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

# aiosmtpd logs each connection and a deprecation notice per login at WARNING
logging.getLogger("mail.log").setLevel(logging.ERROR)

USER = "qam-mailer"
PASSWORD = "s3cret-Pa55word!"


@dataclass
class Received:
    """One message the server accepted: the envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        msg = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg

    def attachments(self) -> dict[str, bytes]:
        return {
            str(part.get_filename()): part.get_payload(decode=True)
            for part in self.message.iter_attachments()
        }


@dataclass
class Faults:
    """What the server does wrong, counted down as it does it."""

    #: address -> the 5xx answer to its RCPT TO, every time
    refuse: dict[str, str] = field(default_factory=dict)
    #: address -> how many times its RCPT TO is deferred (451) before it is taken
    defer: dict[str, int] = field(default_factory=dict)
    #: how many messages' data are deferred (451) before they are taken
    defer_data: int = 0
    #: how many connections are dropped after a line of the message's data
    drop_mid_data: int = 0
    #: how many connections are dropped after the whole message, before the answer (the message
    #: may then be delivered: the client cannot tell)
    drop_after_data: int = 0
    #: the data of the message after this many accepted ones is held unanswered (a process killed
    #: while it waits never learns of it, and the server never takes it)
    hold_after: int | None = None


class Recorder:
    """The aiosmtpd handler: keeps what it accepts, injects the faults."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.dropped_after_data: list[Received] = []
        self.logins: list[tuple[str, bool]] = []
        self.held: list[Received] = []
        self.faults = Faults()
        self.lock = threading.Lock()

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        with self.lock:
            if address in self.faults.refuse:
                return self.faults.refuse[address]
            if self.faults.defer.get(address, 0) > 0:
                self.faults.defer[address] -= 1
                return "451 4.2.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        got = Received(
            str(envelope.mail_from), list(envelope.rcpt_tos), bytes(envelope.original_content or b"")
        )
        with self.lock:
            hold = self.faults.hold_after is not None and len(self.received) >= self.faults.hold_after
            if hold:
                self.held.append(got)
        if hold:
            await asyncio.sleep(3600)
        with self.lock:
            if self.faults.defer_data > 0:
                self.faults.defer_data -= 1
                return "451 4.3.0 temporary failure, try again later"
            if self.faults.drop_after_data > 0:
                self.faults.drop_after_data -= 1
                self.dropped_after_data.append(got)
                assert server.transport is not None
                server.transport.abort()
                return "250 never heard"
            self.received.append(got)
        return "250 2.0.0 accepted"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        with self.lock:
            self.logins.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)


class _FaultySMTP(SMTP):
    """aiosmtpd's server, able to drop the connection in the middle of a message's data."""

    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802 (aiosmtpd's name)
        recorder = self.event_handler
        assert isinstance(recorder, Recorder)
        drop = False
        with recorder.lock:
            if recorder.faults.drop_mid_data > 0 and self.envelope.rcpt_tos:
                recorder.faults.drop_mid_data -= 1
                drop = True
        if not drop:
            await super().smtp_DATA(arg)
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        await self._reader.readline()
        assert self.transport is not None
        self.transport.abort()
        raise ConnectionResetError("dropped in the middle of the message (a fault injected)")


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _FaultySMTP(self.handler, **self.SMTP_kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    """A running server: where it is, what it received, how a client trusts it."""

    port: int
    security: str  # none | starttls | tls
    recorder: Recorder
    ca_file: Path | None
    auth: bool

    @property
    def received(self) -> list[Received]:
        return self.recorder.received

    @property
    def faults(self) -> Faults:
        return self.recorder.faults

    def environ(self, mail_from: str = "QAM <qam@force.example.org>") -> dict[str, str]:
        """The QAM_SMTP_* and QAM_MAIL_FROM settings that reach this server."""
        env = {
            "QAM_SMTP_HOST": "127.0.0.1",
            "QAM_SMTP_PORT": str(self.port),
            "QAM_SMTP_SECURITY": self.security,
            "QAM_MAIL_FROM": mail_from,
        }
        if self.ca_file is not None:
            env["QAM_SMTP_CA_FILE"] = str(self.ca_file)
        if self.auth:
            env |= {"QAM_SMTP_USER": USER, "QAM_SMTP_PASSWORD": PASSWORD}
        return env


@contextmanager
def smtp_server(tmp_path: Path, security: str = "none", *, auth: bool = False) -> Iterator[Server]:
    """An aiosmtpd server on 127.0.0.1, stopped afterwards. ``security`` starttls or tls gives it a
    certificate from a throwaway CA (written to tmp_path for QAM_SMTP_CA_FILE); ``auth`` requires
    AUTH with USER and PASSWORD (offered only over TLS)."""
    recorder = Recorder()
    port = free_port()
    kwargs: dict[str, Any] = {}
    ca_file = None
    if security != "none":
        ca = trustme.CA()
        ca_file = tmp_path / "smtp-ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        if security == "starttls":
            kwargs |= {"tls_context": context, "require_starttls": True}
        else:  # TLS from the start: aiosmtpd counts only STARTTLS as TLS for AUTH
            kwargs |= {"ssl_context": context, "auth_require_tls": False}
    if auth:  # over TLS from the start AUTH is offered, not required (aiosmtpd would warn)
        kwargs |= {"authenticator": recorder.authenticate, "auth_required": security == "starttls"}
    controller = _Controller(recorder, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield Server(port, security, recorder, ca_file, auth)
    finally:
        controller.stop()


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that takes connections and never answers (the SMTP greeting never comes)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield s.getsockname()[1]
