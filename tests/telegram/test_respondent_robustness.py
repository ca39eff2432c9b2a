"""Nothing a respondent (or anyone else) sends corrupts a response or goes unanswered."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.inbox import Inbox
from bot.service import SurveyService
from handlers.telegram.application import build_application
from handlers.telegram.intake import CHANNEL, UpdateFeeder
from handlers.telegram.webhook import SECRET_HEADER, make_webhook_app
from storage.coordinators import add_coordinator
from storage.models import AnswerHistory, InboundUpdate, OutboxBatch, ProcessedUpdate, Response, Unit
from tests.fakes.telegram import FakeUser
from tests.telegram.conftest import BotHarness, last_prompt, replies, text_of


async def started(harness: BotHarness, user_id: int = 4001, unit: str = "崇川区", language: str = "zh-hans") -> FakeUser:
    user = harness.fake.user(user_id, "测试", language_code=language)
    await user.send_command("/start", harness.tokens[unit][0])
    await replies(user)
    return user


async def answer_header(user: FakeUser) -> None:
    """Answer the four header questions, arriving at item 1 (a yes/no)."""
    for text in ("崇川区科协", "王芳", "13800138000", "2023-04-26"):
        await user.send_text(text)
        await replies(user)


async def stored_state(harness: BotHarness, unit: str = "崇川区") -> dict[str, object]:
    database = harness.backend.open()
    async with database.read() as session:
        response = await session.scalar(select(Response).join(Unit).where(Unit.name == unit))
        assert response is not None and response.state is not None
        return dict(response.state)


@pytest.mark.parametrize(
    ("send", "expected"),
    [
        (lambda user: user.send_sticker(), "请按要求回答：请输入文字回答"),
        (lambda user: user.send_voice(), "请按要求回答：请输入文字回答"),
        (lambda user: user.send_location(32.0, 120.9), "请按要求回答：请输入文字回答"),
        (lambda user: user.send_photo(), "请按要求回答：请输入文字回答"),
        (lambda user: user.send_document("x.pdf", b"%PDF", "application/pdf"), "请按要求回答：请输入文字回答"),
    ],
    ids=["sticker", "voice", "location", "photo", "document"],
)
async def test_input_of_the_wrong_kind__is_refused_and_the_question_asked_again(
    harness: BotHarness, send: object, expected: str
) -> None:
    user = await started(harness)
    before = await stored_state(harness)
    await send(user)  # type: ignore[operator]
    text = await text_of(user, at_least=2)
    assert expected in text
    assert "第 1/18 题" in text  # the question again
    assert await stored_state(harness) == before


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (["abc"], "请输入日期，例如"),
        (["2023-02-30"], "日期“2023-02-30”不存在"),
    ],
    ids=["not-a-date", "impossible-date"],
)
async def test_bad_typed_answer__gets_the_reason_and_nothing_is_stored(
    harness: BotHarness, answers: list[str], expected: str
) -> None:
    user = await started(harness)
    for text in ("崇川区科协", "王芳", "13800138000"):
        await user.send_text(text)
        await replies(user)
    before = await stored_state(harness)
    for text in answers:
        await user.send_text(text)
        assert expected in await text_of(user)
    assert await stored_state(harness) == before


async def test_number_out_of_range_and_photo_where_a_number_is_expected__are_refused(harness: BotHarness) -> None:
    user = await started(harness)
    await answer_header(user)
    for button in ("是", "否", "否", "否"):
        await user.press(button)
        await replies(user)
    await user.press("全民科学素质工作领导小组")
    await replies(user)
    await user.press("是")
    assert "全民科学素质工作成员单位" in await text_of(user)
    await user.send_photo()
    assert "请按要求回答：请输入整数" in await text_of(user, at_least=2)
    await user.send_text("-5")
    assert "请输入不小于 0 的整数" in await text_of(user)


async def test_forged_callback__is_refused_and_changes_nothing(harness: BotHarness) -> None:
    user = await started(harness)
    await answer_header(user)
    before = await stored_state(harness)
    prompt = last_prompt(user)
    for data in ("c:q1_econ_plan:#99", "c:no_such_question:yes", "garbage", "c:q3_regulation:yes", "x" * 64):
        await user.press_raw(data, prompt.message_id)
        text = await text_of(user)
        assert "已忽略" in text or "按钮已失效" in text
    assert await stored_state(harness) == before
    assert not harness.fake.unanswered_callbacks


async def test_button_of_an_earlier_question__is_refused_with_a_notice(harness: BotHarness) -> None:
    user = await started(harness)
    await answer_header(user)
    item1 = last_prompt(user)
    await user.send_text("是")  # typed, so the buttons of item 1 stay on screen
    assert "2. 是否将" in await text_of(user)
    before = await stored_state(harness)
    await user.press("否", message=item1)
    assert "这个按钮属于之前的问题，已忽略" in await text_of(user)
    assert await stored_state(harness) == before


async def test_press_too_old_to_acknowledge__still_counts(harness: BotHarness) -> None:
    """Pressed while the bot was down: Telegram refuses the late acknowledgement, the answer is kept."""
    user = await started(harness)
    await answer_header(user)
    answered = len(dict(await stored_state(harness))["answers"])  # type: ignore[arg-type]
    await harness.stop()
    await user.press("是")
    harness.fake.expire_callback_queries()
    await harness.start()
    assert "2. 是否将" in await text_of(user)
    assert len(dict(await stored_state(harness))["answers"]) == answered + 1  # type: ignore[arg-type]
    assert not harness.fake.answered_callbacks


async def test_flood_control__the_bot_waits_and_the_message_still_arrives(harness: BotHarness) -> None:
    user = await started(harness)
    harness.fake.fail_next("sendMessage", error_code=429, retry_after=1)
    await user.send_text("崇川区科协")
    assert "第 2/18 题" in await text_of(user, timeout=15)
    assert harness.fake.stats.total_429 == 1


async def test_after_the_deadline__answers_are_read_only(harness: BotHarness) -> None:
    user = await started(harness)
    await user.send_text("崇川区科协")
    await replies(user)
    harness.clock.now = harness.deadline + timedelta(minutes=1)
    await user.send_text("王芳")
    assert "填报已于 2026-12-15 17:00 截止，答案只能查看，不能修改" in await text_of(user)
    state = await stored_state(harness)
    assert state["answers"] == {"unit": "崇川区科协"}
    await user.send_command("/review")
    assert "崇川区科协" in await text_of(user)


async def test_lang__switches_the_conversation_to_english(harness: BotHarness) -> None:
    user = await started(harness)
    await user.send_command("/lang", "en")
    text = await text_of(user)
    assert "Switched to English" in text and "Question 1/18" in text and "Reporting unit" in text


async def test_command_menus__are_set_in_chinese_and_english(harness: BotHarness) -> None:
    calls = harness.fake.calls_to("setMyCommands")
    by_language = {params.get("language_code"): params["commands"] for params in calls}
    assert {c["command"] for c in by_language["zh"]} == {"start", "help", "resume", "back", "review", "unit", "lang", "cancel"}
    assert any(c["description"] == "切换填报单位" for c in by_language["zh"])
    assert any(c["description"] == "上一题" for c in by_language["zh"])
    assert any(c["description"] == "Previous question" for c in by_language[None])


# -- webhook ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def webhook(harness: BotHarness) -> AsyncIterator[str]:
    """Our webhook server in front of a webhook-mode Application; yields its URL."""
    await harness.stop()  # no polling: updates come only through the webhook
    database = harness.backend.open()
    service = SurveyService(database=database, settings=harness.settings, clock=harness.clock)
    application = build_application(harness.settings, service)
    harness.observe(application)
    await application.initialize()
    await application.start()
    inbox = Inbox(database=database, channel=CHANNEL, handler=UpdateFeeder(application), clock=harness.clock)
    runner = web.AppRunner(make_webhook_app(application, inbox=inbox, secret_token="s3cret-Token_1", path="/telegram"))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/telegram"
    finally:
        await runner.cleanup()
        await inbox.drain(5.0)
        await application.stop()
        await application.shutdown()


async def test_webhook__refuses_requests_without_the_right_secret(harness: BotHarness, webhook: str) -> None:
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "x"}}
    assert (await harness.fake.post_raw(webhook, update))[0] == 403
    assert (await harness.fake.post_raw(webhook, update, {SECRET_HEADER: "wrong"}))[0] == 403
    assert (await harness.fake.post_raw(webhook, update, {SECRET_HEADER: "s3cret-Token_1x"}))[0] == 403
    status, _ = await harness.fake.post_raw(
        webhook, "not json", {SECRET_HEADER: "s3cret-Token_1", "Content-Type": "text/plain"}
    )
    assert status == 415
    status, _ = await harness.fake.post_raw(
        webhook, "{not json", {SECRET_HEADER: "s3cret-Token_1", "Content-Type": "application/json"}
    )
    assert status == 400


async def test_webhook__a_redelivered_update_changes_nothing_and_answers_once(harness: BotHarness, webhook: str) -> None:
    user = harness.fake.user(4101, "王芳", language_code="zh-hans")
    await user.send_command("/start", harness.tokens["海门区"][0])
    await harness.fake.deliver_to_webhook(webhook, "s3cret-Token_1")
    assert "第 1/18 题" in await text_of(user)
    await user.send_text("海门区科协")
    [update] = harness.fake.pending_updates
    headers = {SECRET_HEADER: "s3cret-Token_1", "Content-Type": "application/json"}
    assert (await harness.fake.post_raw(webhook, json.dumps(update), headers))[0] == 200
    assert "第 2/18 题" in await text_of(user)
    assert (await harness.fake.post_raw(webhook, json.dumps(update), headers))[0] == 200
    with pytest.raises(TimeoutError):  # no second answer to the same update
        await user.wait_for_bot(count=2, timeout=1.0)
    database = harness.backend.open()
    async with database.read() as session:
        history = await session.scalar(select(func.count()).select_from(AnswerHistory))
        processed = await session.scalar(
            select(func.count()).select_from(ProcessedUpdate).where(ProcessedUpdate.update_id == str(update["update_id"]))
        )
    assert history == 1 and processed == 1


async def test_a_failure_while_replying__is_logged_and_the_user_told_and_the_answer_kept(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    user = await started(harness)
    harness.fake.fail_next("sendMessage", error_code=400, description="Bad Request: something broke")
    with caplog.at_level(logging.ERROR, logger="handlers.telegram.application"):
        await user.send_text("崇川区科协")
        assert "抱歉，处理时出了点问题，您的答案已保存" in await text_of(user)
    [record] = [r for r in caplog.records if r.getMessage() == "handling an update failed"]
    assert record.exc_info is not None  # the traceback is in the log, not in the chat
    assert (await stored_state(harness))["answers"] == {"unit": "崇川区科协"}
    await user.send_command("/resume")
    assert "第 2/18 题" in await text_of(user)


async def test_webhook__a_json_list_is_refused_with_400_and_changes_nothing(harness: BotHarness, webhook: str) -> None:
    user = harness.fake.user(4201, "王芳", language_code="zh-hans")
    await user.send_command("/start", harness.tokens["海门区"][0])
    [update] = harness.fake.pending_updates
    headers = {SECRET_HEADER: "s3cret-Token_1", "Content-Type": "application/json"}
    for body in ([update], [], "3", '"text"', '{"update_id": "1"}'):
        status, _ = await harness.fake.post_raw(webhook, json.dumps(body) if isinstance(body, list) else body, headers)
        assert status == 400, body
    database = harness.backend.open()
    async with database.read() as session:
        assert await session.scalar(select(func.count()).select_from(InboundUpdate)) == 0
        assert await session.scalar(select(func.count()).select_from(ProcessedUpdate)) == 0


async def test_webhook__a_remind_posted_twice__makes_one_preview_and_one_draft(harness: BotHarness, webhook: str) -> None:
    database = harness.backend.open()
    async with database.transaction() as session:
        await add_coordinator(session=session, channel="telegram", external_id=9001)
    coordinator = harness.fake.user(9001, "协调人", language_code="zh-hans")
    joined = harness.fake.user(4301, "王芳", language_code="zh-hans")
    await joined.send_command("/start", harness.tokens["海门区"][0])
    await harness.fake.deliver_to_webhook(webhook, "s3cret-Token_1")
    await replies(joined)
    await coordinator.send_command("/remind")
    [update] = harness.fake.pending_updates
    headers = {SECRET_HEADER: "s3cret-Token_1", "Content-Type": "application/json"}
    statuses = await asyncio.gather(  # as two webhook processes would get it, at once
        *(harness.fake.post_raw(webhook, json.dumps(update), headers) for _ in range(2))
    )
    assert [status for status, _ in statuses] == [200, 200]
    await replies(coordinator)
    with pytest.raises(TimeoutError):
        await coordinator.wait_for_bot(count=2, timeout=1.0)
    async with database.read() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxBatch)) == 1


async def until_handled(harness: BotHarness, update_id: int) -> None:
    """Wait until the inbox has handled the update (its handlers ran to the end)."""
    database = harness.backend.open()
    for _ in range(250):
        async with database.read() as session:
            handled = await session.scalar(
                select(InboundUpdate.handled_at).where(InboundUpdate.dedup_key == str(update_id))
            )
        if handled is not None:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"update {update_id} was not handled")


async def test_a_button_press_by_someone_else_than_the_chat_owner__is_refused(harness: BotHarness) -> None:
    owner = await started(harness)
    await answer_header(owner)  # at item 1, a yes/no question with buttons
    before = await stored_state(harness)
    intruder = harness.fake.user(4999, "冒充者", language_code="zh-hans")
    prompt = last_prompt(owner)
    forged = {
        "id": "4000000000000000999",
        "from": intruder.as_user(),
        "message": prompt.to_api(),
        "chat_instance": "1",
        "data": prompt.callback_data[0],
    }
    seen = len(owner.messages)
    update = harness.fake.enqueue({"callback_query": forged})
    await until_handled(harness, update["update_id"])
    assert len(owner.messages) == seen  # nothing answered into the owner's chat
    assert intruder.messages == []
    assert await stored_state(harness) == before
