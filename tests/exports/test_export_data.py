"""Reading a campaign for an export: one snapshot, pages in roster order, the right answers per unit."""

from __future__ import annotations

from datetime import date

from export_world import ExportWorld
from sqlalchemy import text

from exports.data import iter_unit_records, load_campaign, read_snapshot, split_submitted_values
from storage.models import ResponseStatus


async def test_pages__every_unit_once_in_roster_order(world: ExportWorld) -> None:
    await world.create(units=[f"单位{number:02d}" for number in range(1, 12)])
    async with read_snapshot(world.database) as session:
        campaign, survey = await load_campaign(session=session, campaign_id=world.campaign_id)
        pages = [
            [record.name for record in page]
            async for page in iter_unit_records(
                session=session, campaign=campaign, survey=survey, today=date(2026, 11, 2), page_size=4
            )
        ]
    assert [len(page) for page in pages] == [4, 4, 3]
    assert sum(pages, []) == [f"单位{number:02d}" for number in range(1, 12)]


async def test_snapshot__later_pages_do_not_see_changes_made_during_the_export(world: ExportWorld) -> None:
    async with read_snapshot(world.database) as session:
        campaign, survey = await load_campaign(session=session, campaign_id=world.campaign_id)
        records = iter_unit_records(
            session=session, campaign=campaign, survey=survey, today=date(2026, 11, 2), page_size=1
        )
        first = await anext(records)
        await world.set_submitted("如皋市", {"unit_name": "导出途中提交"})  # another transaction, committed
        rest = [page async for page in records]
    statuses = {record.name: record.status for page in [first, *rest] for record in page}
    assert statuses["如皋市"] is ResponseStatus.NOT_STARTED
    async with read_snapshot(world.database) as session:
        campaign, survey = await load_campaign(session=session, campaign_id=world.campaign_id)
        again = [
            record
            async for page in iter_unit_records(session=session, campaign=campaign, survey=survey, today=date(2026, 11, 2))
            for record in page
        ]
    assert {record.name: record.status for record in again}["如皋市"] is ResponseStatus.SUBMITTED


async def test_snapshot__is_read_only_and_repeatable_read_on_postgresql(world: ExportWorld) -> None:
    async with read_snapshot(world.database) as session:
        if world.database.is_postgresql:
            isolation = await session.scalar(text("SHOW transaction_isolation"))
            read_only = await session.scalar(text("SHOW transaction_read_only"))
            assert (isolation, read_only) == ("repeatable read", "on")
        else:
            assert await session.scalar(text("SELECT 1")) == 1


async def test_records__submitted_values_or_current_relevant_answers(world: ExportWorld) -> None:
    await world.set_submitted("崇川区", {"has_plan": "no", "plan_by": ["party"]}, {"plan_by": "x"})
    await world.set_current("海门区", {"has_plan": "no", "plan_by": ["party"], "members": 3}, {"plan_by": "x"})
    async with read_snapshot(world.database) as session:
        campaign, survey = await load_campaign(session=session, campaign_id=world.campaign_id)
        records = {
            record.name: record
            async for page in iter_unit_records(session=session, campaign=campaign, survey=survey, today=date(2026, 11, 2))
            for record in page
        }
    # A submission is taken as it was submitted (the engine made it relevant-only then).
    assert records["崇川区"].answers == {"has_plan": "no", "plan_by": ["party"]}
    # Current answers are filtered: plan_by is not relevant when has_plan is "no".
    assert (records["海门区"].answers, records["海门区"].others) == ({"has_plan": "no", "members": 3}, {})
    assert records["如皋市"].answers == {} and records["如皋市"].response_id is not None


def test_split_submitted_values__both_shapes() -> None:
    assert split_submitted_values({"answers": {"a": 1}, "others": {"b": "x"}}) == ({"a": 1}, {"b": "x"})
    assert split_submitted_values({"a": 1, "b": "x"}) == ({"a": 1, "b": "x"}, {})
    assert split_submitted_values(None) == ({}, {})
