"""When reminders go out: the schedule of a campaign, quiet hours, the slot due now.

Pure functions, no database and no clock of their own (``now`` is passed in),
so that every rule below is unit-tested directly.

* A campaign's **slots** are ``deadline - offset`` for each of its
  ``reminder_offsets`` (default 3 days, 1 day and 2 hours).
* **Quiet hours** are 21:00 to 08:00 in the campaign's time zone. A slot that
  falls inside them moves to the next 08:30. If that 08:30 is at or after the
  deadline (a deadline early in the morning), the slot moves back instead, to
  20:30 on the evening the quiet hours began: the last sensible moment before
  the deadline. 08:00 itself is not quiet; 21:00 is.
* Slots that end up at the same moment are one slot (one reminder).
* **The due slot** at ``now`` is the latest slot whose send time has come,
  after the campaign was created (a slot already past when the campaign was
  created is not sent) and before the deadline. After downtime, only that
  latest slot is sent, never a burst of the older ones.
* A due slot is **held during quiet hours** too: a reminder that fell due
  while the bot was down and comes back at 23:00 waits until quiet hours end.
* A campaign's **current schedule** (:func:`campaign_slots`) leaves out the
  offsets a deadline move spent; :func:`slot_statuses` says of each slot what
  the scheduler did or will do with it (sent, due, upcoming, skipped), for the
  coordinator console's campaign page.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local times when no reminder is sent (``start`` to ``end``, across midnight)."""

    start: time = time(21, 0)
    end: time = time(8, 0)
    #: Where a slot inside quiet hours moves to (the next occurrence).
    morning: time = time(8, 30)
    #: Where it moves back to when ``morning`` would be too late for the deadline.
    evening: time = time(20, 30)

    def contains(self, moment: datetime, zone: ZoneInfo) -> bool:
        """Whether ``moment`` (aware) is inside quiet hours in ``zone``."""
        local = moment.astimezone(zone).time()
        if self.start <= self.end:  # a period within one day
            return self.start <= local < self.end
        return local >= self.start or local < self.end


#: The quiet hours of every campaign.
QUIET_HOURS = QuietHours()


class SlotMove(StrEnum):
    """How quiet hours changed a slot."""

    NONE = "none"
    #: Moved forward to the next morning.
    MORNING = "morning"
    #: Moved back to the evening before (the morning would be past the deadline).
    EVENING = "evening"


@dataclass(frozen=True, slots=True)
class ReminderSlot:
    """One reminder of a campaign's schedule."""

    #: Seconds before the deadline (the smallest, when slots merged).
    offset: int
    #: ``deadline - offset``, before quiet hours (UTC).
    nominal_at: datetime
    #: When it is sent (UTC).
    send_at: datetime
    move: SlotMove = SlotMove.NONE

    @property
    def key(self) -> str:
        """The slot's identity in the outbox: unique per campaign."""
        return f"reminder@{self.send_at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}"


def _at(day: object, clock_time: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock_time, tzinfo=zone)  # type: ignore[arg-type]


def quiet_adjusted(
    moment: datetime, *, deadline: datetime, zone: ZoneInfo, quiet: QuietHours = QUIET_HOURS
) -> tuple[datetime, SlotMove]:
    """Where a reminder planned for ``moment`` is sent, given quiet hours (UTC)."""
    if not quiet.contains(moment, zone):
        return moment.astimezone(UTC), SlotMove.NONE
    local = moment.astimezone(zone)
    # The quiet period holding ``moment`` began on the evening of ``began``.
    began = local.date() if local.time() >= quiet.start else local.date() - timedelta(days=1)
    morning = _at(began + timedelta(days=1), quiet.morning, zone)
    if morning < deadline:
        return morning.astimezone(UTC), SlotMove.MORNING
    return _at(began, quiet.evening, zone).astimezone(UTC), SlotMove.EVENING


def reminder_slots(
    *,
    deadline: datetime,
    offsets: Iterable[int],
    zone: ZoneInfo,
    quiet: QuietHours = QUIET_HOURS,
) -> list[ReminderSlot]:
    """The campaign's slots in send order, quiet hours applied, equal send times merged."""
    by_time: dict[datetime, ReminderSlot] = {}
    for offset in sorted(set(offsets), reverse=True):
        if offset <= 0:
            continue
        nominal = (deadline - timedelta(seconds=offset)).astimezone(UTC)
        send_at, move = quiet_adjusted(nominal, deadline=deadline, zone=zone, quiet=quiet)
        # Offsets run from the largest down, so a later one (closer to the
        # deadline) replaces an earlier one landing on the same moment.
        by_time[send_at] = ReminderSlot(offset=offset, nominal_at=nominal, send_at=send_at, move=move)
    return [by_time[moment] for moment in sorted(by_time)]


