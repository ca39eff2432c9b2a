"""The web chat's aiohttp application: the page, its assets and the JSON API, mounted under ``/s``.

Routes (relative to the ``/s`` prefix :func:`mount` uses):

- ``GET /{token}``: the chat page (HTML; the page fetches its state). Changes nothing.
- ``GET /{token}/state``: where the respondent is, as JSON. Changes nothing.
- ``POST /{token}/action``: ``{"key", "position", "action", "language"}``, one engine action, exactly once.
- ``POST /{token}/upload``: multipart ``key``, ``position``, ``language``, ``file``: a file answer
  (with ``form=1`` and ``csrf``, from the page without JavaScript: answers with the page).
- ``POST /{token}/form``: the page's forms without JavaScript (``csrf``, ``key``, ``position``,
  ``action`` as JSON or ``text``): applies the action like ``/action`` and answers with the page.
- ``GET /assets/{name}``: the page's CSS and JS; names carry a content hash, cached for a year.

The token in the path is the credential (see :func:`bot.service.link_account`).
Every API error is JSON ``{"error": code, "message": text}`` in the
respondent's language; every response carries the security headers of
:func:`security_headers`. See ``docs/web.md``.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import secrets
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, web

from bot.core.actions import Action, Upload
from bot.core.catalog import BOT_LANGUAGES, bot_language, translate
from bot.core.file_content import HEAD_BYTES
from bot.core.outcome import InvitationProblem, InvitationRefused
from bot.service import LinkResult, LinkStatus, SurveyService
from handlers.web import actions
from handlers.web.access_log import redact
from handlers.web.content import sniff, upload_name
from handlers.web.limits import RateLimiter, WebLimits
from handlers.web.page import csrf_token, csrf_valid, page_html
from handlers.web.presenting import state_json

logger = logging.getLogger(__name__)

PREFIX = "/s"
STATIC_DIR = Path(__file__).with_name("static")
ASSETS = ("chat.css", "chat.js")
#: Client keys: what a browser's ``crypto.randomUUID()`` (or a fallback) makes; at most 64 characters.
KEY_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
MAX_KEY_LENGTH = 64

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Asset:
    name: str
    versioned: str
    content: bytes
    content_type: str


def load_assets() -> dict[str, Asset]:
    """The page's assets by versioned name (``chat.1a2b3c4d5e.js``): a new content is a new URL."""
    assets: dict[str, Asset] = {}
    for name in ASSETS:
        content = (STATIC_DIR / name).read_bytes()
        stem, _, extension = name.rpartition(".")
        versioned = f"{stem}.{hashlib.sha256(content).hexdigest()[:10]}.{extension}"
        content_type = "text/css" if extension == "css" else "text/javascript"
        assets[versioned] = Asset(name=name, versioned=versioned, content=content, content_type=content_type)
    return assets


def security_headers(response: web.StreamResponse) -> None:
    """No script or style from anywhere but here, no referrer (the URL holds the token), no sniffing."""
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"


