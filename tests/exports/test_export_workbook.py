"""The exported workbook, written to disk and read back with openpyxl: every sheet, value and type."""

from __future__ import annotations

import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from export_world import LONG_TEXT, SUMMARY_KEYS, ExportWorld, answer_fully, answer_minimal, summary_rows
from openpyxl import load_workbook
from openpyxl.chart import BarChart
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from exports import BundleMode
from storage.models import ResponseStatus

SHEETS = ["汇总", "报告", "进度", "统计", "字段说明"]


def load(path: Path) -> Workbook:
    return load_workbook(path)


async def test_workbook__has_the_five_sheets_in_order(world: ExportWorld) -> None:
    result = await world.export()
    assert load(result.workbook).sheetnames == SHEETS


async def test_summary__values_and_types_of_a_submission_made_through_the_service(
    world: ExportWorld, upload_file: Any
) -> None:
    await answer_fully(world, "崇川区", upload_file(b"%PDF-1.4 stamped"))
    result = await world.export()
    row = summary_rows(load(result.workbook))["崇川区"]

    values = {key: cell.value for key, cell in row.items()}
    assert values == {
        "_unit": "崇川区",
        "_status": "已提交",
        "unit_name": "崇川区科学技术协会",
        "members": 12,
        "budget": 3.5,
        "filled_on": datetime(2023, 4, 26),
        "has_plan": "是",
        "plan_by": "党委、其他（名称）",
        "plan_by.other": "人大常委会",
        "plan_by=party": 1,
        "plan_by=gov": 0,
        "plan_by=other": 1,
        "body": "其他（名称）",
        "body.other": "全民科学素质工作联席会议",
        "phone": "0513-59003013",
        "email": "kx@example.com",
        "summary_text": LONG_TEXT,
        "problems": "基层力量薄弱。",
        "scan": "盖章扫描件.pdf",
    }
    assert row["members"].data_type == "n" and isinstance(row["members"].value, int)
    assert row["budget"].data_type == "n"
    assert row["filled_on"].is_date and row["filled_on"].number_format == "yyyy-mm-dd"
    assert row["summary_text"].alignment.wrap_text
    assert row["scan"].hyperlink is None  # links only in the zip's copy


async def test_summary__two_header_rows_with_merged_sections(world: ExportWorld) -> None:
    result = await world.export()
    sheet = load(result.workbook)["汇总"]
    merged = {str(cell_range) for cell_range in sheet.merged_cells.ranges}
    # A/B: unit and status over both header rows; C-G 基本信息; H-P 具体情况; Q-S 评估报告.
    assert merged == {"A1:A2", "B1:B2", "C1:G1", "H1:P1", "Q1:S1"}
    assert [sheet.cell(1, column).value for column in (1, 2, 3, 8, 17)] == [
        "单位",
        "填报状态",
        "基本信息",
        "具体情况",
        "评估报告",
    ]
    labels = [cell.value for cell in sheet[2]]
    assert labels == [
        None,
        None,
        "填报单位",
        "成员单位数（个）",
        "经费（万元）",
        "填表日期",
        "是否制定实施方案",
        "方案由谁印发",
        "其他（名称）",
        "党委（选中=1）",
        "政府（选中=1）",
        "其他（名称）（选中=1）",
        "协调机构",
        "其他（名称）",
        "联系电话",
        "电子邮箱",
        "一、工作总结",
        "二、问题和建议",
        "盖章扫描件",
    ]
    assert sheet.max_column == len(SUMMARY_KEYS)  # the note has no column
    assert sheet.freeze_panes == "B3"
    assert sheet.auto_filter.ref == f"A2:S{2 + 4}"
    assert sheet.cell(2, 3).font.bold and sheet.cell(2, 3).alignment.wrap_text


async def test_summary__every_roster_unit_in_roster_order_with_its_status(world: ExportWorld) -> None:
    await answer_minimal(world, "如皋市")
    await world.set_current("海门区", {"unit_name": "海门区科协"})
    result = await world.export()
    sheet = load(result.workbook)["汇总"]
    rows = [(row[0].value, row[1].value) for row in sheet.iter_rows(min_row=3)]
    assert rows == [("崇川区", "未开始"), ("海门区", "填报中"), ("如皋市", "已提交"), ("启东市", "未开始")]
    assert (result.units, result.submitted, result.in_progress, result.not_started) == (4, 1, 1, 2)


