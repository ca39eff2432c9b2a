"""Sending and editing messages with the retries the Bot API asks for, and acknowledging presses.

``RetryAfter`` (HTTP 429) waits the time Telegram names and sends again;
network errors and time-outs are retried with a short backoff. Anything else
(a bad request, a blocked bot) is raised to the caller.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from telegram import Bot, CallbackQuery, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from handlers.telegram.rendering import OutgoingMessage

logger = logging.getLogger(__name__)

#: How often one message is tried before the error is raised.
MAX_ATTEMPTS = 4
#: Seconds to wait after a network error, per attempt.
BACKOFF_SECONDS = (0.5, 1.0, 2.0)
#: A RetryAfter longer than this is not waited for here (the caller decides).
MAX_RETRY_AFTER_SECONDS = 60.0

ResultT = TypeVar("ResultT")


def _seconds(retry_after: int | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)


async def with_retries(call: Callable[[], Awaitable[ResultT]], *, what: str) -> ResultT:
    """Run ``call``, retrying Telegram's 429 and transient network failures."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return await call()
        except RetryAfter as error:
            wait = _seconds(error.retry_after)
            if attempt == MAX_ATTEMPTS or wait > MAX_RETRY_AFTER_SECONDS:
                raise
            logger.info("%s: flood control, waiting %.1f s (attempt %d)", what, wait, attempt)
            await asyncio.sleep(wait)
        except (BadRequest, Forbidden):
            raise
        except (TimedOut, NetworkError) as error:
            if attempt == MAX_ATTEMPTS:
                raise
            wait = BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS)) - 1]
            logger.info("%s: %s, retrying in %.1f s (attempt %d)", what, error, wait, attempt)
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")


async def deliver(bot: Bot, chat_id: int, message: OutgoingMessage) -> Message:
    """Send ``message`` to ``chat_id``."""
    return await with_retries(
        lambda: bot.send_message(chat_id=chat_id, text=message.text, reply_markup=message.keyboard),
        what=f"sendMessage to {chat_id}",
    )


async def edit(bot: Bot, target: Message, message: OutgoingMessage) -> None:
    """Replace the text and buttons of ``target`` (a question being toggled)."""
    try:
        await with_retries(
            lambda: bot.edit_message_text(
                chat_id=target.chat_id,
                message_id=target.message_id,
                text=message.text,
                reply_markup=message.keyboard,
            ),
            what=f"editMessageText {target.message_id}",
        )
    except BadRequest as error:
        if "not modified" not in str(error).lower():
            raise


async def acknowledge(query: CallbackQuery) -> None:
    """Tell Telegram a button press was received (the app shows a spinner until then).

    Best effort: the acknowledgement only stops the spinner, and the press must
    count without it. Telegram refuses it for a press it considers too old
    ("query is too old and response timeout expired", e.g. pressed while the
    bot was down), and the call can fail like any other. Every button handler
    calls this instead of ``query.answer()``.
    """
    try:
        await query.answer()
    except BadRequest as error:
        logger.info("could not acknowledge button press %s: %s", query.id, error)
    except TelegramError as error:
        logger.warning("could not acknowledge button press %s: %s", query.id, error)
