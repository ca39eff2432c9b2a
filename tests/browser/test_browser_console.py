"""The coordinator console in a real browser: sign in with the link `surveybot admin login-link` prints."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.cli import main
from bot.settings import Settings
from handlers.web.access_log import RedactingAccessLogger
from storage.types import utc_now
from tests.browser.conftest import page  # noqa: F401  (fixture)
from tests.console.conftest import ADMIN_ID, site_root
from tests.storage.conftest import Backend, backend  # noqa: F401  (fixture)
from tests.web.conftest import Clock, make_campaign


@pytest.fixture
async def console_site(backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:  # noqa: F811
    """The site as `surveybot run` serves it, on the real clock; the CLI's environment points at its database."""
    database = backend.open()
    await make_campaign(database, Clock(datetime(2026, 11, 1, tzinfo=UTC)), deadline=datetime(2099, 12, 15, 9, 0, tzinfo=UTC))
    settings = Settings(database_url=backend.url_with_schema, data_dir=tmp_path / "data", admin_ids=frozenset({ADMIN_ID}))
    server = TestServer(site_root(database, settings, utc_now, tmp_path), host="127.0.0.1")
    await server.start_server(access_log_class=RedactingAccessLogger)
    base_url = str(server.make_url("")).rstrip("/")
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name, value in (
        ("DATABASE_URL", backend.url_with_schema),
        ("DATA_DIR", str(tmp_path / "data")),
        ("PUBLIC_URL", base_url),
        ("ADMIN_IDS", str(ADMIN_ID)),
    ):
        monkeypatch.setenv(f"SURVEYBOT_{name}", value)
    try:
        yield base_url
    finally:
        await server.close()
        await backend.dispose_all()


async def test_console__signs_in_with_a_printed_link_and_lists_the_campaigns(
    console_site: str, page: Any, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    code = await asyncio.to_thread(main, ["admin", "login-link", "--telegram-id", str(ADMIN_ID)])
    link = capsys.readouterr().out.strip()
    assert code == 0 and link.startswith(f"{console_site}/admin/login/")

    await page.goto(link)
    assert await page.locator("h1").inner_text() == "确认登录"
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(f"{console_site}/admin/")
    assert await page.get_by_role("heading", level=1).inner_text() == "收集任务"
    row = page.get_by_role("row", name="南通中期评估")
    assert "已提交 0，填写中 0，未开始 3（共 3 个单位）" in await row.inner_text()
    assert await row.get_by_role("img").get_attribute("aria-label") == "已提交 0，填写中 0，未开始 3（共 3 个单位）"

    await row.get_by_role("link", name="南通中期评估").click()
    assert await page.get_by_role("heading", level=2, name="各单位进度").is_visible()
    assert await page.locator("#progress-table").get_by_role("row").count() == 4  # the header and three units

    await page.get_by_role("button", name="退出登录").click()
    await page.wait_for_url(f"{console_site}/admin/sign-in?signed_out=1")
    await page.goto(f"{console_site}/admin/")
    assert page.url == f"{console_site}/admin/sign-in"
    used = await page.request.get(link)  # used: the link signs in no one again
    assert used.status == 410 and "已被使用或已过期" in await used.text()
