"""Hostile input at the service, the boundary every channel shares: cleaned or refused, never stuck."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core.actions import AnswerText, ShowReview, Upload
from bot.core.events import Rejected
from bot.core.loading import parse_survey
from bot.core.outcome import Outcome
from bot.service import ChannelUser, SurveyService
from handlers.telegram.rendering import render
from storage.models import Answer, Attachment
from tests.storage.conftest import Backend
from tests.storage.test_service import campaign_for, service

TEXT_AND_FILE = parse_survey(
    """
id: text-and-file
version: "1"
title: 文本与文件
languages: [zh]
sections:
  - id: s
    title: 基本信息
    questions:
      - {id: unit, type: text, label: 单位名称}
      - {id: scan, type: file, label: 盖章扫描件, accept: [pdf, png, jpg]}
      - {id: note, type: text, label: 备注}
"""
)
USER = ChannelUser("telegram", "8101", "测试", "zh-hans")
PDF = b"%PDF-1.7\n% a scan\n" + bytes(range(200))
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
WINDOWS_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100


def shown(outcome: Outcome) -> str:
    """What the respondent reads, as the channel would send it (it must encode as UTF-8)."""
    text = "\n".join(message.text for message in render(outcome))
    text.encode("utf-8")
    return text


def rejection(outcome: Outcome) -> str | None:
    return next((event.reason for event in outcome.events if isinstance(event, Rejected)), None)


async def started(backend: Backend, tmp_path: Path) -> SurveyService:
    tokens = await campaign_for(backend, TEXT_AND_FILE, ["崇川区"])
    surveys = service(backend, tmp_path)
    await surveys.start(user=USER, update_id="start", token=tokens["崇川区"][0])
    return surveys


def download(tmp_path: Path, content: bytes) -> str:
    path = tmp_path / "download.part"
    path.write_bytes(content)
    return str(path)


async def test_a_lone_surrogate_and_nul_in_text__are_stored_cleaned_and_the_review_shows(
    backend: Backend, tmp_path: Path
) -> None:
    surveys = await started(backend, tmp_path)
    outcome = await surveys.act(user=USER, update_id="1", action=AnswerText("崇川\ud800区\x00科协"))
    assert rejection(outcome) is None
    review = shown(await surveys.act(user=USER, update_id="2", action=ShowReview()))
    assert "崇川\ufffd区科协" in review
    async with backend.open().read() as session:
        assert await session.scalar(select(Answer.value).where(Answer.question_id == "unit")) == "崇川\ufffd区科协"


async def test_nul_in_a_file_name__is_dropped_and_no_file_is_left_without_its_row(
    backend: Backend, tmp_path: Path
) -> None:
    surveys = await started(backend, tmp_path)
    await surveys.act(user=USER, update_id="1", action=AnswerText("崇川区科协"))
    upload = Upload(name="盖章\x00表\ud800.pdf", size=len(PDF), mime="application/pdf", ref=download(tmp_path, PDF))
    outcome = await surveys.act(user=USER, update_id="2", action=upload)
    assert rejection(outcome) is None
    shown(await surveys.act(user=USER, update_id="3", action=ShowReview()))
    async with backend.open().read() as session:
        names = list(await session.scalars(select(Attachment.original_name)))
    assert names == ["盖章表\ufffd.pdf"]
    stored = [path for path in (tmp_path / "data" / "attachments").rglob("*") if path.is_file()]
    assert len(stored) == 1


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("盖章表.pdf", WINDOWS_PROGRAM, "“盖章表.pdf”的内容与文件类型不符，请发送真正的 jpg/pdf/png 文件"),
        ("盖章表.png", PDF, "“盖章表.png”的内容与文件类型不符，请发送真正的 jpg/pdf/png 文件"),
        ("盖章表.pdf", b"", "文件是空的（0 字节），请重新发送完整的文件"),
    ],
    ids=["program-named-pdf", "pdf-named-png", "empty-pdf"],
)
async def test_a_file_whose_content_is_not_its_type__is_refused_and_nothing_stored(
    backend: Backend, tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    surveys = await started(backend, tmp_path)
    await surveys.act(user=USER, update_id="1", action=AnswerText("崇川区科协"))
    # The channel's claims (size, type) say nothing is wrong; the bytes do.
    upload = Upload(name=name, size=1000, mime="application/pdf", ref=download(tmp_path, content))
    outcome = await surveys.act(user=USER, update_id="2", action=upload)
    assert rejection(outcome) == expected
    async with backend.open().read() as session:
        assert list(await session.scalars(select(Attachment.id))) == []
    accepted = await surveys.act(
        user=USER, update_id="3", action=Upload(name="扫描.png", size=len(PNG), ref=download(tmp_path, PNG))
    )
    assert rejection(accepted) is None
