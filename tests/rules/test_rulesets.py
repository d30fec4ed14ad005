"""Rulesets' content hash: whitespace, comments and key order do not change it, any change of meaning
does (the folder's priority included), and canonical content is sorted, compact and normalised."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.rules.ruleset_loader import load_rulesets
from engine.rules.rulesets import canonical_content, content_sha256
from tests.rules.ruleset_texts import FIELDS, SS, edit


def test_hash_ignores_whitespace_comments_and_key_order(rulesets_dir, tmp_path: Path) -> None:
    (original,) = load_rulesets(rulesets_dir(("priority4/ss.yaml", SS)), FIELDS)
    reordered = "# a comment that changes nothing\n" + edit(
        SS, "ruleset: stop-search\nversion: 1.0.0\n", "version: '1.0.0'\n\n\nruleset:    stop-search\n"
    ).replace("    weight: 3\n", "    weight: 3.0   # same number\n").replace(
        "    text: Grounds recorded\n    standard: PACE s3\n",
        "    standard: PACE s3\n    text: Grounds recorded\n",
    )
    other = tmp_path / "other" / "priority4"
    other.mkdir(parents=True)
    (other / "ss.yaml").write_text(reordered, encoding="utf-8")
    (same,) = load_rulesets(other.parent, FIELDS)
    assert same.sha256 == original.sha256 and same.canonical == original.canonical


@pytest.mark.parametrize(
    ("folder", "old", "new"),
    [
        ("priority4", "text: Grounds recorded", "text: Grounds were recorded"),
        ("priority4", "minimum: 0.9", "minimum: 0.8"),
        ("priority4", "pass: grounds_recorded == 'yes'", "pass: grounds_recorded == 'no'"),
        ("priority4", "version: 1.0.0", "version: 1.0.1"),
        ("priority4", "    critical: true\n", ""),
    ],
)
def test_hash_changes_with_any_change_of_meaning(rulesets_dir, tmp_path: Path, folder, old, new) -> None:
    (original,) = load_rulesets(rulesets_dir(("priority4/ss.yaml", SS)), FIELDS)
    changed_dir = tmp_path / "changed"
    (changed_dir / folder).mkdir(parents=True)
    (changed_dir / folder / "ss.yaml").write_text(edit(SS, old, new), encoding="utf-8")
    (changed,) = load_rulesets(changed_dir, FIELDS)
    assert changed.sha256 != original.sha256


def test_the_priority_from_the_folder_is_part_of_the_content(rulesets_dir, tmp_path: Path) -> None:
    (implicit,) = load_rulesets(rulesets_dir(("priority4/ss.yaml", SS)), FIELDS)
    explicit_dir = tmp_path / "explicit" / "priority4"
    explicit_dir.mkdir(parents=True)
    (explicit_dir / "ss.yaml").write_text(
        SS.replace("format: 1\n", "format: 1\npriority: 4\n"), encoding="utf-8"
    )
    (explicit,) = load_rulesets(explicit_dir.parent, FIELDS)
    assert '"priority":4' in implicit.canonical
    assert explicit.sha256 == implicit.sha256


def test_canonical_content_is_sorted_compact_and_normalises_whole_floats() -> None:
    assert (
        canonical_content({"b": 1.0, "a": [True, None, "é"], "c": 0.5})
        == '{"a":[true,null,"é"],"b":1,"c":0.5}'
    )
    assert content_sha256("{}") == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
