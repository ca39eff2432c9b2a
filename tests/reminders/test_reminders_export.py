"""The export's 进度 sheet counts the reminders each unit got and names who cannot be reached."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from exports import export_campaign
from tests.reminders.conftest import SLOT_1D, SLOT_3D, database_of, enqueue_broadcast, join, scheduler_for, sender_for
from tests.telegram.conftest import BotHarness


async def test_progress_sheet__reminders_sent_and_unreachable(harness: BotHarness, tmp_path: Path) -> None:
    await join(harness, "崇川区", 9201, "王芳")
    await join(harness, "崇川区", 9202, "李雷", token=1)  # two people: still one reminder per slot
    blocked = await join(harness, "通州区", 9203, "张伟")
    await blocked.block_bot(notify=False)
    scheduler, sender = scheduler_for(harness), sender_for(harness)
    for moment in (SLOT_3D, SLOT_1D):
        harness.clock.now = moment
        await scheduler.tick()
        await sender.drain()
    await enqueue_broadcast(harness, "广播不算提醒")
    await sender.drain()

    result = await export_campaign(
        database=database_of(harness),
        campaign_id=harness.campaign_id,
        workbook_path=tmp_path / "out.xlsx",
        data_dir=harness.data_dir,
        now=harness.clock(),
    )

    sheet = load_workbook(result.workbook)["进度"]
    header = [cell.value for cell in sheet[1]]
    reminders, unreachable = header.index("已发提醒（次）"), header.index("无法联系的填报人")
    rows = {row[0].value: [cell.value for cell in row] for row in sheet.iter_rows(min_row=2)}
    assert rows["崇川区"][reminders] == 2
    assert rows["通州区"][reminders] == 0 and rows["通州区"][unreachable] == "张伟"
    assert rows["海门区"][reminders] == 0
