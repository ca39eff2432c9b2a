"""``surveybot admin``: the coordinators, who may run coordinator commands in the chat.

Coordinators are the Telegram accounts stored with ``admin add`` plus those
listed in ``SURVEYBOT_ADMIN_IDS``.
"""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

from bot.cli import CommandError
from bot.cli.database import run_with_database

if TYPE_CHECKING:
    from bot.settings import Settings
    from storage.database import Database

logger = logging.getLogger(__name__)


def _telegram_id(text: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a Telegram user id (a number)") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a Telegram user id (a positive number)")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "admin",
        help="add, list and remove coordinators",
        description="Coordinators: accounts stored here plus SURVEYBOT_ADMIN_IDS.",
    )
    actions = parser.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="make a Telegram account a coordinator")
    add.add_argument("--telegram-id", type=_telegram_id, required=True, metavar="N")
    add.set_defaults(handler=handle_add)
    listing = actions.add_parser("list", help="list the coordinators")
    listing.set_defaults(handler=handle_list)
    remove = actions.add_parser("remove", help="remove a coordinator added with admin add")
    remove.add_argument("--telegram-id", type=_telegram_id, required=True, metavar="N")
    remove.set_defaults(handler=handle_remove)


def handle_add(args: argparse.Namespace) -> int:
    async def operation(database: Database, settings: Settings) -> str:
        from storage.coordinators import add_coordinator
        from storage.models import Channel

        async with database.transaction() as session:
            _, created = await add_coordinator(
                session=session, channel=Channel.TELEGRAM, external_id=args.telegram_id
            )
        if created:
            return f"Telegram account {args.telegram_id} is now a coordinator"
        return f"Telegram account {args.telegram_id} was a coordinator already"

    print(run_with_database(operation))
    return 0


def handle_list(args: argparse.Namespace) -> int:
    async def operation(database: Database, settings: Settings) -> list[str]:
        from storage.coordinators import list_coordinators
        from storage.models import Channel

        async with database.read() as session:
            stored = await list_coordinators(session=session)
        lines = [
            f"{row.channel}\t{row.external_id}\tadded {row.added_at:%Y-%m-%d %H:%M} UTC"
            for row in stored
        ]
        stored_ids = {(row.channel, row.external_id) for row in stored}
        for admin_id in sorted(settings.admin_ids):
            if (Channel.TELEGRAM.value, str(admin_id)) not in stored_ids:
                lines.append(f"{Channel.TELEGRAM.value}\t{admin_id}\tSURVEYBOT_ADMIN_IDS")
        return lines or ["no coordinators; add one with surveybot admin add --telegram-id N"]

    for line in run_with_database(operation):
        print(line)
    return 0


def handle_remove(args: argparse.Namespace) -> int:
    async def operation(database: Database, settings: Settings) -> str:
        from storage.coordinators import remove_coordinator
        from storage.models import Channel

        async with database.transaction() as session:
            removed = await remove_coordinator(
                session=session, channel=Channel.TELEGRAM, external_id=args.telegram_id
            )
        in_settings = args.telegram_id in settings.admin_ids
        if removed and in_settings:
            return (
                f"Telegram account {args.telegram_id} removed, but it stays a coordinator "
                "through SURVEYBOT_ADMIN_IDS"
            )
        if removed:
            return f"Telegram account {args.telegram_id} is no longer a coordinator"
        if in_settings:
            raise CommandError(
                f"Telegram account {args.telegram_id} is a coordinator through "
                "SURVEYBOT_ADMIN_IDS; remove it from that setting"
            )
        raise CommandError(f"Telegram account {args.telegram_id} is not a coordinator")

    print(run_with_database(operation))
    return 0
