"""A real browser on the web chat: Playwright driving Debian's Chromium, phone-sized, with WeChat's user agent.

Never ``playwright install``: the browser is the system's ``/usr/bin/chromium``
(``.ci/run`` installs the ``chromium`` package when it is missing). Without it
these tests skip on a developer's machine and FAIL under ``CI=true``. A failed
test saves a screenshot to a temporary directory and prints its path.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.service import SurveyService
from bot.settings import Settings
from bot.survey_cache import SurveyCache
from handlers.web.access_log import RedactingAccessLogger
from storage.database import Database
from tests.storage.conftest import Backend, backend  # noqa: F401  (fixture)
from tests.web.conftest import Clock, make_campaign, web_root

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
WECHAT_USER_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN"
)


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: apt-get install -y chromium (never `playwright install`)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


class BrowserWorld:
    def __init__(self, *, database: Database, base_url: str, tokens: dict[str, str]) -> None:
        self.database = database
        self.base_url = base_url
        self.tokens = tokens

    def link(self, unit: str) -> str:
        return f"{self.base_url}/s/{self.tokens[unit]}"


@pytest.fixture
async def site(backend: Backend, tmp_path: Path) -> AsyncIterator[BrowserWorld]:
    database = backend.open()
    clock = Clock(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    _, tokens = await make_campaign(database, clock, deadline=datetime(2026, 12, 15, 9, 0, tzinfo=UTC))
    settings = Settings(database_url=backend.url_with_schema, data_dir=tmp_path / "data")
    service = SurveyService(database=database, settings=settings, clock=clock, surveys=SurveyCache())
    server = TestServer(web_root(service, tmp_path=tmp_path), host="127.0.0.1")
    await server.start_server(access_log_class=RedactingAccessLogger)
    try:
        yield BrowserWorld(database=database, base_url=str(server.make_url("")).rstrip("/"), tokens=tokens)
    finally:
        await server.close()
        await backend.dispose_all()


@pytest.fixture
def javascript() -> bool:
    return True


@pytest.fixture
async def page(request: pytest.FixtureRequest, javascript: bool) -> AsyncIterator[object]:
    require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context(
            viewport={"width": 390, "height": 844}, user_agent=WECHAT_USER_AGENT, locale="zh-CN", has_touch=True,
            java_script_enabled=javascript,
        )
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        try:
            yield page
            assert not errors, errors
        finally:
            failed = getattr(request.node, "failed_call", False)
            if failed:
                shot = Path(tempfile.mkdtemp(prefix="surveybot-browser-")) / f"{request.node.name}.png"
                await page.screenshot(path=str(shot), full_page=True)
                print(f"screenshot of the failed page: {shot}")
            await browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        item.failed_call = True  # type: ignore[attr-defined]


async def sign_in_as_coordinator(page: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Open the console in ``page`` with the link `surveybot admin login-link` prints for the tests' coordinator."""
    from bot.cli import main
    from tests.console.conftest import ADMIN_ID

    code = await asyncio.to_thread(main, ["admin", "login-link", "--telegram-id", str(ADMIN_ID)])
    link = capsys.readouterr().out.strip()
    assert code == 0, link
    await page.goto(link)
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url("**/admin/")
