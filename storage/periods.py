"""Periods: a campaign linked to the campaign of last period, and what units submitted then.

A campaign created with ``--previous`` stores ``previous_campaign_id``. Units
are matched to last period's units by name (the roster's normalised name), and
what a unit submitted then is its response's ``submitted_values``: the answers
as last submitted, kept even if the response was reopened afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Campaign, Response, Unit


@dataclass(frozen=True, slots=True)
class LastPeriodAnswers:
    """What one unit submitted last period, and the survey version it answered."""

    survey_version_id: int
    #: ``{"answers": ..., "others": ...}`` as :func:`storage.responses.submit_response` stored it.
    values: dict[str, Any]


async def last_period_values(
    *, session: AsyncSession, campaign: Campaign, unit_name: str
) -> LastPeriodAnswers | None:
    """What the unit named ``unit_name`` submitted in ``campaign``'s previous campaign.

    ``None`` when the campaign is not linked, the unit was not on last period's
    roster, or it never submitted then.
    """
    if campaign.previous_campaign_id is None:
        return None
    statement = (
        select(Campaign.survey_version_id, Response.submitted_values)
        .select_from(Unit)
        .join(Response, Response.unit_id == Unit.id)
        .join(Campaign, Campaign.id == Unit.campaign_id)
        .where(Unit.campaign_id == campaign.previous_campaign_id, Unit.name == unit_name)
    )
    row = (await session.execute(statement)).one_or_none()
    if row is None or not row[1]:
        return None
    return LastPeriodAnswers(survey_version_id=row[0], values=dict(row[1]))


async def last_period_values_for(
    *, session: AsyncSession, campaign: Campaign, unit_names: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Unit name → what it submitted in ``campaign``'s previous campaign, for ``unit_names`` (those that did)."""
    if campaign.previous_campaign_id is None or not unit_names:
        return {}
    statement = (
        select(Unit.name, Response.submitted_values)
        .join(Response, Response.unit_id == Unit.id)
        .where(Unit.campaign_id == campaign.previous_campaign_id, Unit.name.in_(list(unit_names)))
    )
    return {name: dict(values) for name, values in await session.execute(statement) if values}
