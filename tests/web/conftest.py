"""The web chat's harness: the real aiohttp app, our service and a real database, driven by aiohttp's test client."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.service import SurveyService
from bot.settings import Settings
from bot.survey_cache import SurveyCache
from bot.survey_files import load_survey
from handlers.web.access_log import RedactingAccessLogger
from handlers.web.app import make_web_app, mount
from handlers.web.limits import WebLimits
from storage.campaigns import create_campaign
from storage.database import Database
from storage.invitations import create_invitation
from storage.migrate import ensure_schema
from storage.rosters import add_units
from storage.surveys import store_survey
from tests.storage.conftest import Backend, backend  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
NANTONG = ROOT / "surveys" / "nantong-midterm-2023.yaml"
UNITS = ("崇川区", "通州区", "海门区")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class WebWorld:
    """A campaign on the Nantong survey, its links' tokens, and a client of the web chat."""

    database: Database
    service: SurveyService
    clock: Clock
    client: TestClient  # type: ignore[type-arg]
    campaign_id: int = 0
    tokens: dict[str, str] = field(default_factory=dict)

    async def state(self, token: str, **params: str) -> dict[str, Any]:
        response = await self.client.get(f"/s/{token}/state", params=params)
        assert response.status == 200, await response.text()
        return await response.json()  # type: ignore[no-any-return]

    async def post(self, token: str, action: dict[str, Any], *, position: str | None, key: str | None = None, language: str = "zh") -> tuple[int, dict[str, Any]]:
        body = {"key": key or uuid.uuid4().hex, "position": position, "language": language, "action": action}
        response = await self.client.post(f"/s/{token}/action", json=body)
        return response.status, await response.json()

    async def answer(self, token: str, state: dict[str, Any], text: str) -> dict[str, Any]:
        status, body = await self.post(token, {"type": "text", "text": text}, position=state["position"])
        assert status == 200, body
        return body

    async def press(self, token: str, state: dict[str, Any], label: str) -> dict[str, Any]:
        status, body = await self.post(token, control(state, label)["action"], position=state["position"])
        assert status == 200, body
        return body


def control(state: dict[str, Any], label: str) -> dict[str, Any]:
    """The newest control whose label is ``label``."""
    for message in reversed(state["messages"]):
        for row in message["rows"]:
            for candidate in row:
                if candidate["label"] == label:
                    return candidate  # type: ignore[no-any-return]
    raise AssertionError(f"no control {label!r} in {[c['label'] for m in state['messages'] for r in m['rows'] for c in r]}")


def texts(state: dict[str, Any]) -> str:
    return "\n---\n".join(message["text"] for message in state["messages"])


async def make_campaign(database: Database, clock: Clock, *, deadline: datetime) -> tuple[int, dict[str, str]]:
    await ensure_schema(database)
    survey = load_survey(NANTONG)
    tokens: dict[str, str] = {}
    async with database.transaction() as session:
        version = await store_survey(session=session, survey=survey)
        campaign = await create_campaign(
            session=session, survey_version=version, title="南通中期评估", deadline=deadline, now=clock()
        )
        for unit in await add_units(session=session, campaign=campaign, names=list(UNITS)):
            tokens[unit.name] = (await create_invitation(session=session, unit=unit, now=clock()))[1]
        return campaign.id, tokens


def web_root(service: SurveyService, *, tmp_path: Path, limits: WebLimits | None = None) -> web.Application:
    root = web.Application()
    mount(root, make_web_app(service=service, upload_dir=tmp_path / "uploads", limits=limits))
    return root


@pytest.fixture
def limits() -> WebLimits:
    return WebLimits()


@pytest.fixture
async def world(backend: Backend, tmp_path: Path, limits: WebLimits) -> AsyncIterator[WebWorld]:
    database = backend.open()
    clock = Clock(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    campaign_id, tokens = await make_campaign(database, clock, deadline=datetime(2026, 12, 15, 9, 0, tzinfo=UTC))
    settings = Settings(database_url=backend.url_with_schema, data_dir=tmp_path / "data")
    service = SurveyService(database=database, settings=settings, clock=clock, surveys=SurveyCache())
    server = TestServer(web_root(service, tmp_path=tmp_path, limits=limits))
    await server.start_server(access_log_class=RedactingAccessLogger)  # as `surveybot run` serves it
    client = TestClient(server)
    await client.start_server()
    try:
        yield WebWorld(database=database, service=service, clock=clock, client=client, campaign_id=campaign_id, tokens=tokens)
    finally:
        await client.close()
        await backend.dispose_all()
