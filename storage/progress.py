"""Where a campaign stands: each roster unit's response status and its respondents."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Answer, Respondent, RespondentUnit, Response, ResponseStatus, Unit


@dataclass(frozen=True, slots=True)
class UnitProgress:
    unit_id: int
    name: str
    position: int
    status: ResponseStatus
    revision: int
    last_activity_at: datetime | None
    submitted_at: datetime | None
    respondents: int
    #: Display names (or ids) of the unit's respondents that messages cannot reach.
    unreachable: tuple[str, ...] = field(default_factory=tuple)
    #: How many questions have an answer stored.
    answered: int = 0


async def list_unit_progress(*, session: AsyncSession, campaign_id: int) -> list[UnitProgress]:
    """Every unit of the campaign in roster order, with its response and respondents."""
    rows = await session.execute(
        select(
            Unit.id,
            Unit.name,
            Unit.position,
            Response.status,
            Response.revision,
            Response.last_activity_at,
            Response.submitted_at,
            select(func.count(Answer.id)).where(Answer.response_id == Response.id).scalar_subquery(),
        )
        .join(Response, Response.unit_id == Unit.id)
        .where(Unit.campaign_id == campaign_id)
        .order_by(Unit.position)
    )
    units = list(rows)
    people: defaultdict[int, list[Respondent]] = defaultdict(list)
    bound = await session.execute(
        select(RespondentUnit.unit_id, Respondent)
        .join(Respondent, Respondent.id == RespondentUnit.respondent_id)
        .join(Unit, Unit.id == RespondentUnit.unit_id)
        .where(Unit.campaign_id == campaign_id)
        .order_by(RespondentUnit.id)
    )
    for unit_id, respondent in bound:
        people[unit_id].append(respondent)
    return [
        UnitProgress(
            unit_id=unit_id,
            name=name,
            position=position,
            status=status,
            revision=revision,
            last_activity_at=last_activity_at,
            submitted_at=submitted_at,
            respondents=len(people[unit_id]),
            answered=int(answered),
            unreachable=tuple(
                respondent.display_name or respondent.external_id
                for respondent in people[unit_id]
                if respondent.unreachable
            ),
        )
        for unit_id, name, position, status, revision, last_activity_at, submitted_at, answered in units
    ]
