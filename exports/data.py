"""Reading a campaign for an export: the roster streamed in pages, one record per unit.

:func:`read_snapshot` opens one read-only transaction for the whole export;
on PostgreSQL it is ``REPEATABLE READ``, so every page sees the database as it
was when the export began (SQLite's read transaction in WAL mode is a snapshot
already). :func:`iter_unit_records` then walks the roster in roster order with
keyset pagination (``WHERE position > :last ORDER BY position LIMIT n``), four
queries per page: the units with their responses, the current answers of the
responses not submitted, the respondents bound to the units, and the
reminders they were sent. Memory is one page, whatever the size of the
campaign.

Which answers a unit's record carries:

* a **submitted** response: the values of its last submission
  (``Response.submitted_values`` = ``{"answers": {...}, "others": {...}}``;
  a flat ``{question id: value}`` mapping is accepted too). They were made
  relevant-only by the engine when submitted.
* any **other** response (in progress, reopened): its current ``Answer`` rows,
  passed through :func:`bot.core.engine.relevant_answers`, so a question that a
  later change made non-relevant is blank.

``reminders_sent`` counts the reminders (scheduled or manual, not broadcasts)
the outbox delivered to at least one of the unit's respondents
(:func:`storage.outbox.reminders_sent_by_unit`, through :func:`reminder_counts`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.engine import relevant_answers
from bot.core.survey import Survey
from bot.survey_cache import SurveyCache
from storage.campaigns import get_campaign
from storage.database import Database, is_connect_error
from storage.errors import CampaignNotFoundError
from storage.models import (
    Answer,
    Campaign,
    Respondent,
    RespondentUnit,
    Response,
    ResponseStatus,
    Unit,
)
from storage.outbox import reminders_sent_by_unit
from storage.periods import last_period_values_for
from storage.responses import split_submitted_values

logger = logging.getLogger(__name__)

#: Units read per page. A page of 50 Nantong responses (1,000 characters of report
#: each) takes about 1 MB while it is converted (25: 0.5 MB, 100: 2 MB). Each page
#: costs four queries, i.e. round trips through the driver: on the 10,000-unit
#: benchmark pages of 25 make the export about 10 % slower than pages of 50.
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class RespondentInfo:
    """A chat account bound to a unit, as the progress sheet shows it."""

    name: str
    unreachable: bool


@dataclass(slots=True)
class UnitRecord:
    """One roster unit and what the export shows of its response."""

    unit_id: int
    position: int
    name: str
    status: ResponseStatus
    response_id: int | None
    revision: int = 0
    started_at: datetime | None = None
    last_activity_at: datetime | None = None
    submitted_at: datetime | None = None
    #: Question id → stored value, relevant questions only.
    answers: dict[str, Any] = field(default_factory=dict)
    #: Question id → the text of its "other (name)" choice.
    others: dict[str, str] = field(default_factory=dict)
    respondents: tuple[RespondentInfo, ...] = ()
    reminders_sent: int = 0
    #: Question id → what the unit submitted last period (a linked campaign's compared number questions).
    previous: dict[str, Any] = field(default_factory=dict)


@asynccontextmanager
async def read_snapshot(database: Database) -> AsyncIterator[AsyncSession]:
    """A read-only session whose reads all see one state of the database."""
    options = database.read_only_options()
    if database.is_postgresql:
        options["isolation_level"] = "REPEATABLE READ"
    try:
        connection = await database.engine.connect()
    except Exception as error:
        if is_connect_error(error):
            raise database.unavailable(error) from error
        raise
    try:
        connection = await connection.execution_options(**options)
        async with AsyncSession(bind=connection, expire_on_commit=False) as session:
            yield session
    finally:
        await connection.close()


#: Compiled surveys for exports not wired to the process's cache (``surveybot
#: export``, scripts): compiling a version (YAML parsing of its JSON) is most of a
#: small export's time. Entries are checked against the version's content hash,
#: so one process exporting from two databases never mixes their surveys up.
_UNWIRED_SURVEYS = SurveyCache()


async def load_campaign(
    *, session: AsyncSession, campaign_id: int, surveys: SurveyCache | None = None
) -> tuple[Campaign, Survey]:
    """The campaign and its compiled survey; :class:`~storage.errors.CampaignNotFoundError` if none.

    ``surveys`` is the process's compiled-survey cache (shared with the
    respondent service and the outbox composer when :mod:`bot.cli` wires it).
    """
    campaign = await get_campaign(session=session, campaign_id=campaign_id)
    cache = surveys if surveys is not None else _UNWIRED_SURVEYS
    return campaign, cache.compiled(version=campaign.survey_version)


def respondent_name(display_name: str | None, channel: str, external_id: str) -> str:
    return display_name.strip() if display_name and display_name.strip() else f"{channel}:{external_id}"


async def reminder_counts(*, session: AsyncSession, unit_ids: Sequence[int]) -> dict[int, int]:
    """Reminders sent per unit (units with none are left out)."""
    return await reminders_sent_by_unit(session=session, unit_ids=unit_ids)


async def iter_unit_records(
    *,
    session: AsyncSession,
    campaign: Campaign,
    survey: Survey,
    today: date,
    page_size: int = DEFAULT_PAGE_SIZE,
    compared: frozenset[str] = frozenset(),
) -> AsyncIterator[list[UnitRecord]]:
    """The campaign's units in roster order, one page (a list of records) at a time.

    ``compared``: the questions whose answer of last period each record carries
    (``UnitRecord.previous``; units matched to last period's by name).
    """
    last_position = 0
    while True:
        page = await _read_page(
            session=session,
            campaign_id=campaign.id,
            survey=survey,
            today=today,
            after_position=last_position,
            page_size=page_size,
        )
        if not page:
            return
        if compared:
            await _load_last_period(session, campaign, page, compared)
        yield page
        if len(page) < page_size:
            return
        last_position = page[-1].position


def _statements() -> tuple[Select[*tuple[Any, ...]], Select[*tuple[Any, ...]], Select[*tuple[Any, ...]]]:
    """The three statements of a page, built once (their parameters vary, not their shape)."""
    page = (
        select(
            Unit.id,
            Unit.position,
            Unit.name,
            Response.id,
            Response.status,
            Response.revision,
            Response.started_at,
            Response.last_activity_at,
            Response.submitted_at,
            Response.submitted_values,
        )
        .outerjoin(Response, Response.unit_id == Unit.id)
        .where(Unit.campaign_id == bindparam("campaign_id"), Unit.position > bindparam("after"))
        .order_by(Unit.position)
        .limit(bindparam("page_size", type_=Integer))
    )
    answers = select(Answer.response_id, Answer.question_id, Answer.value, Answer.other_text).where(
        Answer.response_id.in_(bindparam("response_ids", expanding=True))
    )
    respondents = (
        select(
            RespondentUnit.unit_id,
            Respondent.display_name,
            Respondent.channel,
            Respondent.external_id,
            Respondent.unreachable,
        )
        .join(Respondent, Respondent.id == RespondentUnit.respondent_id)
        .where(RespondentUnit.unit_id.in_(bindparam("unit_ids", expanding=True)))
        .order_by(RespondentUnit.unit_id, RespondentUnit.id)
    )
    return page, answers, respondents


_PAGE, _CURRENT_ANSWERS, _RESPONDENTS = _statements()


async def _read_page(
    *,
    session: AsyncSession,
    campaign_id: int,
    survey: Survey,
    today: date,
    after_position: int,
    page_size: int,
) -> list[UnitRecord]:
    rows = await session.execute(
        _PAGE, {"campaign_id": campaign_id, "after": after_position, "page_size": page_size}
    )
    records: list[UnitRecord] = []
    current: dict[int, UnitRecord] = {}
    for (
        unit_id,
        position,
        name,
        response_id,
        status,
        revision,
        started_at,
        last_activity_at,
        submitted_at,
        submitted_values,
    ) in rows:
        record = UnitRecord(
            unit_id=unit_id,
            position=position,
            name=name,
            status=status or ResponseStatus.NOT_STARTED,
            response_id=response_id,
            revision=revision or 0,
            started_at=started_at,
            last_activity_at=last_activity_at,
            submitted_at=submitted_at,
        )
        if record.status is ResponseStatus.SUBMITTED:
            record.answers, record.others = split_submitted_values(submitted_values)
        elif response_id is not None and record.status is ResponseStatus.IN_PROGRESS:
            current[response_id] = record
        records.append(record)
    if not records:
        return records
    if current:
        await _load_current_answers(session, current, survey, today)
    unit_ids = [record.unit_id for record in records]
    by_unit = {record.unit_id: record for record in records}
    await _load_respondents(session, by_unit, unit_ids)
    for unit_id, count in (await reminder_counts(session=session, unit_ids=unit_ids)).items():
        by_unit[unit_id].reminders_sent = count
    return records


async def _load_current_answers(
    session: AsyncSession, records: dict[int, UnitRecord], survey: Survey, today: date
) -> None:
    answers: dict[int, dict[str, Any]] = {response_id: {} for response_id in records}
    others: dict[int, dict[str, str]] = {response_id: {} for response_id in records}
    rows = await session.execute(_CURRENT_ANSWERS, {"response_ids": list(records)})
    for response_id, question_id, value, other_text in rows:
        if value is not None:
            answers[response_id][question_id] = value
        if other_text is not None:
            others[response_id][question_id] = other_text
    for response_id, record in records.items():
        record.answers, record.others = relevant_answers(
            survey, answers[response_id], others[response_id], today=today
        )


async def _load_last_period(
    session: AsyncSession, campaign: Campaign, records: list[UnitRecord], compared: frozenset[str]
) -> None:
    """What the page's units submitted last period, for the ``compared`` questions only."""
    submitted = await last_period_values_for(session=session, campaign=campaign, unit_names=[r.name for r in records])
    for record in records:
        answers, _ = split_submitted_values(submitted.get(record.name))
        record.previous = {key: value for key, value in answers.items() if key in compared and value is not None}


async def load_last_period_survey(
    *, session: AsyncSession, campaign: Campaign, surveys: SurveyCache | None = None
) -> Survey | None:
    """The survey of ``campaign``'s previous campaign, or ``None`` when it is not linked (or was deleted)."""
    if campaign.previous_campaign_id is None:
        return None
    try:
        previous = await get_campaign(session=session, campaign_id=campaign.previous_campaign_id)
    except CampaignNotFoundError:
        return None
    cache = surveys if surveys is not None else _UNWIRED_SURVEYS
    return cache.compiled(version=previous.survey_version)


async def _load_respondents(
    session: AsyncSession, records: dict[int, UnitRecord], unit_ids: list[int]
) -> None:
    rows = await session.execute(_RESPONDENTS, {"unit_ids": unit_ids})
    found: dict[int, list[RespondentInfo]] = {}
    for unit_id, display_name, channel, external_id, unreachable in rows:
        found.setdefault(unit_id, []).append(
            RespondentInfo(
                name=respondent_name(display_name, channel, external_id),
                unreachable=bool(unreachable),
            )
        )
    for unit_id, people in found.items():
        records[unit_id].respondents = tuple(people)
