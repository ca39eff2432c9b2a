"""The coordinator's texts, the same for every channel, from plain campaign data."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.core.campaigns import CampaignOverview, CampaignSummary, StatusReport, UnitState, UnitStatus
from bot.core.coordinator_wording import campaign_label, campaign_list_text, status_blocks

SHANGHAI = timezone(timedelta(hours=8))
CAMPAIGN = CampaignSummary(
    id=3, title="南通中期评估", timezone="Asia/Shanghai", deadline=datetime(2026, 12, 15, 17, 0, tzinfo=SHANGHAI), is_open=True
)


def test_campaign_list_text__one_line_per_campaign_with_its_deadline_and_progress() -> None:
    closed = CampaignSummary(
        id=4, title="如皋", timezone="Asia/Shanghai", deadline=datetime(2026, 1, 5, 9, 30, tzinfo=SHANGHAI), is_open=False
    )
    overviews = [
        CampaignOverview(campaign=CAMPAIGN, units=3, not_started=1, in_progress=1, submitted=1),
        CampaignOverview(campaign=closed, units=1, not_started=0, in_progress=0, submitted=1),
    ]
    assert campaign_list_text(overviews, "zh").splitlines() == [
        "填报活动：",
        "#3 南通中期评估｜截止 2026-12-15 17:00｜已提交 1/3｜进行中",
        "#4 如皋｜截止 2026-01-05 09:30｜已提交 1/1｜已关闭",
    ]
    assert campaign_list_text([], "en") == "There are no campaigns yet. Create one with surveybot campaign create."


def test_status_blocks__overdue_units_marked_and_unreachable_accounts_named() -> None:
    report = StatusReport(
        campaign=CAMPAIGN,
        units=(
            UnitStatus(name="崇川区", state=UnitState.SUBMITTED),
            UnitStatus(name="通州区", state=UnitState.IN_PROGRESS, unreachable=("王芳",)),
            UnitStatus(name="海门区", state=UnitState.NOT_STARTED),
        ),
        overdue=True,
    )
    assert status_blocks(report, "en") == [
        "#3 南通中期评估\nDue: 2026-12-15 17:00 (deadline passed)\n"
        "Submitted 1, in progress 1, not started 1 (3 units)",
        "Overdue, not submitted (2):\n通州区 (in progress) ⚠️\n海门区 (not started) ⚠️",
        "Cannot be reached (1; blocked the bot or deleted the account):\n通州区：王芳",
    ]


def test_status_blocks__all_submitted() -> None:
    report = StatusReport(campaign=CAMPAIGN, units=(UnitStatus(name="崇川区", state=UnitState.SUBMITTED),), overdue=False)
    assert status_blocks(report, "zh")[1:] == ["全部单位已提交。"]


def test_campaign_label__is_cut_to_fit_a_button() -> None:
    long = CampaignSummary(id=12, title="长" * 100, timezone="UTC", deadline=CAMPAIGN.deadline, is_open=True)
    assert campaign_label(long) == ("#12 " + "长" * 100)[:60]
