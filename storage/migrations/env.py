"""Alembic environment for surveybot's schema.

Two ways in:

* :mod:`storage.migrate` (``surveybot db upgrade`` and every command that
  opens the database) passes an open connection, already inside a
  transaction, as ``config.attributes["connection"]``; the migrations then run
  in that transaction.
* Run by Alembic's own command functions with only a URL
  (``config.attributes["url"]``, else the ``sqlalchemy.url`` option, else the
  surveybot settings), it opens an async engine itself.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection

from storage.models import Base
from storage.types import UTCDateTime

logger = logging.getLogger("storage.migrations")

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write our column types as plain SQLAlchemy types in generated migrations."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=False,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_own_engine(url: str) -> None:
    from storage.database import Database

    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            await connection.run_sync(_run_in_transaction)
    finally:
        await database.dispose()


def _run_in_transaction(connection: Connection) -> None:
    with connection.begin():
        configure_and_run(connection)


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if url:
        return str(url)
    from bot.settings import load_settings

    return load_settings().resolved_database_url


if context.is_offline_mode():
    run_migrations_offline()
elif (shared := config.attributes.get("connection")) is not None:
    configure_and_run(shared)
else:
    asyncio.run(run_with_own_engine(_url()))
