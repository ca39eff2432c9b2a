"""Helpers for the XLSForm tests: small workbooks written as the rows a designer types, and the CLI."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main

Rows = Sequence[Sequence[Any]]
ROOT = Path(__file__).resolve().parents[2]
SURVEYS = ROOT / "surveys"
FORMS = Path(__file__).with_name("forms")

#: A settings sheet naming everything, so that the tests see no warnings about it.
SETTINGS: Rows = [
    ["form_title", "form_id", "version", "default_language"],
    ["Test form", "test-form", "1", "English (en)"],
]


def write_workbook(path: Path, sheets: dict[str, Rows | None]) -> Path:
    """A workbook with one sheet per entry, rows as given (None cells stay blank)."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        if rows is None:
            continue
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    workbook.save(path)
    return path


FormWriter = Callable[..., Path]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], list[str]]:
    """Run ``surveybot ARGV``: the exit code and the lines of stdout and stderr, as a user sees them."""
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out.splitlines(), captured.err.splitlines()
