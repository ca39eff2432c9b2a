"""The campaign page's reminder schedule and last-period note, worded from the catalogs (``console_schedule.*``)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.campaign_progress import LastPeriodLink, ReminderSchedule
from bot.core.catalog import translate
from bot.core.durations import format_reminder_offsets
from bot.reminders import SlotMove, SlotStatus
from handlers.console.presenting import zoned_time_text


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    time: str
    status: str
    #: ``sent``, ``due``, ``upcoming`` or ``skipped`` (a CSS class).
    css_class: str
    #: Why the time is not ``deadline - offset`` (quiet hours, an earlier deadline), or "".
    note: str


@dataclass(frozen=True, slots=True)
class ScheduleView:
    #: One paragraph saying what is set, or that reminders are off / none is set.
    summary: str
    rows: tuple[ScheduleRow, ...]
    #: Further lines: the offsets a deadline move spent, that nothing is left to send.
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LastPeriodView:
    linked: str
    #: ``label (id): reason`` per question without a counterpart last period.
    unmatched: tuple[str, ...]
    intro: str


def _text(language: str, key: str, **params: object) -> str:
    return translate(language, f"console_schedule.{key}", **params)


_MOVE_NOTES = {SlotMove.MORNING: "moved_morning", SlotMove.EVENING: "moved_evening"}


def schedule_view(language: str, schedule: ReminderSchedule) -> ScheduleView:
    """The schedule section: a closed campaign's reminders are off; otherwise each slot and its status."""
    campaign = schedule.campaign
    if not campaign.is_open:
        return ScheduleView(summary=_text(language, "closed"), rows=(), notes=())
    if not schedule.offsets:
        return ScheduleView(summary=_text(language, "none_set", id=campaign.id), rows=(), notes=())
    rows = []
    for entry in schedule.entries:
        note = _text(language, "earlier_setting") if entry.earlier_setting else ""
        if entry.move in _MOVE_NOTES:
            note = _text(language, _MOVE_NOTES[entry.move])
        rows.append(
            ScheduleRow(
                time=zoned_time_text(language, entry.send_at, campaign.timezone),
                status=_text(language, f"status_{entry.status.value}"),
                css_class=entry.status.value,
                note=note,
            )
        )
    notes: list[str] = []
    if schedule.spent_offsets:
        notes.append(_text(language, "spent", offsets=format_reminder_offsets(schedule.spent_offsets)))
    if not any(entry.status in (SlotStatus.UPCOMING, SlotStatus.DUE) for entry in schedule.entries):
        notes.append(_text(language, "none_ahead"))
    summary = _text(language, "set", offsets=format_reminder_offsets(schedule.offsets), zone=campaign.timezone)
    return ScheduleView(summary=summary, rows=tuple(rows), notes=tuple(notes))


def last_period_view(language: str, link: LastPeriodLink) -> LastPeriodView:
    """Last period's campaign and the questions whose answers do not carry over."""
    unmatched = tuple(
        _text(language, "unmatched_item", label=item.label, id=item.question_id, reason=_text(language, f"kind_{item.kind.value}"))
        for item in link.unmatched
    )
    return LastPeriodView(
        linked=_text(language, "previous_linked", title=link.previous_title, id=link.previous_id),
        unmatched=unmatched,
        intro=_text(language, "unmatched_intro" if unmatched else "all_matched"),
    )
