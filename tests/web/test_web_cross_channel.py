"""One response per unit, whatever the channel: start in Telegram, continue through the web link, and back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.service import SurveyService
from storage.models import AnswerHistory, Invitation
from tests.storage.conftest import Backend, backend, migrated_backend, migrated_template  # noqa: F401  (fixtures)
from tests.telegram.conftest import BotHarness, harness, text_of  # noqa: F401  (fixture)
from tests.web.conftest import texts, web_root


@pytest.fixture
async def web_client(harness: BotHarness, tmp_path: Path) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]  # noqa: F811
    assert harness.database is not None
    service = SurveyService(database=harness.database, settings=harness.settings, clock=harness.clock, surveys=harness.surveys)
    client = TestClient(TestServer(web_root(service, tmp_path=tmp_path)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def test_started_in_telegram__the_web_link_continues_at_the_same_question(
    harness: BotHarness,  # noqa: F811
    web_client: TestClient,  # type: ignore[type-arg]
) -> None:
    token = harness.tokens["海门区"][0]
    user = harness.fake.user(4001, "王芳", language_code="zh-hans")
    await user.send_command("/start", token)
    assert "第 1/18 题" in await text_of(user)
    await user.send_text("海门区科学技术协会")
    assert "第 2/18 题" in await text_of(user)

    # The same unit's link in a browser, although Telegram used the invitation: same place, same answers.
    response = await web_client.get(f"/s/{token}/state")
    state = await response.json()
    assert response.status == 200 and "已答 1/18 题" in texts(state) and "第 2/18 题" in texts(state)
    body = {"key": "web-key-000001", "position": state["position"], "language": "zh", "action": {"type": "text", "text": "王芳"}}
    response = await web_client.post(f"/s/{token}/action", json=body)
    assert response.status == 200 and "第 3/18 题" in texts(await response.json())

    # Telegram again: it is at the web's question now; a stale web action is refused.
    await user.send_command("/resume")
    assert "第 3/18 题" in await text_of(user)
    await user.send_text("0513-59003013")
    assert "填表日期" in await text_of(user)
    body = {"key": "web-key-000002", "position": state["position"], "language": "zh", "action": {"type": "text", "text": "x"}}
    assert (await web_client.post(f"/s/{token}/action", json=body)).status == 409

    assert harness.database is not None
    async with harness.database.read() as session:
        history = (await session.scalars(select(AnswerHistory).order_by(AnswerHistory.id))).all()
        used = (await session.scalars(select(Invitation).where(Invitation.used_by_respondent_id.is_not(None)))).all()
    assert [h.channel for h in history] == ["telegram", "web", "telegram"]
    assert len(used) == 1  # Telegram's; the web link used nothing up


async def test_web_link_first__leaves_the_invitation_free_for_telegram(
    harness: BotHarness,  # noqa: F811
    web_client: TestClient,  # type: ignore[type-arg]
) -> None:
    token = harness.tokens["崇川区"][0]
    state = await (await web_client.get(f"/s/{token}/state")).json()
    body = {"key": "web-key-000003", "position": state["position"], "language": "zh", "action": {"type": "text", "text": "崇川区科协"}}
    assert (await web_client.post(f"/s/{token}/action", json=body)).status == 200

    user = harness.fake.user(4002, "李明", language_code="zh-hans")
    await user.send_command("/start", token)
    text = await text_of(user)
    assert "已答 1/18 题" in text and "第 2/18 题" in text
