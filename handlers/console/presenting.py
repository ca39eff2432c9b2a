"""What the console's pages show, worded from the catalogs: plain values for the templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.campaigns import CampaignOverview, CampaignSummary
from bot.core.catalog import translate


@dataclass(frozen=True, slots=True)
class BarSegment:
    """One coloured part of a progress bar: where it starts and how wide it is, in percent."""

    css_class: str
    start: float
    width: float


@dataclass(frozen=True, slots=True)
class CampaignRow:
    id: int
    title: str
    survey: str
    deadline: str
    state: str
    progress: str
    bar: tuple[BarSegment, ...]


def deadline_text(language: str, campaign: CampaignSummary) -> str:
    """``2026-12-15 17:00 (UTC+08:00, Asia/Shanghai)``: the time, its offset and its zone."""
    return zoned_time_text(language, campaign.deadline, campaign.timezone)


def zoned_time_text(language: str, moment: datetime, zone: str) -> str:
    """``moment`` in ``zone`` as the deadline is shown: ``2026-12-15 17:00 (UTC+08:00, Asia/Shanghai)``."""
    local = moment.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    return translate(
        language,
        "console.deadline",
        time=local.strftime("%Y-%m-%d %H:%M"),
        offset=f"{offset[:3]}:{offset[3:]}",
        zone=zone,
    )


def progress_bar(overview: CampaignOverview) -> tuple[BarSegment, ...]:
    """Submitted, in progress, not started: segments of a 100-wide bar (none for a campaign without units)."""
    if overview.units == 0:
        return ()
    segments: list[BarSegment] = []
    start = 0.0
    for css_class, count in (
        ("submitted", overview.submitted),
        ("in-progress", overview.in_progress),
        ("not-started", overview.not_started),
    ):
        width = 100.0 * count / overview.units
        if width:
            segments.append(BarSegment(css_class=css_class, start=round(start, 3), width=round(width, 3)))
        start += width
    return tuple(segments)


def campaign_row(language: str, overview: CampaignOverview) -> CampaignRow:
    campaign = overview.campaign
    return CampaignRow(
        id=campaign.id,
        title=campaign.title,
        survey=campaign.survey,
        deadline=deadline_text(language, campaign),
        state=translate(language, "console.state_open" if campaign.is_open else "console.state_closed"),
        progress=translate(
            language,
            "console.progress_text",
            submitted=overview.submitted,
            in_progress=overview.in_progress,
            not_started=overview.not_started,
            units=overview.units,
        ),
        bar=progress_bar(overview),
    )


def local_time(moment: datetime | None, zone: str) -> str | None:
    return None if moment is None else moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
