"""The WeCom group digest: one markdown post per reminder slot to the campaign's group robot, with mentions.

Real reminder workers (the scheduler and the digest as their follower) run
against one database and the fake WeCom server's webhook/send; what is
asserted is what the group received (``robot_posts``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import ClientSession
from sqlalchemy import select

from bot.reminder_worker import ReminderWorker
from handlers.wecom.api import WeComApi
from handlers.wecom.group_digest import ROBOT_MARKDOWN_LIMIT_BYTES, ROBOT_PER_MINUTE, GroupDigest, compose_digest
from storage.campaigns import get_campaign
from storage.group_digests import PendingUnit, claim_new_digest
from storage.models import OutboxBatchStatus, OutboxKind, WeComGroupDigest
from storage.outbox import create_batch
from storage.rosters import get_unit
from tests.fakes.wecom import FakeWeCom
from tests.reminders.conftest import SLOT_1D, SLOT_3D, database_of, join, sender_for, submit_unit
from tests.telegram.conftest import BotHarness

ROBOT_KEY = "693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa"
MOBILES = {"崇川区": "13812345678", "海门区": "13987654321"}


@dataclass
class DigestWorld:
    wecom: FakeWeCom
    api: WeComApi
    seconds: Callable[[], float]


@pytest.fixture
async def world(harness: BotHarness) -> AsyncIterator[DigestWorld]:
    def seconds() -> float:
        return harness.clock().timestamp()

    async with FakeWeCom(clock=seconds, robot_keys=[ROBOT_KEY]) as wecom, ClientSession() as session:
        api = WeComApi(
            session=session,
            corp_id=wecom.corp_id,
            agent_id=wecom.agent_id,
            secret=wecom.secret,
            base_url=wecom.url,
            clock=seconds,
        )
        yield DigestWorld(wecom, api, seconds)


async def set_up_group(harness: BotHarness, world: DigestWorld, *, mobiles: dict[str, str] = MOBILES) -> None:
    """The campaign's webhook, and its units' mobile numbers (as the roster gives them)."""
    async with database_of(harness).transaction() as session:
        campaign = await get_campaign(session=session, campaign_id=harness.campaign_id)
        campaign.wecom_group_webhook = world.wecom.robot_url(ROBOT_KEY)
        for name, mobile in mobiles.items():
            (await get_unit(session=session, campaign=campaign, name=name)).contact_mobile = mobile


def digest(harness: BotHarness, world: DigestWorld, name: str) -> GroupDigest:
    return GroupDigest(database=database_of(harness), api=world.api, clock=harness.clock, monotonic=world.seconds, name=name)


async def test_digest__posted_once_per_slot_with_mentions_by_two_workers(harness: BotHarness, world: DigestWorld) -> None:
    await join(harness, "崇川区", 9201, "王芳")
    await set_up_group(harness, world)
    await submit_unit(harness, "通州区")
    workers = [
        ReminderWorker(
            database=database_of(harness),
            senders=[sender_for(harness, name=f"tg{n}")],
            followers=[digest(harness, world, f"process-{n}")],
            clock=harness.clock,
            tick_interval=0.05,
        )
        for n in range(2)
    ]
    harness.clock.now = SLOT_3D + timedelta(minutes=1)
    for worker in workers:
        worker.start()
    try:
        await asyncio.sleep(1.0)  # some twenty ticks of each
        harness.clock.now = SLOT_1D + timedelta(minutes=1)
        await asyncio.sleep(1.0)
    finally:
        for worker in workers:
            await worker.stop()

    posts = world.wecom.robot_posts
    assert [post.msgtype for post in posts] == ["markdown", "text", "markdown", "text"]  # two slots, once each
    markdown = posts[0].content
    assert markdown.startswith(
        '**⏰ 填报提醒：南通中期评估**\n截止时间：<font color="warning">2026-12-15 17:00（UTC+08:00）</font>'
    )
    assert "尚未提交：" in markdown and "> 崇川区" in markdown and "> 海门区" in markdown
    assert "通州区" not in markdown  # submitted
    assert posts[1].content == "请以上单位的填报人尽快填报。"
    assert sorted(posts[1].mentioned_mobile_list) == sorted(MOBILES.values())
    assert posts[2].content == markdown
    assert all(post.key == ROBOT_KEY for post in posts)


async def test_digest__without_mobiles_is_one_markdown_post(harness: BotHarness, world: DigestWorld) -> None:
    await set_up_group(harness, world, mobiles={})
    harness.clock.now = SLOT_3D + timedelta(minutes=1)
    worker = ReminderWorker(
        database=database_of(harness), senders=[], followers=[digest(harness, world, "p")], clock=harness.clock
    )
    await worker.scheduler.tick()
    assert await worker.followers[0].follow() == 1  # type: ignore[attr-defined]
    assert await worker.followers[0].follow() == 0  # type: ignore[attr-defined]
    [post] = world.wecom.robot_posts
    assert post.msgtype == "markdown" and post.mentioned_mobile_list == ()


async def test_digest__no_webhook_no_post(harness: BotHarness, world: DigestWorld) -> None:
    harness.clock.now = SLOT_3D + timedelta(minutes=1)
    worker = ReminderWorker(
        database=database_of(harness), senders=[], followers=[digest(harness, world, "p")], clock=harness.clock
    )
    await worker.scheduler.tick()
    assert await digest(harness, world, "p").follow() == 0
    assert world.wecom.robot_posts == []


async def test_digest__rate_limited_robot_backs_off_and_posts_once(harness: BotHarness, world: DigestWorld) -> None:
    await set_up_group(harness, world, mobiles={})
    world.wecom.fail_next("webhook/send", 45009)
    harness.clock.now = SLOT_3D + timedelta(minutes=1)
    worker = ReminderWorker(database=database_of(harness), senders=[], clock=harness.clock)
    await worker.scheduler.tick()
    poster = digest(harness, world, "p")
    assert await poster.follow() == 0
    assert await digest(harness, world, "other").follow() == 0  # not due yet for anyone
    harness.clock.now += timedelta(seconds=61)
    assert await digest(harness, world, "other").follow() == 1
    assert await poster.follow() == 0
    assert len(world.wecom.robot_posts) == 1


async def test_digest__paced_under_twenty_a_minute_per_robot(harness: BotHarness, world: DigestWorld) -> None:
    await set_up_group(harness, world, mobiles={})
    harness.clock.now = SLOT_3D + timedelta(minutes=1)
    async with database_of(harness).transaction() as session:
        for n in range(25):  # 25 slots of the campaign at once (as 25 campaigns sharing one group would be)
            await create_batch(
                session=session,
                campaign_id=harness.campaign_id,
                kind=OutboxKind.REMINDER,
                key=f"reminder@2026-12-12T09:{n:02d}:00Z",
                status=OutboxBatchStatus.ACTIVE,
                now=harness.clock(),
            )
    poster = digest(harness, world, "p")
    assert await poster.follow() == ROBOT_PER_MINUTE
    harness.clock.now += timedelta(seconds=61)
    assert await poster.follow() == 25 - ROBOT_PER_MINUTE
    assert len(world.wecom.robot_posts) == 25
    assert world.wecom.errors == []  # the robot never answered 45009


def test_compose__a_long_roster_is_cut_under_4096_bytes_with_a_count() -> None:
    pending = [PendingUnit(f"南通市第{n}中心小学科学技术协会分会", f"138{n:08d}") for n in range(300)]
    text = compose_digest(
        campaign_title="南通中期评估", deadline=datetime(2026, 12, 15, 17, 0, tzinfo=UTC), pending=pending, total=320
    )
    size = len(text.markdown.encode("utf-8"))
    assert 3500 < size <= ROBOT_MARKDOWN_LIMIT_BYTES
    listed = text.markdown.count("\n> 南通市第")
    assert text.markdown.endswith(f"> ……另有 {300 - listed} 个单位未提交")
    assert "尚未提交：300/320 个单位" in text.markdown
    assert len(text.mobiles) == listed  # only the units shown are mentioned


def test_compose__markdown_in_names_is_neutralised() -> None:
    text = compose_digest(
        campaign_title="**活动**",
        deadline=datetime(2026, 12, 15, 17, 0, tzinfo=UTC),
        pending=[PendingUnit("<@all>[点我](http://x)", None)],
        total=1,
    )
    assert "<@all>" not in text.markdown and "[点我]" not in text.markdown


async def test_digest__left_posting_by_a_dead_process_is_failed_not_posted_twice(harness: BotHarness, world: DigestWorld) -> None:
    await set_up_group(harness, world, mobiles={})
    harness.clock.now = SLOT_3D + timedelta(minutes=1)
    worker = ReminderWorker(database=database_of(harness), senders=[], clock=harness.clock)
    [slot] = await worker.scheduler.tick()
    async with database_of(harness).transaction() as session:  # a process claimed it, then died mid-post
        assert await claim_new_digest(
            session=session, campaign_id=harness.campaign_id, slot_key=slot.slot.key, claimer="dead", now=harness.clock()
        )
    assert await digest(harness, world, "alive").follow() == 0
    harness.clock.now += timedelta(minutes=11)
    assert await digest(harness, world, "alive").follow() == 0
    assert world.wecom.robot_posts == []
    async with database_of(harness).read() as session:
        row = await session.scalar(select(WeComGroupDigest))
    assert row is not None and row.status == "failed" and "delivery unknown" in (row.error or "")
