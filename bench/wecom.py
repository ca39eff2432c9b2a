"""Benchmark: WeCom callbacks at a steady rate: how fast they are acknowledged, and how many answers are applied per second.

In this process: the WeCom channel as ``surveybot run`` serves it (the real
``/wecom/callback`` routes, the durable inbox, the service, SQLite in a
temporary directory; replies go to the fake WeCom server of the tests), and
simulated members, each answering the Nantong survey: their callbacks are
encrypted and signed as WeCom does, and posted at ``--rate`` per second in
all for ``--seconds``. The baseline, in the same run, is a bare aiohttp
handler that only verifies and decrypts the same callbacks (no parsing into
the inbox, no database) and answers 200.

Printed: the acknowledgement time (POST to the empty 200) at p50 and p99 for
both (aim: ours p99 at most 100 ms; WeCom gives up at 5 s), and answers per
second: ours counts callbacks *handled* (the survey step applied and the
reply sent), the baseline's callbacks acknowledged, over the same span from
the first post to the last one done; and the ratios.

The replies' per-member pacer is relaxed here (WeCom's 30 a minute would make
the benchmark measure the pacing): the fake WeCom answers every send at once.

    python bench/wecom.py [--rate 50] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp
from aiohttp import web

from bot.console_access import ConsoleAccess
from bot.coordination import CoordinatorService
from bot.outreach import OutreachService
from bot.service import SurveyService
from bot.settings import Settings
from bot.survey_files import load_survey
from handlers.wecom.crypto import CallbackCrypto
from handlers.wecom.pacing import MemberPacer
from handlers.wecom.rejection import CallbackRejected
from handlers.wecom.setup import build_wecom_channel
from storage.campaigns import create_campaign
from storage.database import Database
from storage.inbox import InboxEntry
from storage.invitations import create_invitation
from storage.migrate import ensure_schema
from storage.rosters import add_units
from storage.surveys import store_survey
from tests.fakes.wecom import FakeWeCom

TOKEN = "benchWeComToken"
REPORT = "本地区坚持党委领导、政府推动，成员单位协同推进全民科学素质工作。"
#: One member's walk through the Nantong survey, typed as in WeCom.
SCRIPT: list[str] = [
    "海门区科学技术协会", "王芳", "0513-59003013", "2023年4月26日",
    "1", "2", "2", "1", "1 2", "2", "1", "12", "3",
    REPORT, "完成", REPORT, "完成", REPORT, "完成", REPORT, "完成", REPORT, "完成",
    "跳过", "提交",
]  # fmt: skip

Request = tuple[dict[str, str], bytes]


class Callbacks:
    """Builds callbacks as WeCom does: XML, encrypted and signed."""

    def __init__(self, crypto: CallbackCrypto, corp_id: str, agent_id: int) -> None:
        self.crypto = crypto
        self.corp_id = corp_id
        self.agent_id = agent_id
        self.msg_id = 8_000_000_000_000_000_000

    def text(self, user: str, content: str) -> Request:
        self.msg_id += 1
        xml = (
            f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{self.msg_id}</MsgId><AgentID>{self.agent_id}</AgentID></xml>"
        )
        ciphertext = self.crypto.encrypt(xml.encode("utf-8"))
        timestamp, nonce = str(int(time.time())), os.urandom(6).hex()
        query = {"msg_signature": self.crypto.signature(timestamp, nonce, ciphertext), "timestamp": timestamp, "nonce": nonce}
        body = f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName><Encrypt><![CDATA[{ciphertext}]]></Encrypt></xml>"
        return query, body.encode("utf-8")


async def prepare(database: Database, members: int) -> list[str]:
    await ensure_schema(database)
    survey = load_survey(ROOT / "surveys" / "nantong-midterm-2023.yaml")
    async with database.transaction() as session:
        version = await store_survey(session=session, survey=survey)
        campaign = await create_campaign(
            session=session, survey_version=version, title="bench", deadline=datetime.now(UTC) + timedelta(days=7)
        )
        units = await add_units(session=session, campaign=campaign, names=[f"单位{i:04d}" for i in range(members)])
        return [(await create_invitation(session=session, unit=unit))[1] for unit in units]


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


def bare_app(crypto: CallbackCrypto) -> web.Application:
    """The baseline: verify and decrypt the callback, answer an empty 200; nothing else."""

    async def receive(request: web.Request) -> web.Response:
        query = request.query
        try:
            crypto.decrypt_message(query["msg_signature"], query["timestamp"], query["nonce"], await request.read())
        except CallbackRejected as rejection:
            return web.Response(status=rejection.reason.http_status)
        return web.Response()

    app = web.Application()
    app.router.add_post("/wecom/callback", receive)
    return app


async def paced_load(base: str, schedule: list[Request], *, rate: float) -> tuple[list[float], float, float]:
    """POST ``schedule`` at ``rate`` a second; the acknowledgement times, the first post's and the last ack's clock."""
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post(request: Request) -> None:
            query, body = request
            started = time.perf_counter()
            async with session.post(f"{base}/wecom/callback", params=query, data=body) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"callback answered HTTP {response.status}")
            latencies.append(time.perf_counter() - started)

        first = time.perf_counter()
        tasks = []
        for index, request in enumerate(schedule):
            delay = first + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(request)))
        await asyncio.gather(*tasks)
        last = time.perf_counter()
    return latencies, first, last


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def counting(handler: Callable[[InboxEntry], Awaitable[None]], done: list[float]) -> Callable[[InboxEntry], Awaitable[None]]:
    async def handle(entry: InboxEntry) -> None:
        await handler(entry)
        done.append(time.perf_counter())

    return handle


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=50.0, help="callbacks per second in all")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the load lasts")
    args = parser.parse_args()
    total = int(args.rate * args.seconds)
    members = max(1, -(-total // len(SCRIPT)))

    aes_key = base64.b64encode(os.urandom(32)).decode("ascii").rstrip("=")
    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory)
        url = f"sqlite+aiosqlite:///{data_dir / 'bench.db'}"
        database = Database(url)
        async with FakeWeCom() as fake, aiohttp.ClientSession() as http:
            settings = Settings(
                database_url=url,
                data_dir=data_dir,
                wecom_corp_id=fake.corp_id,
                wecom_agent_id=fake.agent_id,
                wecom_secret=fake.secret,  # type: ignore[arg-type]
                wecom_token=TOKEN,  # type: ignore[arg-type]
                wecom_aes_key=aes_key,  # type: ignore[arg-type]
                wecom_api_url=fake.url,
            )
            service = SurveyService(database=database, settings=settings)
            coordination = CoordinatorService(database=database, settings=settings)
            channel = build_wecom_channel(
                settings=settings,
                service=service,
                session=http,
                pacer=MemberPacer(clock=time.monotonic, per_minute=1_000_000, per_hour=1_000_000),
                coordination=coordination,
                outreach=OutreachService(database=database, coordination=coordination),
                access=ConsoleAccess(database=database, settings=settings),
                download_dir=data_dir / "tmp",
            )
            done: list[float] = []
            channel.inbox.handler = counting(channel.inbox.handler, done)
            root = web.Application()
            root.add_routes(channel.routes)
            ours, ours_url = await serve(root)
            crypto = CallbackCrypto(token=TOKEN, encoding_aes_key=aes_key, receiver_id=fake.corp_id)
            callbacks = Callbacks(crypto, fake.corp_id, fake.agent_id)
            try:
                tokens = await prepare(database, members)
                users = [f"member{i:04d}" for i in range(members)]
                # Not measured: every member binds with the unit's token first.
                await paced_load(ours_url, [callbacks.text(u, t) for u, t in zip(users, tokens, strict=True)], rate=200)
                await channel.inbox.drain(120)
                done.clear()
                # Member after member in turn, each walking the script.
                schedule = [callbacks.text(users[i % members], SCRIPT[i // members]) for i in range(total)]
                ours_acks, first, _ = await paced_load(ours_url, schedule, rate=args.rate)
                await channel.inbox.drain(600)
                ours_span = max(done) - first if done else float("nan")
                handled = len(done)
                bare_schedule = [callbacks.text(users[i % members], SCRIPT[i // members]) for i in range(total)]
            finally:
                await ours.cleanup()
                await database.dispose()
    bare, bare_url = await serve(bare_app(crypto))
    try:
        bare_acks, bare_first, bare_last = await paced_load(bare_url, bare_schedule, rate=args.rate)
    finally:
        await bare.cleanup()

    ours_rate, bare_rate = handled / ours_span, len(bare_acks) / (bare_last - bare_first)
    ours_p99, bare_p99 = percentile(ours_acks, 0.99), percentile(bare_acks, 0.99)
    print(f"callbacks: {total} at {args.rate:g}/s for {args.seconds:g} s, {members} members, SQLite")
    print(
        f"acknowledgement: WeCom channel p50 {statistics.median(ours_acks) * 1000:.1f} ms, p99 {ours_p99 * 1000:.1f} ms "
        f"(aim <= 100 ms); bare verify-and-decrypt handler p50 {statistics.median(bare_acks) * 1000:.1f} ms, "
        f"p99 {bare_p99 * 1000:.1f} ms; ratio of p99s {ours_p99 / bare_p99:.1f}"
    )
    print(
        f"answers: WeCom channel {ours_rate:,.1f} handled/s ({handled} of {total}); bare handler {bare_rate:,.1f} "
        f"acknowledged/s; ratio {ours_rate / bare_rate:.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
