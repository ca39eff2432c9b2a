"""Benchmark: many respondents answer the Nantong survey at once through the web chat's JSON API.

In this process: the web chat (our aiohttp app, service, SQLite in a temporary
directory) and simulated respondents, plain HTTP clients that each GET their
link's state and then post every answer, waiting for the reply each time.
The baseline is a bare aiohttp handler serving the same routes with a canned
reply of the same size, driven by the same clients with the same requests in
the same run.

Two loads:

* saturated: every respondent posts the next answer as soon as the reply
  arrives. Answers per second, ours against the bare handler's, and the ratio
  (aim: at least 0.5).
* paced: respondents spread so that about ``--rate`` answers per second
  arrive in all (default 50); the time per answer (request to reply) at the
  50th, 95th and 99th percentiles (aim on SQLite: p99 at most 50 ms).

Also printed: the process's CPU time per answer under saturation (clients
included, for both servers alike), which a busy shared machine disturbs less
than the rates, and how many commits (fsyncs) the answers took: answers that
arrive together share one (group commit, ``storage/group_commit.py``).

A second baseline, the *floor*, shows what durability alone costs with the
libraries the design fixes: the bare handler plus the least an exactly-once
answer must do, one durable INSERT of the request's idempotency key through
SQLAlchemy into SQLite (``claim_update``, in group commit like ours), and
nothing else: no invitation, no engine, no answer row. Its ratio to the bare
handler shows how little of the bare handler's rate is left for the answer itself.

    python bench/web.py [--respondents 50] [--rate 50] [--paced-seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.service import SurveyService
from bot.settings import Settings
from bot.survey_files import load_survey
from handlers.web.app import make_web_app, mount
from handlers.web.limits import WebLimits
from storage.campaigns import create_campaign
from storage.database import Database
from storage.invitations import create_invitation
from storage.migrate import ensure_schema
from storage.rosters import add_units
from storage.surveys import store_survey
from storage.updates import claim_update

REPORT_PART = "本地区坚持党委领导、政府推动，成员单位协同推进全民科学素质工作，" * 3
#: One respondent's walk: ("text", what to type) or ("press", the control's label).
SCRIPT: list[tuple[str, str]] = [
    ("text", "海门区科学技术协会"),
    ("text", "王芳"),
    ("text", "0513-59003013"),
    ("text", "2023年4月26日"),
    ("press", "是"),
    ("press", "否"),
    ("press", "是"),
    ("press", "否"),
    ("press", "全民科学素质工作领导小组"),
    ("press", "是"),
    ("text", "35"),
    ("text", "3"),
    *[step for _ in range(5) for step in (("text", REPORT_PART), ("press", "完成"))],
    ("press", "跳过"),
    ("press", "✅ 提交"),
]
#: The limits of a public server would stop a benchmark that is one IP and hammers on purpose.
NO_LIMITS = WebLimits(ip_per_minute=10**9, ip_burst=10**9, link_per_minute=10**9, link_burst=10**9)


def control_action(state: dict[str, Any], label: str) -> dict[str, Any]:
    for message in reversed(state["messages"]):
        for row in message["rows"]:
            for control in row:
                if control["label"] == label:
                    return control["action"]  # type: ignore[no-any-return]
    raise RuntimeError(f"no control {label!r}: {[m['text'][:40] for m in state['messages']]}")


async def prepare(database: Database, respondents: int) -> list[str]:
    await ensure_schema(database)
    survey = load_survey(ROOT / "surveys" / "nantong-midterm-2023.yaml")
    async with database.transaction() as session:
        version = await store_survey(session=session, survey=survey)
        campaign = await create_campaign(
            session=session, survey_version=version, title="bench", deadline=datetime.now(UTC) + timedelta(days=7)
        )
        units = await add_units(session=session, campaign=campaign, names=[f"单位{i:04d}" for i in range(respondents)])
        return [(await create_invitation(session=session, unit=unit))[1] for unit in units]


async def respondent(
    session: aiohttp.ClientSession, base: str, token: str, *, latencies: list[float], think: float, bare: bool
) -> None:
    """GET the state, then post the whole script, each answer after the previous reply (and a pause when paced)."""
    async with session.get(f"{base}/s/{token}/state") as response:
        state = await response.json()
    if think:
        await asyncio.sleep(random.uniform(0, think))
    for kind, payload in SCRIPT:
        action = {"type": "text", "text": payload} if kind == "text" or bare else control_action(state, payload)
        body = {"key": uuid.uuid4().hex, "position": state["position"], "language": "zh", "action": action}
        started = time.perf_counter()
        async with session.post(f"{base}/s/{token}/action", json=body) as response:
            state = await response.json()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}: {state}")
        latencies.append(time.perf_counter() - started)
        if think:
            await asyncio.sleep(think * random.uniform(0.5, 1.5))


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


def bare_app(canned: dict[str, Any], *, floor: Database | None = None) -> web.Application:
    """The baseline: the same routes, the body parsed, a canned reply of the same size; no database.

    With ``floor``, the floor: each action's key is also claimed durably there (one INSERT, group commit).
    """
    text = json.dumps(canned, ensure_ascii=False)

    async def state(request: web.Request) -> web.Response:
        return web.Response(text=text, content_type="application/json")

    async def action(request: web.Request) -> web.Response:
        key = (await request.json())["key"]
        if floor is not None:

            async def claim(session: AsyncSession) -> bool:
                return await claim_update(session=session, channel="link", update_id=f"{request.match_info['token']}:{key}")

            await floor.grouped(claim)
        return web.Response(text=text, content_type="application/json")

    app = web.Application()
    app.router.add_get("/s/{token}/state", state)
    app.router.add_post("/s/{token}/action", action)
    return app


async def run_load(base: str, tokens: list[str], *, think: float, bare: bool) -> tuple[float, float, list[float]]:
    """Wall seconds, CPU seconds of this process, and the time of each answer."""
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(respondent(session, base, t, latencies=latencies, think=think, bare=bare) for t in tokens))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return elapsed, cpu, latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--respondents", type=int, default=50)
    parser.add_argument("--rate", type=float, default=50.0, help="answers per second in all, paced load")
    args = parser.parse_args()
    answers = args.respondents * len(SCRIPT)

    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory)
        url = f"sqlite+aiosqlite:///{data_dir / 'bench.db'}"
        database = Database(url)
        settings = Settings(database_url=url, data_dir=data_dir)
        service = SurveyService(database=database, settings=settings)
        root = web.Application()
        mount(root, make_web_app(service=service, upload_dir=data_dir / "uploads", limits=NO_LIMITS))
        ours, ours_url = await serve(root)
        try:
            tokens = await prepare(database, args.respondents * 2)
            saturated, ours_cpu, _ = await run_load(ours_url, tokens[: args.respondents], think=0, bare=False)
            committer = database.group_commit
            commits = committer.commits if committer is not None else None
            # Paced: each respondent answers about every respondents/rate seconds.
            think = args.respondents / args.rate
            _, _, paced = await run_load(ours_url, tokens[args.respondents :], think=think, bare=False)
            async with aiohttp.ClientSession() as session, session.get(f"{ours_url}/s/{tokens[0]}/state") as response:
                canned = await response.json()
        finally:
            await ours.cleanup()
            await database.dispose()
    fake_tokens = [f"t{i:05d}" for i in range(args.respondents)]
    bare, bare_url = await serve(bare_app(canned))
    try:
        baseline, bare_cpu, _ = await run_load(bare_url, fake_tokens, think=0, bare=True)
    finally:
        await bare.cleanup()
    with tempfile.TemporaryDirectory() as directory:
        database = Database(f"sqlite+aiosqlite:///{Path(directory) / 'floor.db'}")
        await ensure_schema(database)
        floor, floor_url = await serve(bare_app(canned, floor=database))
        try:
            floored, floor_cpu, _ = await run_load(floor_url, fake_tokens, think=0, bare=True)
        finally:
            await floor.cleanup()
            await database.dispose()

    ours_rate, bare_rate, floor_rate = answers / saturated, answers / baseline, answers / floored
    print(f"respondents: {args.respondents}, answers each: {len(SCRIPT)}")
    print(
        f"saturated: web chat {ours_rate:,.0f} answers/s; bare aiohttp handler {bare_rate:,.0f} answers/s; ratio {ours_rate / bare_rate:.2f} (aim >= 0.5)"
    )
    print(
        f"floor (bare + one durable key INSERT, SQLAlchemy + SQLite, group commit): {floor_rate:,.0f} answers/s; "
        f"ratio to bare {floor_rate / bare_rate:.2f}; web chat to floor {ours_rate / floor_rate:.2f}"
    )
    print(
        f"saturated CPU per answer (clients included): web chat {ours_cpu / answers * 1000:.2f} ms, "
        f"floor {floor_cpu / answers * 1000:.2f} ms, bare {bare_cpu / answers * 1000:.2f} ms; "
        + (f"{answers} answers in {commits} commits" if commits is not None else "one commit per answer")
    )
    print(
        f"paced at ~{args.rate:g} answers/s on SQLite: time per answer p50 {statistics.median(paced) * 1000:.1f} ms, "
        f"p95 {percentile(paced, 0.95) * 1000:.1f} ms, p99 {percentile(paced, 0.99) * 1000:.1f} ms (aim p99 <= 50 ms)"
    )


if __name__ == "__main__":
    asyncio.run(main())
