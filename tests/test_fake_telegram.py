"""End-to-end tests of the fake Telegram Bot API server against the real python-telegram-bot.

Nothing of ours is mocked: an ``Application`` with ordinary handlers polls the fake over HTTP.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import hashlib
import sys
import time
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

ROOT = Path(__file__).resolve().parents[1]

from tests.fakes.telegram import (
    BOT_USERNAME,
    SECRET_HEADER,
    FakeTelegram,
    RemoteFakeTelegram,
    utf16_len,
)

# PTB itself reads RetryAfter.retry_after while constructing the exception (deprecated int form).
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)

# --------------------------------------------------------------------------- the bot under test


def build_echo_app(fake: FakeTelegram) -> Application:  # type: ignore[type-arg]
    """A small but real PTB application: echo, commands, inline buttons, files."""
    app = (
        Application.builder()
        .token(fake.token)
        .base_url(f"{fake.url}/bot")
        .base_file_url(f"{fake.url}/file/bot")
        .build()
    )
    events: list[Any] = []
    app.bot_data["events"] = events

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        events.append(("start", list(context.args or [])))
        await update.message.reply_text(f"start args={' '.join(context.args or [])}")

    async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton("Yes", callback_data="choice:yes"),
              InlineKeyboardButton("No", callback_data="choice:no")]]
        )
        await update.message.reply_text("Pick one", reply_markup=keyboard)

    async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        events.append(("callback", query.data, query.message.message_id if query.message else None))
        await query.answer(f"Got {query.data}")
        if query.data and query.data.startswith("choice:"):
            await query.edit_message_text(f"You chose {query.data.split(':', 1)[1]}")

    async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.document is not None
        doc = update.message.document
        tg_file = await doc.get_file()
        data = await tg_file.download_as_bytearray()
        digest = hashlib.sha256(data).hexdigest()[:12]
        await update.message.reply_text(f"got {doc.file_name} {len(data)} bytes {digest}")
        await update.message.reply_document(document=bytes(data), filename=f"echo-{doc.file_name}")

    async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        largest = update.message.photo[-1]
        data = await (await largest.get_file()).download_as_bytearray()
        await update.message.reply_text(f"photo {largest.width}x{largest.height} {len(data)} bytes")

    async def on_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.edited_message is not None
        events.append(("edited", update.edited_message.message_id, update.edited_message.text))

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        msg = update.message
        kind = ("sticker" if msg.sticker else "voice" if msg.voice else
                "location" if msg.location else "other")
        events.append((kind, msg.location.latitude if msg.location else None))
        await msg.reply_text(f"got {kind}")

    async def on_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.my_chat_member is not None
        events.append(("member", update.my_chat_member.new_chat_member.status))

    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("menu", menu))
    app.add_handler(CallbackQueryHandler(on_callback))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, on_edit))
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    app.add_handler(MessageHandler(filters.PHOTO, on_photo))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(filters.Sticker.ALL | filters.VOICE | filters.LOCATION, on_other))
    app.add_handler(ChatMemberHandler(on_member, ChatMemberHandler.MY_CHAT_MEMBER))
    return app


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server
        assert not server.internal_errors, server.internal_errors


@pytest.fixture
async def app(fake: FakeTelegram) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    application = build_echo_app(fake)
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    """A bare PTB Bot (no Application/polling) for protocol-level tests."""
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as b:
        yield b


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# --------------------------------------------------------------------------- echo bot, polling


async def test_text_is_echoed(fake: FakeTelegram, app: Application) -> None:  # type: ignore[type-arg]
    user = fake.user(user_id=1001, first_name="王芳", language_code="zh-hans")
    await user.send_text("你好 😀 hello")
    [reply] = await user.wait_for_bot()
    assert reply.text == "你好 😀 hello"
    assert reply.chat_id == 1001
    assert user.messages == [reply]
    assert fake.calls_to("getMe"), "PTB initialize() calls getMe"
    assert fake.calls_to("sendMessage")[-1]["chat_id"] == 1001  # decoded to int
    assert fake.unknown_calls == []
    assert fake.tokens_seen == {fake.token}


async def test_command_with_args_reaches_command_handler(
    fake: FakeTelegram, app: Application  # type: ignore[type-arg]
) -> None:
    user = fake.user(1002, "Ann")
    sent = await user.send_command("/start", "TOKEN-42")
    assert sent["text"] == "/start TOKEN-42"
    assert sent["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    [reply] = await user.wait_for_bot()
    assert reply.text == "start args=TOKEN-42"
    assert ("start", ["TOKEN-42"]) in app.bot_data["events"]

    await user.send_command(f"/start@{BOT_USERNAME}")  # addressed form, no args
    [reply] = await user.wait_for_bot()
    assert reply.text == "start args="

    # Typed text starting with a slash gets a bot_command entity, as in Telegram.
    await user.send_text("/start via-text")
    [reply] = await user.wait_for_bot()
    assert reply.text == "start args=via-text"


async def test_command_entities_use_utf16_offsets(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1003, "Ann")
    await user.send_text("😀 /help now")
    [update] = await bot.get_updates(timeout=0)
    assert update.message is not None
    [entity] = update.message.entities
    assert (entity.offset, entity.length) == (3, 5)  # the emoji is 2 UTF-16 code units
    assert update.message.parse_entities() == {entity: "/help"}
    assert utf16_len("😀") == 2


async def test_button_press_reaches_handler_and_edit_is_visible(
    fake: FakeTelegram, app: Application  # type: ignore[type-arg]
) -> None:
    user = fake.user(1004, "Ann")
    await user.send_command("/menu")
    [menu] = await user.wait_for_bot()
    assert menu.buttons == [["Yes", "No"]]
    assert menu.callback_data == ["choice:yes", "choice:no"]

    query = await user.press("Yes")
    assert query["message"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Yes"
    edited = await user.wait_for_edit(menu.message_id)
    assert edited.text == "You chose yes"
    assert edited.inline_keyboard == []  # editMessageText without reply_markup drops the keyboard
    assert user.messages[-1] is edited and edited.edit_count == 1
    answer = await fake.wait_for_callback_answer(query["id"])
    assert answer.text == "Got choice:yes" and not answer.show_alert
    assert ("callback", "choice:yes", menu.message_id) in app.bot_data["events"]

    # A forged callback for the (now keyboard-less) message still reaches the bot and is answered.
    forged = await user.press_raw("evil:payload", menu.message_id)
    await fake.wait_for_callback_answer(forged["id"])
    assert fake.unanswered_callbacks == []
    assert len(user.messages) == 1  # no new messages: only edits/answers happened


async def test_expired_press__cannot_be_answered_but_a_fresh_one_can(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1010, "Ann")
    await bot.send_message(user.id, "Pick", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]]))
    late = await user.press("A", expired=True)
    with pytest.raises(BadRequest, match="(?i)query is too old and response timeout expired"):
        await bot.answer_callback_query(late["id"])
    fresh = await user.press("A")
    assert await bot.answer_callback_query(fresh["id"])
    assert list(fake.answered_callbacks) == [fresh["id"]]


async def test_document_upload_is_downloadable_by_bot(
    fake: FakeTelegram, app: Application  # type: ignore[type-arg]
) -> None:
    user = fake.user(1005, "Ann")
    content = "单位,数量\nA,1\n".encode() + bytes(range(256))
    await user.send_document("报告.csv", content, "text/csv")
    reply, doc = await user.wait_for_bot(count=2)
    assert reply.text == f"got 报告.csv {len(content)} bytes {hashlib.sha256(content).hexdigest()[:12]}"
    # The bot's multipart upload kept filename and bytes.
    assert doc.filename == "echo-报告.csv"
    assert doc.content == content
    assert fake.calls_to("getFile")


async def test_photo_sizes_are_downloadable(fake: FakeTelegram, app: Application) -> None:  # type: ignore[type-arg]
    user = fake.user(1006, "Ann")
    sent = await user.send_photo(sizes=[(90, 60, b"small"), (1280, 853, b"L" * 1000)])
    assert len({p["file_id"] for p in sent["photo"]}) == 2
    [reply] = await user.wait_for_bot()
    assert reply.text == "photo 1280x853 1000 bytes"


async def test_sticker_voice_location(fake: FakeTelegram, app: Application) -> None:  # type: ignore[type-arg]
    user = fake.user(1007, "Ann")
    for action, expected in ((user.send_sticker(), "got sticker"), (user.send_voice(), "got voice"),
                             (user.send_location(31.23, 121.47), "got location")):
        await action
        [reply] = await user.wait_for_bot()
        assert reply.text == expected
    assert ("location", 31.23) in app.bot_data["events"]


async def test_user_edit_arrives_as_edited_message(
    fake: FakeTelegram, app: Application  # type: ignore[type-arg]
) -> None:
    user = fake.user(1008, "Ann")
    original = await user.send_text("42")
    await user.wait_for_bot()
    await user.edit_text(original["message_id"], "43")
    await fake.wait_until(lambda: ("edited", original["message_id"], "43") in app.bot_data["events"])
    assert user.sent[-1]["text"] == "43"


async def test_blocked_user_gets_403_and_my_chat_member(
    fake: FakeTelegram, app: Application  # type: ignore[type-arg]
) -> None:
    user = fake.user(1009, "Ann")
    await user.block_bot()
    await fake.wait_until(lambda: ("member", "kicked") in app.bot_data["events"])
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await app.bot.send_message(user.id, "reminder")
    assert fake.stats.forbidden_403 == 1
    with pytest.raises(RuntimeError):
        await user.send_text("can't write while blocked")
    await user.unblock_bot()
    await fake.wait_until(lambda: ("member", "member") in app.bot_data["events"])
    await app.bot.send_message(user.id, "welcome back")
    assert user.messages[-1].text == "welcome back"

    stranger = fake.user(1099, "Never started", started=False)
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await app.bot.send_message(stranger.id, "hello?")
    await stranger.send_command("/start")
    [reply] = await stranger.wait_for_bot()
    assert reply.text == "start args="


# --------------------------------------------------------------------------- failures, limits


async def test_injected_429_surfaces_as_retry_after_and_retry_succeeds(
    fake: FakeTelegram, bot: Bot
) -> None:
    user = fake.user(1010, "Ann")
    fake.fail_next("sendMessage", 429, retry_after=3)

    async def send_with_retry(text: str) -> int:
        """What a bot's own retry path does; returns attempts.  (No sleep: one-shot failure.)"""
        for attempt in range(1, 4):
            try:
                await bot.send_message(user.id, text)
                return attempt
            except RetryAfter as exc:
                assert retry_seconds(exc) == 3
        raise AssertionError("not delivered")

    assert await send_with_retry("hello") == 2
    assert [m.text for m in user.messages] == ["hello"]
    assert fake.stats.total_429 == 1 and fake.stats.injected_failures == 1
    assert fake.errors[-1].error_code == 429

    fake.fail_next("sendmessage", 500, times=2)  # method names are case-insensitive
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.send_message(user.id, "x")
    await bot.send_message(user.id, "after 500s")
    fake.fail_next("*", 403)
    with pytest.raises(Forbidden):
        await bot.send_chat_action(user.id, "typing")


