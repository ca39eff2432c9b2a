"""The inbox service: every inbound update is kept durably before it is acknowledged, then handled.

A channel calls :meth:`Inbox.record` with what the provider delivered and
acknowledges the delivery only after it returns (Telegram polling: the next
``getUpdates`` offset; a webhook: the 200 answer). It then hands each
recorded entry to :meth:`Inbox.handle`, which runs the channel's handler and
marks the entry handled. A process killed at any moment therefore loses
nothing it acknowledged: :meth:`Inbox.recover` (at start-up, then
periodically) handles what is left.

A handler failure is logged (the handler logs its traceback), kept with the
entry and retried after :data:`RETRY_DELAY`; after :data:`MAX_FAILURES`
failures (or :data:`MAX_ATTEMPTS` handlings started, should an update kill
the process each time) the entry is marked failed. A failing update never
blocks the others.

Handling an update twice (a retry after a failure, a process killed after
the handler ran but before the mark) is safe: the respondent service and
the coordinator's drafts claim the provider's update id in the transaction
that applies it (:mod:`storage.updates`), so the second handling changes
nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from storage.database import Database
from storage.inbox import ArrivedUpdate, InboxEntry, claim_pending, mark_handled, record_updates, release_failed
from storage.types import utc_now

logger = logging.getLogger(__name__)

#: How long a process may take to handle an update before another may claim it.
HANDLING_LEASE = timedelta(minutes=2)
#: How many failed handlings an update gets before it is marked failed.
MAX_FAILURES = 3
#: How many handlings may start (a process killed in the middle counts) before it is marked failed.
MAX_ATTEMPTS = 10
#: How long after a failed handling the update is tried again.
RETRY_DELAY = timedelta(seconds=10)
#: How often pending updates (failed handlings, a dead process's claims) are looked for.
RECOVERY_INTERVAL_SECONDS = 5.0


#: A channel's handler: raises if the update could not be handled.
UpdateHandler = Callable[[InboxEntry], Awaitable[None]]


class Inbox:
    """One channel's durable inbox: record, handle, recover."""

    def __init__(
        self,
        *,
        database: Database,
        channel: str,
        handler: UpdateHandler,
        clock: Callable[[], datetime] = utc_now,
        lease: timedelta = HANDLING_LEASE,
        max_failures: int = MAX_FAILURES,
        max_attempts: int = MAX_ATTEMPTS,
        retry_delay: timedelta = RETRY_DELAY,
    ) -> None:
        self.database = database
        self.channel = channel
        self.handler = handler
        self.clock = clock
        self.lease = lease
        self.max_failures = max_failures
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self._tasks: set[asyncio.Task[None]] = set()
        # Handled entries waiting to be marked: marked together, one transaction for all that finished meanwhile.
        self._handled: list[int] = []
        self._marking: asyncio.Task[None] | None = None

    async def record(self, updates: Sequence[ArrivedUpdate]) -> list[InboxEntry]:
        """Keep the updates durably, in one transaction; the ones not recorded before, claimed by this process.

        Raises :class:`~storage.errors.StorageError` if the database cannot
        take them: the channel must then not acknowledge the delivery.
        """
        now = self.clock()
        # Urgent: the sender waits for this commit, ahead of the survey steps queued meanwhile.
        async with self.database.transaction(urgent=True) as session:
            return await record_updates(
                session=session, channel=self.channel, updates=updates, now=now, claimed_until=now + self.lease
            )

    async def handle(self, entry: InboxEntry) -> bool:
        """Run the channel's handler on one claimed entry and mark it handled; False if it failed."""
        try:
            await self.handler(entry)
        except Exception as error:
            final = entry.failures + 1 >= self.max_failures
            logger.error(
                "handling update %s:%s failed (failure %d of %d)%s: %s",
                self.channel,
                entry.dedup_key,
                entry.failures + 1,
                self.max_failures,
                "" if final else f"; retried in {self.retry_delay.total_seconds():g} s",
                error,
            )
            await self._release(entry, f"{type(error).__name__}: {error}")
            return False
        self._handled.append(entry.id)
        if self._marking is None or self._marking.done():
            self._marking = asyncio.create_task(self._mark_handled(), name=f"inbox-{self.channel}-marks")
        await asyncio.shield(self._marking)
        return True

    def handle_soon(self, entries: Sequence[InboxEntry]) -> None:
        """Start handling the entries in the background, in their order."""
        for entry in entries:
            task = asyncio.create_task(self._handle_logged(entry), name=f"inbox-{self.channel}-{entry.dedup_key}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def recover(self, *, at_start: bool = False) -> int:
        """Claim and handle the pending entries (at start-up: every unhandled one); how many were claimed.

        At start-up every page ignores the leases of the processes before
        this one (a killed process leaves its claims for :attr:`lease`), and
        pages by id so that an entry this pass handled or released is not
        taken again; after that, entries go by their leases.
        """
        total = 0
        after_id: int | None = None
        while True:
            now = self.clock()
            async with self.database.transaction() as session:
                entries = await claim_pending(
                    session=session,
                    channel=self.channel,
                    now=now,
                    claimed_until=now + self.lease,
                    max_failures=self.max_failures,
                    max_attempts=self.max_attempts,
                    ignore_leases=at_start,
                    after_id=after_id,
                )
            if not entries:
                return total
            total += len(entries)
            logger.info("handling %d recorded update(s) of %s left unhandled", len(entries), self.channel)
            # Started in order, so the channel's per-chat ordering holds.
            await asyncio.gather(*(self._handle_logged(entry) for entry in entries))
            if at_start:
                after_id = max(entry.id for entry in entries)

    async def run_recovery(self, stop: asyncio.Event, *, interval: float = RECOVERY_INTERVAL_SECONDS) -> None:
        """Until ``stop``: now and then, handle what failed before or what a dead process left."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), interval)
                return
            except TimeoutError:
                pass
            try:
                await self.recover()
            except Exception:  # the database may be down for a moment; try again later
                logger.warning("looking for unhandled %s updates failed", self.channel, exc_info=True)

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` for the handlings in flight; the rest is recovered after a restart."""
        tasks = set(self._tasks)
        if self._marking is not None:
            tasks.add(self._marking)
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
            logger.warning("%d update(s) still being handled at shutdown; they are handled after a restart", len(pending))

    async def _handle_logged(self, entry: InboxEntry) -> None:
        try:
            await self.handle(entry)
        except Exception:  # marking it failed; the lease runs out and it is recovered
            logger.error("could not record the outcome of update %s:%s", self.channel, entry.dedup_key, exc_info=True)

    async def _mark_handled(self) -> None:
        """Mark what was handled, in batches, until nothing is waiting."""
        while self._handled:
            entry_ids, self._handled = self._handled, []
            async with self.database.transaction() as session:
                await mark_handled(session=session, entry_ids=entry_ids, now=self.clock())

    async def _release(self, entry: InboxEntry, error: str) -> None:
        retry_at = self.clock() + self.retry_delay
        async with self.database.transaction() as session:
            await release_failed(session=session, entry_id=entry.id, error=error, retry_at=retry_at)
