"""Reminders and broadcasts reach a unit's contact e-mail through a real SMTP server (aiosmtpd on 127.0.0.1).

The e-mail transport (aiosmtplib) sends each message in one SMTP session; the
tests read what the server received: subject and body in Chinese, the unit's
progress and its personal web link (whose token opens the unit), exactly once
per slot; and what a refusal does (550: unreachable, shown in /status and the
进度 sheet; 451: retried).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.outbox_compose import OutboxComposer
from bot.outbox_sender import OutboxSender, SenderSettings
from bot.pacing import PacingPolicy
from bot.reminder_scheduler import ReminderScheduler
from exports import export_campaign
from handlers.email.outbox_transport import EmailTransport, SmtpServer
from storage.audience import broadcast_audience
from storage.contacts import add_email_contact
from storage.invitations import find_invitation
from storage.models import DeliveryStatus, OutboxBatchStatus, OutboxKind
from storage.outbox import create_batch, enqueue_messages
from storage.rosters import get_unit
from tests.fakes.smtp import SmtpServer as LocalSmtpServer
from tests.reminders.conftest import (
    FAST,
    SLOT_1D,
    SLOT_3D,
    database_of,
    join,
    make_coordinator,
    sender_for,
    statuses,
    submit_unit,
)
from tests.telegram.conftest import BotHarness, text_of

PUBLIC_URL = "https://survey.nantong.example.cn"
CHANNELS = ("telegram", "email")
LINK = re.compile(re.escape(PUBLIC_URL) + r"/s/([A-Za-z0-9_-]+)")


@pytest.fixture
def smtp() -> Iterator[LocalSmtpServer]:
    server = LocalSmtpServer()
    server.start()
    yield server
    server.stop()


def email_sender(
    harness: BotHarness, smtp: LocalSmtpServer, *, settings: SenderSettings = FAST, name: str = "mail"
) -> OutboxSender:
    """The e-mail sender ``surveybot run`` builds, against the local server (fast pacing for the tests)."""
    transport = EmailTransport(
        SmtpServer(host="127.0.0.1", port=smtp.port, sender="南通评估 <surveybot@nantong.example.cn>", starttls=False),
        public_url=PUBLIC_URL,
        pacing=PacingPolicy(rate=200.0, per_recipient_interval=0.0),
    )
    return OutboxSender(
        database=database_of(harness),
        transport=transport,
        clock=harness.clock,
        settings=settings,
        name=name,
        composer=OutboxComposer(surveys=harness.surveys),
    )


def scheduler(harness: BotHarness) -> ReminderScheduler:
    return ReminderScheduler(database=database_of(harness), clock=harness.clock, outbox_channels=CHANNELS)


async def add_contact(harness: BotHarness, unit_name: str, address: str) -> str:
    """The unit's contact e-mail, as ``surveybot invite --email`` stores it."""
    async with database_of(harness).transaction() as session:
        unit = await get_unit(session=session, campaign=harness.campaign_id, name=unit_name)
        respondent, _ = await add_email_contact(session=session, unit=unit, address=address)
        return respondent.external_id


async def broadcast(harness: BotHarness, text: str) -> int:
    """A confirmed broadcast of a process that sends through Telegram and e-mail."""
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


def body_of(message: EmailMessage) -> str:
    assert message.get_content_type() == "text/plain" and message.get_content_charset() == "utf-8"
    content = message.get_content()
    assert isinstance(content, str)
    return content


async def unit_of_link(harness: BotHarness, body: str) -> str:
    """The unit whose personal link the body carries (the token is a live invitation)."""
    [token] = LINK.findall(body)
    async with database_of(harness).read() as session:
        invitation = await find_invitation(session=session, token=token)
    assert invitation is not None and invitation.revoked_at is None
    return invitation.unit.name


