"""Submitting through the link, changing an answer after submission until the deadline, and read-only after it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from storage.models import AnswerHistory, Response, ResponseStatus
from tests.web.conftest import WebWorld, texts
from tests.web.test_web_abuse import PDF, skip_to_file_question, upload


async def test_submit_then_change_until_the_deadline__second_version_then_read_only(world: WebWorld) -> None:
    token = world.tokens["海门区"]
    state = await skip_to_file_question(world, token)
    status, review = await upload(world, token, state, PDF, "scan.pdf")
    assert status == 200 and "请检查您的回答" in texts(review)
    receipt = await world.press(token, review, "✅ 提交")
    assert "已提交！提交时间：2026-12-01 10:00（第 1 版，海门区）" in texts(receipt)
    # The web has no commands: the receipt points to the review button, not to /review.
    assert "点“查看全部回答”" in texts(receipt) and "/review" not in texts(receipt)

    # Still before the deadline: change an answer from the review and submit again.
    status, review = await world.post(token, {"type": "review"}, position=receipt["position"])
    assert status == 200 and review["edits"] and "已提交（第 1 版）" in texts(review)
    edit = next(e for e in review["edits"] if e["number"] == 2)
    status, editing = await world.post(token, edit["action"], position=review["position"])
    review = await world.answer(token, editing, "王五")
    assert "王五" in texts(review)
    receipt = await world.press(token, review, "✅ 提交")
    assert "第 2 版" in texts(receipt)

    # After the deadline: the page says why, offers no change, and refuses any.
    world.clock.now = datetime(2026, 12, 16, 0, 0, tzinfo=UTC)
    state = await world.state(token)
    assert state["read_only"] and "填报已于 2026-12-15 17:00 截止" in texts(state)
    assert state["edits"] == [] and state["input"]["kind"] == "none"
    status, body = await world.post(token, {"type": "goto", "number": 2}, position=state["position"])
    assert status == 200 and "截止" in texts(body)
    status, body = await world.post(token, {"type": "text", "text": "张三"}, position=state["position"])
    assert status == 200 and "截止" in texts(body)
    async with world.database.read() as session:
        response = (await session.scalars(select(Response).where(Response.status == ResponseStatus.SUBMITTED))).one()
        values = (await session.scalars(select(AnswerHistory.new_value).where(AnswerHistory.question_id == "filled_by"))).all()
    assert response.submitted_values is not None and response.submitted_values["answers"]["filled_by"] == "王五"
    assert values == ["王芳", "王五"]
