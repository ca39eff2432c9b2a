"""The coordinator console in a real browser: create a campaign from the page with a pasted roster, on a phone."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.settings import Settings
from handlers.web.access_log import RedactingAccessLogger
from storage.database import Database
from storage.models import Campaign, Unit
from storage.types import utc_now
from tests.browser.conftest import page, sign_in_as_coordinator  # noqa: F401  (fixture)
from tests.console.conftest import ADMIN_ID, site_root
from tests.storage.conftest import Backend, backend  # noqa: F401  (fixture)
from tests.web.conftest import Clock, make_campaign

SURVEYS = Path(__file__).resolve().parents[2] / "surveys"


@pytest.fixture
async def setup_site(backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[str, Database]]:  # noqa: F811
    """The site as `surveybot run` serves it (the shipped surveys of the checkout), on the real clock."""
    database = backend.open()
    await make_campaign(database, Clock(datetime(2026, 11, 1, tzinfo=UTC)), deadline=datetime(2099, 12, 15, 9, 0, tzinfo=UTC))
    settings = Settings(
        database_url=backend.url_with_schema, data_dir=tmp_path / "data", admin_ids=frozenset({ADMIN_ID}), surveys_dir=SURVEYS
    )
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
        yield base_url, database
    finally:
        await server.close()
        await backend.dispose_all()


async def test_console__creates_a_campaign_from_the_page_with_a_pasted_roster(
    setup_site: tuple[str, Database],
    page: Any,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    base_url, database = setup_site
    await sign_in_as_coordinator(page, capsys)

    await page.get_by_role("link", name="新建活动").click()
    assert await page.get_by_role("heading", level=1).inner_text() == "新建活动"
    await page.get_by_label("内置问卷", exact=True).select_option("nantong-midterm-2023.yaml")
    await page.get_by_label("标题").fill("南通 2099 年度评估")
    await page.get_by_label("日期和时间").fill("2099-12-20T17:00")
    assert "Asia/Shanghai (UTC+08:00)" in await page.get_by_label("时区").inner_text()
    await page.get_by_label("名单").fill("崇川区科协\tcc@example.cn\n海门区科协\n海门区科协\n")
    await page.get_by_role("button", name="创建活动").click()

    # A duplicate line: named beside the roster, the form kept.
    error = page.locator("#error-roster")
    assert "第 3 行：单位“海门区科协”已在第 2 行列出" in await error.inner_text()
    assert await page.get_by_label("标题").input_value() == "南通 2099 年度评估"
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390  # usable on a phone
    await page.get_by_label("名单").fill("崇川区科协\tcc@example.cn\n海门区科协, hm@example.cn\n如东县科协\n")
    await page.get_by_label("内置问卷", exact=True).select_option("nantong-midterm-2023.yaml")
    await page.get_by_role("button", name="创建活动").click()

    await page.wait_for_url(re.compile(rf"{re.escape(base_url)}/admin/campaigns/\d+$"))
    assert await page.get_by_role("heading", level=1).inner_text() == "南通 2099 年度评估"
    assert "2099-12-20 17:00" in await page.locator(".facts").inner_text()
    for unit in ("崇川区科协", "海门区科协", "如东县科协"):
        assert await page.get_by_role("rowheader", name=unit).count() == 1
    campaign_id = int(page.url.rsplit("/", 1)[1])
    async with database.read() as session:
        campaign = await session.get(Campaign, campaign_id)
        units = list(await session.scalars(select(Unit.name).where(Unit.campaign_id == campaign_id).order_by(Unit.position)))
    assert campaign is not None and campaign.reminder_offsets == [3 * 86400, 86400, 2 * 3600]
    assert units == ["崇川区科协", "海门区科协", "如东县科协"]

    await page.get_by_role("button", name="关闭活动").click()
    await page.wait_for_url(f"{base_url}/admin/campaigns/{campaign_id}")
    assert "已关闭" in await page.locator(".facts").inner_text()
