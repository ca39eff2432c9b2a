"""The reminder schedule, quiet hours and the due slot: pure functions, no database."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from bot.reminders import (
    QuietHours,
    SlotMove,
    SlotStatus,
    campaign_slots,
    due_slot,
    may_send_now,
    quiet_adjusted,
    reminder_slots,
    slot_statuses,
)
from storage.campaigns import DEFAULT_REMINDER_OFFSETS

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
DAY = 86_400
HOUR = 3_600


def local(*args: int, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime(*args, tzinfo=zone)


def as_local(moment: datetime, zone: ZoneInfo = SHANGHAI) -> str:
    return moment.astimezone(zone).strftime("%m-%d %H:%M")


def test_default_schedule__three_days_one_day_and_two_hours_before_a_17_00_deadline() -> None:
    deadline = local(2026, 12, 15, 17, 0)
    slots = reminder_slots(deadline=deadline, offsets=DEFAULT_REMINDER_OFFSETS, zone=SHANGHAI)
    assert [as_local(slot.send_at) for slot in slots] == ["12-12 17:00", "12-14 17:00", "12-15 15:00"]
    assert all(slot.move is SlotMove.NONE for slot in slots)
    assert all(slot.send_at.tzinfo is UTC for slot in slots)
    assert slots[0].key == "reminder@2026-12-12T09:00:00Z"


def test_quiet_hours__a_slot_in_the_evening_or_the_night_moves_to_the_next_08_30() -> None:
    deadline = local(2026, 12, 15, 17, 0)
    for planned, expected in (
        (local(2026, 12, 10, 21, 0), "12-11 08:30"),  # 21:00 is quiet
        (local(2026, 12, 10, 23, 59), "12-11 08:30"),
        (local(2026, 12, 11, 0, 0), "12-11 08:30"),
        (local(2026, 12, 11, 7, 59), "12-11 08:30"),
    ):
        moved, how = quiet_adjusted(planned, deadline=deadline, zone=SHANGHAI)
        assert (as_local(moved), how) == (expected, SlotMove.MORNING), planned
    for planned in (local(2026, 12, 11, 8, 0), local(2026, 12, 11, 8, 15), local(2026, 12, 10, 20, 59)):
        moved, how = quiet_adjusted(planned, deadline=deadline, zone=SHANGHAI)
        assert (moved, how) == (planned.astimezone(UTC), SlotMove.NONE), planned


def test_quiet_hours__when_08_30_would_be_past_the_deadline_the_slot_moves_back_to_20_30() -> None:
    deadline = local(2026, 12, 15, 8, 0)  # an early-morning deadline
    slots = reminder_slots(deadline=deadline, offsets=DEFAULT_REMINDER_OFFSETS, zone=SHANGHAI)
    # 3 days and 1 day before are 08:00, not quiet; 2 hours before is 06:00, quiet, and the
    # next 08:30 is after the deadline: the evening before instead.
    assert [(as_local(slot.send_at), slot.move) for slot in slots] == [
        ("12-12 08:00", SlotMove.NONE),
        ("12-14 08:00", SlotMove.NONE),
        ("12-14 20:30", SlotMove.EVENING),
    ]
    moved, how = quiet_adjusted(local(2026, 12, 15, 6, 0), deadline=local(2026, 12, 15, 8, 30), zone=SHANGHAI)
    assert (as_local(moved), how) == ("12-14 20:30", SlotMove.EVENING)  # 08:30 is not before 08:30


def test_slots_landing_on_the_same_moment__are_one_reminder() -> None:
    deadline = local(2026, 12, 15, 10, 0)
    # 4 h and 3 h before are 06:00 and 07:00: both move to 08:30, one reminder.
    slots = reminder_slots(deadline=deadline, offsets=[4 * HOUR, 3 * HOUR, DAY], zone=SHANGHAI)
    assert [as_local(slot.send_at) for slot in slots] == ["12-14 10:00", "12-15 08:30"]
    assert slots[1].offset == 3 * HOUR


def test_quiet_hours_follow_the_campaign_zone_across_daylight_saving() -> None:
    deadline = local(2026, 3, 30, 9, 0, zone=BERLIN)  # the day after the spring change
    slots = reminder_slots(deadline=deadline, offsets=[DAY + 2 * HOUR], zone=BERLIN)
    [slot] = slots
    assert slot.move is SlotMove.MORNING
    assert slot.send_at.astimezone(BERLIN).strftime("%m-%d %H:%M %Z") == "03-29 08:30 CEST"


def test_due_slot__only_the_latest_one_that_has_come() -> None:
    deadline = local(2026, 12, 15, 17, 0)
    created = local(2026, 12, 1, 10, 0)
    slots = reminder_slots(deadline=deadline, offsets=DEFAULT_REMINDER_OFFSETS, zone=SHANGHAI)

    def due(now: datetime) -> str | None:
        slot = due_slot(slots, now=now, deadline=deadline, not_before=created)
        return as_local(slot.send_at) if slot else None

    assert due(local(2026, 12, 12, 16, 59)) is None
    assert due(local(2026, 12, 12, 17, 0)) == "12-12 17:00"
    # Down from before the first slot until after the second: only the second.
    assert due(local(2026, 12, 14, 18, 0)) == "12-14 17:00"
    assert due(local(2026, 12, 15, 16, 59)) == "12-15 15:00"
    assert due(local(2026, 12, 15, 17, 0)) is None  # the deadline has passed


def test_due_slot__a_slot_already_past_when_the_campaign_was_created_is_not_sent() -> None:
    deadline = local(2026, 12, 15, 17, 0)
    slots = reminder_slots(deadline=deadline, offsets=DEFAULT_REMINDER_OFFSETS, zone=SHANGHAI)
    created = local(2026, 12, 13, 9, 0)  # after the 3-day slot
    assert due_slot(slots, now=local(2026, 12, 13, 9, 1), deadline=deadline, not_before=created) is None
    slot = due_slot(slots, now=local(2026, 12, 14, 17, 0), deadline=deadline, not_before=created)
    assert slot is not None and as_local(slot.send_at) == "12-14 17:00"


def test_may_send_now__never_inside_quiet_hours() -> None:
    assert may_send_now(local(2026, 12, 14, 20, 59), zone=SHANGHAI)
    assert not may_send_now(local(2026, 12, 14, 21, 0), zone=SHANGHAI)
    assert not may_send_now(local(2026, 12, 15, 7, 59), zone=SHANGHAI)
    assert may_send_now(local(2026, 12, 15, 8, 0), zone=SHANGHAI)
    # The same instant is quiet in one zone and not in another.
    instant = local(2026, 12, 14, 22, 0)
    assert may_send_now(instant, zone=BERLIN)


def test_quiet_hours_can_be_configured() -> None:
    quiet = QuietHours()
    assert quiet.contains(local(2026, 1, 1, 22, 0), SHANGHAI)
    daytime = QuietHours(start=time(12, 0), end=time(13, 0))
    assert daytime.contains(local(2026, 1, 1, 12, 30), SHANGHAI)
    assert not daytime.contains(local(2026, 1, 1, 13, 0), SHANGHAI)


def test_campaign_slots__leave_out_the_offsets_a_deadline_move_spent() -> None:
    deadline = local(2026, 12, 15, 17, 0)
    slots = campaign_slots(deadline=deadline, offsets=DEFAULT_REMINDER_OFFSETS, spent=[3 * DAY], zone=SHANGHAI)
    assert [as_local(slot.send_at) for slot in slots] == ["12-14 17:00", "12-15 15:00"]


def test_slot_statuses__sent_due_upcoming_and_skipped_as_the_scheduler_decides() -> None:
    """Created 12-01; nothing ran between the 3-day slot (sent) and now, after the 1-day slot; the 1-day one is due."""
    deadline = local(2026, 12, 15, 17, 0)
    slots = reminder_slots(deadline=deadline, offsets=[5 * DAY, 3 * DAY, 2 * DAY, DAY, 2 * HOUR], zone=SHANGHAI)
    now = local(2026, 12, 14, 18, 0)
    statuses = slot_statuses(
        slots, now=now, deadline=deadline, not_before=local(2026, 12, 1, 10, 0), sent_keys={"reminder@2026-12-12T09:00:00Z"}
    )
    assert [(as_local(item.slot.send_at), item.status) for item in statuses] == [
        ("12-10 17:00", SlotStatus.SKIPPED),  # passed, never sent, an older slot than the due one
        ("12-12 17:00", SlotStatus.SENT),
        ("12-13 17:00", SlotStatus.SKIPPED),  # passed over after downtime
        ("12-14 17:00", SlotStatus.DUE),
        ("12-15 15:00", SlotStatus.UPCOMING),
    ]
    due = due_slot(slots, now=now, deadline=deadline, not_before=local(2026, 12, 1, 10, 0))
    assert due is not None and as_local(due.send_at) == "12-14 17:00"  # the scheduler's pick is the one called due


def test_slot_statuses__before_creation_and_after_the_deadline_nothing_is_due() -> None:
    deadline = local(2026, 12, 15, 17, 0)
    slots = reminder_slots(deadline=deadline, offsets=DEFAULT_REMINDER_OFFSETS, zone=SHANGHAI)
    created = local(2026, 12, 13, 9, 0)  # after the 3-day slot
    at_creation = slot_statuses(slots, now=created, deadline=deadline, not_before=created, sent_keys=())
    assert [item.status for item in at_creation] == [SlotStatus.SKIPPED, SlotStatus.UPCOMING, SlotStatus.UPCOMING]
    after = slot_statuses(slots, now=local(2026, 12, 16, 9, 0), deadline=deadline, not_before=created, sent_keys=())
    assert [item.status for item in after] == [SlotStatus.SKIPPED] * 3
