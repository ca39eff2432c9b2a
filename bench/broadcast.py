"""Benchmark: a broadcast to 2,000 respondents through the outbox, under Telegram's limits.

The fake Bot API runs in its own process with its rate limiter on
(``python -m tests.fakes.telegram --rate-limit``: 30 messages a second overall,
one a second per chat, 429 with ``retry_after`` beyond). In this process: a
campaign on SQLite (or ``--database URL``) with the recipients bound to its
units, a coordinator who prepares and confirms a /broadcast through
:class:`bot.outreach.OutreachService` (so the batch has a status message that
is edited as it goes, and a summary), and the outbox sender(s) draining it
through the Telegram transport.

Printed: achieved messages per second and its ratio to 30, messages lost
(a recipient that got nothing), duplicated (a recipient that got more than
one), and the 429s the fake answered. Aim: ratio >= 0.9, none lost, none
duplicated. 2,000 messages at 30/s take about 70 s.

    python bench/broadcast.py [--recipients 2000] [--senders 1] [--database URL]

``--senders 2`` runs two senders with their own database handles and Bot
objects, as two bot processes would; each paces itself at ``--rate``, so
together they exceed the limit and 429s show how they back off.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select
from telegram import Bot

from bot.coordination import CoordinatorService
from bot.outbox_sender import DrainStats, OutboxSender, SenderSettings
from bot.outreach import ConfirmOutcome, OutreachService, Preview
from bot.service import ChannelUser
from bot.settings import Settings
from bot.survey_files import load_survey
from handlers.telegram.http_client import AiohttpRequest
from handlers.telegram.outbox_transport import TELEGRAM_PACING, TelegramTransport
from storage.campaigns import create_campaign
from storage.database import Database
from storage.migrate import ensure_schema
from storage.models import DeliveryStatus, OutboxKind, OutboxMessage, Respondent, RespondentUnit
from storage.rosters import add_units
from storage.surveys import store_survey
from storage.types import utc_now
from tests.fakes.telegram import DEFAULT_TOKEN, RemoteFakeTelegram, start_process

TELEGRAM_LIMIT = 30.0
COORDINATOR_ID = 1
FIRST_RECIPIENT_ID = 100_000
RESPONDENTS_PER_UNIT = 10
TEXT = "各县（市、区）科协：请于4月26日前提交《中期评估报告》和盖章调查表扫描件。如有疑问请联系市科协科普部（59003013）。"
NANTONG = ROOT / "surveys" / "nantong-midterm-2023.yaml"


def start_fake() -> tuple[subprocess.Popen[str], str]:
    return start_process("--rate-limit", "--max-calls", "1000", cwd=ROOT)


async def create_users(fake: RemoteFakeTelegram, recipients: int) -> None:
    ids = [COORDINATOR_ID, *range(FIRST_RECIPIENT_ID, FIRST_RECIPIENT_ID + recipients)]
    gate = asyncio.Semaphore(50)

    async def create(user_id: int) -> None:
        async with gate:
            await fake.user(user_id, f"U{user_id}", language_code="zh-hans")

    await asyncio.gather(*(create(user_id) for user_id in ids))


async def prepare_campaign(database: Database, recipients: int) -> int:
    await ensure_schema(database)
    now = utc_now()
    async with database.transaction() as session:
        survey = load_survey(NANTONG)
        version = await store_survey(session=session, survey=survey)
        campaign = await create_campaign(
            session=session, survey_version=version, title="广播基准", deadline=now + timedelta(days=7), now=now
        )
        units = await add_units(
            session=session,
            campaign=campaign,
            names=[f"单位{index:04d}" for index in range(-(-recipients // RESPONDENTS_PER_UNIT))],
        )
        await session.execute(
            insert(Respondent),
            [
                {
                    "channel": "telegram",
                    "external_id": str(FIRST_RECIPIENT_ID + index),
                    "display_name": f"填报人{index}",
                    "language": "zh-hans",
                    "unreachable": False,
                    "created_at": now,
                }
                for index in range(recipients)
            ],
        )
        ids = dict(
            (await session.execute(select(Respondent.external_id, Respondent.id).where(Respondent.channel == "telegram"))).all()
        )
        await session.execute(
            insert(RespondentUnit),
            [
                {
                    "respondent_id": ids[str(FIRST_RECIPIENT_ID + index)],
                    "unit_id": units[index // RESPONDENTS_PER_UNIT].id,
                    "created_at": now,
                }
                for index in range(recipients)
            ],
        )
        return campaign.id


def open_bot(url: str) -> Bot:
    return Bot(
        DEFAULT_TOKEN,
        base_url=f"{url}/bot",
        base_file_url=f"{url}/file/bot",
        request=AiohttpRequest(connection_pool_size=64),
    )


async def confirm_broadcast(database: Database, settings: Settings, bot: Bot, campaign_id: int) -> int:
    """The coordinator's /broadcast and its confirmation, as the handlers do them."""
    coordination = CoordinatorService(database=database, settings=settings)
    outreach = OutreachService(database=database, coordination=coordination)
    coordinator = ChannelUser(channel="telegram", external_id=str(COORDINATOR_ID), display_name="协调人")
    preview = await outreach.prepare(
        user=coordinator, kind=OutboxKind.BROADCAST, campaign_id=campaign_id, language="zh", body=TEXT
    )
    assert isinstance(preview, Preview) and preview.batch_id is not None
    status = await bot.send_message(chat_id=COORDINATOR_ID, text="确认发送吗？")
    confirmation = await outreach.confirm(
        user=coordinator,
        batch_id=preview.batch_id,
        status_chat_id=str(COORDINATOR_ID),
        status_message_id=str(status.message_id),
    )
    assert confirmation.outcome is ConfirmOutcome.STARTED, confirmation
    return preview.batch_id


