"""The database-backed commands end to end through ``bot.cli.main``, on every backend."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from storage.invitations import hash_token

DEADLINE = "2099-12-15T17:00+08:00"


@pytest.fixture
def cli(backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    """Environment for the commands: data dir in tmp_path, the backend's database."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("DATABASE_URL", "TELEGRAM_BOT_USERNAME", "ADMIN_IDS", "TIMEZONE", "PUBLIC_URL"):
        monkeypatch.delenv(f"SURVEYBOT_{name}", raising=False)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("SURVEYBOT_DATA_DIR", str(data_dir))
    if backend.name == "postgresql":
        monkeypatch.setenv("SURVEYBOT_DATABASE_URL", backend.url_with_schema)
    yield data_dir


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], list[str]]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


def create_campaign(capsys, survey_file: Path, *extra: str) -> int:  # type: ignore[no-untyped-def]
    code, out, err = run(
        capsys, "campaign", "create", "--survey", str(survey_file), "--title", "南通 中期评估",
        "--deadline", DEADLINE, *extra,
    )
    assert code == 0, err
    return int(out[-1])


def test_campaign_create__prints_the_id_last_and_migrates_a_fresh_database(
    cli: Path, backend, survey_file: Path, capsys  # type: ignore[no-untyped-def]
) -> None:
    units = cli.parent / "units.txt"
    units.write_text("\ufeff# 南通\n崇川区\n海门区\n", encoding="utf-8")

    code, out, err = run(
        capsys, "campaign", "create", "--survey", str(survey_file), "--title", "南通 中期评估",
        "--deadline", DEADLINE, "--remind", "2d,6h", "--units-file", str(units),
    )

    assert (code, err) == (0, [])
    assert out[-1] == "1"
    assert "2d, 6h" in "\n".join(out)
    assert "2 unit(s)" in "\n".join(out)
    if backend.name == "sqlite":
        assert (cli / "surveybot.db").is_file()
    assert create_campaign(capsys, survey_file) == 2


def test_campaign_list__shows_deadline_in_zone_status_and_counts(
    cli: Path, survey_file: Path, capsys  # type: ignore[no-untyped-def]
) -> None:
    campaign = create_campaign(capsys, survey_file, "--timezone", "Asia/Shanghai")
    run(capsys, "invite", "--campaign", str(campaign), "--unit", "崇川区", "--unit", "海门区")

    code, out, _ = run(capsys, "campaign", "list")

    assert code == 0
    assert out[0].split() == ["ID", "TITLE", "DEADLINE", "STATUS", "UNITS", "SUBMITTED"]
    assert out[1].split() == ["1", "南通", "中期评估", "2099-12-15", "17:00", "Asia/Shanghai", "open", "2", "0"]


