"""A second-period campaign on a phone: last period's answers offered with a 沿用上次 button."""

from __future__ import annotations

from sqlalchemy import select

from bot.survey_files import load_survey
from storage.campaigns import create_campaign, get_campaign
from storage.invitations import create_invitation
from storage.models import Answer, AnswerHistory, Response, Unit
from storage.responses import get_unit_response, submit_response
from storage.rosters import add_units, get_unit
from storage.surveys import store_survey
from tests.telegram.conftest import NANTONG, BotHarness, last_prompt, text_of

#: What 海门区 submitted in the first period.
FIRST_PERIOD = {
    "answers": {"unit": "海门区科学技术协会", "filled_by": "王芳", "q7_members": 32},
    "others": {},
}


async def open_second_period(harness: BotHarness) -> int:
    """海门区 submitted in the harness's campaign; the next one, linked to it, adds 如东县."""
    assert harness.database is not None
    async with harness.database.transaction() as session:
        first = await get_campaign(session=session, campaign_id=harness.campaign_id)
        response = await get_unit_response(
            session=session, unit=await get_unit(session=session, campaign=first, name="海门区"), for_update=True
        )
        await submit_response(session=session, response=response, values=FIRST_PERIOD, now=harness.clock())
        version = await store_survey(session=session, survey=load_survey(NANTONG))
        second = await create_campaign(
            session=session,
            survey_version=version,
            title="南通 第二期",
            deadline=harness.deadline,
            previous_campaign=first,
            now=harness.clock(),
        )
        for unit in await add_units(session=session, campaign=second, names=["海门区", "如东县"]):
            harness.tokens[f"second:{unit.name}"] = [(await create_invitation(session=session, unit=unit, now=harness.clock()))[1]]
        return second.id


async def stored(harness: BotHarness, campaign_id: int, unit_name: str, *, history: bool = False) -> list[tuple[str, object]]:
    """The unit's answers (or, with ``history``, its answer changes with their channel) in order."""
    assert harness.database is not None
    columns = (
        (AnswerHistory.question_id, AnswerHistory.new_value, AnswerHistory.channel, AnswerHistory.response_id, AnswerHistory.id)
        if history
        else (Answer.question_id, Answer.value, Answer.question_id, Answer.response_id, Answer.id)
    )
    question, value, channel, response_id, order = columns
    async with harness.database.read() as session:
        rows = await session.execute(
            select(question, value, channel)
            .join(Response, Response.id == response_id)
            .join(Unit, Unit.id == Response.unit_id)
            .where(Unit.name == unit_name, Unit.campaign_id == campaign_id)
            .order_by(order)
        )
        return [(q, v, c) if history else (q, v) for q, v, c in rows]


async def test_second_period__one_tap_records_last_periods_answer_and_its_history(harness: BotHarness) -> None:
    second = await open_second_period(harness)
    user = harness.fake.user(4001, "王芳", language_code="zh-hans")
    await user.send_command("/start", harness.tokens["second:海门区"][0])
    text = await text_of(user)
    assert "第 1/18 题" in text and "上次：海门区科学技术协会" in text
    assert "沿用上次" in last_prompt(user).button_texts

    await user.press("沿用上次")
    text = await text_of(user)
    assert "第 2/18 题" in text and "填表人" in text
    assert "上次：王芳" in text
    assert await stored(harness, second, "海门区") == [("unit", "海门区科学技术协会")]
    assert await stored(harness, second, "海门区", history=True) == [("unit", "海门区科学技术协会", "telegram")]

    # Changing it is typing another answer.
    await user.send_text("李明")
    await text_of(user)
    assert await stored(harness, second, "海门区") == [("unit", "海门区科学技术协会"), ("filled_by", "李明")]
    # The first period's response is untouched.
    assert await stored(harness, harness.campaign_id, "海门区") == []


async def test_second_period__a_unit_new_this_period_simply_answers(harness: BotHarness) -> None:
    await open_second_period(harness)
    user = harness.fake.user(4002, "赵六", language_code="zh-hans")
    await user.send_command("/start", harness.tokens["second:如东县"][0])
    text = await text_of(user)
    assert "第 1/18 题" in text
    assert "上次" not in text
    assert all("沿用上次" not in message.button_texts for message in user.messages)


async def test_second_period__a_unit_that_did_not_submit_last_time_gets_no_default(harness: BotHarness) -> None:
    """通州区 was on last period's roster but never submitted: nothing to offer."""
    assert harness.database is not None
    async with harness.database.transaction() as session:
        first = await get_campaign(session=session, campaign_id=harness.campaign_id)
        version = await store_survey(session=session, survey=load_survey(NANTONG))
        second = await create_campaign(
            session=session, survey_version=version, title="南通 第二期", deadline=harness.deadline,
            previous_campaign=first, now=harness.clock(),
        )
        [unit] = await add_units(session=session, campaign=second, names=["通州区"])
        token = (await create_invitation(session=session, unit=unit, now=harness.clock()))[1]
    user = harness.fake.user(4003, "钱七", language_code="zh-hans")
    await user.send_command("/start", token)
    assert "上次" not in await text_of(user)
