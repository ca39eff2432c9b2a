"""Group commit: work items that queue together share one transaction, each as safe as alone.

Real databases (SQLite, and PostgreSQL when configured, where ``grouped`` is
an ordinary transaction); rows are checked through a NEW handle on the same
data, so only what was committed counts.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import Database
from storage.models import ProcessedUpdate
from storage.updates import claim_update
from tests.storage.conftest import Backend


class Refused(Exception):
    """What a work item raises after writing: its writes must vanish, nobody else's."""


def claim(update_id: str, *, fail: bool = False) -> object:
    async def work(session: AsyncSession) -> bool:
        created = await claim_update(session=session, channel="test", update_id=update_id)
        if fail:
            raise Refused(update_id)
        return created

    return work


async def committed_ids(backend: Backend) -> set[str]:
    other = backend.open()
    async with other.read() as session:
        return set((await session.scalars(select(ProcessedUpdate.update_id))).all())


async def test_grouped__concurrent_items_share_one_commit_and_all_survive(migrated_backend: Backend) -> None:
    database = migrated_backend.open()
    results = await asyncio.gather(*(database.grouped(claim(f"u{i}")) for i in range(5)))  # type: ignore[arg-type]
    assert results == [True] * 5
    assert await committed_ids(migrated_backend) == {f"u{i}" for i in range(5)}
    if database.group_commit is not None:  # SQLite: they queued together, one COMMIT
        assert (database.group_commit.commits, database.group_commit.items_committed) == (1, 5)
    await migrated_backend.dispose_all()


async def test_grouped__a_failing_item_loses_only_its_own_writes(migrated_backend: Backend) -> None:
    database = migrated_backend.open()
    results = await asyncio.gather(
        database.grouped(claim("a")),  # type: ignore[arg-type]
        database.grouped(claim("b", fail=True)),  # type: ignore[arg-type]
        database.grouped(claim("c")),  # type: ignore[arg-type]
        return_exceptions=True,
    )
    assert results[0] is True and results[2] is True
    assert isinstance(results[1], Refused)
    assert await committed_ids(migrated_backend) == {"a", "c"}
    if database.group_commit is not None:
        assert database.group_commit.commits == 1
    await migrated_backend.dispose_all()


async def test_grouped__a_key_claimed_earlier_in_the_group_is_a_replay_and_stored_once(migrated_backend: Backend) -> None:
    database = migrated_backend.open()
    first, second = await asyncio.gather(database.grouped(claim("same")), database.grouped(claim("same")))  # type: ignore[arg-type]
    assert sorted([first, second]) == [False, True]  # on SQLite the first in the group wins
    assert await database.grouped(claim("same")) is False  # type: ignore[arg-type]
    assert await committed_ids(migrated_backend) == {"same"}
    await migrated_backend.dispose_all()


async def test_grouped__an_item_that_spoils_the_transaction_makes_the_others_run_alone(migrated_backend: Backend) -> None:
    if migrated_backend.name != "sqlite":
        pytest.skip("group commit is SQLite's; PostgreSQL runs each item in its own transaction")
    database = migrated_backend.open()

    async def spoil(session: AsyncSession) -> None:
        await claim_update(session=session, channel="test", update_id="spoiler")
        connection = await session.connection()
        await connection.exec_driver_sql("ROLLBACK")  # ends the shared transaction under everyone

    results = await asyncio.gather(
        database.grouped(claim("before")),  # type: ignore[arg-type]
        database.grouped(spoil),
        database.grouped(claim("after")),  # type: ignore[arg-type]
        return_exceptions=True,
    )
    # The others ran again, alone, and were committed; the spoiler undid its own claim again.
    assert results[0] is True and results[2] is True
    assert await committed_ids(migrated_backend) == {"before", "after"}
    assert database.group_commit is not None and database.group_commit.commits == 0
    await migrated_backend.dispose_all()


async def test_grouped__a_caller_gets_its_answer_only_after_the_commit(migrated_backend: Backend) -> None:
    """Another connection sees the item's row by the time its caller is answered."""
    database: Database = migrated_backend.open()
    seen: list[set[str]] = []

    async def answer_and_look(update_id: str) -> None:
        await database.grouped(claim(update_id))  # type: ignore[arg-type]
        seen.append(await committed_ids(migrated_backend))

    await asyncio.gather(*(answer_and_look(f"k{i}") for i in range(3)))
    # One group: each caller, once answered, finds all three committed.
    assert len(seen) == 3 and all({"k0", "k1", "k2"} <= looked for looked in seen)
    await migrated_backend.dispose_all()
