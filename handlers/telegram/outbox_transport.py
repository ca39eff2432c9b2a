"""The outbox's Telegram transport: one reminder or broadcast through the Bot API, and the coordinator's feedback.

The channel-neutral :class:`~bot.outbox_sender.OutboxSender` does the
claiming, pacing, retrying and reporting; this module renders a message with
:mod:`handlers.telegram.outbox_rendering`, sends it once and translates what
Telegram answered:

=====================================  ===============================================
Telegram                               :data:`~bot.outbox_transport.SendResult`
=====================================  ===============================================
ok                                     ``Sent`` (the message id as a string)
429 ``RetryAfter``                     ``RateLimited`` (``retry_after`` seconds)
403 ``Forbidden`` (blocked, deleted)   ``Unreachable``
400 ``BadRequest``                     ``Rejected`` (the same request fails again)
any other error (network, 5xx...)      ``Transient``
=====================================  ===============================================

Pacing: 28 messages a second overall (Telegram allows about 30; the rest is
left for the bot's replies and the status messages) and 1.1 s between two
messages to one chat (Telegram allows one a second).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta

from telegram import Bot, Message
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.outbox_transport import OutboxContent, RateLimited, Rejected, SendResult, Sent, Transient, Unreachable
from bot.pacing import PacingPolicy
from handlers.telegram.outbox_rendering import render_outbox
from handlers.telegram.rendering import MAX_MESSAGE_LENGTH
from storage.models import Channel

logger = logging.getLogger(__name__)

#: Telegram's limits, with room for the bot's other traffic.
TELEGRAM_PACING = PacingPolicy(rate=28.0, per_recipient_interval=1.1)


def retry_after_seconds(error: RetryAfter) -> float:
    """``error.retry_after`` in seconds (an int or a timedelta, depending on PTB's settings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def chat_id_of(recipient: str) -> int | None:
    """The Telegram chat id an external id stands for; None if it is not one."""
    return int(recipient) if recipient.lstrip("-").isdigit() else None


class TelegramTransport:
    """Sends outbox messages and the coordinator's feedback with one :class:`telegram.Bot`."""

    channel: str = Channel.TELEGRAM.value
    max_text_length: int = MAX_MESSAGE_LENGTH

    def __init__(self, bot: Bot, *, pacing: PacingPolicy = TELEGRAM_PACING) -> None:
        self.bot = bot
        self.pacing = pacing

    async def send(self, recipient: str, content: OutboxContent) -> SendResult:
        message = render_outbox(content)
        return await self._call(
            recipient, lambda chat_id: self.bot.send_message(chat_id=chat_id, text=message.text, reply_markup=message.keyboard)
        )

    async def send_text(self, recipient: str, text: str) -> SendResult:
        return await self._call(recipient, lambda chat_id: self.bot.send_message(chat_id=chat_id, text=text))

    async def edit_text(self, recipient: str, message_id: str, text: str) -> SendResult:
        if not message_id.isdigit():
            return Rejected(f"{message_id!r} is not a Telegram message id")

        async def edit(chat_id: int) -> Message | bool:
            try:
                return await self.bot.edit_message_text(chat_id=chat_id, message_id=int(message_id), text=text)
            except BadRequest as error:
                if "not modified" in str(error).lower():
                    return True  # it already shows this text
                raise

        return await self._call(recipient, edit, sent_id=message_id)

    async def _call(
        self, recipient: str, call: Callable[[int], Awaitable[Message | bool]], *, sent_id: str | None = None
    ) -> SendResult:
        chat_id = chat_id_of(recipient)
        if chat_id is None:
            return Rejected(f"{recipient!r} is not a Telegram chat id")
        try:
            answer = await call(chat_id)
        except RetryAfter as error:
            return RateLimited(retry_after_seconds(error))
        except Forbidden as error:
            return Unreachable(error.message)
        except BadRequest as error:
            return Rejected(error.message)
        except TelegramError as error:  # network, time-out, server errors
            return Transient(f"{type(error).__name__}: {error.message}")
        if isinstance(answer, Message):
            return Sent(str(answer.message_id))
        return Sent(sent_id or "")
