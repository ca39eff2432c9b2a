"""The outbox: reminders and broadcasts as rows, each sent exactly once.

A batch (:class:`~storage.models.OutboxBatch`) is one reminder slot, manual
reminder or broadcast of a campaign, unique by ``(campaign, key)``; its
messages (:class:`~storage.models.OutboxMessage`) are unique by ``(batch,
respondent)``. A message's life::

    PENDING ──claim──> SENDING ──> SENT | SKIPPED | UNREACHABLE | FAILED
       ^                  │
       └──── retry ───────┘   (later ``next_attempt_at``; or released unsent)

Rows are claimed **per channel**: a sender serves one channel and claims,
checks and recovers only the rows whose recipient (``Respondent.channel``) is
on that channel, so no sender ever touches another channel's rows.

Claiming takes due PENDING rows and marks them SENDING with the claimer's id
and time in one write transaction: ``SELECT ... FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so that concurrent senders (other processes) skip each other's
rows; on SQLite the transaction holds the database's write lock. Every later
change of a claimed row checks that it is still ``SENDING`` by the same
claimer, so a sender never overwrites what another one decided.

A row left ``SENDING`` longer than a lease belongs to a sender that died in
the middle of its send: whether the recipient got the message is unknown, and it
is marked FAILED (:data:`INTERRUPTED_REASON`) rather than sent a second time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audience import unit_names_by_respondent
from storage.errors import ConflictError, NotFoundError
from storage.models import (
    DeliveryStatus,
    OutboxBatch,
    OutboxBatchStatus,
    OutboxKind,
    OutboxMessage,
    Respondent,
    RespondentUnit,
    Response,
    ResponseStatus,
    Unit,
)
from storage.rows import aware_now, insert_unless_exists, is_integer_id

logger = logging.getLogger(__name__)

#: Statuses a message never leaves.
FINAL_STATUSES: frozenset[DeliveryStatus] = frozenset(
    {DeliveryStatus.SENT, DeliveryStatus.SKIPPED, DeliveryStatus.UNREACHABLE, DeliveryStatus.FAILED}
)
#: Statuses of messages still to be sent.
OPEN_STATUSES: tuple[DeliveryStatus, ...] = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
#: Why a row left SENDING by a dead sender is failed instead of sent again.
INTERRUPTED_REASON = "the sender stopped while sending it; delivery unknown, not sent again"
ERROR_LENGTH = 500


class OutboxBatchNotFoundError(NotFoundError):
    def __init__(self, batch_id: int) -> None:
        self.batch_id = batch_id
        super().__init__(f"no outbox batch with id {batch_id}")


@dataclass(frozen=True, slots=True)
class DeliveryProblem:
    """A recipient a batch could not reach."""

    respondent_id: int
    name: str
    #: The account's channel (``telegram``, ``email``...).
    channel: str
    units: tuple[str, ...]
    status: DeliveryStatus
    reason: str


# -- batches -----------------------------------------------------------------------------


async def find_batch(*, session: AsyncSession, campaign_id: int, key: str) -> OutboxBatch | None:
    return await session.scalar(
        select(OutboxBatch).where(OutboxBatch.campaign_id == campaign_id, OutboxBatch.key == key)
    )


async def scheduled_reminder_times(*, session: AsyncSession, campaign_id: int) -> dict[str, datetime]:
    """Key → send time of each scheduled reminder batch of the campaign (the slots the scheduler sent)."""
    rows = await session.execute(
        select(OutboxBatch.key, OutboxBatch.slot_at).where(
            OutboxBatch.campaign_id == campaign_id,
            OutboxBatch.kind == OutboxKind.REMINDER,
            OutboxBatch.slot_at.is_not(None),
        )
    )
    return {key: slot_at for key, slot_at in rows if slot_at is not None}


async def get_batch(*, session: AsyncSession, batch_id: int, for_update: bool = False) -> OutboxBatch:
    if not is_integer_id(batch_id):  # typed or forged: outbox_batches.id is an INTEGER
        raise OutboxBatchNotFoundError(batch_id)
    statement = select(OutboxBatch).where(OutboxBatch.id == batch_id)
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    batch = await session.scalar(statement)
    if batch is None:
        raise OutboxBatchNotFoundError(batch_id)
    return batch


async def create_batch(
    *,
    session: AsyncSession,
    campaign_id: int,
    kind: OutboxKind,
    key: str,
    status: OutboxBatchStatus,
    body: str | None = None,
    unit_ids: Sequence[int] | None = None,
    slot_at: datetime | None = None,
    requested_channel: str | None = None,
    requested_by: str | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> tuple[OutboxBatch, bool]:
    """The batch with this key, created if new; returns it and whether it is new.

    Two processes creating the same key at once end with one row: the loser
    reads the winner's (see :func:`storage.rows.insert_unless_exists`).
    """
    moment = aware_now(now)

    async def existing() -> OutboxBatch | None:
        return await find_batch(session=session, campaign_id=campaign_id, key=key)

    batch, created = await insert_unless_exists(
        session,
        OutboxBatch(
            campaign_id=campaign_id,
            kind=kind,
            key=key,
            status=status,
            body=body,
            unit_ids=None if unit_ids is None else list(unit_ids),
            slot_at=slot_at,
            requested_channel=requested_channel,
            requested_by=requested_by,
            language=language,
            total=0,
            reported_done=0,
            created_at=moment,
            activated_at=moment if status is OutboxBatchStatus.ACTIVE else None,
        ),
        existing=existing,
    )
    if created:
        logger.info("campaign %s: new %s batch %s (%s)", campaign_id, kind.value, batch.id, key)
    return batch, created


async def enqueue_messages(
    *,
    session: AsyncSession,
    batch: OutboxBatch,
    respondent_ids: Sequence[int],
    now: datetime | None = None,
    not_before: Mapping[str, datetime] | None = None,
) -> int:
    """Add one PENDING message per respondent (each once) to an active batch; returns how many.

    ``not_before`` (channel → time): the messages of a respondent of that
    channel are first due then instead of now (a channel's scheduled
    reminders held off its busy minutes).
    """
    if batch.status is not OutboxBatchStatus.ACTIVE:
        raise ConflictError(f"outbox batch {batch.id} is {batch.status.value}, not active")
    moment = aware_now(now)
    unique = list(dict.fromkeys(respondent_ids))
    first_due: dict[int, datetime] = {}
    if unique and not_before:
        channel_rows = await session.execute(
            select(Respondent.id, Respondent.channel).where(Respondent.id.in_(unique))
        )
        first_due = {
            respondent_id: max(moment, not_before[channel])
            for respondent_id, channel in channel_rows
            if channel in not_before
        }
    if unique:
        await session.execute(
            insert(OutboxMessage),
            [
                {
                    "batch_id": batch.id,
                    "respondent_id": respondent_id,
                    "status": DeliveryStatus.PENDING,
                    "attempts": 0,
                    "next_attempt_at": first_due.get(respondent_id, moment),
                    "created_at": moment,
                }
                for respondent_id in unique
            ],
        )
    batch.total += len(unique)
    if batch.total == 0:
        batch.status = OutboxBatchStatus.DONE
        batch.completed_at = moment
    await session.flush()
    return len(unique)


async def activate_batch(
    *,
    session: AsyncSession,
    batch: OutboxBatch,
    respondent_ids: Sequence[int],
    now: datetime | None = None,
    status_chat_id: str | None = None,
    status_message_id: str | None = None,
) -> int:
    """Turn a confirmed draft into an active batch with its messages; returns how many.

    A batch with no recipient is done at once.
    """
    if batch.status is not OutboxBatchStatus.DRAFT:
        raise ConflictError(f"outbox batch {batch.id} is {batch.status.value}, not a draft")
    moment = aware_now(now)
    batch.status = OutboxBatchStatus.ACTIVE
    batch.activated_at = moment
    batch.status_chat_id = status_chat_id
    batch.status_message_id = status_message_id
    # -1: the status message still shows the confirmation; the first report replaces it.
    batch.reported_done = -1 if status_message_id is not None else 0
    return await enqueue_messages(session=session, batch=batch, respondent_ids=respondent_ids, now=moment)


async def cancel_batch(*, session: AsyncSession, batch: OutboxBatch, now: datetime | None = None) -> bool:
    """Drop a draft; False when it is not a draft any more."""
    if batch.status is not OutboxBatchStatus.DRAFT:
        return False
    batch.status = OutboxBatchStatus.CANCELLED
    batch.completed_at = aware_now(now)
    await session.flush()
    return True


async def list_active_batches(
    *, session: AsyncSession, batch_ids: Sequence[int] | None = None
) -> list[OutboxBatch]:
    statement = select(OutboxBatch).where(OutboxBatch.status == OutboxBatchStatus.ACTIVE)
    if batch_ids is not None:
        statement = statement.where(OutboxBatch.id.in_(list(batch_ids)))
    return list(await session.scalars(statement.order_by(OutboxBatch.id)))


async def delivery_counts(*, session: AsyncSession, batch_id: int) -> dict[DeliveryStatus, int]:
    """How many of the batch's messages are in each status (every status present)."""
    counts = {status: 0 for status in DeliveryStatus}
    rows = await session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.batch_id == batch_id)
        .group_by(OutboxMessage.status)
    )
    for status, count in rows:
        counts[DeliveryStatus(status)] = int(count)
    return counts


