"""Who may answer: binding by the invitation token or by `invite --wecom-user`, strangers, and coordinators' commands."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.cli import main
from storage.models import OutboxMessage, Respondent, RespondentUnit
from tests.storage.conftest import Backend
from tests.wecom.conftest import COORDINATOR, PUBLIC_URL, WeComWorld

USER = "chenjing"


async def bound_units(world: WeComWorld, user: str) -> list[int]:
    async with world.database.read() as session:
        respondent = await session.scalar(select(Respondent).where(Respondent.channel == "wecom", Respondent.external_id == user))
        if respondent is None:
            return []
        return list(
            (await session.scalars(select(RespondentUnit.unit_id).where(RespondentUnit.respondent_id == respondent.id))).all()
        )


async def test_stranger__is_told_to_ask_the_coordinator_and_bound_to_nothing(world: WeComWorld) -> None:
    await world.send(USER, "你好，我要填报")
    assert "请向协调人索取邀请码" in world.last_text(USER)
    await world.send(USER, "A" * 22)  # token-shaped, but no such invitation
    assert "邀请码无效" in world.last_text(USER)
    assert await bound_units(world, USER) == []


async def test_binding_by_token_after_bind_word__then_a_token_shaped_answer_stays_an_answer(world: WeComWorld) -> None:
    await world.send(USER, "绑定")
    assert "绑定" in world.last_text(USER) and "邀请码" in world.last_text(USER)
    await world.send(USER, f"绑定 {world.tokens['通州区']}")
    assert "填报单位：通州区" in "\n".join(world.texts(USER)[-2:]) and "第 1/" in world.last_text(USER)
    assert len(await bound_units(world, USER)) == 1
    await world.send(USER, "ABCDEFGHIJKLMNOPQRSTUV")  # bound: not an invitation, so the answer to 填报单位
    assert "第 2/" in world.last_text(USER)


async def test_invite_wecom_user__binds_the_member_directly(
    world: WeComWorld, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SURVEYBOT_DATABASE_URL", backend.url_with_schema)
    monkeypatch.setenv("SURVEYBOT_DATA_DIR", str(world.tmp_path / "cli"))
    code = await asyncio.to_thread(
        main, ["invite", "--campaign", str(world.campaign_id), "--unit", "海门区", "--wecom-user", USER]
    )
    assert code == 0
    assert len(await bound_units(world, USER)) == 1
    await world.send(USER, "继续")
    assert "填报单位：海门区" in "\n".join(world.texts(USER)) and "第 1/" in world.last_text(USER)
    code = await asyncio.to_thread(
        main, ["invite", "--campaign", str(world.campaign_id), "--unit", "海门区", "--unit", "通州区", "--wecom-user", USER]
    )
    assert code == 2


async def test_coordinator__status_reminder_with_confirmation_and_console_link(world: WeComWorld) -> None:
    await world.send(USER, world.tokens["海门区"])  # one bound member to remind
    await world.send(COORDINATOR, "状态")
    assert "未提交（3）" in world.last_text(COORDINATOR) and "海门区（填报中）" in world.last_text(COORDINATOR)
    await world.send(COORDINATOR, "提醒")
    preview = world.last_text(COORDINATOR)
    assert "将向 1 个未提交单位的 1 位填报人发送填报提醒" in preview and "回复“确认 " in preview
    batch = preview.split("回复“确认 ")[1].split("”")[0]
    async with world.database.read() as session:
        assert (await session.scalars(select(OutboxMessage))).all() == []  # nothing queued before the confirmation
    await world.send(COORDINATOR, f"确认 {batch}")
    assert "已开始发送提醒" in world.last_text(COORDINATOR)
    async with world.database.read() as session:
        queued = (await session.scalars(select(OutboxMessage))).all()
    assert len(queued) == 1
    await world.send(COORDINATOR, f"确认 {batch}")
    assert "已经处理过" in world.last_text(COORDINATOR)
    await world.send(COORDINATOR, "登录")
    assert f"{PUBLIC_URL}/admin/login/" in world.last_text(COORDINATOR)


async def test_non_coordinator__coordinator_words_are_answers_and_slash_commands_refused(world: WeComWorld) -> None:
    await world.send(USER, world.tokens["海门区"])
    await world.send(USER, "状态")  # the answer to 填报单位
    assert "第 2/" in world.last_text(USER)
    await world.send(USER, "/status")
    assert "仅限协调人" in world.last_text(USER)
    await world.send(USER, "/dashboard")
    assert "仅限协调人" in world.last_text(USER) and "/admin/login/" not in "\n".join(world.texts(USER))


async def test_menu__created_by_the_command_and_its_clicks_act(world: WeComWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = world.service.settings
    for name in ("wecom_corp_id", "wecom_agent_id", "wecom_api_url"):
        monkeypatch.setenv(f"SURVEYBOT_{name.upper()}", str(getattr(settings, name)))
    for name in ("wecom_secret", "wecom_token", "wecom_aes_key"):
        monkeypatch.setenv(f"SURVEYBOT_{name.upper()}", getattr(settings, name).get_secret_value())
    assert await asyncio.to_thread(main, ["wecom", "menu"]) == 0
    menu = world.fake.menus[world.fake.agent_id]
    assert [button["name"] for button in menu] == ["继续填写", "我的进度", "帮助"]
    await world.send(USER, world.tokens["海门区"])
    await world.send(USER, "海门区科协")
    for button, expected in ((menu[1], "海门区科协"), (menu[0], "第 2/"), (menu[2], "上一题 — 回到上一题")):
        await world.deliver(world.callbacks.event_xml(USER, "click", f"<EventKey><![CDATA[{button['key']}]]></EventKey>"))
        assert expected in "\n".join(world.texts(USER)[-2:])


async def test_partial_wecom_settings__run_stops_naming_what_is_missing(
    backend: Backend, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SURVEYBOT_DATABASE_URL", backend.url_with_schema)
    monkeypatch.setenv("SURVEYBOT_WECOM_CORP_ID", "ww0123")
    monkeypatch.setenv("SURVEYBOT_WECOM_TOKEN", "token")
    assert main(["run", "--listen", "127.0.0.1:1"]) == 2
    error = capsys.readouterr().err
    assert "SURVEYBOT_WECOM_AGENT_ID" in error and "SURVEYBOT_WECOM_SECRET" in error and "SURVEYBOT_WECOM_AES_KEY" in error
    assert "SURVEYBOT_WECOM_TOKEN," not in error.split("missing:")[1]
