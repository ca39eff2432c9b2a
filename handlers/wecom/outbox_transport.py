"""The outbox's WeCom transport: reminders and broadcasts to WeCom members through the app (message/send).

The channel-neutral :class:`~bot.outbox_sender.OutboxSender` does the
claiming, retrying and reporting; this module renders a message as text
(:mod:`handlers.wecom.outbox_rendering`), splits it under WeCom's 2048 bytes,
counts it against the member's limits and translates what WeCom answered
(through :class:`~handlers.wecom.api.WeComApi`, which caches the
access_token, refreshes it before expiry and on 40014/42001, and retries the
call once):

==========================================  ===============================================
WeCom                                       :data:`~bot.outbox_transport.SendResult`
==========================================  ===============================================
errcode 0 (every part)                      ``Sent`` (the first part's msgid)
the member's window is full (our count)     ``Deferred``: the row waits, nothing is sent
45009 (slow down)                           ``RateLimited`` (60 s): the channel pauses
a recipient outside the app (81013, 60111,  ``Unreachable``: the member is marked
60021, 92000, 46004, 40003, 50002, 82001,   unreachable (/status, the 进度 sheet)
``invaliduser``)
any other errcode                           ``Rejected``
network, 5xx, -1 busy, token refused twice  ``Transient``
==========================================  ===============================================

**Pacing.** WeCom drops messages above 30 a minute or 1000 an hour per app
and member *silently* (发送应用消息, 频率限制), so the transport counts what it
sent, part by part, in a :class:`~handlers.wecom.pacing.MemberPacer` it
shares with the direct replies (the conversation's answers to a member's own
message). Before a message it asks the pacer for room for *all* its parts
while leaving :data:`REPLY_RESERVE` of the minute's 30 free, so a member who
writes to the bot is answered at once even in the middle of a burst of
broadcasts; without room the row is ``Deferred`` until there is. The replies
ask with no reserve and so get those last slots.

**Split texts.** A text over 2048 bytes goes as several messages, each
counted. If one part fails after others went out, the transport remembers
how many went out (in memory, for this process) and a retry of the same text
to the same member starts after them.

**Feedback.** A coordinator working in WeCom gets the summary as text
(:meth:`WeComTransport.send_text`); WeCom cannot edit a sent text, so the
status "edits" are not sent.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict

from bot.outbox_transport import (
    Deferred,
    OutboxContent,
    RateLimited,
    Rejected,
    SendResult,
    Sent,
    Transient,
    Unreachable,
)
from bot.pacing import PacingPolicy
from handlers.wecom import api as wecom_api
from handlers.wecom.message_split import TEXT_LIMIT_BYTES, split_text
from handlers.wecom.outbox_rendering import render_outbox_text
from handlers.wecom.pacing import BUSY_MINUTES, PER_MINUTE, MemberPacer
from storage.models import Channel

logger = logging.getLogger(__name__)

#: Per-minute slots of each member the outbox never uses: left to the replies to the member's own messages.
REPLY_RESERVE = 5
#: The overall rate (messages a second) and the busy minutes WeCom asks apps to avoid for scheduled pushes.
WECOM_PACING = PacingPolicy(rate=20.0, per_recipient_interval=0.0, busy_minutes=BUSY_MINUTES)
#: A summary is cut into texts of at most this many characters (3 UTF-8 bytes each at most: under 2048 bytes).
MAX_TEXT_LENGTH = TEXT_LIMIT_BYTES // 3

#: errcodes that mean the member cannot be messaged by this app (WeCom's 全局错误码).
UNREACHABLE_ERRCODES: frozenset[int] = frozenset(
    {
        40003,  # 无效的UserID
        46004,  # 指定的用户不存在
        50002,  # 成员不在权限范围
        60011,  # 指定的成员/部门/标签参数无权限
        60021,  # userid不在应用可见范围内
        60111,  # UserID不存在
        81013,  # UserID、部门ID、标签ID全部非法或无权限 (also the client's answer for ``invaliduser``)
        82001,  # 指定的成员/部门/标签全部无效
        92000,  # 成员不在应用可见范围之内
    }
)
#: Seconds a message waits when the member's other messages in flight fill the window.
IN_FLIGHT_WAIT_SECONDS = 2.0
#: How many partly sent texts are remembered.
_RESUME_MEMORY = 10_000


class WeComTransport:
    """Sends outbox messages to WeCom members with one :class:`~handlers.wecom.api.WeComApi`.

    Args:
        api: the app's client (built once from the settings, shared with the conversation).
        pacer: the member counter shared with the direct replies (one per process).
        reply_reserve: per-minute slots left to the replies (:data:`REPLY_RESERVE`).
        pacing: the sender's overall pacing and the busy minutes of scheduled reminders.
    """

    channel: str = Channel.WECOM.value
    max_text_length: int = MAX_TEXT_LENGTH

    def __init__(
        self,
        api: wecom_api.WeComApi,
        pacer: MemberPacer,
        *,
        reply_reserve: int = REPLY_RESERVE,
        pacing: PacingPolicy = WECOM_PACING,
    ) -> None:
        if not 0 <= reply_reserve < PER_MINUTE:
            raise ValueError(f"WeComTransport: reply_reserve {reply_reserve} must be 0 to {PER_MINUTE - 1}")
        self.api = api
        self.pacer = pacer
        self.reply_reserve = reply_reserve
        self.pacing = pacing
        #: (member, sha256 of the text) → parts already delivered, for a retry after a partial send.
        self._delivered_parts: OrderedDict[tuple[str, str], int] = OrderedDict()
        #: Member → parts sent but not yet answered by WeCom.
        self._in_flight: dict[str, int] = {}

    async def send(self, recipient: str, content: OutboxContent) -> SendResult:
        return await self._send_parts(recipient, render_outbox_text(content), reserve=self.reply_reserve)

    async def send_text(self, recipient: str, text: str) -> SendResult:
        """The coordinator's summary: counted like any message, without the reserve (it answers their request)."""
        return await self._send_parts(recipient, text, reserve=0)

    async def edit_text(self, recipient: str, message_id: str, text: str) -> SendResult:
        return Sent(message_id)  # WeCom cannot edit a sent text; the summary follows by send_text

    async def _send_parts(self, recipient: str, text: str, *, reserve: int) -> SendResult:
        parts = split_text(text)
        if not parts:
            return Rejected("the message is empty")
        key = (recipient, hashlib.sha256(text.encode("utf-8")).hexdigest())
        done = self._delivered_parts.get(key, 0)
        remaining = parts[done:]
        if len(remaining) > PER_MINUTE - reserve:
            return Rejected(
                f"the message needs {len(remaining)} WeCom messages; at most {PER_MINUTE - reserve} fit in a member's minute"
            )
        # Sends to this member still awaiting WeCom's answer count too: the sender runs
        # several sends at once, and each is recorded only once WeCom accepted it.
        in_flight = self._in_flight.get(recipient, 0)
        if in_flight + len(remaining) > PER_MINUTE - reserve:
            return Deferred(IN_FLIGHT_WAIT_SECONDS, "WeCom member limit: other messages to this member are under way")
        decision = self.pacer.decide(recipient, count=in_flight + len(remaining), reserve=reserve)
        if not decision.send_now:
            return Deferred(
                decision.wait_seconds,
                f"WeCom member limit (30 a minute, 1000 an hour): waiting {decision.wait_seconds:g} s",
            )
        self._in_flight[recipient] = in_flight + len(remaining)
        unanswered = len(remaining)
        try:
            first_id: str | None = None
            for index, part in enumerate(remaining, start=done):
                result = await self.api.send_text(recipient, part)
                if not isinstance(result, wecom_api.Succeeded):
                    if index > 0:
                        self._remember(key, index)
                    return _result_of(result, delivered=index, total=len(parts))
                # Counted from now as sent (the window's clock starts at WeCom's answer), no longer in flight.
                self.pacer.record_sent(recipient)
                self._land(recipient, 1)
                unanswered -= 1
                first_id = first_id or (result.message_ids[0] if result.message_ids else "")
            self._delivered_parts.pop(key, None)
            return Sent(first_id or "")
        finally:
            self._land(recipient, unanswered)

    def _land(self, recipient: str, parts: int) -> None:
        """``parts`` to ``recipient`` are no longer in flight (answered, or never to be sent)."""
        left = self._in_flight.get(recipient, 0) - parts
        if left > 0:
            self._in_flight[recipient] = left
        else:
            self._in_flight.pop(recipient, None)

    def _remember(self, key: tuple[str, str], delivered: int) -> None:
        self._delivered_parts[key] = delivered
        self._delivered_parts.move_to_end(key)
        while len(self._delivered_parts) > _RESUME_MEMORY:
            self._delivered_parts.popitem(last=False)


def _result_of(failure: wecom_api.Failure, *, delivered: int, total: int) -> SendResult:
    """The outbox's answer for a WeCom failure; a partial send names the parts that went out."""
    progress = f" ({delivered} of {total} parts delivered)" if delivered else ""
    match failure:
        case wecom_api.RateLimited(retry_after=wait):
            return RateLimited(wait)
        case wecom_api.Rejected(errcode=errcode) if errcode in UNREACHABLE_ERRCODES:
            return Unreachable(failure.detail + progress)
        case wecom_api.Rejected():
            return Rejected(failure.detail + progress)
        case wecom_api.Transient(detail=detail):
            return Transient(detail + progress)
    raise AssertionError(f"unknown WeCom failure {failure!r}")  # pragma: no cover
