"""The background work of ``surveybot run``: schedule reminders and send the outbox.

One task loops until stopped:

* every ``tick_interval`` seconds the :class:`~bot.reminder_scheduler.ReminderScheduler`
  creates the reminder batches that fell due (after downtime: the latest due
  slot only, if the deadline has not passed);
* every ``recover_interval`` seconds rows a dead sender left SENDING are failed;
* whenever a message is due, the :class:`OutboxSender`
  drains the outbox; a confirmation in this process wakes it at once (the ``wakeup`` event),
  batches enqueued by other processes are found by polling every ``poll_interval``;
* finished batches are closed with their summary;
* every ``prune_interval`` seconds the ids of updates handled more than
  :data:`PROCESSED_UPDATES_KEPT` ago are forgotten (a channel redelivers
  within hours; the table would otherwise grow by a row per message forever).

Several bot processes may run this against one PostgreSQL database: batches
are unique per campaign and key, rows are claimed with ``SKIP LOCKED``.
:meth:`stop` lets the sends in flight finish and gives back what was claimed
but not sent, so a restart neither loses nor repeats a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from bot.reminder_scheduler import ReminderScheduler
from storage.database import Database
from storage.inbox import prune_handled_updates
from storage.types import utc_now
from storage.updates import prune_processed_updates

logger = logging.getLogger(__name__)


class OutboxDrain(Protocol):
    """What the worker needs of an outbox sender."""

    name: str

    def request_stop(self) -> None: ...

    async def recover(self) -> int: ...

    async def has_work(self) -> bool: ...

    async def drain(self) -> object: ...

    async def report(self) -> None: ...

#: Seconds between two looks at the reminder schedules.
TICK_INTERVAL = 30.0
#: Seconds between two looks for messages enqueued by other processes.
POLL_INTERVAL = 2.0
#: Seconds between two recoveries of interrupted sends.
RECOVER_INTERVAL = 60.0
#: Seconds between two prunings of the handled update ids.
PRUNE_INTERVAL = 3600.0
#: How long a handled update's id is kept to refuse its redelivery (Telegram
#: keeps an undelivered update for 24 hours).
PROCESSED_UPDATES_KEPT = timedelta(days=7)
#: Seconds to wait after the loop failed (database unreachable...).
ERROR_BACKOFF = 10.0
#: Seconds :meth:`ReminderWorker.stop` waits for the sends in flight.
STOP_TIMEOUT = 15.0


class ReminderWorker:
    def __init__(
        self,
        *,
        database: Database,
        sender: OutboxDrain,
        clock: Callable[[], datetime] = utc_now,
        wakeup: asyncio.Event | None = None,
        tick_interval: float = TICK_INTERVAL,
        poll_interval: float = POLL_INTERVAL,
        recover_interval: float = RECOVER_INTERVAL,
        prune_interval: float = PRUNE_INTERVAL,
    ) -> None:
        self.database = database
        self.clock = clock
        self.scheduler = ReminderScheduler(database=database, clock=clock)
        self.sender = sender
        self.wakeup = wakeup or asyncio.Event()
        self.tick_interval = tick_interval
        self.poll_interval = poll_interval
        self.recover_interval = recover_interval
        self.prune_interval = prune_interval
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="surveybot-reminders")
            logger.info("reminders and outbox running (sender %s)", self.sender.name)

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop claiming, let the sends in flight finish (up to ``timeout``), end the loop."""
        self._stopping = True
        self.sender.request_stop()
        self.wakeup.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            logger.warning("the outbox sender did not stop within %.0f s; interrupting it", timeout)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def prune(self) -> int:
        """Forget the update ids (and inbox rows) handled before :data:`PROCESSED_UPDATES_KEPT`; returns how many ids."""
        async with self.database.transaction() as session:
            older_than = self.clock() - PROCESSED_UPDATES_KEPT
            removed = await prune_processed_updates(session=session, older_than=older_than)
            # The inbox rows of the same updates: kept as long, so a late redelivery is still recognised.
            recorded = await prune_handled_updates(session=session, older_than=older_than)
        if recorded:
            logger.info("forgot %d handled inbox update(s) older than %s", recorded, PROCESSED_UPDATES_KEPT)
        if removed:
            logger.info("forgot %d handled update id(s) older than %s", removed, PROCESSED_UPDATES_KEPT)
        return removed

    async def _run(self) -> None:
        next_tick = next_recovery = next_prune = 0.0
        while not self._stopping:
            self.wakeup.clear()
            delay = self.poll_interval
            try:
                now = time.monotonic()
                if now >= next_recovery:
                    await self.sender.recover()
                    next_recovery = now + self.recover_interval
                if now >= next_tick:
                    await self.scheduler.tick()
                    next_tick = now + self.tick_interval
                if now >= next_prune:
                    await self.prune()
                    next_prune = now + self.prune_interval
                if not self._stopping and await self.sender.has_work():
                    await self.sender.drain()
                await self.sender.report()
            except Exception as error:  # keep the bot running; the database may come back
                logger.error("reminders and outbox: %s; trying again in %.0f s", error, ERROR_BACKOFF)
                logger.debug("reminder worker round failed", exc_info=True)
                delay = ERROR_BACKOFF
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), delay)
