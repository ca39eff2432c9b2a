"""Group commit on SQLite: write transactions that arrive together share one COMMIT (one fsync).

With ``synchronous=FULL`` every COMMIT waits for the disk (a few ms), and
SQLite has one writer at a time: answers that arrive while another one
commits queue behind the lock. :class:`GroupCommit` runs such queued work
items one after another in ONE transaction, each in its own savepoint and
its own session, and commits them together:

* every caller gets its result only after the COMMIT that holds its
  writes returned: an acknowledged answer is as durable as before;
* a work item that raises has its savepoint rolled back and gets its
  exception (after the commit, like everyone); the others' writes stay;
* if the group cannot commit (or a savepoint cannot be rolled back), the
  whole transaction is rolled back and every item runs again alone, in
  its own transaction: one item's trouble never costs another its answer;
* each item has a fresh session (a clean identity map) on the shared
  connection and sees the writes of the items before it, exactly as if it
  had run in its own transaction just after theirs.

A group takes whatever queued while the previous one was running and
committing (at most :data:`MAX_GROUP_SIZE` items); nobody waits on a timer,
so a lone answer is committed at once. The group runs in a task of its own:
a caller that goes away does not stop its item or the others'.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

logger = logging.getLogger(__name__)

T = TypeVar("T")
#: A unit of work: what one caller writes, given a session in a transaction.
Work = Callable[[AsyncSession], Awaitable[T]]

#: At most this many work items share one transaction (bounds a group's latency and its rollback).
MAX_GROUP_SIZE = 64


@dataclass(slots=True)
class _Item(Generic[T]):
    work: Work[T]
    done: asyncio.Future[T]
    result: T | None = None
    error: BaseException | None = None


@dataclass(slots=True)
class _Group:
    items: deque[_Item[Any]] = field(default_factory=deque)
    ran: list[_Item[Any]] = field(default_factory=list)
    #: No more items join once it is full or committing.
    closed: bool = False


class GroupCommit:
    """Runs work items in shared SQLite write transactions; see the module's docstring.

    ``write_lock`` is the database's in-process writer queue (the group holds
    it from BEGIN to COMMIT); ``alone`` opens one ordinary write transaction,
    for an item that runs again by itself.
    """

    def __init__(
        self,
        *,
        write_lock: AbstractAsyncContextManager[None],
        connect: Callable[[], Awaitable[AsyncConnection]],
        alone: Callable[[], AbstractAsyncContextManager[AsyncSession]],
        max_size: int = MAX_GROUP_SIZE,
    ) -> None:
        self._write_lock = write_lock
        self._connect = connect
        self._alone = alone
        self._max_size = max_size
        self._open: _Group | None = None
        self._runners: set[asyncio.Task[None]] = set()
        #: Groups committed and how many items they held (for the benchmark and the tests).
        self.commits = 0
        self.items_committed = 0

    @property
    def queued(self) -> int:
        """Work items waiting in the group that is open to join (for the tests)."""
        return len(self._open.items) if self._open is not None else 0

    async def run(self, work: Work[T]) -> T:
        """Run ``work`` in a shared transaction; its result once that transaction is committed."""
        item: _Item[T] = _Item(work=work, done=asyncio.get_running_loop().create_future())
        group = self._open
        if group is None or group.closed:
            group = self._open = _Group()
            runner = asyncio.create_task(self._run_group(group), name="group-commit")
            self._runners.add(runner)
            runner.add_done_callback(self._runners.discard)
        group.items.append(item)
        if len(group.items) + len(group.ran) >= self._max_size:
            self._close(group)
        # A caller that goes away leaves its item to the group (its key answers a retry).
        return await asyncio.shield(item.done)

    def _close(self, group: _Group) -> None:
        group.closed = True
        if self._open is group:
            self._open = None

    async def _run_group(self, group: _Group) -> None:
        try:
            try:
                committed = await self._run_together(group)
            except Exception as error:
                logger.warning("group commit of %d items failed (%s); running them one by one", len(group.ran), error)
                committed = False
            if committed:
                self.commits += 1
                self.items_committed += len(group.ran)
            else:
                self._close(group)
                for item in group.ran + list(group.items):
                    item.result, item.error = None, None
                    await self._run_alone(item)
        except BaseException as error:  # cancelled (shutting down): every caller must still hear
            for item in group.ran + list(group.items):
                if not item.done.done():
                    item.done.set_exception(error)
            raise
        for item in group.ran + list(group.items):
            if item.done.done():
                continue
            if item.error is not None:
                item.done.set_exception(item.error)
            else:
                item.done.set_result(item.result)

    async def _run_together(self, group: _Group) -> bool:
        """Run the group's items in one transaction and commit; False if it had to be rolled back."""
        async with self._write_lock:
            connection = await self._connect()
            try:
                await connection.begin()
                while group.items:
                    item = group.items.popleft()
                    group.ran.append(item)
                    if not await self._run_in_savepoint(connection, item):
                        self._close(group)
                        await connection.rollback()
                        return False
                # Nothing awaits between the check above and this: no item can join unseen.
                self._close(group)
                await connection.commit()
            finally:
                await connection.close()
        return True

    async def _run_in_savepoint(self, connection: AsyncConnection, item: _Item[Any]) -> bool:
        """Run one item in a savepoint of its own session; False if the shared transaction is spoilt."""
        session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        usable = True
        try:
            async with session.begin():
                try:
                    item.result = await item.work(session)
                except Exception as error:
                    item.error = error
                    raise
        except Exception as error:
            # The item's own error, its savepoint rolled back: it fails alone. Any
            # other error (releasing or rolling back the savepoint) spoils the group.
            usable = error is item.error and await _in_transaction(connection)
        try:
            await session.close()
        except Exception:
            logger.exception("closing a group member's session failed")
            usable = False
        return usable

    async def _run_alone(self, item: _Item[Any]) -> None:
        try:
            async with self._alone() as session:
                item.result = await item.work(session)
        except Exception as error:
            item.error = error
        except BaseException as error:  # cancelled while shutting down: the caller must still hear
            item.error = error
            raise


async def _in_transaction(connection: AsyncConnection) -> bool:
    """Whether the database still holds the transaction open (SQLite ends it itself on some errors)."""
    if connection.invalidated or connection.get_nested_transaction() is not None:
        return False
    raw = await connection.get_raw_connection()
    driver = getattr(raw, "driver_connection", None)
    return bool(getattr(driver, "in_transaction", True))
