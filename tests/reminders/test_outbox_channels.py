"""Two channels, one outbox: each channel's rows go through its own transport, none is skipped.

Beside Telegram's transport (the real PTB Bot against the fake Bot API) runs a
small transport for a made-up "email" channel, whose recipients are stored in
the database like any respondent. It records what it is given and answers
what the test scripts: the outbox sender must treat its rate-limited,
unreachable, rejected and transient answers as it treats Telegram's 429, 403,
400 and network errors.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.coordination import CoordinatorService
from bot.outbox_compose import BroadcastContent, ReminderContent
from bot.outbox_sender import OutboxSender, SenderSettings
from bot.outbox_transport import OutboxContent, RateLimited, Rejected, SendResult, Sent, Transient, Unreachable
from bot.outreach import ConfirmOutcome, OutreachService, Preview
from bot.pacing import PacingPolicy
from bot.reminder_worker import ReminderWorker
from bot.service import ChannelUser
from storage.coordinators import add_coordinator
from storage.models import DeliveryStatus, OutboxBatch, OutboxBatchStatus, OutboxKind, OutboxMessage, Respondent
from storage.respondents import bind_respondent, get_or_create_respondent
from storage.rosters import get_unit
from tests.reminders.conftest import (
    FAST,
    SLOT_3D,
    database_of,
    join,
    make_coordinator,
    scheduler_for,
    sender_for,
    statuses,
)
from tests.telegram.conftest import BotHarness

EMAIL = "email"
EMAIL_COORDINATOR = "coordinator@nantong.example.cn"
EMAIL_STATUS_MESSAGE = "<status-1@nantong.example.cn>"


@dataclass
class FakeEmailTransport:
    """A made-up e-mail channel: records what it sends; a recipient's scripted answers come first."""

    channel: str = EMAIL
    pacing: PacingPolicy = field(default_factory=lambda: PacingPolicy(rate=500.0, per_recipient_interval=0.0))
    max_text_length: int = 2000
    #: Recipient, content and message id of every message delivered.
    delivered: list[tuple[str, OutboxContent, str]] = field(default_factory=list)
    #: Recipient of every send tried, in order.
    tried: list[str] = field(default_factory=list)
    #: Plain texts (the coordinator's summary) and status edits.
    texts: list[tuple[str, str]] = field(default_factory=list)
    edits: list[tuple[str, str, str]] = field(default_factory=list)
    answers: dict[str, list[SendResult]] = field(default_factory=dict)

    def script(self, recipient: str, *answers: SendResult) -> None:
        self.answers.setdefault(recipient, []).extend(answers)

    def received(self, recipient: str) -> list[OutboxContent]:
        return [content for to, content, _ in self.delivered if to == recipient]

    async def send(self, recipient: str, content: OutboxContent) -> SendResult:
        self.tried.append(recipient)
        scripted = self.answers.get(recipient)
        if scripted:
            return scripted.pop(0)
        message_id = f"<{len(self.delivered) + 1}@mail.example.cn>"
        self.delivered.append((recipient, content, message_id))
        return Sent(message_id)

    async def send_text(self, recipient: str, text: str) -> SendResult:
        self.texts.append((recipient, text))
        return Sent(f"<text-{len(self.texts)}@mail.example.cn>")

    async def edit_text(self, recipient: str, message_id: str, text: str) -> SendResult:
        self.edits.append((recipient, message_id, text))
        return Sent(message_id)


def email_sender(
    harness: BotHarness, transport: FakeEmailTransport, *, settings: SenderSettings = FAST
) -> OutboxSender:
    return OutboxSender(
        database=database_of(harness), transport=transport, clock=harness.clock, settings=settings, name="email-sender"
    )


async def bind_email(harness: BotHarness, unit_name: str, address: str, name: str) -> str:
    """A respondent of the e-mail channel, bound to a unit (as an e-mail invitation would do)."""
    async with database_of(harness).transaction() as session:
        respondent = await get_or_create_respondent(
            session=session, channel=EMAIL, external_id=address, display_name=name, language="zh-hans",
            now=harness.clock(),
        )
        unit = await get_unit(session=session, campaign=harness.campaign_id, name=unit_name)
        await bind_respondent(session=session, respondent=respondent, unit=unit)
    return address


