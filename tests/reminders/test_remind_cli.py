"""``surveybot remind`` sends through the outbox itself, or leaves it to the running bot."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from tests.reminders.conftest import join, sender_for, submit_unit
from tests.telegram.conftest import BotHarness

FAR_DEADLINE = datetime(2099, 12, 15, 9, 0, tzinfo=UTC)  # the CLI runs on the real clock


@pytest.fixture
async def cli(harness: BotHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BotHarness:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("ADMIN_IDS", "TIMEZONE", "TELEGRAM_BOT_USERNAME"):
        monkeypatch.delenv(f"SURVEYBOT_{name}", raising=False)
    monkeypatch.setenv("SURVEYBOT_DATABASE_URL", harness.backend.url_with_schema)
    monkeypatch.setenv("SURVEYBOT_DATA_DIR", str(harness.data_dir))
    monkeypatch.setenv("SURVEYBOT_TELEGRAM_TOKEN", harness.fake.token)
    monkeypatch.setenv("SURVEYBOT_TELEGRAM_API_URL", f"{harness.fake.url}/bot")
    monkeypatch.setenv("SURVEYBOT_TELEGRAM_FILE_URL", f"{harness.fake.url}/file/bot")
    harness.deadline = FAR_DEADLINE
    await harness.create_campaign(units=("如皋市", "海安市", "启东市"), invitations_per_unit=1)
    return harness


async def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], list[str]]:
    code = await asyncio.to_thread(main, list(argv))  # the command runs its own event loop
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


async def test_remind__sends_to_the_units_not_submitted_and_prints_a_summary(
    cli: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    rugao = await join(cli, "如皋市", 9401, "周敏")
    haian = await join(cli, "海安市", 9402, "吴强")
    await submit_unit(cli, "海安市")
    capsys.readouterr()

    code, out, err = await run(capsys, "remind", "--campaign", str(cli.campaign_id))

    assert (code, err) == (0, [])
    assert out[0] == f"campaign {cli.campaign_id} 南通中期评估: 1 respondent(s) of 1 unit(s) not submitted"
    assert "1 unit(s) not submitted have nobody bound and get no reminder: 启东市" in out[1]
    assert out[-1] == "sent 1/1, failed 0, unreachable 0, skipped 0"
    assert sum("填报提醒" in (m.text or "") for m in rugao.messages) == 1
    assert not any("填报提醒" in (m.text or "") for m in haian.messages)


async def test_remind__dry_run_sends_nothing_and_enqueue_only_leaves_it_to_the_bot(
    cli: BotHarness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await join(cli, "如皋市", 9401, "周敏")
    capsys.readouterr()
    code, out, _ = await run(capsys, "remind", "--campaign", str(cli.campaign_id), "--dry-run")
    assert code == 0 and "1 respondent(s) of 1 unit(s)" in out[0]

    monkeypatch.delenv("SURVEYBOT_TELEGRAM_TOKEN")
    code, out, err = await run(capsys, "remind", "--campaign", str(cli.campaign_id))
    assert code == 2 and "SURVEYBOT_TELEGRAM_TOKEN is not set" in err[0]
    code, out, _ = await run(capsys, "remind", "--campaign", str(cli.campaign_id), "--enqueue-only")
    assert code == 0 and out[-1].startswith("queued as outbox batch")
    assert not any("填报提醒" in (m.text or "") for m in user.messages)

    await sender_for(cli).drain()  # the running bot's sender
    assert sum("填报提醒" in (m.text or "") for m in user.messages) == 1


async def test_remind__unknown_campaign_is_one_line_exit_1(cli: BotHarness, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = await run(capsys, "remind", "--campaign", "999")
    assert (code, out) == (1, [])
    assert err == ["surveybot remind: no campaign with id 999; `surveybot campaign list` shows them"]
