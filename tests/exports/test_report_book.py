"""The report book: written to disk, read back with python-docx as Word would open it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.document import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from export_world import LONG_TEXT, ExportWorld, answer_fully, answer_minimal

from exports.output import ExportError
from exports.report_book import CampaignReportBookExporter, ReportBookResult, write_report_book
from storage.campaigns import get_campaign
from storage.errors import CampaignNotFoundError

SUMMARY_LINES = [line for line in LONG_TEXT.split("\n") if line]


async def write_book(world: ExportWorld, name: str = "book.docx", **options: Any) -> ReportBookResult:
    return await write_report_book(
        database=world.database,
        campaign_id=world.campaign_id,
        path=world.out_dir / name,
        now=world.now + timedelta(hours=1),
        **options,
    )


def read_book(path: Path) -> Document:
    return docx.Document(str(path))


def outline(book: Document) -> list[tuple[str, str]]:
    """``(style name, text)`` of every body paragraph with text, in document order."""
    return [(p.style.name if p.style is not None else "", p.text) for p in book.paragraphs if p.text]


def chapters(book: Document) -> dict[str, list[tuple[str, str]]]:
    """Heading 1 text → the paragraphs under it (up to the next Heading 1)."""
    found: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for style, text in outline(book):
        if style == "Heading 1":
            current = found.setdefault(text, [])
        elif current is not None:
            current.append((style, text))
    return found


async def answer_three_ways(world: ExportWorld, upload_file: Any) -> None:
    """崇川区 submits everything, 海门区 has a draft in progress, 如皋市 submits the minimum, 启东市 never starts."""
    await answer_fully(world, "崇川区", upload_file(b"%PDF"))
    await world.set_current("海门区", {"members": 5, "summary_text": "草稿：尚未定稿。"})
    await answer_minimal(world, "如皋市", has_plan="no", members="8")


async def test_report_book__chapters_in_survey_order_units_in_roster_order_missing_units_last(
    world: ExportWorld, upload_file: Any
) -> None:
    await answer_three_ways(world, upload_file)
    result = await write_book(world)
    assert (result.units, result.submitted, result.chapters, result.appendix_questions) == (4, 2, 2, 3)
    assert result.path == world.out_dir / "book.docx"
    book = read_book(result.path)
    by_chapter = chapters(book)
    assert list(by_chapter) == ["一、工作总结", "二、问题和建议", "附表：是否题和数值题"]
    assert by_chapter["一、工作总结"] == [
        ("Heading 2", "崇川区"),
        *[("Report Text", line) for line in SUMMARY_LINES],
        ("Heading 2", "如皋市"),
        ("Report Text", "总结。"),
        ("Normal", "未提交：海门区、启东市"),
    ]
    assert by_chapter["二、问题和建议"] == [
        ("Heading 2", "崇川区"),
        ("Report Text", "基层力量薄弱。"),
        ("Heading 2", "如皋市"),
        ("Normal", "（未填写）"),  # submitted, the optional question left blank
        ("Normal", "未提交：海门区、启东市"),
    ]
    # A draft is not a report: the unit in progress is listed as missing, its text is nowhere.
    assert all("草稿" not in paragraph.text for paragraph in book.paragraphs)


async def test_report_book__every_chapter_starts_on_a_new_page(world: ExportWorld) -> None:
    await answer_minimal(world, "崇川区")
    book = read_book((await write_book(world)).path)
    headings = [p for p in book.paragraphs if p.style is not None and p.style.name == "Heading 1"]
    assert [p.paragraph_format.page_break_before for p in headings[:2]] == [True, True]


async def test_report_book__title_page_names_survey_campaign_times_and_counts(
    world: ExportWorld, upload_file: Any
) -> None:
    await answer_three_ways(world, upload_file)
    book = read_book((await write_book(world)).path)
    # The deadline is 2026-11-22 09:30 UTC, compiled at 2026-11-02 10:30 UTC; the campaign is in Asia/Shanghai.
    assert outline(book)[:5] == [
        ("Title", "导出测试"),
        ("Subtitle", "导出测试活动"),
        ("Normal", "截止时间：2026-11-22 17:30（UTC+08:00）"),
        ("Normal", "汇编时间：2026-11-02 18:30（UTC+08:00）"),
        ("Normal", "已提交 2 个单位，共 4 个单位"),
    ]
    assert book.core_properties.title == "导出测试"


async def test_report_book__when_every_unit_submitted_no_chapter_lists_missing_units(world: ExportWorld) -> None:
    await world.create(["崇川区"], title="单个单位")
    await answer_minimal(world, "崇川区")
    book = read_book((await write_book(world)).path)
    assert chapters(book)["一、工作总结"] == [("Heading 2", "崇川区"), ("Report Text", "总结。")]
    assert not any(p.text.startswith("未提交") for p in book.paragraphs)


async def test_report_book__text_xml_cannot_carry_is_sanitised_and_word_can_open_it(world: ExportWorld) -> None:
    await world.set_submitted(
        "海门区",
        {"summary_text": "第一段\x01有控制字符\ud800。\r\n\x00第二段\ufffe\r第三段\t结束", "members": 3, "has_plan": "yes"},
    )
    result = await write_book(world)
    book = read_book(result.path)  # python-docx (lxml) refuses a document that is not well-formed XML
    assert chapters(book)["一、工作总结"][:4] == [
        ("Heading 2", "海门区"),
        ("Report Text", "第一段有控制字符。"),
        ("Report Text", "第二段"),
        ("Report Text", "第三段\t结束"),
    ]
    # No temporary file is left next to it.
    assert sorted(path.name for path in world.out_dir.iterdir()) == ["book.docx"]


async def test_report_book__appendix_table_has_the_paper_form_columns_and_every_unit(
    world: ExportWorld, upload_file: Any
) -> None:
    await answer_three_ways(world, upload_file)
    book = read_book((await write_book(world)).path)
    assert len(book.tables) == 1
    rows = [[cell.text for cell in row.cells] for row in book.tables[0].rows]
    assert rows == [
        ["单位", "填报状态", "成员单位数（个）", "经费（万元）", "是否制定实施方案"],
        ["崇川区", "已提交", "12", "3.5", "是"],
        ["海门区", "填报中", "5", "", ""],  # as the workbook's 汇总 sheet: current answers, marked in progress
        ["如皋市", "已提交", "8", "", "否"],
        ["启东市", "未开始", "", "", ""],
    ]
    header = book.tables[0].rows[0]._tr
    assert header.trPr is not None and header.trPr.find(qn("w:tblHeader")) is not None  # repeated on each page
    # The appendix is a landscape section of its own; the chapters are A4 portrait.
    first, last = book.sections[0], book.sections[-1]
    assert len(book.sections) == 2
    assert first.orientation == WD_ORIENT.PORTRAIT and round(first.page_width.cm, 1) == 21.0
    assert last.orientation == WD_ORIENT.LANDSCAPE and round(last.page_width.cm, 1) == 29.7


async def test_report_book__east_asian_fonts_are_set_on_the_styles(world: ExportWorld) -> None:
    book = read_book((await write_book(world)).path)
    for name, font in (("Normal", "宋体"), ("Title", "黑体"), ("Heading 1", "黑体"), ("Heading 2", "黑体")):
        fonts = book.styles[name].element.rPr.rFonts
        assert fonts.get(qn("w:eastAsia")) == font, name
        # A theme font would win over the named one in Word.
        assert fonts.get(qn("w:eastAsiaTheme")) is None and fonts.get(qn("w:asciiTheme")) is None, name
    defaults = book.styles.element.find(qn("w:docDefaults"))
    assert defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}").get(qn("w:eastAsia")) == "zh-CN"


async def test_report_book__pages_of_the_roster_keep_roster_order(world: ExportWorld) -> None:
    names = [f"单位{index:02d}" for index in range(7)]
    await world.create(names, title="分页")
    for name in names[::2]:
        await world.set_submitted(name, {"summary_text": f"{name}的报告。"})
    book = read_book((await write_book(world, page_size=2)).path)
    chapter = chapters(book)["一、工作总结"]
    assert [text for style, text in chapter if style == "Heading 2"] == names[::2]
    assert chapter[-1] == ("Normal", "未提交：" + "、".join(names[1::2]))
    assert [row.cells[0].text for row in book.tables[0].rows[1:]] == names


async def test_report_book__unknown_campaign_raises_and_leaves_nothing(world: ExportWorld) -> None:
    with pytest.raises(CampaignNotFoundError):
        await write_report_book(database=world.database, campaign_id=999, path=world.out_dir / "x.docx")
    assert list(world.out_dir.iterdir()) == []


@pytest.mark.parametrize("where", ["missing-folder/x.docx", "a-folder.docx"])
async def test_report_book__unwritable_path_is_an_export_error(world: ExportWorld, where: str) -> None:
    (world.out_dir / "a-folder.docx").mkdir()
    target = world.out_dir / where
    with pytest.raises(ExportError, match=f"^cannot write {target}: "):
        await write_report_book(database=world.database, campaign_id=world.campaign_id, path=target)
    assert sorted(path.name for path in world.out_dir.iterdir()) == ["a-folder.docx"]



async def test_report_book__exporter_writes_a_dated_file_into_the_folder(world: ExportWorld) -> None:
    async with world.database.read() as session:
        campaign = await get_campaign(session=session, campaign_id=world.campaign_id)
    exporter = CampaignReportBookExporter(database=world.database)
    result = await exporter(campaign=campaign, directory=world.out_dir, now=world.now)
    # 2026-11-02 09:30 UTC is 17:30 in Asia/Shanghai.
    assert result.path == world.out_dir / "导出测试活动-20261102-1730.docx"
    assert read_book(result.path).paragraphs[1].text == "导出测试活动"


async def test_report_book__a_full_disk_is_an_export_error_and_leaves_nothing(
    world: ExportWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(self: Document, path: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Document, "save", disk_full)  # the disk, outside the machine's control
    target = world.out_dir / "book.docx"
    with pytest.raises(ExportError, match=f"^cannot write {target}: No space left on device$"):
        await write_report_book(database=world.database, campaign_id=world.campaign_id, path=target)
    assert list(world.out_dir.iterdir()) == []