async def test_scheduled_reminder__reaches_the_email_of_a_unit_not_submitted_once_with_its_link_and_progress(
    harness: BotHarness, smtp: LocalSmtpServer
) -> None:
    telegram_user = await join(harness, "崇川区", 9201, "王芳")
    haimen = await add_contact(harness, "海门区", "ZhangWei@Haimen.example.cn")
    tongzhou = await add_contact(harness, "通州区", "lilei@tongzhou.example.cn")
    harness.clock.now = SLOT_3D
    await scheduler(harness).tick()
    await submit_unit(harness, "通州区")  # after the reminder was queued: its e-mail is skipped at sending

    telegram_stats = await sender_for(harness).drain()
    email_stats = await email_sender(harness, smtp).drain()

    assert haimen == "zhangwei@haimen.example.cn"
    [message] = smtp.mailbox.messages
    assert message["To"] == haimen and smtp.mailbox.tried == [haimen]  # the submitted unit's address gets none
    assert (
        message["Subject"]
        == "填报提醒：《南通市全民科学素质行动规划（2021-2035年）》实施情况“十四五”中期评估（截止 2026-12-15 17:00）"
    )
    assert message["From"] == "南通评估 <surveybot@nantong.example.cn>"
    body = body_of(message)
    assert (
        "《南通市全民科学素质行动规划（2021-2035年）》实施情况“十四五”中期评估（南通中期评估）尚未提交，截止时间：2026-12-15 17:00（UTC+08:00）。"
        in body
    )
    assert re.search(r"海门区：已答 0/\d+ 题\n填报链接：" + LINK.pattern, body)
    assert await unit_of_link(harness, body) == "海门区"
    # Telegram's respondent got it on Telegram, the e-mail sender claimed only the e-mail row.
    assert (telegram_stats.sent, email_stats.sent, email_stats.skipped) == (1, 1, 1)
    assert sum("填报提醒" in (m.text or "") for m in telegram_user.messages) == 1
    assert await statuses(harness, channel="email") == {haimen: DeliveryStatus.SENT, tongzhou: DeliveryStatus.SKIPPED}
    [row_message_id] = [message["Message-ID"]]
    assert row_message_id.endswith("@nantong.example.cn>")

    # A restarted sender and another look at the schedule send nothing again.
    await scheduler(harness).tick()
    assert (await email_sender(harness, smtp, name="mail-restarted").drain()).sent == 0
    assert len(smtp.mailbox.messages) == 1


async def test_a_sender_stopped_half_way__its_successor_sends_the_rest_and_nobody_gets_two(
    harness: BotHarness, smtp: LocalSmtpServer
) -> None:
    addresses = [
        await add_contact(harness, unit, f"contact{index}@{unit_id}.example.cn")
        for index, (unit, unit_id) in enumerate((("崇川区", "chongchuan"), ("通州区", "tongzhou"), ("海门区", "haimen")))
    ]
    harness.clock.now = SLOT_1D
    await scheduler(harness).tick()
    first = email_sender(harness, smtp, settings=replace(FAST, claim_size=1, max_in_flight=1))
    first.pacer = first.pacer.__class__.for_policy(PacingPolicy(rate=2.0, per_recipient_interval=0.0))

    draining = asyncio.create_task(first.drain())
    await smtp.wait_until(lambda: len(smtp.mailbox.messages) >= 1)
    first.request_stop()
    stopped = await draining
    assert stopped.sent >= 1 and stopped.released + stopped.sent <= 3

    rest = await email_sender(harness, smtp, name="mail-2").drain()

    assert stopped.sent + rest.sent == 3
    assert sorted(message["To"] for message in smtp.mailbox.messages) == sorted(addresses)


async def test_broadcast__reaches_the_email_with_the_text_the_deadline_the_progress_and_the_link(
    harness: BotHarness, smtp: LocalSmtpServer
) -> None:
    address = await add_contact(harness, "崇川区", "chenjing@chongchuan.example.cn")
    telegram_user = await join(harness, "通州区", 9202, "李雷")

    await broadcast(harness, "请于周五前寄出盖章纸质表。")
    await sender_for(harness).drain()
    await email_sender(harness, smtp).drain()

    [message] = smtp.mailbox.to(address)
    assert message["Subject"] == "通知：南通中期评估"
    body = body_of(message)
    assert body.startswith(
        "请于周五前寄出盖章纸质表。\n\n——\n《南通市全民科学素质行动规划（2021-2035年）》实施情况“十四五”中期评估（南通中期评估），截止时间：2026-12-15 17:00（UTC+08:00）"
    )
    assert re.search(r"崇川区：已答 0/\d+ 题\n填报链接：", body)
    assert await unit_of_link(harness, body) == "崇川区"
    assert sum("请于周五前寄出盖章纸质表。" in (m.text or "") for m in telegram_user.messages) == 1


