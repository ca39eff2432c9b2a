"""Benchmark: many respondents complete the Nantong survey at once, through the full stack.

The fake Bot API runs in its own process (``python -m tests.fakes.telegram``),
a fresh one for each measurement. In this process: our bot (the real PTB
Application, handlers, service, SQLite in a temporary directory) and the
simulated respondents, who each answer the whole survey and wait for the
bot's reply after every step.

Two loads:

* saturated: every respondent answers the moment the reply arrives, so the
  bot always has work queued. This gives the throughput, compared with a
  bare PTB echo bot (one reply per update) driven the same way against a
  fake server of its own: the baseline. Under a closed loop like this, the
  time an update spends in the bot is mostly queueing (about respondents /
  throughput), for the echo bot too; both are printed.
* paced: the same respondents pause like people on phones, a random 50-150%
  of ``--think`` seconds before each answer, starting spread over the first
  pause. This gives the time to handle an update (from the moment the bot
  starts on it until its replies are sent) and the reply time a respondent
  sees (from sending to the last reply arriving), at a load the bot can carry.

    python bench/conversation.py [--respondents 200] [--think 4] [--rounds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pydantic import SecretStr
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.inbox import Inbox
from bot.memory import freeze_startup_objects
from bot.service import SurveyService
from bot.settings import Settings
from bot.survey_files import load_survey
from handlers.telegram.application import PerChatUpdateProcessor, build_application
from handlers.telegram.intake import CHANNEL, Intake, UpdateFeeder
from storage.campaigns import create_campaign
from storage.database import Database
from storage.invitations import create_invitation
from storage.migrate import ensure_schema
from storage.rosters import add_units
from storage.surveys import store_survey
from tests.fakes.telegram import RemoteFakeTelegram, RemoteUser, start_process

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
    freeze_startup_objects()  # as `surveybot run` does; the echo bot gets it too


async def stop_application(application: Application) -> None:  # type: ignore[type-arg]
    assert application.updater is not None
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


async def respondent(user: RemoteUser, token: str, *, think: float, seed: int, replies: list[float]) -> None:
    """One respondent's whole survey; ``think`` > 0 pauses before each step, as a person would."""
    rng = random.Random(seed)

    async def pause() -> None:
        if think > 0:
            await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))

    async def step(send: Awaitable[Any], expected: int) -> None:
        started = time.perf_counter()
        await send
        await user.wait_for_bot(expected, timeout=120)
        replies.append(time.perf_counter() - started)

    if think > 0:
        await asyncio.sleep(rng.uniform(0, think))  # people start within the first pause, not all at once
    await step(user.send_command("/start", token), 2)  # the greeting with the introduction, the first question
    for kind, payload, expected in SCRIPT:
        await pause()
        await step(user.send_text(payload) if kind == "text" else user.press(payload), expected)


async def echo_user(user: RemoteUser) -> None:
    for index in range(len(SCRIPT) + 1):
        await user.send_text(f"hello {index}")
        await user.wait_for_bot(1, timeout=120)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


@dataclass
class Run:
    """One measurement: how long it took and the times it recorded."""

    elapsed: float
    handling: list[float]  # the bot's time per update
    replies: list[float] = field(default_factory=list)  # the respondents' wait per step


async def measure_surveybot(url: str, respondents: int, workdir: Path, *, think: float) -> Run:
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
    # As `surveybot run` polls: every update through the durable inbox.
    inbox = Inbox(database=database, channel=CHANNEL, handler=UpdateFeeder(application))
    intake = Intake(application=application, inbox=inbox, polling=True, poll_timeout=1)
    await application.initialize()
    await application.start()
    await intake.start()
    freeze_startup_objects()
    try:
        async with RemoteFakeTelegram(url) as fake:
            users = [await fake.user(10_000 + i, f"R{i}", language_code="zh-hans") for i in range(respondents)]
            replies: list[float] = []
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    respondent(user, token, think=think, seed=index, replies=replies)
                    for index, (user, token) in enumerate(zip(users, tokens, strict=True))
                )
            )
            elapsed = time.perf_counter() - started
    finally:
        await intake.stop()
        await application.stop()
        await application.shutdown()
        await database.dispose()
    return Run(elapsed=elapsed, handling=processor.durations, replies=replies)


