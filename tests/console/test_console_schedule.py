"""The campaign page's reminder schedule and last period's questions, as a coordinator reads them.

Through the real site and database: campaigns created with the console's form,
reminders sent by the real :class:`~bot.reminder_scheduler.ReminderScheduler`
after moving the clock, and the page's text read back.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.campaign_setup import CampaignSetup
from bot.cli import main
from bot.reminder_scheduler import ReminderScheduler
from tests.console.conftest import ConsoleWorld
from tests.console.test_console_progress import table_rows
from tests.console.test_console_setup import NANTONG_YAML, create_form, created_id, page_text, post_create
from tests.storage.conftest import Backend

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = "（UTC+08:00，Asia/Shanghai）"


@pytest.fixture(autouse=True)
def _in_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped surveys are ``surveys/`` (SURVEYBOT_SURVEYS_DIR's default) of the checkout."""
    monkeypatch.chdir(ROOT)


async def campaign_page(console: ConsoleWorld, campaign_id: int, *, lang: str = "zh") -> str:
    response = await console.client.get(f"/admin/campaigns/{campaign_id}?lang={lang}")
    assert response.status == 200, response.status
    return await response.text()


async def create(console: ConsoleWorld, csrf: str, **fields: str) -> int:
    """A campaign made with the console's form (deadline 2026-12-20 17:00 Shanghai, reminders 2d and 6h)."""
    return created_id(await post_create(console, create_form(csrf, **fields)))


# -- the reminder schedule --------------------------------------------------------------