def test_campaign_close_and_reopen(cli: Path, survey_file: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    campaign = str(create_campaign(capsys, survey_file))
    assert run(capsys, "campaign", "close", campaign)[0] == 0
    assert "closed" in run(capsys, "campaign", "list")[1][1]

    code, _, err = run(capsys, "invite", "--campaign", campaign, "--unit", "崇川区")
    assert code == 1 and "is closed" in err[0]

    code, out, _ = run(capsys, "campaign", "reopen", campaign)
    assert code == 0 and "reopened" in out[0]
    assert run(capsys, "invite", "--campaign", campaign, "--unit", "崇川区")[0] == 0
    code, out, _ = run(capsys, "campaign", "reopen", campaign, "--unit", "崇川区")
    assert code == 0 and "has not submitted" in out[0]


def test_invite__prints_tab_separated_lines_with_deep_links(
    cli: Path, survey_file: Path, capsys, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    campaign = str(create_campaign(capsys, survey_file))
    monkeypatch.setenv("SURVEYBOT_TELEGRAM_BOT_USERNAME", "@nantong_survey_bot")

    code, out, err = run(
        capsys, "invite", "--campaign", campaign, "--unit", "崇川区", "--unit", "海门区", "--expires", "7d"
    )

    assert (code, err) == (0, [])
    assert len(out) == 2
    rows = [line.split("\t") for line in out]
    assert [row[0] for row in rows] == ["崇川区", "海门区"]
    for _name, token, link in rows:
        assert len(token) >= 22
        assert link == f"https://t.me/nantong_survey_bot?start={token}"
    assert rows[0][1] != rows[1][1]


def test_invite__with_a_public_url_the_link_is_the_web_chat_and_telegram_comes_fourth(
    cli: Path, survey_file: Path, capsys, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    campaign = str(create_campaign(capsys, survey_file))
    monkeypatch.setenv("SURVEYBOT_PUBLIC_URL", "https://survey.example.org/")

    code, out, _ = run(capsys, "invite", "--campaign", campaign, "--unit", "崇川区")
    [(name, token, link)] = [line.split("\t") for line in out]
    assert code == 0 and name == "崇川区" and link == f"https://survey.example.org/s/{token}"

    monkeypatch.setenv("SURVEYBOT_TELEGRAM_BOT_USERNAME", "nantong_survey_bot")
    code, out, _ = run(capsys, "invite", "--campaign", campaign, "--unit", "海门区")
    [(name, token, link, telegram)] = [line.split("\t") for line in out]
    assert link == f"https://survey.example.org/s/{token}"
    assert telegram == f"https://t.me/nantong_survey_bot?start={token}"


def test_invite__without_bot_username_the_third_column_is_the_token(
    cli: Path, survey_file: Path, capsys  # type: ignore[no-untyped-def]
) -> None:
    campaign = str(create_campaign(capsys, survey_file))
    units = cli.parent / "units.csv"
    units.write_text("崇川区,张三\n# 注释\n\n如皋市,李四\n", encoding="utf-8")

    code, out, _ = run(capsys, "invite", "--campaign", campaign, "--units-file", str(units), "--per-unit", "2")

    assert code == 0
    rows = [line.split("\t") for line in out]
    assert [row[0] for row in rows] == ["崇川区", "崇川区", "如皋市", "如皋市"]
    assert all(len(row) == 3 and row[1] == row[2] for row in rows)
    assert "2" in run(capsys, "campaign", "list")[1][1].split()  # two units on the roster now


def test_invite__tokens_are_stored_only_hashed(
    cli: Path, backend, survey_file: Path, capsys  # type: ignore[no-untyped-def]
) -> None:
    campaign = str(create_campaign(capsys, survey_file))
    _, out, _ = run(capsys, "invite", "--campaign", campaign, "--unit", "崇川区")
    token = out[0].split("\t")[1]

    async def stored_hashes() -> list[str]:
        from sqlalchemy import select

        from storage.models import Invitation

        database = backend.open()
        try:
            async with database.read() as session:
                return list(await session.scalars(select(Invitation.token_hash)))
        finally:
            await database.dispose()

    assert asyncio.run(stored_hashes()) == [hash_token(token)]


def test_invite_revoke(cli: Path, survey_file: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    campaign = str(create_campaign(capsys, survey_file))
    run(capsys, "invite", "--campaign", campaign, "--unit", "崇川区", "--per-unit", "3")

    code, out, err = run(capsys, "invite", "revoke", "--campaign", campaign, "--unit", "崇川区")

    assert (code, err) == (0, [])
    assert out == ["崇川区\trevoked 3 invitation(s)"]
    code, _, err = run(capsys, "invite", "revoke", "--campaign", campaign, "--unit", "无此单位")
    assert code == 1 and err == [f"surveybot invite: campaign {campaign} has no unit named '无此单位'"]


def test_admin_add_list_remove(cli: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SURVEYBOT_ADMIN_IDS", "777")
    assert run(capsys, "admin", "add", "--telegram-id", "12345")[0] == 0
    code, out, _ = run(capsys, "admin", "add", "--telegram-id", "12345")
    assert code == 0 and "already" in out[0]

    code, out, _ = run(capsys, "admin", "list")
    assert code == 0
    assert [line.split("\t")[:2] for line in out] == [["telegram", "12345"], ["telegram", "777"]]
    assert out[1].endswith("SURVEYBOT_ADMIN_IDS")

    assert run(capsys, "admin", "remove", "--telegram-id", "12345")[0] == 0
    code, _, err = run(capsys, "admin", "remove", "--telegram-id", "12345")
    assert code == 1 and err == ["surveybot admin: Telegram account 12345 is not a coordinator"]
    code, _, err = run(capsys, "admin", "remove", "--telegram-id", "777")
    assert code == 1 and "SURVEYBOT_ADMIN_IDS" in err[0]


def test_admin_with_channel_and_id__stores_accounts_of_any_channel(cli: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "admin", "add", "--channel", "telegram", "--id", "12345")
    assert code == 0 and out == ["Telegram account 12345 is now a coordinator"]
    code, out, _ = run(capsys, "admin", "add", "--telegram-id", "12345")  # the alias names the same account
    assert code == 0 and "already" in out[0]
    code, out, _ = run(capsys, "admin", "add", "--channel", "wecom", "--id", "ZhangWei")
    assert code == 0 and out == ["WeCom account ZhangWei is now a coordinator"]
    assert run(capsys, "admin", "add", "--channel", "web", "--id", "coordinator@nantong")[0] == 0

    code, out, _ = run(capsys, "admin", "list")
    assert [line.split("\t")[:2] for line in out] == [
        ["telegram", "12345"], ["web", "coordinator@nantong"], ["wecom", "ZhangWei"]
    ]

    code, out, _ = run(capsys, "admin", "remove", "--channel", "wecom", "--id", "ZhangWei")
    assert code == 0 and out == ["WeCom account ZhangWei is no longer a coordinator"]
    code, _, err = run(capsys, "admin", "remove", "--channel", "wecom", "--id", "ZhangWei")
    assert code == 1 and err == ["surveybot admin: WeCom account ZhangWei is not a coordinator"]
    assert [line.split("\t")[0] for line in run(capsys, "admin", "list")[1]] == ["telegram", "web"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--channel", "telegram", "--id", "@wangfang"], "a Telegram account id is a positive number"),
        (["--channel", "telegram", "--id", "-5"], "a Telegram account id is a positive number"),
        (["--telegram-id", "abc"], "--telegram-id 'abc': a Telegram account id is a positive number"),
        (["--channel", "wechat", "--id", "x"], "--channel 'wechat': unknown channel; use one of telegram, wecom, web"),
        (["--channel", "terminal", "--id", "x"], "unknown channel"),
        (["--channel", "wecom"], "--id is missing"),
        (["--id", "12345"], "--channel is missing"),
        ([], "--channel is missing"),
        (["--channel", "wecom", "--id", "  "], "--id is empty"),
        (["--channel", "web", "--id", "x" * 129], "at most 128 characters"),
        (["--telegram-id", "1", "--channel", "telegram"], "give one or the other"),
    ],
)
@pytest.mark.parametrize("action", ["add", "remove"])
def test_admin_bad_account__one_line_and_exit_code_2(  # type: ignore[no-untyped-def]
    cli: Path, capsys, action: str, argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "admin", action, *argv)
    assert (code, out) == (2, [])
    assert len(err) == 1 and err[0].startswith("surveybot admin: ") and message in err[0]


def test_db_upgrade_and_current(cli: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from storage.migrate import head_revision

    head = head_revision()
    code, out, _ = run(capsys, "db", "current")
    assert code == 0 and out[0].startswith("none (empty database")
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and f"upgraded from an empty database to revision {head}" in out[0]
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and f"already at revision {head}" in out[0]
    assert run(capsys, "db", "current")[1] == [f"{head} (newest)"]


def test_newer_database__every_command_refuses_it(
    cli: Path, backend, capsys  # type: ignore[no-untyped-def]
) -> None:
    assert run(capsys, "db", "upgrade")[0] == 0

    async def pretend_newer() -> None:
        from sqlalchemy import text

        database = backend.open()
        try:
            async with database.transaction() as session:
                await session.execute(text("UPDATE alembic_version SET version_num = '0099'"))
        finally:
            await database.dispose()

    asyncio.run(pretend_newer())
    expected = "the database was written by a newer surveybot (revision 0099); upgrade surveybot"
    for argv in (["campaign", "list"], ["db", "current"], ["db", "upgrade"], ["admin", "list"]):
        code, out, err = run(capsys, *argv)
        assert (code, out) == (2, [])
        assert err == [f"surveybot {argv[0]}: {expected}"]


@pytest.mark.parametrize(
    ("argv", "exit_code", "message"),
    [
        (["--deadline", "2099-12-15T17:00"], 2, "has no time zone"),
        (["--deadline", "2020-12-15T17:00+08:00"], 1, "the deadline is in the past"),
        (["--deadline", "next friday"], 2, "not a date and time"),
        (["--remind", "3d,1x"], 2, "--remind '1x': expected a duration"),
        (["--remind", "1d,24h"], 2, "given twice"),
        (["--timezone", "Mars/Base"], 2, "unknown time zone"),
        (["--survey", "missing.yaml"], 1, "file not found"),
        (["--units-file", "missing.txt"], 1, "missing.txt: file not found"),
    ],
)
def test_campaign_create__errors_are_one_line_with_an_exit_code(
    cli: Path, survey_file: Path, capsys, argv: list[str], exit_code: int, message: str  # type: ignore[no-untyped-def]
) -> None:
    options = {"--survey": str(survey_file), "--title": "T", "--deadline": DEADLINE}
    extra: list[str] = []
    for flag, value in zip(argv[::2], argv[1::2], strict=True):
        if flag in options:
            options[flag] = value
        else:
            extra += [flag, value]
    flat = [part for pair in options.items() for part in pair]

    code, out, err = run(capsys, "campaign", "create", *flat, *extra)

    assert code == exit_code
    assert out == []
    assert len(err) == 1 and err[0].startswith("surveybot campaign: ")
    assert message in err[0]


def test_campaign_create__duplicate_unit_in_units_file(cli: Path, survey_file: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    units = cli.parent / "units.txt"
    units.write_text("崇川区\n海门区\n崇川区\n", encoding="utf-8")
    code, out, err = run(
        capsys, "campaign", "create", "--survey", str(survey_file), "--title", "T",
        "--deadline", DEADLINE, "--units-file", str(units),
    )
    assert (code, out) == (1, [])
    assert err == [f"surveybot campaign: {units}: line 3: unit '崇川区' is already on line 1"]


def test_campaign_create__invalid_survey_lists_its_problems(cli: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = cli.parent / "bad.yaml"
    bad.write_text("id: x\n", encoding="utf-8")
    code, out, err = run(
        capsys, "campaign", "create", "--survey", str(bad), "--title", "T", "--deadline", DEADLINE
    )
    assert (code, out) == (1, [])
    assert err and err[0].startswith(f"surveybot campaign: {bad}")
    assert "Traceback" not in "\n".join(err)


@pytest.mark.parametrize(
    "argv",
    [
        ["campaign", "close", "99"],
        ["campaign", "reopen", "99"],
        ["invite", "--campaign", "99", "--unit", "崇川区"],
        ["invite", "revoke", "--campaign", "99", "--unit", "崇川区"],
    ],
)
def test_unknown_campaign__is_one_line_exit_1(cli: Path, capsys, argv: list[str]) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, *argv)
    assert (code, out) == (1, [])
    assert err == [f"surveybot {argv[0]}: no campaign with id 99; `surveybot campaign list` shows them"]


def test_invite__usage_errors(cli: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(capsys, "invite", "--unit", "崇川区")
    assert code == 2 and err == ["surveybot invite: --campaign ID is required"]
    code, _, err = run(capsys, "invite", "--campaign", "1")
    assert code == 2 and "--unit NAME" in err[0]
    code, _, err = run(capsys, "invite", "--campaign", "1", "--unit", "a", "--expires", "soon")
    assert code == 2 and "--expires 'soon'" in err[0]


def test_unreachable_database__is_one_line_naming_the_url_without_password(
    cli: Path, capsys, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("SURVEYBOT_DATABASE_URL", "postgresql+asyncpg://bot:hunter2@127.0.0.1:1/surveybot")
    code, out, err = run(capsys, "campaign", "list")
    assert (code, out) == (2, [])
    assert len(err) == 1
    assert err[0].startswith(
        "surveybot campaign: cannot open the database postgresql+asyncpg://bot:***@127.0.0.1:1/surveybot: "
    )
    assert "hunter2" not in err[0]


HUGE_ID = "9223372036854775808"  # 2**63: beyond any row id


@pytest.mark.parametrize(
    "argv",
    [
        ("export", "--campaign", HUGE_ID),
        ("campaign", "close", HUGE_ID),
        ("invite", "revoke", "--campaign", HUGE_ID, "--unit", "崇川区"),
        ("remind", "--campaign", HUGE_ID, "--dry-run"),
    ],
    ids=["export", "campaign-close", "invite-revoke", "remind"],
)
def test_an_id_beyond_any_row__is_one_clear_line_and_exit_2(
    cli: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    with pytest.raises(SystemExit) as exit_info:  # argparse refuses it as bad usage
        main(list(argv))
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert f"{HUGE_ID!r} is not an id: ids go from 1 to 9223372036854775807" in err
    assert "Traceback" not in err and "internal error" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ("campaign", "create", "--title", "t", "--deadline", DEADLINE, "--remind", "99999999999999w"),
        ("invite", "--campaign", "1", "--unit", "崇川区", "--expires", "99999999999999w"),
    ],
    ids=["remind", "expires"],
)
def test_a_duration_beyond_any_date__is_one_clear_line_and_exit_2(
    cli: Path, survey_file: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    if argv[0] == "campaign":
        argv = (*argv, "--survey", str(survey_file))
    else:
        create_campaign(capsys, survey_file)
    option = "--remind" if "--remind" in argv else "--expires"
    code, _, err = run(capsys, *argv)
    assert (code, err) == (2, [f"surveybot {argv[0]}: {option} '99999999999999w': at most 3660d (ten years)"])


def email_contacts(backend) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(unit name, address) of every e-mail respondent bound to a unit, by unit then address."""

    async def read() -> list[tuple[str, str]]:
        from sqlalchemy import select

        from storage.models import Respondent, RespondentUnit, Unit

        database = backend.open()
        try:
            async with database.read() as session:
                rows = await session.execute(
                    select(Unit.name, Respondent.external_id)
                    .join(RespondentUnit, RespondentUnit.unit_id == Unit.id)
                    .join(Respondent, Respondent.id == RespondentUnit.respondent_id)
                    .where(Respondent.channel == "email")
                    .order_by(Unit.position, Respondent.external_id)
                )
                return [(name, address) for name, address in rows]
        finally:
            await database.dispose()

    return asyncio.run(read())


def test_campaign_create__a_units_file_line_name_tab_email_binds_the_units_contact_email(
    cli: Path, backend, survey_file: Path, capsys  # type: ignore[no-untyped-def]
) -> None:
    units = cli.parent / "units.txt"
    units.write_text("# 单位\t邮箱\n崇川区\tWangFang@Chongchuan.example.cn\n海门区\n如皋市\tligang@rugao.example.cn\n", encoding="utf-8")

    code, out, err = run(
        capsys, "campaign", "create", "--survey", str(survey_file), "--title", "南通 中期评估",
        "--deadline", DEADLINE, "--units-file", str(units),
    )

    assert (code, err) == (0, [])
    assert "3 unit(s)" in "\n".join(out) and "2 with a contact e-mail" in "\n".join(out)
    assert email_contacts(backend) == [
        ("崇川区", "wangfang@chongchuan.example.cn"),
        ("如皋市", "ligang@rugao.example.cn"),
    ]


def test_invite__email_gives_one_units_contact_and_a_units_file_gives_several(
    cli: Path, backend, survey_file: Path, capsys  # type: ignore[no-untyped-def]
) -> None:
    campaign = str(create_campaign(capsys, survey_file))
    units = cli.parent / "units.txt"
    units.write_text("海门区\tzhangwei@haimen.example.cn\n启东市\n", encoding="utf-8")

    code, out, _ = run(capsys, "invite", "--campaign", campaign, "--unit", "崇川区", "--email", " Chen@Chongchuan.example.cn ")
    assert code == 0 and [line.split("\t")[0] for line in out] == ["崇川区"]
    code, out, _ = run(capsys, "invite", "--campaign", campaign, "--units-file", str(units))
    assert code == 0 and [line.split("\t")[0] for line in out] == ["海门区", "启东市"]
    # Inviting again binds nothing twice.
    assert run(capsys, "invite", "--campaign", campaign, "--unit", "崇川区", "--email", "chen@chongchuan.example.cn")[0] == 0

    assert email_contacts(backend) == [
        ("崇川区", "chen@chongchuan.example.cn"),
        ("海门区", "zhangwei@haimen.example.cn"),
    ]


@pytest.mark.parametrize(
    ("argv", "units_text", "exit_code", "message"),
    [
        (["--unit", "崇川区", "--email", "wang@"], None, 1, "--email: 'wang@' is not an e-mail address"),
        (["--unit", "崇川区", "--unit", "海门区", "--email", "a@b.cn"], None, 2, "--email gives the contact of one unit"),
        (["--units-file", "{units}"], "崇川区\ta@b.cn\n海门区\twang fang@haimen.cn\n", 1,
         "line 2: 'wang fang@haimen.cn' is not an e-mail address"),
    ],
)
def test_invite__a_bad_email_is_one_line_naming_where_and_nothing_is_stored(
    cli: Path, backend, survey_file: Path, capsys, argv: list[str], units_text: str | None, exit_code: int, message: str  # type: ignore[no-untyped-def]
) -> None:
    campaign = str(create_campaign(capsys, survey_file))
    units = cli.parent / "units.txt"
    if units_text is not None:
        units.write_text(units_text, encoding="utf-8")

    code, out, err = run(capsys, "invite", "--campaign", campaign, *[arg.format(units=units) for arg in argv])

    assert (code, out) == (exit_code, [])
    assert len(err) == 1 and message in err[0], err
    assert email_contacts(backend) == []
