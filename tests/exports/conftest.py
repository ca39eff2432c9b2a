"""Fixtures for the export tests.

The database fixtures (``backend``, ``database``: SQLite, and PostgreSQL when
``SURVEYBOT_TEST_POSTGRES_URL`` is set) are those of ``tests/storage``,
imported from its conftest (all of them, by a star import): ``tests/`` has no ``__init__.py`` files and
``pytest_plugins`` is only allowed in the top-level conftest, so the
repository root is put on ``sys.path`` and the module imported by its dotted
name. The helpers live in ``export_world.py`` (importable because pytest puts
this folder on ``sys.path``).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `pytest` (unlike `python -m pytest`) does not put the repo root on sys.path
    sys.path.insert(0, str(ROOT))

# Every fixture of the storage tests (``database`` and what it depends on, ``backend``...);
# a star import keeps working when those fixtures gain dependencies of their own.
from export_world import ExportWorld  # noqa: E402

from storage.database import Database  # noqa: E402
from tests.storage.conftest import *  # noqa: E402,F403


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
async def world(database: Database, tmp_path: Path, now: datetime) -> ExportWorld:
    """The export survey's campaign with four units, none of which has answered yet."""
    data_dir = tmp_path / "surveybot-data"
    data_dir.mkdir()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    world = ExportWorld(database=database, data_dir=data_dir, out_dir=out_dir, now=now)
    await world.create()
    return world


@pytest.fixture
def upload_file(tmp_path: Path) -> Any:
    """``upload_file(content)``: a file as a channel would have downloaded it, for ``Upload(ref=...)``."""
    counter = iter(range(1_000_000))

    def make(content: bytes) -> Path:
        folder = tmp_path / "downloads"
        folder.mkdir(exist_ok=True)
        path = folder / f"download-{next(counter)}"
        path.write_bytes(content)
        return path

    return make
