"""Per-member pacing (30 a minute, 1000 an hour, counted) and scheduled times off :00 and :30."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from handlers.wecom.pacing import MemberPacer, avoid_busy_minutes


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _send(pacer: MemberPacer, member: str, count: int) -> None:
    for _ in range(count):
        assert pacer.decide(member).send_now
        pacer.record_sent(member)


def test_thirty_a_minute__the_31st_waits_until_the_first_leaves_the_minute() -> None:
    clock = FakeClock()
    pacer = MemberPacer(clock=clock)
    _send(pacer, "zhangsan", 29)
    clock.advance(10)
    _send(pacer, "zhangsan", 1)
    decision = pacer.decide("zhangsan")
    assert not decision.send_now
    # The first 29 went 10 s ago: the minute frees a place 50 s from now.
    assert decision.wait_seconds == 50
    clock.advance(49)
    assert pacer.decide("zhangsan").wait_seconds == 1
    clock.advance(1)
    assert pacer.decide("zhangsan").send_now
    pacer.record_sent("zhangsan")
    # The 29 left together but one place is used again, and the 30th (t=10) is still in the minute.
    assert pacer.decide("zhangsan").send_now


def test_members_are_paced_separately() -> None:
    clock = FakeClock()
    pacer = MemberPacer(clock=clock)
    _send(pacer, "zhangsan", 30)
    assert not pacer.decide("zhangsan").send_now
    assert pacer.decide("lisi").send_now


def test_a_thousand_an_hour__then_wait_for_the_oldest_to_leave_the_hour() -> None:
    clock = FakeClock()
    pacer = MemberPacer(clock=clock)
    for _ in range(33):  # 30 a minute for 33 minutes, then 10 more: 1000 in the hour
        _send(pacer, "zhangsan", 30)
        clock.advance(60)
    _send(pacer, "zhangsan", 10)
    assert pacer.sent_in_last_hour("zhangsan") == 1000
    decision = pacer.decide("zhangsan")
    assert not decision.send_now
    # The first 30 went at t=1000; they leave the hour at t=4600; now is t=1000+33*60.
    assert decision.wait_seconds == 3600 - 33 * 60
    clock.advance(decision.wait_seconds)
    assert pacer.decide("zhangsan").send_now


def test_what_was_not_recorded_does_not_count() -> None:
    clock = FakeClock()
    pacer = MemberPacer(clock=clock)
    for _ in range(100):
        assert pacer.decide("zhangsan").send_now  # asked, but never sent
    assert pacer.sent_in_last_hour("zhangsan") == 0


def test_a_member_idle_for_an_hour_is_forgotten() -> None:
    clock = FakeClock()
    pacer = MemberPacer(clock=clock)
    _send(pacer, "zhangsan", 30)
    clock.advance(3600)
    assert pacer.sent_in_last_hour("zhangsan") == 0
    _send(pacer, "zhangsan", 30)


def test_bad_limits__a_bug_raises() -> None:
    with pytest.raises(ValueError, match="per_minute"):
        MemberPacer(clock=FakeClock(), per_minute=0)


@pytest.mark.parametrize(
    ("scheduled", "expected"),
    [
        (datetime(2026, 11, 30, 9, 0), datetime(2026, 11, 30, 8, 57)),
        (datetime(2026, 11, 30, 9, 0, 59), datetime(2026, 11, 30, 8, 57, 59)),
        (datetime(2026, 11, 30, 17, 30, 20), datetime(2026, 11, 30, 17, 27, 20)),
        (datetime(2026, 12, 1, 0, 0), datetime(2026, 11, 30, 23, 57)),
        (datetime(2026, 11, 30, 9, 1), datetime(2026, 11, 30, 9, 1)),
        (datetime(2026, 11, 30, 9, 29, 59), datetime(2026, 11, 30, 9, 29, 59)),
        (datetime(2026, 11, 30, 9, 45), datetime(2026, 11, 30, 9, 45)),
    ],
)
def test_avoid_busy_minutes(scheduled: datetime, expected: datetime) -> None:
    moved = avoid_busy_minutes(scheduled)
    assert moved == expected
    assert moved.minute not in (0, 30)


def test_avoid_busy_minutes__keeps_the_time_zone() -> None:
    shanghai = timezone(timedelta(hours=8))
    moved = avoid_busy_minutes(datetime(2026, 11, 30, 9, 30, tzinfo=shanghai))
    assert moved.tzinfo is shanghai
    assert moved == datetime(2026, 11, 30, 1, 27, tzinfo=UTC)
