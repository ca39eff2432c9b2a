"""A card pressed after the response moved on elsewhere changes nothing; a file question shown again sends the same link."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core.actions import Action, AnswerText
from bot.core.outcome import Outcome
from bot.core.state import SessionState
from bot.invitation_links import LINK_REUSE_LIFETIME
from bot.service import ChannelUser, LinkStatus, SurveyService
from handlers.wecom.account_state import AccountState
from storage.invitations import find_invitation, revoke_invitations
from storage.models import Invitation, Response, Unit
from tests.wecom.conftest import PUBLIC_URL, WeComWorld
from tests.wecom.test_wecom_survey import HEADER, REPORT, USER, bind, latest_card, press, vote

UNIT = "海门区"
LINK = re.compile(re.escape(PUBLIC_URL) + r"/s/(\S+)")


class AnotherDeviceFirst(SurveyService):
    """The real service, with another device's move landing just before the next step is applied.

    ``before_next_act`` runs once, between a WeCom callback being read and its
    step's transaction: the window in which the web chat (or Telegram, on the
    same unit) may move the response on.
    """

    before_next_act: Callable[[], Awaitable[Any]] | None = None

    async def act(self, *, user: ChannelUser, update_id: str | None, action: Action) -> Outcome:
        move, self.before_next_act = self.before_next_act, None
        if move is not None:
            await move()
        return await super().act(user=user, update_id=update_id, action=action)


async def stored_state(world: WeComWorld) -> SessionState:
    async with world.database.read() as session:
        response = (await session.scalars(select(Response).join(Unit).where(Unit.name == UNIT))).one()
    assert response.state is not None
    return SessionState.from_dict(response.state)


async def invitation_rows(world: WeComWorld) -> int:
    async with world.database.read() as session:
        count = await session.scalar(select(func.count()).select_from(Invitation).join(Unit).where(Unit.name == UNIT))
    return int(count or 0)


async def to_q4_by(world: WeComWorld) -> None:
    """Bound, the header typed, q1–q4 answered by card: q4_by's vote card is the newest."""
    await bind(world)
    for text in HEADER:
        await world.send(USER, text)
    await press(world, "是")  # q1
    await press(world, "否")  # q2
    await world.send(USER, "2")  # q3
    await press(world, "是")  # q4 → q4_by, a multiple choice as a vote card
    assert (await stored_state(world)).current == "q4_by"


@pytest.mark.parametrize(("cards", "service_type"), [(True, AnotherDeviceFirst)])
async def test_vote_card_pressed_after_the_web_chat_answered_its_question__nothing_stored_and_the_current_question_shown(
    world: WeComWorld,
) -> None:
    await to_q4_by(world)
    q4_by_card = latest_card(world)
    service = world.service
    assert isinstance(service, AnotherDeviceFirst)

    async def web_chat_answers_q4_by() -> None:
        moved = await service.act_on_link(
            token=world.tokens[UNIT], key="web-1", action=AnswerText(text="1"), expected_position="q:q4_by"
        )
        assert moved.status is LinkStatus.APPLIED and moved.position == "q:q5_body", moved

    # The press is received while q4_by is current; the web chat answers q4_by before the press is applied.
    service.before_next_act = web_chat_answers_q4_by
    texts_before = len(world.texts(USER))
    await vote(world, ("o1",))  # "2": 政府 for q4_by, but q5_body's second option if applied to the current question

    assert service.before_next_act is None  # the other move did happen in between
    state = await stored_state(world)
    assert state.answers["q4_by"] == ["party_committee"]  # the web chat's answer stands
    assert "q5_body" not in state.answers  # the stale press answered nothing
    assert state.current == "q5_body"
    assert q4_by_card.updates and q4_by_card.updates[-1]["button"]["replace_name"] == "已失效"
    said = "\n".join(world.texts(USER)[texts_before:])
    assert "这张卡片已过期" in said and "没有保存" in said
    assert "5. 是否建立全民科学素质纲要实施工作组织协调机构" in said  # the current question, shown again
    assert latest_card(world).card["main_title"]["title"].startswith("5.")  # type: ignore[index]  # with its own card


