"""The survey service: the one entry point a channel calls for each inbound update.

For an update it opens ONE write transaction, claims the update id (a
redelivered update changes nothing and shows nothing), loads the account and
its active response with the row locked, runs the engine, and writes the
answers, their history, the attachments and the new state before committing.
Two updates for one response (the same person on two phones, two people of
one unit) therefore never interleave: PostgreSQL locks the response row, and
SQLite's write transactions hold the database lock from their first statement.

Channels pass a :class:`ChannelUser` and an engine action and render the
:class:`~bot.core.outcome.Outcome` they get back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import engine
from bot.core.actions import Action, GoTo, Pause, Resume, SetLanguage, ShowReview, Upload
from bot.core.catalog import bot_language
from bot.core.definition import QuestionType
from bot.core.events import AnswerChanged, Event, Submitted
from bot.core.file_content import HEAD_BYTES
from bot.core.inbound_text import clean_fields, clean_text
from bot.core.outcome import (
    Greeting,
    InvitationProblem,
    InvitationRefused,
    LanguageChanged,
    Notice,
    NotInvited,
    Outcome,
    ReadOnly,
    SubmissionReceipt,
    UnitChoice,
    UnitChoices,
)
from bot.core.previous import NO_PREVIOUS, PreviousAnswers, compare_surveys
from bot.core.read_only import read_only_reason
from bot.core.state import SessionState, SessionStatus
from bot.core.survey import Survey
from bot.settings import Settings
from bot.survey_cache import SurveyCache
from storage.attachments import store_attachment
from storage.database import Database
from storage.errors import NotFoundError
from storage.invitations import find_invitation, redeem_invitation
from storage.models import Campaign, CampaignStatus, Invitation, Respondent, Response, ResponseStatus, Unit
from storage.periods import last_period_values
from storage.respondents import (
    bind_respondent,
    find_respondent,
    get_or_create_respondent,
    list_bindings,
    mark_reachable,
    refresh_respondent,
)
from storage.responses import (
    detach_response,
    lock_active_response,
    lock_response_in_campaign,
    record_answer,
    save_state,
    submit_response,
    write_response,
)
from storage.types import utc_now
from storage.updates import claim_update

logger = logging.getLogger(__name__)

#: Actions allowed when the answers are read-only (after the deadline, campaign closed).
READ_ONLY_ACTIONS: tuple[type, ...] = (Resume, ShowReview, Pause, SetLanguage)

#: The channel of accounts that answer through a personal link (the web chat).
LINK_CHANNEL = "web"
#: Actions through a link that apply wherever the respondent is: never refused as stale.
POSITION_FREE_ACTIONS: tuple[type, ...] = (Resume, ShowReview, Pause, SetLanguage, GoTo)


class LinkStatus(StrEnum):
    """What became of an action sent through a personal link."""

    APPLIED = "applied"  # the action ran (it may still have been rejected as an answer)
    REPLAYED = "replayed"  # its key was used before: nothing changed; show the current view
    CONFLICT = "conflict"  # it was made for a question that is no longer current: nothing changed
    REFUSED = "refused"  # the link does not let anyone in (unknown, revoked, expired, closed)


@dataclass(frozen=True, slots=True)
class LinkResult:
    """The outcome of an action or a view through a personal link, and where the respondent now is."""

    status: LinkStatus
    outcome: Outcome
    #: :func:`position` of the response after the action (None when refused).
    position: str | None = None
    read_only: bool = False


class _Conflict(Exception):
    """Raised inside a link action's transaction so that it rolls back: nothing may change."""


def link_account(invitation: Invitation) -> str:
    """The external id of the ``web`` account a personal link stands for.

    The link (its token) is the credential: everyone who opens one link shares
    one account, bound to the link's unit at its first action. It is derived
    from the invitation's id, never from the token, so the token appears in no
    table in plain text.
    """
    return f"invitation-{invitation.id}"


