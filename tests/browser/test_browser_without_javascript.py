"""With JavaScript off the page still works: server-rendered forms post the same actions, with a CSRF token."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from storage.models import AnswerHistory
from tests.browser.conftest import BrowserWorld


@pytest.fixture
def javascript() -> bool:
    return False


async def newest(page: Any) -> str:
    return str(await page.locator("section.group").last.inner_text())


async def submit_text(page: Any, text: str) -> str:
    await page.locator("#nojs-text").fill(text)
    async with page.expect_navigation():
        await page.locator("#nojs-text").press("Enter")
    return await newest(page)


async def press(page: Any, label: str) -> str:
    async with page.expect_navigation():
        await page.get_by_role("button", name=label, exact=True).last.click()
    return await newest(page)


async def test_without_javascript__typed_answers_buttons_and_language_by_forms(site: BrowserWorld, page: Any) -> None:
    await page.goto(site.link("通州区"))
    assert "第 1/18 题" in await newest(page)
    assert "第 2/18 题" in await submit_text(page, "通州区科协")
    await submit_text(page, "张三")
    assert "请输入11位手机号" in await submit_text(page, "123")
    await submit_text(page, "0513-59003013")
    text = await submit_text(page, "2023-04-26")
    assert "1. 是否将全民科学素质相关内容纳入本地“十四五”经济社会发展规划" in text
    assert "2. 是否将全民科学素质" in await press(page, "是")
    assert "Switched to English" in await press(page, "English")
    assert await page.locator("html").get_attribute("lang") == "en"

    async with site.database.read() as session:
        history = (await session.scalars(select(AnswerHistory).order_by(AnswerHistory.id))).all()
    assert [h.new_value for h in history] == ["通州区科协", "张三", "0513-59003013", "2023-04-26", "yes"]
