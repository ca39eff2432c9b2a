"""Scheduled reminders end to end: the right people, at the right time, once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from storage.models import DeliveryStatus
from storage.responses import current_answers, get_unit_response
from storage.rosters import get_unit
from tests.fakes.telegram import FakeUser
from tests.reminders.conftest import (
    SLOT_1D,
    SLOT_3D,
    database_of,
    join,
    scheduler_for,
    sender_for,
    statuses,
    submit_unit,
)
from tests.telegram.conftest import BotHarness, replies, text_of

REMINDER = "⏰ 填报提醒"


def reminders(user: FakeUser) -> list[str]:
    return [message.text or "" for message in user.messages if (message.text or "").startswith(REMINDER)]


async def test_scheduled_reminder__fires_at_its_time_only_to_units_not_submitted(harness: BotHarness) -> None:
    chongchuan = await join(harness, "崇川区", 9201, "王芳")
    tongzhou = await join(harness, "通州区", 9202, "李雷")
    await tongzhou.send_text("通州区科协")  # answers the first question
    await replies(tongzhou)
    haimen = await join(harness, "海门区", 9203, "张伟")
    await submit_unit(harness, "海门区")
    scheduler, sender = scheduler_for(harness), sender_for(harness)

    harness.clock.now = SLOT_3D - timedelta(minutes=1)
    assert await scheduler.tick() == []
    await sender.drain()
    assert reminders(chongchuan) == reminders(tongzhou) == []

    harness.clock.now = SLOT_3D
    [batch] = await scheduler.tick()
    assert batch.recipients == 2
    stats = await sender.drain()
    assert stats.sent == 2

    [first] = reminders(chongchuan)
    assert "《南通市全民科学素质行动规划（2021-2035年）》实施情况“十四五”中期评估" in first
    assert "截止时间：2026-12-15 17:00（UTC+08:00）" in first
    assert re.search(r"崇川区：已答 0/\d+ 题", first)
    [second] = reminders(tongzhou)
    assert re.search(r"通州区：已答 1/\d+ 题", second)
    assert reminders(haimen) == []
    reminder_message = chongchuan.messages[-1]
    assert reminder_message.callback_data == [f"res:{harness.campaign_id}"] and reminder_message.button_texts == ["继续填写"]

    # "继续填写" resumes at the current question.
    await chongchuan.press("继续填写", reminder_message)
    assert "第 1/" in await text_of(chongchuan)

    # Ticking again, here or in another process, sends nothing more.
    assert await scheduler.tick() == []
    other = scheduler_for(harness, database=harness.backend.open())
    assert await other.tick() == []
    assert (await sender.drain()).sent == 0
    assert len(reminders(chongchuan)) == len(reminders(tongzhou)) == 1


async def test_reminder_button__continues_in_the_reminded_campaign_for_an_account_in_two(
    harness: BotHarness,
) -> None:
    first_campaign = harness.campaign_id
    user = await join(harness, "崇川区", 9201, "王芳")
    await user.send_text("崇川区科协")  # the first question of the first campaign
    await replies(user)
    await harness.create_campaign(units=("如皋市",))
    second_campaign = harness.campaign_id
    await user.send_command("/start", harness.tokens["如皋市"][0])  # now answering for 如皋市
    await replies(user)

    harness.clock.now = SLOT_3D
    assert len(await scheduler_for(harness).tick()) == 2
    await sender_for(harness).drain()
    buttons = {message.callback_data[0]: message for message in user.messages if (message.text or "").startswith(REMINDER)}
    assert set(buttons) == {f"res:{first_campaign}", f"res:{second_campaign}"}

    await user.press("继续填写", buttons[f"res:{first_campaign}"])
    text = await text_of(user)
    assert "填报单位：崇川区" in text and "第 2/" in text
    await user.send_text("王芳")  # answers for 崇川区 from now on
    await replies(user)
    await user.press("继续填写", buttons[f"res:{second_campaign}"])
    text = await text_of(user)
    assert "填报单位：如皋市" in text and "第 1/" in text
    await user.press_raw("res:999999")  # forged, or a campaign the account has left: resumes where it is
    text = await text_of(user)
    assert "您好" not in text and "第 1/" in text  # no greeting: nothing was switched

    async with database_of(harness).read() as session:
        chongchuan = await get_unit(session=session, campaign=first_campaign, name="崇川区")
        rugao = await get_unit(session=session, campaign=second_campaign, name="如皋市")
        first_answers = await current_answers(session=session, response=await get_unit_response(session=session, unit=chongchuan))
        second_answers = await current_answers(session=session, response=await get_unit_response(session=session, unit=rugao))
    assert {key: answer.value for key, answer in first_answers.items()} == {"unit": "崇川区科协", "filled_by": "王芳"}
    assert second_answers == {}


async def test_after_downtime__only_the_latest_missed_slot_is_sent_once(harness: BotHarness) -> None:
    user = await join(harness, "崇川区", 9201, "王芳")
    scheduler, sender = scheduler_for(harness), sender_for(harness)

    harness.clock.now = SLOT_1D + timedelta(hours=3)  # down through the 3-day and 1-day slots
    [batch] = await scheduler.tick()
    assert batch.slot.send_at == SLOT_1D
    await sender.drain()
    assert len(reminders(user)) == 1

    harness.clock.now += timedelta(minutes=30)
    assert await scheduler.tick() == []
    await sender.drain()
    assert len(reminders(user)) == 1

    harness.clock.now = harness.deadline + timedelta(minutes=1)  # back after the deadline
    assert await scheduler.tick() == []


async def test_quiet_hours__a_night_slot_goes_at_08_30_and_a_missed_one_waits_for_the_morning(
    harness: BotHarness,
) -> None:
    harness.deadline = datetime(2026, 12, 20, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    await harness.create_campaign(units=("如皋市",))
    user = await join(harness, "如皋市", 9301, "陈静")
    scheduler, sender = scheduler_for(harness), sender_for(harness)

    # The 1-day slot (12-19 09:00 local) fell due while the bot was down; it is back at 22:00.
    harness.clock.now = datetime(2026, 12, 19, 14, 0, tzinfo=UTC)  # 22:00 local
    assert await scheduler.tick() == []
    harness.clock.now = datetime(2026, 12, 19, 23, 59, tzinfo=UTC)  # 07:59 local
    assert await scheduler.tick() == []
    harness.clock.now = datetime(2026, 12, 20, 0, 0, tzinfo=UTC)  # 08:00 local: quiet hours are over
    [late] = await scheduler.tick()
    assert late.slot.send_at == datetime(2026, 12, 19, 1, 0, tzinfo=UTC)
    await sender.drain()
    assert len(reminders(user)) == 1

    # The 2-hour slot is 07:00 local, inside quiet hours: it goes at 08:30.
    harness.clock.now = datetime(2026, 12, 20, 0, 29, tzinfo=UTC)
    assert await scheduler.tick() == []
    harness.clock.now = datetime(2026, 12, 20, 0, 30, tzinfo=UTC)  # 08:30 local
    [morning] = await scheduler.tick()
    assert morning.slot.nominal_at == datetime(2026, 12, 19, 23, 0, tzinfo=UTC)
    await sender.drain()
    texts = reminders(user)
    assert len(texts) == 2 and "截止时间：2026-12-20 09:00（UTC+08:00）" in texts[1]


async def test_unit_submitting_between_scheduling_and_sending__is_skipped(harness: BotHarness) -> None:
    chongchuan = await join(harness, "崇川区", 9201, "王芳")
    tongzhou = await join(harness, "通州区", 9202, "李雷")
    harness.clock.now = SLOT_3D
    [batch] = await scheduler_for(harness).tick()
    assert batch.recipients == 2

    await submit_unit(harness, "崇川区")
    stats = await sender_for(harness).drain()

    assert (stats.sent, stats.skipped) == (1, 1)
    assert reminders(chongchuan) == [] and len(reminders(tongzhou)) == 1
    assert await statuses(harness) == {9201: DeliveryStatus.SKIPPED, 9202: DeliveryStatus.SENT}


async def test_closed_campaign__gets_no_reminder(harness: BotHarness) -> None:
    from storage.campaigns import close_campaign, get_campaign

    user = await join(harness, "崇川区", 9201, "王芳")
    harness.clock.now = SLOT_3D
    [_] = await scheduler_for(harness).tick()
    async with database_of(harness).transaction() as session:
        campaign = await get_campaign(session=session, campaign_id=harness.campaign_id, for_update=True)
        await close_campaign(session=session, campaign=campaign, now=harness.clock())
    stats = await sender_for(harness).drain()
    assert (stats.sent, stats.skipped) == (0, 1)
    assert reminders(user) == []
    harness.clock.now = SLOT_1D
    assert await scheduler_for(harness).tick() == []


async def test_reminder__speaks_the_respondents_language(harness: BotHarness) -> None:
    user = harness.fake.user(9204, "Anna", language_code="en")
    await user.send_command("/start", harness.tokens["海门区"][1])
    await replies(user)
    harness.clock.now = SLOT_3D
    await scheduler_for(harness).tick()
    await sender_for(harness).drain()
    [message] = [m for m in user.messages if (m.text or "").startswith("⏰ Reminder")]
    assert "Mid-term (14th Five-Year Plan) evaluation" in (message.text or "")
    assert "Due: 2026-12-15 17:00 (UTC+08:00)" in (message.text or "")
    assert re.search(r"海门区: 0/\d+ questions answered", message.text or "")
    assert message.button_texts == ["Continue"]