def due_slot(slots: Sequence[ReminderSlot], *, now: datetime, deadline: datetime, not_before: datetime) -> ReminderSlot | None:
    """The latest slot whose time has come (``not_before < send_at <= now < deadline``)."""
    if now >= deadline:
        return None
    due = [slot for slot in slots if not_before < slot.send_at <= now]
    return max(due, key=lambda slot: slot.send_at) if due else None


def campaign_slots(
    *,
    deadline: datetime,
    offsets: Iterable[int],
    spent: Iterable[int],
    zone: ZoneInfo,
    quiet: QuietHours = QUIET_HOURS,
) -> list[ReminderSlot]:
    """The campaign's schedule for its current deadline, without the offsets a deadline move spent."""
    spent_offsets = set(spent)
    return reminder_slots(
        deadline=deadline,
        offsets=[offset for offset in offsets if offset not in spent_offsets],
        zone=zone,
        quiet=quiet,
    )


class SlotStatus(StrEnum):
    """What became, or becomes, of one slot of an open campaign's schedule."""

    #: Its batch exists: the scheduler sent it.
    SENT = "sent"
    #: Its time has come and it is the one :func:`due_slot` picks: the next tick sends it (after quiet hours).
    DUE = "due"
    #: Its time is still ahead.
    UPCOMING = "upcoming"
    #: Its time passed and it is never sent: before the campaign was created, passed over
    #: by a later slot (after downtime), or the deadline passed.
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class ScheduledSlot:
    slot: ReminderSlot
    status: SlotStatus


def slot_statuses(
    slots: Sequence[ReminderSlot],
    *,
    now: datetime,
    deadline: datetime,
    not_before: datetime,
    sent_keys: Collection[str],
) -> list[ScheduledSlot]:
    """Each slot with what the scheduler did or does with it at ``now`` (``sent_keys``: the keys of its batches)."""
    due = due_slot(slots, now=now, deadline=deadline, not_before=not_before)
    result: list[ScheduledSlot] = []
    for slot in slots:
        if slot.key in sent_keys:
            status = SlotStatus.SENT
        elif slot.send_at <= not_before:
            status = SlotStatus.SKIPPED
        elif slot.send_at > now:  # always before the deadline (quiet_adjusted keeps it so)
            status = SlotStatus.UPCOMING
        elif due is not None and slot.key == due.key:
            status = SlotStatus.DUE
        else:
            status = SlotStatus.SKIPPED
        result.append(ScheduledSlot(slot=slot, status=status))
    return result


def may_send_now(now: datetime, *, zone: ZoneInfo, quiet: QuietHours = QUIET_HOURS) -> bool:
    """Whether a scheduled reminder may go out at ``now`` (not inside quiet hours)."""
    return not quiet.contains(now, zone)


def spent_by_deadline_move(
    *,
    offsets: Iterable[int],
    spent: Iterable[int],
    old_deadline: datetime,
    new_deadline: datetime,
    created_at: datetime,
    now: datetime,
    zone: ZoneInfo,
    quiet: QuietHours = QUIET_HOURS,
) -> list[int]:
    """The offsets never to send again once the deadline moves from ``old_deadline`` to ``new_deadline`` at ``now``.

    Spent are: those spent before; those whose time had come under the old
    deadline (sent, or passed over after downtime), counted from the campaign's
    creation like :func:`due_slot`; and those whose time under the new deadline
    is already past (as at creation, a past reminder is not sent late). The
    rest move with the deadline.
    """
    result = set(spent)
    for offset in offsets:
        (old,) = reminder_slots(deadline=old_deadline, offsets=[offset], zone=zone, quiet=quiet) or (None,)
        (new,) = reminder_slots(deadline=new_deadline, offsets=[offset], zone=zone, quiet=quiet) or (None,)
        if old is not None and created_at < old.send_at <= now and old.send_at < old_deadline:
            result.add(offset)
        if new is not None and new.send_at <= now:
            result.add(offset)
    return sorted(result, reverse=True)
