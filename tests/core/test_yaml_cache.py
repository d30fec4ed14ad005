"""engine.core.yamlio's per-process cache: each caller gets its own value, the same as parsing anew."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from engine.core import yamlio
from engine.core.errors import ConfigError
from engine.core.yamlio import LineDict, LineList, parse_yaml

FORM = """\
form: vulnerable_caller
version: 3
weight: 0.5
missing: null
required: true
answers: [yes, no]
from: 2026-04-01
at: 2026-04-01 10:30:00+01:00
nan: .nan
questions:
  - id: first_contact
    options: {a: 1, b: 2}
"""


def _shape(value: object) -> object:
    """The value with its types and lines spelt out, to compare a copy with a fresh parse."""
    if isinstance(value, LineDict):
        items = {k: _shape(v) for k, v in value.items()}
        return ("LineDict", value.line, dict(value.key_lines), list(items.items()))
    if isinstance(value, LineList):
        return ("LineList", value.line, list(value.item_lines), [_shape(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    yamlio._cache.clear()
    yamlio._cache_size = 0


def test_a_caller_changing_what_it_got_does_not_change_the_next_callers_value() -> None:
    first = parse_yaml(FORM, "forms/a.yaml")
    first["version"] = 99
    first["questions"][0]["options"]["a"] = "changed"
    first["questions"].append("extra")
    first.key_lines["form"] = 42

    second = parse_yaml(FORM, "forms/a.yaml")
    second["answers"].clear()
    third = parse_yaml(FORM, "forms/b.yaml")

    assert second["version"] == 3 and third["answers"] == ["yes", "no"]
    assert third["questions"] == [{"id": "first_contact", "options": {"a": 1, "b": 2}}]
    assert third.line_of("form") == 1


def test_a_kept_value_is_the_same_as_a_fresh_parse_types_lines_and_order() -> None:
    fresh = yamlio._parse_yaml(FORM, "f.yaml")
    parse_yaml(FORM, "f.yaml")
    kept = parse_yaml(FORM, "f.yaml")
    assert _shape(kept) == _shape(fresh)
    assert isinstance(kept["from"], dt.date) and kept["at"].utcoffset() == dt.timedelta(hours=1)
    assert len(yamlio._cache) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("force: F\nplaces: [\n", r"f.yaml:2: invalid YAML: did not find expected node content"),
        ("a: 1\na: 2\n", r"f.yaml:2: invalid YAML: duplicate key 'a'"),
        ("[" * 65 + "]" * 65 + "\n", r"f.yaml:1: nested more than 64 levels deep"),
    ],
)
def test_an_invalid_text_raises_the_same_error_every_time(text: str, message: str) -> None:
    for _ in range(2):
        with pytest.raises(ConfigError, match=message):
            parse_yaml(text, "f.yaml")
    with pytest.raises(ConfigError, match=message.replace("f.yaml", "g.yaml")):
        parse_yaml(text, "g.yaml")
    assert not yamlio._cache


def test_the_cache_keeps_at_most_its_count_of_texts_the_least_used_going_first() -> None:
    for i in range(yamlio._CACHE_ENTRIES + 3):
        parse_yaml(f"n: {i}\n", "f.yaml")
    assert len(yamlio._cache) == yamlio._CACHE_ENTRIES
    assert "n: 0\n" not in yamlio._cache and f"n: {yamlio._CACHE_ENTRIES + 2}\n" in yamlio._cache
    assert yamlio._cache_size == sum(len(t) + len(p) for t, p in yamlio._cache.items())
