"""The one read-only policy: closed campaign or deadline passed, nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.read_only import ReadOnlyReason, read_only_reason

DEADLINE = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("is_open", "now", "expected"),
    [
        (True, DEADLINE - timedelta(seconds=1), None),
        (True, DEADLINE, ReadOnlyReason.DEADLINE_PASSED),  # the deadline itself is too late
        (True, DEADLINE + timedelta(days=1), ReadOnlyReason.DEADLINE_PASSED),
        (False, DEADLINE - timedelta(days=1), ReadOnlyReason.CLOSED),
        (False, DEADLINE + timedelta(days=1), ReadOnlyReason.CLOSED),  # closed wins over the deadline
    ],
)
def test_read_only_reason__closed_or_deadline_passed(is_open: bool, now: datetime, expected: ReadOnlyReason | None) -> None:
    assert read_only_reason(is_open=is_open, deadline=DEADLINE, now=now) is expected


def test_read_only_reason__compares_instants_not_wall_clocks() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    a_minute_before = DEADLINE.astimezone(shanghai) - timedelta(minutes=1)  # 16:59 in Shanghai
    assert read_only_reason(is_open=True, deadline=DEADLINE, now=a_minute_before) is None
    assert read_only_reason(is_open=True, deadline=DEADLINE.astimezone(shanghai), now=DEADLINE) is ReadOnlyReason.DEADLINE_PASSED
