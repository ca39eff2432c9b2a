"""A whole collection run from the coordinator console in a real browser, never a terminal after `surveybot run`.

Sign in with the link `surveybot admin login-link` prints, create a campaign
from the page with a pasted roster, issue the links and see their QR codes,
answer as a respondent in a second page, watch the units table change
without a reload, download the workbook and read it with openpyxl, remind
the units that have not submitted and see the e-mails arrive at a local SMTP
server. The site is built by `surveybot run`'s own composition functions
(`console_app`, `console_outreach`), on the real clock.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from openpyxl import load_workbook

from bot.cli.run import console_app, console_outreach
from bot.outbox_compose import OutboxComposer
from bot.outbox_sender import OutboxSender, SenderSettings
from bot.pacing import PacingPolicy
from bot.reminder_worker import ReminderWorker
from bot.service import SurveyService
from bot.settings import Settings
from bot.survey_cache import SurveyCache
from handlers.console import progress
from handlers.console.app import mount as mount_console
from handlers.email.outbox_transport import EmailTransport, SmtpServer
from handlers.web.access_log import RedactingAccessLogger
from handlers.web.app import make_web_app, mount
from storage.migrate import ensure_schema
from tests.browser.conftest import page, sign_in_as_coordinator  # noqa: F401  (fixture)
from tests.browser.test_browser_journey import settled, type_answer
from tests.console.conftest import ADMIN_ID
from tests.fakes.smtp import SmtpServer as LocalSmtpServer
from tests.storage.conftest import Backend, backend  # noqa: F401  (fixture)
from tests.web.test_web_run import free_port

SURVEYS = Path(__file__).resolve().parents[2] / "surveys"
FAST = PacingPolicy(rate=500.0, per_recipient_interval=0.0)


@dataclass
class JourneySite:
    base_url: str
    smtp: LocalSmtpServer


@pytest.fixture
async def journey_site(
    backend: Backend,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[JourneySite]:
    monkeypatch.setattr(progress, "REFRESH_SECONDS", 1)
    database = backend.open()
    await ensure_schema(database)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=backend.url_with_schema,
        data_dir=tmp_path / "data",
        admin_ids=frozenset({ADMIN_ID}),
        public_url=base_url,
        surveys_dir=SURVEYS,
    )
    surveys = SurveyCache()
    wakeup = asyncio.Event()
    root = web.Application()
    mount(
        root,
        make_web_app(service=SurveyService(database=database, settings=settings, surveys=surveys), upload_dir=tmp_path / "up"),
    )
    outreach = console_outreach(settings, database, surveys=surveys, on_enqueued=wakeup.set, outbox_channels=("email",))
    mount_console(root, console_app(settings, database, surveys, outreach=outreach))
    smtp = LocalSmtpServer()
    smtp.start()
    email = EmailTransport(
        SmtpServer(host="127.0.0.1", port=smtp.port, sender="南通科协 <surveybot@nantong.example.cn>", starttls=False),
        public_url=base_url,
        pacing=FAST,
    )
    sender = OutboxSender(
        database=database, transport=email, settings=SenderSettings(report_interval=0.1), composer=OutboxComposer(surveys=surveys)
    )
    worker = ReminderWorker(database=database, senders=[sender], wakeup=wakeup, poll_interval=0.2)
    server = TestServer(root, host="127.0.0.1", port=port)
    await server.start_server(access_log_class=RedactingAccessLogger)
    worker.start()
    monkeypatch.chdir(tmp_path)  # no stray .env for the CLI
    for name, value in (
        ("DATABASE_URL", backend.url_with_schema),
        ("DATA_DIR", str(tmp_path / "data")),
        ("PUBLIC_URL", base_url),
        ("ADMIN_IDS", str(ADMIN_ID)),
    ):
        monkeypatch.setenv(f"SURVEYBOT_{name}", value)
    try:
        yield JourneySite(base_url=base_url, smtp=smtp)
    finally:
        await worker.stop()
        await server.close()
        smtp.stop()
        await backend.dispose_all()


async def test_console__a_whole_collection_from_sign_in_to_the_reminder_without_a_terminal(
    journey_site: JourneySite,
    page: Any,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    base_url = journey_site.base_url
    smtp = journey_site.smtp

    # Sign in with the printed link.
    await sign_in_as_coordinator(page, capsys)

    # Create the campaign from the page, the roster pasted with the units' e-mails.
    await page.get_by_role("link", name="新建活动").click()
    await page.get_by_label("内置问卷", exact=True).select_option("nantong-midterm-2023.yaml")
    await page.get_by_label("标题").fill("南通 2099 年度评估")
    await page.get_by_label("日期和时间").fill("2099-12-20T17:00")
    await page.get_by_label("名单").fill("崇川区科协\tcc@example.cn\n海门区科协\thm@example.cn\n")
    await page.get_by_role("button", name="创建活动").click()
    await page.wait_for_url(re.compile(rf"{re.escape(base_url)}/admin/campaigns/\d+$"))
    campaign_url = page.url
    assert await page.get_by_role("heading", level=1).inner_text() == "南通 2099 年度评估"

    # The invitations: a link and a QR code per unit.
    await page.get_by_role("link", name="邀请链接与二维码").click()
    await page.get_by_role("button", name="为全部单位生成新链接").click()
    await page.get_by_role("status").filter(has_text="已生成 2 个新链接。").wait_for()
    images = page.get_by_role("img", name="网页链接二维码")
    assert await images.count() == 2
    await page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=await images.first.element_handle())
    link = await page.get_by_role("row", name="崇川区科协").get_by_role("link").first.get_attribute("href")
    assert link is not None and link.startswith(f"{base_url}/s/")

    # A respondent answers in a second page; the units table changes without a reload.
    await page.goto(campaign_url)
    row = page.locator("#progress-table").get_by_role("row", name="崇川区科协")
    assert "未开始" in await row.inner_text()
    await page.evaluate("window.loadedOnce = true")  # gone if the page reloads
    respondent = await page.context.new_page()
    await respondent.goto(link)
    await settled(respondent)
    await type_answer(respondent, "崇川区科学技术协会")
    await respondent.close()
    await row.get_by_text("填写中").wait_for(timeout=15_000)
    assert await page.evaluate("window.loadedOnce") is True

    # The workbook, downloaded by the browser and read back.
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name=re.compile("汇总表")).click()
    download = await download_info.value
    saved = tmp_path / "downloaded.xlsx"
    await download.save_as(saved)
    book = load_workbook(saved, read_only=True)
    summary = {row[0]: row for row in book["汇总"].iter_rows(min_row=3, values_only=True) if row[0]}
    assert summary["崇川区科协"][2] == "崇川区科学技术协会"
    assert "海门区科协" in summary
    book.close()

    # Remind the units that have not submitted (both), preview, confirm; the e-mails arrive.
    await page.get_by_role("link", name="立即提醒").click()
    await page.get_by_role("button", name="预览").click()
    assert await page.get_by_role("heading", level=1).inner_text() == "确认提醒"
    assert smtp.mailbox.messages == []  # nothing before the confirmation
    await page.get_by_role("button", name="确认发送（2 人）").click()
    await page.locator('[data-field="state_text"]').filter(has_text="已完成").wait_for(timeout=15_000)
    await smtp.wait_until(lambda: len(smtp.mailbox.messages) == 2)
    mails = {mail["To"]: mail.get_content() for mail in smtp.mailbox.messages}
    assert set(mails) == {"cc@example.cn", "hm@example.cn"}
    assert "崇川区科协：已答 1/" in mails["cc@example.cn"] and f"{base_url}/s/" in mails["cc@example.cn"]
