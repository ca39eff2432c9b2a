"""What one outbox message says, decided from the data as it is right before sending.

For a reminder the composer re-reads the recipient's units of the campaign and
skips the message when none still owes a report (the unit submitted between
scheduling and sending), when the campaign was closed, or when the deadline
has passed. Otherwise it reports each pending unit's progress ("已答 5/14 题",
computed by the engine from the stored state; a response not started counts
the questions relevant at the start). A broadcast carries the coordinator's
text as it was confirmed.

The result is channel-neutral (:class:`ReminderContent`,
:class:`BroadcastContent` or :class:`Skip`); a channel renders it.

A recipient of a channel that carries personal links (:data:`LINK_CHANNELS`:
e-mail, whose reader answers in the web chat) gets each unit's link: stored
tokens are hashes, so the composer issues a fresh invitation per unit and
message (:func:`storage.invitations.issue_link_token`), in the claim
transaction, and puts its token on the unit's line. Such a recipient's
broadcast also carries the survey, deadline and progress of its units
(:attr:`BroadcastContent.context`).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import engine
from bot.core.catalog import bot_language
from bot.core.read_only import ReadOnlyReason, read_only_reason
from bot.core.state import SessionState
from bot.core.survey import Survey
from bot.survey_cache import SurveyCache
from storage.audience import RecipientUnit, recipient_units
from storage.contacts import units_language
from storage.invitations import issue_link_token
from storage.models import (
    Campaign,
    CampaignStatus,
    Channel,
    OutboxBatch,
    OutboxKind,
    OutboxMessage,
    Respondent,
    ResponseStatus,
)

logger = logging.getLogger(__name__)


#: Channels whose messages carry each unit's personal web link.
LINK_CHANNELS: frozenset[str] = frozenset({Channel.EMAIL.value})
#: What stands for a personal link's token in a preview (each message gets its own when sent).
PREVIEW_LINK_TOKEN = "…"


@dataclass(frozen=True, slots=True)
class UnitProgressLine:
    unit: str
    answered: int
    total: int
    #: The unit's personal web link token (only for :data:`LINK_CHANNELS`).
    link_token: str | None = None
    submitted: bool = False


@dataclass(frozen=True, slots=True)
class ReminderContent:
    language: str
    campaign_id: int
    survey_title: str
    campaign_title: str
    #: The deadline in the campaign's time zone.
    deadline: datetime
    #: The recipient's units that have not submitted, in roster order.
    units: tuple[UnitProgressLine, ...]


@dataclass(frozen=True, slots=True)
class BroadcastContent:
    language: str
    campaign_title: str
    body: str
    #: The survey, deadline and the recipient's units with their links (only for :data:`LINK_CHANNELS`).
    context: ReminderContent | None = None


@dataclass(frozen=True, slots=True)
class Skip:
    """The message is not sent, for this reason (stored on the row)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Composed:
    """A message ready to send to one account."""

    message_id: int
    respondent_id: int
    #: Failed sends so far (the retry backoff grows with it).
    attempts: int
    channel: str
    external_id: str
    #: The account was marked unreachable before; a successful send clears it.
    was_unreachable: bool
    content: ReminderContent | BroadcastContent


#: Skip reasons (stored on the outbox row, shown in logs).
SKIP_SUBMITTED = "the unit has submitted"
SKIP_UNBOUND = "the respondent no longer answers for a unit of the campaign"
SKIP_CLOSED = "the campaign is closed"
SKIP_DEADLINE = "the deadline has passed"
SKIP_GONE = "the respondent or the campaign no longer exists"
#: A reminder is skipped when the answers became read-only after it was queued.
SKIP_READ_ONLY: dict[ReadOnlyReason, str] = {
    ReadOnlyReason.CLOSED: SKIP_CLOSED,
    ReadOnlyReason.DEADLINE_PASSED: SKIP_DEADLINE,
}


