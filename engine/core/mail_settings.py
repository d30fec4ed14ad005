"""How `qam deliver` reaches the mail server: QAM_SMTP_* and QAM_MAIL_* from the environment (a
contract: docs/delivery.md). The password is never printed: not in a repr, an error or the log.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formataddr, parseaddr
from pathlib import Path

from engine.core.errors import ConfigError
from engine.core.recipients import checked_address

ENV_SMTP_HOST = "QAM_SMTP_HOST"
ENV_SMTP_PORT = "QAM_SMTP_PORT"
ENV_SMTP_SECURITY = "QAM_SMTP_SECURITY"
ENV_SMTP_USER = "QAM_SMTP_USER"
ENV_SMTP_PASSWORD = "QAM_SMTP_PASSWORD"
ENV_SMTP_CA_FILE = "QAM_SMTP_CA_FILE"
ENV_MAIL_FROM = "QAM_MAIL_FROM"
ENV_MAIL_MAX_MB = "QAM_MAIL_MAX_MB"

SECURITY_MODES = ("starttls", "tls", "none")
DEFAULT_SECURITY = "starttls"
#: the usual port of each security mode (submission with STARTTLS, implicit TLS, plain SMTP)
DEFAULT_PORTS: Mapping[str, int] = {"starttls": 587, "tls": 465, "none": 25}
#: the attachments of one message, at most (before base64 adds a third): many servers refuse 10-25 MB
DEFAULT_MAX_MB = 10.0
#: the From of the .eml files a dry run writes when QAM_MAIL_FROM is not set
DRY_RUN_FROM = "QAM <qam@example.invalid>"


@dataclass(frozen=True)
class MailSettings:
    """The mail server and the sender. ``host`` is None for a dry run without a server configured."""

    host: str | None
    port: int
    security: str  # starttls | tls | none
    user: str | None
    password: str | None = field(default=None, repr=False)
    mail_from: str = DRY_RUN_FROM  # 'Name <address>' or an address
    max_attachment_bytes: int = int(DEFAULT_MAX_MB * 1_000_000)
    ca_file: Path | None = None

    @property
    def sender(self) -> str:
        """The envelope sender (MAIL FROM): the address of ``mail_from``."""
        return parseaddr(self.mail_from)[1]

    @property
    def sender_domain(self) -> str:
        return self.sender.rpartition("@")[2] or "qam.invalid"

    def describe(self) -> str:
        """'smtp.example.org:587 (starttls, as qam-mailer)': where mail goes; never the password."""
        who = f", as {self.user}" if self.user else ""
        return f"{self.host}:{self.port} ({self.security}{who})"


def load_mail_settings(environ: Mapping[str, str] | None = None, *, sending: bool = True) -> MailSettings:
    """The mail settings from the environment; ConfigError (exit 3) naming every variable that is
    missing or wrong. ``sending=False`` (a dry run) needs no server and no sender."""
    env = os.environ if environ is None else environ
    problems: list[str] = []

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    host = get(ENV_SMTP_HOST)
    if sending and host is None:
        problems.append(f"{ENV_SMTP_HOST} is not set: the mail server to send through, e.g. smtp.example.org")
    security = (get(ENV_SMTP_SECURITY) or DEFAULT_SECURITY).lower()
    if security not in SECURITY_MODES:
        problems.append(f"{ENV_SMTP_SECURITY} must be one of {', '.join(SECURITY_MODES)} (got '{security}')")
        security = DEFAULT_SECURITY
    port = DEFAULT_PORTS[security]
    if (text := get(ENV_SMTP_PORT)) is not None:
        if text.isdigit() and 0 < int(text) < 65536:
            port = int(text)
        else:
            problems.append(f"{ENV_SMTP_PORT} must be a port number from 1 to 65535 (got '{text}')")
    user, password = get(ENV_SMTP_USER), env.get(ENV_SMTP_PASSWORD) or None
    if password is not None and user is None:
        problems.append(f"{ENV_SMTP_PASSWORD} is set but {ENV_SMTP_USER} is not: set both, or neither")
    if user is not None and password is None:
        problems.append(f"{ENV_SMTP_USER} is set but {ENV_SMTP_PASSWORD} is not: set both, or neither")
    if user is not None and security == "none" and sending:
        problems.append(
            f"{ENV_SMTP_USER} is set with {ENV_SMTP_SECURITY}=none: QAM does not send a password "
            "unencrypted; use starttls or tls"
        )
    mail_from = DRY_RUN_FROM
    if (text := get(ENV_MAIL_FROM)) is not None:
        name, address = parseaddr(text)
        checked, why = checked_address(address) if address else (None, "no address")
        if checked is None:
            problems.append(f"{ENV_MAIL_FROM} is not a valid sender ('{text}'): {why}")
        else:
            mail_from = formataddr((name, checked)) if name else checked
    elif sending:
        problems.append(f"{ENV_MAIL_FROM} is not set: the sender, e.g. 'QAM <qam@force.example.org>'")
    limit = DEFAULT_MAX_MB
    if (text := get(ENV_MAIL_MAX_MB)) is not None:
        try:
            limit = float(text)
            if not 0 < limit < 10_000:
                raise ValueError(text)
        except ValueError:
            problems.append(f"{ENV_MAIL_MAX_MB} must be a number of megabytes, e.g. 10 (got '{text}')")
            limit = DEFAULT_MAX_MB
    ca_file = Path(text) if (text := get(ENV_SMTP_CA_FILE)) is not None else None
    if ca_file is not None and not ca_file.is_file():
        problems.append(f"{ENV_SMTP_CA_FILE} names no file: {ca_file}")
    if problems:
        raise ConfigError("\n".join(["the mail settings are incomplete or wrong:", *problems]))
    return MailSettings(
        host=host,
        port=port,
        security=security,
        user=user,
        password=password,
        mail_from=mail_from,
        max_attachment_bytes=int(limit * 1_000_000),
        ca_file=ca_file,
    )
