"""The valid rows of a submission between validating and storing (issue 20): written one by one to an
anonymous, compressed temporary file while the files are read, and read back as often as needed in
the order they were written. So memory does not grow with the submission, and what is stored is
exactly what was validated, even if a file changes after it was read.

The file has no name (it is gone as soon as it is closed, or the process killed) and takes about half
the submission's size (a 20 MB CSV: 10 MB), in the temporary folder (TMPDIR).
"""

from __future__ import annotations

import datetime as dt
import gzip
import tempfile
from collections.abc import Iterator
from types import TracebackType
from typing import IO, Any

import orjson

from engine.core.errors import StorageError
from engine.inputs.valid_row import ValidRow


class ValidatedRows:
    """Valid rows, added while validating (:meth:`add`) and then read back (iterating, any number of
    times). A context manager: leaving it removes the temporary file. Example::

        with ValidatedRows() as rows:
            rows.add(row)
            for row in rows: ...
    """

    def __init__(self) -> None:
        self.count = 0
        self._sources: dict[str, int] = {}
        self._names: list[str] = []
        self._file: IO[bytes] | None = None
        self._writer: gzip.GzipFile | None = None

    def __enter__(self) -> ValidatedRows:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = self._writer = None

    def add(self, row: ValidRow) -> None:
        source = self._sources.get(row.source_file)
        if source is None:
            source = self._sources[row.source_file] = len(self._names)
            self._names.append(row.source_file)
        record = [
            row.assessment_id,
            row.case_type,
            row.case_ref,
            row.place,
            row.team,
            row.officer,
            row.reviewer,
            row.assessed_on.isoformat(),
            row.case_date.isoformat(),
            row.answers,
            row.raw,
            source,
            row.source_row,
            row.content_hash,
            row.form_version,
        ]
        with _storage_errors():
            if self._writer is None:
                self._file = tempfile.TemporaryFile(prefix="qam-submission-")
                self._writer = gzip.GzipFile(fileobj=self._file, mode="wb", compresslevel=1)
            self._writer.write(orjson.dumps(record) + b"\n")
        self.count += 1

    def __iter__(self) -> Iterator[ValidRow]:
        if self._file is None:
            return
        with _storage_errors():
            if self._writer is not None and not self._writer.closed:
                self._writer.close()  # writes the end of the compressed stream; self._file stays open
            self._file.seek(0)
            reader = gzip.GzipFile(fileobj=self._file, mode="rb")
            for line in reader:
                yield _row(orjson.loads(line), self._names)

    def __len__(self) -> int:
        return self.count


def _row(record: list[Any], names: list[str]) -> ValidRow:
    (aid, case_type, case_ref, place, team, officer, reviewer, assessed, case_date, answers, raw, source, row,
     digest, form_version) = record  # fmt: skip
    return ValidRow(
        assessment_id=aid,
        case_type=case_type,
        case_ref=case_ref,
        place=place,
        team=team,
        officer=officer,
        reviewer=reviewer,
        assessed_on=dt.date.fromisoformat(assessed),
        case_date=dt.date.fromisoformat(case_date),
        answers=answers,
        raw=raw,
        source_file=names[source],
        source_row=row,
        content_hash=digest,
        form_version=form_version,
    )


class _storage_errors:  # noqa: N801 - used as a statement: with _storage_errors(): ...
    """An OSError of the temporary file (a full disk) as one StorageError line, exit 4."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if isinstance(exc, OSError):
            raise StorageError(
                f"cannot keep the validated rows in a temporary file in {tempfile.gettempdir()} "
                f"({exc.strerror or exc}): nothing was stored",
                hint="Free some space there, or point TMPDIR at a folder with room, and submit again.",
            ) from None