async def rows_of(harness: BotHarness, channel: str) -> dict[str, OutboxMessage]:
    """External id → its outbox row, for one channel's recipients."""
    async with database_of(harness).read() as session:
        rows = await session.execute(
            select(Respondent.external_id, OutboxMessage)
            .join(Respondent, Respondent.id == OutboxMessage.respondent_id)
            .where(Respondent.channel == channel)
        )
        return {external_id: row for external_id, row in rows}


async def batch_status(harness: BotHarness, batch_id: int) -> OutboxBatchStatus:
    async with database_of(harness).read() as session:
        batch = await session.get(OutboxBatch, batch_id)
        assert batch is not None
        return batch.status


def outreach_for(harness: BotHarness) -> OutreachService:
    """The coordinators' service of a process that sends through Telegram and e-mail."""
    return OutreachService(
        database=database_of(harness),
        coordination=CoordinatorService(database=database_of(harness), settings=harness.settings),
        clock=harness.clock,
        outbox_channels=("telegram", EMAIL),
    )


async def confirm_broadcast(
    harness: BotHarness, coordinator: ChannelUser, text: str, *, status_chat_id: str, status_message_id: str
) -> int:
    """A coordinator's confirmed broadcast, its status message given; returns the batch id."""
    outreach = outreach_for(harness)
    preview = await outreach.prepare(
        user=coordinator, kind=OutboxKind.BROADCAST, campaign_id=harness.campaign_id, language="zh", body=text
    )
    assert isinstance(preview, Preview) and preview.batch_id is not None
    confirmation = await outreach.confirm(
        user=coordinator, batch_id=preview.batch_id, status_chat_id=status_chat_id, status_message_id=status_message_id
    )
    assert confirmation.outcome is ConfirmOutcome.STARTED
    return preview.batch_id


async def test_broadcast_to_two_channels__each_channel_sends_its_own_rows_and_none_is_skipped(
    harness: BotHarness,
) -> None:
    wang = await join(harness, "崇川区", 9201, "王芳")
    li = await join(harness, "通州区", 9202, "李雷")
    zhang = await bind_email(harness, "海门区", "zhangwei@haimen.example.cn", "张伟")
    chen = await bind_email(harness, "崇川区", "chenjing@chongchuan.example.cn", "陈静")
    coordinator = await make_coordinator(harness)  # on Telegram
    assert harness.application is not None
    status = await harness.application.bot.send_message(chat_id=coordinator.id, text="确认发送吗？")
    batch_id = await confirm_broadcast(
        harness, ChannelUser(channel="telegram", external_id=str(coordinator.id)), "请于周五前寄出盖章纸质表。",
        status_chat_id=str(coordinator.id), status_message_id=str(status.message_id),
    )
    email = FakeEmailTransport()
    telegram_sender, email_sender_ = sender_for(harness), email_sender(harness, email)
    assert await telegram_sender.has_work() and await email_sender_.has_work()

    telegram_stats = await telegram_sender.drain()

    # Telegram's sender sent Telegram's rows and left the e-mail rows alone: not skipped, not claimed.
    assert (telegram_stats.sent, telegram_stats.skipped, telegram_stats.failed) == (2, 0, 0)
    for user in (wang, li):
        assert [m.text for m in user.messages if (m.text or "").startswith("📢")] == [
            "📢 南通中期评估\n\n请于周五前寄出盖章纸质表。"
        ]
    email_rows = await rows_of(harness, EMAIL)
    assert {row.status for row in email_rows.values()} == {DeliveryStatus.PENDING}
    assert all(row.claimed_by is None and row.error is None for row in email_rows.values())
    assert not await telegram_sender.has_work() and await email_sender_.has_work()
    assert email.tried == []
    assert "已发送 2/4" in (coordinator.message(status.message_id).text or "")  # counts cover both channels
    assert await batch_status(harness, batch_id) is OutboxBatchStatus.ACTIVE

    email_stats = await email_sender_.drain()

    assert (email_stats.sent, email_stats.skipped, email_stats.failed) == (2, 0, 0)
    assert sorted(email.tried) == sorted([zhang, chen])
    for address in (zhang, chen):
        [content] = email.received(address)
        assert isinstance(content, BroadcastContent)
        assert replace(content, context=None) == BroadcastContent(
            language="zh", campaign_title="南通中期评估", body="请于周五前寄出盖章纸质表。"
        )
        # E-mail carries the unit's progress and personal link (Telegram's content has none).
        assert content.context is not None and all(line.link_token for line in content.context.units)
    # Each row carries the id its own channel gave the message.
    email_rows = await rows_of(harness, EMAIL)
    assert {address: row.provider_message_id for address, row in email_rows.items()} == {
        to: message_id for to, _, message_id in email.delivered
    }
    telegram_rows = await rows_of(harness, "telegram")
    for user in (wang, li):
        [message] = [m for m in user.messages if (m.text or "").startswith("📢")]
        assert telegram_rows[str(user.id)].provider_message_id == str(message.message_id)
    assert set((await statuses(harness)).values()) == set((await statuses(harness, channel=EMAIL)).values()) == {
        DeliveryStatus.SENT
    }
    # The coordinator is on Telegram: the e-mail sender carries none of the batch's feedback.
    await email_sender_.report()
    assert (email.texts, email.edits) == ([], [])
    assert await batch_status(harness, batch_id) is OutboxBatchStatus.ACTIVE
    await telegram_sender.report()
    assert await batch_status(harness, batch_id) is OutboxBatchStatus.DONE
    assert "通知发送完毕：已发送 4，失败 0，无法送达 0，已跳过 0" in (coordinator.messages[-1].text or "")
    assert coordinator.message(status.message_id).text == f"✅ #{harness.campaign_id} 南通中期评估 通知：发送完成，已发送 4/4"


