"""The aiohttp client the bot calls the Bot API with: bodies, files, timeouts and failures.

The end-to-end tests use it for every call; these pin down what they do not
reach: what exactly goes over the wire, and how transport failures surface.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from telegram import Bot, InputFile
from telegram.error import NetworkError, RetryAfter, TimedOut

from handlers.telegram.http_client import AiohttpRequest
from handlers.telegram.outbox_transport import retry_after_seconds

TOKEN = "7000000001:AAFakeTokenForSurveybotTests_0123456789"
ME = {"id": 7000000001, "is_bot": True, "first_name": "surveybot", "username": "surveybot_test_bot"}


class Recorder:
    """A stand-in for Telegram's server that records what it receives."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.delay = 0.0
        self.answer: tuple[int, dict[str, Any]] = (200, {"ok": True, "result": True})

    async def handle(self, request: web.Request) -> web.Response:
        fields: dict[str, Any] = {}
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                content = await part.read()  # type: ignore[union-attr]
                if part.filename:  # type: ignore[union-attr]
                    fields[part.name] = (part.filename, bytes(content), part.headers.get("Content-Type"))  # type: ignore[union-attr]
                else:
                    fields[part.name] = content.decode()  # type: ignore[union-attr]
        else:
            fields = dict(await request.post())
        self.received.append(
            {"method": request.method, "path": request.path, "type": request.content_type, "fields": fields,
             "agent": request.headers.get("User-Agent", "")}
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        if request.path.endswith("/getMe"):
            return web.json_response({"ok": True, "result": ME})
        status, payload = self.answer
        return web.json_response(payload, status=status)


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[Recorder, str]]:
    recorder = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield recorder, str(server.make_url("/"))
    finally:
        await server.close()


async def test_parameters__are_sent_form_encoded_with_unicode_intact(recorder: tuple[Recorder, str]) -> None:
    fake, url = recorder
    fake.answer = (200, {"ok": True, "result": {"message_id": 5, "date": 0, "chat": {"id": 42, "type": "private"},
                                                   "text": "第 3/14 题"}})
    async with Bot(TOKEN, base_url=f"{url}bot", request=AiohttpRequest()) as bot:
        fake.received.clear()  # getMe from initialize
        message = await bot.send_message(42, "第 3/14 题 ▓▓░░ 请选择")
    assert message.message_id == 5
    [call] = fake.received
    assert call["path"] == f"/bot{TOKEN}/sendMessage"
    assert call["type"] == "application/x-www-form-urlencoded"
    assert call["fields"] == {"chat_id": "42", "text": "第 3/14 题 ▓▓░░ 请选择"}
    assert call["agent"].startswith("python-telegram-bot")


async def test_files__are_sent_as_multipart_with_name_type_and_bytes(recorder: tuple[Recorder, str]) -> None:
    fake, url = recorder
    content = bytes(range(256)) * 40
    fake.answer = (200, {"ok": True, "result": {"message_id": 6, "date": 0, "chat": {"id": 42, "type": "private"},
                                                   "document": {"file_id": "F1", "file_unique_id": "U1"}}})
    async with Bot(TOKEN, base_url=f"{url}bot", request=AiohttpRequest()) as bot:
        fake.received.clear()  # getMe from initialize
        await bot.send_document(42, InputFile(content, filename="南通 汇总.xlsx"), caption="汇总表")
    [call] = fake.received
    assert call["type"] == "multipart/form-data"
    assert call["fields"]["chat_id"] == "42"
    assert call["fields"]["caption"] == "汇总表"
    name, received, _mime = call["fields"]["document"]
    assert name == "南通 汇总.xlsx"
    assert received == content


async def test_a_slow_server__raises_timed_out(recorder: tuple[Recorder, str]) -> None:
    fake, url = recorder
    fake.delay = 1.0
    request = AiohttpRequest(read_timeout=0.1)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.do_request(f"{url}bot{TOKEN}/getMe", "POST")
    finally:
        await request.shutdown()


async def test_a_timeout_passed_by_the_caller__overrides_the_default(recorder: tuple[Recorder, str]) -> None:
    fake, url = recorder
    async with Bot(TOKEN, base_url=f"{url}bot", request=AiohttpRequest(read_timeout=5.0)) as patient:
        fake.delay = 0.5
        with pytest.raises(TimedOut):
            await patient.send_message(42, "hi", read_timeout=0.1)
    fake.delay = 0.0
    async with Bot(TOKEN, base_url=f"{url}bot", request=AiohttpRequest(read_timeout=0.1)) as hasty:
        fake.delay = 0.3
        assert (await hasty.get_me(read_timeout=None)).username == "surveybot_test_bot"  # None: no read timeout


async def test_an_unreachable_server__raises_network_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError, match="aiohttp"):
            await request.do_request(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe", "POST")
    finally:
        await request.shutdown()


async def test_flood_control__surfaces_as_retry_after(recorder: tuple[Recorder, str]) -> None:
    fake, url = recorder
    async with Bot(TOKEN, base_url=f"{url}bot", request=AiohttpRequest()) as bot:
        fake.answer = (429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
                             "parameters": {"retry_after": 7}})
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(42, "hi")
    assert retry_after_seconds(raised.value) == 7


async def test_before_initialize_and_after_shutdown__refuses_to_send(recorder: tuple[Recorder, str]) -> None:
    _, url = recorder
    request = AiohttpRequest()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(f"{url}x", "POST")
    await request.initialize()
    await request.shutdown()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(f"{url}x", "POST")


async def get_me_status(url: str) -> int:
    """The HTTP status of one getMe call through a fresh AiohttpRequest (proxy settings read anew)."""
    request = AiohttpRequest()
    await request.initialize()
    try:
        status, _ = await request.do_request(url, "POST")
    finally:
        await request.shutdown()
    return status


async def test_a_proxy_from_the_environment__carries_the_calls(
    recorder: tuple[Recorder, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, url = recorder
    monkeypatch.setenv("HTTP_PROXY", url)  # the recorder plays the proxy
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert await get_me_status(f"http://api.telegram.invalid/bot{TOKEN}/getMe") == 200
    assert [call["path"] for call in fake.received] == [f"/bot{TOKEN}/getMe"]


async def test_no_proxy__is_honoured(recorder: tuple[Recorder, str], monkeypatch: pytest.MonkeyPatch) -> None:
    fake, url = recorder
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert await get_me_status(f"{url}bot{TOKEN}/getMe") == 200
    assert len(fake.received) == 1
