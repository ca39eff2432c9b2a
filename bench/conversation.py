"""Benchmark: many respondents complete the Nantong survey at once, through the full stack.

The fake Bot API runs in its own process (``python -m tests.fakes.telegram``).
In this process: our bot (the real PTB Application, handlers, service, SQLite
in a temporary directory) and the simulated respondents, who each answer the
whole survey and wait for the bot's reply after every step, like a person.

Then, in the same run and against the same fake server, a bare PTB echo bot
(one reply per update) is driven with the same number of updates per user;
its throughput is the baseline. Printed: updates and answers per second, the
p50/p99 time our bot spends handling one update, and the throughput ratio.

    python bench/conversation.py [--respondents 200]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import Application, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.channels.telegram import PerChatUpdateProcessor, build_application  # noqa: E402
from bot.loading import load_survey  # noqa: E402
from bot.service import SurveyService  # noqa: E402
from bot.settings import Settings  # noqa: E402
from storage.campaigns import create_campaign  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.invitations import create_invitation  # noqa: E402
from storage.migrate import ensure_schema  # noqa: E402
from storage.rosters import add_units  # noqa: E402
from storage.surveys import store_survey  # noqa: E402
from tests.fakes.telegram import RemoteFakeTelegram, RemoteUser, start_process  # noqa: E402

REPORT_PART = "本地区坚持党委领导、政府推动，成员单位协同推进全民科学素质工作，" * 3

#: One respondent's walk through the Nantong survey: (kind, payload, bot messages expected).
SCRIPT: list[tuple[str, str, int]] = [
    ("text", "海门区科学技术协会", 1),
    ("text", "王芳", 1),
    ("text", "0513-59003013", 1),
    ("text", "2023年4月26日", 1),
    ("press", "是", 1),
    ("press", "否", 1),
    ("press", "是", 1),
    ("press", "否", 1),
    ("press", "全民科学素质工作领导小组", 1),
    ("press", "是", 1),
    ("text", "35", 1),
    ("text", "3", 2),  # the report note, then the first report part
    *[step for _ in range(5) for step in (("text", REPORT_PART, 1), ("press", "完成", 1))],
    ("press", "跳过", 1),  # the optional scan; the review follows
    ("press", "✅ 提交", 1),
]
ANSWERS_PER_RESPONDENT = 18  # every relevant question, the skipped scan included


class TimedUpdateProcessor(PerChatUpdateProcessor):
    """Our processor, recording how long each update takes to handle."""

    def __init__(self) -> None:
        super().__init__()
        self.durations: list[float] = []

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        async def timed() -> None:
            started = time.perf_counter()
            await coroutine
            self.durations.append(time.perf_counter() - started)

        await super().do_process_update(update, timed())


def start_fake() -> tuple[subprocess.Popen[str], str]:
    return start_process("--max-calls", "1000", cwd=ROOT)


async def prepare_campaign(database: Database, respondents: int) -> list[str]:
    await ensure_schema(database)
    survey = load_survey(ROOT / "surveys" / "nantong-midterm-2023.yaml")
    async with database.transaction() as session:
        version = await store_survey(session=session, survey=survey)
        campaign = await create_campaign(
            session=session,
            survey_version=version,
            title="bench",
            deadline=datetime.now(UTC) + timedelta(days=7),
        )
        units = await add_units(session=session, campaign=campaign, names=[f"单位{i:04d}" for i in range(respondents)])
        return [(await create_invitation(session=session, unit=unit))[1] for unit in units]


async def run_application(application: Application) -> None:  # type: ignore[type-arg]
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)


async def stop_application(application: Application) -> None:  # type: ignore[type-arg]
    assert application.updater is not None
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


async def respondent(user: RemoteUser, token: str) -> None:
    await user.send_command("/start", token)
    await user.wait_for_bot(3, timeout=60)
    for kind, payload, expected in SCRIPT:
        if kind == "text":
            await user.send_text(payload)
        else:
            await user.press(payload)
        await user.wait_for_bot(expected, timeout=60)


async def echo_user(user: RemoteUser) -> None:
    for index in range(len(SCRIPT) + 1):
        await user.send_text(f"hello {index}")
        await user.wait_for_bot(1, timeout=60)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


async def measure_surveybot(url: str, respondents: int, workdir: Path) -> tuple[float, list[float]]:
    settings = Settings(
        telegram_token=SecretStr("7000000001:AAFakeTokenForSurveybotTests_0123456789"),
        telegram_api_url=f"{url}/bot",
        telegram_file_url=f"{url}/file/bot",
        data_dir=workdir / "data",
    )
    database = Database.from_settings(settings)
    tokens = await prepare_campaign(database, respondents)
    service = SurveyService(database=database, settings=settings)
    application = build_application(settings, service)
    processor = TimedUpdateProcessor()
    application._update_processor = processor  # the same processor, with a stopwatch
    await run_application(application)
    try:
        async with RemoteFakeTelegram(url) as fake:
            users = [await fake.user(10_000 + i, f"R{i}", language_code="zh-hans") for i in range(respondents)]
            started = time.perf_counter()
            await asyncio.gather(*(respondent(user, token) for user, token in zip(users, tokens, strict=True)))
            elapsed = time.perf_counter() - started
    finally:
        await stop_application(application)
        await database.dispose()
    return elapsed, processor.durations


async def measure_echo(url: str, respondents: int) -> float:
    application = (
        Application.builder()
        .token("7000000001:AAFakeTokenForSurveybotTests_0123456789")
        .base_url(f"{url}/bot")
        .base_file_url(f"{url}/file/bot")
        .concurrent_updates(PerChatUpdateProcessor())
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    await run_application(application)
    try:
        async with RemoteFakeTelegram(url) as fake:
            users = [await fake.user(50_000 + i, f"E{i}") for i in range(respondents)]
            started = time.perf_counter()
            await asyncio.gather(*(echo_user(user) for user in users))
            return time.perf_counter() - started
    finally:
        await stop_application(application)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=200)
    args = parser.parse_args()
    updates_per_user = len(SCRIPT) + 1
    process, url = start_fake()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            ours, durations = await measure_surveybot(url, args.respondents, Path(workdir))
        baseline = await measure_echo(url, args.respondents)
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
    updates = args.respondents * updates_per_user
    ours_rate = updates / ours
    echo_rate = updates / baseline
    print(f"respondents: {args.respondents}, updates each: {updates_per_user}, SQLite, fake Bot API in its own process")
    print(f"surveybot: {ours:.2f} s, {ours_rate:.0f} updates/s, {args.respondents * ANSWERS_PER_RESPONDENT / ours:.0f} answers/s")
    print(
        f"surveybot update handling: p50 {statistics.median(durations) * 1000:.1f} ms, "
        f"p99 {percentile(durations, 0.99) * 1000:.1f} ms (n={len(durations)})"
    )
    print(f"baseline (bare PTB echo bot): {baseline:.2f} s, {echo_rate:.0f} updates/s")
    print(f"throughput ratio surveybot/echo: {ours_rate / echo_rate:.2f} (aim >= 0.5); p99 aim <= 50 ms")


if __name__ == "__main__":
    asyncio.run(main())
