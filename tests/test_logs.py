"""Console logs never show a traceback unless asked; the log file keeps it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.logs import OneLineFormatter, add_log_file, configure_logging


def failing_record() -> logging.LogRecord:
    try:
        raise ValueError("bad value\nsecond line")
    except ValueError:
        logger = logging.getLogger("surveybot.test")
        return logger.makeRecord("surveybot.test", logging.ERROR, __file__, 1, "handling failed", (), __import__("sys").exc_info())


def test_console_format__shows_an_exception_as_one_line_without_traceback() -> None:
    line = OneLineFormatter("%(levelname)s %(message)s").format(failing_record())
    assert line == "ERROR handling failed (ValueError: bad value)"


def test_log_file__keeps_the_traceback_and_the_console_points_to_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging(verbose=False)
        path = add_log_file(tmp_path / "logs")
        logging.getLogger("surveybot.test").handle(failing_record())
        for handler in root.handlers:
            handler.flush()
        console = capsys.readouterr().err
        assert "Traceback" not in console and f"details in {path}" in console
        assert "Traceback (most recent call last)" in path.read_text(encoding="utf-8")
    finally:
        for handler in root.handlers:
            if handler not in saved[0]:
                handler.close()
        root.handlers[:], root.level = saved