def position(state: SessionState) -> str:
    """Where a response stands, as a channel names it to detect stale actions: ``q:<question id>``, ``review``, ``submitted``."""
    if state.status is SessionStatus.ANSWERING and state.current is not None:
        return f"q:{state.current}"
    if state.status is SessionStatus.SUBMITTED:
        return "submitted"
    return "review"


def link_problem(invitation: Invitation | None, *, bound: bool, now: datetime) -> InvitationProblem | None:
    """Why a personal link lets nobody in now, or None.

    Unlike :func:`storage.invitations.invitation_refusal`, a link is not used
    up: the invitation stays free for a chat account (Telegram), and a link
    whose invitation a chat account used works too (one unit, any channel).
    Expiry and a closed campaign only stop a link that was never used; once
    bound, the respondent keeps seeing the answers (read-only when closed).
    """
    if invitation is None:
        return InvitationProblem.UNKNOWN
    if invitation.revoked_at is not None:
        return InvitationProblem.REVOKED
    if bound:
        return None
    if invitation.used_by_respondent_id is None and invitation.expires_at is not None and invitation.expires_at <= now:
        return InvitationProblem.EXPIRED
    if invitation.unit.campaign.status is not CampaignStatus.OPEN:
        return InvitationProblem.CAMPAIGN_CLOSED
    return None


@dataclass(frozen=True, slots=True)
class ChannelUser:
    """The account an update came from."""

    channel: str
    external_id: str
    display_name: str | None = None
    #: The language the channel reports for the account (Telegram's ``language_code``).
    language_code: str | None = None


@dataclass(slots=True)
class _Context:
    """One locked response and everything around it, inside a transaction.

    The response is detached from the session: what the step changes is
    written once, by :meth:`SurveyService._respond` (:func:`~storage.responses.write_response`).
    """

    respondent: Respondent
    response: Response
    unit: Unit
    campaign: Campaign
    survey: Survey
    language: str
    #: What the unit submitted last period (a campaign linked with ``--previous``), offered as defaults.
    previous: PreviousAnswers = NO_PREVIOUS


