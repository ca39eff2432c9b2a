"""An output file written under a temporary name next to its final one, then renamed.

Every export (the workbook, the zip bundle, the report book) writes through
:class:`OutputFile`: :meth:`~OutputFile.check` fails early, with a readable
one-line reason, when the location cannot be written (before the database is
read); :meth:`~OutputFile.commit` renames the complete file into place, so a
failed export never leaves a half-written file under the requested name.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)


class ExportError(Exception):
    """The export cannot be written (unwritable location...); the message is one line."""


class OutputFile:
    """A file written under a temporary name next to its final one, then renamed."""

    def __init__(self, final: Path) -> None:
        self.final = final
        self.temporary = final.with_name(f".{final.name}.{os.getpid()}.tmp")

    def check(self) -> None:
        """Fail now, with a readable reason, if the file cannot be written there."""
        if self.final.is_dir():
            raise ExportError(f"cannot write {self.final}: it is a directory")
        try:
            with open(self.temporary, "wb"):
                pass
        except OSError as error:
            raise ExportError(f"cannot write {self.final}: {error.strerror or error}") from None

    def commit(self) -> None:
        try:
            os.replace(self.temporary, self.final)
        except OSError as error:
            self.discard()
            raise ExportError(f"cannot write {self.final}: {error.strerror or error}") from None

    def discard(self) -> None:
        try:
            self.temporary.unlink(missing_ok=True)
        except OSError:
            logger.warning("could not remove the temporary file %s", self.temporary)
