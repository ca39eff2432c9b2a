"""The Database handle: SQLite settings, transactions, read-only sessions, readable failures."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, StatementError

from bot.settings import Settings
from storage.database import Database, display_url, normalize_url
from storage.errors import DatabaseUnavailableError, InvalidValueError
from storage.migrate import ensure_schema
from storage.models import Coordinator


async def test_from_settings__default_is_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "data"
    database = Database.from_settings(Settings(data_dir=data_dir, database_url=None))
    try:
        assert database.is_sqlite
        await ensure_schema(database)
        assert (data_dir / "surveybot.db").is_file()
    finally:
        await database.dispose()


async def test_sqlite_connections__use_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with database.read() as session:
            journal = await session.scalar(text("PRAGMA journal_mode"))
            timeout = await session.scalar(text("PRAGMA busy_timeout"))
            foreign_keys = await session.scalar(text("PRAGMA foreign_keys"))
        assert (journal, timeout, foreign_keys) == ("wal", 30000, 1)
    finally:
        await database.dispose()


async def test_sqlite_write_transaction__holds_the_write_lock_from_its_start(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    first, second = Database(url), Database(url)
    try:
        await ensure_schema(first)
        order: list[str] = []
        first_started = asyncio.Event()
        release_first = asyncio.Event()

        async def writer_one() -> None:
            async with first.transaction() as session:
                await session.scalar(select(Coordinator.id))  # a read: lock already held
                order.append("one begins")
                first_started.set()
                await release_first.wait()
                order.append("one commits")

        async def writer_two() -> None:
            await first_started.wait()
            async with second.transaction() as session:
                order.append("two begins")
                await session.scalar(select(Coordinator.id))

        async def reader() -> None:
            await first_started.wait()
            async with second.read() as session:  # readers never wait for the writer
                await session.scalar(select(Coordinator.id))
                order.append("read done")
            await asyncio.sleep(0.2)
            release_first.set()

        await asyncio.gather(writer_one(), writer_two(), reader())
        assert order == ["one begins", "read done", "one commits", "two begins"]
    finally:
        await first.dispose()
        await second.dispose()


async def test_read_session__never_keeps_changes(database: Database) -> None:
    if database.is_postgresql:  # a READ ONLY transaction refuses the write outright
        with pytest.raises(DBAPIError, match="read-only transaction"):
            async with database.read() as session:
                session.add(Coordinator(channel="telegram", external_id="1"))
                await session.flush()
    else:  # SQLite: the write is rolled back at the end
        async with database.read() as session:
            session.add(Coordinator(channel="telegram", external_id="1"))
            await session.flush()
    async with database.read() as session:
        assert await session.scalar(select(Coordinator.id)) is None


async def test_transaction__rolls_back_on_error(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            session.add(Coordinator(channel="telegram", external_id="1"))
            await session.flush()
            raise RuntimeError("boom")
    async with database.read() as session:
        assert await session.scalar(select(Coordinator.id)) is None


async def test_datetimes__are_stored_in_utc_and_read_back_aware(database: Database) -> None:
    shanghai = timezone(timedelta(hours=8))
    moment = datetime(2026, 12, 15, 17, 0, tzinfo=shanghai)
    async with database.transaction() as session:
        session.add(Coordinator(channel="telegram", external_id="1", added_at=moment))
    async with database.read() as session:
        stored = await session.scalar(select(Coordinator.added_at))
    assert stored == moment
    assert stored is not None and stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)
    assert stored.hour == 9


async def test_naive_datetime__is_refused(database: Database) -> None:
    with pytest.raises(StatementError) as raised:
        async with database.transaction() as session:
            session.add(
                Coordinator(channel="telegram", external_id="1", added_at=datetime(2026, 1, 1))
            )
            await session.flush()
    assert isinstance(raised.value.orig, InvalidValueError)


async def test_unreachable_postgres__raises_a_readable_error_without_the_password() -> None:
    database = Database("postgresql+asyncpg://surveybot:s3cret@127.0.0.1:1/nowhere")
    try:
        with pytest.raises(DatabaseUnavailableError) as raised:
            await ensure_schema(database)
        message = str(raised.value)
        assert message.startswith(
            "cannot open the database postgresql+asyncpg://surveybot:***@127.0.0.1:1/nowhere: "
        )
        assert "s3cret" not in message
        assert "\n" not in message
    finally:
        await database.dispose()


async def test_file_that_is_not_sqlite__raises_a_readable_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not a database at all, just some text " * 100)
    database = Database(f"sqlite:///{path}")
    try:
        with pytest.raises(DatabaseUnavailableError, match="file is not a database"):
            async with database.transaction():
                pass
    finally:
        await database.dispose()


def test_unsupported_url__is_refused_with_the_supported_forms() -> None:
    with pytest.raises(DatabaseUnavailableError, match="unsupported database URL mysql://"):
        Database("mysql://user:pw@host/db")


def test_sync_driver_names__map_to_the_async_drivers() -> None:
    assert normalize_url("sqlite:///a.db").drivername == "sqlite+aiosqlite"
    assert normalize_url("postgresql://u@h/d").drivername == "postgresql+asyncpg"
    assert display_url("postgresql://u:pw@h/d") == "postgresql://u:***@h/d"


def test_search_path_in_the_url__becomes_the_schema() -> None:
    database = Database("postgresql+asyncpg://u@h/d?search_path=surveybot")
    assert database.schema == "surveybot"
    assert "search_path" not in database.url.query
    assert database.url.database == "d"


def test_naive_now_is_checked_in_repositories() -> None:
    from storage.rows import aware_now

    with pytest.raises(InvalidValueError):
        aware_now(datetime(2026, 1, 1))
    assert aware_now(datetime(2026, 1, 1, tzinfo=UTC)).tzinfo is UTC
