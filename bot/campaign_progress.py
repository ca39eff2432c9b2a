"""A campaign's progress for the coordinator console: the units table, the answer summaries, one unit.

Every entry point takes the asking account and checks it first
(:meth:`bot.coordination.CoordinatorService.authorize`), like the other
coordinator services. The data comes from the queries the workbook uses too:
the units and their unreachable people from :func:`storage.progress.list_unit_progress`,
reminders from :func:`storage.outbox.reminders_sent_by_unit` (the 进度 sheet's),
and the summaries from :class:`bot.core.statistics.Statistics` fed with each
submitted unit's last submission (the 统计 sheet's computation).

A unit or file id is always looked up together with its campaign id
(:mod:`storage.unit_detail`), so an id of another campaign finds nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.coordination import CoordinatorService, campaign_summary
from bot.core.actions import ShowReview
from bot.core.campaigns import CampaignSummary, UnitState
from bot.core.engine import format_answer, resume
from bot.core.events import ReviewShown
from bot.core.previous import MismatchKind, compare_surveys
from bot.core.state import SessionState
from bot.core.statistics import Statistics, TextAnswers, text_answers
from bot.core.survey import Survey
from bot.name_order import name_sort_key
from bot.reminders import QUIET_HOURS, QuietHours, SlotMove, SlotStatus, campaign_slots, slot_statuses
from bot.service import ChannelUser
from bot.survey_cache import SurveyCache
from storage.attachments import attachment_file
from storage.campaigns import get_campaign
from storage.errors import CampaignNotFoundError, StorageError
from storage.models import Attachment
from storage.outbox import reminders_sent_by_unit, scheduled_reminder_times
from storage.progress import list_unit_progress
from storage.responses import split_submitted_values
from storage.unit_detail import (
    UnitNotInCampaignError,
    get_unit_file,
    get_unit_response_in_campaign,
    list_answer_changes,
    list_submissions,
    list_unit_files,
)

logger = logging.getLogger(__name__)


class StatusFilter(StrEnum):
    """Which units the table shows (``?status=``)."""

    ALL = "all"
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    #: Not submitted, after the deadline.
    OVERDUE = "overdue"
    #: A respondent of the unit cannot be reached.
    UNREACHABLE = "unreachable"


class ProgressSort(StrEnum):
    """The table's order (``?sort=``); ties keep roster order. ``unit`` is by pinyin (:mod:`bot.name_order`)."""

    ROSTER = "roster"
    UNIT = "unit"
    STATUS = "status"
    ANSWERED = "answered"
    LAST_ACTIVITY = "last_activity"
    REMINDERS = "reminders"


#: Status order when sorting by status: who has the most left to do first.
_STATUS_ORDER = {UnitState.NOT_STARTED: 0, UnitState.IN_PROGRESS: 1, UnitState.SUBMITTED: 2}


@dataclass(frozen=True, slots=True)
class UnitProgressRow:
    unit_id: int
    position: int
    name: str
    state: UnitState
    answered: int
    last_activity: datetime | None
    #: The channels of the unit's respondents (``web``, ``telegram``...), each once.
    channels: tuple[str, ...]
    reminders_sent: int
    #: The names of the unit's respondents that messages cannot reach.
    unreachable: tuple[str, ...]
    overdue: bool


@dataclass(frozen=True, slots=True)
class ProgressTable:
    campaign: CampaignSummary
    overdue: bool
    #: Every unit, for the counts.
    units: tuple[UnitProgressRow, ...]

    def rows(self, *, status: StatusFilter, sort: ProgressSort, descending: bool) -> list[UnitProgressRow]:
        """The units shown for ``status``, in the order asked for."""
        shown = [unit for unit in self.units if _matches(unit, status)]
        shown.sort(key=lambda unit: unit.position)
        if sort is not ProgressSort.ROSTER:
            shown.sort(key=_sort_key(sort), reverse=descending)
        elif descending:
            shown.reverse()
        return shown

    def count(self, status: StatusFilter) -> int:
        return sum(1 for unit in self.units if _matches(unit, status))


def _matches(unit: UnitProgressRow, status: StatusFilter) -> bool:
    match status:
        case StatusFilter.ALL:
            return True
        case StatusFilter.OVERDUE:
            return unit.overdue
        case StatusFilter.UNREACHABLE:
            return bool(unit.unreachable)
        case _:
            return unit.state.value == status.value


