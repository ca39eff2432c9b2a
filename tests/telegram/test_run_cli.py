"""``surveybot run`` that cannot start says why in one line, with exit code 2 (configuration) or 1.

The real CLI runs as a child process against the fake Bot API; nothing may
end in a traceback, "internal error" (exit 70) or an unclosed HTTP session.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from tests.fakes.telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
WRONG_TOKEN = "7000000001:AAWrongTokenForSurveybotTests_00000000"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def run_cli(fake_url: str, token: str, tmp_path: Path, *arguments: str) -> tuple[int, list[str]]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SURVEYBOT_TELEGRAM_TOKEN": token,
        "SURVEYBOT_TELEGRAM_API_URL": f"{fake_url}/bot",
        "SURVEYBOT_TELEGRAM_FILE_URL": f"{fake_url}/file/bot",
        "SURVEYBOT_DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("SURVEYBOT_DATABASE_URL", None)
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", *arguments,
        env=env, cwd=tmp_path, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode is not None
    return child.returncode, stderr.decode(errors="replace").splitlines()


def check_one_clear_line(lines: list[str], expected: str) -> None:
    text = "\n".join(lines)
    assert "Traceback" not in text and "internal error" not in text, text
    assert "Unclosed" not in text, text  # every HTTP session was closed
    assert lines and lines[-1].startswith("surveybot run: "), text
    assert expected in lines[-1], text


async def test_a_wrong_token__exit_2_and_says_telegram_refused_it(tmp_path: Path) -> None:
    async with FakeTelegram(strict_token=True) as fake:
        code, lines = await run_cli(fake.url, WRONG_TOKEN, tmp_path)
    assert code == 2
    check_one_clear_line(lines, "Telegram refused SURVEYBOT_TELEGRAM_TOKEN (401 Unauthorized)")


async def test_an_unreachable_api__exit_1_and_names_the_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    code, lines = await run_cli(url, WRONG_TOKEN, tmp_path)
    assert code == 1
    check_one_clear_line(lines, f"cannot reach the Telegram Bot API at {url}/bot")


async def test_a_listen_port_in_use__exit_1_and_says_which(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with FakeTelegram() as fake:
            code, lines = await run_cli(
                fake.url, fake.token, tmp_path,
                "--webhook-url", f"http://127.0.0.1:{port}/telegram", "--listen", f"127.0.0.1:{port}",
                "--secret-token", "good-Secret_1",
            )
    assert code == 1
    check_one_clear_line(lines, f"cannot listen on 127.0.0.1:{port}")


@pytest.mark.parametrize("secret", ["semi;colon", "x" * 257])
async def test_a_secret_with_illegal_characters__exit_2_before_anything_starts(tmp_path: Path, secret: str) -> None:
    async with FakeTelegram() as fake:
        code, lines = await run_cli(
            fake.url, fake.token, tmp_path, "--webhook-url", "https://example.org/telegram", "--secret-token", secret
        )
        assert fake.calls == []  # refused before Telegram was asked anything
    assert code == 2
    check_one_clear_line(lines, "--secret-token: the secret token may only hold A-Z, a-z, 0-9, _ and -")
