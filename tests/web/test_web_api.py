"""The web chat's JSON API: GET changes nothing, the first action binds, keys apply once, stale actions get 409."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from storage.models import Answer, AnswerHistory, Invitation, ProcessedUpdate, Respondent, Response
from tests.web.conftest import WebWorld, texts


async def counts(world: WebWorld) -> dict[str, int]:
    async with world.database.read() as session:
        return {
            "respondents": int(await session.scalar(select(func.count()).select_from(Respondent)) or 0),
            "answers": int(await session.scalar(select(func.count()).select_from(Answer)) or 0),
            "history": int(await session.scalar(select(func.count()).select_from(AnswerHistory)) or 0),
            "updates": int(await session.scalar(select(func.count()).select_from(ProcessedUpdate)) or 0),
            "started": int(
                await session.scalar(select(func.count()).select_from(Response).where(Response.state.is_not(None))) or 0
            ),
        }


async def test_opening_the_link__shows_the_first_question_and_changes_nothing(world: WebWorld) -> None:
    token = world.tokens["海门区"]
    before = await counts(world)
    page = await world.client.get(f"/s/{token}")
    assert page.status == 200
    html = await page.text()
    assert "<script" in html and "script>" in html and "onclick" not in html
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert page.headers["Referrer-Policy"] == "no-referrer"
    for _ in range(3):
        state = await world.state(token)
    assert "海门区" in texts(state) and "第 1/18 题" in texts(state)
    assert state["input"]["kind"] == "text" and state["position"].startswith("q:")
    assert await counts(world) == before
    async with world.database.read() as session:
        invitation = (await session.scalars(select(Invitation))).first()
        assert invitation is not None and all(
            i.used_by_respondent_id is None for i in await session.scalars(select(Invitation))
        )


async def test_first_answer__binds_the_link_and_stores_the_answer_with_channel_web(world: WebWorld) -> None:
    token = world.tokens["海门区"]
    state = await world.state(token)
    state = await world.answer(token, state, "海门区科学技术协会")
    assert "第 2/18 题" in texts(state)
    async with world.database.read() as session:
        history = (await session.scalars(select(AnswerHistory))).all()
        respondent = (await session.scalars(select(Respondent))).one()
    assert [(h.channel, h.new_value) for h in history] == [("web", "海门区科学技术协会")]
    assert respondent.channel == "web" and token not in respondent.external_id
    # A reload shows the same place.
    again = await world.state(token)
    assert again["position"] == state["position"] and "已答 1/18 题" in texts(again)


async def test_replayed_key__is_applied_once_and_answers_with_the_current_state(world: WebWorld) -> None:
    token = world.tokens["海门区"]
    state = await world.state(token)
    key = uuid.uuid4().hex
    first_status, first = await world.post(token, {"type": "text", "text": "海门区科协"}, position=state["position"], key=key)
    second_status, second = await world.post(token, {"type": "text", "text": "海门区科协"}, position=state["position"], key=key)
    assert first_status == 200 and second_status == 200
    assert second["status"] == "replayed" and second["position"] == first["position"]
    assert (await counts(world))["history"] == 1


async def test_action_for_a_question_no_longer_current__gets_409_with_the_current_state(world: WebWorld) -> None:
    token = world.tokens["海门区"]
    stale = await world.state(token)
    moved = await world.answer(token, stale, "海门区科协")  # another tab moved on
    before = await counts(world)
    status, body = await world.post(token, {"type": "text", "text": "王芳"}, position=stale["position"])
    assert status == 409
    assert body["position"] == moved["position"] and "在别处" in body["notice"]
    after = await counts(world)
    assert after["history"] == before["history"] and after["answers"] == before["answers"]


async def test_buttons_then_an_edit_from_the_review__changes_it_and_goes_back(world: WebWorld) -> None:
    token = world.tokens["崇川区"]
    state = await world.state(token)
    for text in ("崇川区科协", "李明", "0513-59003013", "2023年4月26日"):
        state = await world.answer(token, state, text)
    assert [c["label"] for c in state["messages"][-1]["rows"][0]] == ["是", "否"]
    assert state["input"]["kind"] == "none"  # answered with the buttons
    state = await world.press(token, state, "是")
    status, review = await world.post(token, {"type": "review"}, position=state["position"])
    assert status == 200 and "请检查您的回答" in texts(review) and "李明" in texts(review)
    edit = next(e for e in review["edits"] if e["number"] == 2)
    status, editing = await world.post(token, edit["action"], position=review["position"])
    assert status == 200 and "当前答案：李明" in texts(editing)
    changed = await world.answer(token, editing, "王五")
    assert changed["position"] == state["position"]  # back where the respondent was
    status, review = await world.post(token, {"type": "review"}, position=changed["position"])
    assert "王五" in texts(review) and "李明" not in texts(review)


async def test_unknown_and_revoked_links__404_in_both_languages_never_a_traceback(world: WebWorld) -> None:
    page = await world.client.get("/s/not-a-real-token-at-all")
    assert page.status == 404
    html = await page.text()
    assert "链接无效" in html and "not valid" in html and "Traceback" not in html
    api = await world.client.get("/s/not-a-real-token-at-all/state", headers={"Accept-Language": "en"})
    assert api.status == 404 and (await api.json())["message"].startswith("This link is not valid")

    from storage.campaigns import get_campaign
    from storage.invitations import revoke_invitations
    from storage.rosters import get_unit

    token = world.tokens["通州区"]
    opened = await world.client.get(f"/s/{token}")
    assert opened.status == 200
    opened = await opened.text()
    async with world.database.transaction() as session:
        campaign = await get_campaign(session=session, campaign_id=world.campaign_id)
        unit = await get_unit(session=session, campaign=campaign, name="通州区")
        await revoke_invitations(session=session, unit=unit)
    assert (await world.client.get(f"/s/{token}")).status == 404
    status, body = await world.post(token, {"type": "text", "text": "x"}, position=None)
    assert status == 404 and "撤销" in body["message"]
    import re

    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', opened)
    assert csrf is not None
    form = {"csrf": csrf[1], "key": uuid.uuid4().hex, "language": "zh", "text": "x"}
    page = await world.client.post(f"/s/{token}/form", data=form)
    assert page.status == 404 and "已被撤销" in await page.text() and "revoked" in await page.text()


async def test_bad_requests__json_errors_in_the_respondents_language(world: WebWorld) -> None:
    token = world.tokens["海门区"]
    response = await world.client.post(f"/s/{token}/action", data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status == 400 and "请求无法识别" in (await response.json())["message"]
    status, body = await world.post(token, {"type": "launch_missiles"}, position=None, language="en")
    assert status == 400 and body["message"].startswith("The request was not understood")
    big = await world.client.post(f"/s/{token}/action", data=b"x" * (65 * 1024), headers={"Content-Type": "application/json"})
    assert big.status == 413 and "64 KB" in (await big.json())["message"]




async def test_page_forms_without_javascript__need_the_csrf_token_and_apply_a_resent_form_once(world: WebWorld) -> None:
    import re

    token = world.tokens["海门区"]
    html = await (await world.client.get(f"/s/{token}")).text()
    assert f'action="/s/{token}/form"' in html and "第 1/18 题" in html
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    position = re.search(r'name="position" value="([^"]+)"', html)
    assert csrf and position
    form = {"csrf": "0" * 32, "key": uuid.uuid4().hex, "position": position[1], "language": "zh", "text": "海门区科协"}
    forged = await world.client.post(f"/s/{token}/form", data=form, allow_redirects=False)
    assert forged.status == 303 and (await counts(world))["history"] == 0
    cross_site = await world.client.post(
        f"/s/{token}/form", data={**form, "csrf": csrf[1]}, headers={"Sec-Fetch-Site": "cross-site"}, allow_redirects=False
    )
    assert cross_site.status == 303 and (await counts(world))["history"] == 0

    form["csrf"] = csrf[1]
    for _ in range(2):  # the browser resends the form
        response = await world.client.post(f"/s/{token}/form", data=form)
        assert response.status == 200 and "第 2/18 题" in await response.text()
    assert (await counts(world))["history"] == 1


async def test_expired_link_never_used__410_saying_so_but_a_bound_link_keeps_working(world: WebWorld) -> None:
    from datetime import timedelta

    from storage.invitations import create_invitation
    from storage.models import Unit

    async with world.database.transaction() as session:
        unit = (await session.scalars(select(Unit).where(Unit.name == "崇川区"))).one()
        _, unused = await create_invitation(session=session, unit=unit, expires_at=world.clock() + timedelta(days=1), now=world.clock())
        _, used = await create_invitation(session=session, unit=unit, expires_at=world.clock() + timedelta(days=1), now=world.clock())
    state = await world.state(used)
    await world.answer(used, state, "崇川区科协")  # binds this link
    world.clock.now += timedelta(days=2)

    page = await world.client.get(f"/s/{unused}")
    assert page.status == 410 and "已过期" in await page.text() and "expired" in await page.text()
    status, body = await world.post(unused, {"type": "text", "text": "x"}, position=None)
    assert status == 410 and "已过期" in body["message"]
    assert "第 2/18 题" in texts(await world.state(used))
