"""Telegram handlers, registered in one fixed order.

Order matters: python-telegram-bot runs the first matching handler of a
group. A guard in group -1 first stops button presses whose sender is not
the private chat's owner (only a forged update does that). Commands come first (the coordinator's, including /remind,
/broadcast and /dashboard, then the respondent's; /help adds the coordinator's commands for a coordinator), then button presses (the coordinator's
campaign pickers and the reminder confirmations, each with its own data
prefix, before the respondent's catch-all), then message kinds from the
most specific (edited text, documents, photos, text) to the catch-all, which
answers anything else with "please answer with ..." and comes last.
"""

from __future__ import annotations

import logging
from pathlib import Path

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.coordination import CoordinatorService
from bot.outreach import OutreachService
from bot.service import SurveyService
from handlers.telegram.coordinator import CALLBACK_PATTERN, CoordinatorHandlers
from handlers.telegram.dashboard import DashboardHandlers
from handlers.telegram.reminders import CALLBACK_PATTERN as REMINDER_CALLBACK_PATTERN
from handlers.telegram.reminders import ReminderHandlers
from handlers.telegram.respondent import RespondentHandlers

logger = logging.getLogger(__name__)

#: The respondent commands, in menu order (descriptions come from the catalogs).
RESPONDENT_COMMANDS: tuple[str, ...] = ("start", "resume", "back", "review", "unit", "lang", "cancel", "help")


def register(
    application: Application,
    *,
    service: SurveyService,
    coordination: CoordinatorService,
    download_dir: Path,
    outreach: OutreachService | None = None,
    dashboard: DashboardHandlers | None = None,
) -> None:
    respondent = RespondentHandlers(service=service, download_dir=download_dir)
    coordinator = CoordinatorHandlers(coordination=coordination)
    reminders = ReminderHandlers(
        outreach=outreach
        or OutreachService(database=coordination.database, coordination=coordination, clock=coordination.clock)
    )
    private = filters.ChatType.PRIVATE
    # Before every other handler: a button press from someone else than the private chat's owner.
    application.add_handler(TypeHandler(Update, refuse_foreign_press), group=-1)
    application.add_handlers(
        [
            CommandHandler("campaigns", coordinator.campaigns, filters=private),
            CommandHandler("status", coordinator.status, filters=private),
            CommandHandler("export", coordinator.export, filters=private),
            CommandHandler("remind", reminders.remind, filters=private),
            CommandHandler("broadcast", reminders.broadcast, filters=private),
            *([CommandHandler("dashboard", dashboard.dashboard, filters=private)] if dashboard is not None else []),
            CallbackQueryHandler(coordinator.status_button, pattern=CALLBACK_PATTERN),
            CallbackQueryHandler(reminders.button, pattern=REMINDER_CALLBACK_PATTERN),
            CommandHandler("start", respondent.start, filters=private),
            CommandHandler("help", dashboard.help if dashboard is not None else respondent.help, filters=private),
            CommandHandler("resume", respondent.resume, filters=private),
            CommandHandler("back", respondent.back, filters=private),
            CommandHandler("review", respondent.review, filters=private),
            CommandHandler("unit", respondent.unit, filters=private),
            CommandHandler("lang", respondent.lang, filters=private),
            CommandHandler("cancel", respondent.cancel, filters=private),
            CallbackQueryHandler(respondent.button),
            MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.TEXT & private, respondent.edited_text),
            MessageHandler(filters.UpdateType.MESSAGE & filters.Document.ALL & private, respondent.document),
            MessageHandler(filters.UpdateType.MESSAGE & filters.PHOTO & private, respondent.photo),
            MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND & private, respondent.text),
            MessageHandler(filters.UpdateType.MESSAGE & private, respondent.unsupported),
        ]
    )


async def refuse_foreign_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button press whose sender is not the private chat's owner changes nothing and is answered nowhere.

    In a private chat only its owner sees the buttons, so only a forged
    update can do this; acting on it would answer into someone else's chat.
    """
    query = update.callback_query
    if query is None or query.message is None or query.message.chat.type != "private":
        return
    if query.from_user.id == query.message.chat.id:
        return
    logger.warning(
        "button press by %s on a message in chat %s refused: not the chat's owner", query.from_user.id, query.message.chat.id
    )
    raise ApplicationHandlerStop