async def test_schedule__after_the_first_reminder_went_out_it_is_sent_and_the_second_upcoming(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    campaign_id = await create(console, csrf)  # 2d → 18 Dec 17:00, 6h → 20 Dec 11:00, Shanghai time
    before = await campaign_page(console, campaign_id)
    assert table_rows(before, "schedule-table") == [
        [f"2026-12-18 17:00{SHANGHAI}", "待发送"],
        [f"2026-12-20 11:00{SHANGHAI}", "待发送"],
    ]
    assert "截止前 2d,6h 自动提醒未提交的单位" in page_text(before)

    console.clock.now = datetime(2026, 12, 18, 9, 30, tzinfo=UTC)  # 17:30 in Shanghai
    (sent,) = await ReminderScheduler(database=console.database, clock=console.clock).tick()
    assert sent.campaign_id == campaign_id
    await console.sign_in()  # the session of two weeks ago has expired

    page = await campaign_page(console, campaign_id)
    assert table_rows(page, "schedule-table") == [
        [f"2026-12-18 17:00{SHANGHAI}", "已发送"],
        [f"2026-12-20 11:00{SHANGHAI}", "待发送"],
    ]
    english = await campaign_page(console, campaign_id, lang="en")
    assert table_rows(english, "schedule-table") == [
        ["2026-12-18 17:00 (UTC+08:00, Asia/Shanghai)", "Sent"],
        ["2026-12-20 11:00 (UTC+08:00, Asia/Shanghai)", "Upcoming"],
    ]


async def test_schedule__a_reminder_spent_before_the_deadline_moved_stays_sent_and_the_rest_moves(
    console: ConsoleWorld,
) -> None:
    csrf = await console.sign_in()
    campaign_id = await create(console, csrf)
    console.clock.now = datetime(2026, 12, 18, 9, 30, tzinfo=UTC)
    await ReminderScheduler(database=console.database, clock=console.clock).tick()
    csrf = await console.sign_in()
    moved = await console.client.post(
        f"/admin/campaigns/{campaign_id}/deadline", data={"csrf": csrf, "deadline": "2026-12-21T17:00"}, allow_redirects=False
    )
    assert moved.status == 303

    page = await campaign_page(console, campaign_id)
    assert table_rows(page, "schedule-table") == [
        [f"2026-12-18 17:00{SHANGHAI} （按之前的截止时间或提醒设定发送）", "已发送"],
        [f"2026-12-21 11:00{SHANGHAI}", "待发送"],
    ]
    assert "调整截止时间或提醒设定时已发送或已错过的提醒不再发送：截止前 2d。" in page_text(page)


async def test_schedule__after_downtime_the_older_slot_is_skipped_and_the_due_one_is_what_the_scheduler_sends(
    console: ConsoleWorld,
) -> None:
    """The fixture's campaign: deadline 15 Dec 17:00 Shanghai, reminders 3d, 1d, 2h; nothing ran until 14 Dec 18:00."""
    console.clock.now = datetime(2026, 12, 14, 10, 0, tzinfo=UTC)
    await console.sign_in()
    page = await campaign_page(console, console.campaign_id, lang="en")
    assert table_rows(page, "schedule-table") == [
        ["2026-12-12 17:00 (UTC+08:00, Asia/Shanghai)", "Passed: not sent"],
        ["2026-12-14 17:00 (UTC+08:00, Asia/Shanghai)", "Due: goes out at the next check (in the quiet hours 21:00–08:00, in the morning)"],
        ["2026-12-15 15:00 (UTC+08:00, Asia/Shanghai)", "Upcoming"],
    ]

    (sent,) = await ReminderScheduler(database=console.database, clock=console.clock).tick()
    assert sent.slot.key == "reminder@2026-12-14T09:00:00Z"  # the one the page called due
    after = await campaign_page(console, console.campaign_id, lang="en")
    assert [status for _, status in table_rows(after, "schedule-table")] == ["Passed: not sent", "Sent", "Upcoming"]

    console.clock.now = datetime(2026, 12, 16, 1, 0, tzinfo=UTC)  # after the deadline
    await console.sign_in()
    late = await campaign_page(console, console.campaign_id, lang="en")
    assert [status for _, status in table_rows(late, "schedule-table")] == ["Passed: not sent", "Sent", "Passed: not sent"]
    assert "No automatic reminder is left to send before the deadline." in page_text(late)


async def test_schedule__a_slot_in_the_quiet_hours_shows_where_it_moved(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    campaign_id = await create(console, csrf, deadline="2026-12-20T09:00", remind="2h")  # 07:00 is quiet
    page = await campaign_page(console, campaign_id, lang="en")
    assert table_rows(page, "schedule-table") == [
        ["2026-12-20 08:30 (UTC+08:00, Asia/Shanghai) (its time fell in the quiet hours 21:00–08:00: moved to 08:30)", "Upcoming"],
    ]


async def test_schedule__a_closed_campaign_says_reminders_are_off(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    closed = await console.client.post(f"/admin/campaigns/{console.campaign_id}/close", data={"csrf": csrf}, allow_redirects=False)
    assert closed.status == 303

    page = await campaign_page(console, console.campaign_id)
    assert "自动提醒已停止：活动已关闭，不再发送提醒。" in page_text(page)
    assert 'id="schedule-table"' not in page
    english = page_text(await campaign_page(console, console.campaign_id, lang="en"))
    assert "Automatic reminders are off: the campaign is closed, so no reminder is sent." in english


async def test_schedule__without_reminders_the_page_says_how_to_set_them_and_campaign_set_does(
    console: ConsoleWorld,
    backend: Backend,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    csrf = await console.sign_in()
    campaign_id = await create(console, csrf, remind="none", deadline="2099-12-20T17:00")
    page = await campaign_page(console, campaign_id)
    assert f"点下方的“更改自动提醒”设定截止前的提醒时间（例如 3d,1d,2h：d 天、h 小时），也可在服务器上运行 surveybot campaign set {campaign_id} --remind 3d,1d,2h" in page_text(page)
    assert 'id="schedule-table"' not in page
    english = page_text(await campaign_page(console, campaign_id, lang="en"))
    assert f"or on the server with surveybot campaign set {campaign_id} --remind" in english

    monkeypatch.setenv("SURVEYBOT_DATABASE_URL", backend.url_with_schema)
    monkeypatch.setenv("SURVEYBOT_DATA_DIR", str(tmp_path / "cli-data"))
    code = await asyncio.to_thread(main, ["campaign", "set", str(campaign_id), "--remind", "2d,6h"])
    out = capsys.readouterr().out.splitlines()
    assert (code, out) == (
        0,
        [
            f"campaign {campaign_id}: reminders 2d, 6h before the deadline",
            "reminders to come: 2099-12-18 17:00, 2099-12-20 11:00 (Asia/Shanghai)",
        ],
    )
    assert table_rows(await campaign_page(console, campaign_id), "schedule-table") == [
        [f"2099-12-18 17:00{SHANGHAI}", "待发送"],
        [f"2099-12-20 11:00{SHANGHAI}", "待发送"],
    ]

    assert await asyncio.to_thread(main, ["campaign", "set", str(campaign_id)]) == 2  # neither option: nothing to set
    assert "give --remind TIMES or --wecom-group-webhook" in capsys.readouterr().err


async def test_set_reminders__a_time_already_past_is_not_sent_late(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    campaign_id = await create(console, csrf, remind="none")  # deadline 20 Dec 17:00 Shanghai
    console.clock.now = datetime(2026, 12, 19, 10, 0, tzinfo=UTC)  # 19 Dec 18:00: the 2d time has passed
    changed = await CampaignSetup(database=console.database).set_reminders(
        campaign_id=campaign_id, offsets=(2 * 86400, 6 * 3600), now=console.clock()
    )
    assert changed.spent_offsets == (2 * 86400,)
    assert await ReminderScheduler(database=console.database, clock=console.clock).tick() == []  # no belated reminder

    await console.sign_in()
    page = await campaign_page(console, campaign_id)
    assert table_rows(page, "schedule-table") == [[f"2026-12-20 11:00{SHANGHAI}", "待发送"]]
    assert "截止前 2d。" in page_text(page)


# -- last period ------------------------------------------------------------------------


def survey_without_q6_with_a_new_question() -> bytes:
    """The Nantong survey without question 6 (q6_meetings) and with a new number question after question 7."""
    text = NANTONG_YAML.read_text(encoding="utf-8")
    start = text.index("      - id: q6_meetings")
    end = text.index("      - id: q7_members")
    text = text[:start] + text[end:]
    new = (
        "      - id: q8_volunteers\n"
        "        type: integer\n"
        "        label:\n"
        "          zh: 8. 科普志愿者人数（人）\n"
        "          en: 8. Number of science volunteers\n"
        "        min: 0\n\n"
    )
    anchor = text.index("      - id: q7_change")
    return (text[:anchor] + new + text[anchor:]).replace('version: "1"', 'version: "2"', 1).encode()


async def test_last_period__a_question_without_a_counterpart_is_listed_after_creating(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    response = await post_create(
        console,
        create_form(csrf, survey_source="upload", previous=str(console.campaign_id)),
        file=("nantong-2024.yaml", survey_without_q6_with_a_new_question()),
    )
    campaign_id = created_id(response)

    page = page_text(await (await console.client.get(response.headers["Location"])).text())
    assert f"上一期活动：南通中期评估（编号 {console.campaign_id}）" in page
    assert "以下题目在上一期没有对应的题目" in page
    items = re.findall(r"<li>(.*?)</li>", await campaign_page(console, campaign_id))
    assert [page_text(item) for item in items if "q6_" in item or "q8_" in item] == [
        "8. 科普志愿者人数（人）（q8_volunteers）：本期新增",
        "6. 是否定期召开全民科学素质工作领导小组会议或专题会议（q6_meetings）：仅上一期有",
    ]
    english = page_text(await campaign_page(console, campaign_id, lang="en"))
    assert "6. Are meetings of the scientific literacy leading group, or special meetings on this work, held regularly? (q6_meetings): asked last period only" in english
    assert "8. Number of science volunteers (q8_volunteers): new this period" in english


async def test_last_period__the_same_survey_says_every_question_carries_over(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    campaign_id = await create(console, csrf, previous=str(console.campaign_id))
    page = page_text(await campaign_page(console, campaign_id))
    assert "本期的每道题在上一期都有对应的题目。" in page
    assert "与上一期对照" not in page_text(await campaign_page(console, console.campaign_id))  # not linked: no section
