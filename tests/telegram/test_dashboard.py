"""``/dashboard``: a coordinator gets a one-time console sign-in link in the chat, and it signs in.

The real bot against the fake Bot API; the link is followed with the console's
test client on the same database (as ``surveybot run`` serves both).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.settings import Settings
from storage.coordinators import add_coordinator
from storage.models import ConsoleLoginLink
from tests.console.conftest import site_root
from tests.fakes.telegram import FakeTelegram
from tests.storage.conftest import Backend, backend, migrated_backend, migrated_template  # noqa: F401  (fixtures)
from tests.telegram.conftest import BotHarness, text_of
from tests.web.conftest import Clock

PUBLIC_URL = "https://survey.nantong.example.cn"
ADMIN_ID = 7001
LINK = re.compile(re.escape(PUBLIC_URL) + r"/admin/login/([A-Za-z0-9_-]+)")


@dataclass
class ConsoleBotHarness(BotHarness):
    """The bot of a process with a public URL and a coordinator in SURVEYBOT_ADMIN_IDS."""

    public_url: str | None = PUBLIC_URL

    @property
    def settings(self) -> Settings:
        return super().settings.model_copy(update={"public_url": self.public_url, "admin_ids": frozenset({ADMIN_ID})})


async def running(harness: ConsoleBotHarness) -> ConsoleBotHarness:
    await harness.start()
    await harness.create_campaign()
    return harness


@pytest.fixture
async def bot(migrated_backend: Backend, tmp_path: Path) -> AsyncIterator[ConsoleBotHarness]:  # noqa: F811
    async with FakeTelegram() as fake:
        harness = ConsoleBotHarness(
            fake=fake, backend=migrated_backend, data_dir=tmp_path / "data", clock=Clock(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
        )
        await running(harness)
        try:
            yield harness
        finally:
            await harness.stop()
            await migrated_backend.dispose_all()
            assert not fake.internal_errors, fake.internal_errors


async def stored_links(harness: BotHarness) -> int:
    assert harness.database is not None
    async with harness.database.read() as session:
        return int(await session.scalar(select(func.count()).select_from(ConsoleLoginLink)) or 0)


async def test_dashboard__a_coordinator_gets_a_link_that_signs_in_once(bot: ConsoleBotHarness, tmp_path: Path) -> None:
    coordinator = bot.fake.user(ADMIN_ID, "协调人", language_code="zh-hans")

    await coordinator.send_command("/dashboard")
    text = await text_of(coordinator)

    assert text.startswith("协调员控制台的一次性登录链接（15 分钟内有效，只能使用一次，请勿转发）：\n")
    match = LINK.search(text)
    assert match is not None
    assert bot.database is not None
    server = TestServer(site_root(bot.database, bot.settings, bot.clock, tmp_path))
    async with TestClient(server) as client:
        confirm = await client.get(f"/admin/login/{match.group(1)}")
        assert confirm.status == 200 and "确认登录" in await confirm.text()
        signed_in = await client.post(f"/admin/login/{match.group(1)}", allow_redirects=False)
        assert (signed_in.status, signed_in.headers["Location"]) == (303, "/admin/")
        campaigns = await client.get("/admin/", allow_redirects=False)
        assert campaigns.status == 200 and "南通中期评估" in await campaigns.text()
        again = await client.post(f"/admin/login/{match.group(1)}", allow_redirects=False)
        assert again.status == 410


async def test_dashboard__a_stored_coordinator_too(bot: ConsoleBotHarness) -> None:
    assert bot.database is not None
    async with bot.database.transaction() as session:
        await add_coordinator(session=session, channel="telegram", external_id=9001)
    coordinator = bot.fake.user(9001, "Coordinator", language_code="en")

    await coordinator.send_command("/dashboard")

    text = await text_of(coordinator)
    assert text.startswith("Your one-time sign-in link to the coordinator console (works once, for 15 minutes")
    assert LINK.search(text) is not None and await stored_links(bot) == 1


async def test_dashboard__anyone_else_is_refused_and_no_link_is_made(bot: ConsoleBotHarness) -> None:
    respondent = bot.fake.user(9100, "王芳", language_code="zh-hans")

    await respondent.send_command("/dashboard")

    text = await text_of(respondent)
    assert text == "此命令仅限协调人使用。如需开通，请联系系统管理员。"
    assert "/admin/login/" not in text and await stored_links(bot) == 0


async def test_dashboard__without_a_public_url_the_coordinator_is_told_what_to_set(
    migrated_backend: Backend,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with FakeTelegram() as fake:
        harness = ConsoleBotHarness(
            fake=fake,
            backend=migrated_backend,
            data_dir=tmp_path / "data",
            clock=Clock(datetime(2026, 12, 1, 2, 0, tzinfo=UTC)),
            public_url=None,
        )
        await running(harness)
        try:
            coordinator = fake.user(ADMIN_ID, "协调人", language_code="zh-hans")
            await coordinator.send_command("/dashboard")
            text = await text_of(coordinator)
            assert "SURVEYBOT_PUBLIC_URL" in text and "无法生成控制台链接" in text
            assert await stored_links(harness) == 0
        finally:
            await harness.stop()
            await migrated_backend.dispose_all()


async def test_help_and_menu__a_coordinator_sees_dashboard_a_respondent_does_not(bot: ConsoleBotHarness) -> None:
    coordinator = bot.fake.user(ADMIN_ID, "协调人", language_code="zh-hans")
    respondent = bot.fake.user(9100, "王芳", language_code="zh-hans")

    await coordinator.send_command("/help")
    await respondent.send_command("/help")
    coordinator_help = await text_of(coordinator)
    respondent_help = await text_of(respondent)

    assert "/dashboard — 打开网页控制台（一次性登录链接）" in coordinator_help and "/remind" in coordinator_help
    assert "/dashboard" not in respondent_help and respondent_help.startswith(coordinator_help[:20])
    menu = [command["command"] for command in bot.fake.commands({"type": "chat", "chat_id": ADMIN_ID}, "zh")]
    assert menu[:6] == ["campaigns", "status", "export", "remind", "broadcast", "dashboard"] and "start" in menu
    assert "dashboard" not in [command["command"] for command in bot.fake.commands({"type": "all_private_chats"}, "zh")]
