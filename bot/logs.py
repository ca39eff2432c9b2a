"""Logging set-up: one line per record on the console, tracebacks in a log file.

No traceback reaches a terminal unless ``-v`` asks for it: the console
formatter prints an exception as one line (its type and message) and says
where the full record is. ``surveybot run`` adds a rotating file under the
data directory that keeps every traceback for the operator.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

CONSOLE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FILE_NAME = "surveybot.log"


class OneLineFormatter(logging.Formatter):
    """Formats a record on one line; an exception becomes ``(TypeError: message)``."""

    def __init__(self, fmt: str, *, details: str = "") -> None:
        super().__init__(fmt)
        self.details = details

    def format(self, record: logging.LogRecord) -> str:
        exc_info, exc_text, stack_info = record.exc_info, record.exc_text, record.stack_info
        record.exc_info = record.exc_text = record.stack_info = None
        try:
            line = super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = exc_info, exc_text, stack_info
        if exc_info and exc_info[1] is not None:
            error = exc_info[1]
            line += f" ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}{self.details})"
        return line.replace("\n", " ")


def configure_logging(*, verbose: bool) -> None:
    """The console handler every command uses."""
    root = logging.getLogger()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(CONSOLE_FORMAT) if verbose else OneLineFormatter(CONSOLE_FORMAT))
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)


def add_log_file(directory: Path) -> Path:
    """Keep full records, tracebacks included, in ``directory/surveybot.log`` (rotated)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / LOG_FILE_NAME
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8")
    handler.setFormatter(logging.Formatter(CONSOLE_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    for console in root.handlers:
        if isinstance(console.formatter, OneLineFormatter):
            console.formatter.details = f"; details in {path}"
    return path
