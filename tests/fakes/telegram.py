"""A fake Telegram Bot API server for end-to-end tests.

The bot under test is the *real* python-telegram-bot ``Application`` talking HTTP to this
server; only Telegram's servers are faked.  The server speaks the Bot API wire protocol as PTB
uses it (``POST {base_url}{token}/{method}`` with form-encoded or multipart bodies, JSON-encoded
values for nested fields, ``{"ok": true, "result": ...}`` answers, Telegram-style errors) and
keeps just enough state to behave like Telegram for a survey bot: private chats with simulated
users, bot messages with their current text / keyboard, uploaded files, callback queries,
commands per scope and language, webhook settings, long polling.

Usage inside a test (runs in the test's event loop)::

    from telegram.ext import Application
    from tests.fakes.telegram import FakeTelegram

    async def test_echo() -> None:
        async with FakeTelegram() as fake:
            app = (
                Application.builder()
                .token(fake.token)
                .base_url(f"{fake.url}/bot")
                .base_file_url(f"{fake.url}/file/bot")
                .build()
            )
            ...  # add handlers
            await app.initialize()
            await app.start()
            await app.updater.start_polling(poll_interval=0, timeout=1)
            try:
                user = fake.user(user_id=1001, first_name="王芳", language_code="zh-hans")
                await user.send_command("/start", "TOKEN")
                [reply] = await user.wait_for_bot()
                assert reply.text == "..."
                await user.press("Yes")                  # inline button, by text or data
                edited = await user.wait_for_edit()
            finally:
                await app.updater.stop()
                await app.stop()
                await app.shutdown()

As a separate process (e.g. for a benchmark)::

    python -m tests.fakes.telegram --port 8081 [--rate-limit]

prints its base URL (``http://127.0.0.1:8081``) on stdout and serves until SIGTERM/SIGINT.  The
simulated users are then driven over a small JSON control API under ``/_fake/`` (see
:class:`RemoteFakeTelegram` for a typed client and :meth:`FakeTelegram._control_routes` for the
endpoints).

Test-side API in brief (see the classes for details):

* ``FakeTelegram(token=..., rate_limit=False | True | RateLimitConfig(...), strict_token=False)``
  - ``.url``, ``.base_url``, ``.base_file_url``, ``.token``; ``.user(user_id, first_name, ...)``
  - ``.calls`` / ``.calls_to(method)`` / ``.unknown_calls`` / ``.errors`` / ``.internal_errors``
  - ``.answered_callbacks`` (query id -> :class:`CallbackAnswer`), ``.unanswered_callbacks``
  - ``.commands(scope, language_code)``, ``.menu_buttons``, ``.webhook_url``, ``.files``
  - ``.fail_next(method, error_code=429, retry_after=1, description=None, times=1)``
  - ``.stats`` (:class:`FakeStats`), ``.pending_updates``, ``.enqueue(raw_update)``
  - ``await .wait_until(predicate)``, ``.wait_for_call(method)``, ``.wait_for_callback_answer(id)``
  - ``.mark_handled(update_id)`` (called by the bot's side), ``.unhandled_update_ids``,
    ``await .wait_until_handled()``: every queued update has been handled, deterministically
  - ``await .deliver_to_webhook(url, secret)``, ``await .post_raw(url, body, headers)``
* ``FakeUser`` actions (async, each returns the payload sent and sets the user's *mark*):
  ``send_text``, ``send_command``, ``press``, ``press_raw``, ``send_document``, ``send_photo``,
  ``send_sticker``, ``send_voice``, ``send_location``, ``send_contact``, ``edit_text``,
  ``block_bot``, ``unblock_bot`` (``press(..., expired=True)``: a press too old to answer);
  inspection: ``messages`` (list of :class:`BotMessage`),
  ``last_message``, ``texts``, ``reply_keyboard``, ``chat_actions``, ``sent``;
  ``await wait_for_bot(count=1, timeout=5.0)`` (new bot messages since the mark),
  ``await wait_for_edit(message_id=None, timeout=5.0)`` (an edit since the mark) and
  ``await wait_until_handled()`` (the bot has handled every queued update).

PTB facts this fake relies on / tests must know:

* PTB strips ``"Bad Request: "`` from error descriptions and ``str.capitalize()``-s the rest, so
  ``BadRequest`` messages read ``"Message is not modified: ..."`` - match with ``(?i)``.
* A 404 answer raises ``InvalidToken`` (``EndPointNotFound`` via ``Bot.do_api_request``); 401
  raises ``InvalidToken``; 403 ``Forbidden``; 409 ``Conflict``; 429 ``RetryAfter``; 5xx
  ``NetworkError``.  Reading ``RetryAfter.retry_after`` emits a ``PTBDeprecationWarning`` in
  PTB 22 (int now, ``timedelta`` later).
* PTB serialises ``getUpdates`` per ``Bot`` (own 1-connection pool); stopping the updater cancels
  the long poll and sends one more ``getUpdates(offset=last+1, timeout=0)`` to confirm.
* ``CommandHandler`` needs a ``bot_command`` entity at offset 0 and slices
  ``text[1:entity.length]``; ``/cmd@surveybot_test_bot`` is accepted because ``getMe`` returns
  that username.  Entity offsets/lengths are UTF-16 code units (:func:`utf16_len`).
* A callback query's ``message`` must have a non-zero ``date`` (date 0 means
  ``InaccessibleMessage`` to PTB); the fake sends the bot message as it currently is.

Behaviour worth knowing (all modelled on the real Bot API):

* Every API call is recorded in :attr:`FakeTelegram.calls` as ``Call(method, params)`` with
  form values decoded (ints, bools, JSON for ``reply_markup``/``entities``/``commands``/...;
  uploaded files as :class:`Upload`).  Unknown methods answer 404 ``Not Found`` (which PTB
  raises as ``telegram.error.InvalidToken``) and are also listed in
  :attr:`FakeTelegram.unknown_calls`.
* ``parse_mode`` is honoured: the stored/returned ``text`` is the rendered plain text plus
  ``entities``; malformed HTML/MarkdownV2 answers 400 ``Bad Request: can't parse entities``.
* ``editMessageText``/``editMessageCaption`` without ``reply_markup`` remove the inline keyboard,
  an edit that changes nothing answers 400 ``message is not modified``.
* Only ``inline_keyboard`` markup is echoed back in returned ``Message`` objects (reply keyboards,
  ``remove_keyboard`` and ``force_reply`` are not, as in Telegram); the markup as sent is kept
  in :attr:`BotMessage.reply_markup` and :attr:`FakeUser.reply_keyboard`.
* Sending to a chat that is not a known simulated user answers 400 ``chat not found``; to a user
  who blocked the bot 403 ``Forbidden: bot was blocked by the user``; to a user created with
  ``started=False`` who has not contacted the bot yet 403 ``bot can't initiate conversation``.
* The rate limiter (opt-in) counts successful message-creating calls (``sendMessage``,
  ``sendDocument``, ``sendPhoto``... see :class:`RateLimitConfig`), not edits or chat actions.
* ``getUpdates`` is real long polling: returns at once when updates are queued, else waits up
  to ``timeout``; updates are dropped once confirmed by a higher ``offset`` (negative offsets
  and ``limit`` work); a newer ``getUpdates`` terminates an older pending one with 409.
* ``setWebhook`` accepts plain ``http://`` URLs (Telegram would insist on HTTPS) and switches the
  fake to push mode: queued updates are POSTed one at a time, in order, to the URL with the
  ``X-Telegram-Bot-Api-Secret-Token`` header; ``getUpdates`` then answers 409 Conflict.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import logging
import math
import mimetypes
import re
import signal
import subprocess
import sys
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from aiohttp import ClientError, ClientSession, ClientTimeout, web
from multidict import MultiDictProxy

from tests.fakes._formatting import FormattingError, UnsupportedParseMode, parse_text, utf16_len

__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "DEFAULT_TOKEN",
    "ApiError",
    "BotMessage",
    "Call",
    "CallbackAnswer",
    "ErrorResponse",
    "FakeStats",
    "FakeTelegram",
    "FakeUser",
    "RateLimitConfig",
    "RemoteFakeTelegram",
    "RemoteUser",
    "SECRET_HEADER",
    "StoredFile",
    "Upload",
    "WebhookDelivery",
    "main",
    "utf16_len",
]

_LOG = logging.getLogger(__name__)

BOT_ID = 7000000001
BOT_USERNAME = "surveybot_test_bot"
BOT_FIRST_NAME = "Surveybot Test"
DEFAULT_TOKEN = f"{BOT_ID}:AAFakeTokenForSurveybotTests_0123456789"
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

JSON = dict[str, Any]

# --------------------------------------------------------------------------- value types


class ApiError(Exception):
    """An error answer of the Bot API (raised by method handlers, turned into JSON)."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad_request(text: str) -> ApiError:
    return ApiError(400, f"Bad Request: {text}")


class Call(NamedTuple):
    """One recorded API call: canonical method name and decoded parameters."""

    method: str
    params: JSON


class ErrorResponse(NamedTuple):
    """An error answer the fake returned (injected, rate limited or genuine)."""

    method: str
    params: JSON
    error_code: int
    description: str


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request, as received."""

    filename: str
    content: bytes
    content_type: str | None

    def __repr__(self) -> str:
        return f"Upload({self.filename!r}, {len(self.content)} bytes, {self.content_type!r})"


@dataclass
class StoredFile:
    """A file known to the fake (uploaded by the bot or sent by a simulated user)."""

    file_id: str
    file_unique_id: str
    content: bytes
    file_path: str
    filename: str | None = None
    mime_type: str | None = None

    @property
    def file_size(self) -> int:
        return len(self.content)

    def as_document(self) -> JSON:
        doc: JSON = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
        }
        if self.filename is not None:
            doc["file_name"] = self.filename
        if self.mime_type is not None:
            doc["mime_type"] = self.mime_type
        return doc

    def __repr__(self) -> str:
        return f"StoredFile({self.file_id!r}, {self.filename!r}, {self.file_size} bytes)"


@dataclass
class CallbackAnswer:
    """What the bot passed to ``answerCallbackQuery``."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None


