"""The pure rules under campaign setup: reminder schedules typed, rosters pasted, reminders spent by a deadline move."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.durations import DurationProblem, DurationRejection, parse_reminder_offsets
from bot.reminders import spent_by_deadline_move
from storage.rosters import RosterLine, RosterProblem, RosterProblemKind, parse_roster

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY, HOUR = 86400, 3600
DEADLINE = datetime(2026, 12, 15, 17, 0, tzinfo=SHANGHAI)
CREATED = datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)


def test_reminder_offsets__read_as_the_cli_reads_them() -> None:
    assert parse_reminder_offsets("2h, 3d,1d") == [3 * DAY, DAY, 2 * HOUR]
    assert parse_reminder_offsets("3d，1d") == [3 * DAY, DAY]  # a Chinese comma
    assert parse_reminder_offsets("none") == []
    assert parse_reminder_offsets("3d,3x") == DurationRejection(DurationProblem.MALFORMED, "3x")
    assert parse_reminder_offsets("1d,24h") == DurationRejection(DurationProblem.REPEATED, "1d,24h")
    assert parse_reminder_offsets("5000d") == DurationRejection(DurationProblem.TOO_LONG, "5000d")


def test_parse_roster__mixed_separators_as_pasted() -> None:
    roster = parse_roster("甲\ta@example.cn\n乙, b@example.cn\n丙 c@example.cn\n# note\n\n丁,备注\n")
    assert roster.problems == ()
    assert roster.lines == (
        RosterLine("甲", "a@example.cn"),
        RosterLine("乙", "b@example.cn"),
        RosterLine("丙", "c@example.cn"),
        RosterLine("丁,备注"),  # with tabs in the text, a comma without an address belongs to the name
    )
    assert parse_roster("丁,备注\n").lines == (RosterLine("丁"),)  # CSV: the second column is a note


def test_parse_roster__every_bad_line_is_named() -> None:
    roster = parse_roster("甲\n乙 b@\n甲\n\t x@example.cn\n")
    assert roster.problems == (
        RosterProblem(2, RosterProblemKind.BAD_EMAIL, "b@"),
        RosterProblem(3, RosterProblemKind.DUPLICATE, "甲", first_line=1),
        RosterProblem(4, RosterProblemKind.EMPTY_NAME),
    )
    assert parse_roster("# only a comment\n").problems == (RosterProblem(0, RosterProblemKind.NO_UNITS),)


def spent(now: datetime, new_deadline: datetime, *, already: tuple[int, ...] = ()) -> list[int]:
    return spent_by_deadline_move(
        offsets=[3 * DAY, DAY, 2 * HOUR],
        spent=already,
        old_deadline=DEADLINE,
        new_deadline=new_deadline,
        created_at=CREATED,
        now=now,
        zone=SHANGHAI,
    )


def test_deadline_move__before_any_reminder_spends_nothing() -> None:
    assert spent(DEADLINE - timedelta(days=5), DEADLINE + timedelta(days=7)) == []


def test_deadline_move__after_the_first_reminder_spends_it_even_when_its_new_time_is_ahead() -> None:
    assert spent(DEADLINE - timedelta(days=3) + timedelta(minutes=30), DEADLINE + timedelta(hours=1)) == [3 * DAY]


def test_deadline_move__much_earlier_spends_what_is_already_past_under_the_new_deadline() -> None:
    now = DEADLINE - timedelta(days=10)
    assert spent(now, now + timedelta(hours=5)) == [3 * DAY, DAY]


def test_deadline_move__keeps_what_was_spent_before() -> None:
    assert spent(DEADLINE - timedelta(days=5), DEADLINE + timedelta(days=7), already=(DAY,)) == [DAY]


def test_deadline_move__a_reminder_past_at_creation_was_never_sent_and_moves() -> None:
    late_created = spent_by_deadline_move(
        offsets=[3 * DAY, DAY],
        spent=(),
        old_deadline=DEADLINE,
        new_deadline=DEADLINE + timedelta(days=7),
        created_at=DEADLINE - timedelta(days=2),
        now=DEADLINE - timedelta(days=1, hours=12),
        zone=SHANGHAI,
    )
    assert late_created == []
