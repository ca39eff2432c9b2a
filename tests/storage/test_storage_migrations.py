"""Migrations: an empty database upgrades, the models match the migrations, newer is refused."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from storage.database import Database
from storage.errors import SchemaTooNewError
from storage.migrate import (
    alembic_config,
    current_revision,
    ensure_schema,
    head_revision,
    schema_status,
    upgrade,
)
from storage.models import Base


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    differences = list(compare_metadata(context, Base.metadata))
    if connection.dialect.name == "sqlite":
        # 0005 adds campaigns.previous_campaign_id in place (a rebuild of the
        # table would cascade and delete every unit): SQLite keeps that foreign
        # key as a column constraint, whose name and ON DELETE SQLAlchemy does
        # not reflect. _sqlite_previous_campaign_key checks it directly instead.
        differences = [d for d in differences if not _is_previous_campaign_key(d)]
    return differences


def _is_previous_campaign_key(difference: object) -> bool:
    if not (isinstance(difference, tuple) and difference[0] in ("add_fk", "remove_fk")):
        return False
    constraint = difference[1]
    return constraint.table.name == "campaigns" and [c.name for c in constraint.columns] == ["previous_campaign_id"]


def _sqlite_previous_campaign_key(connection: Connection) -> list[tuple[object, ...]]:
    rows = connection.exec_driver_sql("PRAGMA foreign_key_list(campaigns)").all()
    return [(row[2], row[3], row[4], row[6]) for row in rows if row[3] == "previous_campaign_id"]


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_upgrade_from_empty__creates_every_table(empty_database: Database) -> None:
    assert await current_revision(empty_database) is None

    status = await upgrade(empty_database)

    assert status.is_current
    assert await current_revision(empty_database) == head_revision()
    async with empty_database.engine.connect() as connection:
        tables = await connection.run_sync(_tables)
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


async def test_models_match_migrations__autogenerate_finds_no_difference(
    database: Database,
) -> None:
    async with database.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
        if database.is_sqlite:
            # (table, from, to, on_delete): the link to last period's campaign, as the model says.
            assert await connection.run_sync(_sqlite_previous_campaign_key) == [("campaigns", "previous_campaign_id", "id", "SET NULL")]
    assert differences == []


async def test_upgrade_0004_to_0005__keeps_every_campaign_unit_and_response(empty_database: Database) -> None:
    database = empty_database
    await upgrade(database, "0004")
    stamp = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    async with database.transaction() as session:
        for statement in (
            "INSERT INTO survey_versions (id, survey_id, version, content_hash, definition, created_at) "
            "VALUES (1, 's', '1', 'h', '{}', :at)",
            "INSERT INTO campaigns (id, title, survey_version_id, deadline, timezone, reminder_offsets, status, created_at) "
            "VALUES (1, 't', 1, :at, 'Asia/Shanghai', '[]', 'open', :at)",
            "INSERT INTO units (id, campaign_id, name, position, created_at) VALUES (1, 1, '崇川区', 1, :at)",
        ):
            await session.execute(text(statement), {"at": stamp})

    await upgrade(database)

    async with database.read() as session:
        units = (await session.execute(text("SELECT name FROM units"))).scalars().all()
        link = (await session.execute(text("SELECT previous_campaign_id FROM campaigns"))).scalar_one()
    assert units == ["崇川区"] and link is None


async def test_ensure_schema__is_idempotent_and_cheap_when_current(database: Database) -> None:
    await ensure_schema(database)
    await ensure_schema(database)
    assert (await schema_status(database)).is_current


async def test_ensure_schema__concurrent_first_use_migrates_once(backend) -> None:  # type: ignore[no-untyped-def]
    databases = [backend.open() for _ in range(4)]
    await asyncio.gather(*(ensure_schema(database) for database in databases))
    for database in databases:
        assert (await schema_status(database)).is_current


async def test_newer_revision__is_refused_with_a_clear_message(fresh_database: Database) -> None:
    database = fresh_database
    async with database.transaction() as session:
        await session.execute(text("UPDATE alembic_version SET version_num = '9999'"))

    with pytest.raises(SchemaTooNewError) as raised:
        await ensure_schema(database)
    assert str(raised.value) == (
        "the database was written by a newer surveybot (revision 9999); upgrade surveybot"
    )
    with pytest.raises(SchemaTooNewError):
        await upgrade(database)


async def test_downgrade_to_base_then_upgrade__round_trips(fresh_database: Database) -> None:
    database = fresh_database

    def downgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        with connection.begin():
            command.downgrade(config, "base")

    async with database.engine.connect() as connection:
        await connection.run_sync(downgrade)
    assert await current_revision(database) is None
    async with database.engine.connect() as connection:
        assert await connection.run_sync(_tables) == {"alembic_version"}

    await ensure_schema(database)
    assert await current_revision(database) == head_revision()


async def test_upgrade_0002_to_0003__keeps_message_ids_as_their_decimal_strings(empty_database: Database) -> None:
    database = empty_database
    await upgrade(database, "0002")
    stamp = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    async with database.transaction() as session:
        for statement, values in (
            ("INSERT INTO survey_versions (id, survey_id, version, content_hash, definition, created_at) "
             "VALUES (1, 's', '1', 'h', '{}', :at)", {}),
            ("INSERT INTO campaigns (id, title, survey_version_id, deadline, timezone, reminder_offsets, status, created_at) "
             "VALUES (1, 't', 1, :at, 'Asia/Shanghai', '[]', 'open', :at)", {}),
            ("INSERT INTO respondents (id, channel, external_id, unreachable, created_at) "
             "VALUES (1, 'telegram', '9201', false, :at)", {}),
            ("INSERT INTO outbox_batches (id, campaign_id, kind, key, status, status_chat_id, status_message_id, "
             "total, reported_done, created_at) VALUES (1, 1, 'broadcast', 'b', 'done', '9001', 4242, 2, 2, :at)", {}),
            ("INSERT INTO outbox_messages (id, batch_id, respondent_id, status, attempts, next_attempt_at, "
             "telegram_message_id, created_at) VALUES (1, 1, 1, 'sent', 0, :at, 5000000001, :at)", {}),
            ("INSERT INTO respondents (id, channel, external_id, unreachable, created_at) "
             "VALUES (2, 'telegram', '9202', false, :at)", {}),
            ("INSERT INTO outbox_messages (id, batch_id, respondent_id, status, attempts, next_attempt_at, "
             "telegram_message_id, created_at) VALUES (2, 1, 2, 'failed', 1, :at, NULL, :at)", {}),
        ):
            await session.execute(text(statement), {"at": stamp, **values})

    status = await upgrade(database)

    assert status.is_current
    async with database.read() as session:
        messages = (await session.execute(
            text("SELECT id, provider_message_id, status FROM outbox_messages ORDER BY id")
        )).all()
        batch = (await session.execute(text("SELECT status_message_id, total FROM outbox_batches"))).one()
    assert [tuple(row) for row in messages] == [(1, "5000000001", "sent"), (2, None, "failed")]
    assert tuple(batch) == ("4242", 2)
    async with database.engine.connect() as connection:
        assert await connection.run_sync(_differences) == []
