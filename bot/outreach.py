"""Reminders and broadcasts asked for by a coordinator: preview, confirm, cancel.

``/remind`` and ``/broadcast`` first :meth:`OutreachService.prepare` a
*draft* batch and show how many units and respondents it will reach; nothing
is sent until :meth:`OutreachService.confirm` turns the draft into an active
batch, with its recipients computed again at that moment. A draft is
confirmed at most once (a second press, a redelivered update, or a second
coordinator finds it handled) and expires after :data:`DRAFT_TTL`.
``surveybot remind`` skips the draft: :meth:`OutreachService.enqueue_reminder`.

A draft may be for some units only (``unit_ids``, the console's selection):
it keeps them, its confirmation looks for recipients among them only, and the
composer speaks of them only. :meth:`OutreachService.inspect` shows a batch
to the console: before confirmation who gets what (each recipient's message
composed as it would be sent, links excepted), after it the delivery counts,
the recipients that failed or cannot be reached and the units no message went to.

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
from bot.outbox_compose import BroadcastContent, OutboxComposer, ReminderContent, Skip
from bot.reminders import QUIET_HOURS
from bot.service import ChannelUser
from storage.audience import (
    DEFAULT_OUTBOX_CHANNELS,
    Audience,
    UnitAudience,
    audience_of,
    broadcast_audience,
    reminder_audience,
    unit_audiences,
)
from storage.campaigns import get_campaign
from storage.database import Database
from storage.models import Campaign, CampaignStatus, DeliveryStatus, OutboxBatchStatus, OutboxKind, Respondent, ResponseStatus
from storage.outbox import (
    DeliveryProblem,
    OutboxBatchNotFoundError,
    activate_batch,
    cancel_batch,
    create_batch,
    delivery_counts,
    delivery_problems,
    enqueue_messages,
    get_batch,
    units_without_messages,
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

    #: That draft (the console shows where it went).
    batch_id: int | None = None


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


@dataclass(frozen=True, slots=True)
class RecipientPreview:
    """One account of a unit and the message it would get (``None``: it would get none, e.g. nothing left to remind)."""

    respondent_id: int
    channel: str
    #: Messages could not reach the account before.
    unreachable: bool
    content: ReminderContent | BroadcastContent | None


@dataclass(frozen=True, slots=True)
class UnitPreview:
    name: str
    status: ResponseStatus
    recipients: tuple[RecipientPreview, ...]


@dataclass(frozen=True, slots=True)
class BatchView:
    """A coordinator's reminder or broadcast as the console shows it: a draft's preview, or its delivery."""

    batch_id: int
    kind: OutboxKind
    status: OutboxBatchStatus
    campaign: CampaignSummary
    body: str | None
    #: Picked units only (None: every unit of the campaign).
    selected: tuple[int, ...] | None
    #: A draft older than :data:`DRAFT_TTL`: its confirmation would be refused.
    expired: bool
    #: Why a reminder could not be sent now (closed, past the deadline), if so.
    refusal: ReadOnlyReason | None
    quiet_hours: bool
    #: A draft's units with at least one account to message, roster order (empty once confirmed).
    units: tuple[UnitPreview, ...]
    #: The units to phone instead: a draft's that nobody can be messaged for; a confirmed one's that no
    #: message went to (nobody to message when it was confirmed). Empty for a cancelled batch.
    unreachable_units: tuple[str, ...]
    #: The messages of a confirmed batch by status (every status present; all zero for a draft).
    counts: dict[DeliveryStatus, int]
    total: int
    #: A confirmed batch's failed and unreachable recipients so far, in the order they were queued.
    problems: tuple[DeliveryProblem, ...] = ()

    @property
    def recipients(self) -> int:
        return len({recipient.respondent_id for unit in self.units for recipient in unit.recipients})


@dataclass(frozen=True, slots=True)
class UnitChoice:
    """A unit a coordinator may pick for a reminder or a notice."""

    unit_id: int
    name: str
    status: ResponseStatus
    #: The channels of its accounts that messages go through (empty: nobody to message).
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UnitChoices:
    campaign: CampaignSummary
    #: Every unit of the campaign, in roster order.
    units: tuple[UnitChoice, ...]
    #: Why reminders cannot be sent now (closed, past the deadline); None for broadcasts.
    refusal: ReadOnlyReason | None


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
        composer: OutboxComposer | None = None,
    ) -> None:
        self.database = database
        #: Writes the previews' messages as the sender would (share the sender's to share its survey cache).
        self.composer = composer if composer is not None else OutboxComposer()
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
        unit_ids: Collection[int] | None = None,
    ) -> Preview | CampaignChoice | Refused | Redelivered:
        """Check the account, pick the campaign and store a draft to confirm.

        ``update_id`` (the channel's id of the update asking) names the
        draft: the same command handled again (a retry after a failed reply,
        a restart after a kill) finds its draft and previews it again, never
        a second draft; once that draft is confirmed or cancelled, it shows
        nothing. (The inbox already keeps a redelivered update from being
        handled twice.) ``unit_ids``: for these units of the campaign only
        (the draft keeps them; its confirmation looks among them again).

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
        selected = None if unit_ids is None else sorted(set(unit_ids))
        async with self.database.transaction() as session:
            audience = await self._audience(session, kind, campaign.id, selected)
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
                    unit_ids=selected,
                    requested_channel=user.channel,
                    requested_by=user.external_id,
                    language=language,
                    now=now,
                )
                if not created and batch.status is not OutboxBatchStatus.DRAFT:
                    return Redelivered(batch_id=batch.id)
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
            audience = await self._audience(session, batch.kind, campaign.id, batch.unit_ids)
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

    async def unit_choices(self, *, user: ChannelUser, kind: OutboxKind, campaign_id: int) -> UnitChoices:
        """The campaign's units to pick from, each with the channels it can be messaged through.

        Raises :class:`~bot.coordination.NotCoordinatorError` and :class:`~storage.errors.CampaignNotFoundError`.
        """
        await self.coordination.authorize(user=user, command=command_of(kind))
        async with self.database.read() as session:
            campaign = await get_campaign(session=session, campaign_id=campaign_id)
            units = await unit_audiences(
                session=session, campaign_id=campaign.id, channels=self.outbox_channels, pending_only=False
            )
            refusal = None if kind is OutboxKind.BROADCAST else self._refusal(campaign, self.clock())
            return UnitChoices(
                campaign=campaign_summary(campaign),
                units=tuple(
                    UnitChoice(
                        unit_id=unit.unit_id,
                        name=unit.name,
                        status=unit.status,
                        channels=tuple(dict.fromkeys(recipient.channel for recipient in unit.recipients)),
                    )
                    for unit in units
                ),
                refusal=refusal,
            )

    async def inspect(self, *, user: ChannelUser, batch_id: int) -> BatchView | None:
        """A coordinator's reminder or broadcast: a draft with who gets what, or a confirmed one with its counts.

        None when there is no such batch (or it is a scheduled reminder, which no coordinator asked for).
        Raises :class:`~bot.coordination.NotCoordinatorError`.
        """
        await self.coordination.authorize(user=user, command="outreach")
        now = self.clock()
        async with self.database.read() as session:
            try:
                batch = await get_batch(session=session, batch_id=batch_id)
            except OutboxBatchNotFoundError:
                return None
            if batch.kind is OutboxKind.REMINDER:
                return None
            stored = await get_campaign(session=session, campaign_id=batch.campaign_id)
            draft = batch.status is OutboxBatchStatus.DRAFT
            units: list[UnitPreview] = []
            unreachable: tuple[str, ...] = ()
            problems: tuple[DeliveryProblem, ...] = ()
            if batch.status in (OutboxBatchStatus.ACTIVE, OutboxBatchStatus.DONE):
                unreachable = tuple(await units_without_messages(session=session, batch=batch))
                problems = tuple(await delivery_problems(session=session, batch=batch))
            if draft:
                concerned = await unit_audiences(
                    session=session,
                    campaign_id=stored.id,
                    channels=self.outbox_channels,
                    pending_only=batch.kind is not OutboxKind.BROADCAST,
                    unit_ids=batch.unit_ids,
                )
                unreachable = audience_of(concerned).units_without_respondents
                units = await self._unit_previews(session, concerned, batch.kind, batch.body, batch.unit_ids, stored, now)
            return BatchView(
                batch_id=batch.id,
                kind=batch.kind,
                status=batch.status,
                campaign=campaign_summary(stored),
                body=batch.body,
                selected=None if batch.unit_ids is None else tuple(batch.unit_ids),
                expired=draft and now - batch.created_at > DRAFT_TTL,
                refusal=None if batch.kind is OutboxKind.BROADCAST else self._refusal(stored, now),
                quiet_hours=QUIET_HOURS.contains(now, ZoneInfo(stored.timezone)),
                units=tuple(units),
                unreachable_units=unreachable,
                counts=await delivery_counts(session=session, batch_id=batch.id),
                total=batch.total,
                problems=problems,
            )

    # -- helpers ------------------------------------------------------------------------------

    async def _unit_previews(
        self,
        session: AsyncSession,
        concerned: list[UnitAudience],
        kind: OutboxKind,
        body: str | None,
        unit_ids: Collection[int] | None,
        campaign: Campaign,
        now: datetime,
    ) -> list[UnitPreview]:
        """Each unit with an account, and each account's message as the composer would write it now."""
        contents: dict[int, ReminderContent | BroadcastContent | None] = {}
        previews: list[UnitPreview] = []
        for unit in concerned:
            if not unit.recipients:
                continue
            recipients: list[RecipientPreview] = []
            for recipient in unit.recipients:
                if recipient.respondent_id not in contents:
                    respondent = await session.get(Respondent, recipient.respondent_id)
                    assert respondent is not None, "an account bound to a unit exists"
                    content = await self.composer.content(
                        session=session, kind=kind, body=body, unit_ids=unit_ids,
                        respondent=respondent, campaign=campaign, now=now, issue_links=False,
                    )
                    contents[recipient.respondent_id] = None if isinstance(content, Skip) else content
                recipients.append(
                    RecipientPreview(
                        respondent_id=recipient.respondent_id,
                        channel=recipient.channel,
                        unreachable=recipient.unreachable,
                        content=contents[recipient.respondent_id],
                    )
                )
            previews.append(UnitPreview(name=unit.name, status=unit.status, recipients=tuple(recipients)))
        return previews

    def _refusal(self, campaign: Campaign, now: datetime) -> ReadOnlyReason | None:
        return read_only_reason(is_open=campaign.status is CampaignStatus.OPEN, deadline=campaign.deadline, now=now)

    async def _audience(
        self, session: AsyncSession, kind: OutboxKind, campaign_id: int, unit_ids: Collection[int] | None
    ) -> Audience:
        if kind is OutboxKind.BROADCAST:
            return await broadcast_audience(
                session=session, campaign_id=campaign_id, channels=self.outbox_channels, unit_ids=unit_ids
            )
        return await reminder_audience(session=session, campaign_id=campaign_id, channels=self.outbox_channels, unit_ids=unit_ids)

    def _notify(self) -> None:
        if self.on_enqueued is not None:
            self.on_enqueued()
