"""The whole Nantong survey in a phone browser (390×844, WeChat's user agent), as a respondent would answer it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from storage.models import Answer, AnswerHistory, Attachment, Response, ResponseStatus, Unit
from tests.browser.conftest import BrowserWorld

SCAN = b"%PDF-1.4\n% stamped table scan\n" + bytes(range(256)) * 40


async def settled(page: Any) -> None:
    await page.locator('body[data-busy="0"]').wait_for(state="attached")


async def newest(page: Any) -> str:
    """What the newest reply says."""
    return str(await page.locator("section.group").last.inner_text())


async def press(page: Any, label: str) -> str:
    await page.locator("section.group").last.get_by_role("button", name=label, exact=True).click()
    await settled(page)
    return await newest(page)


async def type_answer(page: Any, text: str) -> str:
    box = page.get_by_label("您的回答", exact=True)
    await box.fill(text)
    await box.press("Enter")
    await settled(page)
    return await newest(page)


async def write_long(page: Any, text: str) -> str:
    await page.locator("#long").fill(text)
    await page.get_by_role("button", name="发送", exact=True).last.click()
    await settled(page)
    return await newest(page)


async def test_whole_survey__buttons_typing_reload_double_tap_upload_edit_and_submit(
    site: BrowserWorld, page: Any, tmp_path: Any
) -> None:
    await page.goto(site.link("海门区"))
    await settled(page)
    assert "第 1/18 题" in await newest(page)

    assert "第 2/18 题" in await type_answer(page, "海门区科学技术协会")
    assert "联系方式" in await type_answer(page, "王芳")
    assert "请输入11位手机号，或带区号的固定电话" in await type_answer(page, "59003013")
    assert "填表日期" in await type_answer(page, "0513-59003013")
    text = await type_answer(page, "2023年4月26日")
    assert "1. 是否将全民科学素质相关内容纳入本地“十四五”经济社会发展规划" in text
    buttons = page.locator("section.group").last.get_by_role("button")
    assert (await buttons.all_inner_texts())[:2] == ["是", "否"]

    # A double tap on 是 counts once: the next question is the second item, not the third.
    await page.locator("section.group").last.get_by_role("button", name="是", exact=True).dblclick()
    await settled(page)
    assert "2. 是否将全民科学素质相关内容纳入本地区“十四五”科技相关规划" in await newest(page)
    await press(page, "否")

    # Reload half-way: the page comes back at the same question, nothing lost.
    await page.reload()
    await settled(page)
    text = await newest(page)
    assert "欢迎回来" in text and "已答 6/18 题" in text and "3. " in text

    # 📋 in the bar shows every answer so far; 继续填写 comes back to the open question.
    await page.get_by_role("button", name="📋 查看全部回答", exact=True).click()
    await settled(page)
    assert "请检查您的回答" in await newest(page) and "王芳" in await newest(page)
    assert "3. " in await press(page, "继续填写")

    await press(page, "是")
    text = await press(page, "是")
    assert "第 9/19 题" in text and "党委" in text

    # Multiple choice toggles ✅ in place, then 完成.
    text = await press(page, "党委")
    assert "✅ 党委" in text
    text = await press(page, "政府")
    assert "✅ 党委" in text and "✅ 政府" in text
    assert "机构形式" in await press(page, "完成")

    # "Other (name)" asks for the name.
    assert "请输入“其他（名称）”的具体名称" in await press(page, "其他（名称）")
    assert "6. 是否定期召开" in await type_answer(page, "科普工作联席会议")
    await press(page, "是")
    assert "与“十三五”相比较" in await type_answer(page, "３５")
    text = await type_answer(page, "减少 3")
    assert "组织实施保障情况" in text

    # Long text: a live counter, two sends appended to the draft, then 完成.
    await page.locator("#long").fill("一、成立了领导小组并定期召开会议。")
    assert "已输入 17/1000 字" in await page.locator("#counter").inner_text()
    assert "已输入 17/1000 字" in await write_long(page, "一、成立了领导小组并定期召开会议。")
    assert "已输入 29/1000 字" in await write_long(page, "二、经费纳入年度预算。")
    assert "“十四五”工作任务完成情况" in await press(page, "完成")
    for part in ("任务全部完成。", "经验：部门协同。", "问题：基层力量薄弱。"):
        await write_long(page, part)
        await press(page, "完成")
    await write_long(page, "建议：加强培训。")
    assert "盖公章的调查表扫描件" in await press(page, "完成")

    # The stamped scan, uploaded with a progress bar, checked by its content on the server.
    scan = tmp_path / "盖章调查表.pdf"
    scan.write_bytes(SCAN)
    await page.locator("#file").set_input_files(str(scan))
    await page.get_by_role("button", name="上传", exact=True).click()
    await settled(page)
    review = await newest(page)
    assert "请检查您的回答" in review and "盖章调查表.pdf" in review

    # Change item 1 (question 5) from the review, which comes back afterwards.
    assert "当前答案：是" in await press(page, "修改 5")
    review = await press(page, "否")
    assert "5. 1. 是否将全民科学素质相关内容纳入本地“十四五”经济社会发展规划\n   → 否" in review

    text = await press(page, "✅ 提交")
    assert "已提交！提交时间：2026-12-01 10:00（第 1 版，海门区）" in text

    # English, and back.
    await page.get_by_role("button", name="English", exact=True).click()
    await settled(page)
    assert "Switched to English" in await newest(page)
    assert await page.locator("html").get_attribute("lang") == "en"
    await page.get_by_role("button", name="中文", exact=True).click()
    await settled(page)
    assert await page.locator("html").get_attribute("lang") == "zh"

    async with site.database.read() as session:
        response = await session.scalar(select(Response).join(Unit).where(Unit.name == "海门区"))
        assert response is not None and response.status is ResponseStatus.SUBMITTED
        answers = {a.question_id: a for a in await session.scalars(select(Answer).where(Answer.response_id == response.id))}
        assert len(answers) == 19
        assert answers["q1_econ_plan"].value == "no" and answers["q2_tech_plan"].value == "no"
        assert answers["q4_by"].value == ["party_committee", "government"]
        assert answers["r1_organization"].value == "一、成立了领导小组并定期召开会议。\n二、经费纳入年度预算。"
        history = (await session.scalars(select(AnswerHistory).where(AnswerHistory.response_id == response.id))).all()
        assert len(history) == 20 and {h.channel for h in history} == {"web"}  # 19 answers, one correction; the double tap once
        attachment = await session.scalar(select(Attachment).where(Attachment.response_id == response.id))
        assert attachment is not None and attachment.original_name == "盖章调查表.pdf"
        assert int(await session.scalar(select(func.count()).select_from(Attachment)) or 0) == 1
    await page.screenshot(path="/tmp/web-shot-submitted.png", full_page=False)