async def test_rate_limiter_answers_429_per_chat_and_globally() -> None:
    async with FakeTelegram(rate_limit=True) as fake:
        async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as bot:
            users = [fake.user(2000 + i, f"U{i}") for i in range(31)]
            await bot.send_message(users[0].id, "first")
            with pytest.raises(RetryAfter) as per_chat:
                await bot.send_message(users[0].id, "too fast")
            assert retry_seconds(per_chat.value) == 1
            for u in users[1:30]:
                await bot.send_message(u.id, "hi")  # 30 sends within the window
            with pytest.raises(RetryAfter):
                await bot.send_message(users[30].id, "31st in one second")
            assert fake.stats.rate_limited == 2 and fake.stats.total_429 == 2
            assert fake.stats.messages_sent == 30
            assert fake.stats.sent_per_chat[users[0].id] == 1
            await bot.send_chat_action(users[30].id, "typing")  # not a message: not limited


async def test_unknown_method_is_404_and_recorded(fake: FakeTelegram, bot: Bot) -> None:
    # A 404 answer is InvalidToken in PTB; do_api_request turns it into EndPointNotFound.
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendUnicorn", api_kwargs={"chat_id": 1})
    with pytest.raises(InvalidToken, match="Not Found"):
        await bot._post("sendUnicorn", {"chat_id": 1})
    assert [c.method for c in fake.unknown_calls] == ["sendUnicorn", "sendUnicorn"]
    assert fake.unknown_calls[0].params == {"chat_id": 1}


