"""Coordinators see progress at a glance; everyone else is refused, and it is logged."""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import docx
import openpyxl
import pytest

from storage.coordinators import add_coordinator
from tests.fakes.telegram import FakeUser
from tests.telegram.conftest import BotHarness, replies, text_of

COORDINATOR_ID = 9001


@pytest.fixture
async def coordinator(harness: BotHarness) -> int:
    database = harness.backend.open()
    async with database.transaction() as session:
        await add_coordinator(session=session, channel="telegram", external_id=COORDINATOR_ID)
    return COORDINATOR_ID


async def test_respondent_asking_for_status__is_refused_and_logged(
    harness: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    user = harness.fake.user(9100, "好奇的人", language_code="zh-hans")
    with caplog.at_level(logging.WARNING, logger="bot.coordination"):
        for command in ("/status", "/campaigns", "/export"):
            await user.send_command(command)
            assert "此命令仅限协调人使用" in await text_of(user)
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 3 and "9100" in refusals[0].getMessage()


async def test_campaigns__lists_deadline_and_progress(harness: BotHarness, coordinator: int) -> None:
    user = harness.fake.user(coordinator, "协调人", language_code="zh-hans")
    await user.send_command("/campaigns")
    text = await text_of(user)
    assert f"#{harness.campaign_id} 南通中期评估｜截止 2026-12-15 17:00｜已提交 0/3｜进行中" in text


async def test_status__names_the_units_not_submitted_and_marks_them_overdue_after_the_deadline(
    harness: BotHarness, coordinator: int
) -> None:
    respondent = harness.fake.user(9200, "王芳", language_code="zh-hans")
    await respondent.send_command("/start", harness.tokens["通州区"][0])
    await replies(respondent)
    await respondent.send_text("通州区科协")
    await replies(respondent)

    user = harness.fake.user(coordinator, "协调人", language_code="zh-hans")
    await user.send_command("/status")
    text = await text_of(user)
    assert "已提交 0，填报中 1，未开始 2（共 3 个单位）" in text
    assert "未提交（3）：\n崇川区（未开始）\n通州区（填报中）\n海门区（未开始）" in text

    harness.clock.now = harness.deadline + timedelta(hours=1)
    await user.send_command("/status", str(harness.campaign_id))
    text = await text_of(user)
    assert "（已截止）" in text and "逾期未提交（3）" in text and "通州区（填报中） ⚠️" in text


async def test_status_with_several_open_campaigns__offers_buttons(harness: BotHarness, coordinator: int) -> None:
    await harness.create_campaign(units=("如皋市",))
    user = harness.fake.user(coordinator, "协调人", language_code="zh-hans")
    await user.send_command("/status")
    [choice] = await replies(user)
    assert "请选择填报活动" in (choice.text or "")
    assert len(choice.inline_keyboard) == 2
    await user.press(f"#{harness.campaign_id} 南通中期评估")
    assert "共 1 个单位" in await text_of(user)


@pytest.mark.parametrize("failure", ["query too old", "server error"])
async def test_campaign_button_whose_acknowledgement_fails__still_shows_the_status(
    harness: BotHarness, coordinator: int, failure: str
) -> None:
    """Telegram refuses to acknowledge an old press, or fails to; the status comes all the same."""
    await harness.create_campaign(units=("如皋市",))
    user = harness.fake.user(coordinator, "协调人", language_code="zh-hans")
    await user.send_command("/status")
    [choice] = await replies(user)
    if failure == "server error":
        harness.fake.fail_next("answerCallbackQuery", error_code=502)
    await user.press(f"#{harness.campaign_id} 南通中期评估", choice, expired=failure == "query too old")
    text = await text_of(user)
    assert "共 1 个单位" in text and "抱歉" not in text
    assert [error.method for error in harness.fake.errors] == ["answerCallbackQuery"]


async def test_status_of_an_unknown_campaign__says_so(harness: BotHarness, coordinator: int) -> None:
    user = harness.fake.user(coordinator, "协调人", language_code="zh-hans")
    await user.send_command("/status", "999")
    assert "没有编号为 999 的填报活动" in await text_of(user)


async def test_admin_ids_setting__makes_a_coordinator_without_the_table(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await harness.stop()
    monkeypatch.setenv("SURVEYBOT_ADMIN_IDS", "9300")
    await harness.start()
    user = harness.fake.user(9300, "Admin", language_code="en")
    await user.send_command("/campaigns")
    assert "Campaigns:" in await text_of(user)


async def test_export_mid_campaign__sends_a_workbook_with_every_unit_in_roster_order(
    harness: BotHarness, coordinator: int, tmp_path: Path
) -> None:
    respondent = harness.fake.user(9400, "王芳", language_code="zh-hans")
    await respondent.send_command("/start", harness.tokens["海门区"][0])
    await replies(respondent)
    for text in ("海门区科协", "=HYPERLINK(\"http://evil\")"):
        await respondent.send_text(text)
        await replies(respondent)

    user = harness.fake.user(coordinator, "协调人", language_code="zh-hans")
    await user.send_command("/export")
    messages = await replies(user, at_least=2, timeout=30)
    [document] = [m for m in messages if m.document is not None and (m.filename or "").endswith(".xlsx")]
    assert document.filename is not None
    assert "已提交 0/3" in (document.caption or "")
    path = tmp_path / document.filename
    path.write_bytes(document.content or b"")
    workbook = openpyxl.load_workbook(path)
    summary = workbook.worksheets[0]
    rows = [[cell.value for cell in row] for row in summary.iter_rows(min_row=3, max_col=4)]
    assert [row[0] for row in rows] == ["崇川区", "通州区", "海门区"]
    cells = {cell.value: cell for row in summary.iter_rows(min_row=3) for cell in row if cell.value}
    assert "海门区科协" in cells
    injected = cells['=HYPERLINK("http://evil")']
    assert injected.data_type == "s"  # text, never a formula


async def answer_up_to_the_scan(
    harness: BotHarness, user_id: int, unit: str, *, report: Callable[[int], str]
) -> FakeUser:
    """A respondent of ``unit`` answers the Nantong survey up to the stamped scan; ``report(n)`` writes part n."""
    respondent = harness.fake.user(user_id, "王芳", language_code="zh-hans")
    await respondent.send_command("/start", harness.tokens[unit][0])
    await replies(respondent)
    for text in (f"{unit}科协", "王芳", "13800138000", "2023-04-26"):
        await respondent.send_text(text)
        await replies(respondent)
    steps = [("press", "否")] * 4 + [("press", "全民科学素质工作领导小组"), ("press", "否"), ("text", "3"), ("text", "3")]
    for part in range(1, 6):  # the five report parts
        steps += [("text", report(part)), ("press", "完成")]
    for kind, payload in steps:
        if kind == "text":
            await respondent.send_text(payload)
        else:
            await respondent.press(payload)
        await replies(respondent)
    return respondent


async def test_export_after_an_upload__also_sends_the_zip_with_the_file(
    harness: BotHarness, coordinator: int, tmp_path: Path
) -> None:
    respondent = await answer_up_to_the_scan(harness, 9500, "崇川区", report=lambda part: "内容")
    assert "盖公章的调查表扫描件" in (respondent.messages[-1].text or "")
    await respondent.send_document("盖章表.pdf", b"%PDF-1.4 scan", "application/pdf")
    assert "请检查您的回答" in await text_of(respondent)

    user = harness.fake.user(coordinator, "协调人", language_code="zh-hans")
    await user.send_command("/export", str(harness.campaign_id))
    messages = await replies(user, at_least=3, timeout=30)
    documents = {m.filename: m for m in messages if m.document is not None}
    [zip_name] = [name for name in documents if name and name.endswith(".zip")]
    bundle = zipfile.ZipFile(io.BytesIO(documents[zip_name].content or b""))
    stored = [name for name in bundle.namelist() if name.startswith("attachments/")]
    assert len(stored) == 1 and stored[0].endswith("盖章表.pdf")
    assert bundle.read(stored[0]) == b"%PDF-1.4 scan"


async def test_export_after_a_submission__also_sends_the_report_book_with_the_unit_s_report(
    harness: BotHarness, coordinator: int, tmp_path: Path
) -> None:
    respondent = await answer_up_to_the_scan(harness, 9600, "通州区", report=lambda part: f"通州区报告第{part}部分")
    await respondent.send_document("盖章表.pdf", b"%PDF-1.4 scan", "application/pdf")
    await replies(respondent)
    await respondent.press("✅ 提交")
    assert "已提交" in await text_of(respondent)

    user = harness.fake.user(coordinator, "协调人", language_code="zh-hans")
    await user.send_command("/export", str(harness.campaign_id))
    messages = await replies(user, at_least=3, timeout=30)
    [book] = [m for m in messages if m.document is not None and (m.filename or "").endswith(".docx")]
    assert "报告汇编" in (book.caption or "")
    path = tmp_path / (book.filename or "book.docx")
    path.write_bytes(book.content or b"")
    text = "\n".join(paragraph.text for paragraph in docx.Document(str(path)).paragraphs)
    assert "通州区报告第1部分" in text and "通州区报告第5部分" in text
    assert text.index("通州区报告第1部分") < text.index("通州区报告第5部分")  # chapters in survey order
    assert "崇川区" in text  # listed as missing at the end of a chapter


HUGE = "9223372036854775808"  # 2**63: no row id can be this large


@pytest.mark.parametrize(
    ("command", "args"),
    [("/status", (HUGE,)), ("/export", (HUGE,)), ("/remind", (HUGE,)), ("/broadcast", (HUGE, "请尽快填报"))],
)
async def test_a_campaign_number_beyond_any_id__is_an_unknown_campaign_not_an_error(
    harness: BotHarness, coordinator: int, command: str, args: tuple[str, ...]
) -> None:
    user = harness.fake.user(coordinator, "协调人", language_code="zh-hans")
    await user.send_command(command, *args)
    text = await text_of(user)
    assert f"没有编号为 {HUGE} 的填报活动" in text
    assert "抱歉" not in text


@pytest.mark.parametrize("data", [f"st:{HUGE}", f"ex:{HUGE}", f"rm:c:{HUGE}", f"rm:ok:{HUGE}", f"rm:no:{HUGE}"])
async def test_a_button_with_a_campaign_number_beyond_any_id__is_refused_clearly(
    harness: BotHarness, coordinator: int, data: str
) -> None:
    user = harness.fake.user(coordinator, "协调人", language_code="zh-hans")
    await user.send_command("/campaigns")
    await replies(user)
    await user.press_raw(data, user.messages[-1].message_id)
    text = await text_of(user)
    assert "抱歉" not in text
    assert f"没有编号为 {HUGE} 的填报活动" in text or "这个按钮已失效" in text or "已经处理过了" in text
