"""One compiled-survey cache per process: the service, the exports and the outbox composer share it."""

from __future__ import annotations

from storage.models import OutboxBatchStatus
from tests.reminders.conftest import join, make_coordinator, sender_for, wait_for_batches
from tests.telegram.conftest import BotHarness, replies


async def test_service_export_and_reminder__compile_the_survey_once(harness: BotHarness) -> None:
    cache = harness.surveys
    await join(harness, "崇川区", 9201, "王芳")  # the service compiles the campaign's survey
    assert (cache.compiled_count, len(cache)) == (1, 1)

    coordinator = await make_coordinator(harness)
    hits = cache.hit_count
    await coordinator.send_command("/export")
    messages = await replies(coordinator, at_least=2, timeout=30)
    assert any(message.document is not None for message in messages)
    assert cache.hit_count > hits  # the export found it

    await coordinator.send_command("/remind")
    [preview] = await replies(coordinator)
    await coordinator.press("✅ 确认发送", preview)
    await wait_for_batches(harness, OutboxBatchStatus.ACTIVE)
    hits = cache.hit_count
    assert (await sender_for(harness).drain()).sent == 1
    assert cache.hit_count > hits  # the composer found it

    assert (cache.compiled_count, len(cache)) == (1, 1)
