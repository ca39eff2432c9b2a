"""When a campaign's answers are read-only: the one policy every part applies.

Answers can no longer change once the campaign is closed or its deadline has
passed. The respondent service then only shows them, the outreach refuses
reminders, and the outbox composer skips reminders still queued. Broadcasts
are not bound by it: a coordinator may still announce something.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class ReadOnlyReason(StrEnum):
    """Why a campaign's answers cannot change any more."""

    CLOSED = "closed"
    DEADLINE_PASSED = "deadline_passed"


def read_only_reason(*, is_open: bool, deadline: datetime, now: datetime) -> ReadOnlyReason | None:
    """Why answers are read-only at ``now``, or ``None`` while they may still change.

    ``is_open`` is whether the campaign is open (not closed by the coordinator);
    ``deadline`` and ``now`` are aware datetimes. A closed campaign reads as
    closed even before its deadline; the deadline itself is already too late.
    """
    if not is_open:
        return ReadOnlyReason.CLOSED
    if now >= deadline:
        return ReadOnlyReason.DEADLINE_PASSED
    return None
