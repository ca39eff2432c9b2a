"""The campaign page's reminder schedule and last-period note, worded from the catalogs (``console_schedule.*``)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.campaign_progress import LastPeriodLink, ReminderSchedule
from bot.core.catalog import translate
from bot.core.durations import DurationRejection, format_reminder_offsets, parse_reminder_offsets
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
    #: An open campaign's reminders can be changed (the link to ``/campaigns/{id}/reminders``).
    can_change: bool = False
    #: After the reminders form: what changed (``?notice=reminders&was=...``), or "".
    notice: str = ""


@dataclass(frozen=True, slots=True)
class LastPeriodView:
    linked: str
    #: ``label (id): reason`` per question without a counterpart last period.
    unmatched: tuple[str, ...]
    intro: str


def _text(language: str, key: str, **params: object) -> str:
    return translate(language, f"console_schedule.{key}", **params)


_MOVE_NOTES = {SlotMove.MORNING: "moved_morning", SlotMove.EVENING: "moved_evening"}


def reminders_notice(language: str, offsets: tuple[int, ...], was: str | None) -> str:
    """What the reminders form changed: ``was`` (the schedule before, as the redirect carries it) to ``offsets``.

    ``offsets`` is what is stored now; a ``was`` that is no schedule is left out of the words.
    """
    before = parse_reminder_offsets(was) if was is not None else None
    if isinstance(before, DurationRejection):
        before = None
    now = format_reminder_offsets(offsets)
    if before is not None and tuple(before) == tuple(offsets):
        return _reminders_text(language, "notice_unchanged")
    if not offsets:
        if before:
            return _reminders_text(language, "notice_removed_from", was=format_reminder_offsets(before))
        return _reminders_text(language, "notice_removed")
    if before:
        return _reminders_text(language, "notice_changed_from", was=format_reminder_offsets(before), offsets=now)
    return _reminders_text(language, "notice_set", offsets=now)


def _reminders_text(language: str, key: str, **params: object) -> str:
    return translate(language, f"console_reminders.{key}", **params)


def schedule_view(language: str, schedule: ReminderSchedule, *, notice: str = "") -> ScheduleView:
    """The schedule section: a closed campaign's reminders are off; otherwise each slot and its status."""
    campaign = schedule.campaign
    if not campaign.is_open:
        return ScheduleView(summary=_text(language, "closed"), rows=(), notes=(), notice=notice)
    if not schedule.offsets:
        return ScheduleView(
            summary=_text(language, "none_set", id=campaign.id), rows=(), notes=(), can_change=True, notice=notice
        )
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
    return ScheduleView(summary=summary, rows=tuple(rows), notes=tuple(notes), can_change=True, notice=notice)


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
