"""Pacing messages to one WeCom member under the limits above which WeCom drops them silently.

WeCom's 发送应用消息 page (developer.work.weixin.qq.com/document/path/90236,
频率限制): "每应用对同一个成员不可超过30次/分钟，1000次/小时，超过部分会被丢弃不下发"
-- per app and member at most 30 messages a minute and 1000 an hour; the
excess is dropped *without an error*. The sender therefore cannot learn the
limit from WeCom's answers and must count what it sent itself:
:class:`MemberPacer` does, with sliding windows on an injected monotonic clock.

The same page advises against the :00 and :30 minute of each hour ("大部分企业
应用在每小时的0分或30分触发推送消息，容易造成资源挤占……建议尽量避开这两个时间点"):
:func:`avoid_busy_minutes` moves a scheduled time off them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

#: WeCom's per-app, per-member limits (document/path/90236, 频率限制).
PER_MINUTE = 30
PER_HOUR = 1000
_MINUTE = 60.0
_HOUR = 3600.0

#: The minutes of the hour most apps push at, which WeCom asks to avoid.
BUSY_MINUTES = frozenset({0, 30})
#: How far :func:`avoid_busy_minutes` moves a time that falls on a busy minute.
BUSY_MINUTE_SHIFT = timedelta(minutes=3)


@dataclass(frozen=True)
class PaceDecision:
    """Whether a message to a member may go now, or how many seconds to wait first."""

    wait_seconds: float

    @property
    def send_now(self) -> bool:
        return self.wait_seconds <= 0


SEND_NOW = PaceDecision(wait_seconds=0.0)


class MemberPacer:
    """Counts messages sent to each member and says when the next may go.

    Call :meth:`decide` before sending and :meth:`record_sent` after WeCom
    accepted a message (only what was sent counts: a message WeCom refused was
    not delivered, and one it would drop must never be sent). ``clock`` is a
    monotonic clock in seconds (``time.monotonic`` in production, a fake in
    tests). The pacer is not thread-safe; one asyncio task (the transport)
    owns it.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        per_minute: int = PER_MINUTE,
        per_hour: int = PER_HOUR,
    ) -> None:
        if per_minute < 1 or per_hour < per_minute:
            raise ValueError(
                f"MemberPacer: need 1 <= per_minute <= per_hour, got per_minute={per_minute}, per_hour={per_hour}"
            )
        self._clock = clock
        self._per_minute = per_minute
        self._per_hour = per_hour
        self._sent: dict[str, deque[float]] = {}

    def decide(self, member: str) -> PaceDecision:
        """Send now, or wait this many seconds, so that neither window overflows."""
        now = self._clock()
        sent = self._prune(member, now)
        if sent is None:
            return SEND_NOW
        waits = [0.0]
        if len(sent) >= self._per_hour:
            waits.append(sent[-self._per_hour] + _HOUR - now)
        in_last_minute = _count_since(sent, now - _MINUTE)
        if in_last_minute >= self._per_minute:
            waits.append(sent[-self._per_minute] + _MINUTE - now)
        wait = max(waits)
        if wait <= 0:
            return SEND_NOW
        # Whole seconds, rounded up, so that waiting the answer is always enough.
        return PaceDecision(wait_seconds=float(math.ceil(wait)))

    def record_sent(self, member: str) -> None:
        """Count one message as sent to ``member`` now."""
        self._sent.setdefault(member, deque()).append(self._clock())

    def sent_in_last_hour(self, member: str) -> int:
        """How many messages to ``member`` the hour window holds now."""
        sent = self._prune(member, self._clock())
        return 0 if sent is None else len(sent)

    def _prune(self, member: str, now: float) -> deque[float] | None:
        sent = self._sent.get(member)
        if sent is None:
            return None
        while sent and sent[0] <= now - _HOUR:
            sent.popleft()
        if not sent:
            del self._sent[member]
            return None
        return sent


def _count_since(sent: deque[float], start: float) -> int:
    count = 0
    for at in reversed(sent):
        if at <= start:
            break
        count += 1
    return count


def avoid_busy_minutes(when: datetime) -> datetime:
    """``when`` moved off the :00 and :30 minute of its hour, or unchanged.

    A time in a busy minute moves :data:`BUSY_MINUTE_SHIFT` *earlier* (09:00
    becomes 08:57, 17:30:20 becomes 17:27:20): a reminder is about a deadline,
    and an earlier reminder never lands after the deadline it announces.
    The time zone, if any, is kept.
    """
    if when.minute not in BUSY_MINUTES:
        return when
    return when - BUSY_MINUTE_SHIFT
