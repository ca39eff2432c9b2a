"""The coordinator console's aiohttp application, mounted under ``/admin``.

Routes (relative to the ``/admin`` prefix :func:`mount` uses):

- ``GET /sign-in``: how to get a sign-in link (no session needed).
- ``GET /login/{token}``: the confirm page of a one-time link; consumes nothing (link previews).
- ``POST /login/{token}``: uses the link, opens a session, sets the cookie, goes to ``/admin/``.
- ``GET /``: the campaigns; ``GET /campaigns/{id}`` and the unit pages: :mod:`handlers.console.progress`;
  the downloads: :mod:`handlers.console.downloads`.
- ``GET /sessions``: the account's signed-in browsers; ``POST /sessions/{id}/revoke``.
- ``POST /sign-out``: revokes this browser's session.
- ``GET /assets/{name}``: the stylesheet (its name carries a content hash).

Every other page and action needs a live session of an account that is still a
coordinator, checked on every request (without one: a redirect to the sign-in
page); every POST of a session needs its CSRF token (otherwise 403). See ``docs/console.md``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.campaign_progress import ProgressService
from bot.console_access import CONSOLE_PREFIX, ConsoleAccess, ConsoleUser
from bot.coordination import CoordinatorService, NotCoordinatorError
from bot.core.catalog import BOT_LANGUAGES, bot_language, translate
from bot.survey_cache import SurveyCache
from handlers.console.downloads import register as register_downloads
from handlers.console.invitations import register as register_invitations
from handlers.console.presenting import campaign_row, local_time
from handlers.console.progress import register as register_progress

if TYPE_CHECKING:
    from handlers.console.outreach import OutreachSetup

logger = logging.getLogger(__name__)

PREFIX = CONSOLE_PREFIX
STATIC_DIR = Path(__file__).with_name("static")
#: The cookie holding the session id (only its sha256 is stored).
SESSION_COOKIE = "surveybot_console"
#: The cookie remembering the language picked with ``?lang=``.
LANGUAGE_COOKIE = "surveybot_console_lang"
#: The files of ``static/`` and their content types.
ASSETS = {"styles.css": "text/css", "favicon.svg": "image/svg+xml", "progress.js": "text/javascript"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def security_headers(response: web.StreamResponse) -> None:
    """Nothing from anywhere but here, no inline script or style, no referrer (a login URL holds its token)."""
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    if "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"


def same_origin(request: web.Request) -> bool:
    """A form post from our own page, by the browser's word (``Sec-Fetch-Site``; older browsers send none)."""
    return request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")


