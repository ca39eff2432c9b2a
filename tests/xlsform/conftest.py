"""Fixtures of the XLSForm tests (helpers are in xlsform_forms.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from xlsform_forms import SETTINGS, FormWriter, Rows, write_workbook


@pytest.fixture
def write_form(tmp_path: Path) -> FormWriter:
    """``write_form(survey, choices=None, settings=SETTINGS, name="form.xlsx")`` → the file's path."""

    def write(survey: Rows, choices: Rows | None = None, settings: Rows | None = SETTINGS, name: str = "form.xlsx") -> Path:
        return write_workbook(tmp_path / name, {"survey": survey, "choices": choices, "settings": settings})

    return write
