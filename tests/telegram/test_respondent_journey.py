"""The whole Nantong survey on a phone: every question type, a restart, a correction, submit."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import Answer, AnswerHistory, Attachment, Response, ResponseStatus, Unit
from tests.fakes.telegram import FakeUser
from tests.telegram.conftest import BotHarness, last_prompt, replies, text_of

SCAN = b"%PDF-1.4\n% stamped table scan\n" + bytes(range(256)) * 40


async def press(user: FakeUser, button: str) -> str:
    await user.press(button)
    return await text_of(user)


async def say(user: FakeUser, text: str) -> str:
    await user.send_text(text)
    return await text_of(user)


async def test_whole_survey__answered_restarted_corrected_and_submitted(harness: BotHarness) -> None:
    user = harness.fake.user(3001, "王芳", language_code="zh-hans")
    await user.send_command("/start", harness.tokens["海门区"][0])
    assert "第 1/18 题" in await text_of(user)

    # Header: text, text, phone (a bad one first), date in Chinese form.
    assert "第 2/18 题" in await say(user, "海门区科学技术协会")
    assert "联系方式" in await say(user, "王芳")
    assert "请输入11位手机号，或带区号的固定电话" in await say(user, "59003013")
    assert "填表日期" in await say(user, "0513-59003013")
    text = await say(user, "2023年4月26日")
    assert "1. 是否将全民科学素质相关内容纳入本地“十四五”经济社会发展规划" in text
    assert last_prompt(user).button_texts[:2] == ["是", "否"]

    # Items 1-4 by buttons; item 4's yes makes its follow-up relevant (19 questions now).
    await press(user, "是")
    await press(user, "否")
    await press(user, "是")
    text = await press(user, "是")
    assert "第 9/19 题" in text and "党委" in text

    # Multiple choice toggles a ✅ on the same message, then 完成.
    question = last_prompt(user)
    await user.press("党委")
    edited = await user.wait_for_edit(question.message_id)
    assert "✅ 党委" in edited.button_texts
    await user.press("政府", message=edited)
    edited = await user.wait_for_edit(question.message_id)
    assert {"✅ 党委", "✅ 政府"} <= set(edited.button_texts)
    text = await press(user, "完成")
    assert "机构形式" in text

    # "Other (name)" asks for the name.
    assert "请输入“其他（名称）”的具体名称" in await press(user, "其他（名称）")
    assert "6. 是否定期召开" in await say(user, "科普工作联席会议")
    await press(user, "是")

    # Counts: full-width digits, then a signed change written in words.
    assert "与“十三五”相比较" in await say(user, "３５")
    text = await say(user, "减少 3")
    assert "篇幅不超过1000字" in text  # the report note
    assert "组织实施保障情况" in text

    # The bot restarts (a deploy); the respondent comes back the next day and resumes.
    await harness.restart()
    await user.send_command("/start")
    text = await text_of(user)
    assert "欢迎回来" in text and "已答 13/19 题" in text
    assert "组织实施保障情况" in text

    # Long text in two messages, the first one edited, then 完成.
    first = await user.send_text("一、成立了全民科学素质工作领导小组。")
    assert "已输入 18/1000 字" in await text_of(user)
    await user.send_text("二、经费纳入年度预算。")
    assert "已输入 30/1000 字" in await text_of(user)
    await user.edit_text(first["message_id"], "一、成立了领导小组并定期召开会议。")
    assert "已输入 29/1000 字" in await text_of(user)
    assert "“十四五”工作任务完成情况" in await press(user, "完成")
    for part in ("任务全部完成。", "经验：部门协同。", "问题：基层力量薄弱。"):
        await say(user, part)
        await press(user, "完成")
    await say(user, "建议：加强培训。")
    assert "盖公章的调查表扫描件" in await press(user, "完成")

    # The stamped scan as a document.
    await user.send_document("盖章调查表.pdf", SCAN, "application/pdf")
    review = await text_of(user)
    assert "请检查您的回答" in review
    assert "盖章调查表.pdf" in review
    assert "党委、政府" in review and "其他（名称）：科普工作联席会议" in review

    # Correct item 1 (question 5) from the review, which comes back afterwards.
    text = await say(user, "5")
    assert "当前答案：是" in text
    review = await press(user, "否")
    assert "请检查您的回答" in review
    assert "5. 1. 是否将全民科学素质相关内容纳入本地“十四五”经济社会发展规划\n   → 否" in review

    text = await press(user, "✅ 提交")
    assert "已提交！提交时间：2026-12-01 10:00（第 1 版，海门区）" in text

    database = harness.backend.open()
    async with database.read() as session:
        response = await session.scalar(select(Response).join(Unit).where(Unit.name == "海门区"))
        assert response is not None
        assert response.status is ResponseStatus.SUBMITTED
        assert response.state is not None and response.state["revision"] == 1  # the first submission
        assert response.revision == 21  # every stored change (20) and the submission count
        answers = {a.question_id: a for a in await session.scalars(select(Answer).where(Answer.response_id == response.id))}
        assert len(answers) == 19
        assert answers["q1_econ_plan"].value == "no"
        assert answers["q4_by"].value == ["party_committee", "government"]
        assert answers["q5_body"].value == "other" and answers["q5_body"].other_text == "科普工作联席会议"
        assert answers["q7_members"].value == 35 and answers["q7_change"].value == -3
        assert answers["r1_organization"].value == "一、成立了领导小组并定期召开会议。\n二、经费纳入年度预算。"
        assert answers["contact_phone"].value == "0513-59003013"
        assert answers["filled_on"].value == "2023-04-26"
        history = await session.scalar(
            select(func.count()).select_from(AnswerHistory).where(AnswerHistory.response_id == response.id)
        )
        assert history == 20  # 19 answers plus the correction of item 1
        attachment = await session.scalar(select(Attachment).where(Attachment.response_id == response.id))
        assert attachment is not None and attachment.original_name == "盖章调查表.pdf"
        assert (harness.data_dir / attachment.stored_path).read_bytes() == SCAN
        submitted = response.submitted_values or {}
        assert submitted["answers"]["q1_econ_plan"] == "no"


async def test_second_person_of_the_unit__continues_the_same_response(harness: BotHarness) -> None:
    first = harness.fake.user(3101, "甲", language_code="zh-hans")
    await first.send_command("/start", harness.tokens["通州区"][0])
    await replies(first)
    await say(first, "通州区科协")
    await say(first, "张三")
    second = harness.fake.user(3102, "Li", language_code="en")
    await second.send_command("/start", harness.tokens["通州区"][1])
    text = await text_of(second)
    assert "Welcome back" in text and "2/18 answered" in text
    assert "Contact" in text  # question 3, in the second person's language
