"""Reminders and broadcasts asked for by a coordinator: preview, confirm, cancel.

``/remind`` and ``/broadcast`` first :meth:`OutreachService.prepare` a
*draft* batch and show how many units and respondents it will reach; nothing
is sent until :meth:`OutreachService.confirm` turns the draft into an active
batch, with its recipients computed again at that moment. A draft is
confirmed at most once (a second press, a redelivered update, or a second
coordinator finds it handled) and expires after :data:`DRAFT_TTL`.
``surveybot remind`` skips the draft: :meth:`OutreachService.enqueue_reminder`.

Every Telegram entry point checks the account through
:class:`~bot.coordination.CoordinatorService` on every call.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination import CoordinatorService, campaign_summary
from bot.core.campaigns import CampaignChoice, CampaignSummary
from bot.core.inbound_text import clean_fields, clean_text
from bot.core.read_only import ReadOnlyReason, read_only_reason
from bot.reminders import QUIET_HOURS
from bot.service import ChannelUser
from storage.audience import DEFAULT_OUTBOX_CHANNELS, Audience, broadcast_audience, reminder_audience
from storage.campaigns import get_campaign
from storage.database import Database
from storage.models import Campaign, CampaignStatus, OutboxBatchStatus, OutboxKind
from storage.outbox import (
    OutboxBatchNotFoundError,
    activate_batch,
    cancel_batch,
    create_batch,
    enqueue_messages,
    get_batch,
)
from storage.types import utc_now

logger = logging.getLogger(__name__)

#: How long a preview may wait for its confirmation.
DRAFT_TTL = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Refused:
    campaign: CampaignSummary
    #: Reminders are refused exactly when the answers are read-only.
    reason: ReadOnlyReason


@dataclass(frozen=True, slots=True)
class Preview:
    """What a confirmation would send; ``batch_id`` is None when nobody would get it."""

    batch_id: int | None
    kind: OutboxKind
    campaign: CampaignSummary
    audience: Audience
    body: str | None
    #: It is quiet hours in the campaign's zone (a manual send is not held back).
    quiet_hours: bool


@dataclass(frozen=True, slots=True)
class Redelivered:
    """The command was handled before and its draft confirmed or cancelled since: show nothing."""


class ConfirmOutcome(StrEnum):
    STARTED = "started"
    #: Nobody to send to any more (every unit submitted meanwhile).
    NOBODY = "nobody"
    ALREADY_HANDLED = "already_handled"
    EXPIRED = "expired"
    REFUSED = "refused"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class Confirmation:
    outcome: ConfirmOutcome
    #: The draft's kind and campaign (``None`` when no such draft exists).
    kind: OutboxKind | None = None
    campaign: CampaignSummary | None = None
    total: int = 0
    refusal: ReadOnlyReason | None = None


@dataclass(frozen=True, slots=True)
class QueuedReminder:
    """A manual reminder queued from the command line."""

    campaign: CampaignSummary
    audience: Audience
    #: The active batch; ``None`` when nobody is to be reminded.
    batch_id: int | None = None
    #: Messages queued.
    total: int = 0


def command_of(kind: OutboxKind) -> str:
    return "broadcast" if kind is OutboxKind.BROADCAST else "remind"


class OutreachService:
    def __init__(
        self,
        *,
        database: Database,
        coordination: CoordinatorService,
        clock: Callable[[], datetime] = utc_now,
        on_enqueued: Callable[[], None] | None = None,
        outbox_channels: Collection[str] = DEFAULT_OUTBOX_CHANNELS,
    ) -> None:
        self.database = database
        self.coordination = coordination
        self.clock = clock
        self.on_enqueued = on_enqueued
        #: Reminders and broadcasts go to the accounts of these channels (those with an outbox sender).
        self.outbox_channels = tuple(outbox_channels)

    async def prepare(
        self,
        *,
        user: ChannelUser,
        kind: OutboxKind,
        campaign_id: int | None,
        language: str,
        body: str | None = None,
        update_id: str | None = None,
    ) -> Preview | CampaignChoice | Refused | Redelivered:
        """Check the account, pick the campaign and store a draft to confirm.

        ``update_id`` (the channel's id of the update asking) names the
        draft: the same command handled again (a retry after a failed reply,
        a restart after a kill) finds its draft and previews it again, never
        a second draft; once that draft is confirmed or cancelled, it shows
        nothing. (The inbox already keeps a redelivered update from being
        handled twice.)

        Raises :class:`~bot.coordination.NotCoordinatorError` and
        :class:`~storage.errors.CampaignNotFoundError`.
        """
        user = clean_fields(user)
        body = clean_text(body) if body is not None else None
        picked = await self.coordination.pick_campaign(user=user, command=command_of(kind), campaign_id=campaign_id)
        if isinstance(picked, CampaignChoice):
            return picked
        now = self.clock()
        campaign = picked
        if kind is not OutboxKind.BROADCAST:
            refusal = read_only_reason(is_open=campaign.is_open, deadline=campaign.deadline, now=now)
            if refusal is not None:
                return Refused(campaign=campaign, reason=refusal)
        async with self.database.transaction() as session:
            audience = await self._audience(session, kind, campaign.id)
            batch_id: int | None = None
            if audience.respondent_ids:
                key = f"{kind.value}:{user.channel}:{update_id}" if update_id else f"{kind.value}:{uuid.uuid4().hex}"
                batch, created = await create_batch(
                    session=session,
                    campaign_id=campaign.id,
                    kind=kind,
                    key=key[:100],
                    status=OutboxBatchStatus.DRAFT,
                    body=body,
                    requested_channel=user.channel,
                    requested_by=user.external_id,
                    language=language,
                    now=now,
                )
                if not created and batch.status is not OutboxBatchStatus.DRAFT:
                    return Redelivered()
                batch_id = batch.id
        return Preview(
            batch_id=batch_id,
            kind=kind,
            campaign=campaign,
            audience=audience,
            body=body,
            quiet_hours=QUIET_HOURS.contains(now, ZoneInfo(campaign.timezone)),
        )

    async def confirm(
        self,
        *,
        user: ChannelUser,
        batch_id: int,
        status_chat_id: str | None,
        status_message_id: str | None,
    ) -> Confirmation:
        """Send a prepared draft: its recipients are computed again now."""
        await self.coordination.authorize(user=user, command="confirm")
        now = self.clock()
        async with self.database.transaction() as session:
            try:
                batch = await get_batch(session=session, batch_id=batch_id, for_update=True)
            except OutboxBatchNotFoundError:
                return Confirmation(outcome=ConfirmOutcome.NOT_FOUND)
            stored = await get_campaign(session=session, campaign_id=batch.campaign_id)
            campaign = campaign_summary(stored)
            kind = batch.kind
            if batch.status is not OutboxBatchStatus.DRAFT:
                return Confirmation(outcome=ConfirmOutcome.ALREADY_HANDLED, kind=kind, campaign=campaign)
            if now - batch.created_at > DRAFT_TTL:
                await cancel_batch(session=session, batch=batch, now=now)
                return Confirmation(outcome=ConfirmOutcome.EXPIRED, kind=kind, campaign=campaign)
            if kind is not OutboxKind.BROADCAST:
                refusal = self._refusal(stored, now)
                if refusal is not None:
                    await cancel_batch(session=session, batch=batch, now=now)
                    return Confirmation(outcome=ConfirmOutcome.REFUSED, kind=kind, campaign=campaign, refusal=refusal)
            audience = await self._audience(session, batch.kind, campaign.id)
            total = await activate_batch(
                session=session,
                batch=batch,
                respondent_ids=audience.respondent_ids,
                now=now,
                status_chat_id=status_chat_id,
                status_message_id=status_message_id,
            )
        logger.info(
            "coordinator %s confirmed %s batch %s of campaign %s: %d recipient(s)",
            user.external_id, kind.value, batch_id, campaign.id, total,
        )
        if total == 0:
            return Confirmation(outcome=ConfirmOutcome.NOBODY, kind=kind, campaign=campaign)
        self._notify()
        return Confirmation(outcome=ConfirmOutcome.STARTED, kind=kind, campaign=campaign, total=total)

    async def cancel(self, *, user: ChannelUser, batch_id: int) -> bool:
        """Drop a draft; False when it was handled already (or does not exist)."""
        await self.coordination.authorize(user=user, command="cancel")
        async with self.database.transaction() as session:
            try:
                batch = await get_batch(session=session, batch_id=batch_id, for_update=True)
            except OutboxBatchNotFoundError:
                return False
            return await cancel_batch(session=session, batch=batch, now=self.clock())

    async def enqueue_reminder(self, *, campaign_id: int, requested_by: str | None = None) -> QueuedReminder | Refused:
        """A manual reminder of every unit not submitted, active at once (for the command line).

        Returns the batch (none when nobody is to be reminded) and its audience.
        """
        now = self.clock()
        async with self.database.transaction() as session:
            campaign = await get_campaign(session=session, campaign_id=campaign_id)
            refusal = self._refusal(campaign, now)
            if refusal is not None:
                return Refused(campaign=campaign_summary(campaign), reason=refusal)
            audience = await reminder_audience(session=session, campaign_id=campaign.id, channels=self.outbox_channels)
            if not audience.respondent_ids:
                return QueuedReminder(campaign=campaign_summary(campaign), audience=audience)
            batch, _ = await create_batch(
                session=session,
                campaign_id=campaign.id,
                kind=OutboxKind.MANUAL_REMINDER,
                key=f"{OutboxKind.MANUAL_REMINDER.value}:{uuid.uuid4().hex}",
                status=OutboxBatchStatus.ACTIVE,
                requested_by=requested_by,
                now=now,
            )
            await enqueue_messages(session=session, batch=batch, respondent_ids=audience.respondent_ids, now=now)
            queued = QueuedReminder(
                campaign=campaign_summary(campaign), audience=audience, batch_id=batch.id, total=batch.total
            )
        self._notify()
        return queued

    async def preview_reminder(self, *, campaign_id: int) -> QueuedReminder | Refused:
        """Who a manual reminder would reach now (for ``surveybot remind --dry-run``); nothing is queued."""
        async with self.database.read() as session:
            campaign = await get_campaign(session=session, campaign_id=campaign_id)
            refusal = self._refusal(campaign, self.clock())
            if refusal is not None:
                return Refused(campaign=campaign_summary(campaign), reason=refusal)
            audience = await reminder_audience(session=session, campaign_id=campaign.id, channels=self.outbox_channels)
            return QueuedReminder(campaign=campaign_summary(campaign), audience=audience)

    # -- helpers ------------------------------------------------------------------------------

    def _refusal(self, campaign: Campaign, now: datetime) -> ReadOnlyReason | None:
        return read_only_reason(is_open=campaign.status is CampaignStatus.OPEN, deadline=campaign.deadline, now=now)

    async def _audience(self, session: AsyncSession, kind: OutboxKind, campaign_id: int) -> Audience:
        if kind is OutboxKind.BROADCAST:
            return await broadcast_audience(session=session, campaign_id=campaign_id, channels=self.outbox_channels)
        return await reminder_audience(session=session, campaign_id=campaign_id, channels=self.outbox_channels)

    def _notify(self) -> None:
        if self.on_enqueued is not None:
            self.on_enqueued()
