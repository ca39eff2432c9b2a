"""A sequence of rows kept in a temporary file, written once and read any number of times.

openpyxl's write-only mode writes a sheet's column widths before its first
row, but the widths that fit the text are only known once every row has been
seen. The export therefore reads the database once, turning each unit into
its rows and spooling them to disk while it measures the columns and adds up
the statistics, then writes the sheets from the spools. Memory stays flat; the
spools cost a pickle per row (small next to writing the row as XML).
"""

from __future__ import annotations

import logging
import pickle
import tempfile
from collections.abc import Iterator
from typing import IO, Any

logger = logging.getLogger(__name__)

_PROTOCOL = pickle.HIGHEST_PROTOCOL


class Spool:
    """Rows pickled one after the other into an anonymous temporary file."""

    def __init__(self, *, directory: str | None = None) -> None:
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="surveybot-export-", dir=directory)  # noqa: SIM115 (closed by close())
        self._count = 0
        self._pickler = pickle.Pickler(self._file, _PROTOCOL)

    def __len__(self) -> int:
        return self._count

    def append(self, row: Any) -> None:
        # Each dump is a complete pickle; clearing the memo keeps them independent
        # (and the pickler from holding on to every row).
        self._pickler.dump(row)
        self._pickler.clear_memo()
        self._count += 1

    def __iter__(self) -> Iterator[Any]:
        """The rows in the order they were appended (each call reads from the start)."""
        self._file.flush()
        self._file.seek(0)
        # A fresh unpickler per row: each row is a separate pickle whose memo
        # indices start from zero, which one long-lived unpickler would mix up.
        load, stream = pickle.load, self._file
        for _ in range(self._count):
            yield load(stream)
        self._file.seek(0, 2)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