class WebChat:
    """The web chat's request handlers, bound to one service."""

    def __init__(self, *, service: SurveyService, upload_dir: Path, limits: WebLimits, secret: bytes) -> None:
        self.service = service
        #: Keys the CSRF tokens of the pages' forms (a restart makes open no-script pages reload once).
        self.secret = secret
        self.upload_dir = upload_dir
        self.limits = limits
        self.by_ip = RateLimiter(per_minute=limits.ip_per_minute, burst=limits.ip_burst)
        self.by_link = RateLimiter(per_minute=limits.link_per_minute, burst=limits.link_burst)
        self.assets = load_assets()
        self.asset_urls = {asset.name: f"{PREFIX}/assets/{asset.versioned}" for asset in self.assets.values()}
        self.page_template = (STATIC_DIR / "page.html").read_text(encoding="utf-8")

    # -- middlewares ------------------------------------------------------------------------

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Rate limits, then the handler; an unexpected error becomes a message, never a traceback."""
        language = request_language(request)
        token = request.match_info.get("token")
        waits = [self.by_ip.retry_after(request.remote or "-")]
        if token is not None:
            waits.append(self.by_link.retry_after(token))
        wait = max(waits)
        response: web.StreamResponse
        if wait:
            logger.info("rate limited %s %s (retry in %ds)", request.remote, redact(request.path), wait)
            response = self.error(request, 429, "rate_limited", translate(language, "web.error_rate_limited", seconds=wait))
            response.headers["Retry-After"] = str(wait)
        else:
            try:
                response = await handler(request)
            except web.HTTPException as error:
                if error.status == 413:
                    response = self.too_large(request, self.limits.max_upload_bytes)
                elif error.status == 404:
                    response = self.not_found(request, language)
                elif error.status == 405:
                    response = self.error(request, 405, "method_not_allowed", translate(language, "web.error_bad_request"))
                else:
                    raise
            except Exception:
                logger.exception("web chat request %s %s failed", request.method, redact(request.path))
                response = self.error(request, 500, "internal", translate(language, "web.error_internal"))
        security_headers(response)
        if not isinstance(response, web.FileResponse) and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response

    # -- pages ------------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.StreamResponse:
        """The chat page of a link, rendered with its current state (the script takes over). Changes nothing."""
        token = request.match_info["token"]
        result = await self.service.view_link(token=token, language=request_language(request))
        if result.status is LinkStatus.REFUSED:
            return self.not_found(request, result.outcome.language, problem=refusal(result))
        state = state_json(result.outcome, position=result.position, read_only=result.read_only, status=result.status.value)
        return self.html_page(token, state)

    def html_page(self, token: str, state: dict[str, Any]) -> web.Response:
        body = page_html(
            self.page_template,
            state=state,
            link_path=f"{PREFIX}/{token}",
            csrf=csrf_token(self.secret, token),
            css_url=self.asset_urls["chat.css"],
            js_url=self.asset_urls["chat.js"],
        )
        return web.Response(text=body, content_type="text/html")

    async def form(self, request: web.Request) -> web.StreamResponse:
        """``POST /{token}/form``: a form of the page without JavaScript; answers with the page."""
        token = request.match_info["token"]
        language = request_language(request)
        if request.content_length is not None and request.content_length > self.limits.max_action_bytes:
            return self.too_large(request, self.limits.max_action_bytes)
        fields = await request.post()
        language = bot_language(str(fields.get("language") or language))
        if not csrf_valid(self.secret, token, str(fields.get("csrf") or "")) or not same_origin(request):
            logger.info("web form refused: wrong CSRF token or origin")
            raise web.HTTPSeeOther(location=f"{PREFIX}/{token}")
        key, position = str(fields.get("key") or ""), str(fields.get("position") or "") or None
        text = fields.get("text")
        action: Action | None
        if isinstance(text, str):
            action = actions.decode({"type": "text", "text": text})
        else:
            try:
                action = actions.decode(json.loads(str(fields.get("action") or "")))
            except ValueError:
                action = None
        if action is None or not valid_key(key):
            return self.bad_request(request, language)
        _, body = await self.apply_state(token, action=action, key=key, position=position, language=language)
        return self.form_answer(request, token, body, language)

    def form_answer(self, request: web.Request, token: str, body: dict[str, Any], language: str) -> web.Response:
        """The page after a form post, or the page saying why the link lets nobody in."""
        if "problem" in body:
            return self.not_found(request, language, problem=InvitationProblem(body["problem"]), as_page=True)
        return self.html_page(token, body)

    async def asset(self, request: web.Request) -> web.StreamResponse:
        asset = self.assets.get(request.match_info["name"])
        if asset is None:
            raise web.HTTPNotFound()
        response = web.Response(body=asset.content, content_type=asset.content_type, charset="utf-8")
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response

    # -- the API ----------------------------------------------------------------------------

    async def state(self, request: web.Request) -> web.StreamResponse:
        """``GET /{token}/state``: the greeting and the current question or review. Changes nothing."""
        result = await self.service.view_link(token=request.match_info["token"], language=request_language(request))
        return self.result(request, result)

    async def action(self, request: web.Request) -> web.StreamResponse:
        """``POST /{token}/action``: one action with the client's key and the position the page showed."""
        language = request_language(request)
        if request.content_length is not None and request.content_length > self.limits.max_action_bytes:
            return self.too_large(request, self.limits.max_action_bytes)
        body = await request.content.read(self.limits.max_action_bytes + 1)
        if len(body) > self.limits.max_action_bytes:
            return self.too_large(request, self.limits.max_action_bytes)
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return self.bad_request(request, language)
        language = bot_language(data.get("language") if isinstance(data.get("language"), str) else language)
        key, position = data.get("key"), data.get("position")
        action = actions.decode(data.get("action"))
        if action is None or not valid_key(key) or not (position is None or isinstance(position, str)):
            return self.bad_request(request, language)
        assert isinstance(key, str)
        return await self.apply(request, action=action, key=key, position=position, language=language)

    async def upload(self, request: web.Request) -> web.StreamResponse:
        """``POST /{token}/upload``: a file answer, checked by its content; streamed to a temporary file."""
        language = request_language(request)
        limit = self.limits.max_upload_bytes
        if request.content_length is not None and request.content_length > limit + 64 * 1024:
            return self.too_large(request, limit)
        if not request.content_type.startswith("multipart/"):
            return self.bad_request(request, language)
        fields: dict[str, str] = {}
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        path = self.upload_dir / f"{uuid.uuid4().hex}.part"
        name, size, head = "", 0, b""
        try:
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    return self.bad_request(request, language)
                if part.name == "file":
                    # Browsers send UTF-8 names as they are; some clients percent-encode them.
                    name = unquote(part.filename or "file")
                    with path.open("wb") as stream:
                        while chunk := await part.read_chunk(64 * 1024):
                            size += len(chunk)
                            if size > limit:
                                return self.too_large(request, limit)
                            if len(head) < HEAD_BYTES:
                                head += chunk[: HEAD_BYTES - len(head)]
                            stream.write(chunk)
                elif part.name in ("key", "position", "language", "form", "csrf"):
                    fields[part.name] = (await part.read(decode=True))[:200].decode("utf-8", "replace")
            language = bot_language(fields.get("language") or language)
            key = fields.get("key")
            if not name or not valid_key(key):
                return self.bad_request(request, language)
            assert key is not None
            kind = sniff(head)
            if kind is None or size == 0:
                return self.error(request, 415, "file_type", translate(language, "web.error_file_type"))
            mime, extension = kind
            action = Upload(name=upload_name(name, extension), size=size, mime=mime, ref=str(path))
            token = request.match_info["token"]
            if fields.get("form") == "1":  # the page without JavaScript
                if not csrf_valid(self.secret, token, fields.get("csrf")) or not same_origin(request):
                    raise web.HTTPSeeOther(location=f"{PREFIX}/{token}")
                _, body = await self.apply_state(
                    token, action=action, key=key, position=fields.get("position") or None, language=language
                )
                return self.form_answer(request, token, body, language)
            return await self.apply(request, action=action, key=key, position=fields.get("position"), language=language)
        finally:
            path.unlink(missing_ok=True)

    async def apply(
        self, request: web.Request, *, action: Action, key: str, position: str | None, language: str
    ) -> web.StreamResponse:
        status, body = await self.apply_state(
            request.match_info["token"], action=action, key=key, position=position, language=language
        )
        return web.json_response(body, status=status, dumps=dumps)

    async def apply_state(
        self, token: str, *, action: Action, key: str, position: str | None, language: str
    ) -> tuple[int, dict[str, Any]]:
        """Apply one action; the HTTP status and the state (or the error) to answer with."""
        result = await self.service.act_on_link(
            token=token, key=key, action=action, expected_position=position, language=language
        )
        if result.status in (LinkStatus.REPLAYED, LinkStatus.CONFLICT):
            result, previous = await self.service.view_link(token=token, language=language), result.status
            notice = translate(result.outcome.language, "web.error_conflict") if previous is LinkStatus.CONFLICT else None
            if result.status is not LinkStatus.REFUSED:
                body = state_json(result.outcome, position=result.position, read_only=result.read_only, status=previous.value, notice=notice)
                return (409 if previous is LinkStatus.CONFLICT else 200), body
        if result.status is LinkStatus.REFUSED:
            problem = refusal(result)
            body = {"error": "not_found", "problem": problem.value, "message": refusal_text(result.outcome.language, problem)}
            return refusal_status(problem), body
        return 200, state_json(result.outcome, position=result.position, read_only=result.read_only, status=result.status.value)

    # -- answers ----------------------------------------------------------------------------

    def result(self, request: web.Request, result: LinkResult) -> web.StreamResponse:
        if result.status is LinkStatus.REFUSED:
            problem = refusal(result)
            return self.error(request, refusal_status(problem), "not_found", refusal_text(result.outcome.language, problem))
        body = state_json(result.outcome, position=result.position, read_only=result.read_only, status=result.status.value)
        return web.json_response(body, dumps=dumps)

    def error(self, request: web.Request, status: int, code: str, message: str) -> web.Response:
        return web.json_response({"error": code, "message": message}, status=status, dumps=dumps)

    def bad_request(self, request: web.Request, language: str) -> web.Response:
        return self.error(request, 400, "bad_request", translate(language, "web.error_bad_request"))

    def too_large(self, request: web.Request, limit: int) -> web.Response:
        language = request_language(request)
        return self.error(request, 413, "too_large", translate(language, "web.error_too_large", limit=human_size(limit)))

    def not_found(
        self,
        request: web.Request,
        language: str,
        *,
        problem: InvitationProblem = InvitationProblem.UNKNOWN,
        as_page: bool | None = None,
    ) -> web.Response:
        """A link that lets nobody in: JSON for the API, a page saying why in both languages for a browser.

        404 for an unknown or revoked link, 410 for an expired one or a closed campaign.
        """
        status = refusal_status(problem)
        if as_page is None:
            as_page = request.path.count("/") <= 2  # /s/<token>; not /s/<token>/state, /action, /upload
        if not as_page:
            return self.error(request, status, "not_found", refusal_text(language, problem))
        texts = "".join(f'<p lang="{code}">{html.escape(refusal_text(code, problem))}</p>' for code in BOT_LANGUAGES)
        body = (
            '<!doctype html><html lang="zh"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>404</title><link rel="stylesheet" href="{self.asset_urls["chat.css"]}"></head>'
            f'<body><main class="refused">{texts}</main></body></html>'
        )
        return web.Response(status=status, text=body, content_type="text/html")


