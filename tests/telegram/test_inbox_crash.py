"""``surveybot run`` killed (kill -9) again and again while updates are in flight loses none.

The real CLI runs as a child process against the fake Bot API (in this
process), polling or behind its webhook; respondents keep sending while the
child is killed and started again. Afterwards every update the fake
delivered is recorded and handled, and every answer is stored exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.survey_files import load_survey
from storage.campaigns import create_campaign
from storage.invitations import create_invitation
from storage.migrate import ensure_schema
from storage.models import AnswerHistory, InboundUpdate, Respondent, Response
from storage.rosters import add_units
from storage.surveys import store_survey
from tests.fakes.telegram import FakeTelegram, FakeUser
from tests.storage.conftest import Backend

ROOT = Path(__file__).resolve().parents[2]
USERS = 5
KILLS = 3
SECRET = "crash-Secret_1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def prepare(backend: Backend) -> list[str]:
    database = backend.open()
    await ensure_schema(database)
    survey = load_survey(ROOT / "surveys" / "nantong-midterm-2023.yaml")
    async with database.transaction() as session:
        version = await store_survey(session=session, survey=survey)
        campaign = await create_campaign(
            session=session, survey_version=version, title="crash", deadline=datetime.now(UTC) + timedelta(days=3)
        )
        units = await add_units(session=session, campaign=campaign, names=[f"单位{i}" for i in range(USERS)])
        return [(await create_invitation(session=session, unit=unit))[1] for unit in units]


#: The child: the real CLI, its modules imported before it is told to go, so that
#: a restart after a kill takes a fraction of a second rather than the imports' seconds.
CHILD = (
    "import sys\n"
    "import bot.cli.run, bot.inbox, bot.service, exports, handlers.telegram.application, handlers.telegram.intake\n"
    "from bot.cli import main\n"
    "sys.stdin.readline()\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


class Bot:
    """``surveybot run`` as child processes: each killed in turn, the next one waiting ready."""

    def __init__(self, fake: FakeTelegram, backend: Backend, data_dir: Path, webhook_port: int | None) -> None:
        self.fake = fake
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SURVEYBOT_TELEGRAM_TOKEN": fake.token,
            "SURVEYBOT_TELEGRAM_API_URL": f"{fake.url}/bot",
            "SURVEYBOT_TELEGRAM_FILE_URL": f"{fake.url}/file/bot",
            "SURVEYBOT_DATABASE_URL": backend.url_with_schema,
            "SURVEYBOT_DATA_DIR": str(data_dir),
        }
        self.arguments = ["run"]
        if webhook_port is not None:
            url = f"http://127.0.0.1:{webhook_port}/telegram"
            self.arguments += ["--webhook-url", url, "--listen", f"127.0.0.1:{webhook_port}", "--secret-token", SECRET]
        self.cwd = data_dir.parent
        self.process: asyncio.subprocess.Process | None = None
        self._ready: list[asyncio.subprocess.Process] = []

    async def get_ready(self, count: int) -> None:
        """Start ``count`` children at once; each imports, then waits for its turn."""
        self._ready = [await self._spawn() for _ in range(count)]

    async def _spawn(self) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-c", CHILD, *self.arguments,
            env=self.env, cwd=self.cwd,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )

    async def start(self) -> None:
        """Let the next waiting child go and wait until it takes updates."""
        process = self._ready.pop(0)
        calls = len(self.fake.calls)
        method = "setWebhook" if "--webhook-url" in self.arguments else "getUpdates"
        assert process.stdin is not None
        process.stdin.write(b"go\n")
        await process.stdin.drain()
        self.process = process
        await self.fake.wait_until(
            lambda: any(call.method == method for call in self.fake.calls[calls:]) or process.returncode is not None,
            60.0,
            f"the bot did not call {method}",
        )
        assert process.returncode is None, await self.stderr()

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)  # no clean shutdown of anything
        await self.process.wait()

    async def stop(self) -> str:
        for waiting in self._ready:
            waiting.kill()
            await waiting.wait()
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), 20)
        return await self.stderr()

    async def stderr(self) -> str:
        assert self.process is not None and self.process.stderr is not None
        return (await self.process.stderr.read()).decode(errors="replace")


async def respond(user: FakeUser, token: str, sent: list[str], rng: random.Random, done: asyncio.Event) -> None:
    """``/start``, then answer the first question again and again (each answer, then /back) until ``done``."""
    await user.send_command("/start", token)
    n = 0
    while not done.is_set():
        await asyncio.sleep(rng.uniform(0.05, 0.3))
        text = f"{user.id}-answer-{n}"
        await user.send_text(text)
        sent.append(text)
        await asyncio.sleep(rng.uniform(0.0, 0.1))
        await user.send_command("/back")
        n += 1


async def run_with_kills(backend: Backend, tmp_path: Path, *, webhook: bool) -> None:
    tokens = await prepare(backend)
    rng = random.Random(1212)
    async with FakeTelegram() as fake:
        bot = Bot(fake, backend, tmp_path / "data", free_port() if webhook else None)
        users = [fake.user(9000 + index, f"R{index}", language_code="zh-hans") for index in range(USERS)]
        await bot.get_ready(KILLS + 1)
        sent: list[str] = []
        enqueued_before = fake._next_update_id
        done = asyncio.Event()
        respondents: asyncio.Future[list[None]] | None = None
        try:
            for _ in range(KILLS):
                await bot.start()
                if respondents is None:  # from now on, updates keep arriving while the bot is killed
                    respondents = asyncio.gather(
                        *(respond(user, token, sent, rng, done) for user, token in zip(users, tokens, strict=True))
                    )
                await asyncio.sleep(rng.uniform(0.1, 0.4))  # updates are being fetched, recorded and handled
                async with busy_database(backend):  # handlings wait for it: updates are in flight
                    await kill_when_acknowledged(fake, bot)
            done.set()
            assert respondents is not None
            await respondents
            await bot.start()
            await until_handled(backend, fake, expected=fake._next_update_id - enqueued_before)
        finally:
            if respondents is not None and not respondents.done():
                respondents.cancel()
            log = await bot.stop() if bot.process is not None else ""
        assert "Traceback" not in log, log
        await check_exactly_once(backend, users, sent, expected=fake._next_update_id - enqueued_before)


@contextlib.asynccontextmanager
async def busy_database(backend: Backend) -> AsyncIterator[None]:
    """Another writer holds the database for a moment: the bot's answers wait for it.

    SQLite: a write transaction on the file (the bot cannot write at all).
    PostgreSQL: the table of handled update ids locked against inserts, so
    the inbox can record but no answer can be applied.
    """
    if backend.name == "sqlite":
        assert backend.data_dir is not None
        connection = sqlite3.connect(backend.data_dir / "surveybot.db", timeout=10, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    database = backend.open()
    async with database.transaction() as session:
        await session.execute(text("LOCK TABLE processed_updates IN EXCLUSIVE MODE"))
        yield


async def kill_when_acknowledged(fake: FakeTelegram, bot: Bot) -> None:
    """Kill the bot the moment it acknowledges an update (a getUpdates offset past it, a 200 answer).

    The worst moment: a bot that acknowledged before recording loses what it
    had not stored yet.
    """
    pending = {update["update_id"] for update in fake.pending_updates}

    def acknowledged() -> bool:
        return bool(pending - {update["update_id"] for update in fake.pending_updates})

    with contextlib.suppress(TimeoutError):  # nothing acknowledged: kill it anyway
        await fake.wait_until(acknowledged, 0.6)
    await bot.kill()


async def until_handled(backend: Backend, fake: FakeTelegram, *, expected: int) -> None:
    database = backend.open()

    async def handled() -> int:
        async with database.read() as session:
            return len(list(await session.scalars(select(InboundUpdate.id).where(InboundUpdate.handled_at.is_not(None)))))

    for _ in range(300):
        if not fake.pending_updates and await handled() >= expected:
            return
        await asyncio.sleep(0.1)
    async with database.read() as session:
        rows = list(await session.scalars(select(InboundUpdate).where(InboundUpdate.handled_at.is_(None))))
    left = [(row.dedup_key, row.attempts, row.failures, row.claimed_until, row.failed_at, row.last_error) for row in rows]
    raise AssertionError(
        f"{await handled()} of {expected} updates handled; {len(fake.pending_updates)} pending; "
        f"left (key, attempts, failures, claimed until, failed at, last error): {left}"
    )


async def check_exactly_once(backend: Backend, users: list[FakeUser], sent: list[str], *, expected: int) -> None:
    database = backend.open()
    async with database.read() as session:
        inbox = list(await session.scalars(select(InboundUpdate)))
        stored = list(
            await session.execute(
                select(Respondent.external_id, AnswerHistory.new_value)
                .join(Response, Response.id == AnswerHistory.response_id)
                .join(Respondent, Respondent.id == AnswerHistory.respondent_id)
                .where(AnswerHistory.question_id == "unit")
            )
        )
    assert len(inbox) == expected  # every update the fake delivered was recorded, once
    assert all(row.handled_at is not None and row.failed_at is None for row in inbox)
    answers = sorted(value for _, value in stored)
    assert answers == sorted(sent)  # every answer stored, none twice
    assert len(sent) >= len(users) * KILLS


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_killed_again_and_again__every_delivered_update_is_handled_exactly_once(
    backend: Backend, tmp_path: Path, webhook: bool
) -> None:
    try:
        await run_with_kills(backend, tmp_path, webhook=webhook)
    finally:
        await backend.dispose_all()