class SurveyService:
    """Joins the engine and storage: one transaction per inbound update."""

    def __init__(
        self,
        *,
        database: Database,
        settings: Settings,
        clock: Callable[[], datetime] = utc_now,
        surveys: SurveyCache | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock
        #: Compiled surveys, shared with the outbox composer and the exports when wired so.
        self.surveys = surveys if surveys is not None else SurveyCache()
        #: (survey version, last period's survey version) → the question ids whose answers carry over.
        self._carried_over: dict[tuple[int, int], frozenset[str]] = {}

    # -- entry points -------------------------------------------------------------------

    async def start(self, *, user: ChannelUser, update_id: str | None, token: str | None = None) -> Outcome:
        """``/start`` with or without an invitation token: bind, greet and resume."""
        user = clean_fields(user)
        token = clean_text(token) if token is not None else None
        now = self.clock()
        async with self.database.transaction() as session:
            if update_id is not None and not await claim_update(
                session=session, channel=user.channel, update_id=update_id, now=now
            ):
                return Outcome(language=self._fallback_language(user), duplicate=True)
            respondent = await self._respondent(session, user, now)
            if token:
                redemption = await redeem_invitation(session=session, token=token, respondent=respondent, now=now)
                if redemption.refusal is not None:
                    problem = InvitationProblem(redemption.refusal.value)
                    return Outcome(language=self._language(respondent, None), events=(InvitationRefused(problem),))
            context = await self._context(session, respondent)
            if context is None:
                return Outcome(language=self._language(respondent, None), events=(NotInvited(),))
            return await self._respond(session, context, now)

    async def act(self, *, user: ChannelUser, update_id: str | None, action: Action) -> Outcome:
        """Apply one respondent action to the account's active response.

        An :class:`~bot.core.actions.Upload`'s ``ref`` is the path of the file the
        channel downloaded; once the engine accepts it, the file is copied into
        the attachments store and the answer refers to the stored copy.

        Text in the action and the user (a lone surrogate, NUL) is cleaned
        here, once for every channel (:mod:`bot.core.inbound_text`).
        """
        user, action = clean_fields(user), clean_fields(action)
        if isinstance(action, Upload) and action.ref:
            action = await _with_content(action)
        now = self.clock()
        async with self.database.transaction() as session:
            if update_id is not None and not await claim_update(
                session=session, channel=user.channel, update_id=update_id, now=now
            ):
                return Outcome(language=self._fallback_language(user), duplicate=True)
            context = await self._active_context(session, user, now, action)
            if context is None:
                respondent = await self._respondent(session, user, now)
                if isinstance(action, SetLanguage):
                    respondent.language = action.language
                context = await self._context(session, respondent)
            if context is None:
                return Outcome(language=self._language(respondent, None), events=(NotInvited(),))
            if isinstance(action, Resume) and (
                action.campaign_id not in (None, context.campaign.id) or action.unit_id not in (None, context.unit.id)
            ):
                switched = await self._switch_response(
                    session, context.respondent, campaign_id=action.campaign_id, unit_id=action.unit_id
                )
                if switched is not None:  # greeted again: the greeting names the unit now answered for
                    return await self._respond(session, switched, now)
            return await self._respond(session, context, now, action=action, user=user)

    async def units(self, *, user: ChannelUser) -> Outcome:
        """``/unit``: the units the account answers for in open campaigns, the active one marked."""
        user = clean_fields(user)
        async with self.database.read() as session:
            respondent = await find_respondent(session=session, channel=user.channel, external_id=user.external_id)
            if respondent is None:
                return Outcome(language=self._fallback_language(user), events=(NotInvited(),))
            bindings = await list_bindings(session=session, respondent=respondent, open_only=True)
        language = self._language(respondent, None)
        if not bindings:
            return Outcome(language=language, events=(NotInvited(),))
        active = respondent.active_response_id
        choices = tuple(
            UnitChoice(
                unit_id=binding.unit.id,
                unit_name=binding.unit.name,
                campaign_title=binding.unit.campaign.title,
                submitted=binding.unit.response.status is ResponseStatus.SUBMITTED,
                active=binding.unit.response.id == active,
            )
            for binding in bindings
        )
        return Outcome(language=language, events=(UnitChoices(units=choices),))

    # -- personal links (the web chat) --------------------------------------------------

    async def view_link(self, *, token: str, language: str | None = None) -> LinkResult:
        """What the link's page shows now: the greeting and the current question or review. Writes nothing.

        Link previews, re-opened tabs and crawlers may GET a link any number
        of times: nothing is bound, started or stored until the first action.
        ``language`` is the browser's, used until the account picks one.
        """
        now = self.clock()
        async with self.database.read() as session:
            invitation = await find_invitation(session=session, token=token)
            respondent = (
                await find_respondent(session=session, channel=LINK_CHANNEL, external_id=link_account(invitation))
                if invitation is not None
                else None
            )
            bound = respondent is not None and respondent.active_response_id is not None
            problem = link_problem(invitation, bound=bound, now=now)
            if problem is not None or invitation is None:
                fallback = bot_language(respondent.language if respondent else language)
                return LinkResult(
                    LinkStatus.REFUSED,
                    Outcome(language=fallback, events=(InvitationRefused(problem or InvitationProblem.UNKNOWN),)),
                )
            unit, campaign, response = invitation.unit, invitation.unit.campaign, invitation.unit.response
            survey = await self.surveys.survey(session=session, survey_version_id=campaign.survey_version_id)
        chosen = respondent.language if respondent is not None and respondent.language else language
        current_language = survey.language_for(chosen)
        today = now.astimezone(ZoneInfo(campaign.timezone)).date()
        if response.state is None:
            step = engine.start(survey, language=current_language, today=today)
        else:
            state = SessionState.from_dict(response.state)
            state.language = current_language
            step = engine.resume(survey, state, Resume(), today=today)
        answered, total = engine.progress(survey, step.state, today=today)
        zone = ZoneInfo(campaign.timezone)
        events: list[Event | Notice] = [
            Greeting(
                survey_title=survey.text(survey.definition.title, current_language),
                campaign_title=campaign.title,
                unit_name=unit.name,
                deadline=campaign.deadline.astimezone(zone),
                total_questions=total,
                answered=answered,
                resumed=response.state is not None,
            )
        ]
        reason = read_only_reason(is_open=campaign.status is CampaignStatus.OPEN, deadline=campaign.deadline, now=now)
        if reason is not None:
            events.append(ReadOnly(reason=reason, deadline=campaign.deadline.astimezone(zone)))
            events.extend(engine.resume(survey, step.state, ShowReview(), today=today).events)
        else:
            events.extend(step.events)
        return LinkResult(
            LinkStatus.APPLIED,
            Outcome(language=current_language, events=tuple(events), response_id=response.id),
            position=position(step.state),
            read_only=reason is not None,
        )

    async def act_on_link(
        self,
        *,
        token: str,
        key: str,
        action: Action,
        expected_position: str | None,
        language: str | None = None,
    ) -> LinkResult:
        """Apply one action sent through a personal link, exactly once.

        ``key`` is the client's idempotency key: claimed like a chat update id,
        so a double tap or a retried request changes nothing the second time
        (:attr:`LinkStatus.REPLAYED`). ``expected_position`` is the
        :func:`position` the page showed; when the response has moved on
        (another tab, device or channel) the action is refused as
        :attr:`LinkStatus.CONFLICT` and nothing changes. The first action binds
        the link's account to the unit; the invitation stays free for a chat account.
        """
        now = self.clock()

        async def apply(session: AsyncSession) -> LinkResult:
            invitation = await find_invitation(session=session, token=token)
            account = link_account(invitation) if invitation is not None else None
            known = (
                await find_respondent(session=session, channel=LINK_CHANNEL, external_id=account) if account is not None else None
            )
            bound = known is not None and known.active_response_id is not None
            problem = link_problem(invitation, bound=bound, now=now)
            if problem is not None or invitation is None or account is None:
                fallback = bot_language(known.language if known else language)
                return LinkResult(
                    LinkStatus.REFUSED,
                    Outcome(language=fallback, events=(InvitationRefused(problem or InvitationProblem.UNKNOWN),)),
                )
            user = ChannelUser(channel=LINK_CHANNEL, external_id=account, language_code=language)
            if not await claim_update(session=session, channel=LINK_CHANNEL, update_id=f"{invitation.id}:{key}", now=now):
                return LinkResult(LinkStatus.REPLAYED, Outcome(language=bot_language(language), duplicate=True))
            if known is not None and known.active_response_id == invitation.unit.response.id:
                respondent = known  # bound before: two queries fewer on every answer
                refresh_respondent(respondent, default_language=language, now=now)
            else:
                respondent = await self._respondent(session, user, now)
                await bind_respondent(session=session, respondent=respondent, unit=invitation.unit, invitation=invitation)
                respondent.active_response_id = invitation.unit.response.id
            if isinstance(action, SetLanguage):
                respondent.language = action.language
            unit = invitation.unit
            if self.database.is_sqlite:
                # The invitation's query loaded the unit, its response and campaign in this
                # write transaction, which holds SQLite's lock: they are current already.
                context: _Context | None = await self._make_context(session, respondent, unit.response, unit, unit.campaign)
            else:  # PostgreSQL: lock the response row (FOR UPDATE) and read it afresh
                context = await self._context(session, respondent)
            assert context is not None, "the link's unit has a response"
            if context.response.state is None:
                started = engine.start(
                    context.survey, language=context.language, today=self._today(context, now), previous=context.previous
                )
                await save_state(session=session, response=context.response, state=started.state.to_dict(), now=now)
            current = position(self._state(context))
            if expected_position is not None and expected_position != current and not isinstance(action, POSITION_FREE_ACTIONS):
                raise _Conflict
            # A Resume greets (the page opened again); anything else is a step.
            step_action = None if isinstance(action, Resume) else action
            outcome = await self._respond(session, context, now, action=step_action, user=user)
            state = SessionState.from_dict(context.response.state or {})
            return LinkResult(
                LinkStatus.APPLIED,
                outcome,
                position=position(state),
                read_only=self._read_only(context, now) is not None,
            )

        try:
            # Answers arriving together share one commit; each is answered once its own is durable.
            return await self.database.grouped(apply)
        except _Conflict:
            return LinkResult(LinkStatus.CONFLICT, Outcome(language=bot_language(language)))

    # -- steps ----------------------------------------------------------------------------

    async def _respond(
        self,
        session: AsyncSession,
        context: _Context,
        now: datetime,
        *,
        action: Action | None = None,
        user: ChannelUser | None = None,
    ) -> Outcome:
        """Greet (a response not started, or no action) or take one step, then write the response.

        The response is detached from the session (:meth:`_make_context`): this
        is the one place where what the greeting or the step changed is written.
        """
        if action is None or user is None or context.response.state is None:
            outcome = await self._greet(session, context, now)
        else:
            outcome = await self._step(session, context, action, user, now)
        await write_response(session=session, response=context.response)
        return outcome

    async def _greet(self, session: AsyncSession, context: _Context, now: datetime) -> Outcome:
        survey, response = context.survey, context.response
        zone = ZoneInfo(context.campaign.timezone)
        resumed = response.state is not None
        if resumed:
            state = self._state(context)
            step = engine.resume(survey, state, Resume(), today=self._today(context, now), previous=context.previous)
            events: list[Event | Notice] = []
        else:
            step = engine.start(survey, language=context.language, today=self._today(context, now), previous=context.previous)
            await save_state(session=session, response=response, state=step.state.to_dict(), now=now)
            events = []
        response.last_activity_at = now
        answered, total = engine.progress(survey, step.state, today=self._today(context, now))
        greeting = Greeting(
            survey_title=survey.text(survey.definition.title, context.language),
            campaign_title=context.campaign.title,
            unit_name=context.unit.name,
            deadline=context.campaign.deadline.astimezone(zone),
            total_questions=total,
            answered=answered,
            resumed=resumed,
        )
        events.append(greeting)
        read_only = self._read_only(context, now)
        if read_only is not None:
            events.append(read_only)
            review = engine.resume(survey, step.state, ShowReview(), today=self._today(context, now), previous=context.previous)
            events.extend(review.events)
        else:
            events.extend(step.events)
        return Outcome(language=context.language, events=tuple(events), response_id=response.id)

    async def _step(self, session: AsyncSession, context: _Context, action: Action, user: ChannelUser, now: datetime) -> Outcome:
        survey, response = context.survey, context.response
        today = self._today(context, now)
        read_only = self._read_only(context, now)
        if read_only is not None and not isinstance(action, READ_ONLY_ACTIONS):
            return Outcome(language=context.language, events=(read_only,), response_id=response.id)
        state = self._state(context)
        step = engine.resume(survey, state, action, today=today, previous=context.previous)
        events: list[Event | Notice] = list(step.events)
        if isinstance(action, SetLanguage):
            events.insert(0, LanguageChanged(language=step.state.language))
        if step.rejected:
            response.last_activity_at = now
            return Outcome(language=step.state.language, events=tuple(events), response_id=response.id)
        new_state = step.state
        # Submission values are taken after the answers are recorded (an upload's
        # reference changes from the channel's download to the stored copy).
        submitted: Submitted | None = None
        for event in step.events:
            if isinstance(event, AnswerChanged):
                await self._record(session, context, event, user, new_state, now)
            elif isinstance(event, Submitted):
                submitted = event
        await save_state(session=session, response=response, state=new_state.to_dict(), now=now)
        if submitted is not None:
            answers, others = engine.submitted_values(survey, new_state, today=today)
            await submit_response(session=session, response=response, values={"answers": answers, "others": others}, now=now)
            events.append(
                SubmissionReceipt(
                    revision=submitted.revision,
                    submitted_at=now.astimezone(ZoneInfo(context.campaign.timezone)),
                    unit_name=context.unit.name,
                )
            )
        return Outcome(language=new_state.language, events=tuple(events), response_id=response.id)

    async def _record(
        self,
        session: AsyncSession,
        context: _Context,
        event: AnswerChanged,
        user: ChannelUser,
        state: SessionState,
        now: datetime,
    ) -> None:
        """Store one changed answer; an accepted upload is copied into the attachments store."""
        question = context.survey.by_id[event.question_id]
        value: Any = event.new_value
        if question.type is QuestionType.FILE and isinstance(value, dict) and value.get("ref"):
            content = await asyncio.to_thread(Path(str(value["ref"])).read_bytes)
            attachment = await store_attachment(
                session=session,
                data_dir=self.settings.data_dir,
                response=context.response,
                question_id=question.id,
                original_name=str(value.get("name") or "file"),
                content=content,
                mime_type=value.get("mime"),
                respondent=context.respondent,
                now=now,
            )
            value = {**value, "ref": attachment.stored_path, "sha256": attachment.sha256}
            state.answers[question.id] = value
        await record_answer(
            session=session,
            response=context.response,
            question_id=event.question_id,
            value=value,
            other_text=event.new_other,
            respondent=context.respondent,
            channel=user.channel,
            now=now,
        )

    # -- helpers --------------------------------------------------------------------------

    async def _respondent(self, session: AsyncSession, user: ChannelUser, now: datetime) -> Respondent:
        respondent = await get_or_create_respondent(
            session=session,
            channel=user.channel,
            external_id=user.external_id,
            display_name=user.display_name,
            # The account's own language counts only until the person picks one.
            default_language=user.language_code,
            now=now,
        )
        if respondent.unreachable:
            await mark_reachable(session=session, respondent=respondent)
        return respondent

    async def _active_context(self, session: AsyncSession, user: ChannelUser, now: datetime, action: Action) -> _Context | None:
        """The usual case in one query: a known account with an active response; None otherwise."""
        located = await lock_active_response(session=session, channel=user.channel, external_id=user.external_id)
        if located is None:
            return None
        respondent, response, unit, campaign = located
        refresh_respondent(respondent, display_name=user.display_name, default_language=user.language_code, now=now)
        if respondent.unreachable:
            await mark_reachable(session=session, respondent=respondent)
        if isinstance(action, SetLanguage):
            respondent.language = action.language
        return await self._make_context(session, respondent, response, unit, campaign)

    async def _context(self, session: AsyncSession, respondent: Respondent) -> _Context | None:
        """The account's active response, locked, or its newest open binding's."""
        response_id = respondent.active_response_id
        if response_id is None:
            bindings = await list_bindings(session=session, respondent=respondent, open_only=True)
            if not bindings:
                return None
            response_id = bindings[0].unit.response.id
            respondent.active_response_id = response_id
        try:
            response, unit, campaign = await lock_response_in_campaign(session=session, response_id=response_id)
        except NotFoundError:
            respondent.active_response_id = None
            return None
        return await self._make_context(session, respondent, response, unit, campaign)

    async def _switch_response(
        self, session: AsyncSession, respondent: Respondent, *, campaign_id: int | None, unit_id: int | None
    ) -> _Context | None:
        """Make the account's response for ``unit_id``, or in ``campaign_id``, the active one.

        None if the account answers for no such unit in an open campaign (a
        forged button, a unit since removed). In a campaign with several of
        the account's units, the first on the roster not submitted yet (the
        reminder lists them in that order).
        """
        bindings = await list_bindings(session=session, respondent=respondent, open_only=True)
        units = [
            binding.unit
            for binding in bindings
            if (unit_id is None or binding.unit.id == unit_id)
            and (campaign_id is None or binding.unit.campaign_id == campaign_id)
        ]
        if not units:
            return None
        unit = next((unit for unit in units if unit.response.status is not ResponseStatus.SUBMITTED), units[0])
        respondent.active_response_id = unit.response.id
        return await self._context(session, respondent)

    async def _make_context(
        self, session: AsyncSession, respondent: Respondent, response: Response, unit: Unit, campaign: Campaign
    ) -> _Context:
        survey = await self.surveys.survey(session=session, survey_version_id=campaign.survey_version_id)
        previous = await self._previous(session, campaign, unit)
        # Written once by _respond (write_response): cheaper than the unit of work.
        detach_response(session=session, response=response)
        return _Context(
            respondent=respondent,
            response=response,
            unit=unit,
            campaign=campaign,
            survey=survey,
            language=self._language(respondent, survey),
            previous=previous,
        )

    async def _previous(self, session: AsyncSession, campaign: Campaign, unit: Unit) -> PreviousAnswers:
        """What the unit submitted last period, for the questions asked alike then (by id and type)."""
        if campaign.previous_campaign_id is None:
            return NO_PREVIOUS
        last = await last_period_values(session=session, campaign=campaign, unit_name=unit.name)
        if last is None:
            return NO_PREVIOUS  # a unit new this period, or one that did not submit then
        key = (campaign.survey_version_id, last.survey_version_id)
        carried_over = self._carried_over.get(key)
        if carried_over is None:
            current = await self.surveys.survey(session=session, survey_version_id=campaign.survey_version_id)
            earlier = await self.surveys.survey(session=session, survey_version_id=last.survey_version_id)
            carried_over = frozenset(compare_surveys(current, earlier).matched)
            self._carried_over[key] = carried_over
        return PreviousAnswers.from_submitted(last.values, matched=carried_over)

    def _state(self, context: _Context) -> SessionState:
        assert context.response.state is not None
        state = SessionState.from_dict(context.response.state)
        # Two people of one unit share the response but each reads in their own language.
        state.language = context.language
        return state

    def _language(self, respondent: Respondent, survey: Survey | None) -> str:
        if survey is None:
            return bot_language(respondent.language)
        return survey.language_for(respondent.language)

    def _fallback_language(self, user: ChannelUser) -> str:
        return bot_language(user.language_code)

    def _today(self, context: _Context, now: datetime) -> date:
        return now.astimezone(ZoneInfo(context.campaign.timezone)).date()

    def _read_only(self, context: _Context, now: datetime) -> ReadOnly | None:
        campaign = context.campaign
        reason = read_only_reason(is_open=campaign.status is CampaignStatus.OPEN, deadline=campaign.deadline, now=now)
        if reason is None:
            return None
        return ReadOnly(reason=reason, deadline=campaign.deadline.astimezone(ZoneInfo(campaign.timezone)))


async def _with_content(upload: Upload) -> Upload:
    """The upload with its real size and first bytes, read from the file the channel downloaded.

    Every channel's uploads pass here, so the engine checks the content
    (:mod:`bot.core.file_content`), not only the name the sender chose.
    """

    def read() -> tuple[int, bytes]:
        path = Path(upload.ref)
        with path.open("rb") as stream:
            return path.stat().st_size, stream.read(HEAD_BYTES)

    size, head = await asyncio.to_thread(read)
    return replace(upload, size=size, head=head)
