"""Fixtures for the rules tests."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def rulesets_dir(tmp_path: Path) -> Callable[..., Path]:
    """Write YAML strings into a rulesets folder: ``rulesets_dir(("priority4/ss.yaml", SS), ...)``."""
    root = tmp_path / "rulesets"

    def write(*files: tuple[str, str]) -> Path:
        for rel, text in files:
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        root.mkdir(exist_ok=True)
        return root

    return write
