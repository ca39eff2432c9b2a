"""The console's harness: the real aiohttp root (web chat and console), our services and a real database."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.console_access import ConsoleAccess
from bot.coordination import CoordinatorService
from bot.service import SurveyService
from bot.settings import Settings
from bot.survey_cache import SurveyCache
from exports import CampaignFilesExporter
from handlers.console.app import make_console_app
from handlers.console.app import mount as mount_console
from handlers.web.access_log import RedactingAccessLogger
from handlers.web.app import make_web_app, mount
from storage.database import Database
from tests.storage.conftest import Backend, backend  # noqa: F401  (fixture)
from tests.web.conftest import Clock, make_campaign

#: A coordinator through SURVEYBOT_ADMIN_IDS.
ADMIN_ID = 4242
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class ConsoleWorld:
    """A campaign on the Nantong survey, its units' web-chat tokens, and a client of the whole site."""

    database: Database
    access: ConsoleAccess
    clock: Clock
    client: TestClient  # type: ignore[type-arg]
    campaign_id: int = 0
    tokens: dict[str, str] = field(default_factory=dict)

    async def login_token(self, *, external_id: str = str(ADMIN_ID), ttl: timedelta = timedelta(minutes=15)) -> str:
        return await self.access.issue_login_link(channel="telegram", external_id=external_id, ttl=ttl)

    async def sign_in(self, **options: str) -> str:
        """Sign the client in with a fresh link; the CSRF token of its session."""
        token = await self.login_token(**options)
        response = await self.client.post(f"/admin/login/{token}", allow_redirects=False)
        assert response.status == 303, await response.text()
        return await self.csrf()

    async def csrf(self) -> str:
        page = await self.client.get("/admin/sessions")
        assert page.status == 200, await page.text()
        match = CSRF_FIELD.search(await page.text())
        assert match is not None
        return match.group(1)


def site_root(database: Database, settings: Settings, clock: Callable[[], datetime], tmp_path: Path) -> web.Application:
    """The root ``surveybot run`` serves: the web chat at /s and the console at /admin."""
    root = web.Application()
    service = SurveyService(database=database, settings=settings, clock=clock, surveys=SurveyCache())
    mount(root, make_web_app(service=service, upload_dir=tmp_path / "uploads"))
    mount_console(
        root,
        make_console_app(
            access=ConsoleAccess(database=database, settings=settings, clock=clock),
            coordination=CoordinatorService(
                database=database,
                settings=settings,
                clock=clock,
                exporter=CampaignFilesExporter(database=database, data_dir=settings.data_dir),
            ),
            secure_cookies=False,
        ),
    )
    return root


@pytest.fixture
async def console(backend: Backend, tmp_path: Path) -> AsyncIterator[ConsoleWorld]:
    database = backend.open()
    clock = Clock(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    campaign_id, tokens = await make_campaign(database, clock, deadline=datetime(2026, 12, 15, 9, 0, tzinfo=UTC))
    settings = Settings(database_url=backend.url_with_schema, data_dir=tmp_path / "data", admin_ids=frozenset({ADMIN_ID}))
    access = ConsoleAccess(database=database, settings=settings, clock=clock)
    server = TestServer(site_root(database, settings, clock, tmp_path))
    await server.start_server(access_log_class=RedactingAccessLogger)
    client = TestClient(server)
    await client.start_server()
    try:
        yield ConsoleWorld(database=database, access=access, clock=clock, client=client, campaign_id=campaign_id, tokens=tokens)
    finally:
        await client.close()
        await backend.dispose_all()
