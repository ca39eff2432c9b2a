"""The Telegram transcripts run on the end-to-end harness of ``tests/telegram``."""

from __future__ import annotations

import pytest

from tests.channels.telegram.driver import TelegramDriver
from tests.storage.conftest import migrated_backend, migrated_template  # noqa: F401  (fixtures)
from tests.telegram.conftest import BotHarness, harness  # noqa: F401  (fixture)


@pytest.fixture
def driver(harness: BotHarness) -> TelegramDriver:
    return TelegramDriver(harness)
