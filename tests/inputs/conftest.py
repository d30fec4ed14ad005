"""Fixtures shared by the tests of engine.inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.inputs.forms import Form, load_forms

FORMS_DIR = Path(__file__).resolve().parents[2] / "qa_forms"


@pytest.fixture(scope="module")
def forms() -> dict[str, Form]:
    """The bundled QA forms, by case type."""
    return load_forms(FORMS_DIR)
