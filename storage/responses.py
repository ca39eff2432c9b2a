"""Responses: the engine state of one unit's response, its current answers and their history.

Read-then-write a response only after :func:`lock_response` in a
:meth:`storage.database.Database.transaction`: on PostgreSQL that is a
``SELECT ... FOR UPDATE`` on the response row, on SQLite the transaction
already holds the database's write lock. Two updates of one response then
never interleave.

``revision`` counts the changes of a response's data: every answer change
(:func:`record_answer`) and every submission or reopening bumps it by one;
saving the engine state alone (navigation) does not.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, delete, insert, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import InvalidValueError, NotFoundError
from storage.models import (
    QUESTION_ID_LENGTH,
    Answer,
    AnswerHistory,
    Campaign,
    Respondent,
    Response,
    ResponseStatus,
    Unit,
)
from storage.respondents import check_account
from storage.rows import aware_now, canonical_json

logger = logging.getLogger(__name__)


async def get_response(
    *, session: AsyncSession, response_id: int, for_update: bool = False
) -> Response:
    """The response, optionally locked for update, or :class:`NotFoundError`."""
    statement = select(Response).where(Response.id == response_id)
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    response = await session.scalar(statement)
    if response is None:
        raise NotFoundError(f"no response with id {response_id}")
    return response


async def lock_response(*, session: AsyncSession, response_id: int) -> Response:
    """The response, locked until the end of the transaction, with fresh column values."""
    return await get_response(session=session, response_id=response_id, for_update=True)


async def lock_response_in_campaign(
    *, session: AsyncSession, response_id: int
) -> tuple[Response, Unit, Campaign]:
    """The response locked as by :func:`lock_response`, with its unit and campaign, in one query."""
    row = (await session.execute(_LOCK_RESPONSE_IN_CAMPAIGN, {"response_id": response_id})).one_or_none()
    if row is None:
        raise NotFoundError(f"no response with id {response_id}")
    response, unit, campaign = row
    return response, unit, campaign


async def lock_active_response(
    *, session: AsyncSession, channel: str, external_id: str
) -> tuple[Respondent, Response, Unit, Campaign] | None:
    """The account and its active response (locked as by :func:`lock_response`), unit and campaign.

    One query for what almost every update needs; None when the account is
    unknown or has no active response (then look them up one by one).
    """
    channel, external_id = check_account(channel, external_id)
    row = (
        await session.execute(_LOCK_ACTIVE_RESPONSE, {"channel": channel, "external_id": external_id})
    ).one_or_none()
    if row is None:
        return None
    respondent, response, unit, campaign = row
    return respondent, response, unit, campaign


def _locked_with_unit_and_campaign(statement: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
    """``statement`` (selecting a Response) joined to its unit and campaign, the response row locked."""
    return (
        statement.join(Unit, Unit.id == Response.unit_id)
        .join(Campaign, Campaign.id == Unit.campaign_id)
        .with_for_update(of=Response)
        .execution_options(populate_existing=True)
    )


# Built once, as they run for (almost) every update: a reused statement keeps its cache key.
_LOCK_RESPONSE_IN_CAMPAIGN = _locked_with_unit_and_campaign(
    select(Response, Unit, Campaign).where(Response.id == bindparam("response_id"))
)
_LOCK_ACTIVE_RESPONSE = _locked_with_unit_and_campaign(
    select(Respondent, Response, Unit, Campaign)
    .join(Response, Response.id == Respondent.active_response_id)
    .where(Respondent.channel == bindparam("channel"), Respondent.external_id == bindparam("external_id"))
)


async def get_unit_response(
    *, session: AsyncSession, unit: Unit | int, for_update: bool = False
) -> Response:
    unit_id = unit if isinstance(unit, int) else unit.id
    statement = select(Response).where(Response.unit_id == unit_id)
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    response = await session.scalar(statement)
    if response is None:
        raise NotFoundError(f"unit {unit_id} has no response row")
    return response


async def current_answers(*, session: AsyncSession, response: Response) -> dict[str, Answer]:
    """The response's current answers by question id."""
    rows = await session.scalars(select(Answer).where(Answer.response_id == response.id))
    return {answer.question_id: answer for answer in rows}


