"""The per-IP limit: one address cannot walk through many links faster than people do."""

from __future__ import annotations

import pytest

from handlers.web.limits import WebLimits
from tests.web.conftest import WebWorld


@pytest.fixture
def limits() -> WebLimits:
    return WebLimits(ip_per_minute=60, ip_burst=4)


async def test_many_links_from_one_address__429_in_the_browsers_language(world: WebWorld) -> None:
    statuses = []
    for name in ("崇川区", "通州区", "海门区", "崇川区", "通州区"):
        response = await world.client.get(f"/s/{world.tokens[name]}/state", headers={"Accept-Language": "en-US,en;q=0.9"})
        statuses.append(response.status)
    assert statuses == [200, 200, 200, 200, 429]
    assert (await response.json())["message"].startswith("Too many requests")
