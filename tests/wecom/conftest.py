"""The WeCom channel's harness: the real callback route, inbox, service and database, the fake WeCom server.

Callbacks are built as WeCom sends them (XML, encrypted with the app's
EncodingAESKey, signed with its token) and POSTed to ``/wecom/callback`` of
the real aiohttp routes; what the bot answers is what the fake WeCom server
received through ``message/send``.
"""

from __future__ import annotations

import base64
import itertools
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.console_access import ConsoleAccess
from bot.coordination import CoordinatorService
from bot.outreach import OutreachService
from bot.service import SurveyService
from bot.settings import Settings
from bot.survey_cache import SurveyCache
from exports import CampaignFilesExporter
from handlers.wecom.crypto import CallbackCrypto
from handlers.wecom.pacing import MemberPacer
from handlers.wecom.setup import WeComChannel, build_wecom_channel
from storage.coordinators import add_coordinator
from storage.database import Database
from tests.fakes.wecom import FakeWeCom, SentMessage
from tests.storage.conftest import Backend, backend  # noqa: F401  (fixture)
from tests.web.conftest import Clock, make_campaign

PUBLIC_URL = "https://survey.example.org"
TOKEN = "surveybotWeComToken"
COORDINATOR = "liming"


def generated_key() -> str:
    """A fresh EncodingAESKey: 32 random bytes as WeCom shows them, 43 base64 characters."""
    return base64.b64encode(os.urandom(32)).decode("ascii").rstrip("=")


def cdata(value: str) -> str:
    return f"<![CDATA[{value}]]>"


@dataclass
class CallbackClient:
    """Builds, encrypts and signs callbacks as WeCom does, and POSTs them."""

    crypto: CallbackCrypto
    corp_id: str
    agent_id: int
    http: TestClient | None = None  # type: ignore[type-arg]
    base_url: str | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(7_000_000_000_000_000_001))
    _seconds: Any = field(default_factory=lambda: itertools.count(int(time.time())))

    def xml(self, user: str, msg_type: str, body: str, *, msg_id: str | None = None) -> str:
        identity = f"<MsgId>{msg_id or next(self._ids)}</MsgId>" if msg_type != "event" else ""
        return (
            f"<xml><ToUserName>{cdata(self.corp_id)}</ToUserName><FromUserName>{cdata(user)}</FromUserName>"
            f"<CreateTime>{next(self._seconds)}</CreateTime><MsgType>{cdata(msg_type)}</MsgType>{body}{identity}"
            f"<AgentID>{self.agent_id}</AgentID></xml>"
        )

    def text_xml(self, user: str, content: str, *, msg_id: str | None = None) -> str:
        return self.xml(user, "text", f"<Content>{cdata(content)}</Content>", msg_id=msg_id)

    def image_xml(self, user: str, media_id: str) -> str:
        return self.xml(
            user, "image", f"<PicUrl>{cdata('https://wework.qpic.cn/x')}</PicUrl><MediaId>{cdata(media_id)}</MediaId>"
        )

    def event_xml(self, user: str, event: str, extra: str = "") -> str:
        return self.xml(user, "event", f"<Event>{cdata(event)}</Event>{extra}")

    def card_press_xml(
        self,
        user: str,
        *,
        key: str,
        card_type: str,
        task_id: str,
        response_code: str,
        selected: tuple[str, tuple[str, ...]] | None = None,
    ) -> str:
        items = ""
        if selected is not None:
            question_key, options = selected
            ids = "".join(f"<OptionId>{cdata(option)}</OptionId>" for option in options)
            items = f"<SelectedItems><SelectedItem><QuestionKey>{cdata(question_key)}</QuestionKey><OptionIds>{ids}</OptionIds></SelectedItem></SelectedItems>"
        extra = (
            f"<EventKey>{cdata(key)}</EventKey><TaskId>{cdata(task_id)}</TaskId><CardType>{cdata(card_type)}</CardType>"
            f"<ResponseCode>{cdata(response_code)}</ResponseCode>{items}"
        )
        return self.event_xml(user, "template_card_event", extra)

    def signed(self, xml: str, *, signature: str | None = None) -> tuple[dict[str, str], bytes]:
        ciphertext = self.crypto.encrypt(xml.encode("utf-8"))
        timestamp, nonce = str(int(time.time())), os.urandom(6).hex()
        query = {
            "msg_signature": signature or self.crypto.signature(timestamp, nonce, ciphertext),
            "timestamp": timestamp,
            "nonce": nonce,
        }
        body = (
            f"<xml><ToUserName>{cdata(self.corp_id)}</ToUserName><Encrypt>{cdata(ciphertext)}</Encrypt>"
            f"<AgentID>{cdata(str(self.agent_id))}</AgentID></xml>"
        )
        return query, body.encode("utf-8")

    async def post(self, xml: str, *, times: int = 1, signature: str | None = None) -> list[int]:
        """POST the callback ``times`` times (WeCom's retries carry the same message); the statuses."""
        query, body = self.signed(xml, signature=signature)
        statuses = []
        for _ in range(times):
            if self.http is not None:
                response = await self.http.post("/wecom/callback", params=query, data=body)
                await response.read()
                statuses.append(response.status)
            else:
                assert self.base_url is not None
                async with (
                    aiohttp.ClientSession() as session,
                    session.post(f"{self.base_url}/wecom/callback", params=query, data=body) as answer,
                ):
                    await answer.read()
                    statuses.append(answer.status)
        return statuses


