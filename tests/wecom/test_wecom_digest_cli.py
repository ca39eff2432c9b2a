"""``campaign create/set --wecom-group-webhook`` and roster lines with mobile numbers, through ``bot.cli.main``.

What is asserted is what the coordinator sees in the terminal (never the
robot's key) and what is stored.
"""

# ruff: noqa: F811  (pytest fixtures imported from other test modules are parameters here)

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.database import Database
from storage.models import Campaign, Unit
from tests.storage.conftest import Backend, backend, survey_file  # noqa: F401  (fixtures)
from tests.storage.test_storage_cli import cli, create_campaign, run  # noqa: F401  (cli is a fixture)

KEY = "693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa"
WEBHOOK = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}"


def stored(backend: Backend) -> tuple[dict[int, str | None], dict[str, str | None]]:
    """Campaign id → its webhook; unit name → its mobile."""

    async def read() -> tuple[dict[int, str | None], dict[str, str | None]]:
        database: Database = backend.open()
        try:
            async with database.read() as session:
                campaigns = dict((await session.execute(select(Campaign.id, Campaign.wecom_group_webhook))).all())
                units = dict((await session.execute(select(Unit.name, Unit.contact_mobile))).all())
                return campaigns, units
        finally:
            await database.dispose()

    return asyncio.run(read())


def test_create__with_a_webhook_stores_it_and_never_prints_the_key(
    cli: Path,
    backend: Backend,
    survey_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(
        capsys,
        "campaign",
        "create",
        "--survey",
        str(survey_file),
        "--title",
        "南通",
        "--deadline",
        "2099-12-15T17:00+08:00",
        "--wecom-group-webhook",
        WEBHOOK,
    )
    assert (code, err) == (0, [])
    campaign_id = int(out[-1])
    assert any(line.startswith("WeCom group digest: robot ") for line in out)
    assert KEY not in "\n".join(out)
    campaigns, _ = stored(backend)
    assert campaigns[campaign_id] == WEBHOOK


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (f"http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}", "must use https"),
        (f"https://evil.example.com/cgi-bin/webhook/send?key={KEY}", "is not WeCom's"),
        ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send", "exactly one key"),
        (f"https://qyapi.weixin.qq.com/cgi-bin/message/send?key={KEY}", "path is not"),
        (f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}&key=other-key-1234", "exactly one key"),
    ],
)
def test_create__a_bad_webhook_is_one_line_exit_2_and_creates_nothing(
    cli: Path,
    backend: Backend,
    survey_file: Path,
    capsys: pytest.CaptureFixture[str],
    url: str,
    says: str,
) -> None:
    code, out, err = run(
        capsys,
        "campaign",
        "create",
        "--survey",
        str(survey_file),
        "--title",
        "南通",
        "--deadline",
        "2099-12-15T17:00+08:00",
        "--wecom-group-webhook",
        url,
    )
    assert (code, out) == (2, [])
    assert len(err) == 1 and "--wecom-group-webhook" in err[0] and says in err[0]
    assert KEY not in err[0]
    assert run(capsys, "campaign", "list")[1] == ["no campaigns yet; create one with surveybot campaign create"]


def test_set__changes_and_clears_the_webhook(
    cli: Path,
    backend: Backend,
    survey_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    campaign_id = create_campaign(capsys, survey_file)
    code, out, err = run(capsys, "campaign", "set", str(campaign_id), "--wecom-group-webhook", WEBHOOK)
    assert (code, err) == (0, []) and KEY not in out[0]
    assert out[0].startswith(f"campaign {campaign_id}: each reminder slot posts a digest to the WeCom group")
    assert stored(backend)[0][campaign_id] == WEBHOOK

    code, out, err = run(capsys, "campaign", "set", str(campaign_id), "--wecom-group-webhook", "none")
    assert (code, out, err) == (0, [f"campaign {campaign_id}: no WeCom group digest any more"], [])
    assert stored(backend)[0][campaign_id] is None

    code, out, err = run(capsys, "campaign", "set", "999", "--wecom-group-webhook", "none")
    assert code == 1 and len(err) == 1 and "999" in err[0]


def test_roster__mobile_numbers_with_or_without_an_email_are_stored_on_the_unit(
    cli: Path,
    backend: Backend,
    survey_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    units = cli.parent / "units.txt"
    units.write_text(
        "崇川区\toffice@chongchuan.example.cn\t138 1234 5678\n"
        "海门区\t+86 139-8765-4321\n"
        "通州区\t\t15012345678\n"
        "如皋市\t市科协（备注）\n"
        "海安市\n",
        encoding="utf-8",
    )
    create_campaign(capsys, survey_file, "--units-file", str(units))
    assert stored(backend)[1] == {
        "崇川区": "13812345678",
        "海门区": "13987654321",
        "通州区": "15012345678",
        "如皋市": None,
        "海安市": None,
    }


def test_roster__a_malformed_mobile_names_the_line(
    cli: Path,
    backend: Backend,
    survey_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    units = cli.parent / "units.txt"
    units.write_text("崇川区\t13812345678\n海门区\t12345678901\n", encoding="utf-8")
    code, out, err = run(
        capsys,
        "campaign",
        "create",
        "--survey",
        str(survey_file),
        "--title",
        "南通",
        "--deadline",
        "2099-12-15T17:00+08:00",
        "--units-file",
        str(units),
    )
    assert code == 1 and out == []
    assert len(err) == 1 and "line 2" in err[0] and "'12345678901' is not a Chinese mobile number" in err[0]


def test_invite__a_units_file_with_mobiles_stores_them(
    cli: Path,
    backend: Backend,
    survey_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    campaign_id = create_campaign(capsys, survey_file)
    units = cli.parent / "units.txt"
    units.write_text("崇川区\t13812345678\n海门区\n", encoding="utf-8")
    code, out, err = run(capsys, "invite", "--campaign", str(campaign_id), "--units-file", str(units))
    assert code == 0, err
    assert stored(backend)[1] == {"崇川区": "13812345678", "海门区": None}