async def test_strict_token_gives_401() -> None:
    async with FakeTelegram(strict_token=True) as fake:
        bot = Bot("123:wrong", base_url=fake.base_url, base_file_url=fake.base_file_url)
        try:
            with pytest.raises(InvalidToken):
                await bot.initialize()
        finally:
            await bot.shutdown()  # closes the HTTP clients opened by the failed initialize()
        assert "123:wrong" in fake.tokens_seen


# --------------------------------------------------------------------------- Bot API semantics


async def test_set_my_commands_per_scope_and_language(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(1011, "Ann")
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("report", "Report")])
    await bot.set_my_commands([BotCommand("start", "开始")], language_code="zh-hans")
    await bot.set_my_commands([BotCommand("admin", "Admin")], scope=BotCommandScopeChat(1011))

    assert [c.command for c in await bot.get_my_commands()] == ["start", "report"]
    [zh] = await bot.get_my_commands(language_code="zh-hans")
    assert zh.description == "开始"
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(1011))] == ["admin"]
    assert await bot.get_my_commands(language_code="de") == ()
    assert fake.commands(language_code="zh-hans") == [{"command": "start", "description": "开始"}]
    assert fake.commands({"type": "chat", "chat_id": 1011}) == [{"command": "admin", "description": "Admin"}]

    await bot.delete_my_commands(language_code="zh-hans")
    assert fake.commands(language_code="zh-hans") == []
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])

    await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
    assert isinstance(await bot.get_chat_menu_button(), MenuButtonCommands)


