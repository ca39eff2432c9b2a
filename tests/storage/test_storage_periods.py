"""``campaign create --previous``: linking a campaign to last period's, through ``bot.cli.main``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storage.database import Database
from storage.models import Campaign
from tests.storage.test_storage_cli import DEADLINE, cli, create_campaign, run  # noqa: F401  (cli is a fixture)

NEXT_YEAR_YAML = """\
id: storage-test
version: "2"
title: {zh: 存储测试, en: Storage test}
languages: [zh, en]
sections:
  - id: basic
    title: {zh: 基本信息, en: Basic information}
    questions:
      - id: unit
        type: integer
        label: {zh: 填报单位编号, en: Reporting unit number}
      - id: q1_members
        type: integer
        label: {zh: 成员单位数, en: Member units}
      - id: q2_new
        type: text
        label: {zh: 新问题, en: New question}
"""

UNRELATED_YAML = """\
id: another
version: "1"
title: 另一个
languages: [zh]
sections:
  - id: main
    title: 主要
    questions:
      - id: other_question
        type: text
        label: 别的
"""


def previous_links(backend) -> dict[int, int | None]:  # type: ignore[no-untyped-def]
    """Campaign id → the campaign it is linked to, as stored."""

    async def read() -> dict[int, int | None]:
        from sqlalchemy import select

        database: Database = backend.open()
        try:
            async with database.read() as session:
                rows = await session.execute(select(Campaign.id, Campaign.previous_campaign_id).order_by(Campaign.id))
                return {campaign_id: previous for campaign_id, previous in rows}
        finally:
            await database.dispose()

    return asyncio.run(read())


def test_previous__links_and_lists_each_mismatch_on_stderr(
    cli: Path, backend, survey_file: Path, capsys: pytest.CaptureFixture[str]  # type: ignore[no-untyped-def]  # noqa: F811
) -> None:
    first = create_campaign(capsys, survey_file)
    next_year = cli.parent / "next-year.yaml"
    next_year.write_text(NEXT_YEAR_YAML, encoding="utf-8")

    code, out, err = run(
        capsys, "campaign", "create", "--survey", str(next_year), "--title", "南通 2027",
        "--deadline", DEADLINE, "--previous", str(first),
    )

    assert code == 0
    assert err == [
        f"surveybot campaign: --previous {first}: question unit: integer now but text last period; "
        "it is asked without a default",
        f"surveybot campaign: --previous {first}: question q2_new: new this period; it is asked without a default",
    ]
    assert f"previous period: campaign {first} '南通 中期评估'; units matched by name" in out
    second = int(out[-1])
    assert previous_links(backend) == {first: None, second: first}


def test_previous__a_survey_with_nothing_in_common_is_refused(
    cli: Path, backend, survey_file: Path, capsys: pytest.CaptureFixture[str]  # type: ignore[no-untyped-def]  # noqa: F811
) -> None:
    first = create_campaign(capsys, survey_file)
    unrelated = cli.parent / "unrelated.yaml"
    unrelated.write_text(UNRELATED_YAML, encoding="utf-8")

    code, out, err = run(
        capsys, "campaign", "create", "--survey", str(unrelated), "--title", "别的",
        "--deadline", DEADLINE, "--previous", str(first),
    )

    assert code == 1
    assert len(err) == 1
    assert err[0].startswith(f"surveybot campaign: --previous {first}: no question of this survey is asked")
    assert "leave out --previous" in err[0]
    assert previous_links(backend) == {first: None}  # nothing created


def test_previous__an_unknown_campaign_is_refused(
    cli: Path, backend, survey_file: Path, capsys: pytest.CaptureFixture[str]  # type: ignore[no-untyped-def]  # noqa: F811
) -> None:
    code, _, err = run(
        capsys, "campaign", "create", "--survey", str(survey_file), "--title", "南通",
        "--deadline", DEADLINE, "--previous", "41",
    )

    assert code == 1
    assert err == ["surveybot campaign: --previous 41: no campaign with id 41; `surveybot campaign list` shows them"]
    assert previous_links(backend) == {}