@pytest.mark.parametrize("cards", [True])
async def test_button_card_pressed_after_a_typed_answer_moved_on__refused_and_the_current_question_shown(
    world: WeComWorld,
) -> None:
    await bind(world)
    for text in HEADER:
        await world.send(USER, text)
    q1_card = latest_card(world)
    await world.send(USER, "1")  # q1 typed: the card's question is answered
    texts_before = len(world.texts(USER))
    card = q1_card.card or {}
    assert q1_card.response_code is not None
    xml = world.callbacks.card_press_xml(
        USER,
        key=card["button_list"][1]["key"],  # 否
        card_type="button_interaction",
        task_id=card["task_id"],
        response_code=q1_card.response_code,
    )
    await world.deliver(xml)
    state = await stored_state(world)
    assert state.answers["q1_econ_plan"] == "yes" and "q2_tech_plan" not in state.answers
    said = "\n".join(world.texts(USER)[texts_before:])
    assert "这张卡片已过期" in said and "2. " in said, said


async def to_file_question(world: WeComWorld) -> str:
    """Typed through to the stamped table (a file question); the link it was shown with."""
    await bind(world)
    for text in (*HEADER, "1", "2", "2", "2", "2", "1", "12", "3"):
        await world.send(USER, text)
    for text in REPORT:
        await world.send(USER, text)
        await world.send(USER, "完成")
    return shown_link(world)


def shown_link(world: WeComWorld) -> str:
    found = LINK.search(world.last_text(USER))
    assert found, world.last_text(USER)
    return found.group(0)


async def test_file_question_shown_again__the_same_link_and_one_invitation_row(world: WeComWorld) -> None:
    rows_before = await invitation_rows(world)
    first = await to_file_question(world)
    await world.send(USER, "上一题")  # back to the last report text
    assert LINK.search(world.last_text(USER)) is None
    await world.send(USER, "完成")  # kept as it was: the file question again
    assert shown_link(world) == first
    assert await invitation_rows(world) == rows_before + 1
    async with world.database.read() as session:
        invitation = await find_invitation(session=session, token=first.rsplit("/", 1)[1])
    assert invitation is not None and invitation.unit.name == UNIT  # the link opens the unit's web chat


async def test_file_question_after_its_link_was_revoked__a_new_link_that_works(world: WeComWorld) -> None:
    first = await to_file_question(world)
    async with world.database.transaction() as session:
        unit = (await session.scalars(select(Unit).where(Unit.name == UNIT))).one()
        revoked = await revoke_invitations(session=session, unit=unit)
    assert revoked  # the link sent for the file question was among them
    rows_before = await invitation_rows(world)
    await world.send(USER, "上一题")
    await world.send(USER, "完成")
    second = shown_link(world)
    assert second != first and await invitation_rows(world) == rows_before + 1
    async with world.database.read() as session:
        invitation = await find_invitation(session=session, token=second.rsplit("/", 1)[1])
    assert invitation is not None and invitation.revoked_at is None


async def test_unit_link_remembered_for_12_hours__then_one_new_link(world: WeComWorld) -> None:
    now = [datetime(2026, 11, 28, 8, 0, tzinfo=UTC)]
    accounts = AccountState(database=world.database, channel="wecom", clock=lambda: now[0])
    async with world.database.read() as session:
        unit_id = (await session.scalars(select(Unit.id).where(Unit.name == UNIT))).one()
    rows_before = await invitation_rows(world)
    first = await accounts.web_link(public_url=PUBLIC_URL, unit_id=unit_id)
    now[0] += LINK_REUSE_LIFETIME
    assert await accounts.web_link(public_url=PUBLIC_URL, unit_id=unit_id) == first
    now[0] += timedelta(seconds=1)
    later = await accounts.web_link(public_url=PUBLIC_URL, unit_id=unit_id)
    assert later != first and await invitation_rows(world) == rows_before + 2
