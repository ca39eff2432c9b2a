"""Telegram handlers for /remind and /broadcast, with their confirmation buttons.

``/remind [campaign]`` shows how many units and respondents a reminder will
reach and asks to confirm; ``/broadcast [campaign] TEXT`` does the same for a
free text to every bound respondent. The confirmation message becomes the
status message the sender edits as it goes ("已发送 120/300"), followed by a
summary. Button data: ``rm:ok:<draft>`` confirm, ``rm:no:<draft>`` cancel,
``rm:c:<campaign>`` campaign picked for /remind.
"""

from __future__ import annotations

import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.coordination import NotCoordinatorError
from bot.core.campaigns import CampaignChoice
from bot.core.catalog import translate
from bot.core.coordinator_wording import (
    broadcast_choice_text,
    nobody_to_reach_text,
    outreach_preview_text,
    reminder_refused_text,
)
from bot.outreach import ConfirmOutcome, OutreachService, Preview, Redelivered, Refused, command_of
from handlers.telegram.coordinator import campaign_picker, checked
from handlers.telegram.delivery import acknowledge, deliver, edit
from handlers.telegram.outbox_rendering import MAX_BROADCAST_LENGTH
from handlers.telegram.rendering import OutgoingMessage
from handlers.telegram.respondent import channel_user, user_language
from storage.models import OutboxKind

logger = logging.getLogger(__name__)

CALLBACK_PATTERN = r"^rm:(ok|no|c):\d+$"
CONFIRM_PREFIX = "rm:ok:"
CANCEL_PREFIX = "rm:no:"
PICK_PREFIX = "rm:c:"

_CAMPAIGN_THEN_TEXT = re.compile(r"#?(\d+)(?:\s+(.*))?\Z", re.DOTALL)


def split_broadcast(text: str) -> tuple[int | None, str]:
    """``[campaign] TEXT`` → (campaign, text); the text keeps its line breaks."""
    stripped = text.strip()
    match = _CAMPAIGN_THEN_TEXT.match(stripped)
    if match is None:
        return None, stripped
    return int(match.group(1)), (match.group(2) or "").strip()


def command_rest(message: Message) -> str:
    """The message's text after its leading ``/command`` (or ``/command@bot``)."""
    text = message.text or ""
    for entity in message.entities:
        if entity.type == "bot_command" and entity.offset == 0:
            return text[entity.length :]
    return text.partition(" ")[2]