async def test_550__marks_the_address_unreachable_in_status_and_the_progress_sheet(
    harness: BotHarness, smtp: LocalSmtpServer, tmp_path: Path
) -> None:
    gone = await add_contact(harness, "海门区", "old.office@haimen.example.cn")
    kept = await add_contact(harness, "通州区", "lilei@tongzhou.example.cn")
    smtp.mailbox.script(gone, "550 5.1.1 mailbox unavailable")
    harness.clock.now = SLOT_3D
    await scheduler(harness).tick()

    stats = await email_sender(harness, smtp).drain()

    assert (stats.sent, stats.unreachable) == (1, 1)
    assert [message["To"] for message in smtp.mailbox.messages] == [kept]
    assert await statuses(harness, channel="email") == {gone: DeliveryStatus.UNREACHABLE, kept: DeliveryStatus.SENT}
    coordinator = await make_coordinator(harness)
    await coordinator.send_command("/status")
    assert f"海门区：{gone}" in await text_of(coordinator)
    result = await export_campaign(
        database=database_of(harness),
        campaign_id=harness.campaign_id,
        workbook_path=tmp_path / "out.xlsx",
        data_dir=harness.data_dir,
        now=harness.clock(),
    )
    sheet = load_workbook(result.workbook)["进度"]
    header = [cell.value for cell in sheet[1]]
    unreachable, reminders = header.index("无法联系的填报人"), header.index("已发提醒（次）")
    rows = {row[0].value: [cell.value for cell in row] for row in sheet.iter_rows(min_row=2)}
    assert rows["海门区"][unreachable] == f"email:{gone}" and rows["海门区"][reminders] == 0
    assert rows["通州区"][unreachable] is None and rows["通州区"][reminders] == 1


async def test_451__is_retried_after_the_backoff_and_delivered_once(harness: BotHarness, smtp: LocalSmtpServer) -> None:
    address = await add_contact(harness, "海门区", "zhangwei@haimen.example.cn")
    smtp.mailbox.script(address, "451 4.3.0 try again later")
    harness.clock.now = SLOT_3D
    await scheduler(harness).tick()
    sender = email_sender(harness, smtp, settings=replace(FAST, backoff_seconds=(10.0,)))

    first = await sender.drain()

    assert (first.sent, first.retried) == (0, 1)
    assert smtp.mailbox.messages == [] and await statuses(harness, channel="email") == {address: DeliveryStatus.PENDING}
    harness.clock.now += timedelta(seconds=10)
    second = await sender.drain()
    assert second.sent == 1
    assert [message["To"] for message in smtp.mailbox.messages] == [address]
    assert await statuses(harness, channel="email") == {address: DeliveryStatus.SENT}


async def test_a_server_that_does_not_answer__is_a_transient_failure(harness: BotHarness) -> None:
    address = await add_contact(harness, "海门区", "zhangwei@haimen.example.cn")
    harness.clock.now = SLOT_3D
    await scheduler(harness).tick()
    nobody = LocalSmtpServer()  # a port nothing listens on

    stats = await email_sender(harness, nobody).drain()

    assert (stats.sent, stats.retried, stats.failed) == (0, 1, 0)
    assert await statuses(harness, channel="email") == {address: DeliveryStatus.PENDING}


async def test_reminder_and_broadcast_emails__speak_the_language_of_the_units_people(
    harness: BotHarness, smtp: LocalSmtpServer
) -> None:
    """海门区's respondent reads English: its contact's e-mails are in English; 通州区 has nobody yet: Chinese."""
    english = harness.fake.user(9301, "Wang Fang", language_code="en")
    await english.send_command("/start", harness.tokens["海门区"][0])
    haimen = await add_contact(harness, "海门区", "zhangwei@haimen.example.cn")
    tongzhou = await add_contact(harness, "通州区", "lilei@tongzhou.example.cn")
    harness.clock.now = SLOT_3D
    await scheduler(harness).tick()
    await email_sender(harness, smtp).drain()

    subjects = {message["To"]: message["Subject"] for message in smtp.mailbox.messages}
    assert subjects[haimen].startswith("Reminder: ") and subjects[tongzhou].startswith("填报提醒：")
    [english_body] = [body_of(m) for m in smtp.mailbox.messages if m["To"] == haimen]
    assert "填报链接" not in english_body and await unit_of_link(harness, english_body) == "海门区"

    await broadcast(harness, "请于周五前提交。")
    await email_sender(harness, smtp, name="mail-2").drain()
    broadcasts = {m["To"]: m["Subject"] for m in smtp.mailbox.messages[2:]}
    assert broadcasts[haimen].startswith("Notice: ") and not broadcasts[tongzhou].startswith("Notice: ")
