"""Changing a campaign's automatic reminders from the console (``/admin/campaigns/{id}/reminders``).

Through the real site and database: the form, the stored offsets, and the
campaign page's schedule read back as a coordinator sees it. The fixture's
campaign: deadline 15 Dec 17:00 Shanghai, reminders 3d, 1d, 2h, the clock on 1 Dec.
"""

from __future__ import annotations

import re

import aiohttp
from sqlalchemy import select

from storage.coordinators import add_coordinator, remove_coordinator
from storage.models import Campaign
from tests.console.conftest import ConsoleWorld
from tests.console.test_console_progress import table_rows
from tests.console.test_console_setup import page_text

SHANGHAI = "（UTC+08:00，Asia/Shanghai）"
DAY, HOUR = 86400, 3600
FIXTURE_OFFSETS = [3 * DAY, DAY, 2 * HOUR]


async def stored_offsets(console: ConsoleWorld) -> list[int]:
    async with console.database.read() as session:
        campaign = await session.scalar(select(Campaign).where(Campaign.id == console.campaign_id))
        assert campaign is not None
        return list(campaign.reminder_offsets or ())


async def post_reminders(
    console: ConsoleWorld, csrf: str, text: str, *, lang: str = "zh", follow: bool = False
) -> aiohttp.ClientResponse:
    return await console.client.post(
        f"/admin/campaigns/{console.campaign_id}/reminders?lang={lang}",
        data={"csrf": csrf, "remind": text},
        allow_redirects=follow,
    )


async def campaign_page(console: ConsoleWorld, *, lang: str = "zh") -> str:
    response = await console.client.get(f"/admin/campaigns/{console.campaign_id}?lang={lang}")
    assert response.status == 200
    return await response.text()


async def test_reminders__the_campaign_page_links_to_the_form_prefilled_with_the_current_times(console: ConsoleWorld) -> None:
    await console.sign_in()
    page = await campaign_page(console)
    link = re.search(r'<a id="change-reminders" href="([^"]+)">([^<]+)</a>', page)
    assert link is not None and link.group(2) == "更改自动提醒"
    form = await console.client.get(link.group(1))
    body = await form.text()
    assert form.status == 200
    assert re.search(r'<input type="text" id="remind" name="remind" value="3d,1d,2h"', body)
    text = page_text(body)
    assert "现在的设定：截止前 3d,1d,2h。" in text
    assert "留空表示不自动提醒" in text and "Asia/Shanghai" in text
    assert "<script" not in body and "style=" not in body
    english = page_text(await (await console.client.get(f"{link.group(1)}?lang=en")).text())
    assert "Change the automatic reminders" in english and "leave it empty for no automatic reminders" in english


async def test_reminders__set_two_times_stores_them_and_the_page_lists_them_in_the_campaign_zone(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    response = await post_reminders(console, csrf, "2d,3h")
    assert response.status == 303
    location = response.headers["Location"]
    assert location.startswith(f"/admin/campaigns/{console.campaign_id}?") and location.endswith("#schedule-heading")
    assert await stored_offsets(console) == [2 * DAY, 3 * HOUR]

    page = await (await console.client.get(location)).text()
    assert "自动提醒已由截止前 3d,1d,2h 改为截止前 2d,3h。" in page_text(page)
    assert table_rows(page, "schedule-table") == [
        [f"2026-12-13 17:00{SHANGHAI}", "待发送"],
        [f"2026-12-15 14:00{SHANGHAI}", "待发送"],
    ]
    assert "截止前 2d,3h 自动提醒未提交的单位" in page_text(page)
    assert "自动提醒已由" not in page_text(await campaign_page(console))  # the notice is for the redirect only


async def test_reminders__a_bad_text_shows_the_error_in_the_page_language_and_changes_nothing(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    response = await post_reminders(console, csrf, "3x")
    body = await response.text()
    assert response.status == 200
    assert "“3x”不是截止前的时间" in page_text(body)
    assert re.search(r'name="remind" value="3x"[^>]*aria-describedby="hint-remind error-remind" aria-invalid="true"', body)
    english = await post_reminders(console, csrf, "2d,3x", lang="en")
    assert "“3x” is not a time before the deadline" in page_text(await english.text())
    repeated = await post_reminders(console, csrf, "1d,24h", lang="en")
    assert "A reminder time is given twice in “1d,24h”; give each once." in page_text(await repeated.text())
    assert await stored_offsets(console) == FIXTURE_OFFSETS


async def test_reminders__an_empty_text_removes_them_and_the_page_says_none_is_set(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    response = await post_reminders(console, csrf, "  ", follow=True)
    assert response.status == 200
    text = page_text(await response.text())
    assert "已取消自动提醒（原为截止前 3d,1d,2h）" in text
    assert "没有设定自动提醒。点下方的“更改自动提醒”设定" in text
    assert await stored_offsets(console) == []
    page = await campaign_page(console)
    assert 'id="schedule-table"' not in page
    assert 'id="change-reminders"' in page
    english = page_text(await campaign_page(console, lang="en"))
    assert "No automatic reminders are set. Set their times before the deadline with “Change the automatic reminders”" in english
    form = await (await console.client.get(f"/admin/campaigns/{console.campaign_id}/reminders?lang=zh")).text()
    assert re.search(r'name="remind" value=""', form) and "现在没有设定自动提醒。" in page_text(form)


async def test_reminders__a_closed_campaign_is_refused(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    closed = await console.client.post(f"/admin/campaigns/{console.campaign_id}/close", data={"csrf": csrf}, allow_redirects=False)
    assert closed.status == 303
    assert 'id="change-reminders"' not in await campaign_page(console)

    form = await (await console.client.get(f"/admin/campaigns/{console.campaign_id}/reminders")).text()
    assert "活动已关闭，不发送自动提醒，也不能更改" in page_text(form) and 'name="remind"' not in form
    response = await post_reminders(console, csrf, "2d", lang="en")
    assert response.status == 200
    assert "The campaign is closed: no automatic reminder is sent, and they cannot be changed." in page_text(await response.text())
    assert await stored_offsets(console) == FIXTURE_OFFSETS


async def test_reminders__a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing(console: ConsoleWorld) -> None:
    await console.sign_in()
    for token in ("", "forged"):
        response = await post_reminders(console, token, "2d")
        assert response.status == 403, token
    assert await stored_offsets(console) == FIXTURE_OFFSETS


async def test_reminders__without_a_coordinator_session_nothing_is_reached(console: ConsoleWorld) -> None:
    path = f"/admin/campaigns/{console.campaign_id}/reminders"
    for response in (
        await console.client.get(path, allow_redirects=False),
        await console.client.post(path, data={"csrf": "x", "remind": "2d"}, allow_redirects=False),
    ):
        assert (response.status, response.headers.get("Location")) == (303, "/admin/sign-in")

    async with console.database.transaction() as session:
        await add_coordinator(session=session, channel="telegram", external_id="779")
    csrf = await console.sign_in(external_id="779")
    assert (await console.client.get(path, allow_redirects=False)).status == 200  # while a coordinator
    async with console.database.transaction() as session:
        await remove_coordinator(session=session, channel="telegram", external_id="779")
    for response in (
        await console.client.get(path, allow_redirects=False),
        await post_reminders(console, csrf, "2d"),
    ):
        assert (response.status, response.headers.get("Location")) == (303, "/admin/sign-in")
    missing = await console.client.get("/admin/campaigns/999999/reminders", allow_redirects=False)
    assert missing.status == 303
    assert await stored_offsets(console) == FIXTURE_OFFSETS
