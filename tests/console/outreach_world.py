"""The console with its reminders and notices, as ``surveybot run`` wires it: the real root, the
outreach service of the process's channels (Telegram and e-mail), and the real ReminderWorker whose
senders deliver to the fake Bot API and to a local SMTP server."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from telegram import Bot

from bot.cli.run import console_outreach
from bot.console_access import ConsoleAccess
from bot.coordination import CoordinatorService
from bot.outbox_compose import OutboxComposer
from bot.outbox_sender import OutboxSender, SenderSettings
from bot.pacing import PacingPolicy
from bot.reminder_worker import ReminderWorker
from bot.service import SurveyService
from bot.settings import Settings
from bot.survey_cache import SurveyCache
from handlers.console.app import make_console_app
from handlers.console.app import mount as mount_console
from handlers.email.outbox_transport import EmailTransport, SmtpServer
from handlers.telegram.http_client import AiohttpRequest
from handlers.telegram.outbox_transport import TelegramTransport
from handlers.web.access_log import RedactingAccessLogger
from handlers.web.app import make_web_app, mount
from storage.campaigns import close_campaign, get_campaign
from storage.contacts import add_email_contact
from storage.database import Database
from storage.models import DeliveryStatus, OutboxBatch, OutboxMessage, Respondent
from storage.respondents import bind_respondent, get_or_create_respondent
from storage.responses import get_unit_response, submit_response
from storage.rosters import get_unit, list_units
from tests.console.conftest import ADMIN_ID
from tests.fakes.smtp import SmtpServer as LocalSmtpServer
from tests.fakes.telegram import FakeTelegram, FakeUser
from tests.storage.conftest import Backend
from tests.web.conftest import Clock, make_campaign

PUBLIC_URL = "https://survey.nantong.example.cn"
CHANNELS = ("telegram", "email")
FAST = PacingPolicy(rate=500.0, per_recipient_interval=0.0)
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
FORM_ID_FIELD = re.compile(r'name="form_id" value="([^"]+)"')


@dataclass
class OutreachWorld:
    database: Database
    access: ConsoleAccess
    clock: Clock
    client: TestClient  # type: ignore[type-arg]
    smtp: LocalSmtpServer
    fake: FakeTelegram
    campaign_id: int
    #: Runs the schedule and the senders (started unless the test starts it itself).
    worker: ReminderWorker

    async def sign_in(self) -> str:
        """Sign the client in with a fresh link; the CSRF token of its session."""
        token = await self.access.issue_login_link(channel="telegram", external_id=str(ADMIN_ID))
        response = await self.client.post(f"/admin/login/{token}", allow_redirects=False)
        assert response.status == 303, await response.text()
        page = await self.client.get("/admin/sessions")
        match = CSRF_FIELD.search(await page.text())
        assert match is not None
        return match.group(1)

    async def unit_ids(self) -> dict[str, int]:
        async with self.database.read() as session:
            return {unit.name: unit.id for unit in await list_units(session=session, campaign=self.campaign_id)}

    async def add_email(self, unit_name: str, address: str) -> None:
        """The unit's contact e-mail, as ``surveybot invite --email`` stores it."""
        async with self.database.transaction() as session:
            unit = await get_unit(session=session, campaign=self.campaign_id, name=unit_name)
            await add_email_contact(session=session, unit=unit, address=address)

    async def add_telegram(self, unit_name: str, user_id: int, name: str, *, language: str = "zh-hans") -> FakeUser:
        """A Telegram respondent bound to the unit (as after opening its invitation)."""
        async with self.database.transaction() as session:
            unit = await get_unit(session=session, campaign=self.campaign_id, name=unit_name)
            respondent = await get_or_create_respondent(
                session=session, channel="telegram", external_id=user_id, display_name=name, language=language, now=self.clock()
            )
            await bind_respondent(session=session, respondent=respondent, unit=unit)
        return self.fake.user(user_id, name, language_code=language)

    async def submit(self, unit_name: str) -> None:
        async with self.database.transaction() as session:
            unit = await get_unit(session=session, campaign=self.campaign_id, name=unit_name)
            response = await get_unit_response(session=session, unit=unit, for_update=True)
            await submit_response(session=session, response=response, values={"answers": {}}, now=self.clock())

    async def close(self) -> None:
        async with self.database.transaction() as session:
            await close_campaign(session=session, campaign=await get_campaign(session=session, campaign_id=self.campaign_id))

    async def outbox(self) -> list[tuple[str, str, DeliveryStatus]]:
        """Every outbox message of the campaign: (channel, account, status)."""
        async with self.database.read() as session:
            rows = await session.execute(
                select(Respondent.channel, Respondent.external_id, OutboxMessage.status)
                .join(OutboxMessage, OutboxMessage.respondent_id == Respondent.id)
                .join(OutboxBatch, OutboxBatch.id == OutboxMessage.batch_id)
                .where(OutboxBatch.campaign_id == self.campaign_id)
                .order_by(OutboxMessage.id)
            )
            return [(channel, external_id, DeliveryStatus(status)) for channel, external_id, status in rows]

    async def batches(self) -> int:
        async with self.database.read() as session:
            rows = await session.scalars(select(OutboxBatch.id).where(OutboxBatch.campaign_id == self.campaign_id))
            return len(list(rows))

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            assert loop.time() < deadline, "timed out"
            await asyncio.sleep(0.05)


