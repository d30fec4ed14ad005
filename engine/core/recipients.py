"""Who a briefing goes to: the force file's ``recipients`` lists (a place's leader and deputies, and
the force list for force.pdf), each address checked when the force file is loaded (docs/delivery.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formataddr
from typing import Any

#: a recipient's keys, both required
RECIPIENT_KEYS = ("name", "email")


@dataclass(frozen=True)
class Recipient:
    """One person a briefing is sent to: a name and an e-mail address (its domain in ASCII)."""

    name: str
    email: str

    @property
    def key(self) -> str:
        """The address compared case-blind: the same person however the force file spells it."""
        return self.email.lower()

    def address(self) -> str:
        """'Chief Inspector R. Example <r.example@example.org>', quoted where the name needs it."""
        return formataddr((self.name, self.email))


def checked_address(text: str) -> tuple[str | None, str | None]:
    """(the address as sent, None) for a valid e-mail address, or (None, why it is not one).

    Syntax only, never a DNS look-up: a force file is checked where no network may be. Non-ASCII
    before the @ is refused (not every mail server takes it); a non-ASCII domain is kept in its
    ASCII (IDNA) form.
    """
    from email_validator import EmailNotValidError, validate_email  # only force files with recipients

    try:
        found = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        return None, str(exc)
    return found.ascii_email or found.normalized, None


def read_recipients(raw: Any, where: str, problem: Callable[[str, str], None]) -> tuple[Recipient, ...]:
    """The recipients of one ``recipients:`` list (``where`` is its field path, e.g.
    ``places.3.recipients``); each problem is reported as ``problem(field path, message)`` and the
    recipient left out. An address listed twice in one list is a problem."""
    if raw is None or raw == []:
        return ()
    if not isinstance(raw, list):
        problem(where, "must be a list of {name, email}")
        return ()
    out: list[Recipient] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        path = f"{where}.{i}"
        if not isinstance(item, dict):
            problem(path, "must be a mapping {name: ..., email: ...}")
            continue
        bad = False
        for key in item:
            if key not in RECIPIENT_KEYS:
                problem(f"{path}.{key}", "Unknown field.")
                bad = True
        values: dict[str, str] = {}
        for key in RECIPIENT_KEYS:
            value = item.get(key)
            if value is None:
                problem(f"{path}.{key}", "Missing data for required field.")
                bad = True
            elif not isinstance(value, str) or not value.strip():
                problem(f"{path}.{key}", "must be non-empty text")
                bad = True
            else:
                values[key] = value.strip()
        if "email" in values:
            address, why = checked_address(values["email"])
            if address is None:
                problem(f"{path}.email", f"'{values['email']}' is not a valid e-mail address: {why}")
                bad = True
            elif address.lower() in seen:
                first = seen[address.lower()]
                problem(f"{path}.email", f"'{values['email']}' is listed twice (first as {where}.{first})")
                bad = True
            else:
                seen[address.lower()] = i
                values["email"] = address
        if not bad:
            out.append(Recipient(values["name"], values["email"]))
    return tuple(out)
