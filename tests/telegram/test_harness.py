"""The end-to-end harness itself: replies() returns a whole answer, however slowly it comes."""

from __future__ import annotations

from storage.coordinators import add_coordinator
from tests.telegram.conftest import BotHarness, replies

COORDINATOR_ID = 9001


async def test_replies__wait_for_the_whole_answer_even_when_telegram_holds_part_of_it_up(harness: BotHarness) -> None:
    """Flood control holds the workbook back for a second after "exporting…": both are returned."""
    async with harness.backend.open().transaction() as session:
        await add_coordinator(session=session, channel="telegram", external_id=COORDINATOR_ID)
    user = harness.fake.user(COORDINATOR_ID, "协调人", language_code="zh-hans")
    harness.fake.fail_next("sendDocument", error_code=429, retry_after=1)
    await user.send_command("/export")
    messages = await replies(user)
    assert [message.document is not None for message in messages] == [False, True]
    assert harness.fake.stats.total_429 == 1