@dataclass
class WebhookDelivery:
    """One attempt to POST an update to a webhook."""

    url: str
    update_id: int
    status: int | None  # HTTP status, None if the connection failed
    error: str | None


@dataclass(frozen=True)
class RateLimitConfig:
    """Sliding-window limits applied to message-creating methods (see :class:`FakeTelegram`).

    ``methods`` are lower-case method names; by default every method that sends a new message.
    """

    global_per_window: int = 30
    per_chat_per_window: int = 1
    window: float = 1.0
    methods: frozenset[str] = frozenset(
        {"sendmessage", "senddocument", "sendphoto", "sendaudio", "sendvoice", "sendvideo",
         "sendsticker", "sendlocation", "sendcontact", "sendanimation", "sendmediagroup",
         "copymessage", "forwardmessage"}
    )


@dataclass
class FakeStats:
    """Counters (reset with :meth:`FakeTelegram.reset_stats`)."""

    messages_sent: int = 0
    sent_per_chat: Counter[int] = field(default_factory=Counter)
    calls_per_method: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0  # 429s produced by the rate limiter
    injected_failures: int = 0  # answers produced by fail_next()
    total_429: int = 0  # all 429 answers
    forbidden_403: int = 0  # sends to users who blocked the bot
    errors_by_code: Counter[int] = field(default_factory=Counter)

    def as_dict(self) -> JSON:
        return {
            "messages_sent": self.messages_sent,
            "sent_per_chat": {str(k): v for k, v in self.sent_per_chat.items()},
            "calls_per_method": dict(self.calls_per_method),
            "rate_limited": self.rate_limited,
            "injected_failures": self.injected_failures,
            "total_429": self.total_429,
            "forbidden_403": self.forbidden_403,
            "errors_by_code": {str(k): v for k, v in self.errors_by_code.items()},
        }


@dataclass
class _FailureRule:
    method: str  # lower-case, "*" for any
    error_code: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: int | str | None


class _RateLimiter:
    def __init__(self, config: RateLimitConfig) -> None:
        self.config = config
        self._global: deque[float] = deque()
        self._per_chat: dict[int | str, deque[float]] = {}

    def _prune(self, q: deque[float], now: float) -> None:
        while q and q[0] <= now - self.config.window:
            q.popleft()

    def check(self, chat_id: int | str, now: float) -> int | None:
        """Seconds to wait (>= 1) if a send now would exceed a limit, else None."""
        self._prune(self._global, now)
        chat_q = self._per_chat.setdefault(chat_id, deque())
        self._prune(chat_q, now)
        waits: list[float] = []
        if len(self._global) >= self.config.global_per_window:
            waits.append(self._global[0] + self.config.window - now)
        if len(chat_q) >= self.config.per_chat_per_window:
            waits.append(chat_q[0] + self.config.window - now)
        if not waits:
            return None
        return max(1, math.ceil(max(waits)))

    def record(self, chat_id: int | str, now: float) -> None:
        self._global.append(now)
        self._per_chat.setdefault(chat_id, deque()).append(now)


# --------------------------------------------------------------------------- bot messages


@dataclass
class BotMessage:
    """A message the bot sent to a simulated user, as it currently is (edits applied).

    ``text``/``caption`` are the rendered plain text (``parse_mode`` applied), ``raw_text`` what
    the bot sent.  ``reply_markup`` is the markup exactly as sent (any kind); only an
    ``inline_keyboard`` is part of the Bot API representation (:meth:`to_api`).
    """

    message_id: int
    chat_id: int
    date: int
    method: str
    seq: int
    text: str | None = None
    raw_text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JSON] = field(default_factory=list)
    parse_mode: str | None = None
    reply_markup: JSON | None = None
    link_preview_options: JSON | None = None
    document: StoredFile | None = None
    photo: StoredFile | None = None
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    edit_seqs: list[int] = field(default_factory=list)
    deleted: bool = False
    chat: JSON = field(default_factory=dict, repr=False)

    @property
    def edit_count(self) -> int:
        return len(self.edit_seqs)

    @property
    def inline_keyboard(self) -> list[list[JSON]]:
        if self.reply_markup and isinstance(self.reply_markup.get("inline_keyboard"), list):
            return self.reply_markup["inline_keyboard"]
        return []

    @property
    def buttons(self) -> list[list[str]]:
        """Button texts of the inline keyboard, row by row."""
        return [[str(b.get("text")) for b in row] for row in self.inline_keyboard]

    @property
    def button_texts(self) -> list[str]:
        return [t for row in self.buttons for t in row]

    @property
    def callback_data(self) -> list[str]:
        return [
            str(b["callback_data"])
            for row in self.inline_keyboard
            for b in row
            if "callback_data" in b
        ]

    def find_button(self, key: str) -> JSON | None:
        """The inline button whose text (preferred) or callback_data equals ``key``."""
        flat = [b for row in self.inline_keyboard for b in row]
        for b in flat:
            if b.get("text") == key:
                return b
        for b in flat:
            if b.get("callback_data") == key:
                return b
        return None

    @property
    def filename(self) -> str | None:
        return self.document.filename if self.document else None

    @property
    def content(self) -> bytes | None:
        f = self.document or self.photo
        return f.content if f else None

    def to_api(self) -> JSON:
        """The Bot API ``Message`` object for this message (what PTB receives)."""
        msg: JSON = {
            "message_id": self.message_id,
            "from": _bot_user(),
            "chat": self.chat,
            "date": self.date,
        }
        if self.edit_date is not None:
            msg["edit_date"] = self.edit_date
        if self.text is not None:
            msg["text"] = self.text
            if self.entities:
                msg["entities"] = self.entities
        if self.link_preview_options:
            msg["link_preview_options"] = self.link_preview_options
        if self.document is not None:
            msg["document"] = self.document.as_document()
        if self.photo is not None:
            msg["photo"] = _photo_sizes(self.photo)
        if self.caption is not None:
            msg["caption"] = self.caption
            if self.caption_entities:
                msg["caption_entities"] = self.caption_entities
        if self.inline_keyboard:
            msg["reply_markup"] = {"inline_keyboard": self.inline_keyboard}
        return msg


def _bot_user() -> JSON:
    return {"id": BOT_ID, "is_bot": True, "first_name": BOT_FIRST_NAME, "username": BOT_USERNAME}


def _photo_sizes(f: StoredFile) -> list[JSON]:
    return [
        {"file_id": f.file_id, "file_unique_id": f.file_unique_id, "width": 800, "height": 600,
         "file_size": f.file_size},
    ]


def _now() -> int:
    return int(time.time())


_COMMAND_RE = re.compile(r"(?<![^\s])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,64})?(?![A-Za-z0-9_@/])")


