"""WeCom messages of the outbox: a reminder or a broadcast as a WeCom member gets it, as plain text.

Pure: builds the text from the channel-neutral content of
:mod:`bot.outbox_compose`; every word comes from the catalogs. WeCom's text
message has no buttons, so where Telegram shows a 继续填写 button the
reminder says to reply 继续填写 (or use the app menu's 继续填写), which the
conversation understands. The transport splits a long text under 2048 bytes.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.catalog import translate
from bot.outbox_compose import BroadcastContent, ReminderContent

#: How a deadline is written in a WeCom message (the campaign's local time).
DATETIME_FORMAT = "%Y-%m-%d %H:%M"


def utc_offset(moment: datetime) -> str:
    """``UTC+08:00`` for an aware time (``UTC`` for offset zero)."""
    offset = moment.utcoffset()
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def render_outbox_text(content: ReminderContent | BroadcastContent) -> str:
    """The text one WeCom member gets for ``content``."""
    language = content.language
    if isinstance(content, BroadcastContent):
        return translate(language, "remind.broadcast", campaign=content.campaign_title, text=content.body)
    units = "\n".join(
        translate(language, "remind.unit_progress", unit=line.unit, answered=line.answered, total=line.total)
        for line in content.units
    )
    return translate(
        language,
        "wecom_outbound.reminder",
        survey=content.survey_title,
        deadline=content.deadline.strftime(DATETIME_FORMAT),
        zone=utc_offset(content.deadline),
        units=units,
    )