async def test_summary__nobody_answered_yet__every_unit_has_its_row(world: ExportWorld) -> None:
    result = await world.export()
    book = load(result.workbook)
    sheet = book["汇总"]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert [row[:2] for row in rows] == [(name, "未开始") for name in ("崇川区", "海门区", "如皋市", "启东市")]
    assert all(value is None for row in rows for value in row[2:])
    statistics = [row for row in book["统计"].iter_rows(values_only=True)]
    not_submitted = statistics[[row[0] for row in statistics].index("未提交的单位（4 个）") + 2 :]
    assert [row[:2] for row in not_submitted] == [(name, "未开始") for name in ("崇川区", "海门区", "如皋市", "启东市")]
    assert result.bundle is None


async def test_summary__non_relevant_answers_are_blank(world: ExportWorld) -> None:
    # Answered "yes" and who issued the plan, then changed to "no": the stored
    # answer to plan_by stays, but the question is no longer relevant.
    await world.set_current(
        "海门区",
        {"has_plan": "no", "plan_by": ["party", "other"], "body": "group"},
        {"plan_by": "人大"},
    )
    await world.set_current("如皋市", {"has_plan": "yes", "plan_by": ["gov"]})
    result = await world.export()
    rows = summary_rows(load(result.workbook))
    blank = {key: rows["海门区"][key].value for key in SUMMARY_KEYS if key.startswith("plan_by")}
    assert blank == dict.fromkeys(blank)
    assert rows["海门区"]["has_plan"].value == "否"
    assert rows["海门区"]["body"].value == "领导小组"
    shown = {key: rows["如皋市"][key].value for key in SUMMARY_KEYS if key.startswith("plan_by")}
    assert shown == {"plan_by": "政府", "plan_by.other": None, "plan_by=party": 0, "plan_by=gov": 1, "plan_by=other": 0}


async def test_summary__a_submitted_unit_shows_its_last_submission(world: ExportWorld) -> None:
    await world.set_submitted("崇川区", {"unit_name": "提交的名称", "members": 5})
    # Current answers that differ from the submission (not resubmitted) are not exported.
    await world.set_current("崇川区", {"unit_name": "草稿名称"}, status=ResponseStatus.SUBMITTED)
    result = await world.export()
    row = summary_rows(load(result.workbook))["崇川区"]
    assert (row["unit_name"].value, row["members"].value) == ("提交的名称", 5)


async def test_summary__column_widths_fit_chinese_text(world: ExportWorld) -> None:
    await world.set_submitted("崇川区", {"unit_name": "崇川区科学技术协会", "phone": "0513-59003013", "email": "a@b.cn"})
    result = await world.export()
    sheet = load(result.workbook)["汇总"]
    width = {key: sheet.column_dimensions[get_column_letter(i)].width for i, key in enumerate(SUMMARY_KEYS, 1)}
    assert width["unit_name"] == 9 * 2 + 2  # nine wide characters count two each
    assert width["phone"] == 13 + 2
    assert width["members"] >= len("成员单位数（个）") * 2  # the header fits (up to 24)
    assert width["summary_text"] <= 62  # long text wraps instead of widening the column


async def test_paging__any_page_size_gives_the_same_workbook(world: ExportWorld) -> None:
    await answer_minimal(world, "崇川区")
    await world.set_current("如皋市", {"unit_name": "如皋"})
    whole = await world.export("whole.xlsx")
    paged = await world.export("paged.xlsx", page_size=1)
    for title in SHEETS:
        assert list(load(whole.workbook)[title].values) == list(load(paged.workbook)[title].values)


async def test_report_sheet__long_texts_one_row_per_unit_print_ready(world: ExportWorld, upload_file: Any) -> None:
    await answer_fully(world, "崇川区", upload_file(b"%PDF-1.4 x"))
    result = await world.export()
    sheet = load(result.workbook)["报告"]
    assert [cell.value for cell in sheet[1]] == ["单位", "填报状态", "一、工作总结", "二、问题和建议"]
    rows = list(sheet.iter_rows(min_row=2))
    assert [row[0].value for row in rows] == ["崇川区", "海门区", "如皋市", "启东市"]
    assert rows[0][2].value == LONG_TEXT and rows[0][2].alignment.wrap_text
    assert rows[0][3].value == "基层力量薄弱。"
    assert rows[1][1].value == "未开始" and rows[1][2].value is None
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$1:$1"


