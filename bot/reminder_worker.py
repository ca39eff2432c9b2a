"""The background work of ``surveybot run``: schedule reminders and send the outbox.

One task runs the schedule, one more per outbox sender (one sender per
channel, each with its transport), until stopped:

* every ``tick_interval`` seconds the :class:`~bot.reminder_scheduler.ReminderScheduler`
  creates the reminder batches that fell due (after downtime: the latest due
  slot only, if the deadline has not passed);
* after each tick, each *follower* runs (the WeCom group digest of each
  reminder slot, :mod:`handlers.wecom.group_digest`), whether or not this
  process created the slot's batch;
* every ``prune_interval`` seconds the ids of updates handled more than
  :data:`PROCESSED_UPDATES_KEPT` ago are forgotten (a channel redelivers
  within hours; the table would otherwise grow by a row per message forever);
* each sender, on its own: every ``recover_interval`` seconds fails the rows
  of its channel a dead sender left SENDING; whenever one of its channel's
  messages is due, drains them; closes finished batches with their summary.
  A slow channel never holds up another. A confirmation in this process wakes
  every sender at once (the ``wakeup`` event), and so does a tick that
  created batches; batches enqueued by other processes are found by polling
  every ``poll_interval``.

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
from collections.abc import Callable, Sequence
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
    channel: str
    @property
    def busy_minutes(self) -> frozenset[int]:
        """Minutes of the hour the channel's scheduled reminders avoid (empty: none)."""
        ...

    def request_stop(self) -> None: ...

    async def recover(self) -> int: ...

    async def has_work(self) -> bool: ...

    async def drain(self) -> object: ...

    async def report(self) -> None: ...


class SlotFollower(Protocol):
    """Work that follows each reminder slot (the WeCom group digest): run after every schedule tick."""

    async def follow(self) -> object: ...


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
        senders: Sequence[OutboxDrain],
        followers: Sequence[SlotFollower] = (),
        clock: Callable[[], datetime] = utc_now,
        wakeup: asyncio.Event | None = None,
        tick_interval: float = TICK_INTERVAL,
        poll_interval: float = POLL_INTERVAL,
        recover_interval: float = RECOVER_INTERVAL,
        prune_interval: float = PRUNE_INTERVAL,
    ) -> None:
        channels = [sender.channel for sender in senders]
        if len(set(channels)) != len(channels):
            raise ValueError(f"one outbox sender per channel, got {channels}")
        self.database = database
        self.clock = clock
        # Reminders go to the accounts of the channels this worker sends through.
        self.scheduler = ReminderScheduler(
            database=database, clock=clock, outbox_channels=channels,
            busy_minutes={sender.channel: sender.busy_minutes for sender in senders},
        )
        self.senders = list(senders)
        self.followers = list(followers)
        self.wakeup = wakeup or asyncio.Event()
        self.tick_interval = tick_interval
        self.poll_interval = poll_interval
        self.recover_interval = recover_interval
        self.prune_interval = prune_interval
        self._stopping = False
        self._stop_requested = asyncio.Event()
        #: One event per sender: the shared ``wakeup`` is relayed to each, so that none misses it.
        self._sender_wakeups = [asyncio.Event() for _ in self.senders]
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        if self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._run_schedule(), name="surveybot-reminders"),
            asyncio.create_task(self._relay_wakeups(), name="surveybot-outbox-wakeup"),
            *(
                asyncio.create_task(self._run_sender(sender, wakeup), name=f"surveybot-outbox-{sender.channel}")
                for sender, wakeup in zip(self.senders, self._sender_wakeups, strict=True)
            ),
        ]
        logger.info(
            "reminders and outbox running (%s)",
            ", ".join(f"{sender.channel} sender {sender.name}" for sender in self.senders) or "no outbox sender",
        )

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop claiming, let the sends in flight finish (up to ``timeout``), end the loops."""
        self._stopping = True
        self._stop_requested.set()
        for sender in self.senders:
            sender.request_stop()
        self.wakeup.set()
        self._wake_senders()
        tasks, self._tasks = self._tasks, []
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=timeout)
        if pending:
            logger.warning("the outbox senders did not stop within %.0f s; interrupting them", timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

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

    def _wake_senders(self) -> None:
        for event in self._sender_wakeups:
            event.set()

    async def _relay_wakeups(self) -> None:
        while not self._stopping:
            await self.wakeup.wait()
            self.wakeup.clear()
            self._wake_senders()

    async def _run_schedule(self) -> None:
        next_tick = next_prune = 0.0
        while not self._stopping:
            delay = self.tick_interval
            try:
                now = time.monotonic()
                if now >= next_tick:
                    if await self.scheduler.tick():
                        self._wake_senders()
                    next_tick = now + self.tick_interval
                    await self._follow()
                if now >= next_prune:
                    await self.prune()
                    next_prune = now + self.prune_interval
                delay = max(0.0, min(next_tick, next_prune) - time.monotonic())
            except Exception as error:  # keep the bot running; the database may come back
                logger.error("reminder schedule: %s; trying again in %.0f s", error, ERROR_BACKOFF)
                logger.debug("reminder schedule round failed", exc_info=True)
                delay = ERROR_BACKOFF
            if self._stopping:
                break
            await self._sleep(delay)

    async def _follow(self) -> None:
        """Run each follower; one failing (a group robot down) neither stops the others nor the schedule."""
        for follower in self.followers:
            try:
                await follower.follow()
            except Exception as error:
                logger.error("after the reminder schedule: %s failed: %s", type(follower).__name__, error)
                logger.debug("slot follower failed", exc_info=True)

    async def _run_sender(self, sender: OutboxDrain, wakeup: asyncio.Event) -> None:
        next_recovery = 0.0
        while not self._stopping:
            wakeup.clear()
            delay = self.poll_interval
            try:
                now = time.monotonic()
                if now >= next_recovery:
                    await sender.recover()
                    next_recovery = now + self.recover_interval
                if not self._stopping and await sender.has_work():
                    await sender.drain()
                await sender.report()
            except Exception as error:  # keep the bot running; the database may come back
                logger.error("%s outbox: %s; trying again in %.0f s", sender.channel, error, ERROR_BACKOFF)
                logger.debug("%s outbox round failed", sender.channel, exc_info=True)
                delay = ERROR_BACKOFF
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), delay)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, cut short by :meth:`stop`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_requested.wait(), seconds)
