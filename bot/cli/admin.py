"""``surveybot admin``: the coordinators, who may run coordinator commands in a chat.

A coordinator is an account of a channel: ``--channel telegram --id N`` (or
the older ``--telegram-id N``), ``--channel wecom --id USERID``, ``--channel
web --id ACCOUNT``. Stored ones come from ``admin add``; Telegram accounts
listed in ``SURVEYBOT_ADMIN_IDS`` are coordinators too.
"""

from __future__ import annotations

import argparse
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.cli import CommandError
from bot.cli.database import run_with_database

if TYPE_CHECKING:
    from bot.settings import Settings
    from storage.database import Database

logger = logging.getLogger(__name__)

#: The channels a coordinator can be an account of, with the name a person reads.
#: (``terminal`` is ``surveybot try``, which has no coordinator commands.)
COORDINATOR_CHANNELS: dict[str, str] = {"telegram": "Telegram", "wecom": "WeCom", "web": "web"}
#: The longest account id stored (``storage.models.EXTERNAL_ID_LENGTH``).
MAX_ACCOUNT_LENGTH = 128

ACCOUNT_HELP = "name the account with --channel CHANNEL --id ID (or --telegram-id N)"


@dataclass(frozen=True, slots=True)
class CoordinatorAccount:
    """A coordinator's account as given on the command line, checked."""

    channel: str
    external_id: str

    def __str__(self) -> str:
        return f"{COORDINATOR_CHANNELS[self.channel]} account {self.external_id}"

    @property
    def telegram_id(self) -> int | None:
        """The Telegram user id, for comparing with ``SURVEYBOT_ADMIN_IDS``."""
        return int(self.external_id) if self.channel == "telegram" else None


def coordinator_account(*, channel: str | None, external_id: str | None, telegram_id: str | None) -> CoordinatorAccount:
    """The account named by ``--channel``/``--id`` or ``--telegram-id``; :class:`CommandError` (usage) if bad."""
    if telegram_id is not None:
        if channel is not None or external_id is not None:
            raise CommandError(
                "--telegram-id N is short for --channel telegram --id N; give one or the other", exit_code=2
            )
        channel, external_id, option = "telegram", telegram_id, "--telegram-id"
    else:
        option = "--id"
    if channel is None or external_id is None:
        missing = "--channel" if channel is None else "--id"
        raise CommandError(f"{missing} is missing: {ACCOUNT_HELP}", exit_code=2)
    channel = channel.strip().lower()
    if channel not in COORDINATOR_CHANNELS:
        raise CommandError(
            f"--channel {channel!r}: unknown channel; use one of {', '.join(COORDINATOR_CHANNELS)}", exit_code=2
        )
    account = external_id.strip()
    if not account:
        raise CommandError(f"{option} is empty: give the account's id", exit_code=2)
    if len(account) > MAX_ACCOUNT_LENGTH:
        raise CommandError(f"{option}: an account id has at most {MAX_ACCOUNT_LENGTH} characters", exit_code=2)
    if channel == "telegram":
        if not account.isascii() or not account.isdigit() or int(account) <= 0:
            raise CommandError(
                f"{option} {external_id!r}: a Telegram account id is a positive number such as 123456789 "
                "(the user id, not the @username)",
                exit_code=2,
            )
        account = str(int(account))
    return CoordinatorAccount(channel=channel, external_id=account)


def _add_account_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--channel", metavar="CHANNEL", help=f"the account's channel: {', '.join(COORDINATOR_CHANNELS)}"
    )
    parser.add_argument(
        "--id", dest="external_id", metavar="ID", help="the account's id in that channel (Telegram: the numeric user id)"
    )
    parser.add_argument("--telegram-id", metavar="N", help="short for --channel telegram --id N")