def _json_text(value: Any, what: str) -> str:
    try:
        return canonical_json(value)
    except (TypeError, ValueError) as error:
        raise InvalidValueError(f"{what} is not JSON data: {error}") from None


_ANSWERS = cast(Table, Answer.__table__)
_HISTORY = cast(Table, AnswerHistory.__table__)
_ANSWER_MAPPER = inspect(Answer)

#: Built once: a statement object keeps its cache key, so executing it again
#: skips building and hashing the statement (this runs for every answer).
_SELECT_ANSWER = select(_ANSWERS.c.id, _ANSWERS.c.value, _ANSWERS.c.other_text).where(
    _ANSWERS.c.response_id == bindparam("response_id"), _ANSWERS.c.question_id == bindparam("question_id")
)
_INSERT_ANSWER = insert(_ANSWERS)
_UPDATE_ANSWER = (
    update(_ANSWERS)
    .where(_ANSWERS.c.id == bindparam("answer_id"))
    .values(
        value=bindparam("value", type_=_ANSWERS.c.value.type),
        other_text=bindparam("other_text"),
        updated_at=bindparam("updated_at", type_=_ANSWERS.c.updated_at.type),
        updated_by_respondent_id=bindparam("updated_by_respondent_id"),
    )
)
_DELETE_ANSWER = delete(_ANSWERS).where(_ANSWERS.c.id == bindparam("answer_id"))
_INSERT_HISTORY = insert(_HISTORY)


async def record_answer(
    *,
    session: AsyncSession,
    response: Response,
    question_id: str,
    value: Any,
    other_text: str | None = None,
    respondent: Respondent | None = None,
    channel: str | None = None,
    now: datetime | None = None,
) -> int | None:
    """Set (or with ``value=None`` clear) one answer, appending the change to the history.

    Returns the response's revision this change produced, or None when the
    answer did not change. Bumps the response's revision and marks it in
    progress if it had not started: those columns are written with the
    response (at the next flush, or by :func:`write_response` if it is
    detached). The answer and its history row are written at once, with Core
    statements: this runs for every answer, and the ORM's unit of work was
    most of its cost. An :class:`Answer` already loaded in this session is
    expired, so that reading it again gives the new value.
    """
    if not question_id or len(question_id) > QUESTION_ID_LENGTH:
        raise InvalidValueError(f"bad question id {question_id!r}")
    new_text = _json_text(value, f"the answer to {question_id}")
    moment = aware_now(now)
    connection = await session.connection()
    stored = (
        await connection.execute(_SELECT_ANSWER, {"response_id": response.id, "question_id": question_id})
    ).one_or_none()
    old_value = stored.value if stored is not None else None
    old_other = stored.other_text if stored is not None else None
    if _json_text(old_value, "the stored answer") == new_text and old_other == other_text:
        return None
    respondent_id = respondent.id if respondent is not None else None
    if value is None and other_text is None:
        if stored is not None:
            await connection.execute(_DELETE_ANSWER, {"answer_id": stored.id})
    elif stored is None:
        await connection.execute(
            _INSERT_ANSWER,
            {
                "response_id": response.id,
                "question_id": question_id,
                "value": value,
                "other_text": other_text,
                "updated_at": moment,
                "updated_by_respondent_id": respondent_id,
            },
        )
    else:
        await connection.execute(
            _UPDATE_ANSWER,
            {
                "answer_id": stored.id,
                "value": value,
                "other_text": other_text,
                "updated_at": moment,
                "updated_by_respondent_id": respondent_id,
            },
        )
    _forget_loaded_answer(
        session, response, stored.id if stored is not None else None, deleted=value is None and other_text is None
    )
    response.revision += 1
    _touch(response, moment)
    await connection.execute(
        _INSERT_HISTORY,
        {
            "response_id": response.id,
            "question_id": question_id,
            "respondent_id": respondent_id,
            "channel": channel,
            "at": moment,
            "old_value": old_value,
            "new_value": value,
            "old_other_text": old_other,
            "new_other_text": other_text,
            "revision": response.revision,
        },
    )
    return response.revision


