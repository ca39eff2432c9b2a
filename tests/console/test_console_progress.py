"""The console's progress pages as a coordinator uses them: the units table, the summaries, a unit, the downloads.

Answers are given through the survey service (:class:`tests.exports.export_world.ExportWorld`,
a Telegram respondent answering the export survey, every question type) on the
console's own database, in a second campaign beside the fixture's Nantong one,
so that every crafted id has another campaign's data to leak.
"""

from __future__ import annotations

import asyncio
import html as html_lib
import io
import re
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import docx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.core.actions import AnswerText
from bot.survey_files import load_survey
from storage.campaigns import create_campaign
from storage.models import (
    Attachment,
    DeliveryStatus,
    OutboxBatch,
    OutboxBatchStatus,
    OutboxKind,
    OutboxMessage,
    Respondent,
    RespondentUnit,
    Unit,
)
from storage.rosters import add_units
from storage.surveys import store_survey
from tests.console.conftest import ConsoleWorld
from tests.exports.export_world import ExportWorld, answer_fully, answer_minimal
from tests.web.conftest import NANTONG

PDF = b"%PDF-1.4 console test"


def cell_text(cell: str) -> str:
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip())


def table_rows(html: str, table_id: str = "progress-table") -> list[list[str]]:
    """The body rows of the table with that id (or the first whose caption contains it), cell texts."""
    match = re.search(rf'<table[^>]*id="{table_id}"[^>]*>(.*?)</table>', html, re.S)
    if match is None:
        match = next(
            (m for m in re.finditer(r"<table[^>]*>(.*?)</table>", html, re.S) if table_id in m.group(1).split("</caption>")[0]),
            None,
        )
    assert match is not None, f"no table {table_id!r}"
    body = match.group(1).split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [cell_text(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def unit_link(html: str, name: str) -> str:
    match = re.search(rf'<a href="(/admin/campaigns/\d+/units/\d+)">{re.escape(name)}</a>', html)
    assert match is not None, f"no link to {name}"
    return match.group(1)


@pytest.fixture
def upload_file(tmp_path: Path) -> Callable[[bytes], Path]:
    counter = iter(range(1_000_000))

    def make(content: bytes) -> Path:
        folder = tmp_path / "downloads"
        folder.mkdir(exist_ok=True)
        path = folder / f"download-{next(counter)}"
        path.write_bytes(content)
        return path

    return make


@pytest.fixture
async def survey(console: ConsoleWorld, tmp_path: Path) -> ExportWorld:
    """A second campaign (the export survey, four units) on the console's database and data folder."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    world = ExportWorld(database=console.database, data_dir=tmp_path / "data", out_dir=out_dir, now=console.clock())
    await world.create()
    return world


async def campaign_page(console: ConsoleWorld, survey: ExportWorld, query: str = "") -> str:
    response = await console.client.get(f"/admin/campaigns/{survey.campaign_id}{query}")
    assert response.status == 200, await response.text()
    return await response.text()


# -- the units table ---------------------------------------------------------------------------


async def test_table__answers_through_the_service_show_status_count_channel_and_last_activity(
    console: ConsoleWorld, survey: ExportWorld, upload_file: Any
) -> None:
    await console.sign_in()
    await answer_fully(survey, "崇川区", upload_file(PDF))
    await survey.respond("海门区", [AnswerText("海门区科协"), AnswerText("9")])
    html = await campaign_page(console, survey)
    questions = len(survey.survey.answerable_questions)
    assert table_rows(html) == [
        ["崇川区", "已提交", f"{questions}/{questions}", "2026-12-01 10:00", "Telegram", "0", ""],
        ["海门区", "填写中", f"2/{questions}", "2026-12-01 10:00", "Telegram", "0", ""],
        ["如皋市", "未开始", f"0/{questions}", "无", "无", "0", ""],
        ["启东市", "未开始", f"0/{questions}", "无", "无", "0", ""],
    ]
    assert '<th scope="col"' in html and "<caption>" in html


async def test_table__reminders_sent_and_unreachable_people_as_the_progress_sheet_counts_them(
    console: ConsoleWorld, survey: ExportWorld
) -> None:
    await console.sign_in()
    await survey.add_respondent("如皋市", "赵六", unreachable=True)
    await survey.add_respondent("如皋市", "钱七")
    async with console.database.transaction() as session:
        respondent = await session.scalar(select(Respondent).where(Respondent.display_name == "钱七"))
        assert respondent is not None
        for number, status in ((1, DeliveryStatus.SENT), (2, DeliveryStatus.SENT), (3, DeliveryStatus.FAILED)):
            batch = OutboxBatch(
                campaign_id=survey.campaign_id, kind=OutboxKind.REMINDER, key=f"reminder@{number}", status=OutboxBatchStatus.DONE
            )
            session.add(batch)
            await session.flush()
            session.add(OutboxMessage(batch_id=batch.id, respondent_id=respondent.id, status=status))
    rows = {row[0]: row for row in table_rows(await campaign_page(console, survey))}
    assert rows["如皋市"][4:] == ["Telegram", "2", "赵六"]  # the failed one is no reminder sent
    assert rows["崇川区"][4:] == ["无", "0", ""]
    only = table_rows(await campaign_page(console, survey, "?status=unreachable"))
    assert [row[0] for row in only] == ["如皋市"]


async def test_table__filters_by_status_and_sorts_on_the_server(console: ConsoleWorld, survey: ExportWorld) -> None:
    await console.sign_in()
    await answer_minimal(survey, "如皋市")
    await survey.respond("启东市", [AnswerText("启东市科协"), AnswerText("9"), AnswerText("1.5")])
    await survey.respond("海门区", [AnswerText("海门区科协")])

    names = [row[0] for row in table_rows(await campaign_page(console, survey, "?status=submitted"))]
    assert names == ["如皋市"]
    names = [row[0] for row in table_rows(await campaign_page(console, survey, "?status=in_progress"))]
    assert names == ["海门区", "启东市"]
    html = await campaign_page(console, survey, "?status=all&sort=answered&dir=desc")
    assert [row[0] for row in table_rows(html)] == ["如皋市", "启东市", "海门区", "崇川区"]
    assert re.search(r'<th scope="col" aria-sort="descending"><a href="\?status=all&amp;sort=answered&amp;dir=asc">', html)
    html = await campaign_page(console, survey, "?sort=status")
    assert [row[0] for row in table_rows(html)] == ["崇川区", "海门区", "启东市", "如皋市"]
    # The filter is a plain form (it works without script) and remembers the choice.
    html = await campaign_page(console, survey, "?status=in_progress&sort=unit")
    assert '<option value="in_progress" selected>填写中（2）</option>' in html
    assert '<input type="hidden" name="sort" value="unit">' in html
    # Nonsense in the query is the default view, not an error.
    names = [row[0] for row in table_rows(await campaign_page(console, survey, "?status=%27;drop&sort=x&dir=y"))]
    assert names == ["崇川区", "海门区", "如皋市", "启东市"]


async def test_table__sorted_by_unit_is_by_pinyin_and_descending_reverses_it(console: ConsoleWorld) -> None:
    # Code point order would be 启东市, 如东县, 崇川区, 海门区, 通州区; a Chinese reader expects pinyin.
    async with console.database.transaction() as session:
        version = await store_survey(session=session, survey=load_survey(NANTONG))
        campaign = await create_campaign(
            session=session, survey_version=version, title="南通各区县", deadline=console.clock() + timedelta(days=14), now=console.clock()
        )
        await add_units(session=session, campaign=campaign, names=["海门区", "崇川区", "通州区", "如东县", "启东市"])
        campaign_id = campaign.id
    await console.sign_in()

    async def names(query: str) -> list[str]:
        response = await console.client.get(f"/admin/campaigns/{campaign_id}{query}")
        assert response.status == 200, await response.text()
        return [row[0] for row in table_rows(await response.text())]

    assert await names("?sort=unit") == ["崇川区", "海门区", "启东市", "如东县", "通州区"]  # chong, hai, qi, ru, tong
    assert await names("?sort=unit&dir=desc") == ["通州区", "如东县", "启东市", "海门区", "崇川区"]
    assert await names("") == ["海门区", "崇川区", "通州区", "如东县", "启东市"]  # roster order by default


async def test_table__marks_overdue_units_after_the_deadline(console: ConsoleWorld, survey: ExportWorld) -> None:
    await console.sign_in()
    await answer_minimal(survey, "如皋市")
    html = await campaign_page(console, survey)
    assert not [row for row in table_rows(html) if "已逾期" in row[1]]
    console.clock.now = survey.now + timedelta(days=20, minutes=1)  # the campaign's deadline is 20 days on
    await console.sign_in()  # a session lasts 12 hours
    html = await campaign_page(console, survey)
    statuses = {row[0]: row[1] for row in table_rows(html)}
    assert statuses == {"崇川区": "未开始 已逾期", "海门区": "未开始 已逾期", "如皋市": "已提交", "启东市": "未开始 已逾期"}
    assert "截止时间已过" in html
    names = [row[0] for row in table_rows(await campaign_page(console, survey, "?status=overdue"))]
    assert names == ["崇川区", "海门区", "启东市"]


async def test_refresh__the_fragment_shows_a_new_answer_without_reloading_the_page(
    console: ConsoleWorld, survey: ExportWorld
) -> None:
    await console.sign_in()
    html = await campaign_page(console, survey, "?sort=unit")
    holder = re.search(r'<div id="progress" class="scroll" data-refresh-url="([^"]+)" data-refresh-seconds="15">', html)
    assert holder is not None
    url = html_lib.unescape(holder.group(1))
    assert url == f"/admin/campaigns/{survey.campaign_id}/progress?status=all&sort=unit&dir=asc"
    script = re.search(r'<script src="(/admin/assets/progress\.[0-9a-f]+\.js)" defer></script>', html)
    assert script is not None
    served = await console.client.get(script.group(1))
    assert served.status == 200 and served.content_type == "text/javascript"
    assert "data-refresh-url" in await served.text()

    before = await console.client.get(url)
    fragment = await before.text()
    assert before.status == 200 and "<html" not in fragment and 'id="progress-table"' in fragment
    assert {row[0]: row[1] for row in table_rows(fragment)}["海门区"] == "未开始"
    await survey.respond("海门区", [AnswerText("海门区科协")])
    after = await (await console.client.get(url)).text()
    assert {row[0]: row[1:3] for row in table_rows(after)}["海门区"] == ["填写中", f"1/{len(survey.survey.answerable_questions)}"]


# -- the summaries -----------------------------------------------------------------------------


async def test_summaries__match_the_workbooks_statistics_sheet(
    console: ConsoleWorld, survey: ExportWorld, upload_file: Any
) -> None:
    await console.sign_in()
    await answer_fully(survey, "崇川区", upload_file(PDF))
    await answer_minimal(survey, "海门区", has_plan="yes", members="20")
    await answer_minimal(survey, "如皋市", has_plan="no", members="7")
    await survey.set_current("启东市", {"has_plan": "yes", "members": 1000, "body": "office"})  # not submitted
    html = await campaign_page(console, survey)

    book = load_workbook((await survey.export()).workbook)
    sheet_rows = [list(row) for row in book["统计"].iter_rows(values_only=True)]
    first = [row[0] for row in sheet_rows]
    for question, size in (("是否制定实施方案", 2), ("方案由谁印发", 3), ("协调机构", 4)):
        start = first.index(question)
        in_sheet = [[row[0], str(row[1])] for row in sheet_rows[start + 2 : start + 2 + size]]
        assert table_rows(html, f"{question}：各选项单位数") == in_sheet, question
    assert table_rows(html, "协调机构：各选项单位数") == [["领导小组", "2"], ["办公室", "0"], ["其他（名称）", "1"], ["无", "0"]]
    header = first.index("题目")
    numbers = {row[0]: row[1:6] for row in sheet_rows[header + 1 : header + 3]}
    page_numbers = {row[0]: row[1:] for row in table_rows(html, "数值题")}
    for question, (count, total, mean, low, high) in numbers.items():
        assert page_numbers[question] == [str(count), f"{total:g}", f"{mean:g}", f"{low:g}", f"{high:g}"], question
    assert page_numbers["成员单位数（个）"] == ["3", "39", "13", "7", "20"]
    # A chart per choice question: SVG bars, no inline style, the counts as its accessible name.
    chart = re.search(r'<svg class="chart" role="img" aria-label="协调机构：([^"]+)"', html)
    assert chart is not None and html_lib.unescape(chart.group(1)) == "领导小组 2、办公室 0、其他（名称） 1、无 0"
    assert html.count('<svg class="chart"') == 3 and " style=" not in html
    # The texts of the text questions, with their units.
    assert ["海门区", "海门区科协"] in table_rows(html, "填报单位")


# -- a unit ------------------------------------------------------------------------------------


async def test_unit_page__answers_in_review_order_history_with_channel_and_files(
    console: ConsoleWorld, survey: ExportWorld, upload_file: Any
) -> None:
    await console.sign_in()
    await answer_fully(survey, "崇川区", upload_file(PDF))
    html = await campaign_page(console, survey)
    page = await console.client.get(unit_link(html, "崇川区"))
    assert page.status == 200
    html = await page.text()
    assert "<h1>崇川区</h1>" in html and "<dt>提交次数</dt><dd>1</dd>" in html
    answers = table_rows(html, "基本信息")
    assert answers[:3] == [["1", "填报单位", "崇川区科学技术协会"], ["2", "成员单位数（个）", "12"], ["3", "经费（万元）", "3.5"]]
    assert table_rows(html, "具体情况")[0][1:] == ["方案由谁印发", "党委、其他（名称）：人大常委会"]
    history = table_rows(html, "修改记录")
    assert ["2026-12-01 10:00", "李四", "Telegram", "填报单位", "（未答） → 崇川区科学技术协会"] in history
    files = table_rows(html, "上传的文件")
    assert len(files) == 1 and files[0][0] == "盖章扫描件.pdf"
    link = re.search(r'<a href="(/admin/campaigns/\d+/units/\d+/files/\d+)" download>盖章扫描件\.pdf</a>', html)
    assert link is not None
    download = await console.client.get(link.group(1))
    assert download.status == 200 and await download.read() == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E7%9B%96%E7%AB%A0%E6%89%AB%E6%8F%8F%E4%BB%B6.pdf" in download.headers["Content-Disposition"]


async def test_unit_page__in_english_when_asked(console: ConsoleWorld, survey: ExportWorld, upload_file: Any) -> None:
    await console.sign_in()
    await answer_minimal(survey, "如皋市")
    html = await campaign_page(console, survey, "?lang=en")
    assert "Summaries per question" in html and "Reminders sent" in html
    html = await (await console.client.get(unit_link(html, "如皋市"))).text()
    assert "History of changes" in html and "Reporting unit" in html and "No file uploaded yet." in html


# -- downloads ---------------------------------------------------------------------------------


async def test_downloads__workbook_zip_and_report_book_like_export(
    console: ConsoleWorld, survey: ExportWorld, upload_file: Any, tmp_path: Path
) -> None:
    await console.sign_in()
    await answer_fully(survey, "崇川区", upload_file(PDF))
    await answer_minimal(survey, "海门区")
    base = f"/admin/campaigns/{survey.campaign_id}/download"
    html = await campaign_page(console, survey)
    for kind in ("workbook", "files", "report"):
        assert f'href="{base}/{kind}" download' in html

    workbook = await console.client.get(f"{base}/workbook")
    assert workbook.status == 200
    assert workbook.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert workbook.headers["Content-Disposition"].startswith('attachment; filename="')
    book = load_workbook(io.BytesIO(await workbook.read()), read_only=True)
    summary = {row[0]: row for row in book["汇总"].iter_rows(min_row=3, values_only=True) if row[0]}
    assert summary["崇川区"][2] == "崇川区科学技术协会" and summary["海门区"][2] == "海门区科协"

    bundle = await console.client.get(f"{base}/files")
    assert bundle.status == 200 and bundle.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(await bundle.read())) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    assert PDF in contents.values()
    assert any(name.endswith(".xlsx") for name in contents)

    report = await console.client.get(f"{base}/report")
    assert report.status == 200
    document = docx.Document(io.BytesIO(await report.read()))
    assert "基层力量薄弱。" in "\n".join(paragraph.text for paragraph in document.paragraphs)
    # Nothing of the exports is left behind: the server removes the folder once the last byte is written,
    # which may be just after the client has read it.
    for _ in range(100):
        if not any((tmp_path / "data" / "tmp").iterdir()):
            break
        await asyncio.sleep(0.02)
    assert not any((tmp_path / "data" / "tmp").iterdir())


async def test_downloads__no_zip_without_uploaded_files(console: ConsoleWorld, survey: ExportWorld) -> None:
    await console.sign_in()
    await answer_minimal(survey, "海门区")
    response = await console.client.get(f"/admin/campaigns/{survey.campaign_id}/download/files")
    assert response.status == 404 and "还没有单位上传文件" in await response.text()


# -- refusals and crafted ids ------------------------------------------------------------------


async def test_every_progress_page_and_download__refuses_without_a_session(
    console: ConsoleWorld, survey: ExportWorld, upload_file: Any
) -> None:
    await answer_fully(survey, "崇川区", upload_file(PDF))
    async with console.database.read() as session:
        unit_id = await session.scalar(select(Unit.id).where(Unit.campaign_id == survey.campaign_id, Unit.name == "崇川区"))
        file_id = await session.scalar(select(Attachment.id))
    base = f"/admin/campaigns/{survey.campaign_id}"
    paths = (
        base,
        f"{base}/progress",
        f"{base}/units/{unit_id}",
        f"{base}/units/{unit_id}/files/{file_id}",
        f"{base}/download/workbook",
        f"{base}/download/files",
        f"{base}/download/report",
    )
    for path in paths:
        response = await console.client.get(path, allow_redirects=False)
        assert (response.status, response.headers.get("Location")) == (303, "/admin/sign-in"), path
        body = await response.read()
        assert PDF not in body and "崇川区".encode() not in body, path
    # A respondent's web link token is no session either.
    token = next(iter(console.tokens.values()))
    for path in paths:
        response = await console.client.get(path, cookies={"surveybot_console": token}, allow_redirects=False)
        assert response.status == 303, path


async def test_crafted_ids__never_open_another_campaigns_unit_or_file(
    console: ConsoleWorld, survey: ExportWorld, upload_file: Any
) -> None:
    await answer_fully(survey, "崇川区", upload_file(PDF))
    await console.sign_in()
    async with console.database.read() as session:
        ours = await session.scalar(select(Unit.id).where(Unit.campaign_id == survey.campaign_id, Unit.name == "崇川区"))
        other_unit = await session.scalar(select(Unit.id).where(Unit.campaign_id == survey.campaign_id, Unit.name == "海门区"))
        nantong_unit = await session.scalar(select(Unit.id).where(Unit.campaign_id == console.campaign_id))
        file_id = await session.scalar(select(Attachment.id))
    nantong = console.campaign_id
    crafted = (
        f"/admin/campaigns/{nantong}/units/{ours}",  # a unit of another campaign
        f"/admin/campaigns/{survey.campaign_id}/units/{nantong_unit}",
        f"/admin/campaigns/{nantong}/units/{ours}/files/{file_id}",  # the file, under the wrong campaign
        f"/admin/campaigns/{survey.campaign_id}/units/{other_unit}/files/{file_id}",  # under the wrong unit
        f"/admin/campaigns/{survey.campaign_id}/units/{ours}/files/999999999",
        f"/admin/campaigns/{survey.campaign_id}/units/999999999999999999",
        "/admin/campaigns/999999/progress",
        "/admin/campaigns/999999999999999999/progress",  # beyond PostgreSQL's INTEGER
        f"/admin/campaigns/{survey.campaign_id}/units/{ours}/files/999999999999999999",
        "/admin/campaigns/999999/download/workbook",
        f"/admin/campaigns/{survey.campaign_id}/download/..%2F..%2Fetc",
        f"/admin/campaigns/{survey.campaign_id}/units/{ours}/files/{file_id}%2F..",
    )
    for path in crafted:
        response = await console.client.get(path, allow_redirects=False)
        body = await response.read()
        assert response.status == 404, path
        assert PDF not in body and "崇川区科学技术协会".encode() not in body, path


async def test_a_file_whose_stored_path_leaves_the_attachments_folder__is_not_served(
    console: ConsoleWorld, survey: ExportWorld, upload_file: Any, tmp_path: Path
) -> None:
    await answer_fully(survey, "崇川区", upload_file(PDF))
    await console.sign_in()
    secret = tmp_path / "data" / "secret.txt"
    secret.write_text("not for download")
    async with console.database.transaction() as session:
        attachment = await session.scalar(select(Attachment))
        assert attachment is not None
        attachment.stored_path = "attachments/../secret.txt"
        binding = await session.scalar(select(RespondentUnit))
        assert binding is not None
        unit_id, file_id = binding.unit_id, attachment.id
    response = await console.client.get(f"/admin/campaigns/{survey.campaign_id}/units/{unit_id}/files/{file_id}")
    assert response.status == 404 and "not for download" not in await response.text()