async def test_fake_transport_answers__give_the_rows_and_summary_telegrams_429_403_400_and_network_errors_give(
    harness: BotHarness,
) -> None:
    flooded = await bind_email(harness, "崇川区", "wangfang@chongchuan.example.cn", "王芳")
    gone = await bind_email(harness, "通州区", "lilei@tongzhou.example.cn", "李雷")
    bad = await bind_email(harness, "海门区", "zhangwei@haimen", "张伟")
    flaky = await bind_email(harness, "崇川区", "chenjing@chongchuan.example.cn", "陈静")
    telegram_user = await join(harness, "通州区", 9202, "赵敏")
    email = FakeEmailTransport()
    email.script(flooded, RateLimited(retry_after=1.0))
    email.script(gone, Unreachable("mailbox disabled"))
    email.script(bad, Rejected("550 5.1.2 bad destination host"))
    email.script(flaky, *[Transient("SMTPServerDisconnected: connection reset")] * 10)
    # The coordinator works on the e-mail channel: its transport carries the batch's feedback.
    async with database_of(harness).transaction() as session:
        await add_coordinator(session=session, channel=EMAIL, external_id=EMAIL_COORDINATOR)
    batch_id = await confirm_broadcast(
        harness, ChannelUser(channel=EMAIL, external_id=EMAIL_COORDINATOR, display_name="协调人"), "请周五前提交",
        status_chat_id=EMAIL_COORDINATOR, status_message_id=EMAIL_STATUS_MESSAGE,
    )
    sender = email_sender(harness, email, settings=replace(FAST, max_attempts=3, backoff_seconds=(10.0, 60.0)))

    loop = asyncio.get_running_loop()
    started = loop.time()
    stats = await sender.drain()

    # rate_limited: every send waited retry_after, then the same row went again (a 429).
    assert loop.time() - started >= 1.0
    assert (stats.sent, stats.flood_waits, stats.unreachable, stats.failed, stats.retried) == (1, 1, 1, 1, 1)
    assert email.tried.count(flooded) == 2 and [to for to, _, _ in email.delivered] == [flooded]
    rows = await rows_of(harness, EMAIL)
    assert (rows[flooded].status, rows[flooded].attempts) == (DeliveryStatus.SENT, 0)  # a rate limit is no failed attempt
    # unreachable: the row and the respondent (a 403).
    assert (rows[gone].status, rows[gone].error) == (DeliveryStatus.UNREACHABLE, "mailbox disabled")
    async with database_of(harness).read() as session:
        respondent = await session.scalar(select(Respondent).where(Respondent.external_id == gone))
    assert respondent is not None and respondent.unreachable and respondent.unreachable_reason == "mailbox disabled"
    # rejected: failed at once with the reason (a 400).
    assert (rows[bad].status, rows[bad].error) == (DeliveryStatus.FAILED, "550 5.1.2 bad destination host")
    # transient: pending again with a backoff, failed after max_attempts (a network error).
    assert (rows[flaky].status, rows[flaky].attempts) == (DeliveryStatus.PENDING, 1)
    harness.clock.now += timedelta(seconds=9)
    assert (await sender.drain()).retried == 0  # not due yet
    harness.clock.now += timedelta(seconds=1)
    assert (await sender.drain()).retried == 1
    harness.clock.now += timedelta(seconds=60)
    assert (await sender.drain()).failed == 1
    rows = await rows_of(harness, EMAIL)
    assert rows[flaky].status is DeliveryStatus.FAILED
    assert rows[flaky].error == "SMTPServerDisconnected: connection reset (after 3 attempts)"

    # The status message was edited through the e-mail transport as it went.
    assert email.edits and {(to, message_id) for to, message_id, _ in email.edits} == {
        (EMAIL_COORDINATOR, EMAIL_STATUS_MESSAGE)
    }
    progress = f"📤 #{harness.campaign_id} 南通中期评估 通知：已发送 1/5（失败 1，无法送达 1，已跳过 0）"
    assert progress in [text for _, _, text in email.edits]
    # The Telegram row is Telegram's to send; its sender does not close the batch of an e-mail coordinator.
    telegram_sender = sender_for(harness)
    assert (await telegram_sender.drain()).sent == 1
    assert sum("请周五前提交" in (m.text or "") for m in telegram_user.messages) == 1
    assert email.texts == []
    assert await batch_status(harness, batch_id) is OutboxBatchStatus.ACTIVE

    await sender.report()

    assert await batch_status(harness, batch_id) is OutboxBatchStatus.DONE
    assert email.edits[-1][2] == (
        f"✅ #{harness.campaign_id} 南通中期评估 通知：发送完成，已发送 2/5（失败 2，无法送达 1，已跳过 0）"
    )
    [(to, summary)] = email.texts
    assert to == EMAIL_COORDINATOR
    assert summary == (
        f"#{harness.campaign_id} 南通中期评估 通知发送完毕：已发送 2，失败 2，无法送达 1，已跳过 0（单位已提交等）。\n\n"
        "发送失败（2）：\n"
        "崇川区 · 陈静：SMTPServerDisconnected: connection reset (after 3 attempts)\n"
        "海门区 · 张伟：550 5.1.2 bad destination host\n\n"
        "无法送达（1，已屏蔽机器人或账号注销）：\n通州区 · 李雷"
    )