async def test_progress_sheet__who_when_revision_reminders_unreachable(world: ExportWorld) -> None:
    await answer_minimal(world, "崇川区")
    await world.add_respondent("崇川区", "赵六", unreachable=True)
    await world.add_respondent("海门区", None, unreachable=False)
    result = await world.export()
    sheet = load(result.workbook)["进度"]
    assert [cell.value for cell in sheet[1]] == [
        "单位",
        "填报状态",
        "填报人",
        "开始填报时间",
        "最近填报时间",
        "提交时间",
        "版本号",
        "已发提醒（次）",
        "无法联系的填报人",
    ]
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    chongchuan = rows["崇川区"]
    local = (world.now + timedelta(hours=8)).replace(tzinfo=None)  # Asia/Shanghai
    assert chongchuan[1].value == "已提交"
    assert chongchuan[2].value == "王五、赵六"
    assert [cell.value for cell in chongchuan[3:6]] == [local, local, local]
    assert chongchuan[5].is_date and chongchuan[5].number_format == "yyyy-mm-dd hh:mm"
    response = await world.response_of("崇川区")
    assert chongchuan[6].value == response.revision and response.revision >= 1
    assert chongchuan[7].value == 0
    assert chongchuan[8].value == "赵六"
    assert rows["海门区"][2].value.startswith("telegram:")
    assert [cell.value for cell in rows["如皋市"][1:9]] == ["未开始", None, None, None, None, 0, 0, None]
    assert sheet.auto_filter.ref == "A1:I5"


async def test_statistics_sheet__counts_over_submitted_units_with_charts(world: ExportWorld, upload_file: Any) -> None:
    await answer_fully(world, "崇川区", upload_file(b"%PDF-1.4 x"))
    await answer_minimal(world, "海门区", has_plan="yes", members="20")
    await answer_minimal(world, "如皋市", has_plan="no", members="7")
    await world.set_current("启东市", {"has_plan": "yes", "members": 1000, "body": "office"})  # not submitted
    result = await world.export()
    sheet = load(result.workbook)["统计"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    first = [row[0] for row in rows]

    def table(title: str, size: int) -> list[tuple[Any, ...]]:
        start = first.index(title)
        assert rows[start + 1][:2] == ["选项", "单位数"]
        return [tuple(row[:2]) for row in rows[start + 2 : start + 2 + size]]

    assert rows[0][0].startswith("导出测试活动：截至 ") and "已提交 3 个单位，共 4 个单位" in rows[0][0]
    assert table("是否制定实施方案", 2) == [("是", 2), ("否", 1)]
    assert table("方案由谁印发", 3) == [("党委", 1), ("政府", 1), ("其他（名称）", 1)]
    assert table("协调机构", 4) == [("领导小组", 2), ("办公室", 0), ("其他（名称）", 1), ("无", 0)]
    header = first.index("题目")
    assert rows[header][:6] == ["题目", "填报数", "合计", "平均值", "最小值", "最大值"]
    numbers = {row[0]: row[1:6] for row in rows[header + 1 : header + 3]}
    assert numbers["成员单位数（个）"] == [3, 39, 13.0, 7, 20]
    assert numbers["经费（万元）"] == [1, 3.5, 3.5, 3.5, 3.5]
    missing = first.index("未提交的单位（1 个）")
    assert rows[missing + 1][:2] == ["单位", "填报状态"]
    assert rows[missing + 2][:2] == ["启东市", "填报中"]
    charts = sheet._charts
    assert len(charts) == 3
    assert all(isinstance(chart, BarChart) and chart.type == "bar" for chart in charts)


async def test_statistics_sheet__all_submitted(world: ExportWorld) -> None:
    for unit in ("崇川区", "海门区", "如皋市", "启东市"):
        await answer_minimal(world, unit)
    result = await world.export()
    values = [row[0] for row in load(result.workbook)["统计"].iter_rows(values_only=True)]
    assert "未提交的单位（0 个）" in values and "全部单位均已提交。" in values


async def test_codebook__one_row_per_summary_column_letter_by_letter(world: ExportWorld) -> None:
    result = await world.export()
    book = load(result.workbook)
    summary, codebook = book["汇总"], book["字段说明"]
    assert [cell.value for cell in codebook[1]] == [
        "列",
        "字段",
        "标题（zh）",
        "标题（en）",
        "类型",
        "选项值 = 选项",
        "显示条件",
    ]
    rows = list(codebook.iter_rows(min_row=2, values_only=True))
    assert len(rows) == summary.max_column == len(SUMMARY_KEYS)
    for index, row in enumerate(rows, start=1):
        letter = get_column_letter(index)
        header = summary[f"{letter}2"].value or summary[f"{letter}1"].value
        assert (row[0], row[1], row[2]) == (letter, SUMMARY_KEYS[index - 1], header)
    by_key = {row[1]: row for row in rows}
    assert by_key["plan_by"][3:] == (
        "Issued by",
        "多选（选项以“、”分隔）",
        "party = 党委 / Party committee\ngov = 政府 / Government\nother = 其他（名称） / Other (name)",
        "${has_plan} = 'yes'",
    )
    assert by_key["has_plan"][4:6] == ("是/否", "yes = 是 / Yes\nno = 否 / No")
    assert by_key["plan_by=gov"][3:6] == ("Government (selected = 1)", "多选题的一个选项（1/0）", "gov: 1 = 选中，0 = 未选中，空白 = 未作答 / 1 = selected, 0 = not selected, blank = not answered")
    assert by_key["body.other"][3:5] == ("Other (name)", "“其他”选项的名称（文本）")
    assert by_key["members"][3:] == ("Member units", "整数", None, None)
    assert by_key["_unit"][2:5] == ("单位", "Unit", "单位名称（名册）")


INJECTIONS = ["=1+1", "+1-2", "-2+3", "@SUM(A1)", "\t=cmd", "\r=cmd", "\x00=cmd|'/c calc'!A1", "#N/A", "=HYPERLINK(\"http://x\")"]


async def test_formula_injection__text_from_respondents_is_always_text(world: ExportWorld) -> None:
    answers = {
        "unit_name": INJECTIONS[0],
        "phone": INJECTIONS[1],
        "email": INJECTIONS[2],
        "summary_text": INJECTIONS[3],
        "problems": INJECTIONS[4],
        "body": "other",
        "plan_by": ["other"],
        "has_plan": "yes",
        "scan": {"name": INJECTIONS[5], "size": 1, "mime": None, "ref": "attachments/none"},
    }
    await world.set_submitted("崇川区", answers, {"body": INJECTIONS[6], "plan_by": INJECTIONS[7]})
    await world.set_current("海门区", {"unit_name": INJECTIONS[8], "summary_text": "\x01控制\x1f字符\x0b\ufffe"})
    await world.add_respondent("崇川区", "=cmd|' /C calc'!A0")
    result = await world.export()
    book = load(result.workbook)
    rows = summary_rows(book)
    expected = {
        ("崇川区", "unit_name"): "=1+1",
        ("崇川区", "phone"): "+1-2",
        ("崇川区", "email"): "-2+3",
        ("崇川区", "summary_text"): "@SUM(A1)",
        ("崇川区", "problems"): "\t=cmd",
        ("崇川区", "scan"): "\n=cmd",  # a CR is a line break, stored as LF
        ("崇川区", "body.other"): "=cmd|'/c calc'!A1",  # the NUL is removed
        ("崇川区", "plan_by.other"): "#N/A",
        ("海门区", "unit_name"): '=HYPERLINK("http://x")',
        ("海门区", "summary_text"): "控制字符",  # XML-illegal characters removed
    }
    for (unit, key), value in expected.items():
        cell = rows[unit][key]
        assert (cell.value, cell.data_type) == (value, "s"), (unit, key)
        if value[:1] in "=+-@\t\n#":
            assert cell.quotePrefix, (unit, key)
    progress = {row[0].value: row for row in book["进度"].iter_rows(min_row=2)}
    respondents = progress["崇川区"][2]
    assert (respondents.value, respondents.data_type, respondents.quotePrefix) == ("=cmd|' /C calc'!A0", "s", True)
    with zipfile.ZipFile(result.workbook) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name), name