def _forget_loaded_answer(
    session: AsyncSession, response: Response, answer_id: int | None, *, deleted: bool
) -> None:
    """Drop what the session had loaded of an answer written past the ORM, and the response's answer list."""
    if answer_id is None:
        loaded = None
    else:
        loaded = session.identity_map.get(_ANSWER_MAPPER.identity_key_from_primary_key((answer_id,)))
    if loaded is not None:
        if deleted:
            session.expunge(loaded)
        else:
            session.expire(loaded)
    if response in session and "answers" not in inspect(response).unloaded:
        session.expire(response, ["answers"])


_RESPONSES = cast(Table, Response.__table__)
#: The columns of a response that change as it is answered and submitted.
_RESPONSE_CHANGES = ("status", "state", "revision", "started_at", "last_activity_at", "submitted_at", "submitted_values")
_UPDATE_RESPONSE = (
    update(_RESPONSES)
    .where(_RESPONSES.c.id == bindparam("response_id"))
    .values({key: bindparam(key, type_=_RESPONSES.c[key].type) for key in _RESPONSE_CHANGES})
)


def detach_response(*, session: AsyncSession, response: Response) -> None:
    """Take a locked response out of the session's unit of work; :func:`write_response` stores it.

    For the service's hot path, where flushing the one changed row through
    the unit of work cost more than the rest of the transaction's writes. The
    row stays locked; the object keeps its loaded columns, but its
    relationships can no longer be loaded.
    """
    session.expunge(response)


async def write_response(*, session: AsyncSession, response: Response) -> None:
    """Write a detached response's changing columns with one prebuilt UPDATE."""
    values = {key: getattr(response, key) for key in _RESPONSE_CHANGES}
    connection = await session.connection()
    await connection.execute(_UPDATE_RESPONSE, {"response_id": response.id, **values})


def _touch(response: Response, moment: datetime) -> None:
    if response.started_at is None:
        response.started_at = moment
    if response.status is ResponseStatus.NOT_STARTED:
        response.status = ResponseStatus.IN_PROGRESS
    response.last_activity_at = moment


async def save_state(
    *,
    session: AsyncSession,
    response: Response,
    state: Mapping[str, Any] | None,
    now: datetime | None = None,
) -> None:
    """Store the engine's state; a response that had not started is now in progress.

    Written with the transaction's next flush, in the same UPDATE as the
    response's other changes.
    """
    if state is not None:
        _json_text(state, "the engine state")
    response.state = dict(state) if state is not None else None
    _touch(response, aware_now(now))


async def submit_response(
    *,
    session: AsyncSession,
    response: Response,
    values: Mapping[str, Any],
    now: datetime | None = None,
) -> None:
    """Mark the response submitted with the submitted values (question id → value)."""
    _json_text(values, "the submitted values")
    moment = aware_now(now)
    _touch(response, moment)
    response.status = ResponseStatus.SUBMITTED
    response.submitted_at = moment
    response.submitted_values = dict(values)
    response.revision += 1
    logger.info("response %s submitted at revision %s", response.id, response.revision)


async def reopen_response(
    *, session: AsyncSession, response: Response, now: datetime | None = None
) -> bool:
    """A submitted response becomes editable again (in progress); False if it was not submitted.

    The last submission's values and time stay until the next submission.
    """
    if response.status is not ResponseStatus.SUBMITTED:
        return False
    response.status = ResponseStatus.IN_PROGRESS
    response.last_activity_at = aware_now(now)
    response.revision += 1
    await session.flush()
    logger.info("response %s reopened", response.id)
    return True


async def answer_history(
    *, session: AsyncSession, response: Response, question_id: str | None = None
) -> list[AnswerHistory]:
    """The response's answer changes in the order they happened."""
    statement = (
        select(AnswerHistory)
        .where(AnswerHistory.response_id == response.id)
        .order_by(AnswerHistory.id)
    )
    if question_id is not None:
        statement = statement.where(AnswerHistory.question_id == question_id)
    return list(await session.scalars(statement))