def _sort_key(sort: ProgressSort) -> Any:
    match sort:
        case ProgressSort.UNIT:
            return lambda unit: name_sort_key(unit.name)  # by pinyin, as Chinese readers expect
        case ProgressSort.STATUS:
            return lambda unit: _STATUS_ORDER[unit.state]
        case ProgressSort.ANSWERED:
            return lambda unit: unit.answered
        case ProgressSort.LAST_ACTIVITY:  # never active sorts first (oldest)
            return lambda unit: (unit.last_activity is not None, unit.last_activity.timestamp() if unit.last_activity else 0.0)
        case _:
            return lambda unit: unit.reminders_sent


@dataclass(frozen=True, slots=True)
class CampaignSummaries:
    """The campaign's statistics (the workbook's 统计) and its text answers, over the submitted units."""

    campaign: CampaignSummary
    survey: Survey
    statistics: Statistics
    texts: tuple[TextAnswers, ...]


@dataclass(frozen=True, slots=True)
class ScheduleEntry:
    """One reminder of the campaign page's schedule."""

    #: When it is (or was) sent, UTC.
    send_at: datetime
    status: SlotStatus
    #: How quiet hours moved it.
    move: SlotMove = SlotMove.NONE
    #: Sent under an earlier deadline or reminder setting (its slot is no longer in the schedule).
    earlier_setting: bool = False


@dataclass(frozen=True, slots=True)
class ReminderSchedule:
    """The campaign's scheduled reminders as the scheduler sees them now (:func:`bot.reminders.slot_statuses`)."""

    campaign: CampaignSummary
    #: Seconds before the deadline, largest first, as set.
    offsets: tuple[int, ...]
    #: Offsets (of those set) a deadline move or a change of reminders spent: never sent again.
    spent_offsets: tuple[int, ...]
    #: The slots of the current deadline and the reminders sent for an earlier one, by send time
    #: (empty for a closed campaign: the scheduler sends nothing for it).
    entries: tuple[ScheduleEntry, ...]


@dataclass(frozen=True, slots=True)
class UnmatchedQuestion:
    """A question whose answers do not carry over between the periods, worded."""

    question_id: str
    #: Its label (this period's survey; last period's for a dropped question).
    label: str
    kind: MismatchKind