def outreach_root(
    database: Database,
    settings: Settings,
    clock: Callable[[], datetime],
    tmp_path: Path,
    *,
    surveys: SurveyCache,
    wakeup: asyncio.Event,
) -> web.Application:
    """The root ``surveybot run`` serves, its console with the reminders and notices of Telegram and e-mail."""
    root = web.Application()
    service = SurveyService(database=database, settings=settings, clock=clock, surveys=surveys)
    mount(root, make_web_app(service=service, upload_dir=tmp_path / "uploads"))
    mount_console(
        root,
        make_console_app(
            access=ConsoleAccess(database=database, settings=settings, clock=clock),
            coordination=CoordinatorService(database=database, settings=settings, clock=clock),
            secure_cookies=False,
            outreach=console_outreach(
                settings, database, surveys=surveys, on_enqueued=wakeup.set, outbox_channels=CHANNELS, clock=clock
            ),
        ),
    )
    return root


@asynccontextmanager
async def outreach_world(
    backend: Backend, tmp_path: Path, *, start_worker: bool = True
) -> AsyncIterator[tuple[OutreachWorld, TestServer]]:
    """The site, its worker and senders running; yields the world and the server (for a browser)."""
    database = backend.open()
    now = Clock(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    campaign_id, _ = await make_campaign(database, now, deadline=datetime(2026, 12, 15, 9, 0, tzinfo=UTC))
    settings = Settings(
        database_url=backend.url_with_schema,
        data_dir=tmp_path / "data",
        admin_ids=frozenset({ADMIN_ID}),
        public_url=PUBLIC_URL,
    )
    surveys = SurveyCache()
    wakeup = asyncio.Event()
    smtp = LocalSmtpServer()
    smtp.start()
    async with FakeTelegram() as fake:
        bot = Bot(fake.token, base_url=f"{fake.url}/bot", base_file_url=f"{fake.url}/file/bot", request=AiohttpRequest())
        await bot.initialize()
        composer = OutboxComposer(surveys=surveys)
        fast = SenderSettings(report_interval=0.1)
        email = EmailTransport(
            SmtpServer(host="127.0.0.1", port=smtp.port, sender="南通评估 <surveybot@nantong.example.cn>", starttls=False),
            public_url=PUBLIC_URL,
            pacing=FAST,
        )
        worker = ReminderWorker(
            database=database,
            senders=[
                OutboxSender(
                    database=database, transport=TelegramTransport(bot, pacing=FAST), clock=now, settings=fast, composer=composer
                ),
                OutboxSender(database=database, transport=email, clock=now, settings=fast, composer=composer),
            ],
            clock=now,
            wakeup=wakeup,
            poll_interval=0.2,
        )
        server = TestServer(outreach_root(database, settings, now, tmp_path, surveys=surveys, wakeup=wakeup), host="127.0.0.1")
        await server.start_server(access_log_class=RedactingAccessLogger)
        client = TestClient(server)
        await client.start_server()
        if start_worker:
            worker.start()
        access = ConsoleAccess(database=database, settings=settings, clock=now)
        try:
            yield (
                OutreachWorld(
                    database=database,
                    access=access,
                    clock=now,
                    client=client,
                    smtp=smtp,
                    fake=fake,
                    campaign_id=campaign_id,
                    worker=worker,
                ),
                server,
            )
        finally:
            await worker.stop()
            await client.close()
            await bot.shutdown()
            smtp.stop()
            await backend.dispose_all()
