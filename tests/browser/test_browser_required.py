"""Under CI the browser tests fail, never skip, when Chromium is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import conftest


def test_missing_chromium__fails_under_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(conftest, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        conftest.require_chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        conftest.require_chromium()