class OutboxComposer:
    """Composes outbox messages inside the sender's claim transaction."""

    def __init__(self, *, surveys: SurveyCache | None = None) -> None:
        #: Compiled surveys, shared with the service and the exports when wired so.
        self.surveys = surveys if surveys is not None else SurveyCache()

    async def compose(self, *, session: AsyncSession, message: OutboxMessage, now: datetime) -> Composed | Skip:
        batch = await session.get(OutboxBatch, message.batch_id)
        respondent = await session.get(Respondent, message.respondent_id)
        campaign = await session.get(Campaign, batch.campaign_id) if batch is not None else None
        if batch is None or respondent is None or campaign is None:
            return Skip(SKIP_GONE)
        content = await self.content(
            session=session, kind=batch.kind, body=batch.body, unit_ids=batch.unit_ids,
            respondent=respondent, campaign=campaign, now=now,
        )
        if isinstance(content, Skip):
            return content
        return Composed(
            message_id=message.id,
            respondent_id=respondent.id,
            attempts=message.attempts,
            channel=respondent.channel,
            external_id=respondent.external_id,
            was_unreachable=respondent.unreachable,
            content=content,
        )

    async def content(
        self,
        *,
        session: AsyncSession,
        kind: OutboxKind,
        body: str | None,
        unit_ids: Collection[int] | None,
        respondent: Respondent,
        campaign: Campaign,
        now: datetime,
        issue_links: bool = True,
    ) -> ReminderContent | BroadcastContent | Skip:
        """What the respondent gets of a batch of ``kind`` (for ``unit_ids`` only, when given).

        With ``issue_links=False`` (a preview) no invitation is issued: a link
        channel's lines carry :data:`PREVIEW_LINK_TOKEN` instead.
        """
        links = respondent.channel in LINK_CHANNELS

        async def units_concerned() -> list[RecipientUnit]:
            units = await recipient_units(session=session, respondent_id=respondent.id, campaign_id=campaign.id)
            if unit_ids is None:
                return units
            selected = set(unit_ids)
            return [unit for unit in units if unit.unit_id in selected]

        if kind is OutboxKind.BROADCAST:
            context = None
            language = respondent.language
            if links:
                units = await units_concerned()
                if not units:
                    return Skip(SKIP_UNBOUND)
                language = await self._language(session, respondent, units)
                context = await self._reminder(
                    session, language, campaign, units, now=now, links=True, issue_links=issue_links
                )
            return BroadcastContent(
                language=bot_language(language),
                campaign_title=campaign.title,
                body=body or "",
                context=context,
            )
        read_only = read_only_reason(is_open=campaign.status is CampaignStatus.OPEN, deadline=campaign.deadline, now=now)
        if read_only is not None:
            return Skip(SKIP_READ_ONLY[read_only])
        units = await units_concerned()
        if not units:
            return Skip(SKIP_UNBOUND)
        pending = [unit for unit in units if unit.response.status is not ResponseStatus.SUBMITTED]
        if not pending:
            return Skip(SKIP_SUBMITTED)
        language = await self._language(session, respondent, units) if links else respondent.language
        return await self._reminder(session, language, campaign, pending, now=now, links=links, issue_links=issue_links)

    async def _language(self, session: AsyncSession, respondent: Respondent, units: list[RecipientUnit]) -> str | None:
        """A contact address's language: its own if it has one, else that of the people of its units."""
        if respondent.language:
            return respondent.language
        return await units_language(session=session, unit_ids=[unit.unit_id for unit in units])

    async def _reminder(
        self,
        session: AsyncSession,
        language: str | None,
        campaign: Campaign,
        units: list[RecipientUnit],
        *,
        now: datetime,
        links: bool,
        issue_links: bool = True,
    ) -> ReminderContent:
        survey = await self.surveys.survey(session=session, survey_version_id=campaign.survey_version_id)
        zone = ZoneInfo(campaign.timezone)
        today = now.astimezone(zone).date()
        lines: list[UnitProgressLine] = []
        for unit in units:
            line = self._progress(survey, unit, today)
            if unit.response.status is ResponseStatus.SUBMITTED:
                line = replace(line, submitted=True)
            if links:
                token = await issue_link_token(session=session, unit_id=unit.unit_id, now=now) if issue_links else PREVIEW_LINK_TOKEN
                line = replace(line, link_token=token)
            lines.append(line)
        return ReminderContent(
            language=bot_language(survey.language_for(language)),
            campaign_id=campaign.id,
            survey_title=survey.text(survey.definition.title, survey.language_for(language)),
            campaign_title=campaign.title,
            deadline=campaign.deadline.astimezone(zone),
            units=tuple(lines),
        )

    def _progress(self, survey: Survey, unit: RecipientUnit, today: object) -> UnitProgressLine:
        empty = SessionState(survey_id=survey.id, survey_version=survey.version, language=survey.default_language)
        state = empty
        if unit.response.state is not None:
            try:
                state = SessionState.from_dict(unit.response.state)
            except Exception as error:  # a state this code cannot read: show the totals only
                logger.warning("unit %s: cannot read the response state (%s)", unit.unit_id, error)
        try:
            answered, total = engine.progress(survey, state, today=today)  # type: ignore[arg-type]
        except Exception as error:
            logger.warning("unit %s: cannot compute the progress (%s)", unit.unit_id, error)
            answered, total = engine.progress(survey, empty, today=today)  # type: ignore[arg-type]
        return UnitProgressLine(unit=unit.name, answered=answered, total=total)
