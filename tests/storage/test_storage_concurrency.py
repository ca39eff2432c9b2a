"""Concurrent read-then-write transactions: nothing lost, nothing duplicated, never "locked".

Several :class:`Database` objects (separate engines and connection pools) on
the same SQLite file or PostgreSQL schema stand in for several bot processes.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

from sqlalchemy import func, select

from storage.invitations import create_invitation, redeem_invitation
from storage.models import Answer, AnswerHistory, Respondent, Response, Unit
from storage.respondents import get_or_create_respondent
from storage.responses import lock_response, record_answer
from storage.rosters import list_units
from storage.updates import claim_update

TASKS = 50
ENGINES = 5


async def test_read_then_write_increments__none_lost(migrated_backend, make_campaign) -> None:  # type: ignore[no-untyped-def]
    campaign = await make_campaign(units=["崇川区"])
    databases = [migrated_backend.open() for _ in range(ENGINES)]
    async with databases[0].read() as session:
        response_id = (await list_units(session=session, campaign=campaign))[0].response.id

    async def increment(task: int) -> None:
        database = databases[task % ENGINES]
        async with database.transaction() as session:
            response = await lock_response(session=session, response_id=response_id)
            seen = response.revision
            await asyncio.sleep(random.random() / 200)  # let other tasks run in between
            response.revision = seen + 1

    await asyncio.gather(*(increment(task) for task in range(TASKS)))

    async with databases[0].read() as session:
        assert await session.scalar(select(Response.revision).where(Response.id == response_id)) == TASKS


async def test_fifty_tasks_answering_for_ten_respondents__no_lost_or_duplicate_answer(
    migrated_backend, make_campaign  # type: ignore[no-untyped-def]
) -> None:
    units = ["崇川区", "海门区", "如皋市"]
    campaign = await make_campaign(units=units)
    databases = [migrated_backend.open() for _ in range(ENGINES)]

    # Ten accounts, bound in turn to the three units (so several share a response).
    respondent_ids: list[int] = []
    async with databases[0].transaction() as session:
        roster = await list_units(session=session, campaign=campaign)
        for number in range(10):
            respondent = await get_or_create_respondent(
                session=session, channel="telegram", external_id=str(5000 + number)
            )
            _, token = await create_invitation(session=session, unit=roster[number % 3])
            redemption = await redeem_invitation(session=session, token=token, respondent=respondent)
            assert redemption.accepted
            respondent_ids.append(respondent.id)

    async def answer(task: int) -> None:
        database = databases[task % ENGINES]
        respondent_id = respondent_ids[task % 10]
        async with database.transaction() as session:
            assert await claim_update(session=session, channel="telegram", update_id=str(task))
            respondent = await session.get(Respondent, respondent_id)
            assert respondent is not None and respondent.active_response_id is not None
            response = await lock_response(session=session, response_id=respondent.active_response_id)
            await asyncio.sleep(random.random() / 200)
            await record_answer(
                session=session,
                response=response,
                question_id=f"q{task}",
                value={"task": task, "text": "答案"},
                respondent=respondent,
                channel="telegram",
            )

    await asyncio.gather(*(answer(task) for task in range(TASKS)))

    async with databases[0].read() as session:
        answers = list(await session.scalars(select(Answer)))
        history = list(await session.scalars(select(AnswerHistory)))
        responses = list(
            await session.scalars(
                select(Response).join(Unit).where(Unit.campaign_id == campaign.id)
            )
        )
        answered_per_response = Counter(answer.response_id for answer in answers)
        assert await session.scalar(select(func.count()).select_from(Answer)) == TASKS

    assert sorted(answer.value["task"] for answer in answers) == list(range(TASKS))
    assert len(history) == TASKS
    for response in responses:
        revisions = sorted(row.revision for row in history if row.response_id == response.id)
        assert revisions == list(range(1, answered_per_response[response.id] + 1))
        assert response.revision == answered_per_response[response.id]


async def test_redelivered_updates_racing__are_applied_once(migrated_backend, database) -> None:  # type: ignore[no-untyped-def]
    databases = [migrated_backend.open() for _ in range(ENGINES)]

    async def deliver(task: int) -> bool:
        async with databases[task % ENGINES].transaction() as session:
            return await claim_update(session=session, channel="telegram", update_id="777")

    claimed = await asyncio.gather(*(deliver(task) for task in range(20)))
    assert claimed.count(True) == 1
