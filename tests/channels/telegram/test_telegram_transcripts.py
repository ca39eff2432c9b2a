"""Telegram's incoming and outgoing transcript cases (``testdata/``), through the real bot."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.channels.telegram.driver import TelegramDriver
from tests.channels.transcript import TranscriptCase, load_cases, run_case

TESTDATA = Path(__file__).parent / "testdata"


@pytest.mark.parametrize("case", load_cases(TESTDATA / "incoming.json", TESTDATA / "outgoing.json"), ids=str)
async def test_transcript(case: TranscriptCase, driver: TelegramDriver) -> None:
    await run_case(case, driver)
