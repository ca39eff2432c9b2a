"""Starting: invitations bind an account to its unit; everyone else is told why not."""

from __future__ import annotations

from tests.telegram.conftest import BotHarness, replies, text_of


async def test_stranger__is_told_to_ask_for_an_invitation(harness: BotHarness) -> None:
    user = harness.fake.user(2001, "陌生人", language_code="zh-hans")
    await user.send_command("/start")
    assert "请向协调人索取邀请链接" in await text_of(user)


async def test_stranger_typing__gets_the_same_advice_in_english(harness: BotHarness) -> None:
    user = harness.fake.user(2002, "Stranger", language_code="en")
    await user.send_text("hello")
    assert "ask the coordinator for an invitation link" in await text_of(user)


async def test_start_with_token__greets_with_survey_unit_deadline_and_first_question(harness: BotHarness) -> None:
    user = harness.fake.user(2003, "王芳", language_code="zh-hans")
    await user.send_command("/start", harness.tokens["海门区"][0])
    text = await text_of(user)
    assert "实施情况“十四五”中期评估" in text
    assert "填报单位：海门区" in text
    assert "截止时间：2026-12-15 17:00（UTC+08:00）" in text  # 09:00 UTC in Asia/Shanghai
    assert "共 18 题" in text  # item 4's follow-up becomes relevant only after a yes
    assert "第 1/18 题" in text and "填报单位" in text


async def test_start_with_token__greeting_and_introduction_come_in_one_message(harness: BotHarness) -> None:
    user = harness.fake.user(2013, "王芳", language_code="zh-hans")
    await user.send_command("/start", harness.tokens["海门区"][0])
    welcome, question = await replies(user, at_least=2)
    assert "填报单位：海门区" in (welcome.text or "") and "请于4月26日之前完成" in (welcome.text or "")
    assert welcome.inline_keyboard is None or not welcome.inline_keyboard
    assert "第 1/18 题" in (question.text or "")


async def test_wrong_token__is_refused_with_its_reason(harness: BotHarness) -> None:
    user = harness.fake.user(2004, "王芳", language_code="zh-hans")
    await user.send_command("/start", "not-a-real-token")
    assert "邀请码无效" in await text_of(user)


async def test_token_used_by_another_account__is_refused(harness: BotHarness) -> None:
    token = harness.tokens["崇川区"][0]
    first = harness.fake.user(2005, "甲", language_code="zh-hans")
    await first.send_command("/start", token)
    await replies(first)
    second = harness.fake.user(2006, "乙", language_code="zh-hans")
    await second.send_command("/start", token)
    assert "已被其他账号使用" in await text_of(second)
