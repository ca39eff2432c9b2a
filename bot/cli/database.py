"""``surveybot db``: migrate the database and show its schema revision.

Also home of :func:`run_with_database`, the glue every command that opens the
database uses: settings, the schema brought up to date, one event loop, and
storage errors turned into one-line :class:`bot.cli.CommandError` messages.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from bot.cli import CommandError

if TYPE_CHECKING:
    from bot.settings import Settings
    from storage.database import Database

logger = logging.getLogger(__name__)

ResultT = TypeVar("ResultT")


def cli_settings() -> Settings:
    """The settings, or a usage error naming the bad variable."""
    from bot.settings import SettingsError, load_settings

    try:
        return load_settings()
    except SettingsError as error:
        raise CommandError(str(error), exit_code=2) from None


def storage_error_to_command_error(error: Exception) -> CommandError:
    """The CLI error for a storage error: exit 2 for configuration, 1 for data problems."""
    from storage.errors import DatabaseUnavailableError, SchemaError

    exit_code = 2 if isinstance(error, (DatabaseUnavailableError, SchemaError)) else 1
    return CommandError(str(error), exit_code=exit_code)


def run_with_database(
    operation: Callable[[Database, Settings], Awaitable[ResultT]],
    *,
    settings: Settings | None = None,
    migrate: bool = True,
) -> ResultT:
    """Open the configured database, bring its schema up to date, run ``operation``.

    ``operation`` gets the database and the settings and runs in a fresh event
    loop; the database is disposed of afterwards. Storage errors become
    :class:`CommandError`.
    """
    from storage.database import Database
    from storage.errors import StorageError
    from storage.migrate import ensure_schema

    settings = settings or cli_settings()

    async def run() -> ResultT:
        database = Database.from_settings(settings)
        try:
            if migrate:
                await ensure_schema(database)
            return await operation(database, settings)
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except StorageError as error:
        raise storage_error_to_command_error(error) from None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "db",
        help="migrate the database, show its schema revision",
        description=(
            "The database is SURVEYBOT_DATABASE_URL, by default surveybot.db in "
            "SURVEYBOT_DATA_DIR. Every command migrates it when needed; these "
            "commands do it or check it explicitly."
        ),
    )
    actions = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = actions.add_parser("upgrade", help="migrate the database to this version's schema")
    upgrade.set_defaults(handler=handle_upgrade)
    current = actions.add_parser("current", help="show the database's schema revision")
    current.set_defaults(handler=handle_current)


def handle_upgrade(args: argparse.Namespace) -> int:
    from storage.migrate import schema_status, upgrade

    async def operation(database: Database, settings: Settings) -> str:
        before = await schema_status(database)
        if before.unknown:
            from storage.errors import SchemaTooNewError

            raise SchemaTooNewError(before.unknown[0])
        if before.is_current:
            return f"{database.display_url}: already at revision {before.head} (newest)"
        await upgrade(database)
        origin = ", ".join(before.current) if before.current else "an empty database"
        return f"{database.display_url}: upgraded from {origin} to revision {before.head}"

    print(run_with_database(operation, migrate=False))
    return 0


def handle_current(args: argparse.Namespace) -> int:
    from storage.errors import SchemaTooNewError
    from storage.migrate import schema_status

    async def operation(database: Database, settings: Settings) -> str:
        status = await schema_status(database)
        if status.unknown:
            raise SchemaTooNewError(status.unknown[0])
        if status.is_empty:
            return f"none (empty database; this surveybot's newest revision is {status.head})"
        if status.is_current:
            return f"{status.current[0]} (newest)"
        return (
            f"{', '.join(status.current)} (older than {status.head}; run `surveybot db upgrade`)"
        )

    print(run_with_database(operation, migrate=False))
    return 0
