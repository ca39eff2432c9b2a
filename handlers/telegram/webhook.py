"""The webhook server: Telegram POSTs updates here instead of being polled.

Shaped like python-telegram-bot's ``customwebhookbot`` example: the
application has no updater and our aiohttp server puts each update into
``application.update_queue``. Unlike the example, every request must carry
the secret token given to ``setWebhook`` in the
``X-Telegram-Bot-Api-Secret-Token`` header (compared in constant time; 403
otherwise), and only JSON bodies are accepted.
"""

from __future__ import annotations

import hmac
import json
import logging
import re

from aiohttp import web
from telegram import Update
from telegram.ext import Application

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: What Telegram allows in a secret token.
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
#: Updates larger than this are not Telegram's.
MAX_BODY_BYTES = 1024 * 1024

APPLICATION_KEY = web.AppKey("telegram_application", Application)


def make_webhook_app(application: Application, *, secret_token: str, path: str) -> web.Application:
    """An aiohttp app serving ``POST path`` for Telegram and ``GET /healthz``."""
    if not SECRET_PATTERN.match(secret_token):
        raise ValueError("the secret token may only hold A-Z, a-z, 0-9, _ and -, at most 256 characters")
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
            update = Update.de_json(data, application.bot)
        except (ValueError, TypeError, KeyError) as error:
            logger.warning("webhook request with a malformed update refused: %s", error)
            return web.Response(status=400, text="malformed update")
        if update is None:
            return web.Response(status=400, text="malformed update")
        await application.update_queue.put(update)
        return web.Response(text="ok")

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[APPLICATION_KEY] = application
    app.router.add_post(path, receive_update)
    app.router.add_get("/healthz", health)
    return app
