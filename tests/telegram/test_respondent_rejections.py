"""After a rejection the newest message offers the way forward, on a phone.

The case a respondent met: an optional report part of the Nantong survey
whose draft breaks the whole report's 1000-character limit. The warning used
to come with no buttons, under a draft message whose only button (完成)
failed again; 跳过 was far above on the question, and nothing cleared a draft.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.core.loading import parse_survey
from storage.campaigns import create_campaign
from storage.invitations import create_invitation
from storage.models import Answer, Response, Unit
from storage.rosters import add_units
from storage.surveys import store_survey
from tests.fakes.telegram import BotMessage, FakeUser
from tests.telegram.conftest import NANTONG, BotHarness, replies, text_of

#: The Nantong table up to item 7 (item 4 "no": 18 questions), typed.
TABLE = ["如皋市科学技术协会", "王芳", "0513-59003013", "2023年4月26日", "是", "否", "是", "否", "1", "是", "35", "0"]
TOTAL_REASON = "评估报告全文（五个部分合计）不得超过1000字，现已超出。请精简本部分后重新发送。"


async def campaign_with_optional_part(harness: BotHarness, question_id: str, *, unit: str) -> str:
    """A campaign of the Nantong survey in which report part ``question_id`` is optional; an invitation token."""
    text = Path(NANTONG).read_text(encoding="utf-8")
    anchor = f"      - id: {question_id}\n        type: long_text\n"
    assert text.count(anchor) == 1
    text = text.replace(anchor, anchor + "        required: false\n").replace('version: "1"', 'version: "1-optional"')
    survey = parse_survey(text, source=str(NANTONG))
    assert harness.database is not None
    async with harness.database.transaction() as session:
        version = await store_survey(session=session, survey=survey)
        campaign = await create_campaign(
            session=session, survey_version=version, title="南通中期评估（报告可选）", deadline=harness.deadline, now=harness.clock()
        )
        [roster_unit] = await add_units(session=session, campaign=campaign, names=[unit])
        _, token = await create_invitation(session=session, unit=roster_unit, now=harness.clock())
    return token


async def say(user: FakeUser, text: str) -> list[BotMessage]:
    await user.send_text(text)
    return await replies(user)


async def press(user: FakeUser, button: str) -> list[BotMessage]:
    await user.press(button)
    return await replies(user)


async def stored(harness: BotHarness, unit: str) -> tuple[dict[str, object], dict[str, object]]:
    """The unit's stored answers and its response's long-text drafts."""
    assert harness.database is not None
    async with harness.database.read() as session:
        response = await session.scalar(select(Response).join(Unit).where(Unit.name == unit))
        assert response is not None and response.state is not None
        answers = await session.scalars(select(Answer).where(Answer.response_id == response.id))
        return {answer.question_id: answer.value for answer in answers}, dict(response.state.get("drafts", {}))


async def at_last_report_part(harness: BotHarness, user: FakeUser, token: str) -> None:
    """Answer the table and four report parts of 200 characters each (800 in all)."""
    await user.send_command("/start", token)
    await replies(user, at_least=2)
    for answer in TABLE:
        await say(user, answer)
    for part in ("一", "二", "三", "四"):
        await say(user, part * 200)
        await press(user, "完成")


async def test_optional_part_over_the_whole_report_limit__the_warning_offers_skip_and_start_over(
    harness: BotHarness,
) -> None:
    token = await campaign_with_optional_part(harness, "r4_suggestions", unit="如皋市")
    user = harness.fake.user(3101, "王芳", language_code="zh-hans")
    await at_last_report_part(harness, user, token)

    [draft] = await say(user, "五" * 201)  # alone within the part's limit, over the total with the others
    assert "已输入 201/1000 字" in (draft.text or "")
    assert draft.buttons == [["完成", "清空重写"], ["跳过"]]

    [warning] = await press(user, "完成")
    assert warning.text == f"⚠️ {TOTAL_REASON}"
    assert warning.buttons == [["完成", "清空重写"], ["⬅️ 上一题", "跳过"]]
    assert user.messages[-1].message_id == warning.message_id  # the newest message has the way forward
    _, drafts = await stored(harness, "如皋市")
    assert list(drafts) == ["r4_suggestions"]

    [question] = await press(user, "清空重写")
    assert "四、进一步推进《规划》实施的对策建议" in (question.text or "")
    assert "已输入" not in (question.text or "")
    _, drafts = await stored(harness, "如皋市")
    assert drafts == {}

    [draft] = await say(user, "建议：加强培训。")
    assert "已输入 8/1000 字" in (draft.text or "")  # counted from nothing
    [stamped] = await press(user, "完成")
    assert "盖公章的调查表扫描件" in (stamped.text or "")
    answers, drafts = await stored(harness, "如皋市")
    assert answers["r4_suggestions"] == "建议：加强培训。" and drafts == {}


async def test_optional_part_over_the_whole_report_limit__skip_on_the_warning_goes_on_without_it(
    harness: BotHarness,
) -> None:
    token = await campaign_with_optional_part(harness, "r4_suggestions", unit="如皋市")
    user = harness.fake.user(3102, "李雷", language_code="zh-hans")
    await at_last_report_part(harness, user, token)
    await say(user, "五" * 201)
    await press(user, "完成")
    assert "盖公章的调查表扫描件" in "\n".join(message.text or "" for message in await press(user, "跳过"))
    answers, drafts = await stored(harness, "如皋市")
    assert "r4_suggestions" not in answers and drafts == {}


async def test_required_part_over_the_whole_report_limit__the_warning_offers_done_start_over_and_back(
    harness: BotHarness,
) -> None:
    user = harness.fake.user(3103, "张三", language_code="zh-hans")
    await at_last_report_part(harness, user, harness.tokens["海门区"][0])
    await say(user, "五" * 201)
    [warning] = await press(user, "完成")
    assert warning.text == f"⚠️ {TOTAL_REASON}"
    assert warning.buttons == [["完成", "清空重写"], ["⬅️ 上一题"]]  # required: no skip
    [previous] = await press(user, "⬅️ 上一题")
    assert "三、《规划》实施面临的问题和困难" in (previous.text or "")


async def test_invalid_typed_answer__the_warning_offers_back(harness: BotHarness) -> None:
    user = harness.fake.user(3104, "王芳", language_code="zh-hans")
    await user.send_command("/start", harness.tokens["通州区"][0])
    await replies(user, at_least=2)
    await say(user, "通州区科学技术协会")
    await say(user, "王芳")
    [warning] = await say(user, "59003013")
    assert warning.text == "⚠️ 请输入11位手机号，或带区号的固定电话，例如 0513-59003013"
    assert warning.buttons == [["⬅️ 上一题"]]
    assert "填表人" in await text_of_press(user, "⬅️ 上一题")


async def test_multiple_choice_finished_empty__the_warning_offers_done_and_back(harness: BotHarness) -> None:
    user = harness.fake.user(3105, "王芳", language_code="zh-hans")
    await user.send_command("/start", harness.tokens["崇川区"][0])
    await replies(user, at_least=2)
    for answer in TABLE[:7]:
        await say(user, answer)
    await say(user, "是")  # item 4 "yes": whose assessment, a multiple choice
    [warning] = await press(user, "完成")
    assert warning.text == "⚠️ 此题必答，不能跳过"
    assert warning.buttons == [["完成"], ["⬅️ 上一题"]]


async def text_of_press(user: FakeUser, button: str) -> str:
    await user.press(button)
    return await text_of(user)


async def test_button_of_an_earlier_question__the_warning_offers_the_current_question_s_way_forward(
    harness: BotHarness,
) -> None:
    user = harness.fake.user(3106, "王芳", language_code="zh-hans")
    await user.send_command("/start", harness.tokens["海门区"][0])
    await replies(user, at_least=2)
    for answer in TABLE[:4]:
        await say(user, answer)
    [item_2] = await say(user, "是")  # item 1 typed: its buttons stay on its message
    earlier = next(m for m in reversed(user.messages) if "1. 是否将全民科学素质" in (m.text or ""))
    assert "2. 是否将" in (item_2.text or "") and earlier.message_id != item_2.message_id
    await user.press("否", earlier)
    [warning] = await replies(user)
    assert warning.text == "⚠️ 这个按钮属于之前的问题，已忽略；请回答当前问题"
    assert warning.buttons == [["⬅️ 上一题"]]
    answers, _ = await stored(harness, "海门区")
    assert answers["q1_econ_plan"] == "yes"