@dataclass(frozen=True, slots=True)
class LastPeriodLink:
    """The campaign of last period and the questions without a counterpart there (:func:`compare_surveys`)."""

    previous_id: int
    previous_title: str
    unmatched: tuple[UnmatchedQuestion, ...]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One answer change, worded: ``question`` changed from ``old`` to ``new``."""

    at: datetime
    who: str | None
    channel: str | None
    question: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class UnitFile:
    id: int
    question: str
    name: str
    size: int
    uploaded_at: datetime


@dataclass(frozen=True, slots=True)
class UnitDetail:
    campaign: CampaignSummary
    unit_id: int
    name: str
    state: UnitState
    last_activity: datetime | None
    submitted_at: datetime | None
    #: The respondent's review of the answers, in the language asked for.
    review: ReviewShown
    history: tuple[HistoryEntry, ...]
    files: tuple[UnitFile, ...]


@dataclass(frozen=True, slots=True)
class DownloadableFile:
    """An uploaded file ready to send: where its bytes are, its original name and its sniffed type."""

    path: Path
    name: str
    content_type: str
    size: int


class ProgressService:
    """The console's reads of a campaign's progress; every call checks the asking account."""

    def __init__(
        self, *, coordination: CoordinatorService, surveys: SurveyCache | None = None, quiet: QuietHours = QUIET_HOURS
    ) -> None:
        self.coordination = coordination
        #: The scheduler's quiet hours (``surveybot run`` uses the default for both).
        self.quiet = quiet
        self.database = coordination.database
        self.surveys = surveys if surveys is not None else SurveyCache()

    async def table(self, *, user: ChannelUser, campaign_id: int) -> ProgressTable:
        """Every unit: status, answered n/N, last activity, channels, reminders sent, unreachable, overdue.

        Raises :class:`~bot.coordination.NotCoordinatorError` and
        :class:`~storage.errors.CampaignNotFoundError`.
        """
        await self.coordination.authorize(user=user, command="progress")
        async with self.database.read() as session:
            campaign = campaign_summary(await get_campaign(session=session, campaign_id=campaign_id))
            units = await list_unit_progress(session=session, campaign_id=campaign_id)
            reminders = await reminders_sent_by_unit(session=session, unit_ids=[unit.unit_id for unit in units])
        overdue = self.coordination.clock() >= campaign.deadline
        return ProgressTable(
            campaign=campaign,
            overdue=overdue,
            units=tuple(
                UnitProgressRow(
                    unit_id=unit.unit_id,
                    position=unit.position,
                    name=unit.name,
                    state=UnitState(unit.status.value),
                    answered=unit.answered,
                    last_activity=unit.last_activity_at,
                    channels=unit.channels,
                    reminders_sent=reminders.get(unit.unit_id, 0),
                    unreachable=unit.unreachable,
                    overdue=overdue and unit.status.value != UnitState.SUBMITTED.value,
                )
                for unit in units
            ),
        )

    async def summaries(self, *, user: ChannelUser, campaign_id: int) -> CampaignSummaries:
        """The workbook's 统计 over the submitted units, and the texts of the text questions."""
        await self.coordination.authorize(user=user, command="summaries")
        async with self.database.read() as session:
            stored = await get_campaign(session=session, campaign_id=campaign_id)
            survey = self.surveys.compiled(version=stored.survey_version)
            submissions = await list_submissions(session=session, campaign_id=campaign_id)
            campaign = campaign_summary(stored)
        statistics = Statistics(survey)
        texts = text_answers(survey)
        for unit, values in submissions:
            answers, _ = split_submitted_values(values)
            statistics.add_submission(answers)
            for collected in texts:
                collected.add(unit, answers.get(collected.question.id))
        return CampaignSummaries(campaign=campaign, survey=survey, statistics=statistics, texts=tuple(texts))

    async def reminder_schedule(self, *, user: ChannelUser, campaign_id: int) -> ReminderSchedule:
        """Each reminder slot: sent, due, upcoming or skipped, as :class:`bot.reminder_scheduler.ReminderScheduler` decides."""
        await self.coordination.authorize(user=user, command="progress")
        async with self.database.read() as session:
            stored = await get_campaign(session=session, campaign_id=campaign_id)
            sent = await scheduled_reminder_times(session=session, campaign_id=campaign_id)
            campaign = campaign_summary(stored)
            offsets = tuple(stored.reminder_offsets or ())
            spent = tuple(offset for offset in stored.spent_reminder_offsets or () if offset in offsets)
            created_at = stored.created_at
        entries: list[ScheduleEntry] = []
        if campaign.is_open:
            slots = campaign_slots(
                deadline=campaign.deadline, offsets=offsets, spent=spent, zone=ZoneInfo(campaign.timezone), quiet=self.quiet
            )
            statuses = slot_statuses(
                slots, now=self.coordination.clock(), deadline=campaign.deadline, not_before=created_at, sent_keys=sent
            )
            entries = [ScheduleEntry(send_at=item.slot.send_at, status=item.status, move=item.slot.move) for item in statuses]
            current = {slot.key for slot in slots}
            entries += [
                ScheduleEntry(send_at=at, status=SlotStatus.SENT, earlier_setting=True)
                for key, at in sent.items()
                if key not in current
            ]
            entries.sort(key=lambda entry: entry.send_at)
        return ReminderSchedule(campaign=campaign, offsets=offsets, spent_offsets=spent, entries=tuple(entries))

    async def last_period(self, *, user: ChannelUser, campaign_id: int, language: str) -> LastPeriodLink | None:
        """The previous campaign and the questions that do not carry over (``None``: not linked, or it is gone)."""
        await self.coordination.authorize(user=user, command="progress")
        async with self.database.read() as session:
            stored = await get_campaign(session=session, campaign_id=campaign_id)
            if stored.previous_campaign_id is None:
                return None
            try:
                previous = await get_campaign(session=session, campaign_id=stored.previous_campaign_id)
            except CampaignNotFoundError:
                return None
            survey = self.surveys.compiled(version=stored.survey_version)
            earlier = self.surveys.compiled(version=previous.survey_version)
            previous_id, previous_title = previous.id, previous.title
        unmatched = []
        for mismatch in compare_surveys(survey, earlier).unmatched:
            asked_in = earlier if mismatch.kind is MismatchKind.DROPPED else survey
            label = _question_label(asked_in, mismatch.question_id, asked_in.language_for(language))
            unmatched.append(UnmatchedQuestion(question_id=mismatch.question_id, label=label, kind=mismatch.kind))
        return LastPeriodLink(previous_id=previous_id, previous_title=previous_title, unmatched=tuple(unmatched))

    async def unit(self, *, user: ChannelUser, campaign_id: int, unit_id: int, language: str) -> UnitDetail:
        """One unit: its answers as the respondent's review words them, its history and its files.

        Raises :class:`~storage.unit_detail.UnitNotInCampaignError` for a unit of another campaign.
        """
        await self.coordination.authorize(user=user, command="unit")
        async with self.database.read() as session:
            stored = await get_campaign(session=session, campaign_id=campaign_id)
            survey = self.surveys.compiled(version=stored.survey_version)
            found = await get_unit_response_in_campaign(session=session, campaign_id=campaign_id, unit_id=unit_id)
            changes = await list_answer_changes(session=session, response_id=found.response.id)
            attachments = await list_unit_files(session=session, response_id=found.response.id)
            campaign = campaign_summary(stored)
            state_data = found.response.state
            response = found.response
            unit_name = found.unit.name
        wording = survey.language_for(language)
        today = self.coordination.clock().astimezone(campaign.deadline.tzinfo).date()
        review = _review(survey, state_data, language=wording, today=today)
        return UnitDetail(
            campaign=campaign,
            unit_id=unit_id,
            name=unit_name,
            state=UnitState(response.status.value),
            last_activity=response.last_activity_at,
            submitted_at=response.submitted_at,
            review=review,
            history=tuple(_history_entry(survey, change, wording) for change in changes),
            files=tuple(_unit_file(survey, attachment, wording) for attachment in attachments),
        )

    async def file(self, *, user: ChannelUser, campaign_id: int, unit_id: int, attachment_id: int) -> DownloadableFile:
        """An uploaded file of that unit of that campaign, for a download.

        Raises :class:`~storage.unit_detail.UnitNotInCampaignError` when the file is
        not that unit's (or its bytes are gone).
        """
        await self.coordination.authorize(user=user, command="file")
        async with self.database.read() as session:
            attachment = await get_unit_file(
                session=session, campaign_id=campaign_id, unit_id=unit_id, attachment_id=attachment_id
            )
        try:
            path = attachment_file(data_dir=self.coordination.settings.data_dir, attachment=attachment)
        except StorageError:
            logger.error("file %s of unit %s points outside the attachments folder", attachment_id, unit_id)
            raise UnitNotInCampaignError(campaign_id, unit_id, attachment_id) from None
        if not path.is_file():
            logger.warning("file %s of unit %s is missing on disk (%s)", attachment_id, unit_id, path)
            raise UnitNotInCampaignError(campaign_id, unit_id, attachment_id)
        return DownloadableFile(
            path=path,
            name=attachment.original_name,
            content_type=attachment.mime_type or "application/octet-stream",
            size=attachment.size,
        )


