"""`surveybot run` with the WeCom settings, as a real process: a callback acknowledged and then the process killed -9 is applied after the restart."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from handlers.wecom.crypto import CallbackCrypto
from storage.coordinators import add_coordinator
from storage.models import AnswerHistory, InboundUpdate
from tests.fakes.wecom import FakeWeCom
from tests.storage.conftest import Backend, backend  # noqa: F401  (fixture)
from tests.web.conftest import Clock, make_campaign
from tests.web.test_web_run import environment, free_port, stop, wait_until_served
from tests.wecom.conftest import COORDINATOR, TOKEN, CallbackClient, generated_key

USER = "zhaolei"


async def start(backend: Backend, tmp_path: Path, fake: FakeWeCom, aes_key: str, port: int) -> asyncio.subprocess.Process:  # noqa: F811
    env = environment(
        backend,
        tmp_path / "data",
        SURVEYBOT_WECOM_CORP_ID=fake.corp_id,
        SURVEYBOT_WECOM_AGENT_ID=str(fake.agent_id),
        SURVEYBOT_WECOM_SECRET=fake.secret,
        SURVEYBOT_WECOM_TOKEN=TOKEN,
        SURVEYBOT_WECOM_AES_KEY=aes_key,
        SURVEYBOT_WECOM_API_URL=fake.url,
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        "--listen",
        f"127.0.0.1:{port}",
        cwd=str(tmp_path),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    await wait_until_served(f"http://127.0.0.1:{port}/wecom/callback", process)
    return process


async def eventually(condition: Callable[[], object], *, timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if await condition() if asyncio.iscoroutinefunction(condition) else condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_killed_after_the_acknowledgement__the_answer_is_applied_after_the_restart(
    backend: Backend,  # noqa: F811
    tmp_path: Path,
) -> None:
    database = backend.open()
    _, tokens = await make_campaign(database, Clock(datetime.now(UTC)), deadline=datetime(2099, 12, 15, 9, 0, tzinfo=UTC))
    aes_key = generated_key()
    port = free_port()
    async with FakeWeCom() as fake:
        crypto = CallbackCrypto(token=TOKEN, encoding_aes_key=aes_key, receiver_id=fake.corp_id)
        callbacks = CallbackClient(
            crypto=crypto, corp_id=fake.corp_id, agent_id=fake.agent_id, base_url=f"http://127.0.0.1:{port}"
        )

        async def answers() -> list[str]:
            async with database.read() as session:
                return list(
                    (await session.scalars(select(AnswerHistory.new_value).where(AnswerHistory.question_id == "filled_by"))).all()
                )

        process = await start(backend, tmp_path, fake, aes_key, port)
        try:
            assert await callbacks.post(callbacks.text_xml(USER, tokens["海门区"])) == [200]
            await eventually(lambda: any("第 1/" in (text or "") for text in fake.texts_to(USER)))
            # The reply to the next answer gets stuck in WeCom: the member's following message waits its turn.
            release = fake.hold("message/send")
            assert await callbacks.post(callbacks.text_xml(USER, "海门区科协")) == [200]
            await eventually(lambda: fake.held)
            assert await callbacks.post(callbacks.text_xml(USER, "王芳")) == [200]  # acknowledged: recorded
            async with database.read() as session:
                pending = (await session.scalars(select(InboundUpdate).where(InboundUpdate.handled_at.is_(None)))).all()
            assert len(pending) == 2 and await answers() == []  # recorded, not yet applied
            process.kill()  # kill -9
            await process.wait()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        release.set()
        process = await start(backend, tmp_path, fake, aes_key, port)
        try:
            await eventually(answers)
            assert await answers() == ["王芳"]
            await eventually(lambda: any("第 3/" in (text or "") for text in fake.texts_to(USER)))
        finally:
            await stop(process)
        await database.dispose()


async def test_reminder_confirmed_in_wecom__reaches_the_bound_member_through_the_outbox(
    backend: Backend,  # noqa: F811
    tmp_path: Path,
) -> None:
    """`surveybot run` builds the WeCom outbox sender: a coordinator's 提醒 + 确认 arrives in the member's chat."""
    database = backend.open()
    _, tokens = await make_campaign(database, Clock(datetime.now(UTC)), deadline=datetime(2099, 12, 15, 9, 0, tzinfo=UTC))
    async with database.transaction() as session:
        await add_coordinator(session=session, channel="wecom", external_id=COORDINATOR)
    aes_key = generated_key()
    port = free_port()
    async with FakeWeCom() as fake:
        crypto = CallbackCrypto(token=TOKEN, encoding_aes_key=aes_key, receiver_id=fake.corp_id)
        callbacks = CallbackClient(
            crypto=crypto, corp_id=fake.corp_id, agent_id=fake.agent_id, base_url=f"http://127.0.0.1:{port}"
        )
        process = await start(backend, tmp_path, fake, aes_key, port)
        try:
            assert await callbacks.post(callbacks.text_xml(USER, tokens["海门区"])) == [200]
            await eventually(lambda: any("第 1/" in (text or "") for text in fake.texts_to(USER)))
            before = len(fake.texts_to(USER))
            assert await callbacks.post(callbacks.text_xml(COORDINATOR, "提醒")) == [200]
            await eventually(lambda: any("回复“确认 " in (text or "") for text in fake.texts_to(COORDINATOR)))
            preview = next(text for text in fake.texts_to(COORDINATOR) if text and "回复“确认 " in text)
            batch = preview.split("回复“确认 ")[1].split("”")[0]
            assert await callbacks.post(callbacks.text_xml(COORDINATOR, f"确认 {batch}")) == [200]
            # The reminder goes out through the outbox's WeCom sender, not as a reply: it names the unit's progress.
            await eventually(lambda: len(fake.texts_to(USER)) > before)
            reminder = "\n".join(text or "" for text in fake.texts_to(USER)[before:])
            assert "海门区" in reminder and "继续填写" in reminder
        finally:
            await stop(process)
        await database.dispose()