async def test_parse_modes_render_text_and_reject_bad_markup(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1012, "Ann")
    msg = await bot.send_message(user.id, "<b>Deadline</b> &lt;today&gt;", parse_mode=ParseMode.HTML)
    assert msg.text == "Deadline <today>"
    assert msg.entities[0].type == "bold" and msg.entities[0].length == 8
    assert user.messages[-1].raw_text == "<b>Deadline</b> &lt;today&gt;"

    await bot.send_message(user.id, r"*Done* 1\.5", parse_mode=ParseMode.MARKDOWN_V2)
    assert user.messages[-1].text == "Done 1.5"
    with pytest.raises(BadRequest, match="(?i)can't parse entities: Character '.' is reserved"):
        await bot.send_message(user.id, "*Done* 1.5", parse_mode=ParseMode.MARKDOWN_V2)
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(user.id, "<b>open", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(user.id, " ")
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(999999, "nobody")


async def test_edit_semantics_and_keyboards(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1013, "Ann")
    kb = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    msg = await bot.send_message(user.id, "q1", reply_markup=kb)
    assert msg.reply_markup == kb

    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("q1", chat_id=user.id, message_id=msg.message_id, reply_markup=kb)

    kb2 = InlineKeyboardMarkup([[InlineKeyboardButton("B", callback_data="b")]])
    edited = await bot.edit_message_reply_markup(user.id, msg.message_id, reply_markup=kb2)
    assert isinstance(edited, type(msg)) and edited.reply_markup == kb2
    assert user.messages[-1].callback_data == ["b"]

    await bot.edit_message_text("q1 (closed)", chat_id=user.id, message_id=msg.message_id)
    assert user.messages[-1].inline_keyboard == []  # no reply_markup in the edit: keyboard gone
    assert user.messages[-1].edit_count == 2

    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=user.id, message_id=999)
    await bot.delete_message(user.id, msg.message_id)
    assert user.messages == []


async def test_reply_keyboards_and_force_reply(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1014, "Ann")
    msg = await bot.send_message(user.id, "choose", reply_markup=ReplyKeyboardMarkup([["Red", "Blue"]]))
    assert msg.reply_markup is None  # Telegram only echoes inline keyboards
    assert user.reply_keyboard is not None and user.reply_keyboard["keyboard"][0][0]["text"] == "Red"
    await bot.send_message(user.id, "thanks", reply_markup=ReplyKeyboardRemove())
    assert user.reply_keyboard is None
    await bot.send_message(user.id, "your answer?", reply_markup=ForceReply())
    assert user.messages[-1].reply_markup == {"force_reply": True}
    reply = await user.send_text("Blue", reply_to=user.messages[-1].message_id)
    assert reply["reply_to_message"]["text"] == "your answer?"
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(user.id, "x", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("long", callback_data="x" * 65)]]))


async def test_bot_resends_document_by_file_id(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1015, "Ann")
    sent = await user.send_document("a.pdf", b"%PDF-1.4 fake")
    file_id = sent["document"]["file_id"]
    msg = await bot.send_document(user.id, file_id, caption="<i>copy</i>", parse_mode="HTML")
    assert msg.document is not None and msg.document.file_name == "a.pdf"
    assert msg.caption == "copy"
    assert user.messages[-1].content == b"%PDF-1.4 fake"
    with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
        await bot.send_document(user.id, "no-such-file-id")


async def test_wait_until_handled__returns_once_the_bot_reports_every_update_handled(fake: FakeTelegram) -> None:
    user = fake.user(1011, "Ann")
    first = fake.enqueue({"message": {"message_id": 1, "date": 1, "chat": user.as_chat(), "text": "a"}})
    await user.send_text("b")
    fake.enqueue({"message_reaction": {}})  # not delivered by default, so never waited for
    with pytest.raises(TimeoutError, match="did not finish handling updates"):
        await fake.wait_until_handled(timeout=0.1)
    fake.mark_handled(first["update_id"])
    assert len(fake.unhandled_update_ids) == 1
    waiting = asyncio.ensure_future(user.wait_until_handled(timeout=5.0))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    fake.mark_handled(fake.unhandled_update_ids[0])
    await asyncio.wait_for(waiting, 1.0)


