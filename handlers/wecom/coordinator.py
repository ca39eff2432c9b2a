"""Coordinator commands in WeCom: 状态, 导出, 提醒 (preview, then 确认/取消), 登录.

The same services as Telegram's coordinator handlers
(:mod:`handlers.telegram.coordinator`, :mod:`handlers.telegram.reminders`):
:class:`~bot.coordination.CoordinatorService` checks the account on every
call, :class:`~bot.outreach.OutreachService` prepares a draft reminder and
confirms it once, :class:`~bot.console_access.ConsoleAccess` issues a
one-time console sign-in link. WeCom's app chat has no buttons every client
shows, so a campaign is named by its number (``状态 3``) and a reminder is
confirmed by typing ``确认 <draft>``: the draft's number is in the preview, so
nothing is remembered between messages and a restart loses nothing.

The workbook is uploaded with media/upload and sent as a file message.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

from bot.console_access import DEFAULT_LINK_TTL, ConsoleAccess, NotCoordinatorAccountError, login_url
from bot.coordination import CampaignNotFoundError, CoordinatorService, NotCoordinatorError
from bot.core.campaigns import CampaignChoice, CampaignSummary
from bot.core.catalog import translate
from bot.core.coordinator_wording import (
    campaign_list_text,
    export_book_caption,
    export_bundle_caption,
    export_caption,
    nobody_to_reach_text,
    outreach_preview_text,
    reminder_refused_text,
    status_blocks,
)
from bot.outreach import ConfirmOutcome, OutreachService, Redelivered, Refused, command_of
from bot.service import ChannelUser
from handlers.wecom.replies import WeComReplies
from handlers.wecom.words import Coordinate, CoordinatorCommand
from storage.models import OutboxKind

logger = logging.getLogger(__name__)

CHANNEL = "wecom"
#: What each command is typed as in the usage hints.
COMMAND_WORDS: dict[CoordinatorCommand, str] = {
    CoordinatorCommand.STATUS: "状态",
    CoordinatorCommand.EXPORT: "导出",
    CoordinatorCommand.REMIND: "提醒",
    CoordinatorCommand.CONFIRM: "确认",
    CoordinatorCommand.CANCEL: "取消",
}

T = TypeVar("T")


class WeComCoordinator:
    def __init__(
        self,
        *,
        coordination: CoordinatorService,
        outreach: OutreachService,
        access: ConsoleAccess,
        replies: WeComReplies,
        public_url: str | None,
    ) -> None:
        self.coordination = coordination
        self.outreach = outreach
        self.access = access
        self.replies = replies
        self.public_url = public_url

    async def handle(self, user_id: str, command: Coordinate, *, update_id: str, language: str) -> None:
        """Run one coordinator command for ``user_id``; anyone else is told it is for coordinators."""
        user = ChannelUser(channel=CHANNEL, external_id=user_id)
        if command.malformed:
            word = COMMAND_WORDS.get(command.command, command.command.value)
            await self.say(user_id, translate(language, "wecom.campaign_pick", command=word, example=3))
            return
        match command.command:
            case CoordinatorCommand.STATUS:
                await self.status(user, command.argument, language)
            case CoordinatorCommand.EXPORT:
                await self.export(user, command.argument, language)
            case CoordinatorCommand.REMIND:
                await self.remind(user, command.argument, language, update_id=update_id)
            case CoordinatorCommand.CONFIRM | CoordinatorCommand.CANCEL:
                if command.argument is None:
                    word = COMMAND_WORDS[command.command]
                    await self.say(user_id, translate(language, "wecom.campaign_pick", command=word, example=12))
                elif command.command is CoordinatorCommand.CONFIRM:
                    await self.confirm(user, command.argument, language)
                else:
                    await self.cancel(user, command.argument, language)
            case CoordinatorCommand.DASHBOARD:
                await self.dashboard(user, language)

    # -- commands -------------------------------------------------------------------------

    async def status(self, user: ChannelUser, campaign_id: int | None, language: str) -> None:
        report = await self.checked(user, self.coordination.status(user=user, campaign_id=campaign_id), campaign_id, language)
        if report is None:
            return
        if isinstance(report, CampaignChoice):
            await self.offer_choice(user, report, CoordinatorCommand.STATUS, language)
            return
        await self.say(user.external_id, "\n\n".join(status_blocks(report, language)))

    async def export(self, user: ChannelUser, campaign_id: int | None, language: str) -> None:
        picked = await self.checked(
            user, self.coordination.pick_campaign(user=user, command="export", campaign_id=campaign_id), campaign_id, language
        )
        if picked is None:
            return
        if isinstance(picked, CampaignChoice):
            await self.offer_choice(user, picked, CoordinatorCommand.EXPORT, language)
            return
        await self.send_export(user, picked, language)

    async def send_export(self, user: ChannelUser, campaign: CampaignSummary, language: str) -> None:
        """Build the workbook from the current data and send it (and the zip and the report book, if any) as files."""
        await self.say(user.external_id, translate(language, "coord.exporting"))
        with tempfile.TemporaryDirectory(prefix="surveybot-export-") as directory:
            result = await self.checked(
                user,
                self.coordination.export(user=user, campaign_id=campaign.id, directory=Path(directory)),
                campaign.id,
                language,
            )
            if result is None:
                return
            files = [
                (result.workbook, export_caption(campaign, submitted=result.submitted, units=result.units, language=language))
            ]
            if result.bundle is not None:
                files.append((result.bundle, export_bundle_caption(attachments=result.attachments, language=language)))
            if result.report_book is not None:
                files.append((result.report_book, export_book_caption(submitted=result.submitted, language=language)))
            for path, caption in files:
                await self.say(user.external_id, caption)
                await self.replies.send_file(user.external_id, path)

    async def remind(self, user: ChannelUser, campaign_id: int | None, language: str, *, update_id: str) -> None:
        """Preview a reminder of the units not submitted; it goes out once confirmed with ``确认 <draft>``."""
        kind = OutboxKind.MANUAL_REMINDER
        result = await self.checked(
            user,
            self.outreach.prepare(user=user, kind=kind, campaign_id=campaign_id, language=language, update_id=update_id),
            campaign_id,
            language,
        )
        if result is None or isinstance(result, Redelivered):
            return
        if isinstance(result, CampaignChoice):
            await self.offer_choice(user, result, CoordinatorCommand.REMIND, language)
        elif isinstance(result, Refused):
            await self.say(user.external_id, reminder_refused_text(result.campaign, result.reason, language))
        elif result.batch_id is None:
            await self.say(user.external_id, nobody_to_reach_text(result.campaign, broadcast=False, language=language))
        else:
            audience = result.audience
            text = outreach_preview_text(
                campaign=result.campaign,
                broadcast=False,
                units=len(audience.units),
                respondents=len(audience.respondent_ids),
                units_without_respondents=audience.units_without_respondents,
                body=None,
                quiet_hours=result.quiet_hours,
                language=language,
            )
            hint = translate(language, "wecom.remind_confirm_hint", batch=result.batch_id)
            await self.say(user.external_id, f"{text}\n{hint}")

    async def confirm(self, user: ChannelUser, batch_id: int, language: str) -> None:
        try:
            confirmation = await self.outreach.confirm(user=user, batch_id=batch_id, status_chat_id=None, status_message_id=None)
        except NotCoordinatorError:
            await self.say(user.external_id, translate(language, "coord.not_coordinator"))
            return
        outcome, campaign = confirmation.outcome, confirmation.campaign
        if outcome is ConfirmOutcome.STARTED:
            text = translate(language, "wecom.remind_started")
        elif outcome is ConfirmOutcome.ALREADY_HANDLED:
            text = translate(language, "remind.already_handled")
        elif outcome is ConfirmOutcome.NOT_FOUND or campaign is None:
            text = translate(language, "remind.expired", command=COMMAND_WORDS[CoordinatorCommand.REMIND])
        elif outcome is ConfirmOutcome.NOBODY:
            text = nobody_to_reach_text(campaign, broadcast=confirmation.kind is OutboxKind.BROADCAST, language=language)
        elif outcome is ConfirmOutcome.EXPIRED:
            text = translate(language, "remind.expired", command=command_of(confirmation.kind or OutboxKind.MANUAL_REMINDER))
        else:
            assert confirmation.refusal is not None, "a refused confirmation says why"
            text = reminder_refused_text(campaign, confirmation.refusal, language)
        await self.say(user.external_id, text)

    async def cancel(self, user: ChannelUser, batch_id: int, language: str) -> None:
        try:
            cancelled = await self.outreach.cancel(user=user, batch_id=batch_id)
        except NotCoordinatorError:
            await self.say(user.external_id, translate(language, "coord.not_coordinator"))
            return
        await self.say(user.external_id, translate(language, "remind.cancelled" if cancelled else "remind.already_handled"))

    async def dashboard(self, user: ChannelUser, language: str) -> None:
        """A one-time console sign-in link, for this coordinator only."""
        if self.public_url is None:
            try:
                await self.coordination.authorize(user=user, command="dashboard")
            except NotCoordinatorError:
                await self.say(user.external_id, translate(language, "coord.not_coordinator"))
                return
            await self.say(user.external_id, translate(language, "wecom.login_no_public_url"))
            return
        try:
            token = await self.access.issue_login_link(channel=CHANNEL, external_id=user.external_id)
        except NotCoordinatorAccountError:
            logger.warning("console sign-in link refused for wecom account %s: not a coordinator", user.external_id)
            await self.say(user.external_id, translate(language, "coord.not_coordinator"))
            return
        minutes = int(DEFAULT_LINK_TTL.total_seconds() // 60)
        await self.say(
            user.external_id, translate(language, "wecom.login_link", minutes=minutes, url=login_url(self.public_url, token))
        )

    # -- plumbing -------------------------------------------------------------------------

    async def offer_choice(self, user: ChannelUser, choice: CampaignChoice, command: CoordinatorCommand, language: str) -> None:
        if not choice.campaigns:
            await self.say(user.external_id, translate(language, "coord.no_campaigns"))
            return
        example = choice.campaigns[0].campaign.id
        hint = translate(language, "wecom.campaign_pick", command=COMMAND_WORDS.get(command, command.value), example=example)
        await self.say(user.external_id, f"{campaign_list_text(list(choice.campaigns), language)}\n\n{hint}")

    async def checked(self, user: ChannelUser, call: Awaitable[T], campaign_id: int | None, language: str) -> T | None:
        """The result of a coordinator call, or ``None`` after telling the asker why not."""
        try:
            return await call
        except NotCoordinatorError:
            text = translate(language, "coord.not_coordinator")
        except CampaignNotFoundError:
            text = translate(language, "coord.unknown_campaign", id=campaign_id)
        await self.say(user.external_id, text)
        return None

    async def say(self, user_id: str, text: str) -> None:
        await self.replies.send_text(user_id, text)
