"""The outbox tables: unique keys, claims that never overlap, leases, closing a batch once."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from storage.database import Database
from storage.models import Campaign, DeliveryStatus, OutboxBatch, OutboxBatchStatus, OutboxKind
from storage.outbox import (
    INTERRUPTED_REASON,
    OutboxBatchNotFoundError,
    claim_messages,
    complete_batch,
    create_batch,
    delivery_counts,
    enqueue_messages,
    finish_message,
    get_batch,
    has_due_messages,
    recover_interrupted,
    reminders_sent_by_unit,
)
from storage.respondents import bind_respondent, get_or_create_respondent
from storage.rosters import list_units
from tests.storage.conftest import (  # noqa: F401  (fixtures)
    MakeCampaign,
    database,
    deadline,
    make_campaign,
    migrated_backend,
    migrated_template,
    now,
)


async def _campaign_with_respondents(
    database: Database, make_campaign: MakeCampaign, now: datetime, count: int  # noqa: F811
) -> tuple[Campaign, list[int]]:
    campaign = await make_campaign()
    ids: list[int] = []
    async with database.transaction() as session:
        units = await list_units(session=session, campaign=campaign.id)
        for index in range(count):
            respondent = await get_or_create_respondent(
                session=session, channel="telegram", external_id=1000 + index, display_name=f"R{index}", now=now
            )
            await bind_respondent(session=session, respondent=respondent, unit=units[index % len(units)])
            ids.append(respondent.id)
    return campaign, ids


async def _batch(database: Database, campaign: Campaign, ids: list[int], now: datetime, key: str = "k") -> OutboxBatch:  # noqa: F811
    async with database.transaction() as session:
        batch, _ = await create_batch(
            session=session, campaign_id=campaign.id, kind=OutboxKind.REMINDER, key=key,
            status=OutboxBatchStatus.ACTIVE, now=now,
        )
        await enqueue_messages(session=session, batch=batch, respondent_ids=ids, now=now)
    return batch


async def test_keys__a_batch_key_is_created_once_and_a_respondent_gets_one_row_per_batch(
    database: Database, make_campaign: MakeCampaign, now: datetime  # noqa: F811
) -> None:
    campaign, ids = await _campaign_with_respondents(database, make_campaign, now, 3)
    batch = await _batch(database, campaign, ids + ids[:1], now)  # a repeated respondent is one row
    assert batch.total == 3
    async with database.transaction() as session:
        again, created = await create_batch(
            session=session, campaign_id=campaign.id, kind=OutboxKind.REMINDER, key="k",
            status=OutboxBatchStatus.ACTIVE, now=now,
        )
    assert (again.id, created) == (batch.id, False)
    with pytest.raises(IntegrityError):
        async with database.transaction() as session:
            stored = await session.get(OutboxBatch, batch.id)
            assert stored is not None
            await enqueue_messages(session=session, batch=stored, respondent_ids=ids[:1], now=now)


async def test_claims__concurrent_senders_never_take_the_same_row(
    database: Database, migrated_backend, make_campaign: MakeCampaign, now: datetime  # noqa: F811
) -> None:
    campaign, ids = await _campaign_with_respondents(database, make_campaign, now, 30)
    await _batch(database, campaign, ids, now)
    first, second = migrated_backend.open(), migrated_backend.open()

    if database.is_postgresql:
        # One transaction holds its claim open while the other claims: SKIP LOCKED.
        async with first.transaction() as holding:
            held = await claim_messages(session=holding, now=now, channel="telegram", claimer="a", limit=10)
            async with second.transaction() as other:
                taken = await asyncio.wait_for(claim_messages(session=other, now=now, channel="telegram", claimer="b", limit=10), 5)
            assert {row.id for row in held}.isdisjoint(row.id for row in taken)
            assert len(held) == len(taken) == 10

    async def claim_all(db: Database, name: str) -> list[int]:
        claimed: list[int] = []
        while True:
            async with db.transaction() as session:
                rows = await claim_messages(session=session, now=now, channel="telegram", claimer=name, limit=3)
            if not rows:
                return claimed
            claimed.extend(row.id for row in rows)
            await asyncio.sleep(0)

    a, b = await asyncio.gather(claim_all(first, "a"), claim_all(second, "b"))
    assert set(a).isdisjoint(b)
    assert len(a) + len(b) == (10 if database.is_postgresql else 30)
    await migrated_backend.dispose_all()


async def test_finish__only_the_claimer_decides_and_a_dead_senders_rows_fail_after_the_lease(
    database: Database, make_campaign: MakeCampaign, now: datetime  # noqa: F811
) -> None:
    campaign, ids = await _campaign_with_respondents(database, make_campaign, now, 2)
    batch = await _batch(database, campaign, ids, now)
    async with database.transaction() as session:
        one, two = await claim_messages(session=session, now=now, channel="telegram", claimer="a", limit=5)
    async with database.transaction() as session:
        assert not await finish_message(session=session, message_id=one.id, claimer="b", status=DeliveryStatus.SENT)
        assert await finish_message(session=session, message_id=one.id, claimer="a", status=DeliveryStatus.SENT)
        assert not await complete_batch(session=session, batch_id=batch.id, now=now)  # one still open
    lease = timedelta(minutes=10)
    async with database.transaction() as session:
        assert await recover_interrupted(session=session, now=now + lease, channel="telegram", lease=lease) == 0
        assert await recover_interrupted(session=session, now=now + lease + timedelta(seconds=1), channel="telegram", lease=lease) == 1
    async with database.transaction() as session:
        assert not await finish_message(session=session, message_id=two.id, claimer="a", status=DeliveryStatus.SENT)
        counts = await delivery_counts(session=session, batch_id=batch.id)
        assert (counts[DeliveryStatus.SENT], counts[DeliveryStatus.FAILED]) == (1, 1)
        assert await complete_batch(session=session, batch_id=batch.id, now=now)
        assert not await complete_batch(session=session, batch_id=batch.id, now=now)  # closed once
        failed = await session.get(type(two), two.id)
        assert failed is not None and failed.error == INTERRUPTED_REASON


async def test_reminders_sent_by_unit__counts_reminders_that_reached_the_unit(
    database: Database, make_campaign: MakeCampaign, now: datetime  # noqa: F811
) -> None:
    campaign, ids = await _campaign_with_respondents(database, make_campaign, now, 4)  # units 0,1,2,0
    for key in ("first", "second"):
        await _batch(database, campaign, ids, now, key=key)
        async with database.transaction() as session:
            for row in await claim_messages(session=session, now=now, channel="telegram", claimer="a", limit=10):
                status = DeliveryStatus.SENT if row.respondent_id != ids[1] else DeliveryStatus.UNREACHABLE
                await finish_message(session=session, message_id=row.id, claimer="a", status=status)
    async with database.read() as session:
        units = await list_units(session=session, campaign=campaign.id)
        counts = await reminders_sent_by_unit(session=session, unit_ids=[unit.id for unit in units])
    assert counts == {units[0].id: 2, units[2].id: 2}


async def test_claims_by_channel__a_channel_claims_checks_and_recovers_only_its_own_rows(
    database: Database, make_campaign: MakeCampaign, now: datetime  # noqa: F811
) -> None:
    campaign, telegram_ids = await _campaign_with_respondents(database, make_campaign, now, 2)
    async with database.transaction() as session:
        units = await list_units(session=session, campaign=campaign.id)
        email_ids = []
        for index in range(2):
            respondent = await get_or_create_respondent(
                session=session, channel="email", external_id=f"r{index}@example.cn", display_name=f"E{index}", now=now
            )
            await bind_respondent(session=session, respondent=respondent, unit=units[index])
            email_ids.append(respondent.id)
    await _batch(database, campaign, telegram_ids + email_ids, now)
    lease = timedelta(minutes=10)

    async with database.transaction() as session:
        assert await has_due_messages(session=session, now=now, channel="wecom") is False
        email_rows = await claim_messages(session=session, now=now, channel="email", claimer="mail", limit=10)
        assert await has_due_messages(session=session, now=now, channel="email") is False
        assert await has_due_messages(session=session, now=now, channel="telegram") is True
    assert sorted(row.respondent_id for row in email_rows) == sorted(email_ids)
    later = now + lease + timedelta(seconds=1)  # the e-mail sender died while sending
    async with database.transaction() as session:
        assert await recover_interrupted(session=session, now=later, channel="telegram", lease=lease) == 0
        telegram_rows = await claim_messages(session=session, now=later, channel="telegram", claimer="tg", limit=10)
        assert sorted(row.respondent_id for row in telegram_rows) == sorted(telegram_ids)
        assert await recover_interrupted(session=session, now=later, channel="email", lease=lease) == 2
        counts = await delivery_counts(session=session, batch_id=email_rows[0].batch_id)
    assert (counts[DeliveryStatus.FAILED], counts[DeliveryStatus.SENDING]) == (2, 2)  # Telegram's still its own


@pytest.mark.parametrize("batch_id", [0, 2**31, 2**40, 2**63])
async def test_get_batch__an_id_no_batch_row_can_have_is_not_found_on_either_database(
    database: Database, batch_id: int  # noqa: F811
) -> None:
    # Typed in WeCom (确认 N), forged in a Telegram button or a console URL: outbox_batches.id
    # is a 32-bit INTEGER on PostgreSQL, whose driver refuses a larger number outright.
    async with database.read() as session:
        with pytest.raises(OutboxBatchNotFoundError):
            await get_batch(session=session, batch_id=batch_id)
