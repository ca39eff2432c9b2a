"""The invitations pages: links that open the web chat, QR codes, copy all, adding units, revoking, re-issuing."""

from __future__ import annotations

import html as html_lib
import json
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.console_access import ConsoleAccess
from bot.settings import Settings
from handlers.console.qr_codes import qr_code
from storage.models import Invitation, Unit
from tests.console.conftest import ADMIN_ID, ConsoleWorld, site_root
from tests.storage.conftest import Backend, backend  # noqa: F401  (fixture)
from tests.web.conftest import UNITS, Clock, make_campaign

LINK = re.compile(r'<a class="link-url" href="([^"]+)">')
QR = re.compile(r'<img class="qr" src="([^"]+)" alt="([^"]+)"')
SVG = "{http://www.w3.org/2000/svg}"


def page_url(console: ConsoleWorld) -> str:
    return f"/admin/campaigns/{console.campaign_id}/invitations"


def unit_row(html: str, name: str) -> str:
    """The table row of the unit ``name``."""
    match = re.search(r'<tr id="unit-\d+">\s*<th scope="row">' + re.escape(name) + r"</th>(.*?)</tr>", html, re.S)
    assert match is not None, name
    return match.group(1)


def links_by_unit(html: str) -> dict[str, str]:
    return {
        name: LINK.findall(unit_row(html, name))[0]
        for name in re.findall(r'<th scope="row">([^<]+)</th>', html)
        if LINK.search(unit_row(html, name))
    }


def link_path(link: str) -> str:
    """``http://127.0.0.1:PORT/s/TOKEN`` → ``/s/TOKEN`` (the test client's server)."""
    return "/s/" + link.split("/s/", 1)[1]


async def opened_unit(console: ConsoleWorld, link: str) -> str:
    """The unit whose web chat ``link`` opens: the one its greeting names."""
    response = await console.client.get(link_path(link) + "/state")
    assert response.status == 200, await response.text()
    greeting = json.dumps((await response.json())["messages"], ensure_ascii=False)
    named = [name for name in (*UNITS, "如东县", "启东市") if name in greeting]
    assert len(named) == 1, greeting
    return named[0]


async def issue_all(console: ConsoleWorld, csrf: str) -> str:
    response = await console.client.post(f"{page_url(console)}/issue", data={"csrf": csrf})
    assert response.status == 200, await response.text()
    return await response.text()


async def unit_ids(console: ConsoleWorld) -> dict[str, int]:
    async with console.database.read() as session:
        return {unit.name: unit.id for unit in await session.scalars(select(Unit).where(Unit.campaign_id == console.campaign_id))}


def matrix_of_svg(svg: bytes) -> list[list[int]]:
    """The dark modules of a segno SVG (``M``/``m`` moves and ``h`` runs of its path) as a 0/1 matrix."""
    root = ElementTree.fromstring(svg)
    path = next(element for element in root.iter(f"{SVG}path") if element.get("class") == "qrline")
    cells: set[tuple[int, int]] = set()
    x = y = 0.0
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path.get("d", "")):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            for step in range(int(float(a))):
                cells.add((int(y - 0.5), int(x) + step))
            x += float(a)
    width = int(float(root.get("width", "0")) / 4)
    return [[1 if (row, column) in cells else 0 for column in range(width)] for row in range(width)]


