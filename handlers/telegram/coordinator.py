"""Telegram handlers for coordinators: /campaigns, /status, /export.

Each command is checked on every call by :class:`~bot.coordination.CoordinatorService`;
anyone else gets a clear refusal. With one open campaign the campaign
argument is optional, otherwise the bot offers a button per campaign.
"""

from __future__ import annotations

import functools
import logging
import tempfile
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.coordination import CampaignNotFoundError, CoordinatorService, NotCoordinatorError
from bot.core.campaigns import CampaignChoice, CampaignSummary
from bot.core.catalog import translate
from bot.core.coordinator_wording import (
    campaign_label,
    campaign_list_text,
    choose_campaign_text,
    export_book_caption,
    export_bundle_caption,
    export_caption,
    status_blocks,
)
from bot.core.wording import pack_messages
from handlers.telegram.delivery import acknowledge, deliver, with_retries
from handlers.telegram.rendering import MAX_MESSAGE_LENGTH, OutgoingMessage
from handlers.telegram.respondent import channel_user, user_language

logger = logging.getLogger(__name__)

#: Button data prefixes of the coordinator's campaign pickers.
STATUS_PREFIX = "st:"
EXPORT_PREFIX = "ex:"
CALLBACK_PATTERN = r"^(st|ex):\d+$"

T = TypeVar("T")


class CoordinatorHandlers:
    def __init__(self, *, coordination: CoordinatorService) -> None:
        self.coordination = coordination

    async def campaigns(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/campaigns``: every campaign with its deadline and progress."""
        language = user_language(update)
        try:
            campaigns = await self.coordination.campaigns(user=channel_user(update))
        except NotCoordinatorError:
            await self.reply(update, context, translate(language, "coord.not_coordinator"))
            return
        await self.reply(update, context, campaign_list_text(campaigns, language))

    async def status(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/status [campaign]``: counts, the units not submitted, overdue and unreachable ones."""
        campaign_id = await self.campaign_argument(update, context, "status")
        if campaign_id is not False:
            await self.show_status(update, context, campaign_id)

    async def status_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A campaign picked for /status or /export from the offered buttons."""
        query = update.callback_query
        assert query is not None and query.data is not None
        await acknowledge(query)
        prefix, _, number = query.data.partition(":")
        if prefix + ":" == STATUS_PREFIX:
            await self.show_status(update, context, int(number))
        else:
            await self.export_campaign(update, context, int(number))

    async def export(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/export [campaign]``: the compiled workbook (and a zip with the uploaded files)."""
        campaign_id = await self.campaign_argument(update, context, "export")
        if campaign_id is not False:
            await self.export_campaign(update, context, campaign_id)

    # -- steps --------------------------------------------------------------------------

    async def show_status(self, update: Update, context: ContextTypes.DEFAULT_TYPE, campaign_id: int | None) -> None:
        language = user_language(update)
        report = await checked(
            update, context, self.coordination.status(user=channel_user(update), campaign_id=campaign_id), campaign_id=campaign_id
        )
        if report is None:
            return
        if isinstance(report, CampaignChoice):
            await self.offer_choice(update, context, report, STATUS_PREFIX)
            return
        for text in pack_messages(status_blocks(report, language), limit=MAX_MESSAGE_LENGTH):
            await self.reply(update, context, text)

    async def export_campaign(self, update: Update, context: ContextTypes.DEFAULT_TYPE, campaign_id: int | None) -> None:
        picked = await checked(
            update,
            context,
            self.coordination.pick_campaign(user=channel_user(update), command="export", campaign_id=campaign_id),
            campaign_id=campaign_id,
        )
        if picked is None:
            return
        if isinstance(picked, CampaignChoice):
            await self.offer_choice(update, context, picked, EXPORT_PREFIX)
            return
        await self.send_export(update, context, picked)

    async def send_export(self, update: Update, context: ContextTypes.DEFAULT_TYPE, campaign: CampaignSummary) -> None:
        """Build the workbook from the current data and send it (and the zip and the report book, if any) as documents."""
        language = user_language(update)
        chat_id = update.effective_chat.id  # type: ignore[union-attr]
        await self.reply(update, context, translate(language, "coord.exporting"))
        with tempfile.TemporaryDirectory(prefix="surveybot-export-") as directory:
            result = await checked(
                update,
                context,
                self.coordination.export(user=channel_user(update), campaign_id=campaign.id, directory=Path(directory)),
                campaign_id=campaign.id,
            )
            if result is None:
                return
            caption = export_caption(campaign, submitted=result.submitted, units=result.units, language=language)
            files = [(result.workbook, caption)]
            if result.bundle is not None:
                files.append((result.bundle, export_bundle_caption(attachments=result.attachments, language=language)))
            if result.report_book is not None:
                files.append((result.report_book, export_book_caption(submitted=result.submitted, language=language)))
            for path, text in files:
                send = functools.partial(
                    context.bot.send_document, chat_id=chat_id, document=path.read_bytes(), filename=path.name, caption=text
                )
                await with_retries(send, what=f"sendDocument {path.name}")

    async def campaign_argument(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, command: str
    ) -> int | None | bool:
        """The campaign number given to a command, ``None`` if none, ``False`` if malformed (answered)."""
        if not context.args:
            return None
        argument = context.args[0].lstrip("#")
        if not argument.isdigit():
            await self.reply(update, context, translate(user_language(update), "coord.usage", command=command))
            return False
        return int(argument)

    async def offer_choice(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, choice: CampaignChoice, prefix: str
    ) -> None:
        language = user_language(update)
        if not choice.campaigns:
            await self.reply(update, context, translate(language, "coord.no_campaigns"))
            return
        await deliver(context.bot, update.effective_chat.id, campaign_picker(choice, prefix, language))  # type: ignore[union-attr]

    async def reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
        await deliver(context.bot, update.effective_chat.id, OutgoingMessage(text=text))  # type: ignore[union-attr]


async def checked(update: Update, context: ContextTypes.DEFAULT_TYPE, call: Awaitable[T], *, campaign_id: int | None) -> T | None:
    """The result of a coordinator call, or ``None`` after telling the asker why not."""
    language = user_language(update)
    try:
        return await call
    except NotCoordinatorError:
        text = translate(language, "coord.not_coordinator")
    except CampaignNotFoundError:
        text = translate(language, "coord.unknown_campaign", id=campaign_id)
    await deliver(context.bot, update.effective_chat.id, OutgoingMessage(text=text))  # type: ignore[union-attr]
    return None


def campaign_picker(choice: CampaignChoice, prefix: str, language: str) -> OutgoingMessage:
    """"Choose a campaign" with one button per campaign, whose data is ``prefix`` + its id."""
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(campaign_label(item.campaign), callback_data=f"{prefix}{item.campaign.id}")]
            for item in choice.campaigns
        ]
    )
    return OutgoingMessage(text=choose_campaign_text(language), keyboard=keyboard)
