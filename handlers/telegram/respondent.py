"""Telegram handlers for respondents: thin adapters from updates to service calls.

Each handler is named after the input it handles, turns the update into an
engine action, calls the service once, and sends what the outcome renders
to. The survey position lives in the database (the service), never here.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.core.actions import (
    Action,
    AnswerText,
    Back,
    EditText,
    InputKind,
    Pause,
    Resume,
    SetLanguage,
    ShowReview,
    ToggleOption,
    Unsupported,
    Upload,
)
from bot.core.catalog import BOT_LANGUAGES, bot_language, translate
from bot.core.events import Rejected, RejectionCode
from bot.core.outcome import Outcome
from bot.service import ChannelUser, SurveyService
from handlers.telegram import callback_data as buttons
from handlers.telegram.delivery import acknowledge, deliver, edit
from handlers.telegram.rendering import OutgoingMessage, render

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
#: The Bot API lets bots download files up to this size.
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


def channel_user(update: Update) -> ChannelUser:
    user = update.effective_user
    assert user is not None
    return ChannelUser(
        channel=CHANNEL,
        external_id=str(user.id),
        display_name=user.full_name,
        language_code=user.language_code,
    )


def user_language(update: Update) -> str:
    user = update.effective_user
    return bot_language(user.language_code if user else None)


class RespondentHandlers:
    """The respondent side of the bot, bound to one :class:`SurveyService`."""

    def __init__(self, *, service: SurveyService, download_dir: Path) -> None:
        self.service = service
        self.download_dir = download_dir

    # -- commands -----------------------------------------------------------------------

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/start [TOKEN]``: bind to the invited unit, greet, and ask the current question."""
        token = context.args[0] if context.args else None
        outcome = await self.service.start(user=channel_user(update), update_id=str(update.update_id), token=token)
        await self.send(update, context, outcome)

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/help``: what the bot does and its commands."""
        await deliver(context.bot, update.effective_chat.id, OutgoingMessage(text=translate(user_language(update), "tg.help")))  # type: ignore[union-attr]

    async def resume(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/resume``: show the current question again."""
        await self.act(update, context, Resume())

    async def unit(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/unit``: the units this account answers for, to switch between them."""
        await self.send(update, context, await self.service.units(user=channel_user(update)))

    async def back(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/back``: go to the previous question."""
        await self.act(update, context, Back())

    async def review(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/review``: list every answer so far."""
        await self.act(update, context, ShowReview())

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/cancel``: leave the current question; the answers stay."""
        await self.act(update, context, Pause())

    async def lang(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/lang [zh|en]``: switch the language, or offer the choice."""
        if context.args:
            await self.act(update, context, SetLanguage(language=context.args[0].lower()))
            return
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton(translate(code, "tg.language_name"), callback_data=buttons.encode(SetLanguage(language=code))) for code in BOT_LANGUAGES]]
        )
        await deliver(
            context.bot,
            update.effective_chat.id,  # type: ignore[union-attr]
            OutgoingMessage(text=translate(user_language(update), "tg.choose_language"), keyboard=keyboard),
        )

    # -- messages -----------------------------------------------------------------------

    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Typed text answers the current question (or adds to a long-text draft)."""
        message = update.message
        assert message is not None and message.text is not None
        await self.act(update, context, AnswerText(text=message.text, part_id=str(message.message_id)))

    async def edited_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An edited message updates the long-text draft it belongs to."""
        message = update.edited_message
        assert message is not None and message.text is not None
        await self.act(update, context, EditText(part_id=str(message.message_id), text=message.text))

    async def document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A document answers a file question: downloaded, stored, checked."""
        message = update.message
        assert message is not None and message.document is not None
        document = message.document
        name = document.file_name or f"file-{message.message_id}"
        await self.upload(update, context, file_id=document.file_id, name=name, size=document.file_size or 0, mime=document.mime_type)

    async def photo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A photo answers a file question with its largest size; advise sending scans as files."""
        message = update.message
        assert message is not None and message.photo
        largest = max(message.photo, key=lambda size: (size.width * size.height, size.file_size or 0))
        outcome = await self.upload(
            update,
            context,
            file_id=largest.file_id,
            name=f"photo-{message.message_id}.jpg",
            size=largest.file_size or 0,
            mime="image/jpeg",
        )
        if outcome is not None and not outcome.duplicate and not _rejected(outcome):
            await deliver(context.bot, message.chat_id, OutgoingMessage(text=translate(outcome.language, "tg.photo_advice")))

    async def unsupported(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, voice notes, locations...: say what is expected and ask again."""
        message = update.effective_message
        kind = InputKind.OTHER
        if message is not None:
            if message.sticker:
                kind = InputKind.STICKER
            elif message.voice or message.audio:
                kind = InputKind.VOICE
            elif message.location or message.venue:
                kind = InputKind.LOCATION
            elif message.contact:
                kind = InputKind.CONTACT
            elif message.video or message.video_note or message.animation:
                kind = InputKind.VIDEO
        await self.act(update, context, Unsupported(kind=kind))

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button press: acts on the question the button was made for, or is refused."""
        query = update.callback_query
        assert query is not None
        action = buttons.decode(query.data)
        if action is None:
            await acknowledge(query)
            await deliver(context.bot, update.effective_chat.id, OutgoingMessage(text=translate(user_language(update), "tg.unknown_button")))  # type: ignore[union-attr]
            return
        # Stop the button's spinner while the answer is stored: one round trip less to wait for.
        _, outcome = await asyncio.gather(
            acknowledge(query),
            self.service.act(user=channel_user(update), update_id=str(update.update_id), action=action),
        )
        if outcome.duplicate:
            return
        pressed = query.message if isinstance(query.message, Message) else None
        messages = render(outcome)
        if pressed is not None and isinstance(action, ToggleOption) and len(messages) == 1 and messages[0].prompt is not None:
            await edit(context.bot, pressed, messages[0])  # the ✅ moves on the same message
            return
        stale = any(isinstance(e, Rejected) and e.code is RejectionCode.STALE for e in outcome.events)
        if pressed is not None and not stale and not _rejected(outcome):
            # Independent of the reply, so both go out at once.
            await asyncio.gather(_drop_keyboard(pressed), self.send_messages(update, context, messages))
            return
        await self.send_messages(update, context, messages)

    # -- plumbing -----------------------------------------------------------------------

    async def upload(
        self,
        update: Update,
        context: ContextTypes.DEFAULT_TYPE,
        *,
        file_id: str,
        name: str,
        size: int,
        mime: str | None,
    ) -> Outcome | None:
        chat_id = update.effective_chat.id  # type: ignore[union-attr]
        if size > MAX_DOWNLOAD_BYTES:
            await deliver(context.bot, chat_id, OutgoingMessage(text=translate(user_language(update), "tg.file_too_big")))
            return None
        self.download_dir.mkdir(parents=True, exist_ok=True)
        path = self.download_dir / f"{uuid.uuid4().hex}.part"
        try:
            telegram_file = await context.bot.get_file(file_id)
            await telegram_file.download_to_drive(custom_path=path)
            actual_size = path.stat().st_size
            action = Upload(name=name, size=actual_size, mime=mime, ref=str(path))
            outcome = await self.service.act(user=channel_user(update), update_id=str(update.update_id), action=action)
        finally:
            await asyncio.to_thread(path.unlink, missing_ok=True)
        await self.send(update, context, outcome)
        return outcome

    async def act(self, update: Update, context: ContextTypes.DEFAULT_TYPE, action: Action) -> None:
        outcome = await self.service.act(user=channel_user(update), update_id=str(update.update_id), action=action)
        await self.send(update, context, outcome)

    async def send(self, update: Update, context: ContextTypes.DEFAULT_TYPE, outcome: Outcome) -> None:
        if outcome.duplicate:
            return
        await self.send_messages(update, context, render(outcome))

    async def send_messages(self, update: Update, context: ContextTypes.DEFAULT_TYPE, messages: list[OutgoingMessage]) -> None:
        chat = update.effective_chat
        assert chat is not None
        for message in messages:
            await deliver(context.bot, chat.id, message)


def _rejected(outcome: Outcome) -> bool:
    return any(isinstance(event, Rejected) for event in outcome.events)


async def _drop_keyboard(message: Message) -> None:
    """Remove the buttons of an answered question so they cannot be pressed again by mistake."""
    if message.reply_markup is None:
        return
    try:
        await message.edit_reply_markup(reply_markup=None)
    except BadRequest as error:  # the message is too old to edit, or unchanged
        logger.debug("could not remove the keyboard of message %s: %s", message.message_id, error)

