"""engine.core.files: only regular files of a sensible size are read, by every reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.errors import ConfigError, ExtractError
from engine.core.files import input_file_problem
from engine.core.yamlio import load_yaml
from engine.inputs.extracts import read_incidents


def test_pipes_devices_and_folders_are_refused_without_reading(not_a_file: Path) -> None:
    # a FIFO waited for a writer forever; /dev/zero grew until memory ran out
    message = "not a regular file (a folder, pipe or device): give a saved file"
    assert input_file_problem(not_a_file, 10) == message
    with pytest.raises(ConfigError, match="not a regular file"):
        load_yaml(not_a_file)
    with pytest.raises(ExtractError) as caught:
        read_incidents(not_a_file, {"BLK"})
    assert [p.message for p in caught.value.problems] == [message]


def test_a_file_over_the_limit_is_named_with_its_size(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"x" * (3 * 2**20))
    assert input_file_problem(path, 2**20, "ruleset") == (
        "the file is 3 MB, more than the 1 MB a ruleset may be: split it into smaller files"
    )
    assert input_file_problem(path, 4 * 2**20) is None
    assert input_file_problem(tmp_path / "missing.yaml", 10) is None  # the reader reports it
