"""engine.core.yamlio: YAML read with the line of every key and item, and no YAML 1.1 surprises."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.errors import ConfigError
from engine.core.yamlio import LineDict, LineList, load_yaml, parse_yaml


def test_yes_and_no_stay_text_only_true_and_false_are_booleans() -> None:
    data = parse_yaml("answers: [yes, no, on, off, y, n]\nrequired: true\nother: False\n", "f.yaml")
    assert data == {"answers": ["yes", "no", "on", "off", "y", "n"], "required": True, "other": False}


def test_mappings_and_lists_remember_their_lines() -> None:
    data = parse_yaml("# a comment\nform: x\nquestions:\n  - id: a\n\n  - id: b\n", "f.yaml")
    assert isinstance(data, LineDict) and isinstance(data["questions"], LineList)
    assert (data.line, data.line_of("form"), data.line_of("questions")) == (2, 2, 3)
    assert [data["questions"].line_of(i) for i in range(2)] == [4, 6]
    assert data["questions"][1].line_of("id") == 6
    assert data.line_of("missing") == data.line


def test_keys_are_text_and_a_duplicate_key_is_an_error() -> None:
    assert parse_yaml("1: a\n", "f.yaml") == {"1": "a"}
    with pytest.raises(ConfigError, match=r"f.yaml:2: invalid YAML: duplicate key 'a'"):
        parse_yaml("a: 1\na: 2\n", "f.yaml")


def test_a_syntax_error_names_the_line() -> None:
    with pytest.raises(ConfigError, match=r"f.yaml:2: invalid YAML: did not find expected node content"):
        parse_yaml("force: F\nplaces: [\n", "f.yaml")


def test_unreadable_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing.yaml: cannot read file"):
        load_yaml(tmp_path / "missing.yaml")
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ConfigError, match="latin1.yaml: file is not UTF-8 text"):
        load_yaml(path)
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbfname: x\n")
    assert load_yaml(bom) == {"name": "x"}


BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


def test_a_billion_laughs_file_is_refused_at_once() -> None:
    with pytest.raises(ConfigError, match="aliases") as caught:
        parse_yaml(BILLION_LAUGHS, "bomb.yaml")
    assert str(caught.value).startswith("bomb.yaml:")


@pytest.mark.parametrize(
    "text",
    ["a: &x 1\nb: *x\n", "base: &b {k: 1}\nitem:\n  <<: *b\n  j: 2\n", "a: &x [1]\nb: [*x]\n"],
)
def test_any_alias_is_refused_and_a_lone_anchor_is_harmless(text: str) -> None:
    with pytest.raises(ConfigError, match="anchors and aliases"):
        parse_yaml(text, "f.yaml")
    assert parse_yaml("a: &x 1\n", "f.yaml") == {"a": 1}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("rules: " + "[" * 100_000 + "]" * 100_000 + "\n", 1),  # crashed the interpreter (segfault)
        ("a:\n" + "".join("  " * i + "b:\n" for i in range(1, 2000)), 65),  # a RecursionError traceback
    ],
    ids=["flow", "block"],
)
def test_a_file_nested_deeper_than_any_qam_file_is_refused_at_its_line(text: str, line: int) -> None:
    with pytest.raises(ConfigError, match=r"nested more than 64 levels deep") as caught:
        parse_yaml(text, "deep.yaml")
    assert str(caught.value).startswith(f"deep.yaml:{line}: ")
    within = parse_yaml("a: " + "[" * 63 + "]" * 63 + "\n", "ok.yaml")["a"]  # 64 levels with the mapping
    for _ in range(62):
        within = within[0]
    assert within == []
