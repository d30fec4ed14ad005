"""engine.core.hashing: canonical JSON, and input hashes that do not depend on reading order."""

from __future__ import annotations

import datetime as dt
import hashlib

from engine.core.hashing import canonical_json, hash_days, hash_inputs, sha256_text


def test_canonical_json_sorts_keys_keeps_unicode_and_shows_dates_as_text() -> None:
    assert canonical_json({"b": 1, "a": "café", "d": dt.date(2026, 11, 16)}) == (
        '{"a":"café","b":1,"d":"2026-11-16"}'
    )


def test_sha256_text_is_of_the_utf8_bytes() -> None:
    assert sha256_text("café") == hashlib.sha256("café".encode()).hexdigest()


def test_input_hashes_do_not_depend_on_order() -> None:
    assert hash_inputs(["b", "a"]) == hash_inputs(["a", "b"]) == sha256_text("a\nb\n")
    days = [(dt.date(2026, 11, 17), "y"), (dt.date(2026, 11, 16), "x")]
    assert hash_days(days) == hash_days(reversed(days)) == sha256_text("2026-11-16 x\n2026-11-17 y\n")
