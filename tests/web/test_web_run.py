"""``surveybot run`` serves the web chat: alone without a Telegram token, beside the webhook with one."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import openpyxl

from tests.fakes.telegram import FakeTelegram
from tests.storage.conftest import Backend, backend  # noqa: F401  (fixture)
from tests.web.conftest import Clock, make_campaign

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def prepared(backend: Backend) -> dict[str, str]:  # noqa: F811
    database = backend.open()
    try:
        _, tokens = await make_campaign(
            database, Clock(datetime.now(UTC)), deadline=datetime(2099, 12, 15, 9, 0, tzinfo=UTC)
        )
    finally:
        await database.dispose()
    return tokens


def environment(backend: Backend, data_dir: Path, **extra: str) -> dict[str, str]:  # noqa: F811
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEYBOT_")}
    env.update(SURVEYBOT_DATABASE_URL=backend.url_with_schema, SURVEYBOT_DATA_DIR=str(data_dir), **extra)
    return env


async def wait_until_served(url: str, process: asyncio.subprocess.Process) -> aiohttp.ClientResponse:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            assert process.returncode is None, "surveybot run exited early"
            try:
                async with session.get(url) as response:
                    await response.read()
                    return response
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
    raise AssertionError(f"nothing served at {url}")


async def stop(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGINT)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()
    return stderr.decode()


async def test_run_without_a_telegram_token__serves_the_web_chat_alone_and_logs_no_token(
    backend: Backend, tmp_path: Path  # noqa: F811
) -> None:
    tokens = await prepared(backend)
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "--listen", f"127.0.0.1:{port}",
        cwd=str(tmp_path), env=environment(backend, tmp_path / "data"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    token = tokens["海门区"]
    response = await wait_until_served(f"http://127.0.0.1:{port}/s/{token}", process)
    assert response.status == 200 and response.headers["Referrer-Policy"] == "no-referrer"
    stderr = await stop(process)
    logs = stderr + "".join(path.read_text(encoding="utf-8") for path in (tmp_path / "data" / "logs").glob("*"))
    assert "/s/<token>" in logs and token not in logs


async def test_run_with_a_webhook__serves_the_web_chat_on_the_same_server(backend: Backend, tmp_path: Path) -> None:  # noqa: F811
    tokens = await prepared(backend)
    port = free_port()
    async with FakeTelegram() as fake:
        env = environment(
            backend,
            tmp_path / "data",
            SURVEYBOT_TELEGRAM_TOKEN=fake.token,
            SURVEYBOT_TELEGRAM_API_URL=f"{fake.url}/bot",
            SURVEYBOT_TELEGRAM_FILE_URL=f"{fake.url}/file/bot",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", "--listen", f"127.0.0.1:{port}",
            "--webhook-url", f"http://127.0.0.1:{port}/telegram", "--secret-token", "s3cret",
            cwd=str(tmp_path), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            response = await wait_until_served(f"http://127.0.0.1:{port}/s/{tokens['崇川区']}/state", process)
            assert response.status == 200
            user = fake.user(5001, "王芳", language_code="zh-hans")
            await user.send_command("/start", tokens["海门区"])
            # A bot in another process: wait for its messages (the harness's handled marks come from in-process bots).
            await fake.wait_until(lambda: any("第 1/18 题" in (m.text or "") for m in user.messages), timeout=20.0)
        finally:
            await stop(process)


async def test_demo__prints_seven_links_serves_them_and_reuses_its_campaign(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEYBOT_")}

    async def demo() -> list[str]:
        port = free_port()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "demo", "--listen", f"127.0.0.1:{port}", "--data-dir", str(data_dir),
            cwd=str(tmp_path), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        assert process.stdout is not None
        lines: list[str] = []
        while not any("Ctrl-C" in line for line in lines):
            line = (await asyncio.wait_for(process.stdout.readline(), timeout=120)).decode()
            assert line, "the demo stopped before serving"
            lines.append(line.rstrip("\n"))
        links = [line.split("\t")[-1] for line in lines if "/s/" in line]
        assert len(links) == 7 and all(link.startswith(f"http://127.0.0.1:{port}/s/") for link in links)
        states = [line.split("\t")[1] for line in lines if "/s/" in line]
        assert states == ["submitted", "submitted", "in_progress", "in_progress", "not_started", "not_started", "not_started"]
        [export_command] = [line.strip() for line in lines if " export --campaign 1 -o nantong.xlsx" in line]
        [console_link] = [line.strip() for line in lines if "/admin/login/" in line]
        assert console_link.startswith(f"http://127.0.0.1:{port}/admin/login/")
        assert (await wait_until_served(links[2], process)).status == 200
        async with aiohttp.ClientSession() as session, session.get(f"{links[2]}/state") as response:
            assert response.status == 200 and "欢迎回来" in (await response.json())["messages"][0]["text"]
        # The printed sign-in link opens the console on the demo campaign, with its units' progress.
        origin = {"Origin": f"http://127.0.0.1:{port}"}
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:  # keeps 127.0.0.1's cookie
            async with session.post(console_link, headers=origin) as response:
                assert response.status == 200 and response.url.path == "/admin/"
                assert "南通市《规划》实施情况中期评估（演示）" in await response.text()
            async with session.get(f"http://127.0.0.1:{port}/admin/campaigns/1") as response:
                page = await response.text()
                assert response.status == 200 and all(name in page for name in ("崇川区", "海门区", "如东县"))
            async with session.post(console_link, headers=origin) as response:
                assert response.status == 410  # once only
        # The printed export command works as printed, beside the running demo, even in a
        # shell whose own SURVEYBOT_DATABASE_URL names another database.
        elsewhere = {**env, "SURVEYBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'elsewhere.db'}"}
        exporting = await asyncio.create_subprocess_shell(
            export_command, cwd=str(tmp_path), env=elsewhere, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        _, errors = await asyncio.wait_for(exporting.communicate(), timeout=120)
        assert exporting.returncode == 0, errors.decode()
        workbook = openpyxl.load_workbook(tmp_path / "nantong.xlsx", read_only=True)
        assert {"崇川区", "通州区"} <= {row[0] for row in workbook.worksheets[0].iter_rows(values_only=True)}
        process.send_signal(signal.SIGINT)
        rest, _ = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0 and "Stopped" in rest.decode()
        return [link.rsplit("/", 1)[1] for link in links] + [console_link]

    first = await demo()
    second = await demo()
    assert second[:7] == first[:7]  # the same campaign and links the second time
    assert second[7] != first[7]  # and a fresh console sign-in link
