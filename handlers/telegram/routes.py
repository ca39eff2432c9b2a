"""Telegram handlers, registered in one fixed order.

Order matters: python-telegram-bot runs the first matching handler of a
group. Commands come first (the coordinator's, including /remind and
/broadcast, then the respondent's), then button presses (the coordinator's
campaign pickers and the reminder confirmations, each with its own data
prefix, before the respondent's catch-all), then message kinds from the
most specific (edited text, documents, photos, text) to the catch-all, which
answers anything else with "please answer with ..." and comes last.
"""

from __future__ import annotations

from pathlib import Path

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.coordination import CoordinatorService
from bot.outreach import OutreachService
from bot.service import SurveyService
from handlers.telegram.coordinator import CALLBACK_PATTERN, CoordinatorHandlers
from handlers.telegram.reminders import CALLBACK_PATTERN as REMINDER_CALLBACK_PATTERN
from handlers.telegram.reminders import ReminderHandlers
from handlers.telegram.respondent import RespondentHandlers

#: The respondent commands, in menu order (descriptions come from the catalogs).
RESPONDENT_COMMANDS: tuple[str, ...] = ("start", "resume", "back", "review", "unit", "lang", "cancel", "help")


def register(
    application: Application,
    *,
    service: SurveyService,
    coordination: CoordinatorService,
    download_dir: Path,
    outreach: OutreachService | None = None,
) -> None:
    respondent = RespondentHandlers(service=service, download_dir=download_dir)
    coordinator = CoordinatorHandlers(coordination=coordination)
    reminders = ReminderHandlers(
        outreach=outreach
        or OutreachService(database=coordination.database, coordination=coordination, clock=coordination.clock)
    )
    private = filters.ChatType.PRIVATE
    application.add_handlers(
        [
            CommandHandler("campaigns", coordinator.campaigns, filters=private),
            CommandHandler("status", coordinator.status, filters=private),
            CommandHandler("export", coordinator.export, filters=private),
            CommandHandler("remind", reminders.remind, filters=private),
            CommandHandler("broadcast", reminders.broadcast, filters=private),
            CallbackQueryHandler(coordinator.status_button, pattern=CALLBACK_PATTERN),
            CallbackQueryHandler(reminders.button, pattern=REMINDER_CALLBACK_PATTERN),
            CommandHandler("start", respondent.start, filters=private),
            CommandHandler("help", respondent.help, filters=private),
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