class Console:
    """The console's request handlers over the sign-in and the coordinator services."""

    def __init__(self, *, access: ConsoleAccess, coordination: CoordinatorService, secure_cookies: bool) -> None:
        self.access = access
        self.coordination = coordination
        self.secure_cookies = secure_cookies
        #: The stylesheet and the icon by versioned name (``styles.1a2b3c4d5e.css``): a new content is a new URL.
        self.assets: dict[str, tuple[bytes, str]] = {}
        self.asset_urls: dict[str, str] = {}
        for name, content_type in ASSETS.items():
            content = (STATIC_DIR / name).read_bytes()
            stem, _, extension = name.rpartition(".")
            versioned = f"{stem}.{hashlib.sha256(content).hexdigest()[:10]}.{extension}"
            self.assets[versioned] = (content, content_type)
            self.asset_urls[name] = f"{PREFIX}/assets/{versioned}"

    # -- middleware -------------------------------------------------------------------------

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The handler, with the security headers; an unknown path or an error becomes a page, never a traceback."""
        response: web.StreamResponse
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            if await self.user(request) is None:
                response = self.to_sign_in()  # without a session, no page says whether it exists
            else:
                response = self.message(request, 404, "console.not_found")
        except web.HTTPMethodNotAllowed:
            response = self.message(request, 405, "console.not_found")
        except web.HTTPException as error:
            security_headers(error)
            raise
        except Exception:
            logger.exception("console request %s %s failed", request.method, request.path.split("/login/")[0])
            response = self.message(request, 500, "console.error_internal")
        security_headers(response)
        return response

    # -- sessions ---------------------------------------------------------------------------

    async def user(self, request: web.Request) -> ConsoleUser | None:
        """The coordinator of this browser's session (checked now), or None."""
        session_id = request.cookies.get(SESSION_COOKIE)
        if not session_id:
            return None
        return await self.access.current(session_id=session_id)

    def to_sign_in(self) -> web.Response:
        return web.Response(status=303, headers={"Location": f"{PREFIX}/sign-in"})

    async def signed_in_form(self, request: web.Request) -> tuple[ConsoleUser | None, web.StreamResponse | None]:
        """The user of a POST with this session's CSRF token; or the answer refusing it (sign-in, or 403)."""
        user = await self.user(request)
        if user is None:
            return None, self.to_sign_in()
        fields = await request.post()
        csrf = fields.get("csrf")
        if not isinstance(csrf, str) or not hmac.compare_digest(csrf.encode(), user.csrf_token.encode()) or not same_origin(request):
            logger.warning("console %s refused: wrong CSRF token or origin (session %s)", request.path, user.session)
            return None, self.message(request, 403, "console.forbidden", user=user)
        return user, None

    # -- rendering --------------------------------------------------------------------------

    def language(self, request: web.Request) -> str:
        """``?lang=``, then the language picked before (a cookie), then the browser's first choice."""
        asked = request.query.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
        if asked:
            return bot_language(asked)
        first = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0].strip()
        return bot_language(first or None)

    def render(
        self, request: web.Request, template: str, *, user: ConsoleUser | None = None, status: int = 200, **context: Any
    ) -> web.Response:
        language = self.language(request)
        other = next(code for code in BOT_LANGUAGES if code != language)

        def t(key: str, **params: object) -> str:
            return translate(language, f"console.{key}", **params)

        response = aiohttp_jinja2.render_template(
            template,
            request,
            {
                "t": t,
                "lang": language,
                "other_lang": other,
                "other_lang_name": translate(other, "console.language_name"),
                "user": user,
                "prefix": PREFIX,
                "css_url": self.asset_urls["styles.css"],
                "icon_url": self.asset_urls["favicon.svg"],
                **context,
            },
            status=status,
        )
        if "lang" in request.query:
            response.set_cookie(LANGUAGE_COOKIE, language, path=PREFIX, samesite="Lax", secure=self.secure_cookies, httponly=True)
        return response

    def message(self, request: web.Request, status: int, key: str, *, user: ConsoleUser | None = None) -> web.Response:
        return self.render(request, "message.html", user=user, status=status, message_key=key.removeprefix("console."))

    # -- sign-in ----------------------------------------------------------------------------

    async def sign_in_page(self, request: web.Request) -> web.StreamResponse:
        """``GET /sign-in``: how to get a link (and, after signing out, that it is done)."""
        return self.render(request, "sign_in.html", signed_out="signed_out" in request.query)

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        """``GET /login/{token}``: the confirm form; consumes nothing, so a link preview burns nothing."""
        token = request.match_info["token"]
        if not await self.access.peek(token=token):
            return self.message(request, 410, "console.link_invalid")
        return self.render(request, "confirm.html", token=token)

    async def login(self, request: web.Request) -> web.StreamResponse:
        """``POST /login/{token}``: use the link once, open a session, set its cookie."""
        if not same_origin(request):  # no signing a browser in from another site's form
            return self.message(request, 403, "console.forbidden")
        signed_in = await self.access.sign_in(token=request.match_info["token"])
        if signed_in is None:
            return self.message(request, 410, "console.link_invalid")
        response = web.Response(status=303, headers={"Location": f"{PREFIX}/"})
        response.set_cookie(
            SESSION_COOKIE,
            signed_in.session_id,
            path=PREFIX,
            httponly=True,
            samesite="Lax",
            secure=self.secure_cookies,
        )
        return response

    async def sign_out(self, request: web.Request) -> web.StreamResponse:
        """``POST /sign-out``: revoke this browser's session and forget its cookie."""
        user, refusal = await self.signed_in_form(request)
        if refusal is not None:
            return refusal
        assert user is not None
        await self.access.revoke(user=user, session=user.session)
        response = web.Response(status=303, headers={"Location": f"{PREFIX}/sign-in?signed_out=1"})
        response.del_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    async def sessions(self, request: web.Request) -> web.StreamResponse:
        """``GET /sessions``: the account's signed-in browsers, each revocable."""
        user = await self.user(request)
        if user is None:
            return self.to_sign_in()
        rows = [
            {
                "id": info.session,
                "current": info.session == user.session,
                "created": local_time(info.created_at, "UTC"),
                "last_seen": local_time(info.last_seen_at, "UTC"),
                "expires": local_time(info.expires_at, "UTC"),
            }
            for info in await self.access.sessions(user=user)
        ]
        return self.render(request, "sessions.html", user=user, sessions=rows)

    async def revoke_session(self, request: web.Request) -> web.StreamResponse:
        """``POST /sessions/{id}/revoke``: sign one of the account's browsers out."""
        user, refusal = await self.signed_in_form(request)
        if refusal is not None:
            return refusal
        assert user is not None
        await self.access.revoke(user=user, session=int(request.match_info["id"]))
        return web.Response(status=303, headers={"Location": f"{PREFIX}/sessions"})

    # -- pages ------------------------------------------------------------------------------

    async def campaigns(self, request: web.Request) -> web.StreamResponse:
        """``GET /``: every campaign with its deadline and a bar of its units' states."""
        user = await self.user(request)
        if user is None:
            return self.to_sign_in()
        language = self.language(request)
        try:
            overviews = await self.coordination.campaigns(user=user.account)
        except NotCoordinatorError:
            return self.to_sign_in()
        rows = [campaign_row(language, overview) for overview in overviews]
        return self.render(request, "campaigns.html", user=user, campaigns=rows)

    async def asset(self, request: web.Request) -> web.StreamResponse:
        asset = self.assets.get(request.match_info["name"])
        if asset is None:
            raise web.HTTPNotFound()
        content, content_type = asset
        response = web.Response(body=content, content_type=content_type, charset="utf-8")
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def make_console_app(
    *,
    access: ConsoleAccess,
    coordination: CoordinatorService,
    secure_cookies: bool,
    outreach: OutreachSetup | None = None,
    surveys: SurveyCache | None = None,
) -> web.Application:
    """The console as an aiohttp application; mount it under ``/admin`` with :func:`mount`.

    With ``outreach``, the reminder and notice pages too (:mod:`handlers.console.outreach`).
    ``surveys`` is the process's compiled-survey cache (one of its own without).
    """
    surveys = surveys if surveys is not None else SurveyCache()
    console = Console(access=access, coordination=coordination, secure_cookies=secure_cookies)
    app = web.Application(middlewares=[console.guard], client_max_size=64 * 1024)
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("handlers.console", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    app.router.add_get("/", console.campaigns)
    register_progress(app, console=console, progress=ProgressService(coordination=coordination, surveys=surveys))
    register_downloads(app, console=console, coordination=coordination, temporary_dir=coordination.settings.data_dir / "tmp")
    app.router.add_get("/sign-in", console.sign_in_page)
    app.router.add_get("/login/{token}", console.login_page)
    app.router.add_post("/login/{token}", console.login)
    app.router.add_post("/sign-out", console.sign_out)
    app.router.add_get("/sessions", console.sessions)
    app.router.add_post(r"/sessions/{id:\d{1,18}}/revoke", console.revoke_session)
    app.router.add_get("/assets/{name}", console.asset)
    from handlers.console import setup  # after this module: it builds on Console

    setup.register(app, console, surveys=surveys)
    register_invitations(app, console)
    if outreach is not None:
        from handlers.console.outreach import register as register_outreach

        register_outreach(app, console, outreach)
    return app


async def _to_console(request: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect(location=f"{PREFIX}/")


def mount(root: web.Application, console_app: web.Application) -> None:
    """Serve the console at ``/admin/...`` on ``root`` (beside the web chat); ``/admin`` goes to ``/admin/``."""
    root.router.add_get(PREFIX, _to_console)
    root.add_subapp(PREFIX, console_app)
