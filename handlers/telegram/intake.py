"""Telegram updates into the durable inbox, and from there into the Application.

python-telegram-bot's own ``Updater`` confirms fetched updates (the next
``getUpdates`` offset) before they are handled, so a process killed in
between loses them. :class:`Poller` instead records each fetched batch in
the inbox (one transaction) and only then asks for the next offset; the
webhook (:mod:`handlers.telegram.webhook`) records before answering 200.
:class:`UpdateFeeder` hands a recorded update to the Application and
reports a handler's failure to the inbox, which retries it.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, TimedOut
from telegram.ext import Application

from bot.inbox import RECOVERY_INTERVAL_SECONDS, Inbox
from storage.errors import StorageError
from storage.inbox import ArrivedUpdate, InboxEntry

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
#: The update kinds the bot asks Telegram for.
ALLOWED_UPDATES: list[str] = ["message", "edited_message", "callback_query"]
#: Seconds a ``getUpdates`` long poll waits for updates.
POLL_TIMEOUT = 10
#: The longest pause after a failed ``getUpdates`` or a failed recording.
MAX_BACKOFF_SECONDS = 30.0


class HandlerFailedError(Exception):
    """A handler of the Application raised; the error handler has logged it."""


@dataclass(slots=True)
class HandlingReport:
    """What the Application's error handler saw while one recorded update was handled."""

    error: BaseException | None = None


#: The report of the update being handled in this task (set by :class:`UpdateFeeder`).
current_handling: contextvars.ContextVar[HandlingReport | None] = contextvars.ContextVar(
    "current_handling", default=None
)


def arrived(update: Update) -> ArrivedUpdate:
    """A fetched update as the inbox keeps it (ASCII JSON, so any text, even a lone surrogate, survives)."""
    return ArrivedUpdate(dedup_key=str(update.update_id), payload=json.dumps(update.to_dict(), ensure_ascii=True))


class UpdateFeeder:
    """The inbox's handler for Telegram: one recorded update through the Application's handlers."""

    def __init__(self, application: Application) -> None:
        self.application = application

    async def __call__(self, entry: InboxEntry) -> None:
        update = Update.de_json(json.loads(entry.payload), self.application.bot)
        report = HandlingReport()
        token = current_handling.set(report)
        try:
            # Through the update processor: concurrent across chats, in order within one chat.
            await self.application.update_processor.process_update(update, self.application.process_update(update))
        finally:
            current_handling.reset(token)
        if report.error is not None:
            raise HandlerFailedError(f"{type(report.error).__name__}: {report.error}") from report.error


class Poller:
    """Long-polls ``getUpdates``; a batch is recorded before the offset moves past it."""

    def __init__(self, *, application: Application, inbox: Inbox, poll_timeout: int = POLL_TIMEOUT) -> None:
        self.application = application
        self.inbox = inbox
        self.poll_timeout = poll_timeout
        self.offset: int | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch, record, hand on, until ``stop``; raises :class:`~telegram.error.InvalidToken` for a refused token."""
        backoff = 0.0
        while not stop.is_set():
            if backoff:
                try:
                    await asyncio.wait_for(stop.wait(), backoff)
                    break
                except TimeoutError:
                    pass
            fetch = asyncio.ensure_future(self._fetch())
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            if not fetch.done():  # stopping: the batch in flight is not confirmed, Telegram sends it again
                fetch.cancel()
                await asyncio.gather(fetch, return_exceptions=True)
                break
            try:
                updates = fetch.result()
            except InvalidToken:
                raise
            except (TimedOut, NetworkError, Conflict) as error:
                backoff = min(max(backoff * 2, 1.0), MAX_BACKOFF_SECONDS)
                logger.warning("getUpdates failed (%s); trying again in %.0f s", error, backoff)
                continue
            if not updates:
                backoff = 0.0
                continue
            try:
                entries = await self.inbox.record([arrived(update) for update in updates])
            except (StorageError, SQLAlchemyError) as error:
                # Not recorded, so not confirmed: the same batch comes again.
                backoff = min(max(backoff * 2, 1.0), MAX_BACKOFF_SECONDS)
                logger.error("could not record %d update(s): %s; fetching them again in %.0f s", len(updates), error, backoff)
                continue
            backoff = 0.0
            self.offset = updates[-1].update_id + 1  # recorded: the next getUpdates confirms them
            self.inbox.handle_soon(entries)

    async def confirm(self) -> None:
        """Tell Telegram the recorded updates arrived (at shutdown; they would be skipped as recorded anyway)."""
        if self.offset is None:
            return
        try:
            await self.application.bot.get_updates(offset=self.offset, limit=1, timeout=0, allowed_updates=ALLOWED_UPDATES)
        except (TimedOut, NetworkError) as error:
            logger.info("could not confirm the last updates at shutdown (%s); they are skipped as recorded", error)

    async def _fetch(self) -> tuple[Update, ...]:
        return await self.application.bot.get_updates(
            offset=self.offset, timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES
        )


class Intake:
    """The inbox's background work for one process: start-up recovery, periodic recovery and (polling) the Poller."""

    def __init__(
        self,
        *,
        application: Application,
        inbox: Inbox,
        polling: bool,
        poll_timeout: int = POLL_TIMEOUT,
        recovery_interval: float = RECOVERY_INTERVAL_SECONDS,
    ) -> None:
        self.inbox = inbox
        self.poller = Poller(application=application, inbox=inbox, poll_timeout=poll_timeout) if polling else None
        self.recovery_interval = recovery_interval
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Handle what an earlier process left unhandled, then start fetching (polling) and recovering."""
        recovered = await self.inbox.recover(at_start=True)
        if recovered:
            logger.info("handled %d update(s) recorded before the restart", recovered)
        self._tasks.append(
            asyncio.create_task(self.inbox.run_recovery(self._stop, interval=self.recovery_interval), name="inbox-recovery")
        )
        if self.poller is not None:
            self._tasks.append(asyncio.create_task(self.poller.run(self._stop), name="telegram-polling"))

    async def wait(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set; raises what ended the poller (a refused token)."""
        waiting = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({waiting, *self._tasks}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiting.cancel()
        for task in self._tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop fetching, confirm what was recorded, let the handlings in flight finish (up to ``timeout``)."""
        self._stop.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._tasks.clear()
        if self.poller is not None:
            await self.poller.confirm()
        await self.inbox.drain(timeout)