async def test_invitations__issued_links_open_the_web_chat_of_their_unit(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    before = await (await console.client.get(page_url(console))).text()
    assert links_by_unit(before) == {}  # tokens are stored hashed: nothing to show before issuing
    assert "哈希" in before
    html = await issue_all(console, csrf)
    assert "已生成 3 个新链接。" in html
    links = links_by_unit(html)
    assert list(links) == list(UNITS)
    for name, link in links.items():
        assert link.startswith(f"http://127.0.0.1:{console.client.port}/s/")
        assert await opened_unit(console, link) == name
        assert (await console.client.get(link_path(link))).status == 200
    # Shown again on the next visit of this browser (the links were kept for its session).
    again = await (await console.client.get(page_url(console))).text()
    assert links_by_unit(again) == links


async def test_invitations__the_cli_links_keep_working_and_are_counted_not_shown(console: ConsoleWorld) -> None:
    await console.sign_in()
    html = await (await console.client.get(page_url(console))).text()
    assert "已有有效链接，但无法再次显示" in unit_row(html, UNITS[0])
    assert re.search(r"<td>1</td>", unit_row(html, UNITS[0]))


async def test_qr_codes__are_svg_of_the_link_without_style_or_script(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    html = await issue_all(console, csrf)
    row = unit_row(html, UNITS[1])
    link = LINK.findall(row)[0]
    qr_url, alt = QR.findall(row)[0]
    assert html_lib.unescape(alt) == f"{UNITS[1]}的网页链接二维码"
    response = await console.client.get(html_lib.unescape(qr_url))
    assert response.status == 200 and response.content_type == "image/svg+xml"
    assert response.headers["Cache-Control"] == "no-store"
    svg = await response.read()
    root = ElementTree.fromstring(svg)  # well-formed XML
    assert root.tag == f"{SVG}svg"
    assert b"style" not in svg and b"script" not in svg
    assert matrix_of_svg(svg) == [list(row) for row in qr_code(link).matrix_iter(border=4)]
    # Another link's code is another picture.
    other = html_lib.unescape(QR.findall(unit_row(html, UNITS[2]))[0][0])
    assert matrix_of_svg(await (await console.client.get(other)).read()) != matrix_of_svg(svg)


async def test_qr_codes__of_another_browser_or_a_made_up_id__are_not_found(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    html = await issue_all(console, csrf)
    qr_url = html_lib.unescape(QR.findall(unit_row(html, UNITS[0]))[0][0])
    assert (await console.client.get(qr_url.replace("/web.svg", "/telegram.svg"))).status == 404  # no bot username
    await console.sign_in()  # a new session of the same coordinator: it issued nothing
    assert (await console.client.get(qr_url)).status == 404
    assert links_by_unit(await (await console.client.get(page_url(console))).text()) == {}


async def test_copy_all__one_line_per_unit_in_the_page_and_as_a_download(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    html = await issue_all(console, csrf)
    links = links_by_unit(html)
    expected = "\n".join(f"{name}：{links[name]}" for name in UNITS)
    textarea = re.search(r'<textarea id="copy-text" readonly[^>]*>(.*?)</textarea>', html, re.S)
    assert textarea is not None and html_lib.unescape(textarea.group(1)) == expected
    assert re.search(r'<button type="button" data-copy="copy-text"[^>]*hidden>复制</button>', html)
    download = await console.client.get(f"{page_url(console)}/links.txt")
    assert download.status == 200 and download.content_type == "text/plain"
    assert download.headers["Content-Disposition"] == f'attachment; filename="invitations-{console.campaign_id}.txt"'
    assert await download.text() == expected + "\n"
    english = await (await console.client.get(f"{page_url(console)}/links.txt?lang=en")).text()
    assert english.splitlines()[0] == f"{UNITS[0]}: {links[UNITS[0]]}"


async def test_print_page__one_card_per_unit_with_name_qr_and_link(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    empty = await (await console.client.get(f"{page_url(console)}/print")).text()
    assert "本浏览器还没有生成链接" in empty and 'class="card"' not in empty
    links = links_by_unit(await issue_all(console, csrf))
    html = await (await console.client.get(f"{page_url(console)}/print")).text()
    cards = re.findall(
        r'<li class="card">\s*<h2>([^<]+)</h2>\s*<img class="qr" src="([^"]+)"[^>]*>.*?<p class="card-url">([^<]+)</p>',
        html,
        re.S,
    )
    assert [(name, url) for name, _, url in cards] == [(name, links[name]) for name in UNITS]
    for _, src, _ in cards:
        assert (await console.client.get(html_lib.unescape(src))).status == 200
    css_url = re.findall(r'<link rel="stylesheet" href="([^"]+invitations[^"]+)"', html)[0]
    css = await (await console.client.get(css_url)).text()
    assert "@media print" in css and "break-inside: avoid" in css and ".top, .skip, .screen-only { display: none; }" in css


async def test_add_units__they_appear_with_links_and_their_contact(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    response = await console.client.post(
        f"{page_url(console)}/units", data={"csrf": csrf, "roster": "如东县\trudong@example.cn\n# 注释\n\n启东市\n"}
    )
    html = await response.text()
    assert response.status == 200 and "已添加 2 个单位并生成了链接。" in html
    links = links_by_unit(html)
    assert list(links) == ["如东县", "启东市"]  # the earlier units' links were not issued in this browser
    for name, link in links.items():
        assert await opened_unit(console, link) == name
    campaign = await (await console.client.get(f"/admin/campaigns/{console.campaign_id}")).text()
    assert "如东县" in campaign and "启东市" in campaign
    async with console.database.read() as session:
        from storage.models import Respondent, RespondentUnit

        contact = await session.scalar(
            select(Respondent.external_id)
            .join(RespondentUnit, RespondentUnit.respondent_id == Respondent.id)
            .join(Unit, Unit.id == RespondentUnit.unit_id)
            .where(Unit.name == "如东县", Respondent.channel == "email")
        )
    assert contact == "rudong@example.cn"


async def test_add_units__reports_every_bad_line_and_adds_nothing(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    roster = f"如东县\n\t无名\n启东市\tnot-an-address@\n如东县\n{UNITS[0]}\n"
    response = await console.client.post(f"{page_url(console)}/units", data={"csrf": csrf, "roster": roster})
    html = await response.text()
    assert response.status == 400
    errors = [html_lib.unescape(item) for item in re.findall(r"<li>(第[^<]+)</li>", html)]
    assert errors == [
        "第 2 行：第一列为空",
        "第 3 行：“not-an-address@”不是电子邮件地址，请写成 name@example.cn",
        "第 4 行：“如东县”已在第 1 行",
    ]
    assert html_lib.unescape(re.search(r'<textarea id="roster"[^>]*>(.*?)</textarea>', html, re.S).group(1)) == roster  # type: ignore[union-attr]
    # A unit already on the roster is named too, once the lines are fine.
    response = await console.client.post(
        f"{page_url(console)}/units?lang=en", data={"csrf": csrf, "roster": f"如东县\n{UNITS[0]}"}
    )
    assert response.status == 400
    assert f"Line 2: “{UNITS[0]}” is already on the roster" in html_lib.unescape(await response.text())
    assert set(await unit_ids(console)) == set(UNITS)


@pytest.mark.parametrize(("language", "refusal"), [("zh", "这个邀请链接已被撤销"), ("en", "This invitation link was revoked")])
async def test_revoke__the_old_link_shows_the_revoked_page(console: ConsoleWorld, language: str, refusal: str) -> None:
    csrf = await console.sign_in()
    links = links_by_unit(await issue_all(console, csrf))
    unit_id = (await unit_ids(console))[UNITS[0]]
    old_cli_token = console.tokens[UNITS[0]]
    await console.client.get(f"{page_url(console)}?lang={language}")  # the console remembers the language
    response = await console.client.post(f"{page_url(console)}/units/{unit_id}/revoke", data={"csrf": csrf})
    html = await response.text()
    assert response.status == 200
    assert ("已撤销“崇川区”的 2 个链接" if language == "zh" else "2 link(s) of “崇川区” revoked") in html_lib.unescape(html)
    assert UNITS[0] not in links_by_unit(html)
    for path in (link_path(links[UNITS[0]]), f"/s/{old_cli_token}"):
        page = await console.client.get(path, headers={"Accept-Language": language})
        assert page.status == 404
        assert refusal in await page.text()
    assert (await console.client.get(link_path(links[UNITS[1]]))).status == 200  # other units untouched


async def test_reissue__the_new_link_works_and_the_old_does_not(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    old = links_by_unit(await issue_all(console, csrf))[UNITS[2]]
    unit_id = (await unit_ids(console))[UNITS[2]]
    response = await console.client.post(f"{page_url(console)}/units/{unit_id}/reissue", data={"csrf": csrf})
    html = await response.text()
    assert "已为“海门区”生成新链接，旧链接已撤销。" in html_lib.unescape(html)
    new = links_by_unit(html)[UNITS[2]]
    assert new != old
    assert await opened_unit(console, new) == UNITS[2]
    assert (await console.client.get(link_path(old))).status == 404
    assert re.search(r"<td>1</td>", unit_row(html, UNITS[2]))  # one live link left


async def test_every_page_and_action__refuses_without_a_session(console: ConsoleWorld) -> None:
    unit_id = (await unit_ids(console))[UNITS[0]]
    base = page_url(console)
    for path in (base, f"{base}/print", f"{base}/links.txt", f"{base}/qr/1/web.svg", "/admin/campaigns/999999/invitations"):
        response = await console.client.get(path, allow_redirects=False)
        assert (response.status, response.headers.get("Location")) == (303, "/admin/sign-in"), path
    for path in (f"{base}/issue", f"{base}/units", f"{base}/units/{unit_id}/revoke", f"{base}/units/{unit_id}/reissue"):
        response = await console.client.post(path, data={"roster": "新单位"}, allow_redirects=False)
        assert (response.status, response.headers.get("Location")) == (303, "/admin/sign-in"), path
    await assert_nothing_changed(console)


async def test_every_action__refuses_a_missing_or_wrong_csrf_token(console: ConsoleWorld) -> None:
    await console.sign_in()
    unit_id = (await unit_ids(console))[UNITS[0]]
    base = page_url(console)
    for path in (f"{base}/issue", f"{base}/units", f"{base}/units/{unit_id}/revoke", f"{base}/units/{unit_id}/reissue"):
        for data in ({"roster": "新单位"}, {"roster": "新单位", "csrf": "x" * 43}):
            response = await console.client.post(path, data=data, allow_redirects=False)
            assert response.status == 403, path
    response = await console.client.post(
        f"{base}/issue", data={"csrf": await console.csrf()}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status == 403
    await assert_nothing_changed(console)


async def assert_nothing_changed(console: ConsoleWorld) -> None:
    async with console.database.read() as session:
        invitations = list(await session.scalars(select(Invitation)))
        units = await session.scalar(select(func.count()).select_from(Unit))
    assert len(invitations) == 3 and all(invitation.revoked_at is None for invitation in invitations)
    assert units == 3
    assert (await console.client.get(f"/s/{console.tokens[UNITS[0]]}")).status == 200


async def test_a_campaign_or_unit_that_does_not_exist__is_a_404_page(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    for path in (
        "/admin/campaigns/999999/invitations",
        "/admin/campaigns/999999/invitations/print",
        f"{page_url(console)}/qr/999999/web.svg",
    ):
        response = await console.client.get(path)
        assert response.status == 404, path
        assert "没有这个页面" in await response.text()
    for path in (
        "/admin/campaigns/999999/invitations/issue",
        f"{page_url(console)}/units/999999/revoke",
        f"{page_url(console)}/units/999999/reissue",
    ):
        response = await console.client.post(path, data={"csrf": csrf})
        assert response.status == 404, path
    await assert_nothing_changed(console)


async def test_a_closed_campaign__issues_nothing_and_says_so(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    async with console.database.transaction() as session:
        from storage.campaigns import close_campaign, get_campaign

        await close_campaign(session=session, campaign=await get_campaign(session=session, campaign_id=console.campaign_id))
    response = await console.client.post(f"{page_url(console)}/issue", data={"csrf": csrf})
    html = await response.text()
    assert "此收集任务已结束" in html and 'action="' + page_url(console) + '/issue"' not in html
    async with console.database.read() as session:
        assert await session.scalar(select(func.count()).select_from(Invitation)) == 3


async def test_pages__english_csp_no_inline_script_or_style_and_a_link_from_the_campaign(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    await issue_all(console, csrf)
    campaign = await (await console.client.get(f"/admin/campaigns/{console.campaign_id}")).text()
    assert f'<a href="{page_url(console)}">邀请链接与二维码</a>' in campaign
    for path in (f"{page_url(console)}?lang=en", f"{page_url(console)}/print"):
        response = await console.client.get(path)
        html = await response.text()
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self';")
        assert "<script>" not in html and "<style" not in html and " style=" not in html, path
        assert re.search(r'<script src="/admin/assets/invitations\.[0-9a-f]{10}\.js" defer></script>', html)
        assert '<html lang="en">' in html
    english = await (await console.client.get(page_url(console))).text()
    assert "<h1>Invitation links: 南通中期评估</h1>" in english and "Issue new links for all units" in english
    script = re.findall(r'<script src="([^"]+)"', english)[0]
    response = await console.client.get(script)
    assert response.status == 200 and "navigator.clipboard.writeText" in await response.text()


@pytest.fixture
async def console_with_telegram(backend: Backend, tmp_path: Path) -> AsyncIterator[ConsoleWorld]:  # noqa: F811
    """The console of a process with a public URL and a Telegram bot."""
    database = backend.open()
    clock = Clock(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    campaign_id, tokens = await make_campaign(database, clock, deadline=datetime(2026, 12, 15, 9, 0, tzinfo=UTC))
    settings = Settings(
        database_url=backend.url_with_schema,
        data_dir=tmp_path / "data",
        admin_ids=frozenset({ADMIN_ID}),
        public_url="https://survey.example.org/",
        telegram_bot_username="@nantong_report_bot",
    )
    server = TestServer(site_root(database, settings, clock, tmp_path))
    client = TestClient(server)
    await client.start_server()
    try:
        yield ConsoleWorld(
            database=database,
            access=ConsoleAccess(database=database, settings=settings, clock=clock),
            clock=clock,
            client=client,
            campaign_id=campaign_id,
            tokens=tokens,
        )
    finally:
        await client.close()
        await backend.dispose_all()


async def test_with_a_public_url_and_a_telegram_bot__both_links_and_both_qr_codes(console_with_telegram: ConsoleWorld) -> None:
    console = console_with_telegram
    html = await issue_all(console, await console.sign_in())
    assert "SURVEYBOT_PUBLIC_URL" not in html
    row = unit_row(html, UNITS[0])
    web, telegram = LINK.findall(row)
    token = web.removeprefix("https://survey.example.org/s/")
    assert len(token) == 22 and telegram == f"https://t.me/nantong_report_bot?start={token}"
    (web_qr, web_alt), (telegram_qr, telegram_alt) = QR.findall(row)
    assert html_lib.unescape(telegram_alt) == f"{UNITS[0]}的Telegram 链接二维码"
    for qr_url, link in ((web_qr, web), (telegram_qr, html_lib.unescape(telegram))):
        svg = await (await console.client.get(html_lib.unescape(qr_url))).read()
        assert matrix_of_svg(svg) == [list(row) for row in qr_code(link).matrix_iter(border=4)]
    # "Copy all" gives the web link: what opens inside WeChat.
    text = await (await console.client.get(f"{page_url(console)}/links.txt")).text()
    assert text.splitlines()[0] == f"{UNITS[0]}：{web}"
    # The token opens the unit in the web chat of this server too.
    assert await opened_unit(console, web) == UNITS[0]


async def test_a_unit_or_qr_of_another_campaign__cannot_be_reached_through_this_one(console: ConsoleWorld) -> None:
    other_id, other_tokens = await make_campaign(
        console.database, console.clock, deadline=datetime(2026, 12, 20, 9, 0, tzinfo=UTC)
    )
    csrf = await console.sign_in()
    async with console.database.read() as session:
        other_unit = await session.scalar(select(Unit.id).where(Unit.campaign_id == other_id, Unit.name == UNITS[0]))
    for action in ("revoke", "reissue"):
        response = await console.client.post(f"{page_url(console)}/units/{other_unit}/{action}", data={"csrf": csrf})
        assert response.status == 404, action
    assert (await console.client.get(f"/s/{other_tokens[UNITS[0]]}")).status == 200
    # A QR code issued for the other campaign is not served under this one's address.
    response = await console.client.post(f"/admin/campaigns/{other_id}/invitations/issue", data={"csrf": csrf})
    qr_url = html_lib.unescape(QR.findall(unit_row(await response.text(), UNITS[0]))[0][0])
    assert (await console.client.get(qr_url)).status == 200
    crafted = qr_url.replace(f"/campaigns/{other_id}/", f"/campaigns/{console.campaign_id}/")
    assert (await console.client.get(crafted)).status == 404
