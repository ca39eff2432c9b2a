"""Telegram messages of the outbox: a reminder or a broadcast as one recipient gets it.

Pure: builds :class:`~handlers.telegram.rendering.OutgoingMessage` values from
the channel-neutral content of :mod:`bot.outbox_compose`. Every text comes
from the catalogs. The coordinator's status and summary texts are neutral:
:mod:`bot.outbox_feedback`.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.core.actions import Resume
from bot.core.catalog import translate
from bot.core.reply import Control, ControlKind
from bot.outbox_compose import BroadcastContent, ReminderContent
from handlers.telegram.rendering import DATETIME_FORMAT, MAX_MESSAGE_LENGTH, OutgoingMessage, button, utc_offset

#: The longest broadcast text accepted (room is left for the header).
MAX_BROADCAST_LENGTH = MAX_MESSAGE_LENGTH - 300


def render_outbox(content: ReminderContent | BroadcastContent) -> OutgoingMessage:
    """The message one recipient gets."""
    language = content.language
    if isinstance(content, BroadcastContent):
        return OutgoingMessage(
            text=translate(language, "remind.broadcast", campaign=content.campaign_title, text=content.body)
        )
    units = "\n".join(
        translate(language, "remind.unit_progress", unit=line.unit, answered=line.answered, total=line.total)
        for line in content.units
    )
    text = translate(
        language,
        "remind.text",
        survey=content.survey_title,
        campaign=content.campaign_title,
        deadline=content.deadline.strftime(DATETIME_FORMAT),
        zone=utc_offset(content.deadline),
        units=units,
    )
    resume = Control(ControlKind.RESUME, translate(language, "remind.resume"), Resume(campaign_id=content.campaign_id))
    keyboard = InlineKeyboardMarkup([[button(resume)]])
    return OutgoingMessage(text=text[:MAX_MESSAGE_LENGTH], keyboard=keyboard)