class ReminderHandlers:
    def __init__(self, *, outreach: OutreachService) -> None:
        self.outreach = outreach

    async def remind(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/remind [campaign]``: preview a reminder of the units not submitted."""
        campaign_id: int | None = None
        if context.args:
            argument = context.args[0].lstrip("#")
            if not argument.isdigit() or len(context.args) > 1:
                await self.reply(update, context, translate(user_language(update), "remind.usage_remind"))
                return
            campaign_id = int(argument)
        await self.preview(update, context, OutboxKind.MANUAL_REMINDER, campaign_id, None)

    async def broadcast(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/broadcast [campaign] TEXT``: preview a notice to every bound respondent."""
        language = user_language(update)
        message = update.effective_message
        assert message is not None
        campaign_id, body = split_broadcast(command_rest(message))
        if not body:
            await self.reply(update, context, translate(language, "remind.usage_broadcast"))
            return
        if len(body) > MAX_BROADCAST_LENGTH:
            await self.reply(
                update, context, translate(language, "remind.broadcast_too_long", length=len(body), limit=MAX_BROADCAST_LENGTH)
            )
            return
        await self.preview(update, context, OutboxKind.BROADCAST, campaign_id, body)

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Confirm, cancel, or a campaign picked for /remind."""
        query = update.callback_query
        assert query is not None and query.data is not None
        await acknowledge(query)
        _, action, number = query.data.split(":")
        if action == "c":
            await self.preview(update, context, OutboxKind.MANUAL_REMINDER, int(number), None)
        elif action == "no":
            await self.cancel(update, context, int(number))
        else:
            await self.confirm(update, context, int(number))

    # -- steps --------------------------------------------------------------------------------

    async def preview(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        kind: OutboxKind,
        campaign_id: int | None,
        body: str | None,
    ) -> None:
        language = user_language(update)
        result = await checked(
            update,
            context,
            self.outreach.prepare(
                user=channel_user(update),
                kind=kind,
                campaign_id=campaign_id,
                language=language,
                body=body,
                update_id=str(update.update_id),
            ),
            campaign_id=campaign_id,
        )
        if result is None or isinstance(result, Redelivered):
            return
        if isinstance(result, CampaignChoice):
            await self.offer_choice(update, context, kind, result)
        elif isinstance(result, Refused):
            await self.reply(update, context, reminder_refused_text(result.campaign, result.reason, language))
        elif result.batch_id is None:
            broadcast = kind is OutboxKind.BROADCAST
            await self.reply(update, context, nobody_to_reach_text(result.campaign, broadcast=broadcast, language=language))
        else:
            await self.ask_confirmation(update, context, result, language)

    async def ask_confirmation(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, preview: Preview, language: str
    ) -> None:
        audience = preview.audience
        text = outreach_preview_text(
            campaign=preview.campaign,
            broadcast=preview.kind is OutboxKind.BROADCAST,
            units=len(audience.units),
            respondents=len(audience.respondent_ids),
            units_without_respondents=audience.units_without_respondents,
            body=preview.body,
            quiet_hours=preview.quiet_hours,
            language=language,
        )
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(translate(language, "remind.confirm"), callback_data=f"{CONFIRM_PREFIX}{preview.batch_id}"),
                    InlineKeyboardButton(translate(language, "remind.cancel"), callback_data=f"{CANCEL_PREFIX}{preview.batch_id}"),
                ]
            ]
        )
        await deliver(context.bot, update.effective_chat.id, OutgoingMessage(text=text, keyboard=keyboard))  # type: ignore[union-attr]

    async def confirm(self, update: Update, context: ContextTypes.DEFAULT_TYPE, batch_id: int) -> None:
        language = user_language(update)
        query = update.callback_query
        pressed = query.message if query is not None and isinstance(query.message, Message) else None
        try:
            confirmation = await self.outreach.confirm(
                user=channel_user(update),
                batch_id=batch_id,
                status_chat_id=str(pressed.chat_id) if pressed is not None else None,
                status_message_id=str(pressed.message_id) if pressed is not None else None,
            )
        except NotCoordinatorError:
            await self.reply(update, context, translate(language, "coord.not_coordinator"))
            return
        outcome = confirmation.outcome
        campaign = confirmation.campaign
        if outcome is ConfirmOutcome.STARTED:
            return  # the sender edits the message into the status message from here on
        if outcome is ConfirmOutcome.ALREADY_HANDLED:
            await self.reply(update, context, translate(language, "remind.already_handled"))
            return
        if outcome is ConfirmOutcome.NOT_FOUND or campaign is None:
            await self.reply(update, context, translate(language, "tg.unknown_button"))
            return
        if outcome is ConfirmOutcome.NOBODY:
            broadcast = confirmation.kind is OutboxKind.BROADCAST
            text = nobody_to_reach_text(campaign, broadcast=broadcast, language=language)
        elif outcome is ConfirmOutcome.EXPIRED:
            text = translate(language, "remind.expired", command=command_of(confirmation.kind or OutboxKind.MANUAL_REMINDER))
        else:
            assert confirmation.refusal is not None, "a refused confirmation says why"
            text = reminder_refused_text(campaign, confirmation.refusal, language)
        await self.replace(update, context, pressed, text)

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE, batch_id: int) -> None:
        language = user_language(update)
        query = update.callback_query
        pressed = query.message if query is not None and isinstance(query.message, Message) else None
        try:
            cancelled = await self.outreach.cancel(user=channel_user(update), batch_id=batch_id)
        except NotCoordinatorError:
            await self.reply(update, context, translate(language, "coord.not_coordinator"))
            return
        if cancelled:
            await self.replace(update, context, pressed, translate(language, "remind.cancelled"))
        else:
            await self.reply(update, context, translate(language, "remind.already_handled"))

    async def offer_choice(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, kind: OutboxKind, choice: CampaignChoice
    ) -> None:
        language = user_language(update)
        if not choice.campaigns:
            await self.reply(update, context, translate(language, "coord.no_campaigns"))
            return
        if kind is OutboxKind.BROADCAST:
            await self.reply(update, context, broadcast_choice_text(choice.campaigns, language))
            return
        await deliver(context.bot, update.effective_chat.id, campaign_picker(choice, PICK_PREFIX, language))  # type: ignore[union-attr]

    async def replace(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, pressed: Message | None, text: str
    ) -> None:
        """Put ``text`` in place of the confirmation (its buttons go), or send it if that fails."""
        if pressed is not None:
            try:
                await edit(context.bot, pressed, OutgoingMessage(text=text))
                return
            except BadRequest as error:
                logger.debug("could not edit the confirmation %s: %s", pressed.message_id, error)
        await self.reply(update, context, text)

    async def reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
        await deliver(context.bot, update.effective_chat.id, OutgoingMessage(text=text))  # type: ignore[union-attr]
