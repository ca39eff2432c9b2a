"""Telegram handlers, registered in one fixed order.

Order matters: python-telegram-bot runs the first matching handler of a
group. Commands come first, then button presses, then message kinds from the
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

from bot.service import SurveyService
from handlers.respondent import RespondentHandlers

#: The respondent commands, in menu order (descriptions come from the catalogs).
RESPONDENT_COMMANDS: tuple[str, ...] = ("start", "resume", "back", "review", "lang", "cancel", "help")


def register(application: Application, *, service: SurveyService, download_dir: Path) -> RespondentHandlers:  # type: ignore[type-arg]
    respondent = RespondentHandlers(service=service, download_dir=download_dir)
    private = filters.ChatType.PRIVATE
    application.add_handlers(
        [
            CommandHandler("start", respondent.start, filters=private),
            CommandHandler("help", respondent.help, filters=private),
            CommandHandler("resume", respondent.resume, filters=private),
            CommandHandler("back", respondent.back, filters=private),
            CommandHandler("review", respondent.review, filters=private),
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
    return respondent
