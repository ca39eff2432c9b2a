"""The outbox sender: claims one channel's due messages, sends them paced through its transport, records the result.

Channel-neutral: one :class:`OutboxSender` per channel and process (the bot
runs one per channel it serves, ``surveybot remind`` one for Telegram), each
given the channel's :class:`~bot.outbox_transport.Transport`; several may
share one database. A sender claims only the rows whose recipient is an
account of its transport's channel, so it never touches another channel's
rows. Each round of :meth:`OutboxSender.drain`:

1. claims a few due rows of its channel in one write transaction (``FOR
   UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on SQLite) and, in the
   same transaction, composes them from the current data: a reminder whose
   recipient's units have all submitted meanwhile is SKIPPED there and then;
2. waits for a pacing slot (:class:`~bot.pacing.Pacer` under the transport's
   :class:`~bot.pacing.PacingPolicy`; Telegram: 28 messages a second
   overall, 1.1 s between two messages to one chat) and sends;
3. records what the transport answered in its own transaction:

   * :class:`~bot.outbox_transport.Sent`: SENT with the provider's message id
     (and the account is reachable again if it was not);
   * :class:`~bot.outbox_transport.RateLimited` (Telegram's 429): every send
     pauses for ``retry_after``, then the same row is sent again (a long or
     repeated flood wait puts it back to PENDING for later);
   * :class:`~bot.outbox_transport.Unreachable` (Telegram's 403: blocked,
     deactivated): UNREACHABLE, and the respondent is marked unreachable
     (shown in /status and the export);
   * :class:`~bot.outbox_transport.Rejected` (Telegram's 400): FAILED at once
     with the provider's reason: the same request would fail the same way;
   * :class:`~bot.outbox_transport.Transient` (network, time-out, 5xx), or
     the transport raising: back to PENDING with a growing backoff, FAILED
     with the reason after ``max_attempts``;
   * :class:`~bot.outbox_transport.Deferred` (nothing sent: the recipient's
     own window is full, WeCom's 30 a minute per member): back to PENDING
     until the window has room, no attempt counted, other rows unaffected.

Stopping (:meth:`OutboxSender.request_stop`) claims nothing more, gives back
claimed rows not yet sent and lets the sends in flight finish, so a restart
sends every message exactly once. A sender killed in the middle of a send
leaves its row SENDING; after the lease another sender marks it FAILED
("delivery unknown") instead of risking a duplicate.

While draining, the coordinator's status message of each active batch is
edited as it goes ("已发送 120/300"); when a batch has no open row left, the
one sender that closes it edits the status message a last time and sends the
summary (sent, failed, unreachable, by name). The feedback of a batch goes
through the transport of its ``requested_channel`` (the coordinator's
channel), so only that channel's senders report on it; a batch nobody watches
(no status chat: scheduled reminders, ``surveybot remind``) is closed by any
sender. The counts cover every channel's rows of the batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar, assert_never

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox_compose import Composed, OutboxComposer, Skip
from bot.outbox_feedback import progress_text, summary_messages
from bot.outbox_transport import Deferred, RateLimited, Rejected, SendResult, Sent, Transient, Transport, Unreachable
from bot.pacing import Pacer
from storage.database import Database
from storage.errors import StorageError
from storage.models import Campaign, DeliveryStatus, OutboxBatch, Respondent
from storage.outbox import (
    claim_messages,
    complete_batch,
    delivery_counts,
    delivery_problems,
    finish_message,
    has_due_messages,
    list_active_batches,
    record_progress,
    recover_interrupted,
    release_messages,
    retry_message,
)
from storage.respondents import mark_reachable, mark_unreachable
from storage.types import utc_now

logger = logging.getLogger(__name__)

ResultT = TypeVar("ResultT")


#: Feedback (the coordinator's summary): attempts, and seconds between two after a transient failure.
FEEDBACK_ATTEMPTS = 4
FEEDBACK_BACKOFF_SECONDS = (0.5, 1.0, 2.0)
#: A longer retry_after is not waited for to send the summary.
FEEDBACK_MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True, slots=True)
class SenderSettings:
    """How a sender claims, retries and reports (the pacing is the transport's)."""

    #: Sends in flight at once (request latency × rate, with room).
    max_in_flight: int = 16
    #: Rows claimed per transaction (the next ones are claimed while these
    #: wait for their slots): a small lookahead, so that a crash leaves few
    #: rows in doubt.
    claim_size: int = 4
    #: Failed sends (rate limits not counted) before a row is FAILED.
    max_attempts: int = 5
    #: Seconds before the next try after the 1st, 2nd... failure.
    backoff_seconds: tuple[float, ...] = (10.0, 60.0, 300.0, 900.0)
    #: Rate-limit answers waited for in place before the row goes back to PENDING.
    max_flood_retries: int = 5
    #: A longer retry_after puts the row back to PENDING instead of waiting.
    max_inline_retry_after: float = 30.0
    #: A row SENDING longer than this belongs to a dead sender.
    lease: timedelta = timedelta(minutes=10)
    #: Seconds between two edits of a status message.
    report_interval: float = 2.0


@dataclass(slots=True)
class DrainStats:
    """What one :meth:`OutboxSender.drain` did."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0
    unreachable: int = 0
    retried: int = 0
    released: int = 0
    #: Rate-limit answers received (Telegram's 429).
    flood_waits: int = 0
    #: Rows the transport held back for their recipient's own limit (WeCom's per-member count).
    deferred: int = 0
    #: Seconds from the first to the last successful send.
    first_sent_at: float | None = None
    last_sent_at: float | None = None

    def note_sent(self) -> None:
        now = time.monotonic()
        self.sent += 1
        self.first_sent_at = self.first_sent_at or now
        self.last_sent_at = now


@dataclass(slots=True)
class _Claim:
    ready: list[Composed] = field(default_factory=list)
    taken: int = 0


def _reap(tasks: set[asyncio.Task[None]]) -> set[asyncio.Task[None]]:
    """The tasks still running; a finished one's failure (the database gone) is logged."""
    running: set[asyncio.Task[None]] = set()
    for task in tasks:
        if not task.done():
            running.add(task)
        elif not task.cancelled() and task.exception() is not None:
            logger.error("outbox: a send could not be recorded: %s", task.exception())
    return running


def default_sender_name() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class OutboxSender:
    """Sends one channel's outbox rows through its transport (see the module's docstring)."""

    def __init__(
        self,
        *,
        database: Database,
        transport: Transport,
        clock: Callable[[], datetime] = utc_now,
        settings: SenderSettings | None = None,
        name: str | None = None,
        composer: OutboxComposer | None = None,
    ) -> None:
        self.database = database
        self.transport = transport
        self.channel = transport.channel
        self.clock = clock
        self.settings = settings or SenderSettings()
        self.name = (name or default_sender_name())[:64]
        self.composer = composer or OutboxComposer()
        self.pacer = Pacer.for_policy(transport.pacing)
        self._stop = asyncio.Event()
        self._last_edit: dict[int, float] = {}

    # -- control ----------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def request_stop(self) -> None:
        """Claim nothing more; claimed rows not yet sent go back, sends in flight finish."""
        self._stop.set()

    @property
    def busy_minutes(self) -> frozenset[int]:
        """Minutes of the hour this channel's scheduled reminders avoid (its transport's pacing)."""
        return self.transport.pacing.busy_minutes

    async def has_work(self, *, batch_id: int | None = None) -> bool:
        """Whether a due message of this channel is waiting (a read; cheap enough to poll)."""
        async with self.database.read() as session:
            return await has_due_messages(session=session, now=self.clock(), channel=self.channel, batch_id=batch_id)

    async def recover(self) -> int:
        """Fail this channel's rows a dead sender left SENDING past the lease."""
        async with self.database.transaction() as session:
            return await recover_interrupted(
                session=session, now=self.clock(), channel=self.channel, lease=self.settings.lease
            )

    # -- sending ----------------------------------------------------------------------------

    async def drain(self, *, batch_id: int | None = None) -> DrainStats:
        """Send every due message of this channel (of one batch, if given) until none is left or stop is requested."""
        stats = DrainStats()
        in_flight: set[asyncio.Task[None]] = set()
        #: The next rows, claimed while the current ones wait for their slots.
        ahead: asyncio.Task[_Claim] | None = None
        stop_reporting = asyncio.Event()
        reporter = asyncio.create_task(self._report_loop(batch_id, stop_reporting), name="outbox-progress")
        try:
            while not self.stopping:
                if len(in_flight) >= self.settings.max_in_flight:
                    await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                    in_flight = _reap(in_flight)
                    continue
                claim = await (ahead if ahead is not None else self._claim(batch_id, stats))
                ahead = None
                if claim.taken == 0:
                    break
                if claim.taken == self.settings.claim_size:
                    # Probably more to come: claim it now, so that a slow claim
                    # does not make the next row miss its slot.
                    ahead = asyncio.create_task(self._claim(batch_id, stats), name="outbox-claim")
                for index, item in enumerate(claim.ready):
                    if self.stopping or not await self._wait_unless_stopped(self.pacer.slot()):
                        await self._release(claim.ready[index:], stats)
                        break
                    in_flight.add(asyncio.create_task(self._send(item, stats), name=f"outbox-{item.message_id}"))
                in_flight = _reap(in_flight)
            if ahead is not None:  # stopping: give back what was claimed ahead
                claimed_ahead, ahead = await ahead, None
                await self._release(claimed_ahead.ready, stats)
            if in_flight:
                await asyncio.wait(in_flight)
                in_flight = _reap(in_flight)
        except asyncio.CancelledError:
            if ahead is not None:  # its transaction rolls back, or its rows wait for the lease
                ahead.cancel()
            for task in in_flight:  # killed: what was in flight stays SENDING (see the lease)
                task.cancel()
            reporter.cancel()
            raise
        except Exception:
            if ahead is not None:  # rows claimed ahead go back, if that claim went through
                with contextlib.suppress(Exception):
                    await self._release((await ahead).ready, stats)
            if in_flight:  # a claim failed: still record the sends already made
                await asyncio.wait(in_flight)
                _reap(in_flight)
            raise
        finally:
            # Let a report under way finish: cancelling it between closing a batch
            # and sending its summary would lose the summary for good.
            stop_reporting.set()
            with contextlib.suppress(asyncio.CancelledError):
                await reporter
        await self.report(batch_id=batch_id, force=True)
        return stats

    async def _claim(self, batch_id: int | None, stats: DrainStats) -> _Claim:
        now = self.clock()
        claim = _Claim()
        async with self.database.transaction() as session:
            rows = await claim_messages(
                session=session, now=now, channel=self.channel, claimer=self.name,
                limit=self.settings.claim_size, batch_id=batch_id,
            )
            claim.taken = len(rows)
            for row in rows:
                try:
                    composed = await self.composer.compose(session=session, message=row, now=now)
                except SQLAlchemyError:
                    raise  # the claim is rolled back: the rows stay PENDING
                except Exception as error:  # a bug composing one message must not stop the others
                    logger.error("outbox message %s: cannot compose it: %s", row.id, error)
                    logger.debug("composing outbox message %s failed", row.id, exc_info=True)
                    composed = Skip(f"cannot compose the message: {error}")
                    await finish_message(
                        session=session, message_id=row.id, claimer=self.name,
                        status=DeliveryStatus.FAILED, error=composed.reason, now=now,
                    )
                    stats.failed += 1
                    continue
                if isinstance(composed, Skip):
                    await finish_message(
                        session=session, message_id=row.id, claimer=self.name,
                        status=DeliveryStatus.SKIPPED, error=composed.reason, now=now,
                    )
                    stats.skipped += 1
                else:
                    claim.ready.append(composed)
        return claim

    async def _release(self, items: list[Composed], stats: DrainStats) -> None:
        ids = [item.message_id for item in items]

        async def release(session: AsyncSession) -> int:
            return await release_messages(session=session, message_ids=ids, claimer=self.name, now=self.clock())

        stats.released += await self._write(release, what="release unsent messages")

    async def _send(self, item: Composed, stats: DrainStats) -> None:
        recipient = item.external_id
        floods = 0
        # The dispatcher took an overall slot for this send; waiting for the
        # recipient's turn (rare: the same account in two batches) spends it.
        if await self.pacer.chat_turn(recipient):
            await self.pacer.slot()
        while True:
            result = await self._transport_send(item)
            match result:
                case Sent(provider_message_id=provider_message_id):
                    await self._sent(item, stats, provider_message_id)
                case RateLimited(retry_after=wait):
                    stats.flood_waits += 1
                    floods += 1
                    self.pacer.pause(wait)
                    if (
                        floods <= self.settings.max_flood_retries
                        and wait <= self.settings.max_inline_retry_after
                        and await self._wait_unless_stopped(self.pacer.turn(recipient))
                    ):
                        continue  # the same row, after the pause, in a slot of its own
                    await self._retry(item, stats, delay=wait, error=f"flood control: retry after {wait:g} s", count=False)
                case Unreachable(reason=reason):
                    await self._unreachable(item, stats, reason)
                case Rejected(reason=reason):
                    await self._finish(item, stats, DeliveryStatus.FAILED, error=reason)
                case Transient(reason=reason):
                    await self._transient(item, stats, reason)
                case Deferred(retry_after=wait, reason=reason):
                    stats.deferred += 1
                    await self._retry(item, stats, delay=wait, error=reason, count=False)
                case _:
                    assert_never(result)
            return

    async def _transport_send(self, item: Composed) -> SendResult:
        """What the transport answered; a transport that raised (a bug) counts as a transient failure."""
        try:
            return await self.transport.send(item.external_id, item.content)
        except Exception as error:
            logger.error("outbox message %s: the %s transport failed: %s", item.message_id, self.channel, error)
            logger.debug("outbox message %s: send failed", item.message_id, exc_info=True)
            return Transient(f"{type(error).__name__}: {error}")

    async def _wait_unless_stopped(self, waiting: Awaitable[None]) -> bool:
        """Await ``waiting``; False (and it is abandoned) if a stop is requested first."""
        task = asyncio.ensure_future(waiting)
        stop = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if task.done():
            return True
        task.cancel()
        return False

    # -- outcomes ---------------------------------------------------------------------------

    async def _sent(self, item: Composed, stats: DrainStats, provider_message_id: str) -> None:
        async def record(session: AsyncSession) -> bool:
            ours = await finish_message(
                session=session, message_id=item.message_id, claimer=self.name, status=DeliveryStatus.SENT,
                provider_message_id=provider_message_id, now=self.clock(),
            )
            if ours and item.was_unreachable:
                respondent = await session.get(Respondent, item.respondent_id)
                if respondent is not None:
                    await mark_reachable(session=session, respondent=respondent)
            return ours

        stats.note_sent()
        if not await self._write(record, what=f"record message {item.message_id} as sent"):
            logger.warning("outbox message %s was sent but another sender had taken it over", item.message_id)

    async def _unreachable(self, item: Composed, stats: DrainStats, reason: str) -> None:
        async def record(session: AsyncSession) -> bool:
            now = self.clock()
            ours = await finish_message(
                session=session, message_id=item.message_id, claimer=self.name,
                status=DeliveryStatus.UNREACHABLE, error=reason, now=now,
            )
            if ours:
                respondent = await session.get(Respondent, item.respondent_id)
                if respondent is not None:
                    await mark_unreachable(session=session, respondent=respondent, reason=reason, now=now)
            return ours

        stats.unreachable += 1
        logger.info("respondent %s cannot be reached: %s", item.respondent_id, reason)
        await self._write(record, what=f"record message {item.message_id} as unreachable")

    async def _finish(self, item: Composed, stats: DrainStats, status: DeliveryStatus, *, error: str) -> None:
        async def record(session: AsyncSession) -> bool:
            return await finish_message(
                session=session, message_id=item.message_id, claimer=self.name, status=status,
                error=error, now=self.clock(),
            )

        stats.failed += status is DeliveryStatus.FAILED
        logger.warning("outbox message %s: %s (%s)", item.message_id, status.value, error)
        await self._write(record, what=f"record message {item.message_id} as {status.value}")

    async def _transient(self, item: Composed, stats: DrainStats, error: str) -> None:
        attempts = item.attempts + 1
        if attempts >= self.settings.max_attempts:
            await self._finish(item, stats, DeliveryStatus.FAILED, error=f"{error} (after {attempts} attempts)")
            return
        backoff = self.settings.backoff_seconds
        delay = backoff[min(attempts, len(backoff)) - 1] if backoff else 0.0
        logger.info("outbox message %s: %s; retrying in %g s (attempt %d)", item.message_id, error, delay, attempts)
        await self._retry(item, stats, delay=delay, error=error, count=True)

    async def _retry(self, item: Composed, stats: DrainStats, *, delay: float, error: str, count: bool) -> None:
        async def record(session: AsyncSession) -> bool:
            now = self.clock()
            return await retry_message(
                session=session, message_id=item.message_id, claimer=self.name,
                next_attempt_at=now + timedelta(seconds=delay), error=error, count_attempt=count, now=now,
            )

        stats.retried += 1
        await self._write(record, what=f"reschedule message {item.message_id}")

    async def _write(self, operation: Callable[[AsyncSession], Awaitable[ResultT]], *, what: str) -> ResultT:
        """Run ``operation`` in a write transaction, retrying a failing database a few times."""
        delays = (0.2, 1.0, 3.0)
        for attempt, delay in enumerate((*delays, None), start=1):
            try:
                async with self.database.transaction() as session:
                    return await operation(session)
            except (SQLAlchemyError, StorageError, OSError) as error:
                if delay is None:
                    logger.error("outbox: cannot %s: %s", what, error)
                    raise
                logger.warning("outbox: cannot %s (%s); retrying (attempt %d)", what, error, attempt)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    # -- feedback ---------------------------------------------------------------------------

    async def _report_loop(self, batch_id: int | None, stop: asyncio.Event) -> None:
        """Report every ``report_interval`` until ``stop`` is set (never in the middle of a report)."""
        while not stop.is_set():
            await self.report(batch_id=batch_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.report_interval)

    async def report(self, *, batch_id: int | None = None, force: bool = False) -> None:
        """Edit the status messages of active batches; close finished ones with their summary.

        Never raises: feedback must not stop the sending.
        """
        try:
            await self._report(batch_id, force)
        except Exception as error:
            logger.error("outbox: reporting progress failed: %s", error)
            logger.debug("outbox progress report failed", exc_info=True)

    def reports_on(self, batch: OutboxBatch) -> bool:
        """Whether this sender carries the batch's feedback: its coordinator's channel, or nobody watches it."""
        return batch.status_chat_id is None or batch.requested_channel == self.channel

    async def _report(self, batch_id: int | None, force: bool) -> None:
        async with self.database.read() as session:
            batches = [
                batch
                for batch in await list_active_batches(session=session, batch_ids=None if batch_id is None else [batch_id])
                if self.reports_on(batch)
            ]
            snapshot = [
                (batch, await delivery_counts(session=session, batch_id=batch.id), await session.get(Campaign, batch.campaign_id))
                for batch in batches
            ]
        for batch, counts, campaign in snapshot:
            open_rows = counts[DeliveryStatus.PENDING] + counts[DeliveryStatus.SENDING]
            if open_rows == 0:
                async with self.database.transaction() as session:
                    closed = await complete_batch(session=session, batch_id=batch.id, now=self.clock())
                if closed:
                    await self._announce(batch, counts, campaign)
                continue
            if batch.status_message_id is None or batch.status_chat_id is None:
                continue
            last = self._last_edit.get(batch.id)
            if not force and last is not None and time.monotonic() - last < self.settings.report_interval:
                continue
            async with self.database.transaction() as session:
                moved = await record_progress(session=session, batch_id=batch.id, done=batch.total - open_rows)
            if moved:
                self._last_edit[batch.id] = time.monotonic()
                await self._edit_status(batch, campaign, counts, final=False)

    async def _announce(self, batch: OutboxBatch, counts: dict[DeliveryStatus, int], campaign: Campaign | None) -> None:
        logger.info(
            "outbox batch %s (%s, campaign %s) done: %s",
            batch.id, batch.kind.value, batch.campaign_id,
            ", ".join(f"{status.value} {count}" for status, count in counts.items() if count),
        )
        self._last_edit.pop(batch.id, None)
        if batch.status_chat_id is None or campaign is None:
            return
        async with self.database.read() as session:
            problems = await delivery_problems(session=session, batch=batch)
        if batch.status_message_id is not None:
            await self._edit_status(batch, campaign, counts, final=True)
        language = batch.language or "zh"
        chat = batch.status_chat_id
        for text in summary_messages(
            language=language, campaign_id=campaign.id, campaign_title=campaign.title,
            kind=batch.kind, counts=counts, problems=problems, limit=self.transport.max_text_length,
        ):
            await self.pacer.chat_turn(chat)
            result = await self._send_feedback(chat, text)
            if not isinstance(result, Sent):
                logger.warning("could not send the summary of outbox batch %s: %s", batch.id, result)
                return

    async def _send_feedback(self, chat: str, text: str) -> SendResult:
        """Send a text to the coordinator, waiting out short rate limits and retrying transient failures."""
        result: SendResult = Transient("not sent")
        for attempt in range(1, FEEDBACK_ATTEMPTS + 1):
            try:
                result = await self.transport.send_text(chat, text)
            except Exception as error:  # a bug in the transport: feedback must not stop the sending
                logger.debug("sending feedback to %s failed", chat, exc_info=True)
                return Transient(f"{type(error).__name__}: {error}")
            match result:
                case RateLimited(retry_after=wait) if wait <= FEEDBACK_MAX_RETRY_AFTER and attempt < FEEDBACK_ATTEMPTS:
                    logger.info("feedback to %s: rate limited, waiting %.1f s (attempt %d)", chat, wait, attempt)
                    await asyncio.sleep(wait)
                case Transient(reason=reason) if attempt < FEEDBACK_ATTEMPTS:
                    wait = FEEDBACK_BACKOFF_SECONDS[min(attempt, len(FEEDBACK_BACKOFF_SECONDS)) - 1]
                    logger.info("feedback to %s: %s, retrying in %.1f s (attempt %d)", chat, reason, wait, attempt)
                    await asyncio.sleep(wait)
                case _:
                    return result
        return result

    async def _edit_status(
        self, batch: OutboxBatch, campaign: Campaign | None, counts: dict[DeliveryStatus, int], *, final: bool
    ) -> None:
        if campaign is None or batch.status_chat_id is None or batch.status_message_id is None:
            return
        text = progress_text(
            language=batch.language or "zh", campaign_id=campaign.id, campaign_title=campaign.title,
            kind=batch.kind, counts=counts, total=batch.total, final=final,
        )
        try:
            result = await self.transport.edit_text(batch.status_chat_id, batch.status_message_id, text)
        except Exception as error:  # a bug in the transport: feedback must not stop the sending
            logger.warning("could not edit the status message of outbox batch %s: %s", batch.id, error)
            logger.debug("editing a status message failed", exc_info=True)
            return
        if not isinstance(result, Sent):
            logger.warning("could not edit the status message of outbox batch %s: %s", batch.id, result)
