"""Campaigns as a coordinator sees them, in any channel: plain frozen data.

The coordinator and outreach services return these (never database rows);
:mod:`bot.core.coordinator_wording` turns them into text, and each channel
adds its own controls (Telegram buttons, numbered choices, a web table).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class UnitState(StrEnum):
    """Where a unit's report stands (the values of ``storage.models.ResponseStatus``)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    """One campaign: what identifies it to a coordinator."""

    id: int
    title: str
    #: The IANA time zone its deadline and reminders are shown in.
    timezone: str
    #: Aware, in the campaign's time zone.
    deadline: datetime
    #: Not closed by the coordinator (its deadline may still have passed).
    is_open: bool
    #: The survey's id (empty when the caller did not load the survey).
    survey: str = ""
    #: How many questions the survey has, in all its sections (0 when not loaded).
    questions: int = 0


@dataclass(frozen=True, slots=True)
class CampaignOverview:
    """A campaign with the counts of its units by state (a line of ``/campaigns``)."""

    campaign: CampaignSummary
    units: int
    not_started: int
    in_progress: int
    submitted: int


@dataclass(frozen=True, slots=True)
class CampaignChoice:
    """No campaign named and not exactly one open: the coordinator must pick one of these."""

    campaigns: tuple[CampaignOverview, ...]


@dataclass(frozen=True, slots=True)
class UnitStatus:
    """One roster unit in a status report."""

    name: str
    state: UnitState
    #: Display names (or ids) of the unit's respondents that messages cannot reach.
    unreachable: tuple[str, ...] = ()
    #: How many questions have an answer stored.
    answered: int = 0
    #: Aware UTC; None before the first answer.
    last_activity: datetime | None = None


@dataclass(frozen=True, slots=True)
class StatusReport:
    """Where every unit of a campaign stands, in roster order."""

    campaign: CampaignSummary
    units: tuple[UnitStatus, ...]
    #: The deadline has passed.
    overdue: bool

    def count(self, state: UnitState) -> int:
        return sum(1 for unit in self.units if unit.state is state)

    @property
    def not_submitted(self) -> tuple[UnitStatus, ...]:
        return tuple(unit for unit in self.units if unit.state is not UnitState.SUBMITTED)

    @property
    def unreachable(self) -> tuple[tuple[str, str], ...]:
        """(unit, respondent) pairs that messages cannot reach."""
        return tuple((unit.name, person) for unit in self.units for person in unit.unreachable)
