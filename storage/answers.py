"""Per-update writes: claiming an update id, locking a response, answers, history, attachments.

The service calls these inside one write transaction per inbound update:
:func:`claim_update` (is this update new?), :func:`lock_response`, then
:func:`record_answer` for every answer the engine changed, and finally the
new state on the response row.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import (
    Answer,
    AnswerHistory,
    Attachment,
    ProcessedUpdate,
    Response,
    Unit,
)
from storage.rows import aware_now

logger = logging.getLogger(__name__)


async def claim_update(
    *, session: AsyncSession, channel: str, update_id: str, now: datetime | None = None
) -> bool:
    """Record that ``update_id`` is being handled; False if it was handled before.

    The unique (channel, update_id) key makes a concurrent duplicate wait for
    the first transaction and then fail here, so an update is applied once.
    """
    try:
        async with session.begin_nested():
            session.add(ProcessedUpdate(channel=channel, update_id=update_id, processed_at=aware_now(now)))
    except IntegrityError:
        logger.info("update %s:%s was already handled; ignoring the redelivery", channel, update_id)
        return False
    return True


async def lock_response(*, session: AsyncSession, response_id: int) -> Response | None:
    """The response row, locked until the transaction ends, with its unit and campaign."""
    return await session.scalar(
        select(Response)
        .where(Response.id == response_id)
        .options(selectinload(Response.unit).selectinload(Unit.campaign))
        .with_for_update(of=Response)
        .execution_options(populate_existing=True)
    )


async def record_answer(
    *,
    session: AsyncSession,
    response: Response,
    question_id: str,
    old_value: Any,
    new_value: Any,
    old_other: str | None,
    new_other: str | None,
    respondent_id: int | None,
    channel: str | None,
    revision: int,
    now: datetime | None = None,
) -> None:
    """Store the current answer (or delete it) and append the change to the history."""
    moment = aware_now(now)
    answer = await session.scalar(
        select(Answer).where(Answer.response_id == response.id, Answer.question_id == question_id)
    )
    if new_value is None:
        if answer is not None:
            await session.delete(answer)
    elif answer is None:
        session.add(
            Answer(
                response_id=response.id,
                question_id=question_id,
                value=new_value,
                other_text=new_other,
                updated_at=moment,
                updated_by_respondent_id=respondent_id,
            )
        )
    else:
        answer.value = new_value
        answer.other_text = new_other
        answer.updated_at = moment
        answer.updated_by_respondent_id = respondent_id
    session.add(
        AnswerHistory(
            response_id=response.id,
            question_id=question_id,
            respondent_id=respondent_id,
            channel=channel,
            at=moment,
            old_value=old_value,
            new_value=new_value,
            old_other_text=old_other,
            new_other_text=new_other,
            revision=revision,
        )
    )


async def add_attachment(
    *,
    session: AsyncSession,
    response: Response,
    question_id: str,
    original_name: str,
    stored_path: str,
    size: int,
    mime_type: str | None,
    sha256: str,
    respondent_id: int | None,
    now: datetime | None = None,
) -> Attachment:
    attachment = Attachment(
        response_id=response.id,
        question_id=question_id,
        original_name=original_name[:255],
        stored_path=stored_path,
        size=size,
        mime_type=mime_type,
        sha256=sha256,
        uploaded_by_respondent_id=respondent_id,
        created_at=aware_now(now),
    )
    session.add(attachment)
    await session.flush()
    return attachment


async def count_answers(*, session: AsyncSession, response_id: int) -> int:
    rows = await session.scalars(select(Answer.id).where(Answer.response_id == response_id))
    return len(list(rows))
