"""The WeCom API client against the fake WeCom server, over real HTTP.

What is asserted is what WeCom (the fake) received and delivered to a member,
and the typed result our code gets back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import ClientSession
from pydantic import SecretStr

from handlers.wecom.api import (
    MediaDownloaded,
    MediaTooLarge,
    RateLimited,
    Rejected,
    Succeeded,
    Transient,
    WeComApi,
)
from tests.fakes.wecom import FakeWeCom

USER = "zhangsan"


class FakeClock:
    def __init__(self) -> None:
        self.now = 50_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class World:
    wecom: FakeWeCom
    api: WeComApi
    clock: FakeClock
    session: ClientSession


@pytest.fixture
async def world() -> AsyncIterator[World]:
    clock = FakeClock()
    async with FakeWeCom(clock=clock) as wecom, ClientSession() as session:
        api = WeComApi(
            session=session,
            corp_id=wecom.corp_id,
            agent_id=wecom.agent_id,
            secret=SecretStr(wecom.secret),
            base_url=wecom.url,
            clock=clock,
        )
        yield World(wecom, api, clock, session)


# ---- access token


async def test_one_gettoken_serves_many_sends(world: World) -> None:
    for n in range(5):
        assert isinstance(await world.api.send_text(USER, f"第{n}条"), Succeeded)
    assert world.wecom.gettoken_calls == 1
    assert world.wecom.texts_to(USER) == [f"第{n}条" for n in range(5)]


async def test_concurrent_first_calls_share_one_gettoken(world: World) -> None:
    results = await asyncio.gather(*(world.api.send_text(f"user{n}", "你好") for n in range(10)))
    assert all(isinstance(r, Succeeded) for r in results)
    assert world.wecom.gettoken_calls == 1


async def test_token_refreshed_five_minutes_before_it_expires(world: World) -> None:
    await world.api.send_text(USER, "一")
    world.clock.advance(7200 - 300 - 1)
    await world.api.send_text(USER, "二")
    assert world.wecom.gettoken_calls == 1
    world.clock.advance(2)  # now 4 min 59 s before expiry
    world.wecom.expire_tokens()  # WeCom issues a new token once the old one is gone
    await world.api.send_text(USER, "三")
    assert world.wecom.gettoken_calls == 2
    assert world.wecom.errors == []  # fetched ahead: no call was refused
    assert world.wecom.texts_to(USER) == ["一", "二", "三"]


@pytest.mark.parametrize("errcode", [40014, 42001])
async def test_refused_token__new_token_and_one_retry(world: World, errcode: int) -> None:
    await world.api.send_text(USER, "一")
    world.wecom.fail_next("message/send", errcode)
    result = await world.api.send_text(USER, "二")
    assert isinstance(result, Succeeded)
    assert world.wecom.gettoken_calls == 2
    sends = world.wecom.calls_to("message/send")
    assert sends[-1].query["access_token"] != sends[-2].query["access_token"]
    assert world.wecom.texts_to(USER) == ["一", "二"]


async def test_token_refused_twice__transient_after_one_retry(world: World) -> None:
    world.wecom.fail_next("message/send", 40014, times=2)
    result = await world.api.send_text(USER, "你好")
    assert isinstance(result, Transient)
    assert len(world.wecom.calls_to("message/send")) == 2  # one retry, no loop
    assert world.wecom.texts_to(USER) == []


async def test_concurrent_refusals_share_one_refresh(world: World) -> None:
    await world.api.send_text(USER, "起")
    world.wecom.revoke_tokens()
    results = await asyncio.gather(*(world.api.send_text(f"user{n}", "你好") for n in range(8)))
    assert all(isinstance(r, Succeeded) for r in results)
    assert world.wecom.gettoken_calls == 2


async def test_wrong_secret__rejected_with_errcode(world: World) -> None:
    api = WeComApi(session=world.session, corp_id=world.wecom.corp_id, agent_id=world.wecom.agent_id,
                   secret="not-the-secret", base_url=world.wecom.url)
    result = await api.send_text(USER, "你好")
    assert isinstance(result, Rejected)
    assert result.errcode == 40001
    assert "40001" in result.detail


# ---- failures are results


async def test_rate_limit__rate_limited_with_a_wait(world: World) -> None:
    world.wecom.fail_next("message/send", 45009)
    result = await world.api.send_text(USER, "你好")
    assert isinstance(result, RateLimited)
    assert result.retry_after > 0
    assert world.wecom.texts_to(USER) == []


async def test_busy_and_5xx_and_network__transient(world: World) -> None:
    world.wecom.fail_next("message/send", -1)
    assert isinstance(await world.api.send_text(USER, "一"), Transient)
    world.wecom.fail_http_next("message/send", 502)
    assert isinstance(await world.api.send_text(USER, "二"), Transient)
    closed = WeComApi(session=world.session, corp_id="ww1", agent_id=1, secret="s", base_url="http://127.0.0.1:9")
    result = await closed.send_text(USER, "三")
    assert isinstance(result, Transient)
    assert "gettoken" in result.detail


async def test_unknown_errcode__rejected_with_its_code(world: World) -> None:
    world.wecom.fail_next("message/send", 60011, errmsg="no privilege to access/modify contact/party/agent")
    result = await world.api.send_text(USER, "你好")
    assert isinstance(result, Rejected)
    assert result.errcode == 60011
    assert "60011" in result.detail and "no privilege" in result.detail


async def test_member_outside_the_app__rejected() -> None:
    async with FakeWeCom(members={"lisi"}) as wecom, ClientSession() as session:
        api = WeComApi(session=session, corp_id=wecom.corp_id, agent_id=wecom.agent_id, secret=wecom.secret,
                       base_url=wecom.url)
        result = await api.send_text(USER, "你好")
    assert isinstance(result, Rejected)
    assert result.errcode == 81013


# ---- texts, markdown, files


async def test_long_text__split_and_every_part_delivered_in_order(world: World) -> None:
    lines = [f"{n}. 南通市各县（市、区）填报情况：已提交，请核对。" for n in range(150)]
    result = await world.api.send_text(USER, "\n".join(lines))
    assert isinstance(result, Succeeded)
    delivered = world.wecom.texts_to(USER)
    assert len(delivered) == len(result.message_ids) > 1
    assert all(len(part.encode("utf-8")) <= 2048 for part in delivered if part)
    assert [line for part in delivered if part for line in part.split("\n")] == lines
    assert world.wecom.errors == []


async def test_split_text_failure_midway__says_how_many_parts_went_out(world: World) -> None:
    text = "\n".join(["一" * 600] * 3)  # three parts of 1800 bytes each
    world.wecom.fail_next("message/send", 45009, after=1)
    result = await world.api.send_text(USER, text)
    assert isinstance(result, RateLimited)
    assert result.parts_delivered == 1
    assert world.wecom.texts_to(USER) == ["一" * 600]  # the third part was not tried


async def test_markdown_delivered(world: World) -> None:
    result = await world.api.send_markdown(USER, "**南通**\n> 未提交：3 个单位")
    assert isinstance(result, Succeeded)
    [message] = world.wecom.messages_to(USER)
    assert message.msgtype == "markdown"
    assert message.content == "**南通**\n> 未提交：3 个单位"


async def test_file_uploaded_then_sent(world: World, tmp_path: Path) -> None:
    workbook = tmp_path / "南通汇总.xlsx"
    workbook.write_bytes(b"PK\x03\x04 a workbook")
    result = await world.api.send_file(USER, workbook)
    assert isinstance(result, Succeeded)
    [message] = world.wecom.messages_to(USER)
    assert message.msgtype == "file"
    assert message.media_id == result.media_id
    media = world.wecom.media[message.media_id]
    assert media.filename == "南通汇总.xlsx"
    assert media.content == b"PK\x03\x04 a workbook"
    assert media.type == "file"


# ---- template cards


def _card(task_id: str) -> dict[str, object]:
    return {
        "card_type": "button_interaction",
        "main_title": {"title": "第3题", "desc": "本单位是否已完成自查？"},
        "task_id": task_id,
        "button_list": [{"text": "是", "key": "q3:1"}, {"text": "否", "key": "q3:2"}],
    }


async def test_card_sent_then_updated_once(world: World) -> None:
    sent = await world.api.send_template_card(USER, _card("task-q3"))
    assert isinstance(sent, Succeeded)
    assert sent.response_code is not None
    updated = await world.api.update_template_card(user=USER, response_code=sent.response_code, replace_name="已选：是")
    assert isinstance(updated, Succeeded)
    [message] = world.wecom.messages_to(USER)
    assert message.card is not None and message.card["task_id"] == "task-q3"
    assert [u["button"]["replace_name"] for u in message.updates] == ["已选：是"]

    again = await world.api.update_template_card(user=USER, response_code=sent.response_code, replace_name="已选：否")
    assert isinstance(again, Rejected)
    assert [u["button"]["replace_name"] for u in message.updates] == ["已选：是"]


async def test_card_with_seven_buttons__rejected(world: World) -> None:
    card = _card("task-q4")
    card["button_list"] = [{"text": str(n), "key": f"q4:{n}"} for n in range(7)]
    result = await world.api.send_template_card(USER, card)
    assert isinstance(result, Rejected)
    assert world.wecom.messages_to(USER) == []


# ---- media download


async def test_media_downloaded(world: World) -> None:
    photo = b"\xff\xd8\xff\xe0" + b"stamped scan" * 100
    media_id = world.wecom.add_media(photo, filename="盖章扫描.jpg", content_type="image/jpeg")
    result = await world.api.download_media(media_id, max_bytes=10_000)
    assert isinstance(result, MediaDownloaded)
    assert result.content == photo
    assert result.content_type == "image/jpeg"
    assert result.filename == "盖章扫描.jpg"


async def test_media_over_the_cap__too_large_not_read(world: World) -> None:
    media_id = world.wecom.add_media(b"x" * 5000)
    result = await world.api.download_media(media_id, max_bytes=4999)
    assert isinstance(result, MediaTooLarge)
    assert result.limit_bytes == 4999
    exactly = await world.api.download_media(media_id, max_bytes=5000)
    assert isinstance(exactly, MediaDownloaded)


async def test_unknown_media__rejected_40007(world: World) -> None:
    result = await world.api.download_media("media-does-not-exist", max_bytes=1000)
    assert isinstance(result, Rejected)
    assert result.errcode == 40007


# ---- menu


async def test_menu_created(world: World) -> None:
    buttons = [{"type": "click", "name": "继续填写", "key": "continue"},
               {"type": "click", "name": "我的进度", "key": "progress"},
               {"type": "click", "name": "帮助", "key": "help"}]
    assert isinstance(await world.api.create_menu(buttons), Succeeded)
    assert world.wecom.menus[world.wecom.agent_id] == buttons
    too_many = await world.api.create_menu([*buttons, {"type": "click", "name": "多", "key": "more"}])
    assert isinstance(too_many, Rejected)


# ---- group robot


async def test_group_robot__markdown_then_mentions_by_mobile(world: World) -> None:
    url = world.wecom.robot_url("robot-key-nantong")
    result = await world.api.post_group_robot(
        url, markdown="**未提交**\n> 海安市\n> 如皋市", mentioned_mobiles=["13800001111", "13900002222"],
        mention_text="请以上单位尽快填报",
    )
    assert isinstance(result, Succeeded)
    markdown, mention = world.wecom.robot_posts
    assert (markdown.key, markdown.msgtype, markdown.content) == ("robot-key-nantong", "markdown",
                                                                   "**未提交**\n> 海安市\n> 如皋市")
    assert mention.msgtype == "text"
    assert mention.mentioned_mobile_list == ("13800001111", "13900002222")


async def test_group_robot__no_mentions_one_post(world: World) -> None:
    result = await world.api.post_group_robot(world.wecom.robot_url("k"), markdown="全部已提交")
    assert isinstance(result, Succeeded)
    assert [p.msgtype for p in world.wecom.robot_posts] == ["markdown"]


async def test_group_robot__over_twenty_a_minute_rate_limited(world: World) -> None:
    url = world.wecom.robot_url("k")
    for n in range(20):
        assert isinstance(await world.api.post_group_robot(url, markdown=f"第{n}条"), Succeeded)
    assert isinstance(await world.api.post_group_robot(url, markdown="第21条"), RateLimited)
    world.clock.advance(60)
    assert isinstance(await world.api.post_group_robot(url, markdown="下一分钟"), Succeeded)


# ---- secrets stay out of the log


async def test_no_secret_in_any_log_line(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    robot_key = "robot-secret-key-5f3a"
    await world.api.send_text(USER, "你好")
    world.wecom.fail_next("message/send", 40014)
    await world.api.send_text(USER, "再来")
    world.wecom.fail_next("message/send", 45009)
    await world.api.send_text(USER, "限流")
    world.wecom.fail_http_next("message/send", 503)
    await world.api.send_text(USER, "繁忙")
    await world.api.post_group_robot(world.wecom.robot_url(robot_key), markdown="摘要")
    world.wecom.fail_next("webhook/send", 93000)
    await world.api.post_group_robot(world.wecom.robot_url(robot_key), markdown="摘要")
    unreachable = WeComApi(session=world.session, corp_id="ww1", agent_id=1, secret=world.wecom.secret,
                           base_url="http://127.0.0.1:9")
    await unreachable.send_text(USER, "连不上")
    await world.api.post_group_robot(f"http://127.0.0.1:9/cgi-bin/webhook/send?key={robot_key}", markdown="连不上")
    mistyped = await world.api.post_group_robot(f"ftp://qyapi.example/cgi-bin/webhook/send?key={robot_key}",
                                                markdown="地址写错")  # aiohttp's error text holds the URL
    assert isinstance(mistyped, Transient)
    assert robot_key not in mistyped.detail
    bad = WeComApi(session=world.session, corp_id=world.wecom.corp_id, agent_id=1, secret="wrong-secret-9z9z",
                   base_url=world.wecom.url)
    await bad.send_text(USER, "错误")

    secrets = [world.wecom.secret, "wrong-secret-9z9z", robot_key, *world.wecom.tokens_issued]
    assert len(world.wecom.tokens_issued) == 2
    lines = [record.getMessage() for record in caplog.records]
    assert any("45009" in line for line in lines)  # the failures were logged...
    assert any("ClientConnectorError" in line or "Cannot connect" in line for line in lines)
    for line in lines:  # ...and no line holds a secret
        for secret in secrets:
            assert secret not in line, line
    assert world.wecom.secret not in repr(world.api)
