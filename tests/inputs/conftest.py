"""Fixtures shared by the tests of engine.inputs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from engine import api
from engine.core.config import Settings
from engine.inputs.forms import Form, load_forms
from tests.inputs.figure_texts import definitions_folder

FORMS_DIR = Path(__file__).resolve().parents[2] / "qa_forms"


@pytest.fixture(scope="module")
def forms() -> dict[str, Form]:
    """The bundled QA forms, by case type."""
    return load_forms(FORMS_DIR)


@pytest.fixture
def figures_settings(settings: Settings, tmp_path: Path) -> Settings:
    """Settings on an initialised database whose extract definitions are the tests' own."""
    api.init_database(settings)
    return replace(settings, extracts_dir=definitions_folder(tmp_path))
