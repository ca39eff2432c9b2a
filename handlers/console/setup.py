"""The console's campaign setup: create a campaign, close, reopen, move its deadline, change its reminders.

Routes (relative to ``/admin``), added to the console app by :func:`register`:

- ``GET /campaigns/new``: the form (shipped survey or upload, title, deadline
  and zone, roster, reminder schedule, previous period).
- ``POST /campaigns/new`` (multipart): validates everything, shows every
  problem beside its field with what was typed kept, or creates the campaign
  and goes to its page. A form shown again with its problems is a 200 page
  (browsers report a 4xx page in their console as an error).
- ``POST /campaigns/{id}/close``, ``POST /campaigns/{id}/reopen``.
- ``GET /campaigns/{id}/deadline``, ``POST /campaigns/{id}/deadline``.
- ``GET /campaigns/{id}/reminders``, ``POST /campaigns/{id}/reminders``: the
  automatic reminders' times before the deadline (``3d,1d,2h``; empty for
  none), refused for a closed campaign; back on the campaign page a notice
  says what changed (``?notice=reminders&was=...``).

Every page and action needs the session (else 303 to the sign-in page), every
POST its CSRF token (else 403, nothing changed), and the account must still be
a coordinator. The work is :class:`bot.campaign_setup.CampaignSetup`'s, the
same service ``surveybot campaign`` uses; the parsers are the CLI's too
(:mod:`bot.core.durations`, :func:`storage.rosters.parse_roster`,
:func:`bot.survey_files.load_survey_data`).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import BodyPartReader, web
from jinja2.runtime import Context

from bot.campaign_setup import CampaignPlan, CampaignSetup, SetupField, SetupRejection, check_deadline, check_title
from bot.console_access import ConsoleUser
from bot.coordination import NotCoordinatorError
from bot.core.campaigns import CampaignSummary
from bot.core.catalog import translate
from bot.core.durations import DurationRejection, format_reminder_offsets, parse_reminder_offsets
from bot.core.file_content import HEAD_BYTES, is_executable
from bot.core.loading import DefinitionError
from bot.survey_cache import SurveyCache
from bot.survey_files import SUFFIXES, SurveyFile, load_survey_data, load_survey_file
from handlers.console.app import PREFIX, Console, same_origin
from storage.errors import CampaignNotFoundError
from storage.rosters import RosterProblem, parse_roster

logger = logging.getLogger(__name__)

#: The largest survey file taken by upload (a real XLSForm is a few hundred KB).
UPLOAD_MAX_BYTES: Final = 2 * 1024 * 1024
#: The largest of the form's text fields together (the roster is the big one).
FIELDS_MAX_BYTES: Final = 512 * 1024
#: The default schedule offered, as ``surveybot campaign create --remind``'s default.
DEFAULT_REMIND: Final = "3d,1d,2h"
#: The zones offered for a deadline (the configured one is added when missing).
ZONES: Final = (
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Kolkata",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Moscow",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Australia/Sydney",
    "UTC",
)
#: How long, and how many, valid uploads are kept for a form shown again with other problems.
STASH_TTL: Final = timedelta(hours=1)
STASH_SIZE: Final = 32


def utc_offset(moment: datetime) -> str:
    """``UTC+08:00`` for an aware time."""
    offset = moment.strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"


def clean_file_name(name: str) -> str:
    """The upload's base name without control characters (it appears in messages and logs)."""
    base = Path(name.replace("\\", "/")).name
    return "".join(char for char in base if unicodedata.category(char)[0] != "C")[:120]


@dataclass
class SetupForm:
    """What the create form holds: the typed values (shown again) and the problems by field."""

    title: str = ""
    survey_source: str = "shipped"
    shipped: str = ""
    upload_token: str = ""
    upload_name: str = ""
    deadline: str = ""
    timezone: str = "Asia/Shanghai"
    roster: str = ""
    remind: str = DEFAULT_REMIND
    previous: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    #: ``surveybot validate``'s messages for the survey chosen or uploaded.
    survey_messages: list[str] = field(default_factory=list)
    #: What was dropped while reading the survey (an XLSForm's metadata rows...).
    survey_warnings: list[str] = field(default_factory=list)

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


@dataclass(frozen=True, slots=True)
class ReceivedForm:
    """A multipart post as read: its text fields and the uploaded file, if any."""

    fields: dict[str, str]
    file_name: str = ""
    file_data: bytes = b""
    file_too_large: bool = False
    fields_too_large: bool = False


