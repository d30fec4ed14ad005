"""QAM: case-quality assessment and exception briefings. The library facade is engine.api;
these are its entry points for callers who do not go through the `qam` command line."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.api import (
        check_rulesets,
        demo,
        init_database,
        publish_rulesets,
        score,
        submit,
        verify_rulesets,
        weekly,
    )
    from engine.core.config import Settings, load_settings
    from engine.core.errors import EngineError, ExitCode

__all__ = [
    "EngineError",
    "ExitCode",
    "Settings",
    "check_rulesets",
    "demo",
    "init_database",
    "load_settings",
    "publish_rulesets",
    "score",
    "submit",
    "verify_rulesets",
    "weekly",
]

# Loaded on first use, so that importing any engine module (`qam weekly` imports a handful) does not
# also import every module the facade reaches (openpyxl, faker, statsmodels, ...).
_HOME = {
    "EngineError": "engine.core.errors",
    "ExitCode": "engine.core.errors",
    "Settings": "engine.core.config",
    "load_settings": "engine.core.config",
    **{name: "engine.api" for name in __all__ if name[0].islower() and name != "load_settings"},
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'engine' has no attribute '{name}'")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
