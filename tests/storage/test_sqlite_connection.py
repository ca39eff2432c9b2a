"""SQLite calls that cannot block run on the event loop's thread; COMMIT and lock waits do not."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from storage.database import Database
from storage.migrate import ensure_schema
from storage.models import Coordinator
from storage.sqlite_connection import runs_inline


@pytest.fixture
async def sqlite_database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    await ensure_schema(database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.mark.parametrize(
    ("sql", "inline"),
    [
        ("SELECT 1", True),
        ("INSERT INTO t VALUES (1)", True),
        ("BEGIN", True),  # deferred: takes no lock until it reads
        ("BEGIN IMMEDIATE", False),
        ("  begin\n  immediate", False),
        ("BEGIN EXCLUSIVE", False),
        ("COMMIT", False),
        ("END", False),
        ("PRAGMA journal_mode = WAL", False),
        ("VACUUM", False),
    ],
)
def test_runs_inline__by_statement(sql: str, inline: bool) -> None:
    connection = sqlite3.connect(":memory:")
    try:
        cursor = connection.cursor()
        assert runs_inline(cursor.execute, (sql,)) is inline
        assert runs_inline(cursor.fetchall, ()) is True
        assert runs_inline(connection.cursor, ()) is True
        assert runs_inline(connection.commit, ()) is False
        assert runs_inline(connection.close, ()) is False
        assert runs_inline(print, ()) is False
    finally:
        connection.close()


async def test_uncontended_transaction__runs_on_the_loop_thread_but_its_commit(
    sqlite_database: Database,
) -> None:
    traced: list[tuple[str, int]] = []
    loop_thread = threading.get_ident()
    async with sqlite_database.transaction() as session:
        driver = (await (await session.connection()).get_raw_connection()).driver_connection
        driver._conn.set_trace_callback(lambda sql: traced.append((sql.split()[0].upper(), threading.get_ident())))
        session.add(Coordinator(channel="telegram", external_id="1"))
        await session.flush()
        assert await session.scalar(select(Coordinator.external_id)) == "1"
    async with sqlite_database.transaction() as session:
        assert await session.scalar(select(Coordinator.external_id)) == "1"

    on_loop = {verb for verb, thread in traced if thread == loop_thread}
    elsewhere = {verb for verb, thread in traced if thread != loop_thread}
    # Nobody else writes, so BEGIN IMMEDIATE gets the lock at once, on the loop.
    assert {"BEGIN", "INSERT", "SELECT"} <= on_loop
    assert elsewhere == {"COMMIT"}  # the fsync


async def test_waiting_for_another_process_lock__keeps_the_event_loop_running(
    sqlite_database: Database,
) -> None:
    assert sqlite_database.url.database is not None
    other = sqlite3.connect(sqlite_database.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process is writing
    try:
        writer = asyncio.create_task(_insert_coordinator(sqlite_database, "2"))
        started = time.perf_counter()
        ticks = 0
        while time.perf_counter() - started < 0.3:
            await asyncio.sleep(0.01)
            ticks += 1
        assert not writer.done()
        assert ticks >= 10, "the event loop stalled while the transaction waited for the lock"
    finally:
        other.execute("COMMIT")
        other.close()
    await asyncio.wait_for(writer, timeout=10)
    async with sqlite_database.read() as session:
        assert await session.scalar(select(Coordinator.external_id)) == "2"


async def test_errors_of_inline_statements__reach_the_caller(sqlite_database: Database) -> None:
    with pytest.raises(Exception, match="no such table"):
        async with sqlite_database.transaction() as session:
            await session.execute(text("SELECT * FROM no_such_table"))
    await _insert_coordinator(sqlite_database, "3")  # the connection is still usable


async def _insert_coordinator(database: Database, external_id: str) -> None:
    async with database.transaction() as session:
        session.add(Coordinator(channel="telegram", external_id=external_id))


@pytest.mark.parametrize("kind", ["read", "write"])
async def test_cancelled_callers__never_share_the_connection_with_its_thread(
    sqlite_database: Database, kind: str
) -> None:
    """A caller cancelled while its COMMIT (or BEGIN) runs in the thread: the cleanup that follows queues behind it.

    Run inline at once, the rollback would use the sqlite3 connection while the
    thread still does ("Recursive use of cursors not allowed").
    """
    counter = iter(range(1_000_000))

    async def busy() -> None:
        while True:
            if kind == "read":
                async with sqlite_database.read() as session:
                    await session.scalar(select(Coordinator.id))
            else:
                await _insert_coordinator(sqlite_database, f"c{next(counter)}")

    for round_ in range(150):
        task = asyncio.create_task(busy())
        await asyncio.sleep((round_ % 30) / 10_000)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=5)
        assert done, f"round {round_}: the cancelled task did not finish"
        assert task.cancelled(), f"round {round_}: {task.exception()!r}"
    await _insert_coordinator(sqlite_database, "after")
    async with sqlite_database.read() as session:
        assert await session.scalar(select(Coordinator.id).where(Coordinator.external_id == "after")) is not None


async def test_many_connections_opening_a_new_file_at_once__all_write_in_wal(tmp_path: Path) -> None:
    # Switching a new file to WAL while others open it can fail at once with
    # "database is locked" (SQLite will not wait where waiting could deadlock).
    async def write(database: Database, number: int) -> None:
        async with database.transaction() as session:
            await session.execute(text("CREATE TABLE IF NOT EXISTS t (number INTEGER)"))
            await session.execute(text("INSERT INTO t VALUES (:number)"), {"number": number})

    for attempt in range(10):
        databases = [Database(f"sqlite+aiosqlite:///{tmp_path / f'new-{attempt}.db'}") for _ in range(8)]
        try:
            await asyncio.gather(*(write(database, number) for number, database in enumerate(databases)))
            async with databases[0].read() as session:
                assert await session.scalar(text("PRAGMA journal_mode")) == "wal"
                assert await session.scalar(text("SELECT count(*) FROM t")) == len(databases)
        finally:
            await asyncio.gather(*(database.dispose() for database in databases))