async def test_long_polling_offsets_and_conflicts(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(1016, "Ann")
    assert await bot.get_updates(timeout=0) == ()

    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for_call("getUpdates", count=2)
    started = time.monotonic()
    await user.send_text("wake up")
    updates = await poll
    assert time.monotonic() - started < 1.0  # returned as soon as an update was queued
    assert [u.message.text for u in updates if u.message] == ["wake up"]

    await user.send_text("two")
    await user.send_text("three")
    again = await bot.get_updates(offset=updates[0].update_id, timeout=0)  # not yet confirmed
    assert len(again) == 3
    limited = await bot.get_updates(offset=again[1].update_id, limit=1, timeout=0)
    assert [u.message.text for u in limited if u.message] == ["two"]  # "wake up" is now dropped
    assert len(fake.pending_updates) == 2
    await bot.get_updates(offset=again[-1].update_id + 1, timeout=0)
    assert fake.pending_updates == []

    # A second poller (another Bot instance: PTB serializes getUpdates per Bot) wins, the first
    # long poll is terminated with 409 Conflict as in Telegram.
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for_call("getUpdates", count=len(fake.calls_to("getUpdates")) + 1)
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as other:
        assert await other.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await first


# --------------------------------------------------------------------------- webhook mode


async def test_webhook_delivery_reaches_ptb_application(fake: FakeTelegram) -> None:
    application = build_echo_app(fake)
    secret = "s3cret-token_1"
    seen_headers: list[str | None] = []

    async def endpoint(request: web.Request) -> web.Response:
        seen_headers.append(request.headers.get(SECRET_HEADER))
        if request.headers.get(SECRET_HEADER) != secret:
            return web.Response(status=403)
        update = Update.de_json(await request.json(), application.bot)
        await application.update_queue.put(update)
        return web.Response()

    web_app = web.Application()
    web_app.router.add_post("/hook", endpoint)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    hook_url = f"http://127.0.0.1:{port}/hook"
    try:
        async with application:
            await application.start()
            await application.bot.set_webhook(hook_url, secret_token=secret)
            user = fake.user(1017, "Ann")
            await user.send_text("via webhook")
            [reply] = await user.wait_for_bot()
            assert reply.text == "via webhook"
            assert seen_headers == [secret]
            info = await application.bot.get_webhook_info()
            assert info.url == hook_url and info.pending_update_count == 0
            with pytest.raises(Conflict, match="webhook is active"):
                await application.bot.get_updates()

            # Negative test: a forged request without the secret is refused by the endpoint.
            status, _ = await fake.post_raw(hook_url, {"update_id": 1}, {SECRET_HEADER: "wrong"})
            assert status == 403

            # Explicit delivery to another URL (independent of setWebhook).
            await application.bot.delete_webhook()
            await user.send_text("manual")
            [delivery] = await fake.deliver_to_webhook(hook_url, secret)
            assert delivery.status == 200
            [reply] = await user.wait_for_bot()
            assert reply.text == "manual"
            await application.stop()
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------- separate process


async def test_runs_as_separate_process() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.telegram", "--port", "0", "--rate-limit",
        cwd=str(ROOT), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        url = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode().strip()
        assert url.startswith("http://127.0.0.1:")
        async with RemoteFakeTelegram(url) as remote:
            health = await remote.health()
            async with Bot(health["token"], base_url=f"{url}/bot", base_file_url=f"{url}/file/bot") as bot:
                assert bot.username == BOT_USERNAME
                user = await remote.user(3001, "Remote", language_code="en")
                await user.send_command("/start", "abc")
                [update] = await bot.get_updates(timeout=1)
                assert update.message is not None and update.message.text == "/start abc"
                await bot.send_message(3001, "hi remote")
                [msg] = await user.wait_for_bot()
                assert msg["text"] == "hi remote"
                with pytest.raises(RetryAfter):
                    await bot.send_message(3001, "too fast")
                stats = await remote.stats()
                assert stats["rate_limited"] == 1 and stats["sent_per_chat"] == {"3001": 1}
                assert [c["method"] for c in await remote.calls("sendMessage")] == ["sendMessage"] * 2
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
    assert proc.returncode is not None
