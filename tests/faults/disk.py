"""A simulated full disk for the fault tests.

Output files: every file opened for writing under a folder shares a byte budget; the write that
would pass it raises OSError(ENOSPC), as write(2) does on a full disk. Python's open() is replaced
(builtins.open, and io.open, which pathlib uses), and shutil's sendfile fast path is turned off so
that its copies write through open() too.

SQLite: each new connection gets ``PRAGMA max_page_count`` of the pages the file has plus a
budget, so a transaction that needs more fails exactly as on a full disk (SQLITE_FULL, "database or
disk is full").
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import shutil
import sqlite3.dbapi2
from pathlib import Path
from typing import Any

import pytest

ENOSPC_TEXT = os.strerror(errno.ENOSPC)  # "No space left on device"


class FullDisk:
    """Files opened for writing under ``folder`` share ``budget`` bytes (characters, for text)."""

    def __init__(self, folder: Path, budget: int) -> None:
        self.folder = folder.resolve()
        self.budget = budget
        self.used = 0
        self.refused = 0

    def take(self, path: str, size: int) -> None:
        if self.used + size > self.budget:
            self.refused += 1
            raise OSError(errno.ENOSPC, ENOSPC_TEXT, path)
        self.used += size

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real_open = io.open

        def opener(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            handle = real_open(file, mode, *args, **kwargs)
            if isinstance(file, int) or not any(c in mode for c in "wax+"):
                return handle
            path = Path(os.fspath(file)).resolve()
            return _Quota(handle, self, str(path)) if path.is_relative_to(self.folder) else handle

        monkeypatch.setattr(builtins, "open", opener)
        monkeypatch.setattr(io, "open", opener)
        monkeypatch.setattr(shutil, "_USE_CP_SENDFILE", False)


class _Quota:
    """A file object whose writes draw on a FullDisk's budget; everything else is the file's own."""

    def __init__(self, handle: Any, disk: FullDisk, path: str) -> None:
        self._handle = handle
        self._disk = disk
        self._path = path

    def write(self, data: Any) -> int:
        self._disk.take(self._path, len(data) if isinstance(data, str) else memoryview(data).nbytes)
        return int(self._handle.write(data))

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __enter__(self) -> _Quota:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.__exit__(*exc)

    def __iter__(self) -> Any:
        return iter(self._handle)


def full_sqlite(monkeypatch: pytest.MonkeyPatch, pages: int) -> None:
    """A SQLite database opened from now on may grow by ``pages`` pages only, beyond its size when
    first opened, whichever connections write them. (A budget per connection, from its own size when
    opened, let a command whose storing thread opened its connection after the others had written
    grow by more, and finish without a full disk: a flaky case.)"""
    real_connect = sqlite3.dbapi2.connect
    limits: dict[str, int] = {}  # database file -> the most pages it may have

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn: sqlite3.Connection = real_connect(*args, **kwargs)
        name = str(args[0] if args else kwargs.get("database"))
        if name not in limits:
            limits[name] = conn.execute("PRAGMA page_count").fetchone()[0] + pages
        # SQLite keeps a limit below the current size at that size: the database cannot grow
        conn.execute(f"PRAGMA max_page_count = {limits[name]}")
        return conn

    monkeypatch.setattr(sqlite3.dbapi2, "connect", connect)


def page_count(db: Path) -> int:
    """The pages a SQLite database file has (its write-ahead log checkpointed first)."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return int(conn.execute("PRAGMA page_count").fetchone()[0])
    finally:
        conn.close()
