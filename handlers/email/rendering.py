"""E-mail messages of the outbox: subject and plain-text body of a reminder or broadcast.

Pure: builds :class:`EmailText` values from the channel-neutral content of
:mod:`bot.outbox_compose`; every text comes from the catalogs, in the
recipient's language. Each unit's line carries its personal web link
``{public_url}/s/{token}``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.catalog import translate
from bot.core.reply import DATETIME_FORMAT, utc_offset
from bot.outbox_compose import BroadcastContent, ReminderContent, UnitProgressLine


@dataclass(frozen=True, slots=True)
class EmailText:
    subject: str
    body: str


def personal_link(public_url: str, token: str) -> str:
    """A unit's personal web chat link (the same as ``surveybot invite`` prints)."""
    return f"{public_url.rstrip('/')}/s/{token}"


def _unit_line(language: str, line: UnitProgressLine, public_url: str) -> str:
    link = personal_link(public_url, line.link_token) if line.link_token else ""
    if line.submitted:
        return translate(language, "email.unit_submitted", unit=line.unit, link=link)
    return translate(
        language, "email.unit_progress", unit=line.unit, answered=line.answered, total=line.total, link=link
    )


def _units(content: ReminderContent, public_url: str) -> str:
    return "\n\n".join(_unit_line(content.language, line, public_url) for line in content.units)


def render_email(content: ReminderContent | BroadcastContent, *, public_url: str) -> EmailText:
    """The e-mail one recipient gets."""
    language = content.language
    footer = translate(language, "email.footer")
    if isinstance(content, BroadcastContent):
        subject = translate(language, "email.broadcast_subject", campaign=content.campaign_title)
        context = content.context
        if context is None:
            return EmailText(subject=subject, body=f"{content.body}\n\n{footer}\n")
        body = translate(
            language,
            "email.broadcast_body",
            text=content.body,
            survey=context.survey_title,
            campaign=context.campaign_title,
            deadline=context.deadline.strftime(DATETIME_FORMAT),
            zone=utc_offset(context.deadline),
            units=_units(context, public_url),
        )
        return EmailText(subject=subject, body=f"{body}\n\n{footer}\n")
    deadline = content.deadline.strftime(DATETIME_FORMAT)
    subject = translate(language, "email.reminder_subject", survey=content.survey_title, deadline=deadline)
    body = translate(
        language,
        "email.reminder_body",
        survey=content.survey_title,
        campaign=content.campaign_title,
        deadline=deadline,
        zone=utc_offset(content.deadline),
        units=_units(content, public_url),
    )
    return EmailText(subject=subject, body=f"{body}\n\n{footer}\n")
