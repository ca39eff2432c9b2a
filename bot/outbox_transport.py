"""What a channel provides to the outbox: a transport that sends one message and says how it went.

The channel-neutral :class:`~bot.outbox_sender.OutboxSender` owns claiming,
leases, retries, rate-limit waits and the coordinator's progress reports; a
:class:`Transport` only knows its channel: how fast it may send
(:class:`~bot.pacing.PacingPolicy`), how to render and send one
:data:`OutboxContent` to one account, and how to send or edit a plain text in
a coordinator's chat. Every send answers one :data:`SendResult`; a transport
translates its provider's errors into these and raises only on a bug.

=================  =====================================================  ==========================
result             meaning                                                the row
=================  =====================================================  ==========================
:class:`Sent`      delivered; the provider's message id                   SENT
:class:`RateLimited`  slow down: every send waits ``retry_after`` s        sent again after the wait
:class:`Unreachable`  the account blocked us or is gone                   UNREACHABLE (+ respondent)
:class:`Rejected`  this message can never be sent as it is                FAILED at once
:class:`Transient` network, time-out, server error: may work later        PENDING with backoff
:class:`Deferred`  not sent: this recipient must wait ``retry_after`` s   PENDING until then (no attempt counted)
=================  =====================================================  ==========================

:class:`Deferred` is for a channel whose limits are per recipient and
counted by the transport itself (WeCom drops messages above 30 a minute per
member *silently*): the transport refuses to send before the recipient's
window has room, and the row waits without holding up other recipients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.outbox_compose import BroadcastContent, ReminderContent
from bot.pacing import PacingPolicy

#: What one recipient gets: a reminder or a broadcast, not yet rendered.
OutboxContent = ReminderContent | BroadcastContent


@dataclass(frozen=True, slots=True)
class Sent:
    """Delivered; the provider's id of the new message (a string on every channel)."""

    provider_message_id: str


@dataclass(frozen=True, slots=True)
class RateLimited:
    """The provider asks to wait ``retry_after`` seconds before sending anything more."""

    retry_after: float


@dataclass(frozen=True, slots=True)
class Unreachable:
    """The account cannot receive messages (blocked the bot, deactivated, left)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """A permanent failure for this message: sending it again would fail the same way."""

    reason: str


@dataclass(frozen=True, slots=True)
class Transient:
    """A failure that may pass (network, time-out, the provider's server error)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Deferred:
    """Nothing was sent: this recipient may get no message for ``retry_after`` seconds (the channel's own count).

    Unlike :class:`RateLimited` it holds back only this row, not the channel.
    """

    retry_after: float
    reason: str


SendResult = Sent | RateLimited | Unreachable | Rejected | Transient | Deferred


class Transport(Protocol):
    """One channel's way out, as the outbox sender uses it."""

    #: The channel it serves (``Respondent.channel`` of the rows it sends, ``OutboxBatch.requested_channel``
    #: of the batches whose feedback it carries).
    @property
    def channel(self) -> str: ...

    #: The channel's limits.
    @property
    def pacing(self) -> PacingPolicy: ...

    #: The longest text one message may carry (the summary is split to fit).
    @property
    def max_text_length(self) -> int: ...

    async def send(self, recipient: str, content: OutboxContent) -> SendResult:
        """Render ``content`` for this channel and send it to the account ``recipient`` (its external id)."""
        ...

    async def send_text(self, recipient: str, text: str) -> SendResult:
        """Send a plain text (the coordinator's summary) to ``recipient``."""
        ...

    async def edit_text(self, recipient: str, message_id: str, text: str) -> SendResult:
        """Replace the text of ``recipient``'s message ``message_id`` (the coordinator's status message).

        An edit that changes nothing is :class:`Sent`.
        """
        ...
