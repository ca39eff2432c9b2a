"""Fixtures for the reminder and outbox tests.

They reuse the end-to-end harness of ``tests/telegram`` (the real PTB
Application, our service, a real database, the fake Bot API) and drive the
scheduler and the sender by hand: ``await scheduler.tick()`` after moving the
clock, ``await sender.drain()`` to send what is due. Nothing waits on real
time except the pacing of the sends themselves (fast settings here).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from telegram import Bot

from bot.outbox_compose import OutboxComposer
from bot.outbox_sender import OutboxSender, SenderSettings
from bot.pacing import PacingPolicy
from bot.reminder_scheduler import ReminderScheduler
from handlers.telegram.http_client import AiohttpRequest
from handlers.telegram.outbox_transport import TelegramTransport
from storage.audience import broadcast_audience
from storage.coordinators import add_coordinator
from storage.database import Database
from storage.models import (
    DeliveryStatus,
    OutboxBatch,
    OutboxBatchStatus,
    OutboxKind,
    OutboxMessage,
    Respondent,
)
from storage.outbox import create_batch, enqueue_messages
from storage.respondents import bind_respondent, get_or_create_respondent
from storage.responses import get_unit_response, submit_response
from storage.rosters import get_unit, list_units
from tests.fakes.telegram import FakeUser
from tests.storage.conftest import (  # noqa: F401  (fixtures)
    backend,
    database,
    migrated_backend,
    migrated_template,
)
from tests.telegram.conftest import BotHarness, harness, replies  # noqa: F401  (fixtures)

COORDINATOR_ID = 9001
#: Fast pacing for tests: the fake Bot API is not rate limited unless asked.
FAST_PACING = PacingPolicy(rate=500.0, per_recipient_interval=0.0)
#: Paced like production (about 30 a second), so that a broadcast takes a while.
REALISTIC_PACING = PacingPolicy(rate=30.0, per_recipient_interval=1.1)
FAST = SenderSettings(report_interval=0.1)

#: The harness's deadline (2026-12-15 17:00 in Shanghai) and its default reminder slots.
DEADLINE = datetime(2026, 12, 15, 9, 0, tzinfo=UTC)
SLOT_3D = DEADLINE - timedelta(days=3)
SLOT_1D = DEADLINE - timedelta(days=1)
SLOT_2H = DEADLINE - timedelta(hours=2)


def database_of(harness: BotHarness) -> Database:
    assert harness.database is not None
    return harness.database


def sender_for(
    harness: BotHarness,
    *,
    settings: SenderSettings = FAST,
    pacing: PacingPolicy = FAST_PACING,
    database: Database | None = None,
    bot: Bot | None = None,
    name: str | None = None,
) -> OutboxSender:
    """A Telegram sender, as ``surveybot run`` builds it (with the harness's clock and test pacing)."""
    assert harness.application is not None
    return OutboxSender(
        database=database or database_of(harness),
        transport=TelegramTransport(bot or harness.application.bot, pacing=pacing),
        clock=harness.clock,
        settings=settings,
        name=name,
        composer=OutboxComposer(surveys=harness.surveys),
    )


def scheduler_for(harness: BotHarness, database: Database | None = None) -> ReminderScheduler:
    return ReminderScheduler(database=database or database_of(harness), clock=harness.clock)


async def other_bot(harness: BotHarness) -> Bot:
    """A second Bot object, as another process would have."""
    bot = Bot(
        harness.fake.token,
        base_url=f"{harness.fake.url}/bot",
        base_file_url=f"{harness.fake.url}/file/bot",
        request=AiohttpRequest(connection_pool_size=32),
    )
    await bot.initialize()
    return bot


async def join(harness: BotHarness, unit: str, user_id: int, name: str, *, token: int = 0) -> FakeUser:
    """A respondent who opened their invitation link (and got the greeting)."""
    user = harness.fake.user(user_id, name, language_code="zh-hans")
    await user.send_command("/start", harness.tokens[unit][token])
    await replies(user)
    return user


async def bind_many(harness: BotHarness, count: int, *, first_id: int = 50_000) -> list[FakeUser]:
    """``count`` respondents bound straight in the database, spread over the roster."""
    async with database_of(harness).transaction() as session:
        units = await list_units(session=session, campaign=harness.campaign_id)
        for index in range(count):
            respondent = await get_or_create_respondent(
                session=session,
                channel="telegram",
                external_id=first_id + index,
                display_name=f"填报人{index}",
                language="zh-hans",
                now=harness.clock(),
            )
            await bind_respondent(session=session, respondent=respondent, unit=units[index % len(units)])
    return [harness.fake.user(first_id + index, f"填报人{index}", language_code="zh-hans") for index in range(count)]


async def submit_unit(harness: BotHarness, unit_name: str) -> None:
    """Mark a unit's response submitted (as the service does at the end of the survey)."""
    async with database_of(harness).transaction() as session:
        unit = await get_unit(session=session, campaign=harness.campaign_id, name=unit_name)
        response = await get_unit_response(session=session, unit=unit, for_update=True)
        await submit_response(session=session, response=response, values={"answers": {}}, now=harness.clock())


async def make_coordinator(harness: BotHarness) -> FakeUser:
    async with database_of(harness).transaction() as session:
        await add_coordinator(session=session, channel="telegram", external_id=COORDINATOR_ID)
    return harness.fake.user(COORDINATOR_ID, "协调人", language_code="zh-hans")


async def statuses(
    harness: BotHarness, database: Database | None = None, *, channel: str = "telegram"
) -> dict[int | str, DeliveryStatus]:
    """Respondent external id (a Telegram one as an int) → the status of their (latest) outbox message."""
    async with (database or database_of(harness)).read() as session:
        rows = await session.execute(
            select(Respondent.external_id, OutboxMessage.status)
            .join(Respondent, Respondent.id == OutboxMessage.respondent_id)
            .where(Respondent.channel == channel)
            .order_by(OutboxMessage.id)
        )
        return {
            int(external_id) if channel == "telegram" else external_id: DeliveryStatus(status)
            for external_id, status in rows
        }



async def enqueue_broadcast(harness: BotHarness, text: str, *, database: Database | None = None) -> int:
    """An active broadcast to every bound respondent (as a confirmed /broadcast makes)."""
    async with (database or database_of(harness)).transaction() as session:
        batch, _ = await create_batch(
            session=session,
            campaign_id=harness.campaign_id,
            kind=OutboxKind.BROADCAST,
            key=f"broadcast:{uuid.uuid4().hex}",
            status=OutboxBatchStatus.ACTIVE,
            body=text,
            now=harness.clock(),
        )
        audience = await broadcast_audience(session=session, campaign_id=harness.campaign_id)
        await enqueue_messages(session=session, batch=batch, respondent_ids=audience.respondent_ids, now=harness.clock())
        return batch.id


async def outbox_rows(harness: BotHarness) -> list[OutboxMessage]:
    async with database_of(harness).read() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def wait_for_batches(
    harness: BotHarness, status: OutboxBatchStatus, *, count: int = 1, timeout: float = 5.0
) -> list[int]:
    """Wait until ``count`` outbox batches have ``status`` (a handler runs in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        async with database_of(harness).read() as session:
            ids = list(await session.scalars(select(OutboxBatch.id).where(OutboxBatch.status == status)))
        if len(ids) >= count or time.monotonic() > deadline:
            return ids
        await asyncio.sleep(0.02)