def _account(args: argparse.Namespace) -> CoordinatorAccount:
    return coordinator_account(channel=args.channel, external_id=args.external_id, telegram_id=args.telegram_id)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "admin",
        help="add, list and remove coordinators",
        description=(
            "Coordinators are accounts of a chat channel (telegram; wecom and web are coming) "
            "stored here, plus the Telegram ids in SURVEYBOT_ADMIN_IDS."
        ),
    )
    actions = parser.add_subparsers(dest="admin_command", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add",
        help="make an account a coordinator",
        description="Make an account a coordinator: --channel CHANNEL --id ID, or --telegram-id N.",
    )
    _add_account_options(add)
    add.set_defaults(handler=handle_add)
    listing = actions.add_parser("list", help="list the coordinators (stored and SURVEYBOT_ADMIN_IDS)")
    listing.set_defaults(handler=handle_list)
    remove = actions.add_parser(
        "remove",
        help="remove a coordinator added with admin add",
        description="Remove a stored coordinator: --channel CHANNEL --id ID, or --telegram-id N.",
    )
    _add_account_options(remove)
    remove.set_defaults(handler=handle_remove)
    login_link = actions.add_parser(
        "login-link",
        help="print a one-time sign-in link to the coordinator console",
        description=(
            "Print a one-time link {SURVEYBOT_PUBLIC_URL}/admin/login/TOKEN that signs the coordinator's browser "
            "into the console (surveybot run serves it). It works once and expires after --ttl."
        ),
    )
    _add_account_options(login_link)
    login_link.add_argument(
        "--ttl", default="15m", metavar="DURATION", help="how long the link works: 90s, 15m, 2h, 1d (default 15m, at most 1d)"
    )
    login_link.set_defaults(handler=handle_login_link)


def handle_add(args: argparse.Namespace) -> int:
    account = _account(args)

    async def operation(database: Database, settings: Settings) -> str:
        from storage.coordinators import add_coordinator

        async with database.transaction() as session:
            _, created = await add_coordinator(
                session=session, channel=account.channel, external_id=account.external_id
            )
        if created:
            return f"{account} is now a coordinator"
        return f"{account} was a coordinator already"

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
        return lines or ["no coordinators; add one with surveybot admin add --channel telegram --id N"]

    for line in run_with_database(operation):
        print(line)
    return 0


def handle_remove(args: argparse.Namespace) -> int:
    account = _account(args)

    async def operation(database: Database, settings: Settings) -> str:
        from storage.coordinators import remove_coordinator

        async with database.transaction() as session:
            removed = await remove_coordinator(
                session=session, channel=account.channel, external_id=account.external_id
            )
        in_settings = account.telegram_id is not None and account.telegram_id in settings.admin_ids
        if removed and in_settings:
            return f"{account} removed, but it stays a coordinator through SURVEYBOT_ADMIN_IDS"
        if removed:
            return f"{account} is no longer a coordinator"
        if in_settings:
            raise CommandError(f"{account} is a coordinator through SURVEYBOT_ADMIN_IDS; remove it from that setting")
        raise CommandError(f"{account} is not a coordinator")

    print(run_with_database(operation))
    return 0


#: ``--ttl`` units.
TTL_UNITS: dict[str, str] = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_ttl(value: str) -> timedelta:
    """``15m`` and the like; :class:`CommandError` (usage) when it is not a duration of at most a day."""
    from bot.console_access import MAX_LINK_TTL

    match = re.fullmatch(r"\s*(\d{1,6})\s*([smhd])\s*", value.lower())
    ttl = timedelta(**{TTL_UNITS[match.group(2)]: int(match.group(1))}) if match else None
    if ttl is None or not timedelta(0) < ttl <= MAX_LINK_TTL:
        raise CommandError(
            f"--ttl {value!r}: write a duration of at most a day, a number and a unit (s, m, h, d), such as 15m or 2h",
            exit_code=2,
        )
    return ttl


def handle_login_link(args: argparse.Namespace) -> int:
    account = _account(args)
    ttl = parse_ttl(args.ttl)

    async def operation(database: Database, settings: Settings) -> str:
        from bot.cli.run import DEFAULT_LISTEN
        from bot.console_access import ConsoleAccess, NotCoordinatorAccountError, login_url

        access = ConsoleAccess(database=database, settings=settings)
        try:
            token = await access.issue_login_link(channel=account.channel, external_id=account.external_id, ttl=ttl)
        except NotCoordinatorAccountError:
            raise CommandError(
                f"{account} is not a coordinator; make it one first with "
                f"surveybot admin add --channel {account.channel} --id {account.external_id}"
            ) from None
        if settings.public_url is None:
            logger.warning(
                "SURVEYBOT_PUBLIC_URL is not set: the link names this machine (%s); set it to the address browsers use",
                DEFAULT_LISTEN,
            )
        return login_url(settings.public_url or f"http://{DEFAULT_LISTEN}", token)

    print(run_with_database(operation))
    return 0
