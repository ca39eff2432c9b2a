"""Delivery through the outbox: 429, 403, other errors, restarts, crashes, several senders."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from bot.outbox_sender import SenderSettings
from storage.models import DeliveryStatus, Respondent
from storage.outbox import INTERRUPTED_REASON
from storage.respondents import bind_respondent, get_or_create_respondent
from storage.rosters import get_unit
from tests.reminders.conftest import (
    FAST,
    FAST_PACING,
    REALISTIC_PACING,
    SLOT_3D,
    bind_many,
    database_of,
    enqueue_broadcast,
    join,
    make_coordinator,
    other_bot,
    outbox_rows,
    scheduler_for,
    sender_for,
    statuses,
)
from tests.telegram.conftest import BotHarness, text_of

REALISTIC = SenderSettings(report_interval=0.2)


def broadcasts_received(harness: BotHarness, text: str) -> dict[int, int]:
    """Chat id → how many messages holding ``text`` the fake delivered there."""
    received: dict[int, int] = {}
    for user in harness.fake.users.values():
        count = sum(1 for message in user.messages if text in (message.text or ""))
        if count:
            received[user.id] = count
    return received


async def test_429__waits_retry_after_and_sends_the_same_row_once(harness: BotHarness) -> None:
    users = [await join(harness, "崇川区", 9201, "王芳"), await join(harness, "通州区", 9202, "李雷")]
    await enqueue_broadcast(harness, "请周五前提交")
    harness.fake.reset_stats()
    harness.fake.fail_next("sendMessage", 429, retry_after=1)

    loop = asyncio.get_running_loop()
    started = loop.time()
    stats = await sender_for(harness).drain()

    assert loop.time() - started >= 1.0  # retry_after was honoured
    assert (stats.sent, stats.flood_waits) == (2, 1)
    assert harness.fake.stats.total_429 == 1
    assert broadcasts_received(harness, "请周五前提交") == {user.id: 1 for user in users}
    assert set((await statuses(harness)).values()) == {DeliveryStatus.SENT}


async def test_429_with_a_long_retry_after__goes_back_to_the_queue_until_then(harness: BotHarness) -> None:
    user = await join(harness, "崇川区", 9201, "王芳")
    await enqueue_broadcast(harness, "长时间限流")
    harness.fake.fail_next("sendMessage", 429, retry_after=120)

    stats = await sender_for(harness).drain()
    assert (stats.sent, stats.retried) == (0, 1)
    [row] = await outbox_rows(harness)
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 0)  # a 429 is not a failed attempt

    harness.clock.now += timedelta(seconds=120)
    assert (await sender_for(harness).drain()).sent == 1  # a new sender: the old one honours its pause
    assert broadcasts_received(harness, "长时间限流") == {user.id: 1}


async def test_403__marks_the_respondent_unreachable_and_status_shows_it(harness: BotHarness) -> None:
    blocked = await join(harness, "崇川区", 9201, "王芳")
    other = await join(harness, "通州区", 9202, "李雷")
    await blocked.block_bot(notify=False)
    harness.clock.now = SLOT_3D
    await scheduler_for(harness).tick()

    stats = await sender_for(harness).drain()

    assert (stats.sent, stats.unreachable) == (1, 1)
    assert await statuses(harness) == {9201: DeliveryStatus.UNREACHABLE, 9202: DeliveryStatus.SENT}
    async with database_of(harness).read() as session:
        respondent = await session.scalar(select(Respondent).where(Respondent.external_id == "9201"))
    assert respondent is not None and respondent.unreachable
    assert "blocked" in (respondent.unreachable_reason or "")
    assert len([m for m in other.messages if "填报提醒" in (m.text or "")]) == 1

    coordinator = await make_coordinator(harness)
    await coordinator.send_command("/status")
    assert "无法联系（1，已屏蔽机器人或账号注销）：\n崇川区：王芳" in await text_of(coordinator)

    # Writing to the bot again makes the account reachable.
    await blocked.unblock_bot(notify=False)
    await blocked.send_command("/resume")
    await text_of(blocked)
    await coordinator.send_command("/status")
    assert "无法联系" not in await text_of(coordinator)


async def test_other_errors__retry_with_backoff_then_fail_with_the_reason(harness: BotHarness) -> None:
    flaky = await join(harness, "崇川区", 9201, "王芳")
    broken = await join(harness, "通州区", 9202, "李雷")
    bad = await join(harness, "海门区", 9203, "张伟")
    await enqueue_broadcast(harness, "重试测试")
    settings = replace(FAST, max_attempts=3, backoff_seconds=(10.0, 60.0))
    harness.fake.fail_next("sendMessage", 500, times=1, chat_id=flaky.id)
    harness.fake.fail_next("sendMessage", 502, times=10, chat_id=broken.id)
    harness.fake.fail_next("sendMessage", 400, description="Bad Request: message text is empty", chat_id=bad.id)
    sender = sender_for(harness, settings=settings)

    stats = await sender.drain()
    assert (stats.sent, stats.retried, stats.failed) == (0, 2, 1)  # the 400 fails at once
    harness.clock.now += timedelta(seconds=9)
    assert (await sender.drain()).retried == 0  # not due yet
    harness.clock.now += timedelta(seconds=1)
    stats = await sender.drain()
    assert (stats.sent, stats.retried) == (1, 1)  # the flaky one went through; the other waits 60 s
    harness.clock.now += timedelta(seconds=60)
    stats = await sender.drain()
    assert stats.failed == 1

    rows = {row.respondent_id: row for row in await outbox_rows(harness)}
    by_chat = await statuses(harness)
    assert by_chat == {9201: DeliveryStatus.SENT, 9202: DeliveryStatus.FAILED, 9203: DeliveryStatus.FAILED}
    reasons = sorted(row.error or "" for row in rows.values() if row.status is DeliveryStatus.FAILED)
    assert reasons[0].startswith("Message text is empty")
    assert "Bad Gateway" in reasons[1] and "after 3 attempts" in reasons[1]
    assert broadcasts_received(harness, "重试测试") == {flaky.id: 1}


async def test_restart_in_the_middle_of_a_broadcast__sends_each_message_once(harness: BotHarness) -> None:
    users = await bind_many(harness, 60)
    await enqueue_broadcast(harness, "重启测试")
    first = sender_for(harness, settings=REALISTIC, pacing=REALISTIC_PACING)
    draining = asyncio.create_task(first.drain())
    await harness.fake.wait_until(lambda: harness.fake.stats.messages_sent >= 15, timeout=10)

    first.request_stop()  # SIGTERM: sends in flight finish, claimed rows go back
    stopped = await draining
    assert 15 <= stopped.sent < 60
    await harness.restart()  # a new process: new Application, new database handle
    second = sender_for(harness, settings=REALISTIC, pacing=REALISTIC_PACING, database=harness.database)
    resumed = await second.drain()

    assert stopped.sent + resumed.sent == 60
    assert broadcasts_received(harness, "重启测试") == {user.id: 1 for user in users}
    assert set((await statuses(harness)).values()) == {DeliveryStatus.SENT}


async def test_sender_killed_mid_send__its_rows_in_doubt_are_failed_never_sent_twice(harness: BotHarness) -> None:
    users = await bind_many(harness, 40)
    await enqueue_broadcast(harness, "崩溃测试")
    doomed = sender_for(harness, settings=REALISTIC, pacing=REALISTIC_PACING)
    draining = asyncio.create_task(doomed.drain())
    await harness.fake.wait_until(lambda: harness.fake.stats.messages_sent >= 10, timeout=10)
    draining.cancel()  # kill -9: no chance to record what was in flight
    await asyncio.gather(draining, return_exceptions=True)

    survivor = sender_for(harness, database=harness.backend.open(), bot=await other_bot(harness))
    assert await survivor.recover() == 0  # within the lease: maybe still being sent
    harness.clock.now += REALISTIC.lease + timedelta(seconds=1)
    in_doubt = await survivor.recover()
    await survivor.drain()

    received = broadcasts_received(harness, "崩溃测试")
    assert max(received.values()) == 1  # never twice
    rows = await outbox_rows(harness)
    failed = [row for row in rows if row.status is DeliveryStatus.FAILED]
    assert len(failed) == in_doubt and all(row.error == INTERRUPTED_REASON for row in failed)
    assert {row.status for row in rows} <= {DeliveryStatus.SENT, DeliveryStatus.FAILED}
    sent = sum(1 for row in rows if row.status is DeliveryStatus.SENT)
    assert sent <= len(received) <= sent + in_doubt and len(users) == len(rows)


async def test_two_processes__send_each_reminder_exactly_once(harness: BotHarness) -> None:
    users = await bind_many(harness, 40)
    harness.clock.now = SLOT_3D
    processes = [harness.backend.open(), harness.backend.open()]
    created = await asyncio.gather(*(scheduler_for(harness, database=db).tick() for db in processes))
    assert sorted(len(batches) for batches in created) == [0, 1]  # one batch, whoever ticked first

    # Paced so that the batch takes a while: long enough for both to get turns
    # at SQLite's write lock (a waiting connection retries every few ms).
    paced = replace(FAST_PACING, rate=60.0)
    senders = [
        sender_for(harness, pacing=paced, database=db, bot=await other_bot(harness), name=f"process-{index}")
        for index, db in enumerate(processes)
    ]
    results = await asyncio.gather(*(sender.drain() for sender in senders))

    assert sum(result.sent for result in results) == 40
    assert all(result.sent > 0 for result in results)  # they shared the work
    received = broadcasts_received(harness, "填报提醒")
    assert received == {user.id: 1 for user in users}
    assert set((await statuses(harness)).values()) == {DeliveryStatus.SENT}


async def test_telegram_account_without_a_chat_id__fails_with_the_reason_and_the_others_are_sent(
    harness: BotHarness,
) -> None:
    user = await join(harness, "崇川区", 9201, "王芳")
    async with database_of(harness).transaction() as session:
        broken = await get_or_create_respondent(
            session=session, channel="telegram", external_id="@lilei", display_name="李雷", now=harness.clock()
        )
        await bind_respondent(session=session, respondent=broken, unit=await get_unit(
            session=session, campaign=harness.campaign_id, name="通州区"
        ))
    await enqueue_broadcast(harness, "无效账号测试")

    stats = await sender_for(harness).drain()

    assert (stats.sent, stats.failed, stats.skipped) == (1, 1, 0)
    rows = {row.respondent_id: row for row in await outbox_rows(harness)}
    assert rows[broken.id].status is DeliveryStatus.FAILED
    assert rows[broken.id].error == "'@lilei' is not a Telegram chat id"
    assert broadcasts_received(harness, "无效账号测试") == {user.id: 1}
