"""The workbook of a campaign linked to last period's: previous values, signed changes, and totals compared.

Written to disk by the real export and read back with openpyxl.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from export_world import ExportWorld
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from storage.campaigns import create_campaign, get_campaign
from storage.rosters import add_units


async def next_period(world: ExportWorld, units: list[str]) -> None:
    """A new campaign of the same survey, linked to the world's campaign; the world now exports it."""
    async with world.database.transaction() as session:
        first = await get_campaign(session=session, campaign_id=world.campaign_id)
        second = await create_campaign(
            session=session,
            survey_version=first.survey_version,
            title="导出测试 第二期",
            deadline=world.now + timedelta(days=20),
            timezone="Asia/Shanghai",
            previous_campaign=first,
            now=world.now,
        )
        await add_units(session=session, campaign=second, names=units)
        world.campaign_id = second.id


def columns_by_key(book: Workbook) -> dict[str, int]:
    """Field key → 0-based column of the summary sheet, as the codebook lists them."""
    sheet = book["字段说明"]
    return {row[1].value: index for index, row in enumerate(sheet.iter_rows(min_row=2))}


def summary(book: Workbook) -> dict[str, dict[str, Any]]:
    """Unit → {field key → cell} of the summary sheet."""
    keys = columns_by_key(book)
    rows: dict[str, dict[str, Any]] = {}
    for row in book["汇总"].iter_rows(min_row=3):
        rows[row[0].value] = {key: row[index] for key, index in keys.items()}
    return rows


async def linked_world(world: ExportWorld) -> None:
    await world.set_submitted("崇川区", {"members": 10, "budget": "2.5"})
    await world.set_submitted("海门区", {"members": 0, "budget": "1"})
    await world.set_submitted("启东市", {"members": 7})  # not on next period's roster
    await next_period(world, ["崇川区", "海门区", "如皋市", "新区"])
    await world.set_submitted("崇川区", {"members": 13, "budget": "2"})
    await world.set_submitted("海门区", {"members": 4, "budget": "1"})
    await world.set_submitted("如皋市", {"members": 5})  # on last period's roster, never submitted then


async def test_summary__numbers_get_last_periods_value_the_signed_change_and_its_rate(world: ExportWorld) -> None:
    await linked_world(world)
    result = await world.export()
    book = load_workbook(result.workbook)
    keys = list(columns_by_key(book))
    assert keys[keys.index("members") : keys.index("members") + 4] == [
        "members", "members.previous", "members.change", "members.change_rate",
    ]
    assert keys[keys.index("budget") : keys.index("budget") + 4] == [
        "budget", "budget.previous", "budget.change", "budget.change_rate",
    ]
    assert "unit_name.previous" not in keys and "filled_on.change" not in keys  # numbers only
    headers = [cell.value for cell in book["汇总"][2]]
    assert headers[keys.index("members.previous")] == "成员单位数（个）（上期）"
    assert headers[keys.index("members.change")] == "成员单位数（个）（增减）"
    assert headers[keys.index("members.change_rate")] == "成员单位数（个）（增减率）"

    rows = summary(book)
    chongchuan = rows["崇川区"]
    assert [chongchuan[key].value for key in ("members", "members.previous", "members.change")] == [13, 10, 3]
    assert chongchuan["members.change"].number_format == "+General;-General;0"  # shown as +3
    assert chongchuan["members.change_rate"].value == 0.3
    assert chongchuan["members.change_rate"].number_format == "+0.0%;-0.0%;0.0%"
    assert float(chongchuan["budget.change"].value) == -0.5  # shown as -0.5
    assert chongchuan["budget.change_rate"].value == -0.2

    haimen = rows["海门区"]
    assert [haimen[key].value for key in ("members", "members.previous", "members.change")] == [4, 0, 4]
    assert haimen["members.change_rate"].value is None  # last period's value is 0
    assert haimen["budget.change"].value == 0

    for unit in ("如皋市", "新区"):  # did not submit last period / did not exist then
        assert rows[unit]["members.previous"].value is None
        assert rows[unit]["members.change"].value is None
        assert rows[unit]["members.change_rate"].value is None


async def test_statistics__totals_compared_across_the_two_periods(world: ExportWorld) -> None:
    await linked_world(world)
    result = await world.export()
    sheet = load_workbook(result.workbook)["统计"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = next(row for row in rows if row[0] == "题目")
    assert header[6:10] == ["上期填报数", "上期合计", "合计增减", "合计增减率"]
    members = next(row for row in rows if row[0] == "成员单位数（个）")
    # This period: 13 + 4 + 5 = 22 over 3 units; last period, over this roster's units: 10 + 0.
    assert members[1:3] == [3, 22]
    assert members[6:10] == [2, 10, 12, 1.2]
    budget = next(row for row in rows if row[0] == "经费（万元）")
    assert budget[6:9] == [2, 3.5, -0.5]
    assert round(budget[9], 4) == round(-0.5 / 3.5, 4)


async def test_unlinked_campaign__has_no_period_columns(world: ExportWorld) -> None:
    await world.set_submitted("崇川区", {"members": 10})
    result = await world.export()
    book = load_workbook(result.workbook)
    assert not [key for key in columns_by_key(book) if key.endswith((".previous", ".change", ".change_rate"))]
    header = next(row for row in book["统计"].iter_rows(values_only=True) if row[0] == "题目")
    assert "上期合计" not in header