def _command_entities(text: str) -> list[JSON]:
    """``bot_command`` entities as Telegram would detect them (UTF-16 offsets/lengths)."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
        for m in _COMMAND_RE.finditer(text)
    ]


# --------------------------------------------------------------------------- simulated user


class FakeUser:
    """A simulated Telegram user in a private chat with the bot (chat id == user id).

    Action methods enqueue a well-formed ``Update`` and return the payload they sent (the
    ``message``/``callback_query`` dict).  Every action sets a *mark*: :meth:`wait_for_bot` and
    :meth:`wait_for_edit` look at what the bot did after the latest action.
    """

    def __init__(
        self,
        fake: FakeTelegram,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        is_premium: bool | None = None,
        started: bool = True,
    ) -> None:
        self._fake = fake
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.is_premium = is_premium
        self.blocked = False
        self.started = started
        """False until the user contacts the bot; sends before that answer 403 (see ``user()``)."""
        self.reply_keyboard: JSON | None = None
        """The reply keyboard currently shown (last ``keyboard`` markup until ``remove_keyboard``)."""
        self.chat_actions: list[str] = []
        self.callback_queries: list[JSON] = []
        self._bot_messages: dict[int, BotMessage] = {}
        self._own_messages: dict[int, JSON] = {}
        self._next_message_id = 1
        self._mark = fake._seq

    # ---- identity

    @property
    def chat_id(self) -> int:
        return self.id

    def as_user(self) -> JSON:
        d: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            d["last_name"] = self.last_name
        if self.username:
            d["username"] = self.username
        if self.language_code:
            d["language_code"] = self.language_code
        if self.is_premium:
            d["is_premium"] = True
        return d

    def as_chat(self) -> JSON:
        d: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            d["last_name"] = self.last_name
        if self.username:
            d["username"] = self.username
        return d

    # ---- inspection

    @property
    def messages(self) -> list[BotMessage]:
        """Bot messages in this chat as they currently are (deleted ones excluded), oldest first."""
        return [m for m in self._bot_messages.values() if not m.deleted]

    @property
    def last_message(self) -> BotMessage | None:
        msgs = self.messages
        return msgs[-1] if msgs else None

    @property
    def texts(self) -> list[str | None]:
        """``text`` (or ``caption``) of every current bot message."""
        return [m.text if m.text is not None else m.caption for m in self.messages]

    @property
    def sent(self) -> list[JSON]:
        """The user's own messages (as last edited), oldest first."""
        return list(self._own_messages.values())

    def message(self, message_id: int) -> BotMessage:
        try:
            return self._bot_messages[message_id]
        except KeyError:
            raise LookupError(f"no bot message {message_id} in chat {self.id}") from None

    def new_messages(self) -> list[BotMessage]:
        """Bot messages created since the user's last action."""
        return [m for m in self._bot_messages.values() if m.seq > self._mark]

    async def wait_for_bot(self, count: int = 1, timeout: float = 5.0) -> list[BotMessage]:
        """Wait until at least ``count`` new bot messages arrived since the last action.

        Returns all new messages (possibly more than ``count``).  Does not move the mark.
        """
        await self._fake.wait_until(
            lambda: len(self.new_messages()) >= count,
            timeout,
            lambda: f"user {self.id}: expected {count} new bot message(s), got "
            f"{[m.text or m.caption or m.filename for m in self.new_messages()]}",
        )
        return self.new_messages()

    async def wait_for_edit(
        self, message_id: int | None = None, timeout: float = 5.0, count: int = 1
    ) -> BotMessage:
        """Wait until a bot message (``message_id`` or any) was edited ``count`` times since the
        last action; returns that message as it is now."""

        def edited() -> BotMessage | None:
            candidates = (
                [self._bot_messages[message_id]]
                if message_id in self._bot_messages
                else ([] if message_id is not None else list(self._bot_messages.values()))
            )
            for m in candidates:
                if sum(1 for s in m.edit_seqs if s > self._mark) >= count:
                    return m
            return None

        await self._fake.wait_until(
            lambda: edited() is not None,
            timeout,
            lambda: f"user {self.id}: no edit of message {message_id or '(any)'} since last action",
        )
        result = edited()
        assert result is not None
        return result

    async def wait_until_handled(self, timeout: float = 5.0) -> None:
        """Wait until the bot has handled every queued update (see :meth:`FakeTelegram.mark_handled`)."""
        await self._fake.wait_until_handled(timeout)

    async def wait_for_answer(self, callback_query_id: str, timeout: float = 5.0) -> CallbackAnswer:
        return await self._fake.wait_for_callback_answer(callback_query_id, timeout)

    # ---- actions

    def _check_can_act(self) -> None:
        if self.blocked:
            raise RuntimeError(f"user {self.id} has blocked the bot; call unblock_bot() first")

    def _new_message(self, **content: Any) -> JSON:
        self._check_can_act()
        mid = self._next_message_id
        self._next_message_id += 1
        msg: JSON = {
            "message_id": mid,
            "from": self.as_user(),
            "chat": self.as_chat(),
            "date": _now(),
        }
        msg.update({k: v for k, v in content.items() if v is not None})
        self._own_messages[mid] = msg
        return msg

    def _enqueue(self, kind: str, payload: JSON) -> JSON:
        self.started = True
        self._mark = self._fake._seq
        self._fake.enqueue({kind: payload})
        return payload

    def _reply_to(self, reply_to: int | None) -> JSON | None:
        if reply_to is None:
            return None
        if reply_to in self._bot_messages:
            return self._bot_messages[reply_to].to_api()
        if reply_to in self._own_messages:
            return {k: v for k, v in self._own_messages[reply_to].items() if k != "reply_to_message"}
        raise LookupError(f"no message {reply_to} in chat {self.id}")

    async def send_text(
        self,
        text: str,
        *,
        entities: list[JSON] | None = None,
        reply_to: int | None = None,
    ) -> JSON:
        """Send a text message.  Without ``entities``, ``bot_command`` entities are detected
        like Telegram does (``/cmd`` or ``/cmd@bot`` at a word start, UTF-16 offsets)."""
        ents = entities if entities is not None else _command_entities(text)
        msg = self._new_message(
            text=text, entities=ents or None, reply_to_message=self._reply_to(reply_to)
        )
        return self._enqueue("message", msg)

    async def send_command(self, command: str, *args: str) -> JSON:
        """Send ``/command arg1 arg2`` with a ``bot_command`` entity covering ``/command``.

        ``command`` may include the leading slash and ``@botname``; a single string with the
        arguments (``"/start TOKEN"``) works too.
        """
        head, _, rest = command.strip().partition(" ")
        if not head.startswith("/"):
            head = "/" + head
        parts = [head] + ([rest] if rest else []) + list(args)
        text = " ".join(parts)
        entity = {"type": "bot_command", "offset": 0, "length": utf16_len(head)}
        msg = self._new_message(text=text, entities=[entity])
        return self._enqueue("message", msg)

    async def press(self, button: str, message: BotMessage | int | None = None, *, expired: bool = False) -> JSON:
        """Press the inline button with this text (or callback_data) and send the callback_query.

        ``message`` defaults to the latest bot message in this chat with an inline keyboard; the
        query carries that message as it currently is.  With ``expired`` the query reaches the
        bot already too old to answer, as when Telegram delivers a press late (the bot was busy
        or down for more than about 15 seconds): ``answerCallbackQuery`` gets 400 "query is too
        old and response timeout expired or query ID is invalid".
        """
        self._check_can_act()
        if message is None:
            with_kb = [m for m in self.messages if m.inline_keyboard]
            if not with_kb:
                raise LookupError(f"user {self.id}: no bot message with an inline keyboard")
            target = with_kb[-1]
        else:
            target = message if isinstance(message, BotMessage) else self.message(message)
        if target.deleted:
            raise LookupError(f"message {target.message_id} was deleted")
        btn = target.find_button(button)
        if btn is None:
            raise LookupError(
                f"user {self.id}: no button {button!r} on message {target.message_id}; "
                f"buttons: {target.buttons}"
            )
        if "callback_data" not in btn:
            raise ValueError(f"button {button!r} has no callback_data: {btn}")
        return self._send_callback(str(btn["callback_data"]), target, expired=expired)

    async def press_raw(self, data: str, message_id: int | None = None, *, expired: bool = False) -> JSON:
        """Send a callback_query with arbitrary (possibly forged) data for ``message_id``
        (default: the latest bot message); ``expired`` as for :meth:`press`."""
        self._check_can_act()
        if message_id is None:
            last = self.last_message
            if last is None:
                raise LookupError(f"user {self.id}: no bot message to attach the query to")
            target = last
        else:
            target = self.message(message_id)
        return self._send_callback(data, target, expired=expired)

    def _send_callback(self, data: str, target: BotMessage, *, expired: bool) -> JSON:
        query_id = self._fake._new_callback_id()
        query: JSON = {
            "id": query_id,
            "from": self.as_user(),
            "message": target.to_api(),
            "chat_instance": str(-(10**12) - self.id),
            "data": data,
        }
        self.callback_queries.append(query)
        if not expired:
            self._fake._pending_callbacks[query_id] = query
        return self._enqueue("callback_query", query)

    async def send_document(
        self,
        filename: str,
        content: bytes,
        mime_type: str | None = None,
        *,
        caption: str | None = None,
    ) -> JSON:
        """Send a file; the bot can ``getFile`` and download it."""
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        f = self._fake.store_file("document", content, filename=filename, mime_type=mime)
        msg = self._new_message(document=f.as_document(), caption=caption)
        return self._enqueue("message", msg)

    async def send_photo(
        self,
        sizes: Sequence[tuple[int, int, bytes]] | None = None,
        *,
        caption: str | None = None,
    ) -> JSON:
        """Send a photo as several ``PhotoSize`` entries (smallest first), each downloadable."""
        if not sizes:
            sizes = [(90, 90, b"\xff\xd8thumb\xff\xd9"), (320, 320, b"\xff\xd8" + b"m" * 64 + b"\xff\xd9"),
                     (1280, 1280, b"\xff\xd8" + b"L" * 512 + b"\xff\xd9")]
        photo: list[JSON] = []
        for width, height, data in sizes:
            f = self._fake.store_file("photo", data, mime_type="image/jpeg")
            photo.append({"file_id": f.file_id, "file_unique_id": f.file_unique_id,
                          "width": width, "height": height, "file_size": f.file_size})
        msg = self._new_message(photo=photo, caption=caption)
        return self._enqueue("message", msg)

    async def send_sticker(self, emoji: str = "👍") -> JSON:
        f = self._fake.store_file("sticker", b"RIFF\x00\x00\x00\x00WEBPfake", mime_type="image/webp")
        sticker = {"file_id": f.file_id, "file_unique_id": f.file_unique_id, "type": "regular",
                   "width": 512, "height": 512, "is_animated": False, "is_video": False,
                   "emoji": emoji, "file_size": f.file_size}
        return self._enqueue("message", self._new_message(sticker=sticker))

    async def send_voice(self, duration: int = 3, content: bytes = b"OggS\x00fake-voice") -> JSON:
        f = self._fake.store_file("voice", content, mime_type="audio/ogg")
        voice = {"file_id": f.file_id, "file_unique_id": f.file_unique_id, "duration": duration,
                 "mime_type": "audio/ogg", "file_size": f.file_size}
        return self._enqueue("message", self._new_message(voice=voice))

    async def send_location(self, latitude: float, longitude: float) -> JSON:
        loc = {"latitude": latitude, "longitude": longitude}
        return self._enqueue("message", self._new_message(location=loc))

    async def send_contact(self, phone_number: str, first_name: str | None = None) -> JSON:
        """Share a contact (own contact by default, as with a ``request_contact`` button)."""
        contact = {"phone_number": phone_number, "first_name": first_name or self.first_name,
                   "user_id": self.id}
        return self._enqueue("message", self._new_message(contact=contact))

    async def edit_text(self, message_id: int, new_text: str) -> JSON:
        """Edit one of the user's earlier text messages (sends an ``edited_message`` update)."""
        self._check_can_act()
        msg = self._own_messages.get(message_id)
        if msg is None or "text" not in msg:
            raise LookupError(f"user {self.id}: no own text message {message_id}")
        msg = dict(msg)
        msg["text"] = new_text
        msg["edit_date"] = _now()
        ents = _command_entities(new_text)
        if ents:
            msg["entities"] = ents
        else:
            msg.pop("entities", None)
        self._own_messages[message_id] = msg
        return self._enqueue("edited_message", msg)

    async def block_bot(self, notify: bool = True) -> None:
        """Block the bot: sends to this chat answer 403.  Enqueues a ``my_chat_member`` update
        (status ``kicked``) like Telegram unless ``notify`` is False."""
        self.blocked = True
        if notify:
            self._enqueue("my_chat_member", self._member_update("member", "kicked"))

    async def unblock_bot(self, notify: bool = True) -> None:
        self.blocked = False
        if notify:
            self._enqueue("my_chat_member", self._member_update("kicked", "member"))

    def _member_update(self, old: str, new: str) -> JSON:
        def member(status: str) -> JSON:
            m: JSON = {"status": status, "user": _bot_user()}
            if status == "kicked":
                m["until_date"] = 0
            return m

        return {"chat": self.as_chat(), "from": self.as_user(), "date": _now(),
                "old_chat_member": member(old), "new_chat_member": member(new)}

    def __repr__(self) -> str:
        return f"FakeUser(id={self.id}, first_name={self.first_name!r})"


