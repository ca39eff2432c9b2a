"""The console's first pages: the campaigns and a campaign's units, as a coordinator sees them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from tests.console.conftest import ConsoleWorld
from tests.web.conftest import UNITS


def rows(html: str) -> list[str]:
    """The table's body rows, tags stripped, cells separated by ``|``."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]
    return [" | ".join(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip() for cell in row) for row in cells]


async def answer_first_question(console: ConsoleWorld, unit: str) -> None:
    """The unit's respondent opens its web link and answers the first question."""
    token = console.tokens[unit]
    state = await (await console.client.get(f"/s/{token}/state")).json()
    response = await console.client.post(
        f"/s/{token}/action",
        json={"key": "k" * 16, "position": state["position"], "language": "zh", "action": {"type": "text", "text": "张三"}},
    )
    assert response.status == 200, await response.text()


async def test_campaigns__list_title_survey_deadline_with_offset_and_a_bar(console: ConsoleWorld) -> None:
    await console.sign_in()
    await answer_first_question(console, UNITS[0])
    page = await console.client.get("/admin/")
    html = await page.text()
    assert rows(html) == [
        "南通中期评估 | nantong-midterm-2023 | 2026-12-15 17:00（UTC+08:00，Asia/Shanghai） | 进行中 | "
        "已提交 0，填写中 1，未开始 2（共 3 个单位）"
    ]
    assert f'href="/admin/campaigns/{console.campaign_id}"' in html
    # The bar: one third in progress, two thirds not started; its text for screen readers.
    assert 'class="bar-in-progress" x="0.0" y="0" width="33.333"' in html
    assert 'class="bar-not-started" x="33.333" y="0" width="66.667"' in html
    assert 'role="img" aria-label="已提交 0，填写中 1，未开始 2（共 3 个单位）"' in html


async def test_campaign_page__lists_units_with_answered_counts_and_last_activity(console: ConsoleWorld) -> None:
    await console.sign_in()
    await answer_first_question(console, UNITS[1])
    html = await (await console.client.get(f"/admin/campaigns/{console.campaign_id}")).text()
    assert "<h1>南通中期评估</h1>" in html
    questions = rows(html)[0].split(" | ")[2].split("/")[1]
    assert int(questions) > 1
    assert rows(html) == [  # unit | status | n/N | last activity | channel | reminders sent | unreachable
        f"{UNITS[0]} | 未开始 | 0/{questions} | 无 | 无 | 0 | ",
        f"{UNITS[1]} | 填写中 | 1/{questions} | 2026-12-01 10:00 | 网页 | 0 | ",  # the clock's 02:00 UTC, in Shanghai
        f"{UNITS[2]} | 未开始 | 0/{questions} | 无 | 无 | 0 | ",
    ]
    assert '<strong class="late">已逾期</strong>' not in html


async def test_campaign_page__marks_units_overdue_after_the_deadline(console: ConsoleWorld) -> None:
    console.clock.now = datetime(2026, 12, 15, 9, 0, tzinfo=UTC) + timedelta(minutes=1)
    await console.sign_in()
    html = await (await console.client.get(f"/admin/campaigns/{console.campaign_id}")).text()
    assert all(row.split(" | ")[1] == "未开始 已逾期" for row in rows(html))
    assert "截止时间已过" in html


async def test_pages__speak_english_when_asked_and_remember_it(console: ConsoleWorld) -> None:
    await console.sign_in()
    html = await (await console.client.get("/admin/?lang=en")).text()
    assert '<html lang="en">' in html and "<h1>Campaigns</h1>" in html
    assert "2026-12-15 17:00 (UTC+08:00, Asia/Shanghai)" in html
    html = await (await console.client.get(f"/admin/campaigns/{console.campaign_id}")).text()
    assert "not started" in html and 'last_activity&amp;dir=asc">Last activity</a></th>' in html


async def test_a_crafted_campaign_id__shows_nothing(console: ConsoleWorld) -> None:
    for path in (f"/admin/campaigns/{console.campaign_id}", "/admin/campaigns/999999", "/admin/campaigns/1%20OR%201=1"):
        response = await console.client.get(path, allow_redirects=False)
        assert (response.status, response.headers["Location"]) == (303, "/admin/sign-in"), path
        assert "南通" not in await response.text()
    await console.sign_in()
    missing = await console.client.get("/admin/campaigns/999999")
    assert missing.status == 404
    assert "没有这个页面" in await missing.text()


async def test_a_respondents_web_link_or_chat_session__opens_no_console_page(console: ConsoleWorld) -> None:
    token = console.tokens[UNITS[0]]
    assert (await console.client.get(f"/s/{token}")).status == 200  # the respondent's page, with its cookies if any
    await answer_first_question(console, UNITS[0])
    for path in ("/admin/", f"/admin/campaigns/{console.campaign_id}", "/admin/sessions", f"/admin/login/{token}"):
        response = await console.client.get(path, allow_redirects=False)
        assert response.status in (303, 410), path
        assert "南通中期评估" not in await response.text()
    # The invitation token is no sign-in token either.
    assert (await console.client.post(f"/admin/login/{token}", allow_redirects=False)).status == 410
    assert (await console.client.get("/admin/", cookies={"surveybot_console": token}, allow_redirects=False)).status == 303


async def test_pages__carry_a_strict_csp_and_no_inline_script_or_style(console: ConsoleWorld) -> None:
    await console.sign_in()
    for path in ("/admin/", f"/admin/campaigns/{console.campaign_id}", "/admin/sessions", "/admin/sign-in"):
        response = await console.client.get(path)
        html = await response.text()
        csp = response.headers["Content-Security-Policy"]
        assert csp.startswith("default-src 'self';") and "unsafe-inline" not in csp
        assert response.headers["Cache-Control"] == "no-store"
        assert "<style" not in html and " style=" not in html, path
        # Scripts only from our own files, none inline.
        assert re.findall(r"<script[^>]*>", html) == re.findall(r'<script src="/admin/assets/[\w.]+\.js" defer>', html), path
        assert all(not inner.strip() for inner in re.findall(r"<script[^>]*>(.*?)</script>", html, re.S)), path
        assert 'name="viewport"' in html
        stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', html)
        assert stylesheet is not None
        css = await console.client.get(stylesheet.group(1))
        assert css.status == 200 and css.content_type == "text/css"


async def test_an_unexpected_error__shows_a_page_not_a_traceback(console: ConsoleWorld) -> None:
    await console.sign_in()
    async with console.database.transaction() as session:  # the campaigns' query fails inside the handler
        await session.execute(text("ALTER TABLE campaigns RENAME TO campaigns_gone"))
    response = await console.client.get("/admin/")
    html = await response.text()
    assert response.status == 500
    assert "抱歉，处理时出了点问题" in html and "Traceback" not in html and "campaigns" not in html.split("<main", 1)[1]
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self';")
