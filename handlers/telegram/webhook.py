"""The webhook server: Telegram POSTs updates here instead of being polled.

Shaped like python-telegram-bot's ``customwebhookbot`` example, with three
differences: every request must carry the secret token given to
``setWebhook`` in the ``X-Telegram-Bot-Api-Secret-Token`` header (compared in
constant time; 403 otherwise); only a JSON object with an integer
``update_id`` is an update (400 otherwise, and nothing changes); and an update
is recorded in the durable inbox before the 200 answer, then handled from
there (503 if it cannot be recorded, so Telegram delivers it again). An
update already recorded (Telegram's redelivery, or the same update posted to
a second process) is answered 200 and not handled again.
"""

from __future__ import annotations

import hmac
import json
import logging
import re

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.inbox import Inbox
from storage.errors import StorageError
from storage.inbox import ArrivedUpdate

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: What Telegram allows in a secret token.
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
#: Updates larger than this are not Telegram's.
MAX_BODY_BYTES = 1024 * 1024

APPLICATION_KEY = web.AppKey("telegram_application", Application)


class SecretTokenError(ValueError):
    """The secret token has characters Telegram does not allow."""


def check_secret_token(secret_token: str) -> None:
    if not SECRET_PATTERN.match(secret_token):
        raise SecretTokenError(
            "the secret token may only hold A-Z, a-z, 0-9, _ and -, at most 256 characters"
        )


def make_webhook_app(
    application: Application,
    *,
    inbox: Inbox,
    secret_token: str,
    path: str,
) -> web.Application:
    """An aiohttp app serving ``POST path`` for Telegram and ``GET /healthz``."""
    check_secret_token(secret_token)
    expected = secret_token.encode("utf-8")

    async def receive_update(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
        if not hmac.compare_digest(given, expected):
            logger.warning("webhook request from %s refused: wrong or missing secret token", request.remote)
            return web.Response(status=403, text="forbidden")
        if request.content_type != "application/json":
            return web.Response(status=415, text="expected application/json")
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return web.Response(status=413, text="too large")
        try:
            data = json.loads(await request.read())
            if not isinstance(data, dict) or type(data.get("update_id")) is not int:
                raise ValueError("not a JSON object with an integer update_id")
            update = Update.de_json(data, application.bot)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            logger.warning("webhook request with a malformed update refused: %s", error)
            return web.Response(status=400, text="malformed update")
        if update is None:
            return web.Response(status=400, text="malformed update")
        arrived = ArrivedUpdate(dedup_key=str(update.update_id), payload=json.dumps(data, ensure_ascii=True))
        try:
            entries = await inbox.record([arrived])
        except StorageError as error:
            logger.error("could not record update %s: %s; Telegram will deliver it again", update.update_id, error)
            return web.Response(status=503, text="try again later")
        inbox.handle_soon(entries)
        return web.Response(text="ok")

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[APPLICATION_KEY] = application
    app.router.add_post(path, receive_update)
    app.router.add_get("/healthz", health)
    return app