async def measure_echo(url: str, respondents: int) -> Run:
    processor = TimedUpdateProcessor()
    application = (
        Application.builder()
        .token("7000000001:AAFakeTokenForSurveybotTests_0123456789")
        .base_url(f"{url}/bot")
        .base_file_url(f"{url}/file/bot")
        .concurrent_updates(processor)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    await run_application(application)
    try:
        async with RemoteFakeTelegram(url) as fake:
            users = [await fake.user(50_000 + i, f"E{i}") for i in range(respondents)]
            started = time.perf_counter()
            await asyncio.gather(*(echo_user(user) for user in users))
            return Run(elapsed=time.perf_counter() - started, handling=processor.durations)
    finally:
        await stop_application(application)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def milliseconds(values: list[float]) -> str:
    return f"p50 {statistics.median(values) * 1000:.1f} ms, p99 {percentile(values, 0.99) * 1000:.1f} ms (n={len(values)})"


async def with_fake(measure: Callable[[str], Awaitable[Run]]) -> Run:
    """Run one measurement against a fake Bot API process of its own."""
    process, url = start_fake()
    try:
        return await measure(url)
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=200)
    parser.add_argument("--think", type=float, default=4.0, help="mean pause before each answer in the paced run (0 skips it)")
    parser.add_argument("--rounds", type=int, default=1, help="saturated runs of each bot; the fastest counts")
    args = parser.parse_args()
    respondents = args.respondents
    updates = respondents * (len(SCRIPT) + 1)

    async def ours(url: str, think: float) -> Run:
        with tempfile.TemporaryDirectory() as workdir:
            return await measure_surveybot(url, respondents, Path(workdir), think=think)

    saturated: list[Run] = []
    echoes: list[Run] = []
    for _ in range(args.rounds):  # alternate, so that both see the same machine
        saturated.append(await with_fake(lambda url: ours(url, 0.0)))
        echoes.append(await with_fake(lambda url: measure_echo(url, respondents)))
    best = min(saturated, key=lambda run: run.elapsed)
    echo = min(echoes, key=lambda run: run.elapsed)
    ours_rate, echo_rate = updates / best.elapsed, updates / echo.elapsed

    print(f"respondents: {respondents}, updates each: {len(SCRIPT) + 1}, SQLite, fake Bot API in its own process")
    print(f"saturated (fastest of {args.rounds}), every respondent answering as soon as the reply arrives:")
    print(f"  surveybot: {best.elapsed:.2f} s, {ours_rate:.0f} updates/s, {respondents * ANSWERS_PER_RESPONDENT / best.elapsed:.0f} answers/s")
    print(f"  baseline, bare PTB echo bot: {echo.elapsed:.2f} s, {echo_rate:.0f} updates/s")
    print(f"  throughput ratio surveybot/echo: {ours_rate / echo_rate:.2f} (aim >= 0.5)")
    print(f"  time in the bot per update, mostly queueing: surveybot {milliseconds(best.handling)}")
    print(f"                                               echo bot  {milliseconds(echo.handling)}")
    if args.think > 0:
        paced = await with_fake(lambda url: ours(url, args.think))
        print(f"paced, each respondent pausing {0.5 * args.think:g}-{1.5 * args.think:g} s before each answer:")
        print(f"  {paced.elapsed:.1f} s, offered load {updates / paced.elapsed:.0f} updates/s")
        print(f"  time to handle an update: {milliseconds(paced.handling)} (aim p99 <= 50 ms)")
        print(f"  reply time a respondent sees: {milliseconds(paced.replies)}")


if __name__ == "__main__":
    asyncio.run(main())
