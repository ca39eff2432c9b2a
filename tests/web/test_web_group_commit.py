"""Answers that arrive together through the web chat share one commit; each is kept and answered as alone.

On SQLite the answers below queue together and go into one transaction
(:mod:`storage.group_commit`); on PostgreSQL each has its own. What is
checked is what the respondents see and what a fresh handle on the database
holds.
"""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import select

from storage.models import AnswerHistory
from tests.web.conftest import WebWorld


async def stored_answers(world: WebWorld) -> int:
    """How many answer changes are committed (read on a connection of its own)."""
    async with world.database.read() as session:
        return len((await session.scalars(select(AnswerHistory.id))).all())


async def test_concurrent_answers_of_three_units__all_kept_each_with_its_own_reply(world: WebWorld) -> None:
    units = ("崇川区", "通州区", "海门区")
    states = {unit: await world.state(world.tokens[unit]) for unit in units}
    committer = world.database.group_commit
    release = asyncio.Event()

    async def another_writer() -> None:
        """Holds the database while the answers arrive, so that on SQLite they queue together."""
        async with world.database.transaction():
            await release.wait()

    writer = asyncio.create_task(another_writer())
    posts = asyncio.gather(
        *(
            world.post(world.tokens[unit], {"type": "text", "text": f"{unit}科协"}, position=states[unit]["position"])
            for unit in units
        )
    )
    if committer is not None:
        for _ in range(600):
            if committer.queued == 3:
                break
            await asyncio.sleep(0.05)
    release.set()
    replies = await posts
    await writer
    assert [status for status, _ in replies] == [200, 200, 200]
    for unit, (_, body) in zip(units, replies, strict=True):
        assert body["position"] != states[unit]["position"]  # each moved on to its next question
        again = await world.state(world.tokens[unit])
        assert again["position"] == body["position"]
    assert await stored_answers(world) == 3
    if committer is not None:  # SQLite: the three shared one commit
        assert (committer.commits, committer.items_committed) == (1, 3)


async def test_a_refused_action_in_the_group__does_not_cost_the_others_their_answers(world: WebWorld) -> None:
    stale = await world.state(world.tokens["海门区"])
    await world.answer(world.tokens["海门区"], stale, "海门区科协")  # 海门区 moves on: `stale` is now out of date
    fresh = await world.state(world.tokens["崇川区"])
    (conflict_status, _), (ok_status, ok) = await asyncio.gather(
        world.post(world.tokens["海门区"], {"type": "text", "text": "王芳"}, position=stale["position"]),
        world.post(world.tokens["崇川区"], {"type": "text", "text": "崇川区科协"}, position=fresh["position"]),
    )
    assert (conflict_status, ok_status) == (409, 200)
    assert (await world.state(world.tokens["崇川区"]))["position"] == ok["position"]
    assert await stored_answers(world) == 2  # 海门区's first answer and 崇川区's


async def test_a_double_tap_in_one_group__applied_once_and_a_later_retry_answers_the_same(world: WebWorld) -> None:
    token = world.tokens["通州区"]
    state = await world.state(token)
    key = uuid.uuid4().hex
    action = {"type": "text", "text": "通州区科协"}
    (status_a, a), (status_b, b) = await asyncio.gather(
        world.post(token, action, position=state["position"], key=key),
        world.post(token, action, position=state["position"], key=key),
    )
    assert (status_a, status_b) == (200, 200)
    assert sorted([a["status"], b["status"]]) == ["applied", "replayed"]
    assert a["position"] == b["position"] != state["position"]
    status_c, c = await world.post(token, action, position=state["position"], key=key)
    assert status_c == 200 and c["status"] == "replayed" and c["position"] == a["position"]
    assert await stored_answers(world) == 1