@dataclass(frozen=True, slots=True)
class StashedUpload:
    session: int
    name: str
    data: bytes
    at: datetime


@dataclass(frozen=True, slots=True)
class ShippedSurvey:
    file: str
    label: str


async def read_multipart(request: web.Request) -> ReceivedForm | None:
    """The form's fields and file, read with size limits; None when the body is no form."""
    if request.content_type == "application/x-www-form-urlencoded":  # a form without a file chosen, sent by a script
        if (request.content_length or 0) > FIELDS_MAX_BYTES:
            return ReceivedForm(fields={}, fields_too_large=True)
        posted = await request.post()
        return ReceivedForm(fields={name: value for name, value in posted.items() if isinstance(value, str)})
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError, KeyError):
        return None
    fields: dict[str, str] = {}
    file_name, file_data, file_too_large, fields_too_large = "", b"", False, False
    total = 0
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.filename is not None:
            data = bytearray()
            while chunk := await part.read_chunk():
                data.extend(chunk)
                if len(data) > UPLOAD_MAX_BYTES:
                    file_too_large = True
                    break
            if file_too_large:
                break
            file_name, file_data = clean_file_name(part.filename), bytes(data)
            continue
        raw = bytearray()
        while chunk := await part.read_chunk():
            raw.extend(chunk)
            total += len(chunk)
            if total > FIELDS_MAX_BYTES:
                fields_too_large = True
                break
        if fields_too_large:
            break
        fields[part.name] = raw.decode("utf-8", errors="replace")
    return ReceivedForm(
        fields=fields,
        file_name=file_name,
        file_data=file_data,
        file_too_large=file_too_large,
        fields_too_large=fields_too_large,
    )


