"""Invitations: tokens stored only hashed, one account per invitation, each refusal named."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from storage.campaigns import close_campaign, get_campaign
from storage.database import Database
from storage.invitations import (
    InvitationRefusal,
    create_invitation,
    find_invitation,
    hash_token,
    list_invitations,
    redeem_invitation,
    revoke_invitations,
)
from storage.models import Base, Invitation, Respondent, RespondentUnit
from storage.respondents import get_or_create_respondent, list_bindings
from storage.rosters import get_unit


async def _respondent(database: Database, external_id: str) -> Respondent:
    async with database.transaction() as session:
        return await get_or_create_respondent(
            session=session, channel="telegram", external_id=external_id
        )


async def _invite(
    database: Database, campaign_id: int, unit_name: str, **options: object
) -> tuple[Invitation, str]:
    async with database.transaction() as session:
        unit = await get_unit(session=session, campaign=campaign_id, name=unit_name)
        return await create_invitation(session=session, unit=unit, **options)  # type: ignore[arg-type]


async def _redeem(
    database: Database, token: str, respondent: Respondent, now: datetime | None = None
):  # type: ignore[no-untyped-def]
    async with database.transaction() as session:
        attached = await session.get(Respondent, respondent.id)
        assert attached is not None
        return await redeem_invitation(session=session, token=token, respondent=attached, now=now)


async def _all_stored_text(database: Database) -> str:
    """Every value of every table as text, plus the raw SQLite files when there are any."""
    parts: list[str] = []
    async with database.read() as session:
        for table in Base.metadata.sorted_tables:
            for row in await session.execute(select(table)):
                parts.append(repr(tuple(row)))
    if database.is_sqlite and database.url.database:
        for path in Path(database.url.database).parent.glob("*"):
            parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


async def test_create__returns_a_token_stored_only_as_its_hash(
    database: Database, make_campaign  # type: ignore[no-untyped-def]
) -> None:
    campaign = await make_campaign()
    invitation, token = await _invite(database, campaign.id, "崇川区")

    assert len(token) >= 22
    assert invitation.token_hash == hash_token(token)
    assert len(invitation.token_hash) == 64
    stored = await _all_stored_text(database)
    assert invitation.token_hash in stored
    assert token not in stored


async def test_find__by_token_gives_the_unit(database: Database, make_campaign) -> None:  # type: ignore[no-untyped-def]
    campaign = await make_campaign()
    invitation, token = await _invite(database, campaign.id, "海门区")
    async with database.read() as session:
        found = await find_invitation(session=session, token=f"  {token}\n")
        assert found is not None and found.id == invitation.id
        assert found.unit.name == "海门区"
        assert await find_invitation(session=session, token="nonsense") is None
        assert await find_invitation(session=session, token="x" * 500) is None


async def test_redeem__binds_the_account_and_activates_the_units_response(
    database: Database, make_campaign  # type: ignore[no-untyped-def]
) -> None:
    campaign = await make_campaign()
    _, token = await _invite(database, campaign.id, "崇川区")
    alice = await _respondent(database, "1001")

    redemption = await _redeem(database, token, alice)

    assert redemption.accepted and redemption.newly_bound
    assert redemption.unit is not None and redemption.unit.name == "崇川区"
    async with database.read() as session:
        bindings = await list_bindings(session=session, respondent=alice)
        respondent = await session.get(Respondent, alice.id)
        assert [binding.unit.name for binding in bindings] == ["崇川区"]
        assert respondent is not None
        assert respondent.active_response_id == bindings[0].unit.response.id


async def test_redeem_again_by_the_same_account__is_accepted_without_a_new_binding(
    database: Database, make_campaign  # type: ignore[no-untyped-def]
) -> None:
    campaign = await make_campaign()
    _, token = await _invite(database, campaign.id, "崇川区")
    alice = await _respondent(database, "1001")
    await _redeem(database, token, alice)

    again = await _redeem(database, token, alice)

    assert again.accepted and not again.newly_bound


async def test_wrong_token__is_refused_as_unknown(database: Database, make_campaign) -> None:  # type: ignore[no-untyped-def]
    campaign = await make_campaign()
    _, token = await _invite(database, campaign.id, "崇川区")
    alice = await _respondent(database, "1001")

    redemption = await _redeem(database, token[:-1] + ("A" if token[-1] != "A" else "B"), alice)

    assert redemption.refusal is InvitationRefusal.UNKNOWN
    assert redemption.invitation is None


async def test_token_used_by_another_account__is_refused(database: Database, make_campaign) -> None:  # type: ignore[no-untyped-def]
    campaign = await make_campaign()
    _, token = await _invite(database, campaign.id, "崇川区")
    alice, bob = await _respondent(database, "1001"), await _respondent(database, "2002")
    await _redeem(database, token, alice)

    redemption = await _redeem(database, token, bob)

    assert redemption.refusal is InvitationRefusal.USED_BY_ANOTHER
    async with database.read() as session:
        assert await list_bindings(session=session, respondent=bob) == []


async def test_revoked_token__is_refused(database: Database, make_campaign) -> None:  # type: ignore[no-untyped-def]
    campaign = await make_campaign()
    _, token = await _invite(database, campaign.id, "崇川区")
    async with database.transaction() as session:
        unit = await get_unit(session=session, campaign=campaign.id, name="崇川区")
        revoked = await revoke_invitations(session=session, unit=unit)
    assert len(revoked) == 1

    redemption = await _redeem(database, token, await _respondent(database, "1001"))

    assert redemption.refusal is InvitationRefusal.REVOKED


async def test_expired_token__is_refused(database: Database, make_campaign, now: datetime) -> None:  # type: ignore[no-untyped-def]
    campaign = await make_campaign()
    _, token = await _invite(
        database, campaign.id, "崇川区", expires_at=now + timedelta(days=7), now=now
    )
    alice = await _respondent(database, "1001")

    redemption = await _redeem(database, token, alice, now=now + timedelta(days=7, seconds=1))
    assert redemption.refusal is InvitationRefusal.EXPIRED

    in_time = await _redeem(database, token, alice, now=now + timedelta(days=6))
    assert in_time.accepted


async def test_token_of_a_closed_campaign__is_refused(database: Database, make_campaign) -> None:  # type: ignore[no-untyped-def]
    campaign = await make_campaign()
    _, token = await _invite(database, campaign.id, "崇川区")
    async with database.transaction() as session:
        await close_campaign(session=session, campaign=await get_campaign(session=session, campaign_id=campaign.id))

    redemption = await _redeem(database, token, await _respondent(database, "1001"))

    assert redemption.refusal is InvitationRefusal.CAMPAIGN_CLOSED


async def test_refusals__each_have_their_own_reason() -> None:
    assert len({refusal.value for refusal in InvitationRefusal}) == len(InvitationRefusal) == 5


async def test_second_invitation_for_a_unit__binds_a_second_person_to_the_same_response(
    database: Database, make_campaign  # type: ignore[no-untyped-def]
) -> None:
    campaign = await make_campaign()
    _, first = await _invite(database, campaign.id, "崇川区")
    _, second = await _invite(database, campaign.id, "崇川区")
    alice, bob = await _respondent(database, "1001"), await _respondent(database, "2002")

    one = await _redeem(database, first, alice)
    two = await _redeem(database, second, bob)

    assert one.accepted and two.accepted
    async with database.read() as session:
        alice_now = await session.get(Respondent, alice.id)
        bob_now = await session.get(Respondent, bob.id)
        assert alice_now is not None and bob_now is not None
        assert alice_now.active_response_id == bob_now.active_response_id is not None


async def test_revoke_with_disconnect__removes_the_accounts_that_joined(
    database: Database, make_campaign  # type: ignore[no-untyped-def]
) -> None:
    campaign = await make_campaign()
    _, used = await _invite(database, campaign.id, "崇川区")
    await _invite(database, campaign.id, "崇川区")
    alice = await _respondent(database, "1001")
    await _redeem(database, used, alice)

    async with database.transaction() as session:
        unit = await get_unit(session=session, campaign=campaign.id, name="崇川区")
        unused_only = await revoke_invitations(session=session, unit=unit)
    assert len(unused_only) == 1
    assert (await _redeem(database, used, alice)).accepted  # the account keeps its unit

    async with database.transaction() as session:
        unit = await get_unit(session=session, campaign=campaign.id, name="崇川区")
        disconnected = await revoke_invitations(session=session, unit=unit, include_used=True)
        assert len(disconnected) == 1
        assert all(invitation.revoked_at for invitation in await list_invitations(session=session, unit=unit))
    async with database.read() as session:
        assert await list_bindings(session=session, respondent=alice) == []
        assert await session.scalar(select(RespondentUnit.id)) is None
        respondent = await session.get(Respondent, alice.id)
        assert respondent is not None and respondent.active_response_id is None
    assert (await _redeem(database, used, alice)).refusal is InvitationRefusal.REVOKED
