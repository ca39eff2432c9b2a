"""Database fixtures for the storage tests: real SQLite files and, when configured, PostgreSQL.

Every test that uses one of these fixtures runs once on SQLite and, when
``SURVEYBOT_TEST_POSTGRES_URL`` is set (e.g.
``postgresql+asyncpg://postgres@127.0.0.1:5432/test``), once more on
PostgreSQL. When the variable is set but the server cannot be reached the
PostgreSQL tests fail (fixture errors); they never skip.

* ``backend`` / ``empty_database`` / ``fresh_database``: a database of the
  test's own, empty (a SQLite file in ``tmp_path``, or a PostgreSQL schema
  created for the test and dropped after it); for migration and CLI tests.
* ``migrated_backend`` / ``database``: at the newest schema with no rows,
  cheaply: a copy of a SQLite file migrated once per session, or a PostgreSQL
  schema migrated once per session and emptied before each test.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.campaigns import create_campaign
from storage.database import Database
from storage.migrate import ensure_schema
from storage.models import Base, Campaign
from storage.rosters import add_units
from storage.surveys import get_or_create_survey_version

POSTGRES_URL_VARIABLE = "SURVEYBOT_TEST_POSTGRES_URL"


def _backend_params() -> list[object]:
    params: list[object] = [pytest.param("sqlite", id="sqlite")]
    if os.environ.get(POSTGRES_URL_VARIABLE):
        params.append(pytest.param("postgresql", id="postgresql"))
    return params


@dataclass
class Backend:
    """Where a test's database lives; :meth:`open` makes another handle on the same data."""

    name: str
    url: str
    schema: str | None = None
    data_dir: Path | None = None
    _opened: list[Database] = field(default_factory=list)

    @property
    def url_with_schema(self) -> str:
        """The URL alone says everything (what ``SURVEYBOT_DATABASE_URL`` gets in CLI tests)."""
        if self.schema is None:
            return self.url
        separator = "&" if "?" in self.url else "?"
        return f"{self.url}{separator}search_path={self.schema}"

    def open(self) -> Database:
        database = Database(self.url, schema=self.schema)
        self._opened.append(database)
        return database

    async def dispose_all(self) -> None:
        for database in self._opened:
            await database.dispose()


async def _create_schema(url: str, schema: str) -> None:
    database = Database(url)
    try:
        async with database.transaction() as session:
            connection = await session.connection()
            await connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    finally:
        await database.dispose()


async def _drop_schema(url: str, schema: str) -> None:
    database = Database(url)
    try:
        async with database.transaction() as session:
            connection = await session.connection()
            await connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await database.dispose()


@pytest.fixture(params=_backend_params())
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """An empty database location: a SQLite file, or a fresh PostgreSQL schema.

    Self-contained (other test packages import it). Do not combine it with
    ``database``/``migrated_backend`` in one test: each is parametrized on its own.
    """
    if request.param == "sqlite":
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        yield Backend(
            name="sqlite",
            url=f"sqlite+aiosqlite:///{data_dir / 'surveybot.db'}",
            data_dir=data_dir,
        )
        return
    url = os.environ[POSTGRES_URL_VARIABLE]
    schema = f"test_{uuid.uuid4().hex[:16]}"
    # A plain (sync) fixture, so that CLI tests, which run their own event
    # loops, can use it too.
    asyncio.run(_create_schema(url, schema))
    try:
        yield Backend(name="postgresql", url=url, schema=schema, data_dir=tmp_path / "data")
    finally:
        asyncio.run(_drop_schema(url, schema))


