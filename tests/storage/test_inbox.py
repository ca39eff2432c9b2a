"""The durable inbox: recorded once, handled once, a failure retried a bounded number of times."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.inbox import Inbox
from storage.database import Database
from storage.inbox import ArrivedUpdate, InboxEntry, claim_pending, record_updates
from storage.migrate import ensure_schema
from storage.models import InboundUpdate

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def arrived(*keys: str) -> list[ArrivedUpdate]:
    return [ArrivedUpdate(dedup_key=key, payload=f'{{"update_id": {key}}}') for key in keys]


async def rows(database: Database) -> dict[str, InboundUpdate]:
    async with database.read() as session:
        return {row.dedup_key: row for row in await session.scalars(select(InboundUpdate))}


async def test_record__a_redelivered_update_is_not_recorded_again(database: Database) -> None:
    async with database.transaction() as session:
        first = await record_updates(
            session=session, channel="telegram", updates=arrived("1", "2"), now=NOW, claimed_until=NOW
        )
    async with database.transaction() as session:
        again = await record_updates(
            session=session, channel="telegram", updates=arrived("2", "3"), now=NOW, claimed_until=NOW
        )
    assert [entry.dedup_key for entry in first] == ["1", "2"]
    assert [entry.dedup_key for entry in again] == ["3"]
    assert sorted(await rows(database)) == ["1", "2", "3"]


async def test_claim_pending__waits_for_the_lease_unless_starting(database: Database) -> None:
    async with database.transaction() as session:
        await record_updates(
            session=session, channel="telegram", updates=arrived("1"), now=NOW, claimed_until=NOW + timedelta(minutes=2)
        )
    async with database.transaction() as session:
        held = await claim_pending(
            session=session,
            channel="telegram",
            now=NOW,
            claimed_until=NOW + timedelta(minutes=2),
            max_failures=3,
            max_attempts=10,
        )
    async with database.transaction() as session:
        started = await claim_pending(
            session=session,
            channel="telegram",
            now=NOW,
            claimed_until=NOW + timedelta(minutes=2),
            max_failures=3,
            max_attempts=10,
            ignore_leases=True,
        )
    assert held == []
    assert [(entry.dedup_key, entry.attempts) for entry in started] == [("1", 2)]


async def test_inbox__a_failing_update_is_retried_then_given_up_and_never_blocks_the_others(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(NOW)
    handled: list[str] = []

    async def handler(entry: InboxEntry) -> None:
        if entry.dedup_key == "bad":
            raise RuntimeError("the handler broke")
        handled.append(entry.dedup_key)

    inbox = Inbox(database=database, channel="telegram", handler=handler, clock=clock, max_failures=2)
    entries = await inbox.record(arrived("1") + [ArrivedUpdate("bad", "{}")] + arrived("2"))
    inbox.handle_soon(entries)
    await inbox.drain(5.0)
    assert handled == ["1", "2"]
    assert (await rows(database))["bad"].last_error == "RuntimeError: the handler broke"

    clock.now += inbox.retry_delay
    with caplog.at_level(logging.ERROR, logger="storage.inbox"):
        assert await inbox.recover() == 1  # the second attempt, failing again
        clock.now += inbox.retry_delay
        assert await inbox.recover() == 0  # given up
    stored = await rows(database)
    assert stored["bad"].failed_at is not None and stored["bad"].handled_at is None
    assert stored["1"].handled_at is not None and stored["2"].handled_at is not None
    assert any("given up after 2 handlings (2 failed)" in record.getMessage() for record in caplog.records)


async def test_inbox__what_a_killed_process_left_is_handled_at_start(database: Database) -> None:
    clock = Clock(NOW)
    handled: list[str] = []

    async def handler(entry: InboxEntry) -> None:
        handled.append(entry.dedup_key)

    killed = Inbox(database=database, channel="telegram", handler=handler, clock=clock)
    await killed.record(arrived("1", "2"))  # recorded, never handled
    restarted = Inbox(database=database, channel="telegram", handler=handler, clock=clock)
    assert await restarted.recover() == 0  # another process may still be at it
    assert await restarted.recover(at_start=True) == 2
    assert handled == ["1", "2"]
    assert await restarted.recover(at_start=True) == 0


async def test_inbox__more_than_a_page_left_by_a_killed_process__all_handled_at_start(database: Database) -> None:
    """A start-up recovery pages through every entry a killed process claimed, not only the first page.

    The killed process's claims hold their leases for minutes: a start-up that
    took the first page and then went by leases left the rest waiting that long.
    """
    clock = Clock(NOW)
    handled: list[str] = []

    async def handler(entry: InboxEntry) -> None:
        handled.append(entry.dedup_key)

    killed = Inbox(database=database, channel="telegram", handler=handler, clock=clock)
    keys = [str(100000 + index) for index in range(130)]  # more than claim_pending's page of 100
    await killed.record(arrived(*keys))
    restarted = Inbox(database=database, channel="telegram", handler=handler, clock=clock)
    assert await restarted.recover(at_start=True) == 130
    assert sorted(handled) == keys  # each once
    assert all(row.handled_at is not None for row in (await rows(database)).values())


async def test_inbox__an_update_that_kills_the_process_every_time_is_given_up(database: Database) -> None:
    clock = Clock(NOW)

    async def handler(entry: InboxEntry) -> None:
        raise AssertionError("never reached: the process is killed before")

    await Inbox(database=database, channel="telegram", handler=handler, clock=clock).record(arrived("1"))
    for _ in range(2):  # each start claims it, then the process dies
        async with database.transaction() as session:
            await claim_pending(
                session=session, channel="telegram", now=NOW, claimed_until=NOW, max_failures=3, max_attempts=3,
                ignore_leases=True,
            )
    async with database.transaction() as session:
        claimed = await claim_pending(
            session=session, channel="telegram", now=NOW, claimed_until=NOW, max_failures=3, max_attempts=3,
            ignore_leases=True,
        )
    assert claimed == []
    assert (await rows(database))["1"].failed_at is not None


async def test_record__on_sqlite_goes_before_the_writes_already_queued(tmp_path: Path) -> None:
    """The sender waits for the record's commit (WeCom retries after 5 s): it must not queue behind survey steps.

    SQLite only: PostgreSQL has no in-process writer queue (its transactions run side by side).
    """
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'inbox.db'}")
    await ensure_schema(database)
    inbox = Inbox(database=database, channel="wecom", handler=lambda entry: None, clock=Clock(NOW))  # type: ignore[arg-type,return-value]
    done: list[str] = []
    holding, release = asyncio.Event(), asyncio.Event()

    async def long_step() -> None:
        async with database.transaction():
            holding.set()
            await release.wait()
        done.append("step 0")

    async def queued_step(number: int) -> None:
        async with database.transaction() as session:
            await session.scalar(select(InboundUpdate.id))
        done.append(f"step {number}")

    async def record() -> None:
        await inbox.record(arrived("77"))
        done.append("recorded")

    first = asyncio.create_task(long_step())
    await holding.wait()
    steps = [asyncio.create_task(queued_step(number)) for number in (1, 2, 3)]
    await asyncio.sleep(0.05)  # the steps are queued
    recording = asyncio.create_task(record())
    await asyncio.sleep(0.05)
    release.set()
    try:
        await asyncio.gather(first, *steps, recording)
        assert done == ["step 0", "recorded", "step 1", "step 2", "step 3"]
        assert list(await rows(database)) == ["77"]
    finally:
        await database.dispose()