class CampaignSetupPages:
    """The create form and the lifecycle actions, over :class:`CampaignSetup`."""

    def __init__(self, *, console: Console, setup: CampaignSetup, surveys_dir: Path, default_zone: str) -> None:
        self.console = console
        self.setup = setup
        self.surveys_dir = surveys_dir
        self.default_zone = default_zone
        self.zones = ZONES if default_zone in ZONES else (default_zone, *ZONES)
        self._stash: OrderedDict[str, StashedUpload] = OrderedDict()
        self._shipped: dict[str, tuple[float, SurveyFile | DefinitionError]] = {}

    @property
    def now(self) -> datetime:
        return self.console.coordination.clock()

    # -- the shipped surveys ----------------------------------------------------------------

    def shipped_files(self) -> list[Path]:
        """The survey files of ``SURVEYBOT_SURVEYS_DIR``, by name."""
        try:
            return sorted(path for path in self.surveys_dir.iterdir() if path.is_file() and path.suffix.lower() in SUFFIXES)
        except OSError:
            return []

    def load_shipped(self, path: Path) -> SurveyFile | DefinitionError:
        """The shipped file loaded (kept until the file changes), or ``validate``'s error."""
        mtime = path.stat().st_mtime
        cached = self._shipped.get(path.name)
        if cached is not None and cached[0] == mtime:
            return cached[1]
        try:
            loaded: SurveyFile | DefinitionError = load_survey_file(path)
        except DefinitionError as error:
            loaded = error
        self._shipped[path.name] = (mtime, loaded)
        return loaded

    def shipped_surveys(self) -> list[ShippedSurvey]:
        offered = []
        for path in self.shipped_files():
            loaded = self.load_shipped(path)
            if isinstance(loaded, DefinitionError):
                logger.warning("shipped survey %s is not valid and is not offered:\n%s", path, loaded)
                continue
            survey = loaded.survey
            offered.append(ShippedSurvey(file=path.name, label=f"{path.name} · {survey.id} v{survey.version}"))
        return offered

    # -- the stash of valid uploads ---------------------------------------------------------

    def stash(self, user: ConsoleUser, name: str, data: bytes) -> str:
        token = secrets.token_urlsafe(18)
        self._stash[token] = StashedUpload(session=user.session, name=name, data=data, at=self.now)
        while len(self._stash) > STASH_SIZE:
            self._stash.popitem(last=False)
        return token

    def unstash(self, user: ConsoleUser, token: str) -> StashedUpload | None:
        stashed = self._stash.get(token)
        if stashed is None or stashed.session != user.session or self.now - stashed.at > STASH_TTL:
            return None
        return stashed

    # -- helpers ----------------------------------------------------------------------------

    def t(self, request: web.Request, key: str, **params: object) -> str:
        return translate(self.console.language(request), f"console_setup.{key}", **params)

    async def authorized(self, request: web.Request, user: ConsoleUser, command: str) -> bool:
        try:
            await self.console.coordination.authorize(user=user.account, command=command)
        except NotCoordinatorError:
            return False
        return True

    def zone_options(self) -> list[tuple[str, str]]:
        now = self.now
        return [(zone, f"{zone} ({utc_offset(now.astimezone(ZoneInfo(zone)))})") for zone in self.zones]

    async def render_form(self, request: web.Request, user: ConsoleUser, form: SetupForm) -> web.Response:
        previous = await self.console.coordination.campaigns(user=user.account)
        return self.console.render(
            request,
            "campaign_new.html",
            user=user,
            form=form,
            shipped=self.shipped_surveys(),
            zones=self.zone_options(),
            previous_campaigns=[(overview.campaign.id, overview.campaign.title) for overview in previous],
            upload_max_mb=UPLOAD_MAX_BYTES // 1024 // 1024,
        )

    def roster_message(self, request: web.Request, problem: RosterProblem) -> str:
        return self.t(
            request,
            f"roster_{problem.kind.value}",
            line=problem.line,
            text=problem.text,
            first_line=problem.first_line,
        )

    def rejection_message(self, request: web.Request, rejection: SetupRejection) -> str:
        return self.t(request, f"problem_{rejection.problem.value}")

    def parse_local_deadline(self, text: str, zone_name: str) -> datetime | None:
        """A ``datetime-local`` value (``2026-12-15T17:00``) in ``zone_name``, or None."""
        try:
            local = datetime.fromisoformat(text.strip())
        except ValueError:
            return None
        if local.tzinfo is not None:
            return None
        return local.replace(tzinfo=ZoneInfo(zone_name))

    # -- the create form --------------------------------------------------------------------

    async def new_page(self, request: web.Request) -> web.StreamResponse:
        """``GET /campaigns/new``: the empty form, a week from now at 17:00 in the default zone."""
        user = await self.console.user(request)
        if user is None or not await self.authorized(request, user, "campaign create"):
            return self.console.to_sign_in()
        zone = ZoneInfo(self.default_zone)
        suggested = (self.now.astimezone(zone) + timedelta(days=7)).replace(hour=17, minute=0, second=0, microsecond=0)
        form = SetupForm(timezone=self.default_zone, deadline=suggested.strftime("%Y-%m-%dT%H:%M"))
        shipped = self.shipped_surveys()
        if shipped:
            form.shipped = shipped[0].file
        else:
            form.survey_source = "upload"
        return await self.render_form(request, user, form)

    async def create(self, request: web.Request) -> web.StreamResponse:
        """``POST /campaigns/new``: check everything; show the problems beside their fields, or create."""
        user = await self.console.user(request)
        if user is None:
            return self.console.to_sign_in()
        received = await read_multipart(request)
        csrf = received.fields.get("csrf", "") if received is not None else ""
        if not csrf or not hmac.compare_digest(csrf.encode(), user.csrf_token.encode()) or not same_origin(request):
            logger.warning("console %s refused: wrong CSRF token or origin (session %s)", request.path, user.session)
            return self.console.message(request, 403, "console.forbidden", user=user)
        assert received is not None
        if not await self.authorized(request, user, "campaign create"):
            return self.console.to_sign_in()
        fields = received.fields
        form = SetupForm(
            title=fields.get("title", ""),
            survey_source="upload" if fields.get("survey_source") == "upload" else "shipped",
            shipped=fields.get("shipped", ""),
            upload_token=fields.get("upload_token", ""),
            deadline=fields.get("deadline", ""),
            timezone=fields.get("timezone", self.default_zone),
            roster=fields.get("roster", ""),
            remind=fields.get("remind", DEFAULT_REMIND),
            previous=fields.get("previous", ""),
        )
        if received.fields_too_large:
            form.error("roster", self.t(request, "fields_too_large", kb=FIELDS_MAX_BYTES // 1024))
            return await self.render_form(request, user, form)
        survey = self.chosen_survey(request, user, form, received)
        title = check_title(form.title)
        if isinstance(title, SetupRejection):
            form.error("title", self.rejection_message(request, title))
        deadline = None
        if form.timezone not in self.zones:
            form.error("deadline", self.t(request, "problem_zone_unknown"))
        else:
            deadline = self.parse_local_deadline(form.deadline, form.timezone)
            if deadline is None:
                form.error("deadline", self.t(request, "deadline_malformed"))
            elif (past := check_deadline(deadline, now=self.now)) is not None:
                form.error("deadline", self.rejection_message(request, past))
        offsets = parse_reminder_offsets(form.remind)
        if isinstance(offsets, DurationRejection):
            form.error("remind", self.t(request, f"remind_{offsets.problem.value}", text=offsets.text))
        roster = parse_roster(form.roster)
        if roster.problems and form.roster.strip():
            for problem in roster.problems:
                form.error("roster", self.roster_message(request, problem))
        previous_id: int | None = None
        if form.previous:
            if not form.previous.isdigit():
                form.error("previous", self.t(request, "problem_previous_not_found"))
            else:
                previous_id = int(form.previous)
        if form.errors or survey is None or deadline is None or isinstance(offsets, DurationRejection):
            return await self.render_form(request, user, form)
        plan = CampaignPlan(
            survey=survey.survey,
            title=form.title,
            deadline=deadline,
            timezone=form.timezone,
            reminder_offsets=tuple(offsets),
            roster=roster.lines,
            previous_campaign_id=previous_id,
        )
        created = await self.setup.create(plan=plan, now=self.now)
        if isinstance(created, SetupRejection):
            name = {SetupField.TIMEZONE: "deadline"}.get(created.field, created.field.value)
            form.error(name, self.rejection_message(request, created))
            return await self.render_form(request, user, form)
        logger.info(
            "console: %s account %s created campaign %s with %d unit(s)",
            user.channel,
            user.external_id,
            created.campaign_id,
            created.units,
        )
        self._stash.pop(form.upload_token, None)
        return web.Response(status=303, headers={"Location": f"{PREFIX}/campaigns/{created.campaign_id}"})

    def chosen_survey(
        self, request: web.Request, user: ConsoleUser, form: SetupForm, received: ReceivedForm
    ) -> SurveyFile | None:
        """The survey the form names (an upload, a kept upload, or a shipped file); problems go on the form."""
        if form.survey_source == "upload":
            if received.file_too_large:
                form.error("survey", self.t(request, "upload_too_large", mb=UPLOAD_MAX_BYTES // 1024 // 1024))
                return None
            if received.file_name and received.file_data:
                name, data = received.file_name, received.file_data
            elif (stashed := self.unstash(user, form.upload_token)) is not None:
                name, data = stashed.name, stashed.data
            else:
                form.error("survey", self.t(request, "upload_missing"))
                return None
            form.upload_name = name
            if Path(name).suffix.lower() not in SUFFIXES:
                form.error("survey", self.t(request, "upload_wrong_type", name=name))
                return None
            if is_executable(data[:HEAD_BYTES]):
                logger.warning("console upload %r refused: its content is a program", name)
                form.error("survey", self.t(request, "upload_not_survey", name=name))
                return None
            try:
                loaded = load_survey_data(data, source=name)
            except DefinitionError as error:
                form.survey_messages = str(error).splitlines()
                return None
            form.upload_token = self.stash(user, name, data)
            form.survey_warnings = list(loaded.warnings)
            return loaded
        offered = {path.name: path for path in self.shipped_files()}
        path = offered.get(form.shipped)
        if path is None:
            form.error("survey", self.t(request, "shipped_missing"))
            return None
        shipped = self.load_shipped(path)
        if isinstance(shipped, DefinitionError):
            form.survey_messages = str(shipped).splitlines()
            return None
        form.survey_warnings = list(shipped.warnings)
        return shipped

    # -- the lifecycle ----------------------------------------------------------------------

    async def lifecycle_user(self, request: web.Request, command: str) -> tuple[ConsoleUser | None, web.StreamResponse | None]:
        user, refusal = await self.console.signed_in_form(request)
        if refusal is not None:
            return None, refusal
        assert user is not None
        if not await self.authorized(request, user, command):
            return None, self.console.to_sign_in()
        return user, None

    def to_campaign(self, campaign_id: int) -> web.Response:
        return web.Response(status=303, headers={"Location": f"{PREFIX}/campaigns/{campaign_id}"})

    async def close(self, request: web.Request) -> web.StreamResponse:
        """``POST /campaigns/{id}/close``: answers become read-only."""
        user, refusal = await self.lifecycle_user(request, "campaign close")
        if refusal is not None:
            return refusal
        campaign_id = int(request.match_info["id"])
        try:
            await self.setup.close(campaign_id=campaign_id, now=self.now)
        except CampaignNotFoundError:
            return self.console.message(request, 404, "console.not_found", user=user)
        return self.to_campaign(campaign_id)

    async def reopen(self, request: web.Request) -> web.StreamResponse:
        """``POST /campaigns/{id}/reopen``: answers are taken again until the deadline."""
        user, refusal = await self.lifecycle_user(request, "campaign reopen")
        if refusal is not None:
            return refusal
        campaign_id = int(request.match_info["id"])
        try:
            await self.setup.reopen(campaign_id=campaign_id)
        except CampaignNotFoundError:
            return self.console.message(request, 404, "console.not_found", user=user)
        return self.to_campaign(campaign_id)

    async def deadline_page(self, request: web.Request) -> web.StreamResponse:
        """``GET /campaigns/{id}/deadline``: the form to move the deadline."""
        user = await self.console.user(request)
        if user is None or not await self.authorized(request, user, "campaign deadline"):
            return self.console.to_sign_in()
        return await self.render_deadline(request, user, int(request.match_info["id"]), typed=None, error=None)

    async def render_deadline(
        self, request: web.Request, user: ConsoleUser, campaign_id: int, *, typed: str | None, error: str | None
    ) -> web.Response:
        campaign = await self.campaign_summary(user, "campaign deadline", campaign_id)
        if campaign is None:
            return self.console.message(request, 404, "console.not_found", user=user)
        return self.console.render(
            request,
            "campaign_deadline.html",
            user=user,
            campaign=campaign,
            deadline_value=typed if typed is not None else campaign.deadline.strftime("%Y-%m-%dT%H:%M"),
            offset=utc_offset(campaign.deadline),
            error=error,
        )

    async def move_deadline(self, request: web.Request) -> web.StreamResponse:
        """``POST /campaigns/{id}/deadline``: the new deadline, in the campaign's zone."""
        user, refusal = await self.lifecycle_user(request, "campaign deadline")
        if refusal is not None:
            return refusal
        assert user is not None
        campaign_id = int(request.match_info["id"])
        typed = str((await request.post()).get("deadline", ""))
        campaign = await self.campaign_summary(user, "campaign deadline", campaign_id)
        if campaign is None:
            return self.console.message(request, 404, "console.not_found", user=user)
        deadline = self.parse_local_deadline(typed, campaign.timezone)
        if deadline is None:
            return await self.render_deadline(
                request, user, campaign_id, typed=typed, error=self.t(request, "deadline_malformed")
            )
        moved = await self.setup.move_deadline(campaign_id=campaign_id, deadline=deadline, now=self.now)
        if isinstance(moved, SetupRejection):
            return await self.render_deadline(
                request, user, campaign_id, typed=typed, error=self.rejection_message(request, moved)
            )
        logger.info(
            "console: %s account %s moved the deadline of campaign %s to %s",
            user.channel,
            user.external_id,
            campaign_id,
            deadline.isoformat(),
        )
        return self.to_campaign(campaign_id)

    async def campaign_summary(self, user: ConsoleUser, command: str, campaign_id: int) -> CampaignSummary | None:
        """The campaign ``user`` may run ``command`` on (checked on every call); None if there is none."""
        try:
            campaign = await self.console.coordination.pick_campaign(
                user=user.account, command=command, campaign_id=campaign_id
            )
        except CampaignNotFoundError:
            return None
        assert isinstance(campaign, CampaignSummary)
        return campaign

    # -- the automatic reminders ------------------------------------------------------------

    def remind_message(self, request: web.Request, rejection: DurationRejection) -> str:
        """The create form's words for a schedule that does not parse (``console_setup.remind_*``)."""
        return self.t(request, f"remind_{rejection.problem.value}", text=rejection.text)

    async def reminders_page(self, request: web.Request) -> web.StreamResponse:
        """``GET /campaigns/{id}/reminders``: the form, holding the reminders set now."""
        user = await self.console.user(request)
        if user is None or not await self.authorized(request, user, "campaign set --remind"):
            return self.console.to_sign_in()
        return await self.render_reminders(request, user, int(request.match_info["id"]), typed=None, error=None)

    async def render_reminders(
        self, request: web.Request, user: ConsoleUser, campaign_id: int, *, typed: str | None, error: str | None
    ) -> web.Response:
        """The form (a closed campaign's page says why it has none); ``typed`` and ``error`` when shown again."""
        campaign = await self.campaign_summary(user, "campaign set --remind", campaign_id)
        if campaign is None:
            return self.console.message(request, 404, "console.not_found", user=user)
        offsets = await self.setup.reminder_offsets(campaign_id=campaign_id)
        current = format_reminder_offsets(offsets) if offsets else ""
        language = self.console.language(request)

        def tr(key: str, **params: object) -> str:
            return translate(language, f"console_reminders.{key}", **params)

        return self.console.render(
            request,
            "campaign_reminders.html",
            user=user,
            tr=tr,
            campaign=campaign,
            remind_value=typed if typed is not None else current,
            current=current,
            error=error,
        )

    async def set_reminders(self, request: web.Request) -> web.StreamResponse:
        """``POST /campaigns/{id}/reminders``: the new schedule (empty: none); an open campaign's only."""
        user, refusal = await self.lifecycle_user(request, "campaign set --remind")
        if refusal is not None:
            return refusal
        assert user is not None
        campaign_id = int(request.match_info["id"])
        typed = str((await request.post()).get("remind", ""))
        campaign = await self.campaign_summary(user, "campaign set --remind", campaign_id)
        if campaign is None:
            return self.console.message(request, 404, "console.not_found", user=user)
        before = await self.setup.reminder_offsets(campaign_id=campaign_id)
        if not campaign.is_open:  # the page says so; nothing is changed
            logger.info("console: reminders of closed campaign %s not changed", campaign_id)
            return await self.render_reminders(request, user, campaign_id, typed=typed, error=None)
        offsets = parse_reminder_offsets(typed)
        if isinstance(offsets, DurationRejection):
            return await self.render_reminders(
                request, user, campaign_id, typed=typed, error=self.remind_message(request, offsets)
            )
        changed = await self.setup.set_reminders(campaign_id=campaign_id, offsets=tuple(offsets), now=self.now)
        logger.info(
            "console: %s account %s set the reminders of campaign %s to %s (%d to come)",
            user.channel,
            user.external_id,
            campaign_id,
            format_reminder_offsets(changed.offsets),
            len(changed.upcoming),
        )
        query = urlencode({"notice": "reminders", "was": format_reminder_offsets(before)})
        return web.Response(
            status=303, headers={"Location": f"{PREFIX}/campaigns/{campaign_id}?{query}#schedule-heading"}
        )


@jinja2.pass_context
def setup_text(context: Context, key: str, **params: object) -> str:
    """``ts('key')`` in the templates: a ``console_setup.*`` catalog entry in the page's language."""
    return translate(str(context["lang"]), f"console_setup.{key}", **params)


def deadline_offset(campaign: CampaignSummary) -> str:
    return utc_offset(campaign.deadline)


def register(app: web.Application, console: Console, *, surveys: SurveyCache | None = None) -> None:
    """Add the create form and the lifecycle actions to the console app (and ``ts`` to its templates)."""
    environment = aiohttp_jinja2.get_env(app)
    environment.globals["ts"] = setup_text
    environment.globals["deadline_offset"] = deadline_offset
    coordination = console.coordination
    pages = CampaignSetupPages(
        console=console,
        setup=CampaignSetup(database=coordination.database, surveys=surveys),
        surveys_dir=coordination.settings.surveys_dir,
        default_zone=coordination.settings.timezone,
    )
    app.router.add_get("/campaigns/new", pages.new_page)
    app.router.add_post("/campaigns/new", pages.create)
    app.router.add_post(r"/campaigns/{id:\d{1,18}}/close", pages.close)
    app.router.add_post(r"/campaigns/{id:\d{1,18}}/reopen", pages.reopen)
    app.router.add_get(r"/campaigns/{id:\d{1,18}}/deadline", pages.deadline_page)
    app.router.add_post(r"/campaigns/{id:\d{1,18}}/deadline", pages.move_deadline)
    app.router.add_get(r"/campaigns/{id:\d{1,18}}/reminders", pages.reminders_page)
    app.router.add_post(r"/campaigns/{id:\d{1,18}}/reminders", pages.set_reminders)


__all__ = ["CampaignSetupPages", "register"]
