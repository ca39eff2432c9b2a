"""Issue 13's "done means", as a newcomer does it: `surveybot demo`, a printed link in a phone browser, the survey
answered to 已提交, and the workbook from the export command the demo printed holds the answers."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import openpyxl

from tests.browser.test_browser_journey import newest, press, settled
from tests.web.test_web_run import free_port, wait_until_served

REPORT_PART = "本地区坚持党委领导、政府推动，成员单位协同推进全民科学素质工作。"
#: 海安市's walk through the Nantong survey: ("type", text) or ("press", a button's label).
WALK: list[tuple[str, str]] = [
    ("type", "海安市科学技术协会"),
    ("type", "李明"),
    ("type", "0513-88888888"),
    ("type", "2023年4月26日"),
    ("press", "是"),
    ("press", "否"),
    ("press", "是"),
    ("press", "否"),
    ("press", "全民科学素质工作领导小组"),
    ("press", "是"),
    ("type", "35"),
    ("type", "3"),
    *[step for _ in range(5) for step in (("type", REPORT_PART), ("press", "完成"))],
    ("press", "跳过"),
]


async def type_into_chat(page: Any, text: str) -> None:
    long_text = page.locator("#long")
    if await long_text.is_visible():
        await long_text.fill(text)
        await page.get_by_role("button", name="发送", exact=True).last.click()
    else:
        box = page.get_by_label("您的回答", exact=True)
        await box.fill(text)
        await box.press("Enter")
    await settled(page)


async def test_demo__a_newcomer_answers_a_printed_link_to_submitted_and_the_printed_export_holds_it(
    page: Any, tmp_path: Path
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEYBOT_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "demo", "--listen", f"127.0.0.1:{port}", "--data-dir", str(tmp_path / "demo"),
        cwd=str(tmp_path), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        lines: list[str] = []
        while not any("Ctrl-C" in line for line in lines):
            line = (await asyncio.wait_for(process.stdout.readline(), timeout=120)).decode()
            assert line, "the demo stopped before serving"
            lines.append(line.rstrip("\n"))
        [link] = [line.split("\t")[-1] for line in lines if line.strip().startswith("海安市\tnot_started\t")]
        [export_command] = [line.strip() for line in lines if " export --campaign " in line]
        await wait_until_served(link, process)

        await page.goto(link)
        await settled(page)
        assert "第 1/" in await newest(page)
        for kind, what in WALK:
            if kind == "type":
                await type_into_chat(page, what)
            else:
                await press(page, what)
        assert "请检查您的回答" in await newest(page)
        receipt = await press(page, "✅ 提交")
        assert "已提交" in receipt and "第 1 版" in receipt

        exporting = await asyncio.create_subprocess_shell(
            export_command, cwd=str(tmp_path), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        _, errors = await asyncio.wait_for(exporting.communicate(), timeout=120)
        assert exporting.returncode == 0, errors.decode()
        sheet = openpyxl.load_workbook(tmp_path / "nantong.xlsx", read_only=True).worksheets[0]
        [row] = [row for row in sheet.iter_rows(values_only=True) if row[0] == "海安市"]
        assert {"海安市科学技术协会", "李明", "0513-88888888"} <= set(row)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.communicate(), timeout=30)
