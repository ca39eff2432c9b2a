"""Creating a campaign from the console, and closing, reopening and moving its deadline.

Everything through the real site (aiohttp's test client on the root ``surveybot
run`` serves), the real database, and what a coordinator and a respondent see.
"""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.reminder_scheduler import ReminderScheduler
from storage.models import Campaign, CampaignStatus, OutboxBatch, Respondent, RespondentUnit, Unit
from tests.console.conftest import ConsoleWorld
from tests.xlsform.xlsform_forms import write_workbook

ROOT = Path(__file__).resolve().parents[2]
NANTONG_YAML = ROOT / "surveys" / "nantong-midterm-2023.yaml"
ROSTER = "崇川区科协\tcc@example.cn\n海门区科协, hm@example.cn\n如东县科协 rd@example.cn\n# a comment\n\n启东市科协\n"


@pytest.fixture(autouse=True)
def _in_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped surveys are ``surveys/`` (SURVEYBOT_SURVEYS_DIR's default) of the checkout."""
    monkeypatch.chdir(ROOT)


def create_form(csrf: str, **fields: str) -> dict[str, str]:
    values = {
        "csrf": csrf,
        "survey_source": "shipped",
        "shipped": "nantong-midterm-2023.yaml",
        "title": "南通 2024 年度评估",
        "deadline": "2026-12-20T17:00",
        "timezone": "Asia/Shanghai",
        "roster": ROSTER,
        "remind": "2d, 6h",
        "previous": "",
    }
    values.update(fields)
    return values


async def post_create(
    console: ConsoleWorld, fields: dict[str, str], *, file: tuple[str, bytes] | None = None, lang: str = "zh"
) -> aiohttp.ClientResponse:
    """The create form as a browser sends it: multipart, with or without a chosen file."""
    form = aiohttp.FormData(default_to_multipart=True)
    for name, value in fields.items():
        form.add_field(name, value)
    if file is not None:
        form.add_field("survey_file", file[1], filename=file[0], content_type="application/octet-stream")
    else:
        form.add_field("survey_file", b"", filename="", content_type="application/octet-stream")
    return await console.client.post(f"/admin/campaigns/new?lang={lang}", data=form, allow_redirects=False)


async def campaigns(console: ConsoleWorld) -> list[Campaign]:
    async with console.database.read() as session:
        return list(await session.scalars(select(Campaign).order_by(Campaign.id)))


async def roster_of(console: ConsoleWorld, campaign_id: int) -> list[tuple[str, str | None]]:
    """The units in roster order, each with its contact e-mail (or None)."""
    async with console.database.read() as session:
        units = list(await session.scalars(select(Unit).where(Unit.campaign_id == campaign_id).order_by(Unit.position)))
        emails = dict(
            (
                await session.execute(
                    select(RespondentUnit.unit_id, Respondent.external_id)
                    .join(Respondent, Respondent.id == RespondentUnit.respondent_id)
                    .where(Respondent.channel == "email", RespondentUnit.unit_id.in_([unit.id for unit in units]))
                )
            ).all()
        )
    return [(unit.name, emails.get(unit.id)) for unit in units]


def created_id(response: aiohttp.ClientResponse) -> int:
    assert response.status == 303, response.status
    match = re.fullmatch(r"/admin/campaigns/(\d+)", response.headers["Location"])
    assert match is not None, response.headers["Location"]
    return int(match.group(1))


def page_text(body: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


# -- creating ---------------------------------------------------------------------------


async def test_create__with_a_shipped_survey_stores_roster_emails_reminders_and_previous(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    form_page = await console.client.get("/admin/campaigns/new")
    body = await form_page.text()
    assert form_page.status == 200
    assert "nantong-midterm-2023.yaml" in body and "UTC+08:00" in body
    assert "<script" not in body and "style=" not in body

    response = await post_create(console, create_form(csrf, previous=str(console.campaign_id)))

    campaign_id = created_id(response)
    (created,) = [campaign for campaign in await campaigns(console) if campaign.id == campaign_id]
    assert created.title == "南通 2024 年度评估"
    assert created.deadline == datetime(2026, 12, 20, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai
    assert created.timezone == "Asia/Shanghai"
    assert created.reminder_offsets == [2 * 86400, 6 * 3600]
    assert created.previous_campaign_id == console.campaign_id
    assert await roster_of(console, campaign_id) == [
        ("崇川区科协", "cc@example.cn"),
        ("海门区科协", "hm@example.cn"),
        ("如东县科协", "rd@example.cn"),
        ("启东市科协", None),
    ]
    page = page_text(await (await console.client.get(response.headers["Location"])).text())
    assert "南通 2024 年度评估" in page and "启东市科协" in page and "2026-12-20 17:00" in page


async def test_create__with_an_uploaded_yaml(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    response = await post_create(
        console,
        create_form(csrf, survey_source="upload", roster="甲单位\n乙单位", remind="none"),
        file=("my-survey.yaml", NANTONG_YAML.read_bytes()),
    )
    campaign_id = created_id(response)
    (created,) = [campaign for campaign in await campaigns(console) if campaign.id == campaign_id]
    assert created.reminder_offsets == []
    assert [name for name, _ in await roster_of(console, campaign_id)] == ["甲单位", "乙单位"]


async def test_create__with_an_uploaded_xlsform_written_by_openpyxl(console: ConsoleWorld, tmp_path: Path) -> None:
    path = write_workbook(
        tmp_path / "members.xlsx",
        {
            "survey": [
                ["type", "name", "label::Chinese (zh)", "label::English (en)"],
                ["integer", "members", "会员人数", "Members"],
                ["text", "remarks", "备注", "Remarks"],
            ],
            "settings": [
                ["form_title", "form_id", "version", "default_language"],
                ["会员统计", "member-count", "3", "Chinese (zh)"],
            ],
        },
    )
    csrf = await console.sign_in()
    response = await post_create(
        console, create_form(csrf, survey_source="upload", title="会员统计 2026"), file=("members.xlsx", path.read_bytes())
    )
    campaign_id = created_id(response)
    page = page_text(await (await console.client.get(f"/admin/campaigns/{campaign_id}")).text())
    assert "member-count" in page and "会员统计 2026" in page


async def test_create__an_invalid_survey_shows_the_validate_messages_and_keeps_the_form(
    console: ConsoleWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = NANTONG_YAML.read_text(encoding="utf-8").replace("type: integer", "type: integr", 1)
    (tmp_path / "broken.yaml").write_text(broken, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "broken.yaml"]) == 1
    printed = capsys.readouterr().err.splitlines()
    assert printed
    monkeypatch.chdir(ROOT)
    csrf = await console.sign_in()
    before = len(await campaigns(console))

    response = await post_create(
        console, create_form(csrf, survey_source="upload", title="保留的标题"), file=("broken.yaml", broken.encode())
    )

    body = await response.text()
    assert response.status == 200
    shown = html.unescape(body)
    for line in printed:
        assert line in shown
    assert 'value="保留的标题"' in body and "海门区科协, hm@example.cn" in shown  # what was typed is kept
    assert re.search(r'id="survey_file"[^>]*aria-describedby="hint-survey error-survey"', body)
    assert len(await campaigns(console)) == before


async def test_create__bad_roster_lines_are_named_and_nothing_is_created(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    before = len(await campaigns(console))
    roster = "甲单位\n乙单位\tyi@\n甲单位\n丙单位 bing@example.cn"

    zh = await post_create(console, create_form(csrf, roster=roster))
    en = await post_create(console, create_form(csrf, roster=roster), lang="en")

    zh_text, en_text = page_text(await zh.text()), page_text(await en.text())
    assert zh.status == 200 and en.status == 200
    assert "第 2 行：“yi@”不是电子邮件地址" in zh_text
    assert "第 3 行：单位“甲单位”已在第 1 行列出" in zh_text
    assert "Line 2: “yi@” is not an e-mail address" in en_text
    assert "Line 3: unit “甲单位” is already on line 1" in en_text
    assert re.search(r'id="roster"[^>]*aria-describedby="hint-roster error-roster"[^>]*aria-invalid="true"', await zh.text())
    assert len(await campaigns(console)) == before


async def test_create__bad_title_deadline_and_reminders_are_shown_beside_their_fields(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    response = await post_create(
        console, create_form(csrf, title="  ", deadline="2026-11-20T17:00", remind="3x", roster="甲\n甲"), lang="en"
    )
    text = page_text(await response.text())
    assert response.status == 200
    assert "Enter a title." in text  # every problem at once
    assert "The deadline is in the past" in text
    assert "“3x” is not a time before the deadline" in text
    assert "Line 2: unit “甲” is already on line 1" in text
    assert len(await campaigns(console)) == 1


async def test_create__a_program_or_a_huge_file_is_refused_by_content_and_size(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    program = await post_create(
        console, create_form(csrf, survey_source="upload"), file=("survey.yaml", b"MZ\x90\x00" + b"\x00" * 200), lang="en"
    )
    assert program.status == 200
    assert "survey.yaml is a program, not a survey file" in page_text(await program.text())
    huge = await post_create(
        console, create_form(csrf, survey_source="upload"), file=("form.xlsx", b"PK\x03\x04" + b"0" * (2 * 1024 * 1024))
    )
    assert huge.status == 200
    assert "文件超过 2 MB" in page_text(await huge.text())


async def test_create__a_valid_upload_is_kept_while_another_field_is_corrected(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    first = await post_create(
        console, create_form(csrf, survey_source="upload", title=""), file=("kept.yaml", NANTONG_YAML.read_bytes())
    )
    token = re.search(r'name="upload_token" value="([^"]+)"', await first.text())
    assert first.status == 200 and token is not None
    second = await post_create(console, create_form(csrf, survey_source="upload", upload_token=token.group(1)))
    assert second.status == 303


# -- close, reopen, move the deadline ---------------------------------------------------


async def respondent_state(console: ConsoleWorld, unit: str) -> dict[str, Any]:
    response = await console.client.get(f"/s/{console.tokens[unit]}/state")
    assert response.status == 200
    return await response.json()  # type: ignore[no-any-return]


async def respondent_answers(console: ConsoleWorld, unit: str, text: str) -> dict[str, Any]:
    """The respondent types ``text`` at the current question (the first action binds the link)."""
    state = await respondent_state(console, unit)
    body = {"key": uuid.uuid4().hex, "position": state["position"], "language": "zh", "action": {"type": "text", "text": text}}
    response = await console.client.post(f"/s/{console.tokens[unit]}/action", json=body)
    assert response.status == 200, await response.text()
    return await response.json()  # type: ignore[no-any-return]


async def test_close_and_reopen__the_page_and_the_respondent_see_the_state(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    unit = next(iter(console.tokens))
    assert (await respondent_answers(console, unit, "张三"))["read_only"] is False

    closed = await console.client.post(
        f"/admin/campaigns/{console.campaign_id}/close", data={"csrf": csrf}, allow_redirects=False
    )
    assert closed.status == 303
    page = page_text(await (await console.client.get(f"/admin/campaigns/{console.campaign_id}")).text())
    assert "重新开放活动" in page
    assert (await respondent_state(console, unit))["read_only"] is True
    assert (await respondent_answers(console, unit, "李四"))["read_only"] is True

    reopened = await console.client.post(
        f"/admin/campaigns/{console.campaign_id}/reopen", data={"csrf": csrf}, allow_redirects=False
    )
    assert reopened.status == 303
    page = page_text(await (await console.client.get(f"/admin/campaigns/{console.campaign_id}?lang=en")).text())
    assert "Close the campaign" in page
    assert (await respondent_state(console, unit))["read_only"] is False


async def test_move_deadline__future_reminders_move_and_a_sent_one_is_never_sent_again(console: ConsoleWorld) -> None:
    """Deadline 15 Dec 17:00 Shanghai; reminders 3d, 1d, 2h. The 3d one goes out, then the deadline moves an hour."""
    scheduler = ReminderScheduler(database=console.database, clock=console.clock)
    console.clock.now = datetime(2026, 12, 12, 9, 30, tzinfo=UTC)
    (sent,) = await scheduler.tick()
    csrf = await console.sign_in()
    assert sent.slot.key == "reminder@2026-12-12T09:00:00Z"

    moved = await console.client.post(
        f"/admin/campaigns/{console.campaign_id}/deadline",
        data={"csrf": csrf, "deadline": "2026-12-15T18:00"},
        allow_redirects=False,
    )
    assert moved.status == 303
    page = page_text(await (await console.client.get(f"/admin/campaigns/{console.campaign_id}")).text())
    assert "2026-12-15 18:00" in page

    console.clock.now = datetime(2026, 12, 12, 10, 30, tzinfo=UTC)  # the 3d slot of the new deadline has come
    assert await scheduler.tick() == []
    console.clock.now = datetime(2026, 12, 14, 9, 30, tzinfo=UTC)  # the old 1d slot: moved away
    assert await scheduler.tick() == []
    console.clock.now = datetime(2026, 12, 14, 10, 5, tzinfo=UTC)
    (second,) = await scheduler.tick()
    assert second.slot.key == "reminder@2026-12-14T10:00:00Z"
    async with console.database.read() as session:
        keys = list(await session.scalars(select(OutboxBatch.key).where(OutboxBatch.campaign_id == console.campaign_id)))
    assert sorted(keys) == ["reminder@2026-12-12T09:00:00Z", "reminder@2026-12-14T10:00:00Z"]


async def test_move_deadline__later_after_it_passed_lets_respondents_answer_again(console: ConsoleWorld) -> None:
    unit = next(iter(console.tokens))
    await respondent_answers(console, unit, "张三")
    console.clock.now = datetime(2026, 12, 16, 1, 0, tzinfo=UTC)
    csrf = await console.sign_in()
    assert (await respondent_state(console, unit))["read_only"] is True
    await console.client.post(
        f"/admin/campaigns/{console.campaign_id}/deadline", data={"csrf": csrf, "deadline": "2026-12-22T17:00"}
    )
    assert (await respondent_state(console, unit))["read_only"] is False


async def test_move_deadline__into_the_past_is_refused_and_nothing_changes(console: ConsoleWorld) -> None:
    csrf = await console.sign_in()
    response = await console.client.post(
        f"/admin/campaigns/{console.campaign_id}/deadline?lang=en", data={"csrf": csrf, "deadline": "2026-11-30T09:00"}
    )
    body = await response.text()
    assert response.status == 200
    assert "The deadline is in the past" in page_text(body)
    assert re.search(r'aria-describedby="hint-new-deadline error-new-deadline"', body)
    (campaign,) = await campaigns(console)
    assert campaign.deadline == datetime(2026, 12, 15, 9, 0, tzinfo=UTC)


# -- refusals ---------------------------------------------------------------------------


async def test_setup_pages__refuse_without_a_session(console: ConsoleWorld) -> None:
    paths = ["new", f"{console.campaign_id}/close", f"{console.campaign_id}/reopen", f"{console.campaign_id}/deadline"]
    for path in paths:
        posted = await console.client.post(f"/admin/campaigns/{path}", data={"csrf": "x"}, allow_redirects=False)
        assert (posted.status, posted.headers.get("Location")) == (303, "/admin/sign-in"), path
    for path in ("new", f"{console.campaign_id}/deadline", "999999/deadline"):
        got = await console.client.get(f"/admin/campaigns/{path}", allow_redirects=False)
        assert (got.status, got.headers.get("Location")) == (303, "/admin/sign-in"), path
    (campaign,) = await campaigns(console)
    assert campaign.status is CampaignStatus.OPEN


async def test_setup_actions__refuse_without_a_valid_csrf_token_and_change_nothing(console: ConsoleWorld) -> None:
    await console.sign_in()
    for token in ("", "forged"):
        created = await post_create(console, create_form(token))
        assert created.status == 403
        for action, data in (("close", {}), ("deadline", {"deadline": "2026-12-20T17:00"})):
            response = await console.client.post(
                f"/admin/campaigns/{console.campaign_id}/{action}", data={"csrf": token, **data}, allow_redirects=False
            )
            assert response.status == 403, action
    for body, content_type in ((b"x", "text/plain"), (b"--x\r\n", "multipart/form-data")):  # no form at all
        odd = await console.client.post(
            "/admin/campaigns/new", data=body, headers={"Content-Type": content_type}, allow_redirects=False
        )
        assert odd.status == 403, content_type
    async with console.database.read() as session:
        assert await session.scalar(select(func.count(Campaign.id))) == 1
    (campaign,) = await campaigns(console)
    assert campaign.status is CampaignStatus.OPEN
    assert campaign.deadline == datetime(2026, 12, 15, 9, 0, tzinfo=UTC)


async def test_setup_pages__speak_english_too(console: ConsoleWorld) -> None:
    await console.sign_in()
    english = page_text(await (await console.client.get("/admin/campaigns/new?lang=en")).text())
    chinese = page_text(await (await console.client.get("/admin/campaigns/new?lang=zh")).text())
    assert "New campaign" in english and "Roster" in english and "Create campaign" in english
    assert "新建活动" in chinese and "名单" in chinese and "创建活动" in chinese


# -- the CLI, on the same service -------------------------------------------------------


def test_cli_campaign_deadline__moves_it_and_lists_the_reminders_to_come(
    backend,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SURVEYBOT_DATA_DIR", str(tmp_path / "data"))
    for name in ("DATABASE_URL", "TIMEZONE"):
        monkeypatch.delenv(f"SURVEYBOT_{name}", raising=False)
    if backend.name == "postgresql":
        monkeypatch.setenv("SURVEYBOT_DATABASE_URL", backend.url_with_schema)
    future = datetime.now(UTC).year + 1
    assert (
        main(["campaign", "create", "--survey", str(NANTONG_YAML), "--title", "T", "--deadline", f"{future}-06-01T17:00+08:00"])
        == 0
    )
    campaign_id = capsys.readouterr().out.splitlines()[-1]

    assert main(["campaign", "deadline", campaign_id, f"{future}-06-08T17:00+08:00"]) == 0
    out = capsys.readouterr().out
    assert f"deadline moved from {future}-06-01 17:00 Asia/Shanghai to {future}-06-08 17:00 Asia/Shanghai" in out
    assert f"reminders to come: {future}-06-05 17:00, {future}-06-07 17:00, {future}-06-08 15:00 (Asia/Shanghai)" in out

    assert main(["campaign", "deadline", campaign_id, "2020-01-01T17:00+08:00"]) != 0
    assert "the deadline is in the past" in capsys.readouterr().err
