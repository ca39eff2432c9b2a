"""The console's units table in a real browser: it changes, without a reload, when a respondent answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.console_access import ConsoleAccess
from bot.settings import Settings
from handlers.console import progress
from handlers.web.access_log import RedactingAccessLogger
from storage.types import utc_now
from tests.browser.conftest import page  # noqa: F401  (fixture)
from tests.browser.test_browser_journey import settled, type_answer
from tests.console.conftest import ADMIN_ID, site_root
from tests.storage.conftest import Backend, backend  # noqa: F401  (fixture)
from tests.web.conftest import Clock, make_campaign


@dataclass
class ProgressSite:
    base_url: str
    campaign_id: int
    tokens: dict[str, str]
    access: ConsoleAccess


@pytest.fixture
async def progress_site(backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ProgressSite]:  # noqa: F811
    """The site as `surveybot run` serves it, on the real clock, its table refreshed every second."""
    monkeypatch.setattr(progress, "REFRESH_SECONDS", 1)
    database = backend.open()
    campaign_id, tokens = await make_campaign(
        database, Clock(datetime(2026, 11, 1, tzinfo=UTC)), deadline=datetime(2099, 12, 15, 9, 0, tzinfo=UTC)
    )
    settings = Settings(database_url=backend.url_with_schema, data_dir=tmp_path / "data", admin_ids=frozenset({ADMIN_ID}))
    server = TestServer(site_root(database, settings, utc_now, tmp_path), host="127.0.0.1")
    await server.start_server(access_log_class=RedactingAccessLogger)
    try:
        yield ProgressSite(
            base_url=str(server.make_url("")).rstrip("/"),
            campaign_id=campaign_id,
            tokens=tokens,
            access=ConsoleAccess(database=database, settings=settings),
        )
    finally:
        await server.close()
        await backend.dispose_all()


async def test_progress_table__updates_without_reload_when_a_respondent_answers_in_another_page(
    progress_site: ProgressSite,
    page: Any,  # noqa: F811
) -> None:
    site = progress_site
    token = await site.access.issue_login_link(channel="telegram", external_id=str(ADMIN_ID))
    await page.goto(f"{site.base_url}/admin/login/{token}")
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(f"{site.base_url}/admin/")
    await page.goto(f"{site.base_url}/admin/campaigns/{site.campaign_id}")
    table = page.locator("#progress-table")
    row = table.get_by_role("row", name="海门区")
    assert "未开始" in await row.inner_text()
    await page.evaluate("window.loadedOnce = true")  # gone if the page reloads

    respondent = await page.context.new_page()
    await respondent.goto(f"{site.base_url}/s/{site.tokens['海门区']}")
    await settled(respondent)
    await type_answer(respondent, "海门区科学技术协会")
    await respondent.close()

    await row.get_by_text("填写中").wait_for(timeout=10_000)
    assert "1/19" in await row.inner_text() and "网页" in await row.inner_text()
    assert await page.evaluate("window.loadedOnce") is True
    # Usable on a phone: the page itself does not scroll sideways (the table does, inside its box).
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
