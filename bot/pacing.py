"""Pacing outgoing messages under a channel's limits.

Each channel's transport states its limits as a :class:`PacingPolicy`
(Telegram: about 30 messages a second overall and one a second per chat, 429
with ``retry_after`` beyond). The :class:`Pacer` keeps a sender under both
without relying on rate-limit answers:

* overall, sends are **evenly spaced** at ``rate`` per second (Telegram's
  policy uses 28: the bot's own replies to respondents, the coordinator's
  status message and other processes share the same 30 a second). Even
  spacing, unlike bursts, tolerates jitter in request latency: a sliding
  one-second window never holds more than ``rate`` + 1;
* per recipient, two sends are at least ``per_recipient_interval`` apart
  (Telegram: 1.1 s);
* after a rate-limit answer, :meth:`Pacer.pause` holds every send for
  ``retry_after`` and lowers the rate by a quarter (once per flood wait); it
  then grows back by half a message a second every second. Several processes
  sending with one token (each with its own pacer) thus settle on sharing the
  limit instead of tripping over each other.

Slots are handed out in the order they are asked for. Time is the event
loop's monotonic clock (never the business clock, which tests freeze).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

logger = logging.getLogger(__name__)

#: After a 429 the rate is multiplied by this...
RATE_DECREASE = 0.75
#: ...and grows back by this many messages a second, every second.
RATE_RECOVERY = 0.5
#: The rate never goes below this.
MIN_RATE = 1.0
#: Forget per-chat times once this many chats are remembered.
_CHAT_MEMORY = 10_000


@dataclass(frozen=True, slots=True)
class PacingPolicy:
    """How fast one channel may send: what its transport tells the outbox sender.

    Telegram's is 28 a second overall and 1.1 s between two messages to one
    chat. A channel with windowed per-recipient limits (WeCom: 30 a minute and
    1,000 an hour per member) counts them in its transport, which answers
    :class:`~bot.outbox_transport.Deferred` when a recipient's window is full.
    """

    #: Messages a second overall, evenly spaced.
    rate: float
    #: Seconds between two messages to one recipient.
    per_recipient_interval: float
    #: Minutes of the hour (UTC) in which this channel's *scheduled* reminders
    #: do not start: WeCom asks apps to avoid :00 and :30, when most apps push.
    #: The scheduler holds this channel's rows of a reminder slot falling in
    #: such a minute until the next free minute (:func:`after_busy_minutes`);
    #: other channels' rows of the same slot go at once.
    busy_minutes: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError(f"pacing rate {self.rate}: must be positive (messages a second)")
        if self.per_recipient_interval < 0:
            raise ValueError(f"per-recipient interval {self.per_recipient_interval}: must not be negative (seconds)")
        if any(not 0 <= minute < 60 for minute in self.busy_minutes) or len(self.busy_minutes) >= 60:
            raise ValueError(f"busy minutes {sorted(self.busy_minutes)}: need minutes 0-59, not all of them")


def after_busy_minutes(when: datetime, busy: frozenset[int]) -> datetime:
    """``when``, or the start of the next minute not in ``busy`` if ``when`` falls in one (minutes of UTC).

    A reminder slot at 08:30:00 held for a channel that avoids :30 goes at
    08:31:00. Later, never earlier: the slot's batch is created when it falls
    due. (Minutes of the hour are the same in UTC and China Standard Time.)
    """
    if not busy or when.astimezone(UTC).minute not in busy:
        return when
    moment = when.replace(second=0, microsecond=0)
    while moment.astimezone(UTC).minute in busy:
        moment += timedelta(minutes=1)
    return moment


class Pacer:
    def __init__(
        self,
        *,
        rate: float,
        per_chat_interval: float,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.max_rate = rate
        self.per_chat_interval = per_chat_interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._next = 0.0
        self._paused_until = 0.0
        #: The rate right after the last flood wait, and when it started growing back.
        self._reduced_rate = rate
        self._recovering_since = 0.0
        self._chat_next: dict[int | str, float] = {}

    @classmethod
    def for_policy(
        cls,
        policy: PacingPolicy,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> Pacer:
        return cls(rate=policy.rate, per_chat_interval=policy.per_recipient_interval, monotonic=monotonic, sleep=sleep)

    def rate(self, now: float | None = None) -> float:
        """Messages a second allowed now (below ``max_rate`` for a while after a 429)."""
        moment = self._monotonic() if now is None else now
        grown = self._reduced_rate + max(0.0, moment - self._recovering_since) * RATE_RECOVERY
        return min(self.max_rate, grown)

    async def slot(self) -> None:
        """Wait for the next overall sending slot (and for any pause to end)."""
        while True:
            now = self._monotonic()
            if now < self._paused_until:
                await self._sleep(self._paused_until - now)
                continue
            at = max(now, self._next)
            self._next = at + 1.0 / self.rate(at)
            if at > now:
                await self._sleep(at - now)
            if self._monotonic() < self._paused_until:
                continue  # a 429 arrived while waiting: take a slot after the pause
            return

    async def chat_turn(self, chat_id: int | str) -> bool:
        """Wait until ``chat_id`` may get another message; True if that meant waiting.

        A caller that waited must take a fresh :meth:`slot` before sending: the
        slot it held has passed, and sending now would crowd the next one.
        """
        now = self._monotonic()
        at = max(now, self._chat_next.get(chat_id, 0.0))
        self._chat_next[chat_id] = at + self.per_chat_interval
        if len(self._chat_next) > _CHAT_MEMORY:
            self._chat_next = {chat: t for chat, t in self._chat_next.items() if t > now}
        if at > now:
            await self._sleep(at - now)
            return True
        return False

    async def turn(self, chat_id: int | str) -> None:
        """Wait for the chat's turn, then for an overall slot (for a send that holds no slot)."""
        await self.chat_turn(chat_id)
        await self.slot()

    def pause(self, seconds: float) -> None:
        """Hold every send for ``seconds`` (the channel's ``retry_after``) and slow down."""
        now = self._monotonic()
        until = now + max(0.0, seconds)
        if now >= self._paused_until:  # a new flood wait, not a sibling of the last one
            self._reduced_rate = max(MIN_RATE, self.rate(now) * RATE_DECREASE)
            logger.info(
                "flood control: pausing every send for %.1f s, then %.1f messages a second",
                seconds,
                self._reduced_rate,
            )
        if until > self._paused_until:
            self._paused_until = until
            self._recovering_since = until
        self._next = max(self._next, self._paused_until)
