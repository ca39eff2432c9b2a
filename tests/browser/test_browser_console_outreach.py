"""Remind from the console in a real browser (phone width): pick, preview, confirm, watch the count, get the e-mail."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storage.campaigns import get_campaign
from storage.rosters import add_units
from tests.browser.conftest import page  # noqa: F401  (fixture)
from tests.console.conftest import ADMIN_ID
from tests.console.outreach_world import PUBLIC_URL, OutreachWorld, outreach_world
from tests.storage.conftest import Backend, backend  # noqa: F401  (fixture)


@pytest.fixture
async def site(backend: Backend, tmp_path: Path) -> AsyncIterator[tuple[OutreachWorld, str]]:  # noqa: F811
    async with outreach_world(backend, tmp_path, start_worker=False) as (world, server):
        yield world, str(server.make_url("")).rstrip("/")


async def no_sideways_scroll(browser_page: Any) -> None:
    width = await browser_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px screen"


async def test_remind_from_the_console__preview_confirm_and_the_email_arrives(
    site: tuple[OutreachWorld, str],
    page: Any,  # noqa: F811
) -> None:
    world, base_url = site
    await world.add_email("通州区", "lilei@tongzhou.example.cn")
    await world.submit("海门区")
    token = await world.access.issue_login_link(channel="telegram", external_id=str(ADMIN_ID))
    await page.goto(f"{base_url}/admin/login/{token}")
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(f"{base_url}/admin/")
    await page.get_by_role("link", name="南通中期评估").click()

    await page.get_by_role("link", name="立即提醒").click()
    assert await page.get_by_role("heading", level=1).inner_text() == "提醒未提交的单位"
    assert await page.get_by_role("checkbox", name="崇川区").is_checked()
    assert await page.get_by_role("checkbox", name="通州区").is_checked()
    assert not await page.get_by_role("checkbox", name="海门区").is_checked()  # submitted
    await no_sideways_scroll(page)
    await page.get_by_role("checkbox", name="崇川区").uncheck()
    await page.get_by_role("button", name="预览").click()

    assert await page.get_by_role("heading", level=1).inner_text() == "确认提醒"
    row = page.get_by_role("row", name=re.compile("通州区"))
    assert "电子邮件" in await row.inner_text() and "填报提醒：" in await row.inner_text()
    assert await page.get_by_role("row", name=re.compile("崇川区")).count() == 0
    await no_sideways_scroll(page)
    assert world.smtp.mailbox.messages == []  # nothing before the confirmation
    await page.get_by_role("button", name="确认发送（1 人）").click()

    assert await page.get_by_role("heading", level=1).inner_text() == "提醒发送情况"
    assert await page.locator('[data-field="queued"]').inner_text() == "1"
    assert await page.locator('[data-field="state_text"]').inner_text() == "正在发送"
    world.worker.start()  # the sender only now: the page must change without a reload
    await page.locator('[data-field="state_text"]').filter(has_text="已完成").wait_for(timeout=15_000)
    assert await page.locator('[data-field="sent"]').inner_text() == "1"
    assert await page.locator('[data-field="queued"]').inner_text() == "0"
    await world.smtp.wait_until(lambda: len(world.smtp.mailbox.messages) == 1)
    [mail] = world.smtp.mailbox.messages
    assert mail["To"] == "lilei@tongzhou.example.cn"
    body = mail.get_content()
    assert "通州区：已答 0/" in body and f"{PUBLIC_URL}/s/" in body


async def test_progress__the_refused_unit_appears_under_the_counts_without_a_reload(
    site: tuple[OutreachWorld, str],
    page: Any,  # noqa: F811
) -> None:
    world, base_url = site
    async with world.database.transaction() as session:
        campaign = await get_campaign(session=session, campaign_id=world.campaign_id)
        await add_units(session=session, campaign=campaign, names=["港闸区<b>老城</b>"])  # user text, not markup
    await world.add_email("通州区", "lilei@tongzhou.example.cn")
    await world.add_email("港闸区<b>老城</b>", "gone@gangzha.example.cn")
    world.smtp.mailbox.script("gone@gangzha.example.cn", "550 5.1.1 no such user")
    token = await world.access.issue_login_link(channel="telegram", external_id=str(ADMIN_ID))
    await page.goto(f"{base_url}/admin/login/{token}")
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url(f"{base_url}/admin/")
    await page.goto(f"{base_url}/admin/campaigns/{world.campaign_id}/remind")
    await page.get_by_role("checkbox", name="崇川区").uncheck()
    await page.get_by_role("checkbox", name="海门区").uncheck()
    await page.get_by_role("button", name="预览").click()
    await page.get_by_role("button", name="确认发送（2 人）").click()

    problems = page.get_by_role("list", name=re.compile("发送失败或无法送达"))
    assert not await problems.is_visible()  # nothing failed yet
    world.worker.start()  # the sender only now: the list must appear without a reload
    await page.locator('[data-field="state_text"]').filter(has_text="已完成").wait_for(timeout=15_000)
    await problems.wait_for(state="visible", timeout=5_000)

    assert await page.get_by_role("heading", name="发送失败或无法送达（1）").is_visible()
    [row] = await problems.get_by_role("listitem").all()
    text = await row.inner_text()
    assert "港闸区<b>老城</b>" in text and "gone@gangzha.example.cn" in text
    assert "邮件服务器拒收此地址（地址不存在或已停用）" in text and "SMTP 550 5.1.1 no such user" in text
    assert await problems.locator("b").count() == 0  # the name went in as text
    assert "通州区" not in await problems.inner_text()
    await no_sideways_scroll(page)
