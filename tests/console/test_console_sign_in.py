"""Signing in to the console: one-time links, server-side sessions, CSRF, sign-out."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from storage.console_sessions import hash_secret
from storage.coordinators import add_coordinator, remove_coordinator
from storage.models import ConsoleLoginLink, ConsoleSession
from tests.console.conftest import ConsoleWorld

#: Every page of the console that needs a session (the campaign's id is filled in).
PAGES = ("/admin/", "/admin/campaigns/{id}", "/admin/sessions", "/admin/campaigns/999999", "/admin/no-such-page")
#: Every action of the console (a POST needing a session and its CSRF token).
ACTIONS = ("/admin/sign-out", "/admin/sessions/1/revoke")


async def test_pages_without_a_session__redirect_to_the_sign_in_page(console: ConsoleWorld) -> None:
    for page in PAGES:
        response = await console.client.get(page.format(id=console.campaign_id), allow_redirects=False)
        assert (response.status, response.headers.get("Location")) == (303, "/admin/sign-in"), page
    sign_in = await console.client.get("/admin/sign-in")
    assert sign_in.status == 200
    assert "surveybot admin login-link" in await sign_in.text()


async def test_admin_without_a_slash__goes_to_the_console(console: ConsoleWorld) -> None:
    response = await console.client.get("/admin", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (308, "/admin/")


async def test_actions_without_a_session__redirect_and_change_nothing(console: ConsoleWorld) -> None:
    for action in ACTIONS:
        response = await console.client.post(action, data={"csrf": "x"}, allow_redirects=False)
        assert (response.status, response.headers.get("Location")) == (303, "/admin/sign-in"), action


async def test_actions_without_the_sessions_csrf_token__are_refused_with_403(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    for action in ACTIONS:
        for data in ({}, {"csrf": ""}, {"csrf": csrf[:-1] + ("A" if csrf[-1] != "A" else "B")}):
            response = await console.client.post(action, data=data, allow_redirects=False)
            assert response.status == 403, (action, data)
            assert "无法验证此请求" in await response.text()
    # Nothing was revoked: the session still opens the console.
    assert (await console.client.get("/admin/", allow_redirects=False)).status == 200


async def test_a_login_link__signs_in_once(console: ConsoleWorld) -> None:
    token = await console.login_token()
    response = await console.client.post(f"/admin/login/{token}", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/admin/")
    cookie = response.cookies["surveybot_console"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/admin"
    assert not cookie["secure"]  # SURVEYBOT_PUBLIC_URL is not https here
    page = await console.client.get("/admin/")
    assert page.status == 200
    assert "南通中期评估" in await page.text()

    console.client.session.cookie_jar.clear()
    again = await console.client.post(f"/admin/login/{token}", allow_redirects=False)
    assert again.status == 410
    assert "已被使用或已过期" in await again.text()
    assert "surveybot_console" not in again.cookies
    assert (await console.client.get("/admin/", allow_redirects=False)).status == 303


async def test_opening_a_login_link__shows_a_confirm_page_and_consumes_nothing(console: ConsoleWorld) -> None:
    token = await console.login_token()
    for _ in range(3):  # a chat's link preview, then the coordinator, then a reload
        page = await console.client.get(f"/admin/login/{token}", allow_redirects=False)
        assert page.status == 200
        body = await page.text()
        assert f'action="/admin/login/{token}"' in body and 'method="post"' in body
        assert "surveybot_console" not in page.cookies
    async with console.database.read() as session:
        link = await session.scalar(select(ConsoleLoginLink))
    assert link is not None and link.used_at is None
    assert (await console.client.post(f"/admin/login/{token}", allow_redirects=False)).status == 303


async def test_a_login_link__expires(console: ConsoleWorld) -> None:
    token = await console.login_token(ttl=timedelta(minutes=15))
    console.clock.now += timedelta(minutes=15)
    assert (await console.client.get(f"/admin/login/{token}")).status == 410
    response = await console.client.post(f"/admin/login/{token}", allow_redirects=False)
    assert response.status == 410
    assert (await console.client.get("/admin/", allow_redirects=False)).status == 303


async def test_login_links_and_sessions__are_stored_hashed(console: ConsoleWorld) -> None:
    token = await console.login_token()
    response = await console.client.post(f"/admin/login/{token}", allow_redirects=False)
    session_id = response.cookies["surveybot_console"].value
    async with console.database.read() as session:
        link = await session.scalar(select(ConsoleLoginLink))
        stored = await session.scalar(select(ConsoleSession))
    assert link is not None and stored is not None
    assert link.token_hash == hash_secret(token) and token not in link.token_hash
    assert stored.session_hash == hash_secret(session_id) and session_id != stored.session_hash


async def test_a_forged_cross_site_sign_in__is_refused(console: ConsoleWorld) -> None:
    token = await console.login_token()
    response = await console.client.post(
        f"/admin/login/{token}", headers={"Sec-Fetch-Site": "cross-site"}, allow_redirects=False
    )
    assert response.status == 403
    assert (await console.client.post(f"/admin/login/{token}", allow_redirects=False)).status == 303  # not burnt


async def test_sign_out__revokes_the_session(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    session_id = console.client.session.cookie_jar.filter_cookies(console.client.make_url("/admin/"))["surveybot_console"].value
    response = await console.client.post("/admin/sign-out", data={"csrf": csrf}, allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/admin/sign-in?signed_out=1")
    assert (await console.client.get("/admin/sign-in?signed_out=1")).status == 200
    # The old cookie, replayed (copied before sign-out), opens nothing: the session is revoked server-side.
    replayed = await console.client.get("/admin/", cookies={"surveybot_console": session_id}, allow_redirects=False)
    assert (replayed.status, replayed.headers["Location"]) == (303, "/admin/sign-in")
    async with console.database.read() as session:
        stored = await session.scalar(select(ConsoleSession))
    assert stored is not None and stored.revoked_at == console.clock.now


async def test_sessions__are_listed_per_coordinator_and_revocable(console: ConsoleWorld) -> None:
    other_browser = await console.login_token()  # the same coordinator, on another browser
    await console.access.sign_in(token=other_browser)
    csrf = await console.sign_in()
    listing = await (await console.client.get("/admin/sessions")).text()
    assert listing.count("/revoke") == 2 and "本浏览器" in listing
    async with console.database.read() as session:
        first = await session.scalar(select(ConsoleSession).order_by(ConsoleSession.id))
    assert first is not None
    response = await console.client.post(f"/admin/sessions/{first.id}/revoke", data={"csrf": csrf}, allow_redirects=False)
    assert response.status == 303
    assert (await (await console.client.get("/admin/sessions")).text()).count("/revoke") == 1


async def test_a_session_expires(console: ConsoleWorld) -> None:
    await console.sign_in()
    console.clock.now += timedelta(hours=12)
    assert (await console.client.get("/admin/", allow_redirects=False)).status == 303


async def test_an_account_no_longer_coordinator__loses_its_session_on_the_next_request(console: ConsoleWorld) -> None:
    async with console.database.transaction() as session:
        await add_coordinator(session=session, channel="telegram", external_id="777")
    await console.sign_in(external_id="777")
    assert (await console.client.get("/admin/", allow_redirects=False)).status == 200
    async with console.database.transaction() as session:
        await remove_coordinator(session=session, channel="telegram", external_id="777")
    for page in (f"/admin/campaigns/{console.campaign_id}", "/admin/sessions"):
        response = await console.client.get(page, allow_redirects=False)
        assert (response.status, response.headers["Location"]) == (303, "/admin/sign-in"), page


async def test_a_login_link_for_an_account_removed_since__signs_nobody_in(console: ConsoleWorld) -> None:
    async with console.database.transaction() as session:
        await add_coordinator(session=session, channel="telegram", external_id="778")
    token = await console.login_token(external_id="778")
    async with console.database.transaction() as session:
        await remove_coordinator(session=session, channel="telegram", external_id="778")
    assert (await console.client.get(f"/admin/login/{token}")).status == 410
    assert (await console.client.post(f"/admin/login/{token}", allow_redirects=False)).status == 410


async def test_server_logs__hold_no_sign_in_token_or_session_id(console: ConsoleWorld, caplog: pytest.LogCaptureFixture) -> None:
    token = await console.login_token()
    with caplog.at_level(logging.DEBUG):
        await console.client.get(f"/admin/login/{token}")
        response = await console.client.post(f"/admin/login/{token}", allow_redirects=False)
        await console.client.get("/admin/")
        await console.client.post(f"/admin/login/{token}", allow_redirects=False)
    session_id = response.cookies["surveybot_console"].value
    messages = [record.getMessage() for record in caplog.records]
    assert any("/admin/login/<token>" in message for message in messages)  # the access log ran
    assert not any(token in message or session_id in message for message in messages)


async def test_two_sign_ins_racing_with_one_link__open_one_session(console: ConsoleWorld) -> None:
    token = await console.login_token()
    results = await asyncio.gather(*(console.access.sign_in(token=token) for _ in range(4)))
    assert sum(result is not None for result in results) == 1
    async with console.database.read() as session:
        assert len(list(await session.scalars(select(ConsoleSession)))) == 1
