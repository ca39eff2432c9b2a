"""Coordinator buttons check the account pressing them: a forged press by a respondent does nothing."""

from __future__ import annotations

from storage.models import OutboxBatchStatus
from tests.reminders.conftest import join, make_coordinator, outbox_rows, sender_for, wait_for_batches
from tests.telegram.conftest import BotHarness, replies, text_of

REFUSAL = "此命令仅限协调人使用"


async def test_forged_confirm_and_cancel_by_a_respondent__are_refused_and_send_nothing(harness: BotHarness) -> None:
    respondent = await join(harness, "崇川区", 9201, "王芳")
    coordinator = await make_coordinator(harness)
    await coordinator.send_command("/remind")
    [preview] = await replies(coordinator)
    [draft] = await wait_for_batches(harness, OutboxBatchStatus.DRAFT)

    for forged in (f"rm:ok:{draft}", f"rm:no:{draft}"):
        await respondent.press_raw(forged)
        assert REFUSAL in await text_of(respondent)
    assert await outbox_rows(harness) == []
    assert (await sender_for(harness).drain()).sent == 0
    assert await wait_for_batches(harness, OutboxBatchStatus.DRAFT) == [draft]  # still the coordinator's to confirm
    assert not [m for m in respondent.messages if "填报提醒" in (m.text or "")]

    await coordinator.press("✅ 确认发送", preview)
    await wait_for_batches(harness, OutboxBatchStatus.ACTIVE)
    assert (await sender_for(harness).drain()).sent == 1


async def test_forged_status_and_export_buttons_by_a_respondent__are_refused(harness: BotHarness) -> None:
    respondent = await join(harness, "崇川区", 9201, "王芳")
    for forged in (f"st:{harness.campaign_id}", f"ex:{harness.campaign_id}", f"rm:c:{harness.campaign_id}"):
        await respondent.press_raw(forged)
        messages = await replies(respondent)
        assert [REFUSAL in (m.text or "") for m in messages] == [True]
        assert all(m.document is None for m in messages)
    assert await outbox_rows(harness) == []
