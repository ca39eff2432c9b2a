"""Limits: 429 per link with a message and Retry-After, 413 naming the upload limit."""

from __future__ import annotations

import pytest

from handlers.web.limits import WebLimits
from tests.web.conftest import WebWorld
from tests.web.test_web_abuse import PDF, upload


@pytest.fixture
def limits() -> WebLimits:
    return WebLimits(link_per_minute=60, link_burst=5, max_upload_bytes=50 * 1024)


async def test_too_many_requests_through_one_link__429_with_a_message(world: WebWorld) -> None:
    token = world.tokens["海门区"]
    statuses = [(await world.client.get(f"/s/{token}/state")).status for _ in range(6)]
    assert statuses[:5] == [200] * 5
    response = await world.client.get(f"/s/{token}/state")
    assert response.status == 429 and int(response.headers["Retry-After"]) >= 1
    assert "操作太频繁" in (await response.json())["message"]
    # Another unit's link is not held up.
    assert (await world.client.get(f"/s/{world.tokens['通州区']}/state")).status == 200


async def test_upload_over_the_limit__413_naming_the_limit(world: WebWorld) -> None:
    token = world.tokens["通州区"]
    state = await world.state(token)
    status, body = await upload(world, token, state, PDF * 20, "big.pdf")
    assert status == 413 and "50 KB" in body["message"]