# --------------------------------------------------------------------------- parameter decoding

_STRING_FIELDS = frozenset({
    "text", "caption", "parse_mode", "callback_query_id", "url", "secret_token", "language_code",
    "action", "inline_message_id", "description", "short_description", "name", "query", "title",
    "file_id", "document", "photo", "voice", "sticker", "audio", "video", "animation",
    "video_note", "thumbnail", "ip_address", "emoji", "message_effect_id",
    "business_connection_id", "phone_number", "first_name", "last_name", "address",
    "foursquare_id", "question", "payload", "start_parameter", "custom_emoji_id", "data",
    "next_offset", "switch_pm_text", "sticker_set_name", "certificate",
})
_JSON_FIELDS = frozenset({
    "reply_markup", "entities", "caption_entities", "link_preview_options", "reply_parameters",
    "commands", "scope", "menu_button", "allowed_updates", "media", "results", "permissions",
    "options", "explanation_entities", "rights", "reaction",
})
_INT_RE = re.compile(r"-?\d+")
_FLOAT_RE = re.compile(r"-?\d+\.\d*(?:[eE][-+]?\d+)?")


def _decode_value(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in _STRING_FIELDS:
        return value
    if key in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if value in ("true", "false"):
        return value == "true"
    if _INT_RE.fullmatch(value):
        return int(value)
    if _FLOAT_RE.fullmatch(value):
        return float(value)
    if value[:1] in "[{":
        with contextlib.suppress(ValueError):
            return json.loads(value)
    return value


async def _read_params(request: web.Request) -> JSON:
    params: JSON = {k: v for k, v in request.query.items()}
    if request.method == "POST" and request.can_read_body:
        ctype = request.content_type
        if ctype == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        else:
            form: MultiDictProxy[Any] = await request.post()
            for key, val in form.items():
                if isinstance(val, web.FileField):
                    params[key] = Upload(val.filename, val.file.read(), val.content_type)
                else:
                    params[key] = val
    decoded = {k: _decode_value(k, v) for k, v in params.items()}
    for key, val in list(decoded.items()):  # resolve attach://name references
        if isinstance(val, str) and val.startswith("attach://"):
            ref = decoded.get(val[len("attach://"):])
            if isinstance(ref, Upload):
                decoded[key] = ref
    return decoded


def _jsonable(value: Any) -> Any:
    if isinstance(value, Upload):
        return {"upload": value.filename, "size": len(value.content), "content_type": value.content_type}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


# --------------------------------------------------------------------------- validation helpers

_INLINE_ACTIONS = frozenset({
    "callback_data", "url", "login_url", "switch_inline_query", "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat", "callback_game", "pay", "web_app", "copy_text",
})
_CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
})
_SCOPE_TYPES = frozenset({
    "default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
    "chat_administrators", "chat_member",
})
_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


def _validate_reply_markup(markup: Any, *, inline_only: bool = False) -> None:
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad_request("field \"inline_keyboard\" must be an Array of Arrays")
        for row in rows:
            for b in row:
                if not isinstance(b, dict) or not isinstance(b.get("text"), str) or not b["text"]:
                    raise _bad_request("can't parse inline keyboard button: Field \"text\" must be of type String")
                actions = _INLINE_ACTIONS.intersection(b)
                if not actions:
                    raise _bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                    )
                if "callback_data" in b:
                    data = b["callback_data"]
                    if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
                        raise _bad_request("BUTTON_DATA_INVALID")
                if "url" in b and not b["url"]:
                    raise _bad_request("BUTTON_URL_INVALID")
        return
    if inline_only:
        raise _bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise _bad_request("field \"keyboard\" must be an Array of Arrays")
        for row in rows:
            for b in row:
                text = b if isinstance(b, str) else (b.get("text") if isinstance(b, dict) else None)
                if not isinstance(text, str) or not text:
                    raise _bad_request("can't parse keyboard button: Field \"text\" must be of type String")
        return
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return
    raise _bad_request("can't parse reply keyboard markup JSON object")


def _render(text: str, parse_mode: Any, entities: Any) -> tuple[str, list[JSON]]:
    """Apply parse_mode (ignored when explicit entities are given, as in Telegram)."""
    if entities:
        if not isinstance(entities, list):
            raise _bad_request("can't parse entities JSON object")
        return text, entities
    try:
        return parse_text(text, parse_mode if isinstance(parse_mode, str) else None)
    except UnsupportedParseMode:
        raise _bad_request(f"unsupported parse_mode \"{parse_mode}\"") from None
    except FormattingError as exc:
        raise _bad_request(f"can't parse entities: {exc}") from None


