"""The console's invitations pages: every unit's links with QR codes, a printable sheet, "copy all",
adding units, revoking and re-issuing links.

Routes (relative to ``/admin``; ``{id}`` a campaign, ``{unit}`` a unit of it):

- ``GET /campaigns/{id}/invitations``: the units, their links and QR codes, "copy all", the add-units form.
- ``GET /campaigns/{id}/invitations/print``: one card per unit (name, QR code, link) for printing.
- ``GET /campaigns/{id}/invitations/links.txt``: "copy all" as a plain-text download.
- ``GET /campaigns/{id}/invitations/qr/{invitation}/{kind}.svg``: the QR code of a link (``web`` or ``telegram``).
- ``POST /campaigns/{id}/invitations/issue``: a new link for every unit (earlier links keep working).
- ``POST /campaigns/{id}/invitations/units``: add the units of a pasted roster, each with a link.
- ``POST /campaigns/{id}/invitations/units/{unit}/revoke``: revoke every link of the unit.
- ``POST /campaigns/{id}/invitations/units/{unit}/reissue``: revoke them and issue a new one.

Tokens are stored hashed: a link is shown only to the browser session that
issued it, from :class:`~handlers.console.link_sheets.LinkSheets` (memory).
Every page checks the session, every POST its CSRF token (:class:`~handlers.console.app.Console`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp_jinja2
from aiohttp import web

from bot.console_access import CONSOLE_PREFIX, ConsoleUser
from bot.coordination import NotCoordinatorError
from bot.core.catalog import translate
from bot.invitation_links import UnitLinks, unit_links
from bot.invitations import (
    MAX_UNITS_PER_ADD,
    AddedUnits,
    InvitationRoster,
    InvitationService,
    IssuedLink,
    UnitNotOnRosterError,
)
from handlers.console.link_sheets import LinkSheets, ShownLink
from handlers.console.qr_codes import qr_svg
from storage.errors import CampaignNotFoundError
from storage.rosters import UNIT_NAME_MAX_LENGTH, RosterProblem

if TYPE_CHECKING:
    from handlers.console.app import Console

STATIC_DIR = Path(__file__).with_name("static")
#: This page's own files of ``static/``, served by the console's ``/assets/`` route.
ASSETS = {"invitations.css": "text/css", "invitations.js": "text/javascript"}
#: The two links of a token, in the order pages show them.
LINK_KINDS = ("web", "telegram")


@dataclass(frozen=True, slots=True)
class LinkView:
    kind: str
    label: str
    url: str
    qr_url: str
    qr_alt: str


@dataclass(frozen=True, slots=True)
class UnitView:
    unit_id: int
    name: str
    live: int
    #: The newest link this browser issued for the unit and that still works (empty: none shown).
    links: tuple[LinkView, ...]


def links_of(links: UnitLinks) -> dict[str, str]:
    return {kind: url for kind, url in (("web", links.web), ("telegram", links.telegram)) if url}


class InvitationPages:
    """The request handlers of the invitations pages, over the console's sessions and rendering."""

    def __init__(self, *, console: Console, service: InvitationService, sheets: LinkSheets) -> None:
        self.console = console
        self.service = service
        self.sheets = sheets
        settings = console.coordination.settings
        self.public_url: str | None = settings.public_url
        self.bot_username: str | None = settings.telegram_bot_username

    # -- helpers ----------------------------------------------------------------------------

    def base_url(self, request: web.Request) -> str:
        """``SURVEYBOT_PUBLIC_URL``, or the address this page was asked at."""
        return self.public_url or f"{request.scheme}://{request.host}"

    def links(self, request: web.Request, token: str) -> UnitLinks:
        return unit_links(public_url=self.base_url(request), bot_username=self.bot_username, token=token)

    def ti(self, request: web.Request) -> Callable[..., str]:
        language = self.console.language(request)

        def ti(key: str, **params: object) -> str:
            return translate(language, f"console_invitations.{key}", **params)

        return ti

    @staticmethod
    def campaign_id(request: web.Request) -> int:
        return int(request.match_info["id"])

    @staticmethod
    def page_url(campaign_id: int) -> str:
        return f"{CONSOLE_PREFIX}/campaigns/{campaign_id}/invitations"

    def shown_by_unit(self, user: ConsoleUser, roster: InvitationRoster) -> dict[int, ShownLink]:
        """For each unit, the newest link this session issued that still works."""
        shown = self.sheets.shown(session=user.session, campaign_id=roster.campaign.id, now=self.service.clock())
        live = {invitation for unit in roster.units for invitation in unit.live}
        newest: dict[int, ShownLink] = {}
        for invitation_id, link in shown.items():  # oldest first: the newest wins
            if invitation_id in live:
                newest[link.link.unit_id] = link
        return newest

    def unit_views(self, request: web.Request, user: ConsoleUser, roster: InvitationRoster) -> list[UnitView]:
        ti = self.ti(request)
        shown = self.shown_by_unit(user, roster)
        views: list[UnitView] = []
        for unit in roster.units:
            link = shown.get(unit.unit_id)
            views.append(
                UnitView(
                    unit_id=unit.unit_id,
                    name=unit.name,
                    live=len(unit.live),
                    links=() if link is None else self.link_views(request, roster.campaign.id, link.link, ti),
                )
            )
        return views

    def link_views(
        self, request: web.Request, campaign_id: int, link: IssuedLink, ti: Callable[..., str]
    ) -> tuple[LinkView, ...]:
        views = []
        for kind, url in links_of(self.links(request, link.token)).items():
            label = ti(f"{kind}_link")
            views.append(
                LinkView(
                    kind=kind,
                    label=label,
                    url=url,
                    qr_url=f"{self.page_url(campaign_id)}/qr/{link.invitation_id}/{kind}.svg",
                    qr_alt=ti("qr_alt", unit=link.unit_name, kind=label),
                )
            )
        return tuple(views)

    def copy_text(self, request: web.Request, units: list[UnitView]) -> str:
        """One line per unit with a shown link: its name and its first link (the web chat's)."""
        ti = self.ti(request)
        return "\n".join(ti("copy_line", name=unit.name, link=unit.links[0].url) for unit in units if unit.links)

    async def roster_or_refusal(
        self, request: web.Request, user: ConsoleUser
    ) -> tuple[InvitationRoster | None, web.StreamResponse | None]:
        try:
            return await self.service.roster(user=user.account, campaign_id=self.campaign_id(request)), None
        except NotCoordinatorError:
            return None, self.console.to_sign_in()
        except CampaignNotFoundError:
            return None, self.console.message(request, 404, "console.not_found", user=user)

    def error_lines(self, request: web.Request, added: AddedUnits) -> list[str]:
        ti = self.ti(request)
        lines = [ti("error_line", line=error.line, problem=self.roster_problem(request, error)) for error in added.errors]
        lines += [
            ti("error_line", line=line, problem=ti("roster_already_listed", name=name)) for line, name in added.already_listed
        ]
        if added.empty:
            lines.append(ti("roster_empty"))
        if added.too_many:
            lines.append(ti("roster_too_many", max=MAX_UNITS_PER_ADD))
        return lines

    def roster_problem(self, request: web.Request, error: RosterProblem) -> str:
        return self.ti(request)(
            f"roster_{error.kind.value}",
            detail=error.text,
            name=error.text,
            email=error.text,
            other_line=error.first_line,
            max=UNIT_NAME_MAX_LENGTH,
        )

    def done_notice(self, request: web.Request, roster: InvitationRoster) -> str | None:
        """The outcome of the action that redirected here (``?done=...``)."""
        ti = self.ti(request)
        done = request.query.get("done")
        count = request.query.get("count", "0")
        count = count if count.isdigit() and len(count) < 7 else "0"
        unit_id = request.query.get("unit", "")
        unit = next((unit.name for unit in roster.units if str(unit.unit_id) == unit_id), "")
        if done in ("issued", "added"):
            return ti(f"done_{done}", count=count)
        if done in ("revoked", "reissued") and unit:
            return ti(f"done_{done}", unit=unit, count=count)
        return None

    # -- pages ------------------------------------------------------------------------------

    async def page(self, request: web.Request, *, added: AddedUnits | None = None, roster_text: str = "") -> web.StreamResponse:
        """``GET /campaigns/{id}/invitations``: each unit with its shown links, QR codes, and the forms."""
        user = await self.console.user(request)
        if user is None:
            return self.console.to_sign_in()
        roster, refusal = await self.roster_or_refusal(request, user)
        if refusal is not None:
            return refusal
        assert roster is not None
        units = self.unit_views(request, user, roster)
        errors = self.error_lines(request, added) if added is not None else []
        return self.console.render(
            request,
            "invitations.html",
            user=user,
            status=400 if errors else 200,
            ti=self.ti(request),
            campaign=roster.campaign,
            units=units,
            shown=sum(1 for unit in units if unit.links),
            copy_text=self.copy_text(request, units),
            page_url=self.page_url(roster.campaign.id),
            origin=None if self.public_url else self.base_url(request),
            notice=None if added is not None else self.done_notice(request, roster),
            errors=errors,
            roster_text=roster_text,
            invitations_css=self.console.asset_urls["invitations.css"],
            invitations_js=self.console.asset_urls["invitations.js"],
        )

    async def print_page(self, request: web.Request) -> web.StreamResponse:
        """``GET /campaigns/{id}/invitations/print``: a card per unit with a shown link."""
        user = await self.console.user(request)
        if user is None:
            return self.console.to_sign_in()
        roster, refusal = await self.roster_or_refusal(request, user)
        if refusal is not None:
            return refusal
        assert roster is not None
        return self.console.render(
            request,
            "invitations_print.html",
            user=user,
            ti=self.ti(request),
            campaign=roster.campaign,
            cards=[unit for unit in self.unit_views(request, user, roster) if unit.links],
            page_url=self.page_url(roster.campaign.id),
            invitations_css=self.console.asset_urls["invitations.css"],
            invitations_js=self.console.asset_urls["invitations.js"],
        )

    async def links_text(self, request: web.Request) -> web.StreamResponse:
        """``GET /campaigns/{id}/invitations/links.txt``: the "copy all" text as a file."""
        user = await self.console.user(request)
        if user is None:
            return self.console.to_sign_in()
        roster, refusal = await self.roster_or_refusal(request, user)
        if refusal is not None:
            return refusal
        assert roster is not None
        text = self.copy_text(request, self.unit_views(request, user, roster))
        response = web.Response(text=text + "\n" if text else "", content_type="text/plain", charset="utf-8")
        response.headers["Content-Disposition"] = f'attachment; filename="invitations-{roster.campaign.id}.txt"'
        return response

    async def qr(self, request: web.Request) -> web.StreamResponse:
        """``GET .../qr/{invitation}/{kind}.svg``: a shown, still working link as a QR code; else 404."""
        user = await self.console.user(request)
        if user is None:
            return self.console.to_sign_in()
        roster, refusal = await self.roster_or_refusal(request, user)
        if refusal is not None:
            return refusal
        assert roster is not None
        invitation_id = int(request.match_info["invitation"])
        shown = next(
            (link for link in self.shown_by_unit(user, roster).values() if link.link.invitation_id == invitation_id), None
        )
        if shown is None:
            raise web.HTTPNotFound()
        url = links_of(self.links(request, shown.link.token)).get(request.match_info["kind"])
        if url is None:
            raise web.HTTPNotFound()
        ti = self.ti(request)
        title = ti("qr_alt", unit=shown.link.unit_name, kind=ti(f"{request.match_info['kind']}_link"))
        return web.Response(body=qr_svg(url, title=title), content_type="image/svg+xml")

    # -- actions ----------------------------------------------------------------------------

    def redirect(self, campaign_id: int, **query: object) -> web.Response:
        params = "&".join(f"{key}={value}" for key, value in query.items())
        return web.Response(status=303, headers={"Location": f"{self.page_url(campaign_id)}?{params}"})

    def closed(self, campaign_id: int) -> web.Response:
        """Back to the page, which says that the campaign is closed."""
        return self.redirect(campaign_id, done="closed")

    async def act(
        self, request: web.Request, action: Callable[[ConsoleUser, int], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Check the session and CSRF token, then run ``action``; a missing campaign or unit is a 404 page."""
        user, refusal = await self.console.signed_in_form(request)
        if refusal is not None:
            return refusal
        assert user is not None
        try:
            return await action(user, self.campaign_id(request))
        except NotCoordinatorError:
            return self.console.to_sign_in()
        except (CampaignNotFoundError, UnitNotOnRosterError):
            return self.console.message(request, 404, "console.not_found", user=user)

    async def issue(self, request: web.Request) -> web.StreamResponse:
        """``POST .../issue``: a new link for every unit, shown to this browser."""

        async def action(user: ConsoleUser, campaign_id: int) -> web.StreamResponse:
            issued = await self.service.issue(user=user.account, campaign_id=campaign_id)
            if issued.refusal is not None:
                return self.closed(campaign_id)
            self.sheets.keep(session=user.session, campaign_id=campaign_id, links=issued.links, now=self.service.clock())
            return self.redirect(campaign_id, done="issued", count=len(issued.links))

        return await self.act(request, action)

    async def add_units(self, request: web.Request) -> web.StreamResponse:
        """``POST .../units``: add the pasted units with a link each; or the page with every bad line."""

        async def action(user: ConsoleUser, campaign_id: int) -> web.StreamResponse:
            fields = await request.post()
            roster_text = fields.get("roster")
            if not isinstance(roster_text, str):
                roster_text = ""
            added = await self.service.add_units(user=user.account, campaign_id=campaign_id, roster_text=roster_text)
            if added.refusal is not None:
                return self.closed(campaign_id)
            if not added.added:
                return await self.page(request, added=added, roster_text=roster_text)
            self.sheets.keep(session=user.session, campaign_id=campaign_id, links=added.links, now=self.service.clock())
            return self.redirect(campaign_id, done="added", count=len(added.links))

        return await self.act(request, action)

    async def revoke(self, request: web.Request) -> web.StreamResponse:
        """``POST .../units/{unit}/revoke``: every link of the unit stops opening it."""

        async def action(user: ConsoleUser, campaign_id: int) -> web.StreamResponse:
            unit_id = int(request.match_info["unit"])
            count = await self.service.revoke(user=user.account, campaign_id=campaign_id, unit_id=unit_id)
            return self.redirect(campaign_id, done="revoked", unit=unit_id, count=count)

        return await self.act(request, action)

    async def reissue(self, request: web.Request) -> web.StreamResponse:
        """``POST .../units/{unit}/reissue``: revoke the unit's links and show a new one."""

        async def action(user: ConsoleUser, campaign_id: int) -> web.StreamResponse:
            unit_id = int(request.match_info["unit"])
            issued = await self.service.reissue(user=user.account, campaign_id=campaign_id, unit_id=unit_id)
            if issued.refusal is not None:
                return self.closed(campaign_id)
            self.sheets.keep(session=user.session, campaign_id=campaign_id, links=issued.links, now=self.service.clock())
            return self.redirect(campaign_id, done="reissued", unit=unit_id)

        return await self.act(request, action)


def add_assets(console: Console) -> None:
    """Serve this page's stylesheet and script through the console's ``/assets/`` route (versioned names)."""
    for name, content_type in ASSETS.items():
        content = (STATIC_DIR / name).read_bytes()
        stem, _, extension = name.rpartition(".")
        versioned = f"{stem}.{hashlib.sha256(content).hexdigest()[:10]}.{extension}"
        console.assets[versioned] = (content, content_type)
        console.asset_urls[name] = f"{CONSOLE_PREFIX}/assets/{versioned}"


def register(app: web.Application, console: Console, *, sheets: LinkSheets | None = None) -> InvitationPages:
    """Add the invitations pages to the console's application ``app``."""
    coordination = console.coordination
    service = InvitationService(database=coordination.database, coordination=coordination, clock=coordination.clock)
    pages = InvitationPages(console=console, service=service, sheets=sheets or LinkSheets())
    add_assets(console)
    # The campaign page's link to these pages is worded from this page's catalog block.
    aiohttp_jinja2.get_env(app).globals["catalog"] = translate
    base = r"/campaigns/{id:\d{1,18}}/invitations"
    routes: list[tuple[str, str, Any]] = [
        ("GET", base, pages.page),
        ("GET", f"{base}/print", pages.print_page),
        ("GET", f"{base}/links.txt", pages.links_text),
        ("GET", base + r"/qr/{invitation:\d{1,18}}/{kind:web|telegram}.svg", pages.qr),
        ("POST", f"{base}/issue", pages.issue),
        ("POST", f"{base}/units", pages.add_units),
        ("POST", base + r"/units/{unit:\d{1,18}}/revoke", pages.revoke),
        ("POST", base + r"/units/{unit:\d{1,18}}/reissue", pages.reissue),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, handler)
    return pages
