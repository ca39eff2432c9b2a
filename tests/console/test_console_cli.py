"""``surveybot admin login-link``: the printed link signs a coordinator's browser in, once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.cli import main
from bot.cli.run import console_app
from bot.settings import load_settings
from handlers.console.app import mount
from storage.database import Database

PUBLIC_URL = "https://survey.example.org"


@pytest.fixture
def cli(backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    """Environment for the commands: data dir in tmp_path, the backend's database, an https public URL."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("DATABASE_URL", "TELEGRAM_BOT_USERNAME", "ADMIN_IDS", "TIMEZONE"):
        monkeypatch.delenv(f"SURVEYBOT_{name}", raising=False)
    monkeypatch.setenv("SURVEYBOT_PUBLIC_URL", PUBLIC_URL)
    monkeypatch.setenv("SURVEYBOT_DATA_DIR", str(tmp_path / "data"))
    if backend.name == "postgresql":
        monkeypatch.setenv("SURVEYBOT_DATABASE_URL", backend.url_with_schema)
    yield tmp_path / "data"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], list[str]]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


async def open_link(path: str) -> list[tuple[int, str]]:
    """Open the link's path on the console as ``surveybot run`` wires it: GET, POST, the console, POST again."""
    settings = load_settings()
    database = Database.from_settings(settings)
    root = web.Application()
    mount(root, console_app(settings, database))
    client = TestClient(TestServer(root))
    await client.start_server()
    try:
        seen: list[tuple[int, str]] = []
        response = await client.get(path)
        seen.append((response.status, await response.text()))
        response = await client.post(path, allow_redirects=False)
        seen.append((response.status, response.headers.get("Set-Cookie", "")))
        cookie = response.cookies["surveybot_console"].value
        response = await client.get("/admin/", cookies={"surveybot_console": cookie}, allow_redirects=False)
        seen.append((response.status, await response.text()))
        client.session.cookie_jar.clear()
        response = await client.post(path, allow_redirects=False)
        seen.append((response.status, await response.text()))
        return seen
    finally:
        await client.close()
        await database.dispose()


def test_login_link__prints_a_link_that_signs_in_once(cli: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert run(capsys, "admin", "add", "--channel", "wecom", "--id", "ZhangWei")[0] == 0
    code, out, _ = run(capsys, "admin", "login-link", "--channel", "wecom", "--id", "ZhangWei", "--ttl", "5m")
    assert code == 0 and len(out) == 1
    assert out[0].startswith(f"{PUBLIC_URL}/admin/login/")
    confirm, sign_in, console, again = asyncio.run(open_link(out[0].removeprefix(PUBLIC_URL)))
    assert confirm[0] == 200 and "确认登录" in confirm[1]
    assert sign_in[0] == 303
    set_cookie = sign_in[1].lower()
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie and "secure" in set_cookie  # https public URL
    assert console[0] == 200 and "<h1>收集任务</h1>" in console[1]
    assert again[0] == 410


def test_login_link__refuses_an_account_that_is_not_a_coordinator(cli: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, "admin", "login-link", "--telegram-id", "12345")
    assert code == 1 and out == []
    assert err == [
        "surveybot admin: Telegram account 12345 is not a coordinator; "
        "make it one first with surveybot admin add --channel telegram --id 12345"
    ]


@pytest.mark.parametrize("ttl", ["0m", "2d", "15", "soon", "-5m"])
def test_login_link__a_bad_ttl_is_a_usage_error(cli: Path, capsys, ttl: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, "admin", "login-link", "--telegram-id", "12345", f"--ttl={ttl}")
    assert code == 2 and out == []
    assert len(err) == 1 and "--ttl" in err[0] and "such as 15m" in err[0]
