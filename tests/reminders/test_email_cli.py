"""``surveybot run`` and ``surveybot remind`` send by e-mail when ``SURVEYBOT_SMTP_HOST`` is set (a real local SMTP server)."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.audience import broadcast_audience
from storage.contacts import add_email_contact
from storage.models import OutboxBatchStatus, OutboxKind
from storage.outbox import create_batch, enqueue_messages
from storage.rosters import get_unit
from tests.fakes.smtp import SmtpServer
from tests.reminders.conftest import join
from tests.reminders.test_remind_cli import cli, run  # noqa: F401  (fixture)
from tests.storage.conftest import Backend, backend  # noqa: F401  (fixture)
from tests.telegram.conftest import BotHarness
from tests.web.conftest import Clock, make_campaign
from tests.web.test_web_run import environment, free_port, stop, wait_until_served

PUBLIC_URL = "https://survey.nantong.example.cn"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def smtp_environment(monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer) -> None:
    monkeypatch.setenv("SURVEYBOT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SURVEYBOT_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("SURVEYBOT_SMTP_FROM", "surveybot@nantong.example.cn")
    monkeypatch.setenv("SURVEYBOT_SMTP_STARTTLS", "false")
    monkeypatch.setenv("SURVEYBOT_PUBLIC_URL", PUBLIC_URL)


async def test_remind__with_smtp_set_sends_telegram_and_email_and_counts_both(
    cli: BotHarness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer  # noqa: F811
) -> None:
    user = await join(cli, "如皋市", 9401, "周敏")
    assert cli.database is not None
    async with cli.database.transaction() as session:
        unit = await get_unit(session=session, campaign=cli.campaign_id, name="启东市")
        await add_email_contact(session=session, unit=unit, address="office@qidong.example.cn")
    smtp_environment(monkeypatch, smtp)
    capsys.readouterr()

    code, out, err = await run(capsys, "remind", "--campaign", str(cli.campaign_id))

    assert (code, err) == (0, [])
    assert out[0] == f"campaign {cli.campaign_id} 南通中期评估: 2 respondent(s) of 2 unit(s) not submitted"
    assert "get no reminder: 海安市" in out[1]  # 启东市 has its e-mail now
    assert out[-1] == "sent 2/2, failed 0, unreachable 0, skipped 0"
    assert sum("填报提醒" in (m.text or "") for m in user.messages) == 1
    [message] = smtp.mailbox.messages
    assert message["To"] == "office@qidong.example.cn" and f"{PUBLIC_URL}/s/" in message.get_content()


async def test_remind__smtp_without_a_public_url_is_one_line_exit_2(
    cli: BotHarness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer  # noqa: F811
) -> None:
    smtp_environment(monkeypatch, smtp)
    monkeypatch.delenv("SURVEYBOT_PUBLIC_URL")

    code, out, err = await run(capsys, "remind", "--campaign", str(cli.campaign_id))

    assert (code, out) == (2, [])
    assert len(err) == 1 and "SURVEYBOT_PUBLIC_URL is not" in err[0]
    assert smtp.mailbox.messages == []


async def test_run_without_telegram__sends_a_queued_broadcast_by_email(
    backend: Backend, tmp_path: Path, smtp: SmtpServer  # noqa: F811
) -> None:
    database = backend.open()
    try:
        campaign_id, _ = await make_campaign(
            database, Clock(datetime.now(UTC)), deadline=datetime(2099, 12, 15, 9, 0, tzinfo=UTC)
        )
        async with database.transaction() as session:
            unit = await get_unit(session=session, campaign=campaign_id, name="海门区")
            await add_email_contact(session=session, unit=unit, address="zhangwei@haimen.example.cn")
            batch, _ = await create_batch(
                session=session, campaign_id=campaign_id, kind=OutboxKind.BROADCAST,
                key=f"broadcast:{uuid.uuid4().hex}", status=OutboxBatchStatus.ACTIVE, body="请周五前提交",
            )
            audience = await broadcast_audience(session=session, campaign_id=campaign_id, channels=("email",))
            await enqueue_messages(session=session, batch=batch, respondent_ids=audience.respondent_ids)
    finally:
        await database.dispose()
    port = free_port()
    env = environment(
        backend, tmp_path / "data", SURVEYBOT_SMTP_HOST="127.0.0.1", SURVEYBOT_SMTP_PORT=str(smtp.port),
        SURVEYBOT_SMTP_FROM="surveybot@nantong.example.cn", SURVEYBOT_PUBLIC_URL=PUBLIC_URL,
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "--listen", f"127.0.0.1:{port}",
        cwd=str(tmp_path), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_until_served(f"http://127.0.0.1:{port}/s/unknown", process)
        await smtp.wait_until(lambda: bool(smtp.mailbox.messages), timeout=20)
    finally:
        await stop(process)

    [message] = smtp.mailbox.messages
    assert message["To"] == "zhangwei@haimen.example.cn" and message["Subject"] == "通知：南通中期评估"
    assert message.get_content().startswith("请周五前提交")


async def test_remind__with_the_wecom_settings_sends_to_the_wecom_member_from_the_command_line(
    cli: BotHarness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """`surveybot remind` builds its own WeCom transport: a member bound in WeCom gets the reminder there."""
    from handlers.wecom.crypto import CallbackCrypto
    from storage.respondents import bind_respondent, get_or_create_respondent
    from tests.fakes.wecom import FakeWeCom
    from tests.wecom.conftest import TOKEN, generated_key

    assert cli.database is not None
    async with cli.database.transaction() as session:
        unit = await get_unit(session=session, campaign=cli.campaign_id, name="海安市")
        respondent = await get_or_create_respondent(
            session=session, channel="wecom", external_id="zhangsan", display_name="张三", language="zh-hans"
        )
        await bind_respondent(session=session, respondent=respondent, unit=unit)
    async with FakeWeCom(members=["zhangsan"]) as wecom:
        aes_key = generated_key()
        CallbackCrypto(token=TOKEN, encoding_aes_key=aes_key, receiver_id=wecom.corp_id)  # a key the channel accepts
        for name, value in (
            ("CORP_ID", wecom.corp_id),
            ("AGENT_ID", str(wecom.agent_id)),
            ("SECRET", wecom.secret),
            ("TOKEN", TOKEN),
            ("AES_KEY", aes_key),
            ("API_URL", wecom.url),
        ):
            monkeypatch.setenv(f"SURVEYBOT_WECOM_{name}", value)
        capsys.readouterr()

        code, out, err = await run(capsys, "remind", "--campaign", str(cli.campaign_id))

        assert (code, err) == (0, []), err
        assert out[-1].startswith("sent 1/1"), out
        [reminder] = [text for text in wecom.texts_to("zhangsan") if text]
        assert "海安市" in reminder
