"""The Telegram channel: building the python-telegram-bot ``Application`` and running it.

Updates of different chats are handled concurrently, updates of one chat in
the order they arrived (:class:`PerChatUpdateProcessor`), so a respondent's
long text sent in three messages is stored in order while other respondents
do not wait. The survey position is in the database, so a restart or a
second process continues exactly where each respondent was.

Updates reach the Application only through the durable inbox
(:mod:`handlers.telegram.intake`): our own ``getUpdates`` loop, or our aiohttp
webhook server (:mod:`handlers.telegram.webhook`), records them first.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from telegram import Bot, BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TimedOut
from telegram.ext import Application, ApplicationBuilder, BaseUpdateProcessor, ContextTypes

from bot.console_access import ConsoleAccess
from bot.coordination import CoordinatorService
from bot.core.catalog import BOT_LANGUAGES, bot_language, translate
from bot.outreach import OutreachService
from bot.service import SurveyService
from bot.settings import Settings
from exports import CampaignFilesExporter
from handlers.telegram.dashboard import COORDINATOR_COMMANDS, DashboardHandlers
from handlers.telegram.delivery import deliver
from handlers.telegram.http_client import AiohttpRequest
from handlers.telegram.intake import current_handling
from handlers.telegram.rendering import OutgoingMessage
from handlers.telegram.routes import RESPONDENT_COMMANDS, register
from storage.audience import DEFAULT_OUTBOX_CHANNELS
from storage.coordinators import list_coordinators
from storage.models import Channel

logger = logging.getLogger(__name__)

#: Where the Application keeps its :class:`CoordinatorService` (for the coordinators' command menus).
COORDINATION_KEY = "surveybot.coordination"
#: How many updates are handled at once (across different chats).
MAX_CONCURRENT_UPDATES = 64


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats, sequential within one chat."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._waiting: defaultdict[int, int] = defaultdict(int)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat_id = 0
        if isinstance(update, Update):
            if update.effective_chat is not None:
                chat_id = update.effective_chat.id
            elif update.effective_user is not None:
                chat_id = update.effective_user.id
        self._waiting[chat_id] += 1
        try:
            async with self._locks[chat_id]:
                await coroutine
        finally:
            self._waiting[chat_id] -= 1
            if not self._waiting[chat_id]:
                del self._waiting[chat_id]
                self._locks.pop(chat_id, None)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def build_application(
    settings: Settings,
    service: SurveyService,
    *,
    on_outbox_enqueued: Callable[[], None] | None = None,
    coordination: CoordinatorService | None = None,
    outbox_channels: Collection[str] = DEFAULT_OUTBOX_CHANNELS,
) -> Application:
    """The bot, wired to ``service``; it has no updater: updates come from the inbox (:mod:`handlers.telegram.intake`).

    ``on_outbox_enqueued`` is called when a coordinator confirms a reminder or
    a broadcast (it wakes the process's outbox sender). ``outbox_channels``
    are the channels the process's outbox senders serve (the composition
    root's choice): reminders and broadcasts go to the accounts of these.
    """
    assert settings.telegram_token is not None, "checked by the caller"
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token.get_secret_value())
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_file_url)
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .concurrent_updates(PerChatUpdateProcessor())
        .post_init(_post_init)
        .updater(None)
    )
    application = builder.build()
    if coordination is None:
        coordination = CoordinatorService(
            database=service.database,
            settings=settings,
            clock=service.clock,
            exporter=CampaignFilesExporter(
                database=service.database, data_dir=settings.data_dir, surveys=service.surveys
            ),
        )
    outreach = OutreachService(
        database=service.database,
        coordination=coordination,
        clock=service.clock,
        on_enqueued=on_outbox_enqueued,
        outbox_channels=outbox_channels,
    )
    dashboard = DashboardHandlers(
        access=ConsoleAccess(database=service.database, settings=settings, clock=service.clock),
        coordination=coordination,
        public_url=settings.public_url,
    )
    register(
        application,
        service=service,
        coordination=coordination,
        download_dir=settings.data_dir / "tmp",
        outreach=outreach,
        dashboard=dashboard,
    )
    application.bot_data[COORDINATION_KEY] = coordination
    application.add_error_handler(on_error)
    return application


async def _post_init(application: Application) -> None:
    await set_command_menus(application)


async def set_command_menus(application: Application) -> None:
    """The command menu in each bot language; English for every other language.

    A Telegram coordinator known at start-up (``SURVEYBOT_ADMIN_IDS`` or
    ``surveybot admin add``) also gets the coordinator's commands in its chat's menu.
    """
    scope = BotCommandScopeAllPrivateChats()
    for language in BOT_LANGUAGES:
        commands = [BotCommand(name, translate(language, f"tg.command_{name}")) for name in RESPONDENT_COMMANDS]
        default = language == "en"
        await application.bot.set_my_commands(commands, scope=scope, language_code=None if default else language)
    coordination = application.bot_data.get(COORDINATION_KEY)
    if not isinstance(coordination, CoordinatorService):
        return
    for chat_id in await coordinator_chats(coordination):
        for language in BOT_LANGUAGES:
            commands = [BotCommand(name, translate(language, f"console_outreach.tg_command_{name}")) for name in COORDINATOR_COMMANDS]
            commands += [BotCommand(name, translate(language, f"tg.command_{name}")) for name in RESPONDENT_COMMANDS]
            try:
                await application.bot.set_my_commands(
                    commands, scope=BotCommandScopeChat(chat_id), language_code=None if language == "en" else language
                )
            except (BadRequest, Forbidden) as error:  # a coordinator who never opened the bot's chat
                logger.info("no coordinator command menu for chat %s: %s", chat_id, error)
                break


async def coordinator_chats(coordination: CoordinatorService) -> list[int]:
    """The Telegram chats of the coordinators: ``SURVEYBOT_ADMIN_IDS`` and the stored Telegram ones."""
    chats = set(coordination.settings.admin_ids)
    async with coordination.database.read() as session:
        for row in await list_coordinators(session=session):
            if row.channel == Channel.TELEGRAM.value and row.external_id.lstrip("-").isdigit():
                chats.add(int(row.external_id))
    return sorted(chats)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure with its traceback; tell the respondent, whose answers are safe.

    The inbox tries the update again later: if the failure came before the
    answer was stored, the retry stores it; if after, the retry finds the
    update id claimed and changes nothing.
    """
    logger.error("handling an update failed", exc_info=context.error)
    report = current_handling.get()
    if report is not None:  # a recorded update: the inbox keeps the error and tries it again
        report.error = context.error
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    user = update.effective_user
    language = bot_language(user.language_code if user else None)
    try:
        await deliver(context.bot, update.effective_chat.id, OutgoingMessage(text=translate(language, "tg.error")))
    except Exception:  # the apology itself failed; the log has the original error
        logger.warning("could not tell chat %s about the error", update.effective_chat.id, exc_info=True)


class TelegramTokenRefusedError(Exception):
    """Telegram answered 401/404 to ``getMe``: the token is wrong or revoked."""


class TelegramUnreachableError(Exception):
    """The Bot API did not answer (no network, a wrong URL, a firewall)."""


async def check_connection(settings: Settings) -> str:
    """``getMe`` with the configured token and URL; the bot's username (every bot has one).

    Runs on its own connection, closed whatever happens, so that a refused
    token or an unreachable API ends the process cleanly.
    """
    assert settings.telegram_token is not None, "checked by the caller"
    request = AiohttpRequest(connection_pool_size=1)
    bot = Bot(
        settings.telegram_token.get_secret_value(),
        base_url=settings.telegram_api_url,
        base_file_url=settings.telegram_file_url,
        request=request,
        get_updates_request=request,
    )
    try:
        await request.initialize()
        me = await bot.get_me()
    except InvalidToken as error:
        raise TelegramTokenRefusedError(str(error)) from None
    except (NetworkError, TimedOut) as error:  # TimedOut is a NetworkError; named for clarity
        raise TelegramUnreachableError(str(error)) from None
    finally:
        await request.shutdown()
    return me.username or ""
