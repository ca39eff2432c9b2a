"""End-to-end harness: the real PTB Application, our service and database, a fake Bot API.

Nothing of ours is replaced: updates travel over HTTP from the fake server
(``tests/fakes/telegram.py``) through our polling loop and the durable inbox
into our handlers, the service and a real database (SQLite, and PostgreSQL when
``SURVEYBOT_TEST_POSTGRES_URL`` is set). Only the clock is ours to set.

A test knows the bot has answered without guessing: the harness adds one
observer to the Application, a handler in a group after all of ours
(:data:`HANDLED_GROUP`), which python-telegram-bot runs once our handler for
the update has returned; it reports the update handled to the fake, and
:func:`replies` waits for every queued update to be reported. Messages sent
in the background (the outbox sender, the reminder worker) are not tied to an
update: wait for them explicitly (``user.wait_for_bot``, ``fake.wait_until``).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.core.survey import Survey
from bot.inbox import Inbox
from bot.service import SurveyService
from bot.settings import Settings
from bot.survey_cache import SurveyCache
from bot.survey_files import load_survey
from handlers.telegram.application import build_application
from handlers.telegram.intake import CHANNEL, Intake, UpdateFeeder
from storage.campaigns import create_campaign
from storage.database import Database
from storage.invitations import create_invitation
from storage.migrate import ensure_schema
from storage.rosters import add_units
from storage.surveys import store_survey
from tests.fakes.telegram import BotMessage, FakeTelegram, FakeUser
from tests.storage.conftest import Backend, backend, migrated_backend, migrated_template  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
NANTONG = ROOT / "surveys" / "nantong-midterm-2023.yaml"
UNITS = ("崇川区", "通州区", "海门区")
#: The handler group of the harness's observer: after every group the bot registers (only 0 today).
HANDLED_GROUP = 1_000


@functools.cache
def nantong() -> Survey:
    """The Nantong survey, read and compiled once per session (it is immutable)."""
    return load_survey(NANTONG)


class Clock:
    """The service's clock, settable by a test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class BotHarness:
    fake: FakeTelegram
    backend: Backend
    data_dir: Path
    clock: Clock
    campaign_id: int = 0
    deadline: datetime = field(default_factory=lambda: datetime(2026, 12, 15, 9, 0, tzinfo=UTC))
    tokens: dict[str, list[str]] = field(default_factory=dict)
    database: Database | None = None
    application: Application | None = None  # type: ignore[type-arg]
    #: The process's compiled-survey cache, shared by the service, the exports and the outbox composer.
    surveys: SurveyCache = field(default_factory=SurveyCache)
    intake: Intake | None = None

    @property
    def settings(self) -> Settings:
        return Settings(
            telegram_token=SecretStr(self.fake.token),
            telegram_api_url=f"{self.fake.url}/bot",
            telegram_file_url=f"{self.fake.url}/file/bot",
            database_url=self.backend.url_with_schema,
            data_dir=self.data_dir,
        )

    async def start(self) -> None:
        """Build a fresh service and Application (as a new process would) and start polling."""
        self.database = self.backend.open()
        await ensure_schema(self.database)
        self.surveys = SurveyCache()
        service = SurveyService(database=self.database, settings=self.settings, clock=self.clock, surveys=self.surveys)
        application = build_application(self.settings, service)
        self.observe(application)
        await application.initialize()
        if application.post_init:
            await application.post_init(application)
        await application.start()
        inbox = Inbox(database=self.database, channel=CHANNEL, handler=UpdateFeeder(application), clock=self.clock)
        self.intake = Intake(application=application, inbox=inbox, polling=True, poll_timeout=1)
        await self.intake.start()
        self.application = application

    def observe(self, application: Application) -> None:  # type: ignore[type-arg]
        """Report each update to the fake once ``application`` has finished handling it."""
        fake = self.fake

        async def handled(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            fake.mark_handled(update.update_id)

        assert max(application.handlers) < HANDLED_GROUP, "the observer must run after every handler"
        application.add_handler(TypeHandler(Update, handled), group=HANDLED_GROUP)

    async def stop(self) -> None:
        application = self.application
        if application is None:
            return
        assert self.intake is not None
        await self.intake.stop()
        self.intake = None
        await application.stop()
        await application.shutdown()
        self.application = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def create_campaign(self, *, units: tuple[str, ...] = UNITS, invitations_per_unit: int = 2) -> None:
        database = self.database or self.backend.open()
        await ensure_schema(database)
        survey = nantong()
        async with database.transaction() as session:
            version = await store_survey(session=session, survey=survey)
            campaign = await create_campaign(
                session=session,
                survey_version=version,
                title="南通中期评估",
                deadline=self.deadline,
                now=self.clock(),
            )
            roster = await add_units(session=session, campaign=campaign, names=list(units))
            for unit in roster:
                self.tokens[unit.name] = [
                    (await create_invitation(session=session, unit=unit, now=self.clock()))[1]
                    for _ in range(invitations_per_unit)
                ]
            self.campaign_id = campaign.id


@pytest.fixture
async def harness(migrated_backend: Backend, tmp_path: Path) -> AsyncIterator[BotHarness]:
    """A running bot on a database at the newest schema (a copy of one migrated per session)."""
    backend = migrated_backend
    async with FakeTelegram() as fake:
        harness = BotHarness(
            fake=fake,
            backend=backend,
            data_dir=tmp_path / "data",
            clock=Clock(datetime(2026, 12, 1, 2, 0, tzinfo=UTC)),
        )
        await harness.start()
        await harness.create_campaign()
        try:
            yield harness
        finally:
            await harness.stop()
            await backend.dispose_all()
            assert not fake.internal_errors, fake.internal_errors


async def replies(user: FakeUser, *, at_least: int = 1, timeout: float = 10.0) -> list[BotMessage]:
    """The bot's new messages since the user's last action, once the bot has handled every update.

    Fails at once when there are fewer than ``at_least``: nothing more is coming
    from the updates. Messages sent in the background (the outbox) are not
    replies; wait for them with ``user.wait_for_bot`` or ``fake.wait_until``.
    """
    await user.wait_until_handled(timeout=timeout)
    messages = user.new_messages()
    assert len(messages) >= at_least, (
        f"user {user.id}: the bot handled every update and sent {len(messages)} message(s), "
        f"expected at least {at_least}: {[m.text or m.caption or m.filename for m in messages]}"
    )
    return messages


async def text_of(user: FakeUser, **kwargs: object) -> str:
    """All new bot messages joined, for assertions on what the person reads."""
    return "\n---\n".join(message.text or "" for message in await replies(user, **kwargs))  # type: ignore[arg-type]


def last_prompt(user: FakeUser) -> BotMessage:
    """The newest bot message with buttons."""
    for message in reversed(user.messages):
        if message.inline_keyboard:
            return message
    raise AssertionError("no bot message with buttons")
