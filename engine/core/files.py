"""Input files read safely: only regular files (a FIFO would wait for ever, /dev/zero never ends),
and none bigger than the kind of file can sensibly be. Each reader turns the message into its own
error with the file named."""

from __future__ import annotations

import stat
from pathlib import Path

MB = 2**20


def input_file_problem(path: Path, max_bytes: int, what: str = "file") -> str | None:
    """Why ``path`` cannot be read as an input of at most ``max_bytes``, or None if it can (or if
    it cannot be examined: reading it then reports that error)."""
    try:
        mode = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(mode.st_mode):
        return "not a regular file (a folder, pipe or device): give a saved file"
    if mode.st_size > max_bytes:
        return (
            f"the file is {mode.st_size / MB:,.0f} MB, more than the {max_bytes // MB:,} MB "
            f"a {what} may be: split it into smaller files"
        )
    return None
