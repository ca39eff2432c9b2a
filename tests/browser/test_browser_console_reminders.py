"""The coordinator console in a real browser, at a desktop: change a campaign's automatic reminders from its page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from storage.database import Database
from storage.models import Campaign
from tests.browser.conftest import page, sign_in_as_coordinator  # noqa: F401  (fixture)
from tests.browser.test_browser_console_setup import setup_site  # noqa: F401  (fixture)
from tests.storage.conftest import backend  # noqa: F401  (fixture)


async def test_console__changes_the_automatic_reminders_from_the_campaign_page(
    setup_site: tuple[str, Database],  # noqa: F811
    page: Any,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The campaign of the fixture: deadline 2099-12-15 17:00 Shanghai, reminders 3d, 1d, 2h."""
    base_url, database = setup_site
    await page.set_viewport_size({"width": 1280, "height": 800})
    await sign_in_as_coordinator(page, capsys)

    await page.get_by_role("link", name="南通中期评估").first.click()
    await page.wait_for_url(re.compile(rf"{re.escape(base_url)}/admin/campaigns/\d+$"))
    campaign_id = int(page.url.rsplit("/", 1)[1])
    schedule = page.locator("#schedule-table")
    assert await schedule.locator("tbody tr").count() == 3

    await page.get_by_role("link", name="更改自动提醒").click()
    await page.wait_for_url(f"{base_url}/admin/campaigns/{campaign_id}/reminders")
    field = page.get_by_label("截止前的提醒时间")
    assert await field.input_value() == "3d,1d,2h"
    await field.fill("2d，3x")
    await page.get_by_role("button", name="保存自动提醒").click()
    assert "“3x”不是截止前的时间" in await page.locator("#error-remind").inner_text()
    assert await field.get_attribute("aria-invalid") == "true"

    await field.fill("2d，3h")  # a Chinese comma is a comma too
    await page.get_by_role("button", name="保存自动提醒").click()
    await page.wait_for_url(re.compile(rf"{re.escape(base_url)}/admin/campaigns/{campaign_id}\?.*#schedule-heading$"))
    assert await page.get_by_role("status").filter(has_text="自动提醒").inner_text() == (
        "自动提醒已由截止前 3d,1d,2h 改为截止前 2d,3h。"
    )
    rows = await schedule.locator("tbody tr th").all_inner_texts()
    assert [row.split("（")[0].strip() for row in rows] == ["2099-12-13 17:00", "2099-12-15 14:00"]
    assert await page.evaluate("document.documentElement.scrollWidth") <= 1280
    async with database.read() as session:
        campaign = await session.get(Campaign, campaign_id)
    assert campaign is not None and campaign.reminder_offsets == [2 * 86400, 3 * 3600]
