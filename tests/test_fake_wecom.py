"""The fake WeCom server behaves like WeCom where our tests rely on it (raw HTTP, no client of ours)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession, FormData

from tests.fakes.wecom import FakeWeCom


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def fake() -> AsyncIterator[tuple[FakeWeCom, ClientSession, FakeClock]]:
    clock = FakeClock()
    async with FakeWeCom(clock=clock) as wecom, ClientSession() as session:
        yield wecom, session, clock


async def _token(wecom: FakeWeCom, session: ClientSession) -> str:
    async with session.get(f"{wecom.url}/cgi-bin/gettoken",
                           params={"corpid": wecom.corp_id, "corpsecret": wecom.secret}) as response:
        answer = await response.json()
    assert answer["errcode"] == 0 and answer["expires_in"] > 0
    return str(answer["access_token"])


async def _send(wecom: FakeWeCom, session: ClientSession, token: str, user: str, content: str) -> dict[str, Any]:
    body = {"touser": user, "msgtype": "text", "agentid": wecom.agent_id, "text": {"content": content}}
    async with session.post(f"{wecom.url}/cgi-bin/message/send", params={"access_token": token}, json=body) as r:
        return dict(await r.json())


async def test_gettoken__same_token_while_valid_new_after_7200s(fake: tuple[FakeWeCom, ClientSession, FakeClock]) -> None:
    wecom, session, clock = fake
    first = await _token(wecom, session)
    clock.now = 7199
    assert await _token(wecom, session) == first
    assert (await _send(wecom, session, first, "zhangsan", "一"))["errcode"] == 0
    clock.now = 7200
    assert (await _send(wecom, session, first, "zhangsan", "二"))["errcode"] == 42001
    assert await _token(wecom, session) != first


async def test_gettoken__wrong_secret_40001(fake: tuple[FakeWeCom, ClientSession, FakeClock]) -> None:
    wecom, session, _ = fake
    async with session.get(f"{wecom.url}/cgi-bin/gettoken",
                           params={"corpid": wecom.corp_id, "corpsecret": "nope"}) as response:
        assert (await response.json())["errcode"] == 40001


async def test_text_over_2048_bytes__45002_and_not_delivered(fake: tuple[FakeWeCom, ClientSession, FakeClock]) -> None:
    wecom, session, _ = fake
    token = await _token(wecom, session)
    assert (await _send(wecom, session, token, "zhangsan", "字" * 682 + "ab"))["errcode"] == 0  # 2048 bytes
    assert (await _send(wecom, session, token, "zhangsan", "字" * 683))["errcode"] == 45002
    assert len(wecom.messages_to("zhangsan")) == 1


async def test_above_30_a_minute__answered_ok_but_dropped(fake: tuple[FakeWeCom, ClientSession, FakeClock]) -> None:
    wecom, session, clock = fake
    token = await _token(wecom, session)
    answers = [await _send(wecom, session, token, "zhangsan", f"第{n}条") for n in range(31)]
    assert all(a["errcode"] == 0 and a["msgid"] for a in answers)  # nothing tells the sender
    assert len(wecom.messages_to("zhangsan")) == 30
    assert [m.content for m in wecom.dropped] == ["第30条"]
    assert (await _send(wecom, session, token, "lisi", "别人"))["errcode"] == 0
    assert wecom.texts_to("lisi") == ["别人"]
    clock.now += 60
    await _send(wecom, session, token, "zhangsan", "下一分钟")
    assert wecom.texts_to("zhangsan")[-1] == "下一分钟"


async def test_above_1000_an_hour__dropped(fake: tuple[FakeWeCom, ClientSession, FakeClock]) -> None:
    wecom, session, clock = fake
    token = await _token(wecom, session)
    for minute in range(34):
        clock.now = minute * 60.0
        for n in range(30):
            await _send(wecom, session, token, "zhangsan", f"{minute}-{n}")
    assert len(wecom.messages_to("zhangsan")) == 1000
    assert len(wecom.dropped) == 20


async def test_injected_errors_then_normal(fake: tuple[FakeWeCom, ClientSession, FakeClock]) -> None:
    wecom, session, _ = fake
    token = await _token(wecom, session)
    wecom.fail_next("message/send", 45009, times=2)
    assert (await _send(wecom, session, token, "zhangsan", "一"))["errcode"] == 45009
    assert (await _send(wecom, session, token, "zhangsan", "二"))["errcode"] == 45009
    assert (await _send(wecom, session, token, "zhangsan", "三"))["errcode"] == 0
    wecom.fail_next("*", 40014)
    assert (await _send(wecom, session, token, "zhangsan", "四"))["errcode"] == 40014
    assert (await _send(wecom, session, token, "zhangsan", "五"))["errcode"] == 40014  # the token stays revoked
    assert wecom.texts_to("zhangsan") == ["三"]


async def test_media_upload_then_get(fake: tuple[FakeWeCom, ClientSession, FakeClock]) -> None:
    wecom, session, _ = fake
    token = await _token(wecom, session)
    form = FormData()
    form.add_field("media", b"hello wecom", filename="note.txt", content_type="text/plain")
    async with session.post(f"{wecom.url}/cgi-bin/media/upload", params={"access_token": token, "type": "file"},
                            data=form) as response:
        answer = await response.json()
    assert answer["errcode"] == 0 and answer["type"] == "file" and isinstance(answer["created_at"], str)
    async with session.get(f"{wecom.url}/cgi-bin/media/get",
                           params={"access_token": token, "media_id": answer["media_id"]}) as response:
        assert await response.read() == b"hello wecom"
        assert 'filename="note.txt"' in response.headers["Content-disposition"]
    async with session.get(f"{wecom.url}/cgi-bin/media/get",
                           params={"access_token": token, "media_id": "nope"}) as response:
        assert (await response.json())["errcode"] == 40007


async def test_group_robot__20_a_minute_then_45009(fake: tuple[FakeWeCom, ClientSession, FakeClock]) -> None:
    wecom, session, _ = fake
    body = {"msgtype": "text", "text": {"content": "摘要", "mentioned_mobile_list": ["13800001111"]}}
    codes = []
    for _ in range(21):
        async with session.post(wecom.robot_url("k1"), json=body) as response:
            codes.append((await response.json())["errcode"])
    assert codes == [0] * 20 + [45009]
    assert len(wecom.robot_posts) == 20
    assert wecom.robot_posts[0].mentioned_mobile_list == ("13800001111",)