def _scope_key(scope: Any) -> str:
    if scope is None:
        scope = {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in _SCOPE_TYPES:
        raise _bad_request("can't parse BotCommandScope JSON object")
    if scope["type"] in ("chat", "chat_administrators", "chat_member") and "chat_id" not in scope:
        raise _bad_request("chat_id is empty")
    return json.dumps(scope, sort_keys=True)


# --------------------------------------------------------------------------- the server

Handler = Callable[[JSON], Awaitable[Any]]


class FakeTelegram:
    """The fake Bot API server.  Use as ``async with FakeTelegram() as fake:``.

    Args:
        token: the token reported by :attr:`token` (any token is accepted and recorded in
            :attr:`tokens_seen` unless ``strict_token`` is true, then others get 401).
        host / port: where to listen; port 0 picks a free port.
        rate_limit: ``True`` for the default :class:`RateLimitConfig` (30 sends/s overall,
            1/s per chat, sliding 1 s window, answering 429 with ``retry_after``), or a config.
        strict_token: answer 401 ``Unauthorized`` for tokens other than ``token``.
        max_recorded_calls: keep only about this many recent entries in :attr:`calls` (for long
            benchmark runs; ``None`` keeps everything).
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: bool | RateLimitConfig = False,
        strict_token: bool = False,
        max_recorded_calls: int | None = None,
    ) -> None:
        self.token = token
        self.max_recorded_calls = max_recorded_calls
        self._calls_dropped = 0
        self.host = host
        self.port = port
        self.strict_token = strict_token
        self.rate_limit: RateLimitConfig | None = (
            RateLimitConfig() if rate_limit is True else (rate_limit or None)
        )
        self._limiter = _RateLimiter(self.rate_limit) if self.rate_limit else None

        self.calls: list[Call] = []
        self.unknown_calls: list[Call] = []
        self.errors: list[ErrorResponse] = []
        self.internal_errors: list[tuple[str, BaseException]] = []
        self.tokens_seen: set[str] = set()
        self.stats = FakeStats()
        self.answered_callbacks: dict[str, CallbackAnswer] = {}
        self.my_commands: dict[tuple[str, str], list[JSON]] = {}
        """``(scope_json, language_code) -> commands``; use :meth:`commands` to read."""
        self.menu_buttons: dict[int | None, JSON] = {}
        self.bot_texts: dict[tuple[str, str], str] = {}
        self.webhook_url: str = ""
        self.webhook_secret: str | None = None
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.files: dict[str, StoredFile] = {}
        self.users: dict[int, FakeUser] = {}

        self._seq = 0
        self._updates: list[JSON] = []
        self._unhandled: dict[int, str] = {}
        """Update id -> update type, for every queued update not yet reported handled."""
        self._next_update_id = 100_000
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._pending_callbacks: dict[str, JSON] = {}
        self._callback_ids = itertools.count(4_000_000_000_000_000_001)
        self._file_ids = itertools.count(1)
        self._failures: list[_FailureRule] = []
        self._waiters: set[asyncio.Future[None]] = set()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_last_error: tuple[int, str] | None = None
        self._files_by_path: dict[str, StoredFile] = {}
        self._methods: dict[str, tuple[str, Handler]] = {}
        self._register_methods()

    # ---- lifecycle

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (PTB: ``base_url=f"{url}/bot"``)."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._control_routes(app)
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = site._server.sockets if site._server is not None else []  # type: ignore[union-attr]
        self.port = sockets[0].getsockname()[1]
        self._session = ClientSession(timeout=ClientTimeout(total=10))
        _LOG.debug("fake Telegram listening on %s", self.url)

    async def close(self) -> None:
        self._closing = True
        self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- test-side API

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        is_premium: bool | None = None,
        started: bool = True,
    ) -> FakeUser:
        """The simulated user with this id (created on first call; later calls return it).

        With ``started=False`` the user has never contacted the bot: until their first action,
        sends to them answer 403 ``Forbidden: bot can't initiate conversation with a user``.
        """
        if user_id in self.users:
            return self.users[user_id]
        if user_id <= 0:
            raise ValueError("user ids are positive")
        u = FakeUser(self, user_id, first_name, last_name, username, language_code, is_premium,
                     started)
        self.users[user_id] = u
        return u

    def enqueue(self, update: JSON) -> JSON:
        """Queue a raw update payload (``update_id`` is assigned here) and return it."""
        update = {"update_id": self._next_update_id, **{k: v for k, v in update.items() if k != "update_id"}}
        self._next_update_id += 1
        self._updates.append(update)
        self._unhandled[update["update_id"]] = self._update_type(update)
        self._notify()
        return update

    def mark_handled(self, update_id: int) -> None:
        """The bot under test reports that it has finished handling this update.

        The fake cannot see inside the bot, so the bot's side says when an update is done
        (``tests/telegram/conftest.py`` does it from a handler in the Application's last group).
        """
        self._unhandled.pop(update_id, None)
        self._notify()

    @property
    def unhandled_update_ids(self) -> list[int]:
        """Ids of queued updates the bot has not reported handled (see :meth:`mark_handled`).

        Updates the bot never receives (a type outside ``allowed_updates``) are not counted.
        """
        return [update_id for update_id, kind in self._unhandled.items() if self._kind_allowed(kind)]

    async def wait_until_handled(self, timeout: float = 5.0) -> None:
        """Wait until the bot has reported every queued update handled (:meth:`mark_handled`).

        Deterministic where waiting for a quiet period is a guess: once this returns, every
        message the bot sent while handling those updates has been received here.
        """
        await self.wait_until(
            lambda: not self.unhandled_update_ids,
            timeout,
            lambda: f"the bot did not finish handling updates {self.unhandled_update_ids}",
        )

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed (getUpdates) or delivered (webhook)."""
        return list(self._updates)

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        retry_after: int | None = None,
        description: str | None = None,
        *,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (``"*"`` = any; optionally only for
        ``chat_id``) answer with ``error_code``.  429 answers carry ``retry_after`` (default 1)."""
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = {
                400: "Bad Request: injected failure",
                401: "Unauthorized",
                403: "Forbidden: bot was blocked by the user",
                404: "Not Found",
                409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                429: f"Too Many Requests: retry after {retry_after}",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(error_code, f"Error {error_code}")
        self._failures.append(
            _FailureRule(method.lower(), error_code, description, retry_after, times, chat_id)
        )

    def calls_to(self, method: str) -> list[JSON]:
        """Parameters of every recorded call of ``method`` (case-insensitive)."""
        m = method.lower()
        return [c.params for c in self.calls if c.method.lower() == m]

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """Commands stored by setMyCommands for this scope (default scope) and language."""
        return self.my_commands.get((_scope_key(scope), language_code), [])

    @property
    def unanswered_callbacks(self) -> list[JSON]:
        """Callback queries sent by users that the bot has not answered (yet)."""
        return list(self._pending_callbacks.values())

    def expire_callback_queries(self) -> None:
        """Forget the unanswered button presses, as Telegram does after about 15 seconds.

        Answering one afterwards gets "query is too old".
        """
        self._pending_callbacks.clear()

    def reset_stats(self) -> None:
        self.stats = FakeStats()

    def store_file(
        self,
        kind: str,
        content: bytes,
        *,
        filename: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        """Register a downloadable file; ``kind`` is the folder (``document``, ``photo``...)."""
        n = next(self._file_ids)
        ext = ""
        if filename and "." in filename:
            ext = "." + filename.rsplit(".", 1)[1]
        elif mime_type:
            ext = mimetypes.guess_extension(mime_type) or ""
        f = StoredFile(
            file_id=f"FAKE{kind[:3].upper()}{n:08d}{hashlib.sha1(content).hexdigest()[:8]}",
            file_unique_id=f"U{kind[:3]}{n:06d}",
            content=content,
            file_path=f"{kind}s/file_{n}{ext}",
            filename=filename,
            mime_type=mime_type,
        )
        self.files[f.file_id] = f
        self._files_by_path[f.file_path] = f
        return f

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,
        describe: Callable[[], str] | str | None = None,
    ) -> None:
        """Wait until ``predicate()`` holds (re-checked on every state change of the fake).

        Raises ``TimeoutError`` with ``describe`` and the last API calls for context.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                what = describe() if callable(describe) else (describe or "condition")
                recent = ", ".join(f"{c.method}({_short(c.params)})" for c in self.calls[-8:])
                extra = f"; fake internal errors: {self.internal_errors}" if self.internal_errors else ""
                raise TimeoutError(f"{what} (after {timeout}s); last API calls: [{recent}]{extra}")
            await self._wait_change(remaining)

    async def wait_for_call(self, method: str, count: int = 1, timeout: float = 5.0) -> list[JSON]:
        """Wait until ``method`` was called at least ``count`` times in total; returns params."""
        await self.wait_until(lambda: len(self.calls_to(method)) >= count, timeout,
                              f"expected {count} call(s) of {method}")
        return self.calls_to(method)

    async def wait_for_callback_answer(self, callback_query_id: str, timeout: float = 5.0) -> CallbackAnswer:
        await self.wait_until(lambda: callback_query_id in self.answered_callbacks, timeout,
                              f"callback query {callback_query_id} was not answered")
        return self.answered_callbacks[callback_query_id]

    async def deliver_to_webhook(self, url: str, secret_token: str | None = None) -> list[WebhookDelivery]:
        """POST every pending update to ``url`` now (independent of setWebhook), in order.

        Updates answered with 2xx are removed from the queue; returns one record per update.
        """
        results: list[WebhookDelivery] = []
        for update in self._deliverable():
            d = await self._post_update(url, update, secret_token)
            results.append(d)
            if d.status is not None and 200 <= d.status < 300:
                self._remove_update(update["update_id"])
        return results

    async def post_raw(
        self,
        url: str,
        body: bytes | str | JSON,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, str]:
        """POST an arbitrary body (dicts are JSON-encoded) with arbitrary headers, for negative
        webhook tests (wrong/missing secret, malformed JSON).  Returns ``(status, text)``."""
        assert self._session is not None, "FakeTelegram is not started"
        hdrs = dict(headers or {})
        if isinstance(body, dict):
            data: bytes = _dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        else:
            data = body.encode() if isinstance(body, str) else body
        async with self._session.post(url, data=data, headers=hdrs) as resp:
            return resp.status, await resp.text()

    # ---- internals: notification

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, set()
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def _wait_change(self, timeout: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(fut)
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(fut)

    def _bump(self) -> int:
        self._seq += 1
        self._notify()
        return self._seq

    def _new_callback_id(self) -> str:
        return str(next(self._callback_ids))

    # ---- internals: update queue

    def _update_type(self, update: JSON) -> str:
        return next((k for k in update if k != "update_id"), "")

    def _allowed(self, update: JSON) -> bool:
        return self._kind_allowed(self._update_type(update))

    def _kind_allowed(self, kind: str) -> bool:
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in _DEFAULT_EXCLUDED_UPDATES

    def _deliverable(self, offset: int = 0) -> list[JSON]:
        return [u for u in self._updates if u["update_id"] >= offset and self._allowed(u)]

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _remove_update(self, update_id: int) -> None:
        self._updates = [u for u in self._updates if u["update_id"] != update_id]
        self._notify()

    # ---- internals: webhook push

    async def _post_update(self, url: str, update: JSON, secret: str | None) -> WebhookDelivery:
        assert self._session is not None, "FakeTelegram is not started"
        headers = {"Content-Type": "application/json"}
        if secret:
            headers[SECRET_HEADER] = secret
        try:
            async with self._session.post(url, data=_dumps(update).encode(), headers=headers) as resp:
                await resp.read()
                d = WebhookDelivery(url, update["update_id"], resp.status, None)
        except (ClientError, TimeoutError, OSError) as exc:
            d = WebhookDelivery(url, update["update_id"], None, f"{type(exc).__name__}: {exc}")
        self.webhook_deliveries.append(d)
        if d.status is None or not 200 <= d.status < 300:
            self._webhook_last_error = (_now(), d.error or f"Wrong response from the webhook: {d.status}")
        self._notify()
        return d

    async def _webhook_worker(self) -> None:
        backoff = 0.05
        while not self._closing and self.webhook_url:
            batch = self._deliverable()
            if not batch:
                await self._wait_change(1.0)
                continue
            update = batch[0]
            d = await self._post_update(self.webhook_url, update, self.webhook_secret)
            if d.status is not None and 200 <= d.status < 300:
                self._remove_update(update["update_id"])
                backoff = 0.05
            else:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)

    def _ensure_webhook_worker(self) -> None:
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.get_running_loop().create_task(self._webhook_worker())

    # ---- internals: HTTP handlers

    def _json(self, body: JSON, status: int = 200) -> web.Response:
        return web.json_response(body, status=status, dumps=_dumps)

    def _error(self, method: str, params: JSON, err: ApiError) -> web.Response:
        self.errors.append(ErrorResponse(method, params, err.error_code, err.description))
        self.stats.errors_by_code[err.error_code] += 1
        if err.error_code == 429:
            self.stats.total_429 += 1
        if err.error_code == 403:
            self.stats.forbidden_403 += 1
        return self._json(err.payload(), status=err.error_code)

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        raw_method = request.match_info["method"]
        try:
            params = await _read_params(request)
        except Exception as exc:
            return self._json(_bad_request(f"can't parse request: {exc}").payload(), 400)
        entry = self._methods.get(raw_method.lower())
        method = entry[0] if entry else raw_method
        self.tokens_seen.add(token)
        call = Call(method, params)
        self._record(call)
        self.stats.calls_per_method[method] += 1
        self._notify()
        if self.strict_token and token != self.token:
            return self._error(method, params, ApiError(401, "Unauthorized"))
        if entry is None:
            self.unknown_calls.append(call)
            return self._error(method, params, ApiError(404, "Not Found"))
        injected = self._take_failure(method, params)
        if injected is not None:
            self.stats.injected_failures += 1
            return self._error(method, params, injected)
        limited = self._check_rate_limit(method, params)
        if limited is not None:
            return self._error(method, params, limited)
        try:
            result = await entry[1](params)
        except ApiError as err:
            return self._error(method, params, err)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in the fake (or an unexpected parameter type)
            _LOG.exception("fake Telegram: %s failed", method)
            self.internal_errors.append((method, exc))
            return self._error(method, params, ApiError(500, f"Internal Server Error: {exc!r}"))
        self._after_success(method, params)
        return self._json({"ok": True, "result": result})

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        limit = self.max_recorded_calls
        if limit is not None and len(self.calls) > 2 * max(limit, 1):
            drop = len(self.calls) - limit
            del self.calls[:drop]
            self._calls_dropped += drop

    def _take_failure(self, method: str, params: JSON) -> ApiError | None:
        m = method.lower()
        for rule in self._failures:
            if rule.method not in ("*", m):
                continue
            if rule.chat_id is not None and params.get("chat_id") != rule.chat_id:
                continue
            rule.remaining -= 1
            if rule.remaining <= 0:
                self._failures.remove(rule)
            return ApiError(rule.error_code, rule.description, rule.retry_after)
        return None

    def _check_rate_limit(self, method: str, params: JSON) -> ApiError | None:
        if self._limiter is None or method.lower() not in self._limiter.config.methods:
            return None
        wait = self._limiter.check(params.get("chat_id", ""), time.monotonic())
        if wait is None:
            return None
        self.stats.rate_limited += 1
        return ApiError(429, f"Too Many Requests: retry after {wait}", wait)

    def _after_success(self, method: str, params: JSON) -> None:
        if self.rate_limit and self._limiter and method.lower() in self.rate_limit.methods:
            self._limiter.record(params.get("chat_id", ""), time.monotonic())

    async def _handle_file(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        self.tokens_seen.add(token)
        if self.strict_token and token != self.token:
            return self._json(ApiError(401, "Unauthorized").payload(), 401)
        f = self._files_by_path.get(request.match_info["path"])
        if f is None:
            return self._json(ApiError(404, "Not Found").payload(), 404)
        return web.Response(body=f.content, content_type=f.mime_type or "application/octet-stream")

    # ---- internals: Bot API methods

    def _register_methods(self) -> None:
        table: dict[str, Handler] = {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "getChat": self._get_chat,
            "setMyName": self._setter("name"),
            "getMyName": self._getter("name"),
            "setMyDescription": self._setter("description"),
            "getMyDescription": self._getter("description"),
            "setMyShortDescription": self._setter("short_description"),
            "getMyShortDescription": self._getter("short_description"),
        }
        self._methods = {name.lower(): (name, fn) for name, fn in table.items()}

    async def _true(self, p: JSON) -> bool:
        return True

    async def _get_me(self, p: JSON) -> JSON:
        return {
            **_bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, p: JSON) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset = int(p.get("offset", 0) or 0)
        limit = min(max(int(p.get("limit", 100) or 100), 1), 100)
        timeout = max(float(p.get("timeout", 0) or 0), 0.0)
        if "allowed_updates" in p and isinstance(p["allowed_updates"], list):
            self._allowed_updates = p["allowed_updates"] or None
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # terminate an older long poll
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; "
                                    "make sure that only one bot instance is running")
            batch = self._deliverable(offset)[:limit]
            remaining = deadline - loop.time()
            if batch or self._closing or remaining <= 0:
                return batch
            await self._wait_change(remaining)

    async def _set_webhook(self, p: JSON) -> bool:
        url = str(p.get("url", "") or "")
        secret = p.get("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(str(secret)):
            raise _bad_request("secret token contains unallowed characters")
        if url and not url.startswith(("http://", "https://")):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if p.get("drop_pending_updates"):
            self._updates.clear()
        if "allowed_updates" in p and isinstance(p["allowed_updates"], list):
            self._allowed_updates = p["allowed_updates"] or None
        self.webhook_url = url
        self.webhook_secret = str(secret) if secret is not None else None
        self._webhook_last_error = None
        self._poll_generation += 1  # a pending getUpdates gets a conflict
        self._notify()
        if url:
            self._ensure_webhook_worker()
        return True

    async def _delete_webhook(self, p: JSON) -> bool:
        if p.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook_url = ""
        self.webhook_secret = None
        self._notify()
        return True

    async def _get_webhook_info(self, p: JSON) -> JSON:
        info: JSON = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook_url:
            info["max_connections"] = 40
            if self._allowed_updates:
                info["allowed_updates"] = self._allowed_updates
            if self._webhook_last_error:
                info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info

    def _user_for(self, p: JSON, *, key: str = "chat_id", check_blocked: bool = True) -> FakeUser:
        chat_id = p.get(key)
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        if not isinstance(chat_id, int) or chat_id not in self.users:
            raise _bad_request("chat not found")
        user = self.users[chat_id]
        if check_blocked and user.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if check_blocked and not user.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return user

    def _add_bot_message(self, user: FakeUser, method: str, p: JSON, **fields: Any) -> BotMessage:
        markup = p.get("reply_markup")
        mid = user._next_message_id
        user._next_message_id += 1
        reply_to = p.get("reply_to_message_id")
        if isinstance(p.get("reply_parameters"), dict):
            reply_to = p["reply_parameters"].get("message_id")
        msg = BotMessage(
            message_id=mid,
            chat_id=user.id,
            date=_now(),
            method=method,
            seq=self._bump(),
            parse_mode=p.get("parse_mode") if isinstance(p.get("parse_mode"), str) else None,
            reply_markup=markup,
            reply_to_message_id=reply_to if isinstance(reply_to, int) else None,
            chat=user.as_chat(),
            **fields,
        )
        user._bot_messages[mid] = msg
        if isinstance(markup, dict):
            if "keyboard" in markup:
                user.reply_keyboard = markup
            elif markup.get("remove_keyboard"):
                user.reply_keyboard = None
        self.stats.messages_sent += 1
        self.stats.sent_per_chat[user.id] += 1
        return msg

    def _caption(self, p: JSON) -> tuple[str | None, list[JSON]]:
        caption = p.get("caption")
        if caption is None or caption == "":
            return None, []
        text, ents = _render(str(caption), p.get("parse_mode"), p.get("caption_entities"))
        if len(text) > 1024:
            raise _bad_request("message caption is too long")
        return text, ents

    async def _send_message(self, p: JSON) -> JSON:
        user = self._user_for(p)
        raw = p.get("text")
        if raw is None or str(raw) == "":
            raise _bad_request("message text is empty")
        text, ents = _render(str(raw), p.get("parse_mode"), p.get("entities"))
        if not text.strip():
            raise _bad_request("message text is empty")
        if len(text) > 4096:
            raise _bad_request("message is too long")
        _validate_reply_markup(p.get("reply_markup"))
        lpo = p.get("link_preview_options")
        msg = self._add_bot_message(
            user, "sendMessage", p, text=text, raw_text=str(raw), entities=ents,
            link_preview_options=lpo if isinstance(lpo, dict) else None,
        )
        return msg.to_api()

    def _file_param(self, p: JSON, key: str, kind: str) -> StoredFile:
        value = p.get(key)
        if isinstance(value, Upload):
            if not value.content:
                raise _bad_request("file must be non-empty")
            mime = value.content_type or mimetypes.guess_type(value.filename)[0]
            return self.store_file(kind, value.content, filename=value.filename, mime_type=mime)
        if isinstance(value, str) and value:
            if value in self.files:
                return self.files[value]
            if value.startswith(("http://", "https://")):
                raise _bad_request("failed to get HTTP URL content")
            raise _bad_request("wrong file identifier/HTTP URL specified")
        raise _bad_request(f"there is no {key} in the request")

    async def _send_document(self, p: JSON) -> JSON:
        user = self._user_for(p)
        f = self._file_param(p, "document", "document")
        caption, cents = self._caption(p)
        _validate_reply_markup(p.get("reply_markup"))
        msg = self._add_bot_message(user, "sendDocument", p, document=f, caption=caption,
                                    caption_entities=cents)
        return msg.to_api()

    async def _send_photo(self, p: JSON) -> JSON:
        user = self._user_for(p)
        f = self._file_param(p, "photo", "photo")
        caption, cents = self._caption(p)
        _validate_reply_markup(p.get("reply_markup"))
        msg = self._add_bot_message(user, "sendPhoto", p, photo=f, caption=caption,
                                    caption_entities=cents)
        return msg.to_api()

    def _editable(self, p: JSON) -> tuple[FakeUser, BotMessage]:
        if p.get("inline_message_id"):
            raise _bad_request("MESSAGE_ID_INVALID")
        user = self._user_for(p)
        mid = p.get("message_id")
        if not isinstance(mid, int):
            raise _bad_request("message identifier is not specified")
        msg = user._bot_messages.get(mid)
        if msg is None or msg.deleted:
            if mid in user._own_messages:
                raise _bad_request("message can't be edited")
            raise _bad_request("message to edit not found")
        return user, msg

    def _apply_edit(self, msg: BotMessage) -> JSON:
        msg.edit_date = _now()
        msg.edit_seqs.append(self._bump())
        return msg.to_api()

    _NOT_MODIFIED = ("message is not modified: specified new message content and reply markup "
                     "are exactly the same as a current content and reply markup of the message")

    async def _edit_message_text(self, p: JSON) -> JSON:
        _, msg = self._editable(p)
        raw = p.get("text")
        if raw is None or str(raw) == "":
            raise _bad_request("message text is empty")
        if msg.text is None:
            raise _bad_request("there is no text in the message to edit")
        text, ents = _render(str(raw), p.get("parse_mode"), p.get("entities"))
        if len(text) > 4096:
            raise _bad_request("message is too long")
        markup = p.get("reply_markup")
        _validate_reply_markup(markup, inline_only=True)
        new_kb = markup if isinstance(markup, dict) else None
        if text == msg.text and ents == msg.entities and (new_kb or None) == (
            {"inline_keyboard": msg.inline_keyboard} if msg.inline_keyboard else None
        ):
            raise _bad_request(self._NOT_MODIFIED)
        msg.text, msg.raw_text, msg.entities = text, str(raw), ents
        msg.parse_mode = p.get("parse_mode") if isinstance(p.get("parse_mode"), str) else None
        msg.reply_markup = new_kb  # no reply_markup in the edit removes the inline keyboard
        lpo = p.get("link_preview_options")
        if isinstance(lpo, dict):
            msg.link_preview_options = lpo
        return self._apply_edit(msg)

    async def _edit_message_caption(self, p: JSON) -> JSON:
        _, msg = self._editable(p)
        if msg.document is None and msg.photo is None:
            raise _bad_request("there is no caption in the message to edit")
        caption, cents = self._caption(p)
        markup = p.get("reply_markup")
        _validate_reply_markup(markup, inline_only=True)
        new_kb = markup if isinstance(markup, dict) else None
        if caption == msg.caption and cents == msg.caption_entities and (new_kb or None) == (
            {"inline_keyboard": msg.inline_keyboard} if msg.inline_keyboard else None
        ):
            raise _bad_request(self._NOT_MODIFIED)
        msg.caption, msg.caption_entities, msg.reply_markup = caption, cents, new_kb
        return self._apply_edit(msg)

    async def _edit_message_reply_markup(self, p: JSON) -> JSON:
        _, msg = self._editable(p)
        markup = p.get("reply_markup")
        _validate_reply_markup(markup, inline_only=True)
        new_kb = markup if isinstance(markup, dict) and markup.get("inline_keyboard") else None
        old_kb = {"inline_keyboard": msg.inline_keyboard} if msg.inline_keyboard else None
        if new_kb == old_kb:
            raise _bad_request(self._NOT_MODIFIED)
        msg.reply_markup = new_kb
        return self._apply_edit(msg)

    async def _delete_message(self, p: JSON) -> bool:
        user = self._user_for(p, check_blocked=False)
        mid = p.get("message_id")
        msg = user._bot_messages.get(mid) if isinstance(mid, int) else None
        if msg is not None and not msg.deleted:
            msg.deleted = True
            self._bump()
            return True
        if isinstance(mid, int) and mid in user._own_messages:
            del user._own_messages[mid]
            self._bump()
            return True
        raise _bad_request("message to delete not found")

    async def _answer_callback_query(self, p: JSON) -> bool:
        qid = p.get("callback_query_id")
        qid = str(qid) if qid is not None else ""
        if qid not in self._pending_callbacks:
            raise _bad_request("query is too old and response timeout expired or query ID is invalid")
        text = p.get("text")
        if isinstance(text, str) and len(text) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        del self._pending_callbacks[qid]
        self.answered_callbacks[qid] = CallbackAnswer(
            callback_query_id=qid,
            text=text if isinstance(text, str) else None,
            show_alert=bool(p.get("show_alert", False)),
            url=p.get("url") if isinstance(p.get("url"), str) else None,
            cache_time=p.get("cache_time") if isinstance(p.get("cache_time"), int) else None,
        )
        self._notify()
        return True

    async def _set_my_commands(self, p: JSON) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad_request("too many commands specified")
        for c in commands:
            if not isinstance(c, dict) or not _COMMAND_NAME_RE.fullmatch(str(c.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = (_scope_key(p.get("scope")), str(p.get("language_code", "") or ""))
        if commands:
            self.my_commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self.my_commands.pop(key, None)
        return True

    async def _get_my_commands(self, p: JSON) -> list[JSON]:
        key = (_scope_key(p.get("scope")), str(p.get("language_code", "") or ""))
        return self.my_commands.get(key, [])

    async def _delete_my_commands(self, p: JSON) -> bool:
        key = (_scope_key(p.get("scope")), str(p.get("language_code", "") or ""))
        self.my_commands.pop(key, None)
        return True

    async def _send_chat_action(self, p: JSON) -> bool:
        user = self._user_for(p)
        action = p.get("action")
        if action not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        user.chat_actions.append(str(action))
        self._notify()
        return True

    async def _get_file(self, p: JSON) -> JSON:
        f = self.files.get(str(p.get("file_id", "")))
        if f is None:
            raise _bad_request("invalid file_id")
        if f.file_size > MAX_DOWNLOAD_SIZE:
            raise _bad_request("file is too big")
        return {"file_id": f.file_id, "file_unique_id": f.file_unique_id,
                "file_size": f.file_size, "file_path": f.file_path}

    async def _set_chat_menu_button(self, p: JSON) -> bool:
        chat_id = p.get("chat_id")
        if chat_id is not None:
            self._user_for(p, check_blocked=False)
        button = p.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in ("commands", "web_app", "default"):
            raise _bad_request("can't parse menu button JSON object")
        self.menu_buttons[chat_id if isinstance(chat_id, int) else None] = button
        return True

    async def _get_chat_menu_button(self, p: JSON) -> JSON:
        chat_id = p.get("chat_id")
        if isinstance(chat_id, int):
            self._user_for(p, check_blocked=False)
            return self.menu_buttons.get(chat_id, {"type": "default"})
        return self.menu_buttons.get(None, {"type": "commands"})

    async def _get_chat(self, p: JSON) -> JSON:
        user = self._user_for(p, check_blocked=False)
        return {
            **user.as_chat(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {"unlimited_gifts": True, "limited_gifts": True,
                                    "unique_gifts": True, "premium_subscription": True,
                                    "gifts_from_channels": True},
        }

    def _setter(self, what: str) -> Handler:
        async def handler(p: JSON) -> bool:
            self.bot_texts[(what, str(p.get("language_code", "") or ""))] = str(p.get(what, "") or "")
            return True

        return handler

    def _getter(self, what: str) -> Handler:
        async def handler(p: JSON) -> JSON:
            return {what: self.bot_texts.get((what, str(p.get("language_code", "") or "")), "")}

        return handler

    # ---- control API (for running as a separate process)

    def _control_routes(self, app: web.Application) -> None:
        """JSON control API used by :class:`RemoteFakeTelegram`:

        * ``GET  /_fake/health`` -> ``{"ok": true, "url": ..., "token": ...}``
        * ``POST /_fake/users`` ``{"user_id", "first_name", "language_code", ...}`` -> user
        * ``POST /_fake/users/{id}/{action}`` with the action's keyword arguments as JSON, where
          action is one of send_text, send_command (``command``, ``args``), press (``button``,
          ``message_id``), press_raw, send_document (``content_b64``), send_photo
          (``sizes``: ``[[w, h, b64], ...]``), send_sticker, send_voice, send_location,
          send_contact, edit_text, block_bot, unblock_bot, wait_for_bot (``count``,
          ``timeout``), wait_for_edit -> ``{"ok": true, "result": ...}``
        * ``GET  /_fake/users/{id}/messages`` -> current bot messages
        * ``GET  /_fake/stats`` / ``POST /_fake/stats/reset``
        * ``GET  /_fake/calls?method=sendMessage&since=N`` -> recorded calls
        * ``POST /_fake/fail_next`` ``{"method", "error_code", "retry_after", "times", ...}``
        * ``POST /_fake/enqueue`` raw update payload
        * ``GET  /_fake/files/{file_id}`` -> raw bytes
        """
        app.router.add_get("/_fake/health", self._c_health)
        app.router.add_post("/_fake/users", self._c_create_user)
        app.router.add_get("/_fake/users/{user_id}/messages", self._c_messages)
        app.router.add_post("/_fake/users/{user_id}/{action}", self._c_user_action)
        app.router.add_get("/_fake/stats", self._c_stats)
        app.router.add_post("/_fake/stats/reset", self._c_reset_stats)
        app.router.add_get("/_fake/calls", self._c_calls)
        app.router.add_post("/_fake/fail_next", self._c_fail_next)
        app.router.add_post("/_fake/enqueue", self._c_enqueue)
        app.router.add_get("/_fake/files/{file_id}", self._c_file)

    def _ok(self, result: Any) -> web.Response:
        return self._json({"ok": True, "result": result})

    async def _c_health(self, request: web.Request) -> web.Response:
        return self._ok({"url": self.url, "token": self.token})

    async def _c_create_user(self, request: web.Request) -> web.Response:
        body = await request.json()
        u = self.user(
            int(body["user_id"]), str(body.get("first_name", "Test")),
            last_name=body.get("last_name"), username=body.get("username"),
            language_code=body.get("language_code", "en"), is_premium=body.get("is_premium"),
            started=bool(body.get("started", True)),
        )
        return self._ok(u.as_user())

    def _message_json(self, m: BotMessage) -> JSON:
        d = m.to_api()
        d["sent_reply_markup"] = m.reply_markup
        d["raw_text"] = m.raw_text
        d["edit_count"] = m.edit_count
        d["deleted"] = m.deleted
        return d

    async def _c_messages(self, request: web.Request) -> web.Response:
        user = self.users.get(int(request.match_info["user_id"]))
        if user is None:
            return self._json({"ok": False, "description": "unknown user"}, 404)
        return self._ok([self._message_json(m) for m in user.messages])

    async def _c_user_action(self, request: web.Request) -> web.Response:
        user = self.users.get(int(request.match_info["user_id"]))
        if user is None:
            return self._json({"ok": False, "description": "unknown user"}, 404)
        action = request.match_info["action"]
        kw: JSON = await request.json() if request.can_read_body else {}
        try:
            result: Any
            if action == "send_text":
                result = await user.send_text(kw["text"], reply_to=kw.get("reply_to"))
            elif action == "send_command":
                result = await user.send_command(kw["command"], *kw.get("args", []))
            elif action == "press":
                result = await user.press(kw["button"], kw.get("message_id"))
            elif action == "press_raw":
                result = await user.press_raw(kw["data"], kw.get("message_id"))
            elif action == "send_document":
                result = await user.send_document(
                    kw["filename"], base64.b64decode(kw.get("content_b64", "")),
                    kw.get("mime_type"), caption=kw.get("caption"))
            elif action == "send_photo":
                sizes = [(int(w), int(h), base64.b64decode(b)) for w, h, b in kw.get("sizes", [])]
                result = await user.send_photo(sizes or None, caption=kw.get("caption"))
            elif action == "send_sticker":
                result = await user.send_sticker(kw.get("emoji", "👍"))
            elif action == "send_voice":
                result = await user.send_voice(int(kw.get("duration", 3)))
            elif action == "send_location":
                result = await user.send_location(float(kw["latitude"]), float(kw["longitude"]))
            elif action == "send_contact":
                result = await user.send_contact(kw["phone_number"], kw.get("first_name"))
            elif action == "edit_text":
                result = await user.edit_text(int(kw["message_id"]), kw["text"])
            elif action == "block_bot":
                result = await user.block_bot(kw.get("notify", True))
            elif action == "unblock_bot":
                result = await user.unblock_bot(kw.get("notify", True))
            elif action == "wait_for_bot":
                msgs = await user.wait_for_bot(int(kw.get("count", 1)), float(kw.get("timeout", 5.0)))
                result = [self._message_json(m) for m in msgs]
            elif action == "wait_for_edit":
                m = await user.wait_for_edit(kw.get("message_id"), float(kw.get("timeout", 5.0)))
                result = self._message_json(m)
            else:
                return self._json({"ok": False, "description": f"unknown action {action}"}, 404)
        except (LookupError, ValueError, RuntimeError, TimeoutError, KeyError) as exc:
            return self._json({"ok": False, "description": f"{type(exc).__name__}: {exc}"}, 400)
        return self._ok(result)

    async def _c_stats(self, request: web.Request) -> web.Response:
        data = self.stats.as_dict()
        data["pending_updates"] = len(self._updates)
        data["unanswered_callbacks"] = len(self._pending_callbacks)
        data["unknown_calls"] = [c.method for c in self.unknown_calls]
        data["internal_errors"] = [f"{m}: {e!r}" for m, e in self.internal_errors]
        return self._ok(data)

    async def _c_reset_stats(self, request: web.Request) -> web.Response:
        self.reset_stats()
        return self._ok(True)

    async def _c_calls(self, request: web.Request) -> web.Response:
        since = int(request.query.get("since", 0))
        method = request.query.get("method")
        start = max(since - self._calls_dropped, 0)
        calls = [
            {"index": i, "method": c.method, "params": _jsonable(c.params)}
            for i, c in enumerate(self.calls[start:], start=start + self._calls_dropped)
            if method is None or c.method.lower() == method.lower()
        ]
        return self._ok(calls)

    async def _c_fail_next(self, request: web.Request) -> web.Response:
        kw = await request.json()
        self.fail_next(
            kw["method"], int(kw.get("error_code", 429)), retry_after=kw.get("retry_after"),
            description=kw.get("description"), times=int(kw.get("times", 1)),
            chat_id=kw.get("chat_id"),
        )
        return self._ok(True)

    async def _c_enqueue(self, request: web.Request) -> web.Response:
        return self._ok(self.enqueue(await request.json()))

    async def _c_file(self, request: web.Request) -> web.Response:
        f = self.files.get(request.match_info["file_id"])
        if f is None:
            return self._json({"ok": False, "description": "unknown file"}, 404)
        return web.Response(body=f.content, content_type=f.mime_type or "application/octet-stream")


def _short(params: JSON) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return text if len(text) <= 120 else text[:117] + "..."


# --------------------------------------------------------------------------- remote client


class RemoteFakeTelegram:
    """Client for a fake running in another process (``python -m tests.fakes.telegram``).

    ::

        async with RemoteFakeTelegram("http://127.0.0.1:8081") as fake:
            user = await fake.user(1001, "Ann", language_code="en")
            await user.send_command("/start")
            replies = await user.wait_for_bot(1, timeout=5)   # list of Message dicts
            print(await fake.stats())
    """

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._session: ClientSession | None = None

    async def __aenter__(self) -> RemoteFakeTelegram:
        self._session = ClientSession(timeout=ClientTimeout(total=120))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(self, method: str, path: str, body: JSON | None = None,
                       params: Mapping[str, str] | None = None) -> Any:
        assert self._session is not None, "use 'async with RemoteFakeTelegram(url)'"
        async with self._session.request(method, f"{self.url}{path}", json=body, params=params) as resp:
            data = await resp.json()
        if not data.get("ok"):
            raise RuntimeError(f"fake Telegram control API: {data.get('description')}")
        return data["result"]

    async def health(self) -> JSON:
        return await self._request("GET", "/_fake/health")

    async def user(self, user_id: int, first_name: str = "Test", *, language_code: str | None = "en",
                   last_name: str | None = None, username: str | None = None,
                   started: bool = True) -> RemoteUser:
        await self._request("POST", "/_fake/users", {
            "user_id": user_id, "first_name": first_name, "language_code": language_code,
            "last_name": last_name, "username": username, "started": started})
        return RemoteUser(self, user_id)

    async def stats(self) -> JSON:
        return await self._request("GET", "/_fake/stats")

    async def reset_stats(self) -> None:
        await self._request("POST", "/_fake/stats/reset")

    async def calls(self, method: str | None = None, since: int = 0) -> list[JSON]:
        params = {"since": str(since)}
        if method:
            params["method"] = method
        return await self._request("GET", "/_fake/calls", params=params)

    async def fail_next(self, method: str, error_code: int = 429, *, retry_after: int | None = None,
                        description: str | None = None, times: int = 1) -> None:
        await self._request("POST", "/_fake/fail_next", {
            "method": method, "error_code": error_code, "retry_after": retry_after,
            "description": description, "times": times})

    async def enqueue(self, update: JSON) -> JSON:
        return await self._request("POST", "/_fake/enqueue", update)


class RemoteUser:
    """A simulated user of a :class:`RemoteFakeTelegram`; results are plain JSON dicts."""

    def __init__(self, fake: RemoteFakeTelegram, user_id: int) -> None:
        self.fake = fake
        self.id = user_id

    async def action(self, name: str, **kwargs: Any) -> Any:
        return await self.fake._request("POST", f"/_fake/users/{self.id}/{name}", kwargs)

    async def send_text(self, text: str) -> JSON:
        return await self.action("send_text", text=text)

    async def send_command(self, command: str, *args: str) -> JSON:
        return await self.action("send_command", command=command, args=list(args))

    async def press(self, button: str, message_id: int | None = None) -> JSON:
        return await self.action("press", button=button, message_id=message_id)

    async def send_document(self, filename: str, content: bytes, mime_type: str | None = None) -> JSON:
        return await self.action("send_document", filename=filename, mime_type=mime_type,
                                 content_b64=base64.b64encode(content).decode())

    async def wait_for_bot(self, count: int = 1, timeout: float = 5.0) -> list[JSON]:
        return await self.action("wait_for_bot", count=count, timeout=timeout)

    async def messages(self) -> list[JSON]:
        return await self.fake._request("GET", f"/_fake/users/{self.id}/messages")


def start_process(*options: str, cwd: Path | None = None) -> tuple[subprocess.Popen[str], str]:
    """Run the fake as its own process (``options`` as on its command line); returns it and its URL.

    The caller stops it with ``terminate()``. Raises ``RuntimeError`` if it does not start.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.telegram", "--port", "0", *options],
        cwd=cwd or Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url.startswith("http"):
        process.kill()
        raise RuntimeError("the fake Bot API did not start")
    return process, url


# --------------------------------------------------------------------------- process entry point


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.telegram",
        description="Fake Telegram Bot API server (prints its base URL, serves until killed).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--strict-token", action="store_true", help="401 for other tokens")
    parser.add_argument("--rate-limit", action="store_true",
                        help="30 sends/s overall, 1/s per chat; 429 with retry_after beyond")
    parser.add_argument("--global-limit", type=int, default=30)
    parser.add_argument("--per-chat-limit", type=int, default=1)
    parser.add_argument("--max-calls", type=int, default=10000,
                        help="recent API calls kept for /_fake/calls (0 = unlimited)")
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    rate: bool | RateLimitConfig = False
    if args.rate_limit:
        rate = RateLimitConfig(global_per_window=args.global_limit,
                               per_chat_per_window=args.per_chat_limit)
    async with FakeTelegram(token=args.token, host=args.host, port=args.port,
                            rate_limit=rate, strict_token=args.strict_token,
                            max_recorded_calls=args.max_calls or None) as fake:
        print(fake.url, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    """Run the fake as its own process until SIGTERM/SIGINT."""
    args = _parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
