"""Reminders and broadcasts reach WeCom members through the outbox's WeCom transport and the fake WeCom server.

The real scheduler, worker, sender and transport run against the fake WeCom
API over HTTP; one clock (the harness's) drives the bot, the fake's rate
windows and token lifetime, and the member pacer. What is asserted is what the
member received (the fake's ``delivered``), what it silently dropped (never
anything), and what the outbox, /status and the 进度 sheet hold.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from aiohttp import ClientSession
from sqlalchemy import select

from bot.outbox_compose import OutboxComposer
from bot.outbox_sender import OutboxSender
from bot.outbox_transport import Sent
from bot.pacing import PacingPolicy
from bot.reminder_worker import ReminderWorker
from handlers.wecom.api import Succeeded, WeComApi
from handlers.wecom.outbox_transport import REPLY_RESERVE, WeComTransport
from handlers.wecom.pacing import MemberPacer
from storage.audience import broadcast_audience
from storage.models import DeliveryStatus, OutboxBatchStatus, OutboxKind, OutboxMessage, Respondent
from storage.outbox import activate_batch, create_batch, enqueue_messages
from storage.respondents import bind_respondent, get_or_create_respondent
from storage.rosters import get_unit
from tests.fakes.wecom import FakeWeCom
from tests.reminders.conftest import (
    FAST,
    SLOT_1D,
    SLOT_3D,
    database_of,
    join,
    sender_for,
    statuses,
)
from tests.telegram.conftest import BotHarness

WECOM = "wecom"
CHANNELS = ("telegram", WECOM)
#: WeCom's busy minutes kept, the overall rate fast for the tests.
TEST_PACING = PacingPolicy(rate=500.0, per_recipient_interval=0.0, busy_minutes=frozenset({0, 30}))


@dataclass
class WeComWorld:
    wecom: FakeWeCom
    api: WeComApi
    pacer: MemberPacer
    transport: WeComTransport
    seconds: Callable[[], float]


@pytest.fixture
async def world(harness: BotHarness) -> AsyncIterator[WeComWorld]:
    def seconds() -> float:  # the harness's clock, as the monotonic seconds WeCom's windows count in
        return harness.clock().timestamp()

    async with FakeWeCom(clock=seconds, members=["zhangsan", "lisi", "coordinator"]) as wecom, ClientSession() as session:
        api = WeComApi(
            session=session,
            corp_id=wecom.corp_id,
            agent_id=wecom.agent_id,
            secret=wecom.secret,
            base_url=wecom.url,
            clock=seconds,
        )
        pacer = MemberPacer(clock=seconds)
        yield WeComWorld(wecom, api, pacer, WeComTransport(api, pacer, pacing=TEST_PACING), seconds)


def wecom_sender(harness: BotHarness, world: WeComWorld, *, name: str = "wecom") -> OutboxSender:
    """The WeCom sender ``surveybot run`` is to build (fast overall pacing for the tests)."""
    return OutboxSender(
        database=database_of(harness),
        transport=world.transport,
        clock=harness.clock,
        settings=FAST,
        name=name,
        composer=OutboxComposer(surveys=harness.surveys),
    )


async def bind_wecom(harness: BotHarness, unit_name: str, userid: str, name: str) -> None:
    """A WeCom member bound to a unit (as the invitation token or ``invite --wecom-user`` does)."""
    async with database_of(harness).transaction() as session:
        unit = await get_unit(session=session, campaign=harness.campaign_id, name=unit_name)
        respondent = await get_or_create_respondent(
            session=session,
            channel=WECOM,
            external_id=userid,
            display_name=name,
            language="zh-hans",
            now=harness.clock(),
        )
        await bind_respondent(session=session, respondent=respondent, unit=unit)


async def broadcast(harness: BotHarness, text: str) -> int:
    """A confirmed broadcast of a process that sends through Telegram and WeCom."""
    async with database_of(harness).transaction() as session:
        batch, _ = await create_batch(
            session=session,
            campaign_id=harness.campaign_id,
            kind=OutboxKind.BROADCAST,
            key=f"broadcast:{uuid.uuid4().hex}",
            status=OutboxBatchStatus.ACTIVE,
            body=text,
            now=harness.clock(),
        )
        audience = await broadcast_audience(session=session, campaign_id=harness.campaign_id, channels=CHANNELS)
        await enqueue_messages(session=session, batch=batch, respondent_ids=audience.respondent_ids, now=harness.clock())
        return batch.id


async def wait_until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.02)


async def test_scheduled_reminder__reaches_the_wecom_member_once_off_the_busy_minute_and_telegram_at_once(
    harness: BotHarness, world: WeComWorld
) -> None:
    telegram_user = await join(harness, "崇川区", 9201, "王芳")
    await bind_wecom(harness, "海门区", "zhangsan", "张三")
    harness.clock.now = SLOT_3D + timedelta(seconds=5)  # 17:00:05 in Shanghai: a :00 minute
    worker = ReminderWorker(
        database=database_of(harness),
        senders=[sender_for(harness), wecom_sender(harness, world)],
        clock=harness.clock,
        tick_interval=0.05,
        poll_interval=0.05,
    )
    worker.start()
    try:
        await wait_until(lambda: any("崇川区：已答 0/" in (m.text or "") for m in telegram_user.messages))  # not held
        await asyncio.sleep(0.5)
        assert world.wecom.messages_to("zhangsan") == []  # WeCom waits for 17:01
        harness.clock.now = SLOT_3D + timedelta(minutes=1)
        await wait_until(lambda: world.wecom.messages_to("zhangsan"))
        await asyncio.sleep(0.3)  # nothing more comes
    finally:
        await worker.stop()

    [message] = world.wecom.messages_to("zhangsan")
    assert message.msgtype == "text"
    text = message.content or ""
    assert text.startswith("⏰ 填报提醒：《南通市全民科学素质行动规划")
    assert "截止时间：2026-12-15 17:00（UTC+08:00）" in text
    assert "海门区：已答 0/" in text and "崇川区" not in text
    assert "回复“继续填写”" in text
    assert world.wecom.dropped == []
    assert await statuses(harness, channel=WECOM) == {"zhangsan": DeliveryStatus.SENT}
    async with database_of(harness).read() as session:
        [row] = (await session.scalars(select(OutboxMessage).join(Respondent).where(Respondent.channel == WECOM))).all()
    assert row.provider_message_id == message.msgid
    assert row.sent_at is not None and row.sent_at.minute == 1 and row.sent_at.hour == SLOT_3D.hour


async def test_busy_minute__a_reminder_off_the_minute_goes_at_once(harness: BotHarness, world: WeComWorld) -> None:
    await bind_wecom(harness, "海门区", "zhangsan", "张三")
    harness.clock.now = SLOT_3D + timedelta(minutes=7)  # the scheduler ticks late: 17:07 is not busy
    sender = wecom_sender(harness, world)
    worker = ReminderWorker(database=database_of(harness), senders=[sender], clock=harness.clock)
    await worker.scheduler.tick()
    await sender.drain()
    assert len(world.wecom.messages_to("zhangsan")) == 1


async def test_access_token_refused__refreshed_and_the_reminder_sent_once(harness: BotHarness, world: WeComWorld) -> None:
    await bind_wecom(harness, "海门区", "zhangsan", "张三")
    await bind_wecom(harness, "通州区", "lisi", "李四")
    first = await broadcast(
        harness,
        "第一条通知",
    )
    await wecom_sender(harness, world).drain(batch_id=first)
    assert world.wecom.gettoken_calls == 1
    world.wecom.fail_next("message/send", 40014)  # WeCom invalidated the token early
    world.wecom.fail_next("message/send", 42001, after=1)  # and later it expired
    second = await broadcast(harness, "第二条通知")
    stats = await wecom_sender(harness, world).drain(batch_id=second)

    assert stats.sent == 2 and stats.retried == 0
    assert world.wecom.gettoken_calls == 3  # one new token for each refusal
    for userid in ("zhangsan", "lisi"):
        assert [t for t in world.wecom.texts_to(userid) if t and "第二条通知" in t] == ["📢 南通中期评估\n\n第二条通知"]


async def test_access_token__fetched_again_before_it_expires_without_a_refusal(harness: BotHarness, world: WeComWorld) -> None:
    await bind_wecom(harness, "海门区", "zhangsan", "张三")
    await wecom_sender(harness, world).drain(batch_id=await broadcast(harness, "第一条"))
    harness.clock.now += timedelta(seconds=7200 - 200)  # the token has 200 s left: inside the 5-minute margin
    await wecom_sender(harness, world).drain(batch_id=await broadcast(harness, "第二条"))
    assert world.wecom.gettoken_calls == 2
    assert world.wecom.errors == []  # never refused: refreshed ahead of expiry
    assert len(world.wecom.messages_to("zhangsan")) == 2


async def test_rate_limited__backs_off_and_the_message_still_arrives_once(harness: BotHarness, world: WeComWorld) -> None:
    await bind_wecom(harness, "海门区", "zhangsan", "张三")
    world.wecom.fail_next("message/send", 45009)
    batch = await broadcast(harness, "请于周五前提交")
    sender = wecom_sender(harness, world)
    stats = await sender.drain(batch_id=batch)
    assert stats.flood_waits == 1 and stats.sent == 0  # 60 s is too long to wait in place: back to pending
    assert world.wecom.messages_to("zhangsan") == []
    async with database_of(harness).read() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.batch_id == batch))
    assert row is not None and row.status is DeliveryStatus.PENDING and row.attempts == 0
    assert row.next_attempt_at - harness.clock() == timedelta(seconds=60)

    harness.clock.now += timedelta(seconds=61)
    await wecom_sender(harness, world, name="later").drain(batch_id=batch)
    assert world.wecom.texts_to("zhangsan") == ["📢 南通中期评估\n\n请于周五前提交"]
    assert await statuses(harness, channel=WECOM) == {"zhangsan": DeliveryStatus.SENT}


async def test_pacing__forty_broadcasts_to_one_member_are_spread_and_none_is_dropped(
    harness: BotHarness, world: WeComWorld
) -> None:
    await bind_wecom(harness, "海门区", "zhangsan", "张三")
    for n in range(40):
        await broadcast(harness, f"通知 {n + 1}")
    sender = wecom_sender(harness, world)
    first = await sender.drain()

    per_minute = 30 - REPLY_RESERVE
    assert first.sent == per_minute and first.deferred == 40 - per_minute
    assert len(world.wecom.messages_to("zhangsan")) == per_minute
    harness.clock.now += timedelta(seconds=30)
    assert (await sender.drain()).sent == 0  # the minute is not over: nothing is due yet
    harness.clock.now += timedelta(seconds=31)
    second = await sender.drain()
    assert second.sent == 40 - per_minute

    assert world.wecom.dropped == []
    texts = world.wecom.texts_to("zhangsan")
    assert sorted(texts, key=lambda t: int((t or "").rsplit(" ", 1)[1])) == [
        f"📢 南通中期评估\n\n通知 {n + 1}" for n in range(40)
    ]
    assert set((await statuses(harness, channel=WECOM)).values()) == {DeliveryStatus.SENT}


async def test_reply_reserve__a_member_is_answered_at_once_in_the_middle_of_a_burst(
    harness: BotHarness, world: WeComWorld
) -> None:
    await bind_wecom(harness, "海门区", "zhangsan", "张三")
    for n in range(30):
        await broadcast(harness, f"通知 {n + 1}")
    await wecom_sender(harness, world).drain()
    assert len(world.wecom.messages_to("zhangsan")) == 30 - REPLY_RESERVE

    # The member writes; the conversation answers through the same pacer, with no reserve.
    for n in range(REPLY_RESERVE):
        decision = world.pacer.decide("zhangsan")
        assert decision.send_now
        assert isinstance(await world.api.send_text("zhangsan", f"回复 {n}"), Succeeded)
        world.pacer.record_sent("zhangsan")
    assert not world.pacer.decide("zhangsan").send_now  # now the minute is full, and nothing was dropped
    assert world.wecom.dropped == []
    assert world.wecom.texts_to("zhangsan")[-REPLY_RESERVE:] == [f"回复 {n}" for n in range(REPLY_RESERVE)]


async def test_long_broadcast__split_under_2048_bytes_each_part_counted(harness: BotHarness, world: WeComWorld) -> None:
    await bind_wecom(harness, "海门区", "zhangsan", "张三")
    body = "\n".join(f"第{n}条：请各单位核对本单位填报的数据并于周五前提交。" for n in range(60))
    batch = await broadcast(harness, body)
    await wecom_sender(harness, world).drain(batch_id=batch)
    texts = [t or "" for t in world.wecom.texts_to("zhangsan")]
    assert len(texts) >= 2 and all(len(t.encode()) <= 2048 for t in texts)
    assert "\n".join(texts) == f"📢 南通中期评估\n\n{body}"
    assert world.pacer.sent_in_last_hour("zhangsan") == len(texts)


async def test_split_text_failing_midway__the_retry_sends_only_the_rest(harness: BotHarness, world: WeComWorld) -> None:
    await bind_wecom(harness, "海门区", "zhangsan", "张三")
    body = "\n".join(f"第{n}条：请各单位核对本单位填报的数据并于周五前提交。" for n in range(60))
    world.wecom.fail_http_next("message/send", 502, after=1)
    batch = await broadcast(harness, body)
    sender = wecom_sender(harness, world)
    await sender.drain(batch_id=batch)
    assert len(world.wecom.messages_to("zhangsan")) == 1
    harness.clock.now += timedelta(seconds=11)  # the first backoff
    await sender.drain(batch_id=batch)
    texts = [t or "" for t in world.wecom.texts_to("zhangsan")]
    assert "\n".join(texts) == f"📢 南通中期评估\n\n{body}"  # each part once


async def test_member_outside_the_app__unreachable_in_status_and_progress(harness: BotHarness, world: WeComWorld) -> None:
    await bind_wecom(harness, "海门区", "wangwu", "王五")  # not in the app's visible range
    await bind_wecom(harness, "通州区", "zhangsan", "张三")
    harness.clock.now = SLOT_1D + timedelta(minutes=1)
    sender = wecom_sender(harness, world)
    worker = ReminderWorker(database=database_of(harness), senders=[sender], clock=harness.clock)
    await worker.scheduler.tick()
    stats = await sender.drain()
    assert stats.sent == 1 and stats.unreachable == 1
    assert await statuses(harness, channel=WECOM) == {"wangwu": DeliveryStatus.UNREACHABLE, "zhangsan": DeliveryStatus.SENT}
    async with database_of(harness).read() as session:
        wangwu = await session.scalar(select(Respondent).where(Respondent.external_id == "wangwu"))
    assert wangwu is not None and wangwu.unreachable and wangwu.unreachable_since is not None
    assert "81013" in (wangwu.unreachable_reason or "")


async def test_coordinator_summary_goes_to_wecom_as_text(world: WeComWorld) -> None:
    result = await world.transport.send_text("coordinator", "#1 南通中期评估 通知发送完毕：已发送 2")
    assert isinstance(result, Sent)
    assert world.wecom.texts_to("coordinator") == ["#1 南通中期评估 通知发送完毕：已发送 2"]
    assert isinstance(await world.transport.edit_text("coordinator", result.provider_message_id, "x"), Sent)


async def test_channels__each_respondent_gets_the_broadcast_on_its_own_channel(harness: BotHarness, world: WeComWorld) -> None:
    telegram_user = await join(harness, "崇川区", 9201, "王芳")
    await bind_wecom(harness, "海门区", "zhangsan", "张三")
    batch = await broadcast(harness, "明天开会")
    await sender_for(harness).drain(batch_id=batch)
    await wecom_sender(harness, world).drain(batch_id=batch)
    assert [m.text for m in telegram_user.messages][-1] == "📢 南通中期评估\n\n明天开会"
    assert world.wecom.texts_to("zhangsan") == ["📢 南通中期评估\n\n明天开会"]
    assert world.wecom.messages_to("wangfang") == []


async def test_coordinator_in_wecom__gets_the_summary_of_a_broadcast_with_the_unreachable_named(
    harness: BotHarness, world: WeComWorld
) -> None:
    await bind_wecom(harness, "海门区", "zhangsan", "张三")
    await bind_wecom(harness, "通州区", "wangwu", "王五")  # outside the app's visible range
    async with database_of(harness).transaction() as session:
        batch, _ = await create_batch(
            session=session,
            campaign_id=harness.campaign_id,
            kind=OutboxKind.BROADCAST,
            key=f"broadcast:{uuid.uuid4().hex}",
            status=OutboxBatchStatus.DRAFT,
            body="明天开会",
            requested_channel=WECOM,
            requested_by="coordinator",
            language="zh",
            now=harness.clock(),
        )
        audience = await broadcast_audience(session=session, campaign_id=harness.campaign_id, channels=CHANNELS)
        await activate_batch(
            session=session,
            batch=batch,
            respondent_ids=audience.respondent_ids,
            now=harness.clock(),
            status_chat_id="coordinator",
            status_message_id="status-1",
        )
    await wecom_sender(harness, world).drain()

    [summary] = world.wecom.texts_to("coordinator")
    assert summary is not None
    assert summary.startswith(f"#{harness.campaign_id} 南通中期评估 通知发送完毕：已发送 1，失败 0，无法送达 1")
    assert "王五" in summary and "通州区" in summary