async def run(args: argparse.Namespace) -> None:
    process, url = start_fake()
    scratch = tempfile.TemporaryDirectory()
    database_url = args.database or f"sqlite+aiosqlite:///{Path(scratch.name) / 'bench.db'}"
    databases = [Database(database_url) for _ in range(args.senders)]
    bots = [open_bot(url) for _ in range(args.senders)]
    try:
        async with RemoteFakeTelegram(url) as fake:
            await create_users(fake, args.recipients)
            campaign_id = await prepare_campaign(databases[0], args.recipients)
            for bot in bots:
                await bot.initialize()
            settings = Settings(database_url=database_url, admin_ids=frozenset({COORDINATOR_ID}))
            await fake.reset_stats()
            batch_id = await confirm_broadcast(databases[0], settings, bots[0], campaign_id)
            senders = [
                OutboxSender(
                    database=database,
                    transport=TelegramTransport(bot, pacing=replace(TELEGRAM_PACING, rate=args.rate)),
                    settings=SenderSettings(report_interval=args.report_interval),
                    name=f"bench-{index}",
                )
                for index, (database, bot) in enumerate(zip(databases, bots, strict=True))
            ]
            started = time.monotonic()
            results: list[DrainStats] = await asyncio.gather(*(sender.drain(batch_id=batch_id) for sender in senders))
            finished = max(result.last_sent_at or started for result in results)
            stats = await fake.stats()
            async with databases[0].read() as session:
                rows = dict(
                    (
                        await session.execute(
                            select(OutboxMessage.status, func.count())
                            .where(OutboxMessage.batch_id == batch_id)
                            .group_by(OutboxMessage.status)
                        )
                    ).all()
                )
            status_message = [m for m in await (await fake.user(COORDINATOR_ID)).messages() if m.get("edit_count")]
    finally:
        for bot in bots:
            with contextlib.suppress(Exception):
                await bot.shutdown()
        for database in databases:
            await database.dispose()
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        scratch.cleanup()

    per_chat = {int(chat): count for chat, count in stats["sent_per_chat"].items()}
    recipients = range(FIRST_RECIPIENT_ID, FIRST_RECIPIENT_ID + args.recipients)
    delivered = sum(min(per_chat.get(chat, 0), 1) for chat in recipients)
    lost = sum(1 for chat in recipients if per_chat.get(chat, 0) == 0)
    duplicated = sum(max(0, per_chat.get(chat, 0) - 1) for chat in recipients)
    elapsed = finished - started
    rate = delivered / elapsed if elapsed > 0 else 0.0
    backend = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    print(
        f"recipients: {args.recipients}, senders: {args.senders} (each paced at {args.rate:g}/s), {backend}, "
        "fake Bot API in its own process with --rate-limit (30/s overall, 1/s per chat)"
    )
    print(f"delivered {delivered} in {elapsed:.1f} s: {rate:.2f} messages/s, ratio to 30/s: {rate / TELEGRAM_LIMIT:.3f} (aim >= 0.9)")
    print(f"lost: {lost}, duplicated: {duplicated} (aim 0 and 0)")
    print(f"429s received: {stats['total_429']} (rate limiter {stats['rate_limited']}); sender flood waits: {sum(r.flood_waits for r in results)}")
    print(
        "outbox rows: " + ", ".join(f"{DeliveryStatus(status).value} {count}" for status, count in sorted(rows.items()))
        + f"; coordinator status message edited {status_message[0]['edit_count'] if status_message else 0} times"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--senders", type=int, default=1, help="concurrent senders, as separate processes would be")
    parser.add_argument("--rate", type=float, default=TELEGRAM_PACING.rate, help="each sender's messages per second")
    parser.add_argument("--report-interval", type=float, default=2.0, help="seconds between status message edits")
    parser.add_argument("--database", help="database URL (default: SQLite in a temporary directory)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