async def test_worker__runs_a_sender_per_channel_and_each_delivers_the_scheduled_reminder(harness: BotHarness) -> None:
    user = await join(harness, "崇川区", 9201, "王芳")
    address = await bind_email(harness, "海门区", "zhangwei@haimen.example.cn", "张伟")
    email = FakeEmailTransport()
    harness.clock.now = SLOT_3D
    worker = ReminderWorker(
        database=database_of(harness),
        senders=[sender_for(harness), email_sender(harness, email)],
        clock=harness.clock,
        tick_interval=0.05,
        poll_interval=0.05,
    )
    worker.start()
    try:
        await harness.fake.wait_until(lambda: any("填报提醒" in (m.text or "") for m in user.messages), timeout=5)
        await harness.fake.wait_until(lambda: bool(email.delivered), timeout=5)
    finally:
        await asyncio.wait_for(worker.stop(), 5)

    [content] = email.received(address)
    assert isinstance(content, ReminderContent)
    assert [(line.unit, line.answered) for line in content.units] == [("海门区", 0)]
    assert sum("填报提醒" in (m.text or "") for m in user.messages) == 1
    assert set((await statuses(harness)).values()) == set((await statuses(harness, channel=EMAIL)).values()) == {
        DeliveryStatus.SENT
    }
    assert await scheduler_for(harness).tick() == []  # the slot was sent once

    with pytest.raises(ValueError, match="one outbox sender per channel"):
        ReminderWorker(database=database_of(harness), senders=[sender_for(harness), sender_for(harness)])
