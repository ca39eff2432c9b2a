"""The reminder scheduler: turns a campaign's due reminder slot into an outbox batch.

:meth:`ReminderScheduler.tick` looks at every open campaign before its
deadline, finds the slot due now (:func:`bot.reminders.due_slot`: the latest
one, so that after downtime only that one is sent) and, unless it is quiet
hours, creates the batch ``reminder@<send time>`` with one message per
respondent of the units that have not submitted. The batch key is unique per
campaign, so any number of ticks, in any number of processes, create it once.
It takes a ``clock``; tests call ``tick()`` after moving it. The slots follow
the campaign's current deadline; offsets a deadline move marked spent
(:func:`bot.campaign_setup.move_deadline`) are left out, so a moved deadline
moves the future reminders and never sends one again.

A channel may avoid some minutes of the hour (``busy_minutes``, from its
transport's pacing: WeCom asks apps not to push at :00 and :30). Its rows of
a batch created in such a minute are first due at the next free minute
(08:30 → 08:31); the other channels' rows go at once, and the slot itself
(its key, its time) is the same for all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.pacing import after_busy_minutes
from bot.reminders import QUIET_HOURS, QuietHours, ReminderSlot, campaign_slots, due_slot, may_send_now
from storage.audience import DEFAULT_OUTBOX_CHANNELS, reminder_audience
from storage.database import Database
from storage.models import Campaign, CampaignStatus, OutboxBatchStatus, OutboxKind
from storage.outbox import create_batch, enqueue_messages, find_batch
from storage.types import utc_now

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ScheduledBatch:
    """A reminder batch a tick created."""

    batch_id: int
    campaign_id: int
    slot: ReminderSlot
    recipients: int


class ReminderScheduler:
    def __init__(
        self,
        *,
        database: Database,
        clock: Callable[[], datetime] = utc_now,
        quiet: QuietHours = QUIET_HOURS,
        outbox_channels: Collection[str] = DEFAULT_OUTBOX_CHANNELS,
        busy_minutes: Mapping[str, frozenset[int]] | None = None,
    ) -> None:
        self.database = database
        #: Per channel, the minutes of the hour its scheduled reminders do not start in (WeCom: :00 and :30).
        self.busy_minutes = {channel: minutes for channel, minutes in (busy_minutes or {}).items() if minutes}
        #: Reminders go to the accounts of these channels (those with an outbox sender).
        self.outbox_channels = tuple(outbox_channels)
        self.clock = clock
        self.quiet = quiet

    async def tick(self) -> list[ScheduledBatch]:
        """Create the batches of the slots due now; returns those created by this call."""
        now = self.clock()
        async with self.database.read() as session:
            campaigns = list(
                await session.scalars(
                    select(Campaign)
                    .where(Campaign.status == CampaignStatus.OPEN, Campaign.deadline > now)
                    .order_by(Campaign.id)
                )
            )
        created: list[ScheduledBatch] = []
        for campaign in campaigns:
            scheduled = await self._campaign_tick(campaign, now)
            if scheduled is not None:
                created.append(scheduled)
        return created

    def slots(self, campaign: Campaign) -> list[ReminderSlot]:
        """The campaign's schedule for its current deadline, without the offsets a deadline move spent."""
        return campaign_slots(
            deadline=campaign.deadline,
            offsets=campaign.reminder_offsets or (),
            spent=campaign.spent_reminder_offsets or (),
            zone=ZoneInfo(campaign.timezone),
            quiet=self.quiet,
        )

    async def _campaign_tick(self, campaign: Campaign, now: datetime) -> ScheduledBatch | None:
        zone = ZoneInfo(campaign.timezone)
        slot = due_slot(self.slots(campaign), now=now, deadline=campaign.deadline, not_before=campaign.created_at)
        if slot is None:
            return None
        async with self.database.read() as session:
            if await find_batch(session=session, campaign_id=campaign.id, key=slot.key) is not None:
                return None
        if not may_send_now(now, zone=zone, quiet=self.quiet):
            logger.debug("campaign %s: reminder %s held until quiet hours end", campaign.id, slot.key)
            return None
        async with self.database.transaction() as session:
            batch, created = await create_batch(
                session=session,
                campaign_id=campaign.id,
                kind=OutboxKind.REMINDER,
                key=slot.key,
                status=OutboxBatchStatus.ACTIVE,
                slot_at=slot.send_at,
                now=now,
            )
            if not created:
                return None
            audience = await reminder_audience(session=session, campaign_id=campaign.id, channels=self.outbox_channels)
            count = await enqueue_messages(
                session=session, batch=batch, respondent_ids=audience.respondent_ids, now=now,
                not_before={channel: after_busy_minutes(now, minutes) for channel, minutes in self.busy_minutes.items()},
            )
        logger.info(
            "campaign %s: reminder %s for %d respondent(s) of %d unit(s)",
            campaign.id, slot.key, count, len(audience.units),
        )
        return ScheduledBatch(batch_id=batch.id, campaign_id=campaign.id, slot=slot, recipients=count)
