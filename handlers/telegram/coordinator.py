"""Telegram handlers for coordinators: /campaigns, /status, /export.

Each command is checked on every call by :class:`~bot.coordination.CoordinatorService`;
anyone else gets a clear refusal. With one open campaign the campaign
argument is optional, otherwise the bot offers a button per campaign.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.coordination import (
    CampaignChoice,
    CampaignNotFoundError,
    CampaignStatusReport,
    CoordinatorService,
    NotCoordinatorError,
)
from bot.core.catalog import translate
from bot.core.wording import pack_messages
from handlers.telegram.delivery import acknowledge, deliver, with_retries
from handlers.telegram.rendering import DATETIME_FORMAT, MAX_MESSAGE_LENGTH, OutgoingMessage
from handlers.telegram.respondent import channel_user, user_language
from storage.campaigns import CampaignProgress
from storage.models import Campaign, CampaignStatus, ResponseStatus

logger = logging.getLogger(__name__)

#: Button data prefixes of the coordinator's campaign pickers.
STATUS_PREFIX = "st:"
EXPORT_PREFIX = "ex:"
CALLBACK_PATTERN = r"^(st|ex):\d+$"

T = TypeVar("T")


def local_deadline(campaign: Campaign) -> str:
    return campaign.deadline.astimezone(ZoneInfo(campaign.timezone)).strftime(DATETIME_FORMAT)


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
        if not campaigns:
            await self.reply(update, context, translate(language, "coord.no_campaigns"))
            return
        lines = [translate(language, "coord.campaigns_header")]
        lines.extend(campaign_line(progress, language) for progress in campaigns)
        await self.reply(update, context, "\n".join(lines))

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

    async def send_export(self, update: Update, context: ContextTypes.DEFAULT_TYPE, campaign: Campaign) -> None:
        """Build the workbook from the current data and send it (and the zip, if any) as documents."""
        language = user_language(update)
        chat_id = update.effective_chat.id  # type: ignore[union-attr]
        await self.reply(update, context, translate(language, "coord.exporting"))
        with tempfile.TemporaryDirectory(prefix="surveybot-export-") as directory:
            result = await self.coordination.export(
                user=channel_user(update), campaign_id=campaign.id, directory=Path(directory)
            )
            caption = translate(
                language,
                "coord.export_caption",
                id=campaign.id,
                title=campaign.title,
                submitted=result.submitted,
                units=result.units,
            )
            files = [(result.workbook, caption)]
            if result.bundle is not None:
                files.append((result.bundle, translate(language, "coord.export_zip_caption", files=result.attachments)))
            for path, text in files:
                await with_retries(
                    lambda path=path, text=text: context.bot.send_document(
                        chat_id=chat_id, document=path.read_bytes(), filename=path.name, caption=text
                    ),
                    what=f"sendDocument {path.name}",
                )

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
            [InlineKeyboardButton(f"#{p.campaign.id} {p.campaign.title}"[:60], callback_data=f"{prefix}{p.campaign.id}")]
            for p in choice.campaigns
        ]
    )
    return OutgoingMessage(text=translate(language, "coord.choose_campaign"), keyboard=keyboard)


def campaign_line(progress: CampaignProgress, language: str) -> str:
    campaign = progress.campaign
    state_key = "coord.state_open" if campaign.status is CampaignStatus.OPEN else "coord.state_closed"
    return translate(
        language,
        "coord.campaign_line",
        id=campaign.id,
        title=campaign.title,
        deadline=local_deadline(campaign),
        submitted=progress.submitted,
        units=progress.units,
        state=translate(language, state_key),
    )


def status_blocks(report: CampaignStatusReport, language: str) -> list[str]:
    campaign = report.campaign
    blocks = [
        translate(
            language,
            "coord.status_header",
            id=campaign.id,
            title=campaign.title,
            deadline=local_deadline(campaign),
            overdue=translate(language, "coord.overdue") if report.overdue else "",
        )
        + "\n"
        + translate(
            language,
            "coord.status_counts",
            submitted=report.count(ResponseStatus.SUBMITTED),
            in_progress=report.count(ResponseStatus.IN_PROGRESS),
            not_started=report.count(ResponseStatus.NOT_STARTED),
            units=len(report.units),
        )
    ]
    missing = report.not_submitted
    if missing:
        key = "coord.missing_overdue" if report.overdue else "coord.missing"
        names = [
            translate(language, f"coord.unit_{unit.status.value}", name=unit.name)
            + (" ⚠️" if report.overdue else "")
            for unit in missing
        ]
        blocks.append(translate(language, key, count=len(missing)) + "\n" + "\n".join(names))
    else:
        blocks.append(translate(language, "coord.all_submitted"))
    if report.unreachable:
        people = [f"{unit}：{person}" for unit, person in report.unreachable]
        blocks.append(translate(language, "coord.unreachable", count=len(people)) + "\n" + "\n".join(people))
    return blocks
