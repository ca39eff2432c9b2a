"""``surveybot run`` serves the console beside the web chat; a link from ``admin login-link`` signs in."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp

from tests.storage.conftest import Backend, backend  # noqa: F401  (fixture)
from tests.web.test_web_run import environment, free_port, prepared, stop, wait_until_served


async def test_run__serves_the_console_and_a_printed_link_signs_in(backend: Backend, tmp_path: Path) -> None:  # noqa: F811
    await prepared(backend)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = environment(backend, tmp_path / "data", SURVEYBOT_PUBLIC_URL=base, SURVEYBOT_ADMIN_IDS="4242")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "--listen", f"127.0.0.1:{port}",
        cwd=str(tmp_path), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        response = await wait_until_served(f"{base}/admin/", process)
        assert response.status == 200 and str(response.url) == f"{base}/admin/sign-in"  # redirected: no session
        printed = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "admin", "login-link", "--telegram-id", "4242",
            cwd=str(tmp_path), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await printed.communicate()
        assert printed.returncode == 0, err.decode()
        link = out.decode().strip()
        assert link.startswith(f"{base}/admin/login/")
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            async with session.get(link) as confirm:
                assert confirm.status == 200
            async with session.post(link) as signed_in:  # follows the redirect to the campaigns
                assert signed_in.status == 200 and str(signed_in.url) == f"{base}/admin/"
                assert "南通中期评估" in await signed_in.text()
    finally:
        stderr = await stop(process)
    token = link.rsplit("/", 1)[1]
    logs = stderr + "".join(path.read_text(encoding="utf-8") for path in (tmp_path / "data" / "logs").glob("*"))
    assert "/admin/login/<token>" in logs and token not in logs