def _review(survey: Survey, state_data: dict[str, Any] | None, *, language: str, today: Any) -> ReviewShown:
    """The review the respondent would see now (the engine's own wording and order)."""
    if state_data:
        state = SessionState.from_dict(state_data)
    else:
        state = SessionState(survey_id=survey.id, survey_version=survey.version, language=language)
    state.language = language
    step = resume(survey, state, ShowReview(), today=today)
    for event in step.events:
        if isinstance(event, ReviewShown):
            return event
    raise AssertionError("the engine showed no review")  # ShowReview always emits one


def _question_label(survey: Survey, question_id: str, language: str) -> str:
    question = survey.by_id.get(question_id)
    return survey.localized(question, language).label if question is not None else question_id


def _history_entry(survey: Survey, change: Any, language: str) -> HistoryEntry:
    question = survey.by_id.get(change.question_id)

    def worded(value: Any, other: str | None) -> str:
        if question is None:
            return "" if value is None else str(value)
        return format_answer(survey, question, value, other, language)

    return HistoryEntry(
        at=change.at,
        who=change.who,
        channel=change.channel,
        question=_question_label(survey, change.question_id, language),
        old=worded(change.old_value, change.old_other_text),
        new=worded(change.new_value, change.new_other_text),
    )


def _unit_file(survey: Survey, attachment: Attachment, language: str) -> UnitFile:
    return UnitFile(
        id=attachment.id,
        question=_question_label(survey, attachment.question_id, language),
        name=attachment.original_name,
        size=attachment.size,
        uploaded_at=attachment.created_at,
    )


__all__ = [
    "CampaignSummaries",
    "DownloadableFile",
    "LastPeriodLink",
    "ProgressService",
    "ProgressSort",
    "ProgressTable",
    "ReminderSchedule",
    "ScheduleEntry",
    "StatusFilter",
    "UnitDetail",
    "UnitNotInCampaignError",
    "UnitProgressRow",
    "UnmatchedQuestion",
]
