"""Telegram texts of the outbox: reminders, broadcasts, and the coordinator's feedback.

Pure: builds strings and :class:`~handlers.telegram.rendering.OutgoingMessage` values
from the channel-neutral content of :mod:`bot.outbox_compose` and the counts
of :mod:`storage.outbox`. Every text comes from the catalogs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from telegram import InlineKeyboardMarkup

from bot.core.actions import Resume
from bot.core.catalog import translate
from bot.core.reply import Control, ControlKind
from bot.core.wording import pack_messages
from bot.outbox_compose import BroadcastContent, ReminderContent
from handlers.telegram.rendering import DATETIME_FORMAT, MAX_MESSAGE_LENGTH, OutgoingMessage, button, utc_offset
from storage.models import DeliveryStatus, OutboxKind
from storage.outbox import DeliveryProblem

#: The longest broadcast text accepted (room is left for the header).
MAX_BROADCAST_LENGTH = MAX_MESSAGE_LENGTH - 300


def render_outbox(content: ReminderContent | BroadcastContent) -> OutgoingMessage:
    """The message one recipient gets."""
    language = content.language
    if isinstance(content, BroadcastContent):
        return OutgoingMessage(
            text=translate(language, "remind.broadcast", campaign=content.campaign_title, text=content.body)
        )
    units = "\n".join(
        translate(language, "remind.unit_progress", unit=line.unit, answered=line.answered, total=line.total)
        for line in content.units
    )
    text = translate(
        language,
        "remind.text",
        survey=content.survey_title,
        campaign=content.campaign_title,
        deadline=content.deadline.strftime(DATETIME_FORMAT),
        zone=utc_offset(content.deadline),
        units=units,
    )
    resume = Control(ControlKind.RESUME, translate(language, "remind.resume"), Resume(campaign_id=content.campaign_id))
    keyboard = InlineKeyboardMarkup([[button(resume)]])
    return OutgoingMessage(text=text[:MAX_MESSAGE_LENGTH], keyboard=keyboard)


def kind_name(language: str, kind: OutboxKind) -> str:
    return translate(language, f"remind.kind_{kind.value}")


def progress_text(
    *,
    language: str,
    campaign_id: int,
    campaign_title: str,
    kind: OutboxKind,
    counts: Mapping[DeliveryStatus, int],
    total: int,
    final: bool = False,
) -> str:
    """The coordinator's status message: "已发送 120/300" (and what went wrong so far)."""
    params = {
        "id": campaign_id,
        "title": campaign_title,
        "kind": kind_name(language, kind),
        "sent": counts.get(DeliveryStatus.SENT, 0),
        "total": total,
    }
    text = translate(language, "remind.progress_done" if final else "remind.progress", **params)
    failed = counts.get(DeliveryStatus.FAILED, 0)
    unreachable = counts.get(DeliveryStatus.UNREACHABLE, 0)
    skipped = counts.get(DeliveryStatus.SKIPPED, 0)
    if failed or unreachable or skipped:
        text += translate(
            language, "remind.progress_details", failed=failed, unreachable=unreachable, skipped=skipped
        )
    return text


def summary_messages(
    *,
    language: str,
    campaign_id: int,
    campaign_title: str,
    kind: OutboxKind,
    counts: Mapping[DeliveryStatus, int],
    problems: Sequence[DeliveryProblem],
) -> list[str]:
    """The summary after a batch: the counts, then who failed and who cannot be reached, by name."""
    blocks = [
        translate(
            language,
            "remind.summary",
            id=campaign_id,
            title=campaign_title,
            kind=kind_name(language, kind),
            sent=counts.get(DeliveryStatus.SENT, 0),
            failed=counts.get(DeliveryStatus.FAILED, 0),
            unreachable=counts.get(DeliveryStatus.UNREACHABLE, 0),
            skipped=counts.get(DeliveryStatus.SKIPPED, 0),
        )
    ]
    for status, heading in (
        (DeliveryStatus.FAILED, "remind.summary_failed"),
        (DeliveryStatus.UNREACHABLE, "remind.summary_unreachable"),
    ):
        listed = [problem for problem in problems if problem.status is status]
        if not listed:
            continue
        lines = [
            translate(
                language,
                "remind.problem_line_reason" if status is DeliveryStatus.FAILED else "remind.problem_line",
                units="、".join(problem.units) or "—",
                name=problem.name,
                reason=problem.reason,
            )
            for problem in listed
        ]
        blocks.append(translate(language, heading, count=len(listed)) + "\n" + "\n".join(lines))
    return pack_messages(blocks, limit=MAX_MESSAGE_LENGTH)
