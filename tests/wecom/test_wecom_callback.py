"""The callback route: URL verification, refusals that change nothing, three tries applied once, 503 when nothing can be recorded."""

from __future__ import annotations

import time

from sqlalchemy import func, select, text

from storage.models import AnswerHistory, InboundUpdate, Respondent
from tests.wecom.conftest import WeComWorld

USER = "zhangwei"


async def count(world: WeComWorld, model: type) -> int:
    async with world.database.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_url_verification__answers_the_bare_decrypted_echostr(world: WeComWorld) -> None:
    crypto = world.callbacks.crypto
    echostr = crypto.encrypt(b"1616140317555161061")
    query = {
        "msg_signature": crypto.signature("1409659589", "263014780", echostr),
        "timestamp": "1409659589",
        "nonce": "263014780",
        "echostr": echostr,
    }
    assert world.callbacks.http is not None
    response = await world.callbacks.http.get("/wecom/callback", params=query)
    assert response.status == 200 and await response.read() == b"1616140317555161061"
    query["msg_signature"] = "0" * 40
    response = await world.callbacks.http.get("/wecom/callback", params=query)
    assert response.status == 403 and await response.read() == b""


async def test_bad_signature__403_and_nothing_recorded_answered_or_stored(world: WeComWorld) -> None:
    xml = world.callbacks.text_xml(USER, world.tokens["崇川区"])
    assert await world.callbacks.post(xml, signature="f" * 40) == [403]
    assert world.callbacks.http is not None
    response = await world.callbacks.http.post(
        "/wecom/callback",
        params={"msg_signature": "x", "timestamp": "1", "nonce": "2"},
        data=b"<xml><Encrypt>AAAA</Encrypt></xml>",
    )
    assert response.status == 403
    await world.settle()
    assert await count(world, InboundUpdate) == 0 and await count(world, Respondent) == 0
    assert world.fake.messages_to(USER) == []


async def test_three_tries_of_one_message__acknowledged_each_time_applied_and_answered_once(world: WeComWorld) -> None:
    await world.send(USER, world.tokens["崇川区"])
    before = len(world.fake.messages_to(USER))
    started = time.perf_counter()
    statuses = await world.callbacks.post(world.callbacks.text_xml(USER, "崇川区科协"), times=3)
    acknowledged = time.perf_counter() - started
    await world.settle()
    assert statuses == [200, 200, 200] and acknowledged < 3.0  # three empty 200s, each well within a second
    async with world.database.read() as session:
        history = (await session.scalars(select(AnswerHistory.new_value).where(AnswerHistory.question_id == "unit"))).all()
    assert history == ["崇川区科协"]
    replies = world.fake.messages_to(USER)[before:]
    assert len(replies) == 1 and "第 2/" in (replies[0].content or "")


async def test_enter_agent_three_times__greeted_once(world: WeComWorld) -> None:
    await world.send(USER, world.tokens["崇川区"])
    before = len(world.fake.messages_to(USER))
    await world.deliver(world.callbacks.event_xml(USER, "enter_agent"), times=3)
    replies = [m.content or "" for m in world.fake.messages_to(USER)[before:]]
    assert len(replies) == 2 and "欢迎回来" in replies[0] and "第 1/" in replies[1]  # one greeting, one question


async def test_database_unable_to_record__503_so_that_wecom_tries_again(world: WeComWorld) -> None:
    async with world.database.transaction() as session:
        await session.execute(text("ALTER TABLE inbound_updates RENAME TO inbound_updates_away"))
    try:
        assert await world.callbacks.post(world.callbacks.text_xml(USER, "你好")) == [503]
    finally:
        async with world.database.transaction() as session:
            await session.execute(text("ALTER TABLE inbound_updates_away RENAME TO inbound_updates"))
    assert world.fake.messages_to(USER) == []
