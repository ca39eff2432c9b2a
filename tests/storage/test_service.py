"""The service without any chat channel: whole surveys, concurrency, counts that agree."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.core.actions import Action, AnswerText, ChooseOption, Finish, Skip, Submit
from bot.core.events import AnswerChanged, Rejected
from bot.core.loading import parse_survey
from bot.core.survey import Survey
from bot.service import ChannelUser, SurveyService
from bot.settings import Settings
from bot.survey_files import load_survey
from storage.campaigns import create_campaign
from storage.database import Database
from storage.invitations import create_invitation
from storage.migrate import ensure_schema
from storage.models import Answer, AnswerHistory, Response, ResponseStatus
from storage.rosters import add_units
from storage.surveys import store_survey
from tests.storage.conftest import Backend

ROOT = Path(__file__).resolve().parents[2]
TEN_TEXTS = parse_survey(
    """
id: ten-texts
version: "1"
title: 十个问题
languages: [zh]
sections:
  - id: s
    title: 基本信息
    questions:
"""
    + "".join(f"      - {{id: t{n}, type: text, label: 问题{n}}}\n" for n in range(1, 11))
)
NANTONG_ANSWERS: list[Action] = [
    AnswerText("海门区科协"),
    AnswerText("王芳"),
    AnswerText("0513-59003013"),
    AnswerText("2023-04-26"),
    ChooseOption("yes", "q1_econ_plan"),
    ChooseOption("no", "q2_tech_plan"),
    ChooseOption("yes", "q3_regulation"),
    ChooseOption("no", "q4_assessment"),
    ChooseOption("#0", "q5_body"),
    ChooseOption("yes", "q6_meetings"),
    AnswerText("35"),
    AnswerText("-3"),
    *[action for part in range(5) for action in (AnswerText(f"第{part}部分"), Finish())],
    Skip(),
    Submit(),
]


async def campaign_for(backend: Backend, survey: Survey, units: list[str], per_unit: int = 1) -> dict[str, list[str]]:
    database = backend.open()
    await ensure_schema(database)
    async with database.transaction() as session:
        version = await store_survey(session=session, survey=survey)
        campaign = await create_campaign(
            session=session, survey_version=version, title="测试", deadline=datetime.now(UTC) + timedelta(days=3)
        )
        roster = await add_units(session=session, campaign=campaign, names=units)
        return {
            unit.name: [(await create_invitation(session=session, unit=unit))[1] for _ in range(per_unit)]
            for unit in roster
        }


def service(backend: Backend, tmp_path: Path) -> SurveyService:
    settings = Settings(database_url=backend.url_with_schema, data_dir=tmp_path / "data")
    return SurveyService(database=Database(settings.resolved_database_url), settings=settings)


async def count(database: Database, table: type) -> int:
    async with database.read() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_nantong_for_a_roster__answers_in_stored_and_history_agree(backend: Backend, tmp_path: Path) -> None:
    units = ["崇川区", "通州区", "海门区"]
    tokens = await campaign_for(backend, load_survey(ROOT / "surveys" / "nantong-midterm-2023.yaml"), units)
    bot = service(backend, tmp_path)
    changes = 0
    for number, unit in enumerate(units):
        user = ChannelUser("telegram", str(8000 + number), unit, "zh")
        await bot.start(user=user, update_id=f"{unit}-start", token=tokens[unit][0])
        for step, action in enumerate(NANTONG_ANSWERS):
            outcome = await bot.act(user=user, update_id=f"{unit}-{step}", action=action)
            assert not any(isinstance(event, Rejected) for event in outcome.events), (step, outcome.events)
            changes += sum(isinstance(event, AnswerChanged) for event in outcome.events)
    database = bot.database
    assert changes == 3 * 17  # every relevant question but the skipped scan
    assert await count(database, Answer) == changes
    assert await count(database, AnswerHistory) == changes
    async with database.read() as session:
        statuses = list(await session.scalars(select(Response.status)))
    assert statuses == [ResponseStatus.SUBMITTED] * 3


async def test_fifty_tasks_for_ten_respondents_in_two_processes__nothing_lost_or_doubled(
    backend: Backend, tmp_path: Path
) -> None:
    units = [f"单位{n}" for n in range(5)]
    tokens = await campaign_for(backend, TEN_TEXTS, units, per_unit=2)  # two people per unit
    services = [service(backend, tmp_path), service(backend, tmp_path)]  # as two bot processes
    people = [
        (ChannelUser("telegram", f"{unit}-{index}", None, "zh"), token)
        for unit in units
        for index, token in enumerate(tokens[unit])
    ]
    for number, (user, token) in enumerate(people):
        await services[number % 2].start(user=user, update_id=f"start-{number}", token=token)

    async def answer(task: int) -> None:
        user, _ = people[task % len(people)]
        outcome = await services[task % 2].act(user=user, update_id=f"task-{task}", action=AnswerText(f"值{task}"))
        assert not any(isinstance(event, Rejected) for event in outcome.events)

    await asyncio.gather(*(answer(task) for task in range(50)))
    database = services[0].database
    async with database.read() as session:
        values = list(await session.scalars(select(Answer.value)))
        history = list(await session.scalars(select(AnswerHistory.new_value)))
    assert sorted(values) == sorted(f"值{task}" for task in range(50))  # 5 units x 10 questions, each answered once
    assert sorted(history) == sorted(values)
