"""/remind and /broadcast: preview, confirmation, one status message edited as it goes, a summary."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select

from bot.outbox_sender import SenderSettings
from bot.reminder_worker import ReminderWorker
from storage.models import InboundUpdate, OutboxBatchStatus, ProcessedUpdate
from tests.reminders.conftest import (
    FAST,
    REALISTIC_PACING,
    SLOT_3D,
    bind_many,
    join,
    make_coordinator,
    sender_for,
    submit_unit,
    wait_for_batches,
)
from tests.telegram.conftest import BotHarness, replies, text_of


async def test_remind_and_broadcast__are_refused_to_anyone_but_a_coordinator(harness: BotHarness) -> None:
    stranger = harness.fake.user(9100, "好奇的人", language_code="zh-hans")
    for command, args in (("/remind", ()), ("/broadcast", ("大家好",))):
        await stranger.send_command(command, *args)
        assert "此命令仅限协调人使用" in await text_of(stranger)
    await join(harness, "崇川区", 9201, "王芳")
    await stranger.press_raw("rm:ok:1")
    assert "此命令仅限协调人使用" in await text_of(stranger)


async def test_remind__previews_then_sends_with_one_status_message_and_a_summary_by_name(
    harness: BotHarness,
) -> None:
    await join(harness, "崇川区", 9201, "王芳")
    blocked = await join(harness, "海门区", 9203, "张伟")
    await blocked.block_bot(notify=False)
    others = await bind_many(harness, 30)
    await submit_unit(harness, "通州区")  # its 10 bound respondents are not reminded
    coordinator = await make_coordinator(harness)

    await coordinator.send_command("/remind")
    [preview] = await replies(coordinator)
    text = preview.text or ""
    assert f"#{harness.campaign_id} 南通中期评估" in text
    assert "将向 2 个未提交单位的 22 位填报人发送填报提醒" in text
    assert preview.button_texts == ["✅ 确认发送", "取消"]
    await coordinator.press("✅ 确认发送", preview)
    await wait_for_batches(harness, OutboxBatchStatus.ACTIVE)

    settings = SenderSettings(report_interval=0.2)
    stats = await sender_for(harness, settings=settings, pacing=REALISTIC_PACING).drain()

    assert (stats.sent, stats.unreachable) == (21, 1)
    status = coordinator.message(preview.message_id)
    assert status.edit_count >= 3  # the progress, edited as it went, then the final state
    assert status.text == f"✅ #{harness.campaign_id} 南通中期评估 填报提醒：发送完成，已发送 21/22（失败 0，无法送达 1，已跳过 0）"
    assert status.inline_keyboard == []
    summary = coordinator.messages[-1].text or ""
    assert "填报提醒发送完毕：已发送 21，失败 0，无法送达 1，已跳过 0" in summary
    assert "无法送达（1，已屏蔽机器人或账号注销）：\n海门区 · 张伟" in summary
    reminded = [user for user in others if any("填报提醒" in (m.text or "") for m in user.messages)]
    assert len(reminded) == 20  # the 30 spread over three units: 崇川区 and 海门区's

    # A second press (a double tap, a replayed update) sends nothing more.
    await coordinator.press_raw(f"rm:ok:{(await wait_for_batches(harness, OutboxBatchStatus.DONE))[0]}", preview.message_id)
    assert "这条确认已经处理过了" in await text_of(coordinator)
    assert (await sender_for(harness).drain()).sent == 0


async def test_remind_cancelled_or_expired__sends_nothing(harness: BotHarness) -> None:
    user = await join(harness, "崇川区", 9201, "王芳")
    coordinator = await make_coordinator(harness)
    await coordinator.send_command("/remind", str(harness.campaign_id))
    [preview] = await replies(coordinator)
    await coordinator.press("取消", preview)
    await coordinator.wait_for_edit(preview.message_id)
    assert coordinator.message(preview.message_id).text == "已取消，没有发送任何消息。"

    await coordinator.send_command("/remind")
    [late] = await replies(coordinator)
    harness.clock.now += timedelta(hours=2)
    await coordinator.press("✅ 确认发送", late)
    await coordinator.wait_for_edit(late.message_id)
    assert coordinator.message(late.message_id).text == "这条确认已过期，请重新发送 /remind。"
    assert (await sender_for(harness).drain()).sent == 0
    assert not any("填报提醒" in (m.text or "") for m in user.messages)


async def test_remind_buttons_pressed_too_late_to_acknowledge__still_pick_cancel_and_confirm(
    harness: BotHarness,
) -> None:
    """Telegram refuses to acknowledge an old press ("query is too old"); the press still acts."""
    await harness.create_campaign(units=("如皋市",))
    user = await join(harness, "如皋市", 9301, "陈静")
    coordinator = await make_coordinator(harness)

    await coordinator.send_command("/remind")
    [choice] = await replies(coordinator)
    await coordinator.press(f"#{harness.campaign_id} 南通中期评估", choice, expired=True)
    [preview] = await replies(coordinator)
    assert "将向 1 个未提交单位的 1 位填报人发送填报提醒" in (preview.text or "")
    await coordinator.press("取消", preview, expired=True)
    await coordinator.wait_for_edit(preview.message_id)
    assert coordinator.message(preview.message_id).text == "已取消，没有发送任何消息。"

    await coordinator.send_command("/remind", str(harness.campaign_id))
    [preview] = await replies(coordinator)
    await coordinator.press("✅ 确认发送", preview, expired=True)
    await wait_for_batches(harness, OutboxBatchStatus.ACTIVE)
    assert (await sender_for(harness).drain()).sent == 1
    assert any("填报提醒" in (m.text or "") for m in user.messages)
    assert not any("抱歉" in (m.text or "") for m in coordinator.messages)
    assert [error.method for error in harness.fake.errors] == ["answerCallbackQuery"] * 3


async def test_remind__nobody_left_to_remind_or_past_the_deadline(harness: BotHarness) -> None:
    await join(harness, "崇川区", 9201, "王芳")
    coordinator = await make_coordinator(harness)
    for unit in ("崇川区", "通州区", "海门区"):
        await submit_unit(harness, unit)
    await coordinator.send_command("/remind")
    assert "没有可以提醒的填报人" in await text_of(coordinator)
    harness.clock.now = harness.deadline + timedelta(minutes=1)
    await coordinator.send_command("/remind")
    assert "已截止，不再发送填报提醒" in await text_of(coordinator)


async def test_broadcast__after_confirmation_reaches_every_bound_respondent_once(harness: BotHarness) -> None:
    users = [await join(harness, unit, 9201 + index, name) for index, (unit, name) in enumerate(
        (("崇川区", "王芳"), ("通州区", "李雷"), ("海门区", "张伟"))
    )]
    await submit_unit(harness, "海门区")  # a broadcast goes to submitted units too
    coordinator = await make_coordinator(harness)

    await coordinator.send_command("/broadcast", "请于周五前寄出盖章纸质表。\n联系电话：59003013")
    [preview] = await replies(coordinator)
    assert "将向 3 个单位的 3 位填报人发送以下通知：\n\n请于周五前寄出盖章纸质表。\n联系电话：59003013" in (preview.text or "")
    await coordinator.press("✅ 确认发送", preview)
    await wait_for_batches(harness, OutboxBatchStatus.ACTIVE)
    await sender_for(harness).drain()

    expected = "📢 南通中期评估\n\n请于周五前寄出盖章纸质表。\n联系电话：59003013"
    assert [[m.text for m in user.messages if (m.text or "").startswith("📢")] for user in users] == [[expected]] * 3
    assert "通知发送完毕：已发送 3，失败 0，无法送达 0" in (coordinator.messages[-1].text or "")


async def test_broadcast__summary_arrives_even_when_the_progress_reporter_closes_the_batch(
    harness: BotHarness,
) -> None:
    # The drain's progress reporter may close the batch itself; the drain ending
    # right then used to cancel it between closing and sending the summary.
    await join(harness, "崇川区", 9201, "王芳")
    coordinator = await make_coordinator(harness)
    eager = replace(FAST, report_interval=0.0)
    for round_number in range(1, 6):
        await coordinator.send_command("/broadcast", f"第{round_number}次通知")
        [preview] = await replies(coordinator)
        await coordinator.press("✅ 确认发送", preview)
        await wait_for_batches(harness, OutboxBatchStatus.ACTIVE)
        await sender_for(harness, settings=eager).drain()
        summaries = [m.text for m in coordinator.messages if "通知发送完毕" in (m.text or "")]
        assert len(summaries) == round_number, f"round {round_number}: {summaries}"


async def test_broadcast_and_remind_with_several_open_campaigns__ask_which(harness: BotHarness) -> None:
    await harness.create_campaign(units=("如皋市",))
    await join(harness, "如皋市", 9301, "陈静")
    coordinator = await make_coordinator(harness)

    await coordinator.send_command("/broadcast", "大家好")
    text = await text_of(coordinator)
    assert "有多个进行中的填报活动，请写明编号" in text and f"#{harness.campaign_id} 南通中期评估" in text
    await coordinator.send_command("/broadcast", str(harness.campaign_id), "大家好")
    assert "将向 1 个单位的 1 位填报人发送以下通知：\n\n大家好" in await text_of(coordinator)

    await coordinator.send_command("/remind")
    [choice] = await replies(coordinator)
    assert len(choice.inline_keyboard) == 2
    await coordinator.press(f"#{harness.campaign_id} 南通中期评估", choice)
    assert "将向 1 个未提交单位的 1 位填报人发送填报提醒" in await text_of(coordinator)

    await coordinator.send_command("/broadcast")
    assert "用法：/broadcast [活动编号] 通知内容" in await text_of(coordinator)
    await coordinator.send_command("/remind", "abc")
    assert "用法：/remind [活动编号]" in await text_of(coordinator)


async def test_worker__sends_scheduled_and_confirmed_messages_in_the_background_and_stops_cleanly(
    harness: BotHarness,
) -> None:
    assert harness.application is not None and harness.database is not None
    user = await join(harness, "崇川区", 9201, "王芳")
    coordinator = await make_coordinator(harness)
    harness.clock.now = SLOT_3D
    worker = ReminderWorker(
        database=harness.database,
        senders=[sender_for(harness, settings=replace(FAST, report_interval=0.05))],
        clock=harness.clock,
        tick_interval=0.05,
        poll_interval=0.05,
    )
    worker.start()
    try:
        await harness.fake.wait_until(lambda: any("填报提醒" in (m.text or "") for m in user.messages), timeout=5)
        await coordinator.send_command("/broadcast", "后台发送")
        [preview] = await replies(coordinator)
        await coordinator.press("✅ 确认发送", preview)
        await harness.fake.wait_until(
            lambda: any("后台发送" in (m.text or "") for m in user.messages), timeout=5
        )
        await harness.fake.wait_until(lambda: "通知发送完毕" in (coordinator.messages[-1].text or ""), timeout=5)
    finally:
        await asyncio.wait_for(worker.stop(), 5)
    assert sum("填报提醒" in (m.text or "") for m in user.messages) == 1


async def test_worker__forgets_handled_update_ids_after_a_week_but_not_before(harness: BotHarness) -> None:
    assert harness.application is not None and harness.database is not None
    user = await join(harness, "崇川区", 9202, "王芳")  # /start: one handled update, now
    started = harness.clock.now
    harness.clock.now = started + timedelta(days=3)
    await user.send_text("海门区科学技术协会")
    await replies(user)

    async def handled() -> list[str]:
        async with harness.database.read() as session:  # type: ignore[union-attr]
            return list(await session.scalars(select(ProcessedUpdate.update_id).order_by(ProcessedUpdate.id)))

    before = await handled()
    assert len(before) == 2
    harness.clock.now = started + timedelta(days=7, hours=1)
    worker = ReminderWorker(
        database=harness.database, senders=[sender_for(harness)], clock=harness.clock, tick_interval=60, poll_interval=0.05
    )
    worker.start()  # prunes on its first round
    try:
        for _ in range(100):
            if len(await handled()) < 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await asyncio.wait_for(worker.stop(), 5)
    assert await handled() == before[1:]  # the /start of a week ago is forgotten, the answer of 4 days ago kept
    harness.clock.now = started + timedelta(days=10, hours=1)
    assert await worker.prune() == 1
    assert await handled() == []
    async with harness.database.read() as session:  # the inbox forgets them as well
        assert await session.scalar(select(func.count()).select_from(InboundUpdate)) == 0


async def test_remind_handled_again_after_its_preview_failed__previews_the_same_draft(harness: BotHarness) -> None:
    await join(harness, "崇川区", 9201, "王芳")
    coordinator = await make_coordinator(harness)
    harness.fake.fail_next("sendMessage", error_code=400, description="Bad Request: something broke")
    await coordinator.send_command("/remind")
    assert "抱歉" in await text_of(coordinator)  # the preview was lost; the inbox keeps the update
    assert harness.intake is not None
    await harness.intake.inbox.drain(5.0)  # the failed handling is released (the apology may come first)
    harness.clock.now += timedelta(minutes=1)  # past the retry delay
    assert await harness.intake.inbox.recover() == 1
    *_, preview = await replies(coordinator, at_least=2)  # after the apology
    assert "将向 1 个未提交单位的 1 位填报人发送填报提醒" in (preview.text or "")
    [draft] = await wait_for_batches(harness, OutboxBatchStatus.DRAFT)  # one draft, not one per handling
    await coordinator.press("✅ 确认发送", preview)
    assert await wait_for_batches(harness, OutboxBatchStatus.ACTIVE) == [draft]
