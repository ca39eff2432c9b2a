"""Group digests: one post per campaign and reminder slot, claimed durably so that it goes out once.

A digest row (:class:`~storage.models.WeComGroupDigest`) is unique by
``(campaign, slot_key)``. Whoever inserts it first holds it (``posting``);
any other process finds it and does nothing. A post that may work later goes
back to ``pending`` with a ``next_attempt_at`` and is taken again with a
compare-and-set update (one taker wins). A row left ``posting`` past a lease
belongs to a process that died mid-post: it is failed, not posted again
(whether the group got it is unknown).

Storage knows the rows, not the channel: posting is
:mod:`handlers.wecom.group_digest`'s.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Campaign,
    CampaignStatus,
    OutboxBatch,
    OutboxKind,
    Response,
    ResponseStatus,
    Unit,
    WeComGroupDigest,
)
from storage.rows import insert_ignoring_duplicates

logger = logging.getLogger(__name__)

POSTING = "posting"
PENDING = "pending"
POSTED = "posted"
FAILED = "failed"
ERROR_LENGTH = 500
#: Why a row left ``posting`` by a dead process is failed instead of posted again.
INTERRUPTED_REASON = "the process stopped while posting it; delivery unknown, not posted again"


@dataclass(frozen=True, slots=True)
class DueSlot:
    """A campaign's reminder slot whose digest may be due."""

    campaign_id: int
    slot_key: str
    webhook_url: str


@dataclass(frozen=True, slots=True)
class PendingUnit:
    name: str
    mobile: str | None


async def slots_wanting_a_digest(*, session: AsyncSession, now: datetime, since: datetime) -> list[DueSlot]:
    """Reminder batches created since ``since`` of open campaigns with a webhook, before their deadline."""
    rows = await session.execute(
        select(OutboxBatch.campaign_id, OutboxBatch.key, Campaign.wecom_group_webhook)
        .join(Campaign, Campaign.id == OutboxBatch.campaign_id)
        .where(
            OutboxBatch.kind == OutboxKind.REMINDER,
            OutboxBatch.created_at >= since,
            Campaign.status == CampaignStatus.OPEN,
            Campaign.deadline > now,
            Campaign.wecom_group_webhook.is_not(None),
        )
        .order_by(OutboxBatch.id)
    )
    return [DueSlot(campaign_id, key, url) for campaign_id, key, url in rows if url]


async def claim_new_digest(*, session: AsyncSession, campaign_id: int, slot_key: str, claimer: str, now: datetime) -> bool:
    """Insert the slot's digest as ``posting`` by ``claimer``; False if it exists (someone else has it)."""
    return await insert_ignoring_duplicates(
        session,
        WeComGroupDigest,
        {
            "campaign_id": campaign_id,
            "slot_key": slot_key,
            "status": POSTING,
            "attempts": 0,
            "next_attempt_at": now,
            "claimed_by": claimer,
            "claimed_at": now,
            "created_at": now,
        },
        unique=("campaign_id", "slot_key"),
    )


async def claim_due_retries(*, session: AsyncSession, claimer: str, now: datetime) -> list[tuple[int, str]]:
    """Take the ``pending`` digests due now; returns (campaign id, slot key) of those this call took."""
    due = list(
        await session.execute(
            select(WeComGroupDigest.id, WeComGroupDigest.campaign_id, WeComGroupDigest.slot_key).where(
                WeComGroupDigest.status == PENDING, WeComGroupDigest.next_attempt_at <= now
            )
        )
    )
    taken: list[tuple[int, str]] = []
    for digest_id, campaign_id, slot_key in due:
        result = await session.execute(
            update(WeComGroupDigest)
            .where(WeComGroupDigest.id == digest_id, WeComGroupDigest.status == PENDING)
            .values(status=POSTING, claimed_by=claimer, claimed_at=now)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            taken.append((campaign_id, slot_key))
    return taken


async def finish_digest(
    *,
    session: AsyncSession,
    campaign_id: int,
    slot_key: str,
    claimer: str,
    status: str,
    now: datetime,
    error: str | None = None,
    retry_at: datetime | None = None,
    count_attempt: bool = False,
) -> bool:
    """Record how the post went (``posted``, ``failed``, or ``pending`` again at ``retry_at``); False if not ours."""
    values: dict[str, object] = {"status": status, "error": error[:ERROR_LENGTH] if error else None}
    if status == POSTED:
        values["posted_at"] = now
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    if count_attempt:
        values["attempts"] = WeComGroupDigest.attempts + 1
    result = await session.execute(
        update(WeComGroupDigest)
        .where(
            WeComGroupDigest.campaign_id == campaign_id,
            WeComGroupDigest.slot_key == slot_key,
            WeComGroupDigest.status == POSTING,
            WeComGroupDigest.claimed_by == claimer,
        )
        .values(**values)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def digest_attempts(*, session: AsyncSession, campaign_id: int, slot_key: str) -> int:
    attempts = await session.scalar(
        select(WeComGroupDigest.attempts).where(
            WeComGroupDigest.campaign_id == campaign_id, WeComGroupDigest.slot_key == slot_key
        )
    )
    return attempts or 0


async def fail_interrupted_digests(*, session: AsyncSession, now: datetime, lease: timedelta) -> int:
    """Fail the digests left ``posting`` longer than ``lease`` (their process died mid-post)."""
    result = await session.execute(
        update(WeComGroupDigest)
        .where(WeComGroupDigest.status == POSTING, WeComGroupDigest.claimed_at < now - lease)
        .values(status=FAILED, error=INTERRUPTED_REASON)
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        logger.warning("%d group digest(s) were being posted by a process that stopped; not posted again", count)
    return count


async def pending_units(*, session: AsyncSession, campaign_id: int) -> tuple[list[PendingUnit], int]:
    """The campaign's units not yet submitted (roster order, with their mobile) and the roster's size."""
    rows = list(
        await session.execute(
            select(Unit.name, Unit.contact_mobile, Response.status)
            .join(Response, Response.unit_id == Unit.id)
            .where(Unit.campaign_id == campaign_id)
            .order_by(Unit.position)
        )
    )
    pending = [PendingUnit(name, mobile) for name, mobile, status in rows if status is not ResponseStatus.SUBMITTED]
    return pending, len(rows)
