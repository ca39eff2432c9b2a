"""The console's reminders and notices: pick units, preview who gets what, confirm once, watch the send.

Routes (relative to ``/admin``), added by :func:`register`:

- ``GET /campaigns/{id}/remind``, ``GET /campaigns/{id}/broadcast``: the form (a
  checkbox per unit: for a reminder the units not submitted are ticked; a
  notice's text).
- ``POST`` of the same paths: stores a draft (:meth:`~bot.outreach.OutreachService.prepare`)
  and goes to its page. The form carries a random id naming the draft, so the
  same form sent twice makes one draft.
- ``GET /outreach/{batch}``: a draft's preview (per unit: each account's channel
  and its message in the recipient's language; the units nobody can be
  messaged for, to phone), or a confirmed one's progress.
- ``POST /outreach/{batch}/confirm``, ``POST /outreach/{batch}/cancel``: the
  draft's confirmation happens at most once (a double click or a form sent
  again finds it handled and queues nothing more).
- ``GET /outreach/{batch}/progress.json``: the counts, the recipients that failed
  or cannot be reached (units, contact, channel, the reason in plain words and
  the provider's own) and the units no message went to (nobody to message),
  polled by ``static/outreach-progress.js``, which rewrites the page with them.

Every page and action checks the session (otherwise 303 to the sign-in) and
every POST its CSRF token (otherwise 403, nothing stored). A reminder of a
closed campaign or one past its deadline is refused with the reason, as in
Telegram; a notice is not.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.console_access import ConsoleUser
from bot.coordination import NotCoordinatorError
from bot.core.catalog import translate
from bot.core.read_only import ReadOnlyReason
from bot.outbox_compose import BroadcastContent, ReminderContent
from bot.outreach import (
    BatchView,
    ConfirmOutcome,
    OutreachService,
    Preview,
    Redelivered,
    Refused,
    UnitChoices,
)
from handlers.console.app import PREFIX, Console
from storage.errors import CampaignNotFoundError
from storage.models import DeliveryStatus, OutboxBatchStatus, OutboxKind, ResponseStatus
from storage.outbox import DeliveryProblem

logger = logging.getLogger(__name__)

#: A channel's text of one outbox message, for the preview (the composition root passes one per channel).
Previewer = Callable[[ReminderContent | BroadcastContent], str]
#: The longest notice accepted (Telegram's limit, 4096, less room for its header).
MAX_BROADCAST_LENGTH = 3000
#: The form's id: names its draft, so that the form sent twice makes one.
FORM_ID = re.compile(r"[A-Za-z0-9_-]{16,64}\Z")
#: The script refreshing the progress page (no inline script: CSP).
SCRIPT = Path(__file__).with_name("static") / "outreach-progress.js"
#: A unit id as the form sends it (any other value is ignored).
UNIT_ID = re.compile(r"[0-9]{1,18}\Z")
#: Channels with a name in the catalogs (any other shows its code).
NAMED_CHANNELS = frozenset({"telegram", "email", "wecom", "web"})
#: The notices a page may show after a redirect (``?notice=``).
NOTICES = frozenset({"already_handled", "cancelled", "nobody"})


@dataclass(frozen=True, slots=True)
class OutreachSetup:
    """What the console needs to send reminders and notices (built by the composition root)."""

    service: OutreachService
    #: Each outbox channel's message text, for the preview.
    previewers: Mapping[str, Previewer]


class OutreachPages:
    def __init__(self, *, console: Console, setup: OutreachSetup) -> None:
        self.console = console
        self.outreach = setup.service
        self.previewers = setup.previewers
        content = SCRIPT.read_bytes()
        versioned = f"outreach-progress.{hashlib.sha256(content).hexdigest()[:10]}.js"
        console.assets[versioned] = (content, "text/javascript")
        self.script_url = f"{PREFIX}/assets/{versioned}"

    # -- helpers ----------------------------------------------------------------------------

    def render(
        self, request: web.Request, template: str, *, user: ConsoleUser, status: int = 200, **context: Any
    ) -> web.Response:
        language = self.console.language(request)

        def o(key: str, **params: object) -> str:
            return translate(language, f"console_outreach.{key}", **params)

        def p(key: str, **params: object) -> str:
            return translate(language, f"console_outreach_problems.{key}", **params)

        def channel_name(channel: str) -> str:
            return o(f"channel_{channel}") if channel in NAMED_CHANNELS else channel

        return self.console.render(
            request, template, user=user, status=status, o=o, p=p, channel_name=channel_name, **context
        )

    def text(self, request: web.Request, user: ConsoleUser, status: int, text: str, *, back: str) -> web.Response:
        """A page with one sentence and a link back."""
        return self.render(request, "outreach_message.html", user=user, status=status, text=text, back=back)

    def refusal_text(self, request: web.Request, campaign_id: int, title: str, reason: ReadOnlyReason) -> str:
        key = "remind.campaign_closed" if reason is ReadOnlyReason.CLOSED else "remind.deadline_passed"
        return translate(self.console.language(request), key, id=campaign_id, title=title)

    @staticmethod
    def kind_of(request: web.Request) -> OutboxKind:
        return OutboxKind.BROADCAST if request.match_info["action"] == "broadcast" else OutboxKind.MANUAL_REMINDER

    # -- the form ---------------------------------------------------------------------------

    async def form(self, request: web.Request) -> web.StreamResponse:
        """``GET /campaigns/{id}/remind|broadcast``: a checkbox per unit (and the notice's text)."""
        user = await self.console.user(request)
        if user is None:
            return self.console.to_sign_in()
        return await self.show_form(request, user, self.kind_of(request))

    async def show_form(
        self,
        request: web.Request,
        user: ConsoleUser,
        kind: OutboxKind,
        *,
        status: int = 200,
        error: str | None = None,
        checked: frozenset[int] | None = None,
        body: str = "",
    ) -> web.StreamResponse:
        try:
            choices = await self.outreach.unit_choices(user=user.account, kind=kind, campaign_id=int(request.match_info["id"]))
        except NotCoordinatorError:
            return self.console.to_sign_in()
        except CampaignNotFoundError:
            return self.console.message(request, 404, "console.not_found", user=user)
        if checked is None:
            checked = default_selection(choices, kind)
        refusal = None
        if choices.refusal is not None:
            refusal = self.refusal_text(request, choices.campaign.id, choices.campaign.title, choices.refusal)
        return self.render(
            request,
            "outreach_form.html",
            user=user,
            status=status,
            broadcast=kind is OutboxKind.BROADCAST,
            campaign=choices.campaign,
            units=choices.units,
            checked=checked,
            body=body,
            error=error,
            refusal=refusal,
            form_id=secrets.token_urlsafe(18),
            max_length=MAX_BROADCAST_LENGTH,
        )

    async def prepare(self, request: web.Request) -> web.StreamResponse:
        """``POST /campaigns/{id}/remind|broadcast``: store the draft, show its preview."""
        user, refusal = await self.console.signed_in_form(request)
        if refusal is not None:
            return refusal
        assert user is not None
        kind = self.kind_of(request)
        language = self.console.language(request)
        campaign_id = int(request.match_info["id"])
        fields = await request.post()
        picked = frozenset(int(value) for value in fields.getall("unit", []) if isinstance(value, str) and UNIT_ID.match(value))
        body_field = fields.get("body")
        body = body_field.strip() if isinstance(body_field, str) else ""
        if not picked:
            return await self.show_form(request, user, kind, status=400, error="error_no_units", checked=picked, body=body)
        if kind is OutboxKind.BROADCAST and not body:
            return await self.show_form(request, user, kind, status=400, error="error_no_text", checked=picked, body=body)
        if len(body) > MAX_BROADCAST_LENGTH:
            return await self.show_form(request, user, kind, status=400, error="error_too_long", checked=picked, body=body)
        form_id = fields.get("form_id")
        try:
            result = await self.outreach.prepare(
                user=user.account,
                kind=kind,
                campaign_id=campaign_id,
                language=language,
                body=body if kind is OutboxKind.BROADCAST else None,
                update_id=f"console:{form_id}" if isinstance(form_id, str) and FORM_ID.match(form_id) else None,
                unit_ids=picked,
            )
        except NotCoordinatorError:
            return self.console.to_sign_in()
        except CampaignNotFoundError:
            return self.console.message(request, 404, "console.not_found", user=user)
        back = f"{PREFIX}/campaigns/{campaign_id}"
        if isinstance(result, Refused):
            text = self.refusal_text(request, result.campaign.id, result.campaign.title, result.reason)
            return self.text(request, user, 409, text, back=back)
        if isinstance(result, Redelivered):
            if result.batch_id is None:
                return self.text(request, user, 409, translate(language, "remind.already_handled"), back=back)
            return see_other(f"{PREFIX}/outreach/{result.batch_id}?notice=already_handled")
        assert isinstance(result, Preview), "a campaign id was given"
        if result.batch_id is None:
            key = "nobody_broadcast" if kind is OutboxKind.BROADCAST else "nobody_reminder"
            return self.text(
                request, user, 200, translate(language, f"console_outreach.{key}", title=result.campaign.title), back=back
            )
        return see_other(f"{PREFIX}/outreach/{result.batch_id}")

    # -- a batch ----------------------------------------------------------------------------

    async def batch(self, request: web.Request) -> web.StreamResponse:
        """``GET /outreach/{batch}``: a draft's preview, or the progress of its send."""
        user = await self.console.user(request)
        if user is None:
            return self.console.to_sign_in()
        try:
            view = await self.outreach.inspect(user=user.account, batch_id=int(request.match_info["batch"]))
        except NotCoordinatorError:
            return self.console.to_sign_in()
        if view is None:
            return self.console.message(request, 404, "console.not_found", user=user)
        notice = request.query.get("notice")
        context: dict[str, Any] = {
            "view": view,
            "broadcast": view.kind is OutboxKind.BROADCAST,
            "notice": notice if notice in NOTICES else None,
            "progress": progress_of(view, self.console.language(request)),
        }
        if view.status is OutboxBatchStatus.DRAFT:
            refusal = None
            if view.refusal is not None:
                refusal = self.refusal_text(request, view.campaign.id, view.campaign.title, view.refusal)
            return self.render(
                request, "outreach_preview.html", user=user, refusal=refusal, previews=self.previews(view), **context
            )
        return self.render(request, "outreach_progress.html", user=user, script_url=self.script_url, **context)

    def previews(self, view: BatchView) -> list[dict[str, Any]]:
        """Each unit with its accounts: channel, language and the message as that channel writes it."""
        units = []
        for unit in view.units:
            recipients = []
            for recipient in unit.recipients:
                previewer = self.previewers.get(recipient.channel)
                content = recipient.content
                recipients.append(
                    {
                        "channel": recipient.channel,
                        "unreachable": recipient.unreachable,
                        "language": None if content is None else translate(content.language, "console.language_name"),
                        "lang": None if content is None else content.language,
                        "text": None if content is None or previewer is None else previewer(content),
                    }
                )
            units.append({"name": unit.name, "status": unit.status.value, "recipients": recipients})
        return units

    async def confirm(self, request: web.Request) -> web.StreamResponse:
        """``POST /outreach/{batch}/confirm``: queue the messages, once; then the progress page."""
        user, refusal = await self.console.signed_in_form(request)
        if refusal is not None:
            return refusal
        assert user is not None
        batch_id = int(request.match_info["batch"])
        language = self.console.language(request)
        try:
            confirmation = await self.outreach.confirm(
                user=user.account, batch_id=batch_id, status_chat_id=None, status_message_id=None
            )
        except NotCoordinatorError:
            return self.console.to_sign_in()
        outcome = confirmation.outcome
        page = f"{PREFIX}/outreach/{batch_id}"
        if outcome is ConfirmOutcome.STARTED:
            return see_other(page)
        if outcome is ConfirmOutcome.ALREADY_HANDLED:
            return see_other(f"{page}?notice=already_handled")
        if outcome is ConfirmOutcome.NOBODY:
            return see_other(f"{page}?notice=nobody")
        campaign = confirmation.campaign
        if outcome is ConfirmOutcome.NOT_FOUND or campaign is None:
            return self.console.message(request, 404, "console.not_found", user=user)
        back = f"{PREFIX}/campaigns/{campaign.id}"
        if outcome is ConfirmOutcome.EXPIRED:
            return self.text(request, user, 410, translate(language, "console_outreach.expired"), back=back)
        assert confirmation.refusal is not None, "a refused confirmation says why"
        return self.text(
            request, user, 409, self.refusal_text(request, campaign.id, campaign.title, confirmation.refusal), back=back
        )

    async def cancel(self, request: web.Request) -> web.StreamResponse:
        """``POST /outreach/{batch}/cancel``: drop the draft."""
        user, refusal = await self.console.signed_in_form(request)
        if refusal is not None:
            return refusal
        assert user is not None
        batch_id = int(request.match_info["batch"])
        try:
            cancelled = await self.outreach.cancel(user=user.account, batch_id=batch_id)
        except NotCoordinatorError:
            return self.console.to_sign_in()
        return see_other(f"{PREFIX}/outreach/{batch_id}?notice={'cancelled' if cancelled else 'already_handled'}")

    async def progress_json(self, request: web.Request) -> web.StreamResponse:
        """``GET /outreach/{batch}/progress.json``: the counts (queued, sent, failed, unreachable, skipped) and who to phone."""
        user = await self.console.user(request)
        if user is None:
            return self.console.to_sign_in()
        try:
            view = await self.outreach.inspect(user=user.account, batch_id=int(request.match_info["batch"]))
        except NotCoordinatorError:
            return self.console.to_sign_in()
        if view is None:
            return web.json_response({"error": "not_found"}, status=404)
        language = self.console.language(request)
        progress = progress_of(view, language)
        return web.json_response(
            {
                **progress,
                "state_text": translate(language, f"console_outreach.state_{progress['state']}"),
            }
        )


def outreach_text(language: str, key: str) -> str:
    return translate(language, f"console_outreach.{key}")


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def default_selection(choices: UnitChoices, kind: OutboxKind) -> frozenset[int]:
    """A reminder: the units not submitted; a notice: every unit."""
    return frozenset(
        unit.unit_id for unit in choices.units if kind is OutboxKind.BROADCAST or unit.status is not ResponseStatus.SUBMITTED
    )


def progress_of(view: BatchView, language: str) -> dict[str, Any]:
    """What the progress page and its JSON show: the counts, ``state`` (draft, cancelled, sending or done),
    ``problems`` (the recipients that failed or cannot be reached, worded) and ``no_contact`` (the units no
    message went to), each list with its heading."""
    counts = view.counts
    if view.status is OutboxBatchStatus.DRAFT:
        state = "draft"
    elif view.status is OutboxBatchStatus.CANCELLED:
        state = "cancelled"
    elif view.status is OutboxBatchStatus.ACTIVE:
        state = "sending"
    else:
        state = "done"
    confirmed = state in ("sending", "done")
    problems = [problem_row(problem, language) for problem in view.problems] if confirmed else []
    no_contact = list(view.unreachable_units) if confirmed else []
    return {
        "state": state,
        "total": view.total,
        "queued": counts[DeliveryStatus.PENDING] + counts[DeliveryStatus.SENDING],
        "sent": counts[DeliveryStatus.SENT],
        "failed": counts[DeliveryStatus.FAILED],
        "unreachable": counts[DeliveryStatus.UNREACHABLE],
        "skipped": counts[DeliveryStatus.SKIPPED],
        "done": state in ("done", "cancelled"),
        "problems": problems,
        "problems_heading": translate(language, "console_outreach_problems.heading", count=len(problems)),
        "no_contact": no_contact,
        "no_contact_heading": translate(language, "console_outreach_problems.no_contact_heading", count=len(no_contact)),
    }


def problem_row(problem: DeliveryProblem, language: str) -> dict[str, str]:
    """One recipient the send did not reach, in the coordinator's words (plain text: the page escapes it)."""
    if problem.status is DeliveryStatus.UNREACHABLE:
        key = f"unreachable_{problem.channel}" if problem.channel in NAMED_CHANNELS else "unreachable_other"
    else:
        key = "failed"
    return {
        "units": translate(language, "console_progress.list_separator").join(problem.units) or "—",
        "name": problem.name,
        "channel": translate(language, f"console_outreach.channel_{problem.channel}")
        if problem.channel in NAMED_CHANNELS
        else problem.channel,
        "reason": translate(language, f"console_outreach_problems.{key}"),
        "detail": translate(language, "console_outreach_problems.detail", detail=problem.reason) if problem.reason else "",
    }


def register(app: web.Application, console: Console, setup: OutreachSetup) -> None:
    """Add the reminder and notice pages to the console's application."""
    pages = OutreachPages(console=console, setup=setup)
    # The campaign page's "remind now" and "send a notice" links.
    aiohttp_jinja2.get_env(app).globals["outreach_text"] = outreach_text
    campaign = r"/campaigns/{id:\d{1,18}}/{action:remind|broadcast}"
    batch = r"/outreach/{batch:\d{1,18}}"
    app.router.add_get(campaign, pages.form)
    app.router.add_post(campaign, pages.prepare)
    app.router.add_get(batch, pages.batch)
    app.router.add_post(batch + "/confirm", pages.confirm)
    app.router.add_post(batch + "/cancel", pages.cancel)
    app.router.add_get(batch + "/progress.json", pages.progress_json)