async def record_progress(*, session: AsyncSession, batch_id: int, done: int) -> bool:
    """Note that the status message shows ``done``; False if it already shows as much.

    Of several senders, only the one that moves the number forward edits the
    status message.
    """
    result = await session.execute(
        update(OutboxBatch)
        .where(
            OutboxBatch.id == batch_id,
            OutboxBatch.status == OutboxBatchStatus.ACTIVE,
            OutboxBatch.reported_done < done,
        )
        .values(reported_done=done)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def complete_batch(*, session: AsyncSession, batch_id: int, now: datetime | None = None) -> bool:
    """Mark an active batch done once none of its messages is open; True for the one caller that did."""
    still_open = exists().where(
        OutboxMessage.batch_id == batch_id, OutboxMessage.status.in_(OPEN_STATUSES)
    )
    result = await session.execute(
        update(OutboxBatch)
        .where(OutboxBatch.id == batch_id, OutboxBatch.status == OutboxBatchStatus.ACTIVE, ~still_open)
        .values(status=OutboxBatchStatus.DONE, completed_at=aware_now(now))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def delivery_problems(*, session: AsyncSession, batch: OutboxBatch) -> list[DeliveryProblem]:
    """The batch's failed and unreachable recipients, with their names and units."""
    rows = list(
        await session.execute(
            select(OutboxMessage.respondent_id, OutboxMessage.status, OutboxMessage.error, Respondent)
            .join(Respondent, Respondent.id == OutboxMessage.respondent_id)
            .where(
                OutboxMessage.batch_id == batch.id,
                OutboxMessage.status.in_([DeliveryStatus.FAILED, DeliveryStatus.UNREACHABLE]),
            )
            .order_by(OutboxMessage.id)
        )
    )
    units = await unit_names_by_respondent(
        session=session, campaign_id=batch.campaign_id, respondent_ids=[row[0] for row in rows]
    )
    return [
        DeliveryProblem(
            respondent_id=respondent_id,
            name=respondent.display_name or respondent.external_id,
            channel=respondent.channel,
            units=tuple(units.get(respondent_id, ())),
            status=DeliveryStatus(status),
            reason=error or "",
        )
        for respondent_id, status, error, respondent in rows
    ]


async def units_without_messages(*, session: AsyncSession, batch: OutboxBatch) -> list[str]:
    """Names (roster order) of the batch's units that none of its messages went to: nobody to message then.

    The batch's units are its picked ones (every unit of the campaign when none
    were picked); for a reminder only those not submitted, which are the units a
    reminder is for. A unit counts as reached when a message of the batch went
    to one of the people bound to it, whatever became of the message.
    """
    messaged = (
        select(RespondentUnit.unit_id)
        .join(OutboxMessage, OutboxMessage.respondent_id == RespondentUnit.respondent_id)
        .where(OutboxMessage.batch_id == batch.id, RespondentUnit.unit_id == Unit.id)
    )
    statement = select(Unit.name).where(Unit.campaign_id == batch.campaign_id, ~messaged.exists()).order_by(Unit.position)
    if batch.unit_ids is not None:
        statement = statement.where(Unit.id.in_([int(unit_id) for unit_id in batch.unit_ids]))
    if batch.kind is not OutboxKind.BROADCAST:
        statement = statement.join(Response, Response.unit_id == Unit.id).where(Response.status != ResponseStatus.SUBMITTED)
    return list(await session.scalars(statement))


async def reminders_sent_by_unit(*, session: AsyncSession, unit_ids: Sequence[int]) -> dict[int, int]:
    """Unit id → how many reminders (scheduled or manual) reached one of its respondents.

    Units with none are left out. A reminder counts once per unit however many
    of the unit's people it reached (for the export's 进度 sheet).
    """
    if not unit_ids:
        return {}
    rows = await session.execute(
        select(RespondentUnit.unit_id, func.count(func.distinct(OutboxMessage.batch_id)))
        .join(OutboxMessage, OutboxMessage.respondent_id == RespondentUnit.respondent_id)
        .join(OutboxBatch, OutboxBatch.id == OutboxMessage.batch_id)
        .join(Unit, Unit.id == RespondentUnit.unit_id)
        .where(
            RespondentUnit.unit_id.in_(list(unit_ids)),
            OutboxBatch.campaign_id == Unit.campaign_id,
            OutboxBatch.kind.in_([OutboxKind.REMINDER, OutboxKind.MANUAL_REMINDER]),
            OutboxMessage.status == DeliveryStatus.SENT,
        )
        .group_by(RespondentUnit.unit_id)
    )
    return {unit_id: int(count) for unit_id, count in rows}


# -- messages ----------------------------------------------------------------------------


def _on_channel(channel: str) -> object:
    """The message's recipient is an account of ``channel``.

    A correlated EXISTS: one primary-key look-up per candidate row (in the
    order of the claim index), and ``FOR UPDATE`` locks outbox rows only.
    """
    return exists().where(Respondent.id == OutboxMessage.respondent_id, Respondent.channel == channel)


def _due(now: datetime, channel: str, batch_id: int | None) -> list[object]:
    conditions: list[object] = [
        OutboxMessage.status == DeliveryStatus.PENDING,
        OutboxMessage.next_attempt_at <= now,
        _on_channel(channel),
    ]
    if batch_id is not None:
        conditions.append(OutboxMessage.batch_id == batch_id)
    return conditions


async def has_due_messages(
    *, session: AsyncSession, now: datetime, channel: str, batch_id: int | None = None
) -> bool:
    """Whether a claim for ``channel`` would find anything (cheap; for a read-only session)."""
    found = await session.scalar(select(OutboxMessage.id).where(*_due(now, channel, batch_id)).limit(1))  # type: ignore[arg-type]
    return found is not None


async def claim_messages(
    *,
    session: AsyncSession,
    now: datetime,
    channel: str,
    claimer: str,
    limit: int,
    batch_id: int | None = None,
) -> list[OutboxMessage]:
    """Take up to ``limit`` due PENDING messages to accounts of ``channel`` for ``claimer``, oldest first.

    On PostgreSQL rows another transaction holds are skipped (``SKIP
    LOCKED``), so concurrent senders never take the same row.
    """
    rows = list(
        await session.scalars(
            select(OutboxMessage)
            .where(*_due(now, channel, batch_id))  # type: ignore[arg-type]
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for row in rows:
        row.status = DeliveryStatus.SENDING
        row.claimed_by = claimer
        row.claimed_at = now
        row.updated_at = now
    await session.flush()
    return rows


def _claimed(message_id: int, claimer: str) -> list[object]:
    return [
        OutboxMessage.id == message_id,
        OutboxMessage.status == DeliveryStatus.SENDING,
        OutboxMessage.claimed_by == claimer,
    ]


async def finish_message(
    *,
    session: AsyncSession,
    message_id: int,
    claimer: str,
    status: DeliveryStatus,
    now: datetime | None = None,
    error: str | None = None,
    provider_message_id: str | None = None,
) -> bool:
    """Give a claimed message its final status; False if it is no longer ours."""
    if status not in FINAL_STATUSES:
        raise ValueError(f"{status} is not a final delivery status")
    moment = aware_now(now)
    values: dict[str, object] = {"status": status, "updated_at": moment, "claimed_by": None}
    if status is DeliveryStatus.SENT:
        values["sent_at"] = moment
        values["provider_message_id"] = provider_message_id
    if error is not None:
        values["error"] = error[:ERROR_LENGTH]
    result = await session.execute(
        update(OutboxMessage)
        .where(*_claimed(message_id, claimer))  # type: ignore[arg-type]
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def retry_message(
    *,
    session: AsyncSession,
    message_id: int,
    claimer: str,
    next_attempt_at: datetime,
    error: str | None,
    count_attempt: bool,
    now: datetime | None = None,
) -> bool:
    """Put a claimed message back to PENDING until ``next_attempt_at``; False if not ours."""
    values: dict[str, object] = {
        "status": DeliveryStatus.PENDING,
        "claimed_by": None,
        "claimed_at": None,
        "next_attempt_at": next_attempt_at,
        "updated_at": aware_now(now),
    }
    if error is not None:
        values["error"] = error[:ERROR_LENGTH]
    if count_attempt:
        values["attempts"] = OutboxMessage.attempts + 1
    result = await session.execute(
        update(OutboxMessage)
        .where(*_claimed(message_id, claimer))  # type: ignore[arg-type]
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release_messages(
    *, session: AsyncSession, message_ids: Sequence[int], claimer: str, now: datetime | None = None
) -> int:
    """Give back claimed messages that were never sent (a sender stopping); returns how many."""
    if not message_ids:
        return 0
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(list(message_ids)),
            OutboxMessage.status == DeliveryStatus.SENDING,
            OutboxMessage.claimed_by == claimer,
        )
        .values(status=DeliveryStatus.PENDING, claimed_by=None, claimed_at=None, updated_at=aware_now(now))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def recover_interrupted(*, session: AsyncSession, now: datetime, channel: str, lease: timedelta) -> int:
    """Fail ``channel``'s messages left SENDING longer than ``lease`` (their sender died); returns how many."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == DeliveryStatus.SENDING,
            OutboxMessage.claimed_at < now - lease,
            _on_channel(channel),  # type: ignore[arg-type]
        )
        .values(status=DeliveryStatus.FAILED, error=INTERRUPTED_REASON, claimed_by=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    count = int(result.rowcount)  # type: ignore[attr-defined]
    if count:
        logger.warning("%d %s outbox message(s) were interrupted while sending; marked failed", count, channel)
    return count
