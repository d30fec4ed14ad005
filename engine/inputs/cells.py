"""One cell of a submission as the reviewer typed it: blank or not, as text, as a date (ISO text or an
Excel serial day number). A value that cannot be read raises marshmallow's ValidationError with a
message for the reviewer.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from marshmallow import ValidationError

# Dates outside this range are almost always a typo in the year (0224, 2224).
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2099, 12, 31)
# Excel's day 0; serial 60 is its phantom 1900-02-29, irrelevant after DATE_MIN's first weeks.
EXCEL_EPOCH = dt.date(1899, 12, 30)


def is_blank(value: Any) -> bool:
    """None, or a string of only whitespace: 'not answered'."""
    return value is None or (isinstance(value, str) and not value.strip())


def shown(value: Any) -> str:
    """A value for a message, cut to 40 characters."""
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def as_text(value: Any) -> str:
    """A cell value as the text a reviewer typed (7.0 from a spreadsheet is '7', None is '')."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


_ISO_DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ]00:00(?::00(?:\.0+)?)?)?$")
_SERIAL_RE = re.compile(r"^\d{1,5}(?:\.\d+)?$")


def to_date(value: Any) -> dt.date | None:
    """ISO text, an Excel serial day number, or a date/datetime -> date; blank -> None.

    Raises marshmallow's ValidationError with a message for the reviewer.
    """
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        day = _from_serial(value)
    else:
        text = as_text(value).strip()
        if not text:
            return None
        if _SERIAL_RE.match(text):
            day = _from_serial(float(text))
        else:
            match = _ISO_DATE_RE.match(text)
            if match is None:
                raise ValidationError(f"'{shown(text)}' is not a date (use YYYY-MM-DD)")
            try:
                day = dt.date.fromisoformat(match.group(1))
            except ValueError:
                raise ValidationError(f"'{shown(text)}' is not a real date") from None
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValidationError(f"{day.isoformat()} is outside {DATE_MIN.year}-{DATE_MAX.year}: check the year")
    return day


def _from_serial(serial: float) -> dt.date:
    if not 1 <= serial < (DATE_MAX - EXCEL_EPOCH).days + 1:
        raise ValidationError(f"'{as_text(serial)}' is not a date (use YYYY-MM-DD)")
    return EXCEL_EPOCH + dt.timedelta(days=int(serial))
