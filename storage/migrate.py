"""Schema migrations: Alembic, configured in code, run on our async engine.

:func:`ensure_schema` is what every command that opens the database calls: it
is cheap when the schema is current, upgrades an empty or older database in
one transaction, and refuses a database written by a newer surveybot.
Concurrent upgrades (two processes starting at once) are serialised: by the
write lock taken up front on SQLite, by an advisory lock on PostgreSQL.

Run as ``python -m storage.migrate revision "message"`` to autogenerate a new
migration for a change of :mod:`storage.models` (see ``migrations/README``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import Database, is_connect_error
from storage.errors import SchemaError, SchemaTooNewError

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: Key of the PostgreSQL advisory lock held while migrating ("surveybot" in ASCII-ish).
_ADVISORY_LOCK_KEY = 0x5355_5256_4559


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where a database stands against the migrations this code ships."""

    current: tuple[str, ...]
    head: str

    @property
    def is_empty(self) -> bool:
        return not self.current

    @property
    def is_current(self) -> bool:
        return self.current == (self.head,)

    @property
    def unknown(self) -> tuple[str, ...]:
        """Revisions in the database that this code does not know (a newer surveybot's)."""
        known = known_revisions()
        return tuple(revision for revision in self.current if revision not in known)


def alembic_config(*, url: str | None = None) -> Config:
    """An Alembic configuration for our migrations, without any ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.attributes["url"] = url
    return config


@functools.cache
def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision this code ships."""
    head = script_directory().get_current_head()
    if head is None:  # pragma: no cover - the package always ships 0001
        raise SchemaError("surveybot ships no migrations; the installation is broken")
    return head


@functools.cache
def known_revisions() -> frozenset[str]:
    return frozenset(revision.revision for revision in script_directory().walk_revisions())


async def schema_status(database: Database) -> SchemaStatus:
    """The database's current revision(s) and the code's head; reads only."""
    async with _connect(database, read_only=True) as connection:
        try:
            current = await connection.run_sync(_current_heads)
        except Exception as error:
            if is_connect_error(error):
                raise database.unavailable(error) from error
            raise
        await connection.rollback()
    return SchemaStatus(current=current, head=head_revision())


async def current_revision(database: Database) -> str | None:
    """The database's revision, or None for a database never migrated."""
    status = await schema_status(database)
    return status.current[0] if status.current else None


async def upgrade(database: Database, revision: str = "head") -> SchemaStatus:
    """Migrate the database to ``revision`` (the newest by default) in one transaction.

    Raises :class:`SchemaTooNewError` when the database is at a revision this
    code does not know.
    """
    async with _connect(database) as connection:
        await connection.run_sync(_upgrade_in_transaction, database, revision)
    return await schema_status(database)


async def ensure_schema(database: Database) -> None:
    """Make sure the schema is current: upgrade it if needed, refuse a newer one."""
    status = await schema_status(database)
    if status.unknown:
        raise SchemaTooNewError(status.unknown[0])
    if status.is_current:
        return
    logger.info(
        "migrating %s from %s to %s",
        database.display_url,
        ", ".join(status.current) or "an empty database",
        status.head,
    )
    await upgrade(database)


class _connect:
    """``async with _connect(database) as connection``, translating connect failures."""

    def __init__(self, database: Database, *, read_only: bool = False) -> None:
        self._database = database
        self._read_only = read_only
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> AsyncConnection:
        try:
            self._connection = await self._database.engine.connect()
        except Exception as error:
            if is_connect_error(error):
                raise self._database.unavailable(error) from error
            raise
        if self._read_only:
            await self._connection.execution_options(**self._database.read_only_options())
        return self._connection

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._connection is not None
        await self._connection.close()


def _current_heads(connection: Connection) -> tuple[str, ...]:
    context = MigrationContext.configure(connection)
    return tuple(sorted(context.get_current_heads()))


def _upgrade_in_transaction(connection: Connection, database: Database, revision: str) -> None:
    # On SQLite this BEGIN is IMMEDIATE: a second process waits here, then
    # finds the schema already current.
    with connection.begin():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK_KEY})")
            if database.schema:
                quoted = connection.dialect.identifier_preparer.quote_schema(database.schema)
                connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
        current = _current_heads(connection)
        known = known_revisions()
        for existing in current:
            if existing not in known:
                raise SchemaTooNewError(existing)
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    logger.info("database %s is at revision %s", database.display_url, revision)


# -- developer tool: autogenerate a new revision ------------------------------------------


def _make_revision(message: str) -> None:
    """Autogenerate a migration against a scratch database at the current head."""

    async def generate(url: str) -> None:
        database = Database(url)
        try:
            await upgrade(database)
            async with database.engine.connect() as connection:
                await connection.run_sync(_autogenerate, message)
        finally:
            await database.dispose()

    with tempfile.TemporaryDirectory() as scratch:
        asyncio.run(generate(f"sqlite+aiosqlite:///{Path(scratch) / 'scratch.db'}"))


def _autogenerate(connection: Connection, message: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.revision(config, message=message, autogenerate=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] != "revision":
        print('usage: python -m storage.migrate revision "what changed"', file=sys.stderr)  # noqa: T201 (a developer's command)
        return 2
    logging.basicConfig(level=logging.INFO)
    _make_revision(args[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
