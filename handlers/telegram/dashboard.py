"""Telegram's way into the coordinator console: ``/dashboard``, and the coordinator's part of ``/help``.

``/dashboard`` answers a coordinator with a one-time sign-in link
(:meth:`~bot.console_access.ConsoleAccess.issue_login_link`: it works once,
for :data:`~bot.console_access.DEFAULT_LINK_TTL`, and only its hash is
stored); anyone else gets the usual refusal. The link names
``SURVEYBOT_PUBLIC_URL``: without it the coordinator is told that the
administrator has to set it (a link to a loopback address would open nothing
on their computer).
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.console_access import DEFAULT_LINK_TTL, ConsoleAccess, NotCoordinatorAccountError, login_url
from bot.coordination import CoordinatorService, NotCoordinatorError
from bot.core.catalog import translate
from handlers.telegram.delivery import deliver
from handlers.telegram.rendering import OutgoingMessage
from handlers.telegram.respondent import channel_user, user_language

logger = logging.getLogger(__name__)

#: The coordinator's commands, in menu order (descriptions: ``console_outreach.tg_command_*``).
COORDINATOR_COMMANDS: tuple[str, ...] = ("campaigns", "status", "export", "remind", "broadcast", "dashboard")


class DashboardHandlers:
    def __init__(self, *, access: ConsoleAccess, coordination: CoordinatorService, public_url: str | None) -> None:
        self.access = access
        self.coordination = coordination
        self.public_url = public_url

    async def dashboard(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/dashboard``: a one-time sign-in link to the console, for a coordinator only."""
        language = user_language(update)
        user = channel_user(update)
        try:
            await self.coordination.authorize(user=user, command="dashboard")
        except NotCoordinatorError:
            await self.reply(update, context, translate(language, "coord.not_coordinator"))
            return
        if self.public_url is None:
            logger.warning("/dashboard by %s: SURVEYBOT_PUBLIC_URL is not set, no console link made", user.external_id)
            await self.reply(update, context, translate(language, "console_outreach.dashboard_no_public_url"))
            return
        try:
            token = await self.access.issue_login_link(channel=user.channel, external_id=user.external_id)
        except NotCoordinatorAccountError:  # removed between the two checks
            await self.reply(update, context, translate(language, "coord.not_coordinator"))
            return
        logger.info("/dashboard: console sign-in link issued to %s:%s", user.channel, user.external_id)
        minutes = int(DEFAULT_LINK_TTL.total_seconds() // 60)
        text = translate(language, "console_outreach.dashboard_link", minutes=minutes, url=login_url(self.public_url, token))
        await self.reply(update, context, text)

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/help``: what the bot does and its commands; a coordinator also reads theirs."""
        language = user_language(update)
        text = translate(language, "tg.help")
        if await self.coordination.is_coordinator(user=channel_user(update)):
            text += translate(language, "console_outreach.coordinator_help")
        await self.reply(update, context, text)

    async def reply(self, update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
        await deliver(context.bot, update.effective_chat.id, OutgoingMessage(text=text))  # type: ignore[union-attr]
