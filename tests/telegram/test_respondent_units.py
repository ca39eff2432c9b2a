"""/unit: an account that answers for several units switches between them."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Answer, Response, Unit
from tests.telegram.conftest import BotHarness, replies, text_of


async def stored_answers(harness: BotHarness, unit_name: str) -> dict[str, object]:
    assert harness.database is not None
    async with harness.database.read() as session:
        rows = await session.execute(
            select(Answer.question_id, Answer.value)
            .join(Response, Response.id == Answer.response_id)
            .join(Unit, Unit.id == Response.unit_id)
            .where(Unit.name == unit_name, Unit.campaign_id == harness.campaign_id)
        )
        return {question: value for question, value in rows}


async def test_unit__lists_the_accounts_units_and_switches_to_the_one_pressed(harness: BotHarness) -> None:
    user = harness.fake.user(2101, "王芳", language_code="zh-hans")
    await user.send_command("/start", harness.tokens["崇川区"][0])
    await replies(user, at_least=2)
    await user.send_text("崇川区科学技术协会")
    await replies(user)
    await user.send_command("/start", harness.tokens["海门区"][0])  # a second unit: the last opened is answered for
    assert "填报单位：海门区" in await text_of(user, at_least=2)

    await user.send_command("/unit")
    [choice] = await replies(user)
    assert "请选择现在要填写的单位" in (choice.text or "")
    assert choice.button_texts == ["崇川区 · 南通中期评估", "✅ 海门区 · 南通中期评估"]

    await user.press("崇川区 · 南通中期评估", choice)
    greeting = await text_of(user, at_least=2)
    assert "欢迎回来" in greeting and "填报单位：崇川区" in greeting and "已答 1/18 题" in greeting
    assert "第 2/18 题" in greeting  # where this unit's response was
    assert not user.messages[user.messages.index(choice)].inline_keyboard  # the list's buttons are gone
    await user.send_text("王芳")
    await replies(user)
    assert await stored_answers(harness, "崇川区") == {"unit": "崇川区科学技术协会", "filled_by": "王芳"}
    assert await stored_answers(harness, "海门区") == {}


async def test_unit__with_one_unit_says_there_is_nothing_to_switch_to(harness: BotHarness) -> None:
    user = harness.fake.user(2102, "李雷", language_code="en")
    await user.send_command("/start", harness.tokens["通州区"][0])
    await replies(user, at_least=2)
    await user.send_command("/unit")
    [only] = await replies(user)
    assert "You answer for “通州区”" in (only.text or "") and "no other unit" in (only.text or "")
    assert not only.inline_keyboard


async def test_unit__a_stranger_is_told_to_ask_for_an_invitation(harness: BotHarness) -> None:
    user = harness.fake.user(2103, "陌生人", language_code="zh-hans")
    await user.send_command("/unit")
    assert "请向协调人索取邀请链接" in await text_of(user)


async def test_unit__a_forged_unit_button_switches_nothing(harness: BotHarness) -> None:
    user = harness.fake.user(2104, "王芳", language_code="zh-hans")
    await user.send_command("/start", harness.tokens["崇川区"][0])
    await replies(user, at_least=2)
    await user.send_command("/start", harness.tokens["海门区"][0])
    await replies(user, at_least=2)
    other = harness.fake.user(2105, "赵六", language_code="zh-hans")
    await other.send_command("/start", harness.tokens["通州区"][0])
    await replies(other, at_least=2)
    async with harness.database.read() as session:  # type: ignore[union-attr]
        tongzhou = await session.scalar(select(Unit.id).where(Unit.name == "通州区"))
    await user.press_raw(f"unit:{tongzhou}")  # another account's unit
    reply = await text_of(user)
    assert "通州区" not in reply and "第 1/18 题" in reply  # still on 海门区's current question
    await user.send_text("海门区科学技术协会")
    await replies(user)
    assert await stored_answers(harness, "海门区") == {"unit": "海门区科学技术协会"}
    assert await stored_answers(harness, "通州区") == {}