def refusal(result: LinkResult) -> InvitationProblem:
    """Why a refused link lets nobody in."""
    return next(
        (event.problem for event in result.outcome.events if isinstance(event, InvitationRefused)), InvitationProblem.UNKNOWN
    )


def refusal_status(problem: InvitationProblem) -> int:
    return 404 if problem in (InvitationProblem.UNKNOWN, InvitationProblem.REVOKED) else 410


def refusal_text(language: str, problem: InvitationProblem) -> str:
    if problem is InvitationProblem.UNKNOWN:
        return translate(language, "web.error_not_found")
    return translate(language, f"reply.invitation_{problem.value}")


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def same_origin(request: web.Request) -> bool:
    """A form post from our own page, by the browser's word (``Sec-Fetch-Site``; older browsers send none).

    Not ``Origin``: under ``Referrer-Policy: no-referrer`` browsers send ``Origin: null`` for every form post.
    """
    return request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")


def valid_key(key: object) -> bool:
    return isinstance(key, str) and 8 <= len(key) <= MAX_KEY_LENGTH and set(key) <= KEY_ALPHABET


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{size / 1024:g} KB"


def request_language(request: web.Request) -> str:
    """The language to speak before the account has one: ``?lang=``, then the browser's first choice."""
    asked = request.query.get("lang")
    if asked:
        return bot_language(asked)
    header = request.headers.get("Accept-Language", "")
    first = header.split(",")[0].split(";")[0].strip()
    return bot_language(first or None)


def make_web_app(
    *, service: SurveyService, upload_dir: Path | None = None, limits: WebLimits | None = None, secret: bytes | None = None
) -> web.Application:
    """The web chat as an aiohttp application; mount it under ``/s`` with :func:`mount`."""
    limits = limits or WebLimits()
    chat = WebChat(
        service=service,
        upload_dir=upload_dir or Path(tempfile.gettempdir()) / "surveybot-web-uploads",
        limits=limits,
        secret=secret or secrets.token_bytes(32),
    )
    app = web.Application(middlewares=[chat.guard], client_max_size=limits.max_upload_bytes + 64 * 1024)
    app.router.add_get("/assets/{name}", chat.asset)
    app.router.add_get("/{token}", chat.page)
    app.router.add_get("/{token}/state", chat.state)
    app.router.add_post("/{token}/action", chat.action)
    app.router.add_post("/{token}/upload", chat.upload)
    app.router.add_post("/{token}/form", chat.form)
    return app


def mount(root: web.Application, chat_app: web.Application) -> None:
    """Serve the web chat at ``/s/...`` on ``root`` (alone, or beside the Telegram webhook)."""
    root.add_subapp(PREFIX, chat_app)

