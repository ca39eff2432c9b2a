"""The invitations pages in a real browser at a phone's width: issue links, see the QR codes, copy, print."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import page, sign_in_as_coordinator  # noqa: F401  (fixture)
from tests.browser.test_browser_console import console_site  # noqa: F401  (fixture)
from tests.storage.conftest import backend  # noqa: F401  (fixture)
from tests.web.conftest import UNITS


async def test_invitations__qr_codes_copy_all_a_link_that_opens_and_the_print_sheet(
    console_site: str,  # noqa: F811
    page: Any,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    await sign_in_as_coordinator(page, capsys)
    await page.get_by_role("link", name="南通中期评估").click()
    await page.get_by_role("link", name="邀请链接与二维码").click()
    assert await page.get_by_role("heading", level=1).inner_text() == "邀请链接：南通中期评估"

    await page.get_by_role("button", name="为全部单位生成新链接").click()
    await page.get_by_role("status").filter(has_text="已生成 3 个新链接。").wait_for()
    images = page.get_by_role("img", name="网页链接二维码")
    assert await images.count() == 3
    for index in range(3):
        image = images.nth(index)
        await image.scroll_into_view_if_needed()
        await page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=await image.element_handle())
    # Nothing is wider than the phone's screen but the table's own scroll box.
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390

    qr_url = await images.first.get_attribute("src")
    qr = await page.request.get(console_site + qr_url)
    assert qr.status == 200 and qr.headers["content-type"] == "image/svg+xml"
    assert (await qr.body()).lstrip().startswith(b"<?xml")

    # Copy all: the button appears with JavaScript and says it copied.
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=console_site)
    copy_text = await page.get_by_role("textbox", name="全部链接").input_value()
    assert [line.split("：")[0] for line in copy_text.splitlines()] == list(UNITS)
    await page.get_by_role("button", name="复制").click()
    await page.get_by_role("status").filter(has_text="已复制。").wait_for()
    assert await page.evaluate("navigator.clipboard.readText()") == copy_text

    # The first unit's link opens its web chat in a second page.
    link = await page.get_by_role("row", name=UNITS[0]).get_by_role("link").first.get_attribute("href")
    respondent = await page.context.new_page()
    await respondent.goto(link)
    await respondent.get_by_text(UNITS[0]).first.wait_for()
    await respondent.close()

    # The printable sheet: a card per unit, and in print the navigation is gone.
    await page.get_by_role("link", name="打印卡片（每个单位一张）").click()
    cards = page.locator(".card")
    assert await cards.count() == 3
    assert await cards.nth(1).get_by_role("heading").inner_text() == UNITS[1]
    assert await page.get_by_role("button", name="打印").is_visible()
    await page.emulate_media(media="print")
    assert not await page.locator("header.top").is_visible()
    assert not await page.get_by_role("button", name="打印").is_visible()
    assert await page.evaluate("getComputedStyle(document.querySelector('.card')).breakInside") == "avoid"
