"""What the service returns to a channel for one inbound update.

Besides the engine's events (:mod:`bot.core.events`) a channel renders the
service's own notices: the greeting after ``/start``, a refused invitation, a
stranger without an invitation, read-only answers after the deadline, the
receipt of a submission, and the list of the account's units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.core.events import Event
from bot.core.read_only import ReadOnlyReason


class InvitationProblem(StrEnum):
    UNKNOWN = "unknown"  # no invitation has this token
    USED_BY_ANOTHER = "used_by_another"  # another account already used it
    REVOKED = "revoked"
    EXPIRED = "expired"
    CAMPAIGN_CLOSED = "campaign_closed"


@dataclass(frozen=True, slots=True)
class Greeting:
    """Shown after ``/start``: which survey, for which unit, until when."""

    survey_title: str
    campaign_title: str
    unit_name: str
    deadline: datetime  # aware, in the campaign's time zone
    total_questions: int
    answered: int
    resumed: bool


@dataclass(frozen=True, slots=True)
class InvitationRefused:
    problem: InvitationProblem


@dataclass(frozen=True, slots=True)
class NotInvited:
    """The account is bound to no open campaign: ask the coordinator for a link."""


@dataclass(frozen=True, slots=True)
class ReadOnly:
    reason: ReadOnlyReason
    deadline: datetime


@dataclass(frozen=True, slots=True)
class SubmissionReceipt:
    revision: int
    submitted_at: datetime  # aware, in the campaign's time zone
    unit_name: str


@dataclass(frozen=True, slots=True)
class LanguageChanged:
    language: str


@dataclass(frozen=True, slots=True)
class UnitChoice:
    unit_id: int
    unit_name: str
    campaign_title: str
    submitted: bool
    #: The unit the account answers for now.
    active: bool


@dataclass(frozen=True, slots=True)
class UnitChoices:
    """``/unit``: the units the account answers for in open campaigns, roster order, newest campaign first."""

    units: tuple[UnitChoice, ...]


Notice = Greeting | InvitationRefused | NotInvited | ReadOnly | SubmissionReceipt | LanguageChanged | UnitChoices


@dataclass(frozen=True, slots=True)
class Outcome:
    """Everything to show for one update, in order, and the language to show it in."""

    language: str
    events: tuple[Event | Notice, ...] = ()
    #: The update was already handled earlier (a redelivery): show nothing.
    duplicate: bool = False
    #: The response the update acted on, if any.
    response_id: int | None = None