async def test_formula_injection__unit_names_and_labels_too(world: ExportWorld) -> None:
    await world.create(units=["=A1", "@x", "-1"], title="=恶意标题")
    result = await world.export()
    book = load(result.workbook)
    cells = [row[0] for row in book["汇总"].iter_rows(min_row=3)]
    assert [(cell.value, cell.data_type) for cell in cells] == [("=A1", "s"), ("@x", "s"), ("-1", "s")]
    title = book["统计"]["A1"]
    assert title.value.startswith("=恶意标题") and title.data_type == "s"


def _no_formulas(sheet: Worksheet) -> None:
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"


@pytest.mark.parametrize("title", SHEETS)
async def test_no_sheet_has_a_formula(world: ExportWorld, title: str) -> None:
    await world.set_submitted("崇川区", {"unit_name": "=1", "members": 3, "has_plan": "no"})
    result = await world.export()
    _no_formulas(load(result.workbook)[title])


async def test_bundle_mode_never_and_always(world: ExportWorld) -> None:
    never = await world.export("never.xlsx", bundle=BundleMode.NEVER)
    assert never.bundle is None and not (world.out_dir / "never.zip").exists()
    always = await world.export("always.xlsx", bundle=BundleMode.ALWAYS)
    assert always.bundle == world.out_dir / "always.zip"
    with zipfile.ZipFile(always.bundle) as archive:
        assert archive.namelist() == ["always.xlsx"]
    assert sorted(path.name for path in world.out_dir.iterdir()) == ["always.xlsx", "always.zip", "never.xlsx"]
