"""Channel-neutral wording of the coordinator's side: campaigns, status, choices, exports.

Every channel shows a coordinator the same texts, built here from the plain
data of :mod:`bot.core.campaigns`; a channel adds only its controls (a button
per campaign in Telegram, numbered lines where there are no buttons).
Everything a person reads comes from the catalogs.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.campaigns import CampaignOverview, CampaignSummary, StatusReport, UnitState
from bot.core.catalog import translate
from bot.core.read_only import ReadOnlyReason

#: How a deadline is written (in the campaign's time zone).
DEADLINE_FORMAT = "%Y-%m-%d %H:%M"
#: The longest label of a campaign offered as a choice (Telegram shows about this much on a button).
MAX_CHOICE_LABEL = 60
#: Marks a unit that missed the deadline in a status report.
OVERDUE_MARK = " ⚠️"


def deadline_text(campaign: CampaignSummary) -> str:
    """The deadline as the campaign's time zone shows it: ``2026-12-15 17:00``."""
    return campaign.deadline.strftime(DEADLINE_FORMAT)


def campaign_label(campaign: CampaignSummary) -> str:
    """A campaign offered as a choice: ``#3 南通中期评估`` (cut to :data:`MAX_CHOICE_LABEL`)."""
    return f"#{campaign.id} {campaign.title}"[:MAX_CHOICE_LABEL]


def campaign_line(overview: CampaignOverview, language: str) -> str:
    """One line of the campaign list: number, title, deadline, submitted of all, open or closed."""
    campaign = overview.campaign
    return translate(
        language,
        "coord.campaign_line",
        id=campaign.id,
        title=campaign.title,
        deadline=deadline_text(campaign),
        submitted=overview.submitted,
        units=overview.units,
        state=translate(language, "coord.state_open" if campaign.is_open else "coord.state_closed"),
    )


def campaign_list_text(campaigns: Sequence[CampaignOverview], language: str) -> str:
    """The answer to "which campaigns are there" (or that there are none yet)."""
    if not campaigns:
        return translate(language, "coord.no_campaigns")
    return "\n".join([translate(language, "coord.campaigns_header"), *(campaign_line(item, language) for item in campaigns)])


def choose_campaign_text(language: str) -> str:
    """The question above the offered campaigns."""
    return translate(language, "coord.choose_campaign")


def broadcast_choice_text(campaigns: Sequence[CampaignOverview], language: str) -> str:
    """Several open campaigns and a broadcast text: ask to name the campaign in the command."""
    lines = [f"#{item.campaign.id} {item.campaign.title}（{deadline_text(item.campaign)}）" for item in campaigns]
    return translate(language, "remind.broadcast_pick", campaigns="\n".join(lines))


def status_blocks(report: StatusReport, language: str) -> list[str]:
    """A campaign's status as blocks to send (a channel packs them into messages of its size).

    The header with the deadline and the counts; the units not submitted
    (marked when overdue); the accounts messages cannot reach.
    """
    campaign = report.campaign
    blocks = [
        translate(
            language,
            "coord.status_header",
            id=campaign.id,
            title=campaign.title,
            deadline=deadline_text(campaign),
            overdue=translate(language, "coord.overdue") if report.overdue else "",
        )
        + "\n"
        + translate(
            language,
            "coord.status_counts",
            submitted=report.count(UnitState.SUBMITTED),
            in_progress=report.count(UnitState.IN_PROGRESS),
            not_started=report.count(UnitState.NOT_STARTED),
            units=len(report.units),
        )
    ]
    missing = report.not_submitted
    if missing:
        key = "coord.missing_overdue" if report.overdue else "coord.missing"
        names = [
            translate(language, f"coord.unit_{unit.state.value}", name=unit.name) + (OVERDUE_MARK if report.overdue else "")
            for unit in missing
        ]
        blocks.append(translate(language, key, count=len(missing)) + "\n" + "\n".join(names))
    else:
        blocks.append(translate(language, "coord.all_submitted"))
    if report.unreachable:
        people = [f"{unit}：{person}" for unit, person in report.unreachable]
        blocks.append(translate(language, "coord.unreachable", count=len(people)) + "\n" + "\n".join(people))
    return blocks


def export_caption(campaign: CampaignSummary, *, submitted: int, units: int, language: str) -> str:
    """The caption of the exported workbook."""
    return translate(
        language, "coord.export_caption", id=campaign.id, title=campaign.title, submitted=submitted, units=units
    )


def export_book_caption(*, submitted: int, language: str) -> str:
    """The caption of the report book (every submitted unit's narrative answers)."""
    return translate(language, "coord.export_book_caption", submitted=submitted)


def export_bundle_caption(*, attachments: int, language: str) -> str:
    """The caption of the zip with the workbook and the uploaded files."""
    return translate(language, "coord.export_zip_caption", files=attachments)


# -- reminders and broadcasts a coordinator asks for ----------------------------------------

#: How many unit names a reminder preview lists before "…".
MAX_NAMES_SHOWN = 20


def outreach_preview_text(
    *,
    campaign: CampaignSummary,
    broadcast: bool,
    units: int,
    respondents: int,
    units_without_respondents: Sequence[str],
    body: str | None,
    quiet_hours: bool,
    language: str,
) -> str:
    """What a reminder (or a broadcast of ``body``) would reach, ending with "send it?"."""
    if broadcast:
        text = translate(
            language,
            "remind.preview_broadcast",
            id=campaign.id,
            title=campaign.title,
            units=units,
            respondents=respondents,
            text=body or "",
        )
    else:
        text = translate(
            language, "remind.preview_reminder", id=campaign.id, title=campaign.title, units=units, respondents=respondents
        )
        if units_without_respondents:
            names = list(units_without_respondents[:MAX_NAMES_SHOWN])
            if len(units_without_respondents) > MAX_NAMES_SHOWN:
                names.append("…")
            text += "\n" + translate(
                language, "remind.preview_without_respondents", count=len(units_without_respondents), names="、".join(names)
            )
    if quiet_hours:
        text += "\n" + translate(language, "remind.preview_quiet")
    return text + "\n\n" + translate(language, "remind.confirm_question")


def reminder_refused_text(campaign: CampaignSummary, reason: ReadOnlyReason, language: str) -> str:
    """Reminders are no longer sent: the campaign is closed or past its deadline."""
    key = "remind.campaign_closed" if reason is ReadOnlyReason.CLOSED else "remind.deadline_passed"
    return translate(language, key, id=campaign.id, title=campaign.title)


def nobody_to_reach_text(campaign: CampaignSummary, *, broadcast: bool, language: str) -> str:
    """Nobody would receive the reminder (or the broadcast)."""
    key = "remind.nobody_broadcast" if broadcast else "remind.nobody_reminder"
    return translate(language, key, id=campaign.id, title=campaign.title)
