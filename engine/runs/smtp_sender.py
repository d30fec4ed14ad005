"""Talking to the mail server for `qam deliver`: one connection reused for the batch (plain, STARTTLS
or implicit TLS, with AUTH when a user is set), each message retried with backoff while the server's
trouble is transient (4xx answers, a dropped connection, a timeout), refused at once on a 5xx.

What cannot get better by retrying this batch (the server unreachable after every attempt, a login
refused, the TLS certificate not trusted, the sender refused) is a ServerUnusable: the caller then
stops and records the rest as not attempted. The password never appears in any message.
"""

from __future__ import annotations

import base64
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

from engine.core.mail_settings import MailSettings

#: tries per message (the first and the retries) while the trouble is transient
DEFAULT_ATTEMPTS = 3
#: seconds before the n-th retry: BACKOFF * 2 ** (n - 1), so 5 s, then 10 s
DEFAULT_BACKOFF = 5.0
#: seconds to wait for the server at each step (connect, each command, the message's data)
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class SendResult:
    """What became of one message: delivered, refused (a 5xx: retrying will not help) or failed
    (still transient after every attempt), after how many attempts, and the server's words."""

    outcome: str  # delivered | refused | failed
    attempts: int
    detail: str


class ServerUnusable(Exception):
    """The mail server cannot take any message this batch; ``str()`` says why, for the log."""


class _Transient(Exception):
    pass


class SmtpSender:
    """Sends messages through the configured server. Use as a context manager; ``sleep`` is the
    backoff's clock (tests pass one that does not wait)."""

    def __init__(
        self,
        settings: MailSettings,
        *,
        attempts: int | None = None,
        backoff: float | None = None,
        timeout: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if settings.host is None:
            raise ValueError("no mail server configured")
        self.settings = settings
        self.attempts = max(1, DEFAULT_ATTEMPTS if attempts is None else attempts)
        self.backoff = DEFAULT_BACKOFF if backoff is None else backoff
        self.timeout = DEFAULT_TIMEOUT if timeout is None else timeout
        self.sleep = sleep
        self._conn: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()

    # ------------------------------------------------------------------ sending

    def send(self, sender: str, recipient: str, data: bytes) -> SendResult:
        """Send one message to one recipient; ServerUnusable when no message can go this batch."""
        last = ""
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                self.sleep(self.backoff * 2 ** (attempt - 2))
            try:
                conn = self._connection()
            except _Transient as exc:
                last = str(exc)
                if attempt == self.attempts:
                    raise ServerUnusable(f"{last} (after {attempt} attempts)") from None
                continue
            try:
                conn.sendmail(sender, [recipient], data)
                return SendResult("delivered", attempt, "accepted by the mail server")
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = next(iter(exc.recipients.values()), (0, b""))
                reply = self._reply(code, text, f"recipient {recipient} refused")
                if 400 <= code < 500:
                    last = reply
                    continue
                return SendResult("refused", attempt, reply)
            except smtplib.SMTPSenderRefused as exc:
                reply = self._reply(exc.smtp_code, exc.smtp_error, f"sender {sender} refused")
                if 400 <= exc.smtp_code < 500:
                    last = reply
                    continue
                raise ServerUnusable(reply) from None
            except smtplib.SMTPResponseException as exc:  # the message's data refused, or a command
                reply = self._reply(exc.smtp_code, exc.smtp_error, "message refused")
                if 400 <= exc.smtp_code < 500:
                    self._drop()
                    last = reply
                    continue
                return SendResult("refused", attempt, reply)  # e.g. 552: too big for this server
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                # dropped mid-message or timed out: the server may not have taken it; try again
                self._drop()
                last = (
                    f"connection lost while sending ({_scrub(str(exc) or type(exc).__name__, self.settings)})"
                )
        return SendResult("failed", self.attempts, f"{last} (after {self.attempts} attempts)")

    # ------------------------------------------------------------------ the connection

    def _connection(self) -> smtplib.SMTP:
        """The open connection, or a new one; _Transient (worth another try) or ServerUnusable."""
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        where = f"{s.host}:{s.port}"
        try:
            return self._connect(where)
        except ssl.SSLCertVerificationError as exc:
            raise ServerUnusable(
                f"TLS with the mail server {where} failed: its certificate is not trusted "
                f"({exc.verify_message or exc.reason}): set QAM_SMTP_CA_FILE to the certificate "
                "authority it uses"
            ) from None
        except ssl.SSLError as exc:
            raise ServerUnusable(f"TLS with the mail server {where} failed: {exc.reason or exc}") from None
        except smtplib.SMTPAuthenticationError as exc:
            refused = self._reply(exc.smtp_code, exc.smtp_error, f"the mail server {where} refused the login")
            raise ServerUnusable(f"{refused}: check QAM_SMTP_USER and QAM_SMTP_PASSWORD") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise ServerUnusable(f"the mail server {where}: {_scrub(str(exc), s)}") from None
        except smtplib.SMTPResponseException as exc:
            reply = self._reply(exc.smtp_code, exc.smtp_error, f"the mail server {where}")
            if 400 <= exc.smtp_code < 500:
                raise _Transient(reply) from None
            raise ServerUnusable(reply) from None
        except (smtplib.SMTPException, OSError) as exc:
            why = _scrub(str(exc) or type(exc).__name__, s)
            raise _Transient(f"cannot reach the mail server {where}: {why}") from None

    def _connect(self, where: str) -> smtplib.SMTP:
        s = self.settings
        assert s.host is not None
        conn: smtplib.SMTP | None = None
        try:
            if s.security == "tls":
                conn = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout, context=self._tls_context())
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
            conn.ehlo()
            if s.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise ServerUnusable(
                        f"the mail server {where} does not offer STARTTLS: set QAM_SMTP_SECURITY=tls "
                        "if it takes TLS from the start, or none for a relay that takes plain SMTP"
                    )
                conn.starttls(context=self._tls_context())
                conn.ehlo()
            if s.user is not None:
                conn.login(s.user, s.password or "")
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        return conn

    def _tls_context(self) -> ssl.SSLContext:
        ca = self.settings.ca_file
        return ssl.create_default_context(cafile=str(ca) if ca else None)

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _reply(self, code: int, text: bytes | str, what: str) -> str:
        words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        return _scrub(f"{what}: {code} {words}".strip(), self.settings)


def _scrub(text: str, settings: MailSettings) -> str:
    """``text`` without the password, plain or as AUTH PLAIN/LOGIN would have sent it in base64."""
    secret = settings.password
    if not secret:
        return text
    forms = {secret, base64.b64encode(secret.encode()).decode()}
    if settings.user:
        forms.add(base64.b64encode(f"\0{settings.user}\0{secret}".encode()).decode())
    for form in forms:
        text = text.replace(form, "********")
    return text
