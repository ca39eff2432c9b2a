"""A process killed between two answers loses nothing it acknowledged."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.survey_files import load_survey
from storage.campaigns import create_campaign
from storage.invitations import create_invitation
from storage.migrate import ensure_schema
from storage.models import AnswerHistory
from storage.rosters import add_units
from storage.surveys import store_survey
from tests.storage.conftest import Backend

ROOT = Path(__file__).resolve().parents[2]

#: The child answers question 1 again and again through the service, printing
#: "ACK n" only after the transaction holding answer n has committed.
CHILD = textwrap.dedent(
    """
    import asyncio, os, sys
    from bot.core.actions import AnswerText, Back
    from bot.service import ChannelUser, SurveyService
    from bot.settings import Settings
    from storage.database import Database

    async def main() -> None:
        settings = Settings(database_url=os.environ["CRASH_DB_URL"], data_dir=os.environ["CRASH_DATA_DIR"])
        service = SurveyService(database=Database(settings.resolved_database_url), settings=settings)
        user = ChannelUser("telegram", "7001", "Crash", "zh")
        await service.start(user=user, update_id="start", token=os.environ["CRASH_TOKEN"])
        for n in range(10_000):
            await service.act(user=user, update_id=f"a{n}", action=AnswerText(f"answer {n}"))
            print(f"ACK {n}", flush=True)
            await service.act(user=user, update_id=f"b{n}", action=Back())

    asyncio.run(main())
    """
)


async def prepare(backend: Backend) -> str:
    database = backend.open()
    await ensure_schema(database)
    survey = load_survey(ROOT / "surveys" / "nantong-midterm-2023.yaml")
    async with database.transaction() as session:
        version = await store_survey(session=session, survey=survey)
        campaign = await create_campaign(
            session=session, survey_version=version, title="crash", deadline=datetime.now(UTC) + timedelta(days=3)
        )
        [unit] = await add_units(session=session, campaign=campaign, names=["海门区"])
        _, token = await create_invitation(session=session, unit=unit)
    return token


async def test_killed_between_two_answers__every_acknowledged_answer_is_stored(
    backend: Backend, tmp_path: Path
) -> None:
    token = await prepare(backend)
    env = {
        **os.environ,
        "CRASH_DB_URL": backend.url_with_schema,
        "CRASH_DATA_DIR": str(tmp_path / "data"),
        "CRASH_TOKEN": token,
        "PYTHONPATH": str(ROOT),
    }
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert child.stdout is not None
    acknowledged: list[int] = []
    try:
        while len(acknowledged) < 25:
            line = await asyncio.wait_for(child.stdout.readline(), timeout=60)
            assert line, (await child.stderr.read()).decode() if child.stderr else "child ended"
            acknowledged.append(int(line.split()[1]))
    finally:
        child.send_signal(signal.SIGKILL)  # no clean shutdown, no rollback of anything committed
        await child.wait()

    database = backend.open()
    async with database.read() as session:
        stored = list(
            await session.scalars(select(AnswerHistory.new_value).where(AnswerHistory.question_id == "unit"))
        )
    assert {f"answer {n}" for n in acknowledged} <= set(stored)
    assert len(stored) == len(set(stored))  # nothing applied twice