@pytest.fixture(scope="session", params=_backend_params())
def migrated_template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    """Migrated once per test session: a SQLite file to copy, or a PostgreSQL schema to empty."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("template") / "surveybot.db"
        template = Backend(name="sqlite", url=f"sqlite+aiosqlite:///{path}")
        asyncio.run(_migrate(template))
        yield template
        return
    url = os.environ[POSTGRES_URL_VARIABLE]
    schema = f"test_shared_{uuid.uuid4().hex[:12]}"
    asyncio.run(_create_schema(url, schema))
    template = Backend(name="postgresql", url=url, schema=schema)
    try:
        asyncio.run(_migrate(template))
        yield template
    finally:
        asyncio.run(_drop_schema(url, schema))


async def _migrate(backend: Backend) -> None:
    database = backend.open()
    try:
        await ensure_schema(database)
    finally:
        await backend.dispose_all()


async def _empty_all_tables(backend: Backend) -> None:
    database = backend.open()
    try:
        async with database.transaction() as session:
            # DELETE is much faster than TRUNCATE on tables this small.
            for table in reversed(Base.metadata.sorted_tables):
                await session.execute(table.delete())
    finally:
        await backend.dispose_all()


@pytest.fixture
def migrated_backend(
    migrated_template: Backend, tmp_path: Path
) -> Iterator[Backend]:
    """A database at the newest schema with no rows: a copy of the SQLite template, or the
    shared PostgreSQL schema emptied (tests that change the schema itself use ``backend``)."""
    if migrated_template.name == "sqlite":
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        assert migrated_template.url.startswith("sqlite+aiosqlite:///")
        shutil.copyfile(migrated_template.url.removeprefix("sqlite+aiosqlite:///"), data_dir / "surveybot.db")
        yield Backend(
            name="sqlite", url=f"sqlite+aiosqlite:///{data_dir / 'surveybot.db'}", data_dir=data_dir
        )
        return
    asyncio.run(_empty_all_tables(migrated_template))
    yield Backend(
        name="postgresql",
        url=migrated_template.url,
        schema=migrated_template.schema,
        data_dir=tmp_path / "data",
    )


@pytest.fixture
async def empty_database(backend: Backend) -> AsyncIterator[Database]:
    """A database with no tables at all."""
    database = backend.open()
    try:
        yield database
    finally:
        await backend.dispose_all()


@pytest.fixture
async def fresh_database(backend: Backend) -> AsyncIterator[Database]:
    """A database of its own, migrated by this test (for tests that alter the schema)."""
    database = backend.open()
    await ensure_schema(database)
    try:
        yield database
    finally:
        await backend.dispose_all()


@pytest.fixture
async def database(migrated_backend: Backend) -> AsyncIterator[Database]:
    """A database at the newest schema, with no rows."""
    database = migrated_backend.open()
    try:
        yield database
    finally:
        await migrated_backend.dispose_all()


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def deadline(now: datetime) -> datetime:
    return now + timedelta(days=30)


SMALL_SURVEY_YAML = """\
id: storage-test
version: "1"
title: {zh: 存储测试, en: Storage test}
languages: [zh, en]
sections:
  - id: basic
    title: {zh: 基本信息, en: Basic information}
    questions:
      - id: unit
        type: text
        label: {zh: 填报单位, en: Reporting unit}
      - id: q1_members
        type: integer
        label: {zh: 成员单位数, en: Member units}
"""


@pytest.fixture
def survey_file(tmp_path: Path) -> Path:
    path = tmp_path / "storage-test.yaml"
    path.write_text(SMALL_SURVEY_YAML, encoding="utf-8")
    return path


SMALL_DEFINITION = {"id": "storage-test", "version": "1", "title": "Storage test", "sections": []}

MakeCampaign = Callable[..., Awaitable[Campaign]]


@pytest.fixture
def make_campaign(database: Database, deadline: datetime, now: datetime) -> MakeCampaign:
    """``await make_campaign(units=[...])``: an open campaign with that roster, committed."""

    async def make(units: Sequence[str] = ("崇川区", "海门区", "如皋市"), title: str = "测试") -> Campaign:
        async with database.transaction() as session:
            version = await get_or_create_survey_version(
                session=session,
                definition_json=SMALL_DEFINITION,
                survey_id="storage-test",
                version="1",
            )
            campaign = await create_campaign(
                session=session, survey_version=version, title=title, deadline=deadline, now=now
            )
            if units:
                await add_units(session=session, campaign=campaign, names=list(units))
        return campaign

    return make
