"""Canonical JSON and the sha256 hashes that run ids and manifests are made of."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from typing import Any


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hash_inputs(content_hashes: Iterable[str]) -> str:
    """One hash over the content hashes of every input row read (order-independent): sha256 of the
    sorted hashes, each followed by a newline."""
    items = sorted(content_hashes)
    text = "".join(f"{item}\n" for item in items)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def hash_days(inputs: Iterable[tuple[dt.date, str]]) -> str:
    """One hash over the input hashes of the days read, each hash_inputs of that day's rows (what a
    run manifest records): sha256 of the sorted "day hash" lines."""
    text = "".join(f"{day.isoformat()} {digest}\n" for day, digest in sorted(inputs))
    return hashlib.sha256(text.encode("ascii")).hexdigest()
