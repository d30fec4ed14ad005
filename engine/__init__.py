"""QAM: case-quality assessment and exception briefings. The library facade is engine.api;
these are its entry points for callers who do not go through the `qam` command line."""

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
from engine.config import Settings, load_settings
from engine.errors import EngineError, ExitCode

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
