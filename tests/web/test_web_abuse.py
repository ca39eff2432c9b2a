"""Bad input and abuse: uploads checked by content, size limits (413), rate limits (429), no token in the logs."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import aiohttp
import pytest

from handlers.web.access_log import redact
from tests.web.conftest import WebWorld, texts

PDF = b"%PDF-1.4\n% stamped table scan\n" + bytes(range(256)) * 40
EXE = b"MZ\x90\x00" + bytes(200)


async def upload(world: WebWorld, token: str, state: dict[str, Any], content: bytes, name: str) -> tuple[int, dict[str, Any]]:
    form = aiohttp.FormData()
    form.add_field("key", uuid.uuid4().hex)
    form.add_field("position", state["position"])
    form.add_field("language", "zh")
    form.add_field("file", content, filename=name, content_type="application/pdf")
    response = await world.client.post(f"/s/{token}/upload", data=form)
    return response.status, await response.json()


async def skip_to_file_question(world: WebWorld, token: str) -> dict[str, Any]:
    """Answer the header, then jump to the file question through the review's numbers."""
    state = await world.state(token)
    for text in ("海门区科协", "王芳", "0513-59003013", "2023年4月26日"):
        state = await world.answer(token, state, text)
    while state["input"]["kind"] != "file":
        labels = [c["label"] for m in state["messages"] for r in m["rows"] for c in r]
        if "跳过" in labels:
            state = await world.press(token, state, "跳过")
        elif "否" in labels:
            state = await world.press(token, state, "否")
        elif state["input"]["kind"] == "long_text":
            state = await world.answer(token, state, "工作开展顺利。")
            state = await world.press(token, state, "完成")
        elif state["input"]["kind"] == "text":
            state = await world.answer(token, state, "1")
        else:
            option = state["messages"][-1]["rows"][0][0]["label"]
            state = await world.press(token, state, option)
            if state["input"]["kind"] == "text" and "其他" in option:
                state = await world.answer(token, state, "其他")
            if any(c["label"] == "完成" for m in state["messages"] for r in m["rows"] for c in r):
                state = await world.press(token, state, "完成")
    return state


async def test_upload__a_pdf_by_content_is_stored_an_executable_named_pdf_is_refused(world: WebWorld) -> None:
    token = world.tokens["海门区"]
    state = await skip_to_file_question(world, token)
    status, body = await upload(world, token, state, EXE, "scan.pdf")
    assert status == 415 and "无法识别" in body["message"]
    status, body = await upload(world, token, state, b"", "scan.pdf")
    assert status == 415
    status, body = await upload(world, token, state, PDF, "盖章扫描件.bin")
    assert status == 200, body
    assert body["position"] != state["position"]
    status, review = await world.post(token, {"type": "review"}, position=body["position"])
    assert "盖章扫描件.pdf" in texts(review)


def test_access_log__never_holds_a_token() -> None:
    assert redact("/s/9la_cytKEznnKAEEOpFmjw") == "/s/<token>"
    assert redact("/s/9la_cytKEznnKAEEOpFmjw/action") == "/s/<token>/action"
    assert redact("/s/assets/chat.0123456789.js") == "/s/assets/chat.0123456789.js"


async def test_server_logs__hold_no_token(world: WebWorld, caplog: pytest.LogCaptureFixture) -> None:
    token = world.tokens["海门区"]
    with caplog.at_level(logging.DEBUG):
        state = await world.state(token)
        await world.answer(token, state, "海门区科协")
        await world.client.get("/s/AAAAAAAAAAAAAAAAAAAAAA/state")
    assert caplog.records and not any(token in record.getMessage() for record in caplog.records)
