"""One roster unit as the coordinator console shows it: its response, its answer changes and its files.

Every look-up takes the campaign id with the unit id (and the file id), so an
id of another campaign's unit or file finds nothing: :class:`UnitNotInCampaignError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import NotFoundError
from storage.models import AnswerHistory, Attachment, Respondent, Response, ResponseStatus, Unit
from storage.rows import is_integer_id


class UnitNotInCampaignError(NotFoundError):
    """No such unit (or file) in that campaign."""

    def __init__(self, campaign_id: int, unit_id: int, attachment_id: int | None = None) -> None:
        what = f"unit {unit_id}" if attachment_id is None else f"file {attachment_id} of unit {unit_id}"
        super().__init__(f"campaign {campaign_id} has no {what}")


@dataclass(frozen=True, slots=True)
class AnswerChange:
    """One row of a response's history, with the name of who made it."""

    question_id: str
    at: datetime
    channel: str | None
    #: The respondent's display name, else ``channel:external id``; None when unknown (deleted account).
    who: str | None
    old_value: Any
    new_value: Any
    old_other_text: str | None
    new_other_text: str | None
    revision: int


@dataclass(frozen=True, slots=True)
class UnitResponse:
    unit: Unit
    response: Response


async def get_unit_response_in_campaign(*, session: AsyncSession, campaign_id: int, unit_id: int) -> UnitResponse:
    """The unit of ``campaign_id`` with that id and its response, or :class:`UnitNotInCampaignError`."""
    if not (is_integer_id(campaign_id) and is_integer_id(unit_id)):
        raise UnitNotInCampaignError(campaign_id, unit_id)
    row = (
        await session.execute(
            select(Unit, Response)
            .join(Response, Response.unit_id == Unit.id)
            .where(Unit.id == unit_id, Unit.campaign_id == campaign_id)
        )
    ).first()
    if row is None:
        raise UnitNotInCampaignError(campaign_id, unit_id)
    return UnitResponse(unit=row[0], response=row[1])


def respondent_label(respondent: Respondent) -> str:
    name = (respondent.display_name or "").strip()
    return name or f"{respondent.channel}:{respondent.external_id}"


async def list_answer_changes(*, session: AsyncSession, response_id: int) -> list[AnswerChange]:
    """Every change of the response's answers, oldest first, with who made it."""
    rows = await session.execute(
        select(AnswerHistory, Respondent)
        .outerjoin(Respondent, Respondent.id == AnswerHistory.respondent_id)
        .where(AnswerHistory.response_id == response_id)
        .order_by(AnswerHistory.id)
    )
    return [
        AnswerChange(
            question_id=change.question_id,
            at=change.at,
            channel=change.channel,
            who=respondent_label(respondent) if respondent is not None else None,
            old_value=change.old_value,
            new_value=change.new_value,
            old_other_text=change.old_other_text,
            new_other_text=change.new_other_text,
            revision=change.revision,
        )
        for change, respondent in rows
    ]


async def list_unit_files(*, session: AsyncSession, response_id: int) -> list[Attachment]:
    """The response's uploaded files, oldest first."""
    return list(await session.scalars(select(Attachment).where(Attachment.response_id == response_id).order_by(Attachment.id)))


async def get_unit_file(*, session: AsyncSession, campaign_id: int, unit_id: int, attachment_id: int) -> Attachment:
    """The file ``attachment_id`` if it was uploaded for that unit of that campaign; else :class:`UnitNotInCampaignError`."""
    if not (is_integer_id(campaign_id) and is_integer_id(unit_id) and is_integer_id(attachment_id)):
        raise UnitNotInCampaignError(campaign_id, unit_id, attachment_id)
    attachment = await session.scalar(
        select(Attachment)
        .join(Response, Response.id == Attachment.response_id)
        .join(Unit, Unit.id == Response.unit_id)
        .where(Attachment.id == attachment_id, Unit.id == unit_id, Unit.campaign_id == campaign_id)
    )
    if attachment is None:
        raise UnitNotInCampaignError(campaign_id, unit_id, attachment_id)
    return attachment


async def list_submissions(*, session: AsyncSession, campaign_id: int) -> Sequence[tuple[str, dict[str, Any] | None]]:
    """``(unit name, Response.submitted_values)`` of every submitted unit, in roster order."""
    rows = await session.execute(
        select(Unit.name, Response.submitted_values)
        .join(Response, Response.unit_id == Unit.id)
        .where(Unit.campaign_id == campaign_id, Response.status == ResponseStatus.SUBMITTED)
        .order_by(Unit.position)
    )
    return [(name, values) for name, values in rows]
