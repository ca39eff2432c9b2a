"""Turning an :class:`~bot.core.outcome.Outcome` into Telegram messages and keyboards.

Pure: :func:`bot.core.reply.render` decides what to say and which controls
to offer; this module only translates that neutral reply into
:class:`OutgoingMessage` values (controls become inline buttons whose
callback data encode the control's action). The handlers send them.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core import reply as neutral
from bot.core.events import Prompt
from bot.core.outcome import Outcome
from bot.core.reply import DATETIME_FORMAT, Control, ReplyMessage, utc_offset
from handlers.telegram import callback_data

__all__ = ["DATETIME_FORMAT", "MAX_MESSAGE_LENGTH", "OutgoingMessage", "render", "telegram_message", "utc_offset"]

#: Telegram's limit on a message's text.
MAX_MESSAGE_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    text: str
    keyboard: InlineKeyboardMarkup | None = None
    #: Set on a question's message, so a button press on it can edit it in place.
    prompt: Prompt | None = None


def render(outcome: Outcome) -> list[OutgoingMessage]:
    """The messages to send for ``outcome``, in order."""
    return [telegram_message(message) for message in neutral.render(outcome, max_length=MAX_MESSAGE_LENGTH).messages]


def telegram_message(message: ReplyMessage) -> OutgoingMessage:
    """One neutral message as Telegram shows it: ⚠️ before a warning, controls as inline buttons."""
    text = f"⚠️ {message.text}" if message.warning else message.text
    keyboard = InlineKeyboardMarkup([[button(control) for control in row] for row in message.rows]) if message.rows else None
    return OutgoingMessage(text=text, keyboard=keyboard, prompt=message.prompt)


def button(control: Control) -> InlineKeyboardButton:
    """A control as an inline button; a selected one is marked ✅."""
    label = f"✅ {control.label}" if control.selected else control.label
    return InlineKeyboardButton(label, callback_data=callback_data.encode(control.action))