class VirtualClock:
    """Monotonic seconds for the pacer and the fake WeCom alike; a reply's wait moves it on instead of sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class WeComWorld:
    database: Database
    service: SurveyService
    fake: FakeWeCom
    channel: WeComChannel
    callbacks: CallbackClient
    tmp_path: Path
    clock: VirtualClock
    campaign_id: int = 0
    tokens: dict[str, str] = field(default_factory=dict)

    async def settle(self) -> None:
        """Wait until every recorded callback has been handled."""
        await self.channel.inbox.drain(60.0)

    async def send(self, user: str, content: str, *, times: int = 1) -> list[int]:
        statuses = await self.callbacks.post(self.callbacks.text_xml(user, content), times=times)
        await self.settle()
        return statuses

    async def deliver(self, xml: str, *, times: int = 1) -> list[int]:
        statuses = await self.callbacks.post(xml, times=times)
        await self.settle()
        return statuses

    def texts(self, user: str) -> list[str]:
        return [text for text in self.fake.texts_to(user) if text is not None]

    def last_text(self, user: str) -> str:
        texts = self.texts(user)
        assert texts, f"{user} received nothing"
        return texts[-1]

    def cards(self, user: str) -> list[SentMessage]:
        return [message for message in self.fake.messages_to(user) if message.msgtype == "template_card"]


def wecom_settings(backend: Backend, fake: FakeWeCom, tmp_path: Path, *, aes_key: str, cards: bool) -> Settings:
    return Settings(
        database_url=backend.url_with_schema,
        data_dir=tmp_path / "data",
        public_url=PUBLIC_URL,
        wecom_corp_id=fake.corp_id,
        wecom_agent_id=fake.agent_id,
        wecom_secret=fake.secret,  # type: ignore[arg-type]
        wecom_token=TOKEN,  # type: ignore[arg-type]
        wecom_aes_key=aes_key,  # type: ignore[arg-type]
        wecom_api_url=fake.url,
        wecom_cards=cards,
    )


@pytest.fixture
def cards() -> bool:
    return False


@pytest.fixture
def service_type() -> type[SurveyService]:
    """The survey service the channel is built with; a test may give a subclass that adds a step of its own."""
    return SurveyService


@pytest.fixture
async def world(
    backend: Backend, tmp_path: Path, cards: bool, service_type: type[SurveyService]
) -> AsyncIterator[WeComWorld]:
    database = backend.open()
    campaign_id, tokens = await make_campaign(
        database, Clock(datetime.now(UTC)), deadline=datetime(2099, 12, 15, 9, 0, tzinfo=UTC)
    )
    async with database.transaction() as session:
        await add_coordinator(session=session, channel="wecom", external_id=COORDINATOR)
    clock = VirtualClock()
    async with FakeWeCom(clock=clock) as fake, aiohttp.ClientSession() as http:
        aes_key = generated_key()
        settings = wecom_settings(backend, fake, tmp_path, aes_key=aes_key, cards=cards)
        service = service_type(database=database, settings=settings, surveys=SurveyCache())
        coordination = CoordinatorService(
            database=database,
            settings=settings,
            exporter=CampaignFilesExporter(database=database, data_dir=settings.data_dir, surveys=service.surveys),
        )
        outreach = OutreachService(database=database, coordination=coordination, outbox_channels=("telegram", "wecom"))
        channel = build_wecom_channel(
            settings=settings,
            service=service,
            session=http,
            pacer=MemberPacer(clock=clock),
            coordination=coordination,
            outreach=outreach,
            access=ConsoleAccess(database=database, settings=settings),
            download_dir=tmp_path / "downloads",
        )
        channel.replies.sleep = clock.sleep
        root = web.Application()
        root.add_routes(channel.routes)
        client = TestClient(TestServer(root))
        await client.start_server()
        crypto = CallbackCrypto(token=TOKEN, encoding_aes_key=aes_key, receiver_id=fake.corp_id)
        callbacks = CallbackClient(crypto=crypto, corp_id=fake.corp_id, agent_id=fake.agent_id, http=client)
        try:
            yield WeComWorld(
                database=database,
                service=service,
                fake=fake,
                channel=channel,
                callbacks=callbacks,
                tmp_path=tmp_path,
                clock=clock,
                campaign_id=campaign_id,
                tokens=tokens,
            )
        finally:
            await channel.inbox.drain(10.0)
            await client.close()
            await backend.dispose_all()
