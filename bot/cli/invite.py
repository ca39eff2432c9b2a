"""``surveybot invite``: invitation links for the units of a campaign, and their revocation.

``surveybot invite --campaign ID --unit NAME... | --units-file FILE`` adds the
units to the roster when needed and prints one line per invitation,
``NAME<TAB>TOKEN<TAB>LINK``. LINK is the web chat's personal link
``{SURVEYBOT_PUBLIC_URL}/s/<token>`` when ``SURVEYBOT_PUBLIC_URL`` is set (then
a fourth column holds the Telegram deep link when the bot's username is
known), else the Telegram deep link ``https://t.me/<bot>?start=<token>`` when
``SURVEYBOT_TELEGRAM_BOT_USERNAME`` is set, else the token again. One unit's
token works in both channels: the web link does not use the invitation up. Tokens are stored only as hashes: this output is
the only place they appear (the console shows only the links it issued itself), so hand it on securely.

A units file may give each unit's contact e-mail in a second column
(``NAME<TAB>EMAIL``), or ``--email ADDRESS`` gives it for the one ``--unit``:
the address is bound to the unit and receives its reminders and broadcasts by
e-mail, each with the unit's personal web link (see docs/reminders.md).

``surveybot invite --campaign ID --unit NAME --wecom-user USERID`` binds a
WeCom member (their UserID in the organisation's directory, which is trusted)
to the unit directly, without a token: their next message in the WeCom app
starts the survey. It prints ``NAME<TAB>wecom:USERID<TAB>bound`` (or ``already
bound``).

``surveybot invite revoke --campaign ID --unit NAME...`` revokes the units'
unused invitations (``--disconnect``: also the used ones, and the accounts that
joined through them lose the unit).
"""

from __future__ import annotations

import argparse
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.cli import CommandError, row_id
from bot.cli.campaign import parse_duration, read_roster
from bot.cli.database import run_with_database
from bot.invitation_links import link_columns, telegram_link, web_link
from storage.errors import InvalidValueError
from storage.rosters import check_email_address

if TYPE_CHECKING:
    from bot.settings import Settings
    from storage.database import Database

logger = logging.getLogger(__name__)

MAX_PER_UNIT = 50

__all__ = ["link_columns", "register", "telegram_link", "web_link"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "invite",
        help="create invitation links for units (adding them to the roster), or revoke them",
        description=(
            "Create invitations: one line per invitation, NAME<TAB>TOKEN<TAB>LINK. "
            "Units not on the roster yet are added. The tokens are shown only here."
        ),
        epilog="Revoke: surveybot invite revoke --campaign ID --unit NAME [--disconnect]",
    )
    parser.add_argument("--campaign", type=row_id, metavar="ID", help="the campaign's id")
    names = parser.add_mutually_exclusive_group()
    names.add_argument("--unit", action="append", metavar="NAME", help="a unit to invite (repeatable)")
    names.add_argument(
        "--units-file",
        metavar="FILE",
        help="units to invite: UTF-8 text or CSV, one per line (first column; a second column "
        "NAME<TAB>EMAIL gives the unit's contact e-mail), # comments",
    )
    parser.add_argument(
        "--email",
        metavar="ADDRESS",
        help="the contact e-mail of the one --unit: reminders and broadcasts reach it by e-mail",
    )
    parser.add_argument(
        "--wecom-user",
        metavar="USERID",
        help="bind this WeCom member (UserID) to the one --unit directly, instead of printing a token",
    )
    parser.add_argument("--expires", metavar="DURATION", help="the invitations expire after e.g. 7d, 48h")
    parser.add_argument(
        "--per-unit",
        type=int,
        default=1,
        metavar="N",
        help="invitations per unit, one per person who will answer for it (default 1)",
    )
    parser.set_defaults(handler=handle_create)

    actions = parser.add_subparsers(dest="invite_command", metavar="[revoke]")
    revoke = actions.add_parser(
        "revoke",
        help="revoke a unit's unused invitations",
        description="Revoke the unused invitations of the named units.",
    )
    revoke.add_argument("--campaign", type=row_id, metavar="ID", required=True)
    revoke.add_argument("--unit", action="append", metavar="NAME", required=True)
    revoke.add_argument(
        "--disconnect",
        action="store_true",
        help="also revoke used invitations: the accounts that joined lose the unit",
    )
    revoke.set_defaults(handler=handle_revoke)


def handle_create(args: argparse.Namespace) -> int:
    if args.campaign is None:
        raise CommandError("--campaign ID is required", exit_code=2)
    if not args.unit and not args.units_file:
        raise CommandError("name the units: --unit NAME (repeatable) or --units-file FILE", exit_code=2)
    if not 1 <= args.per_unit <= MAX_PER_UNIT:
        raise CommandError(f"--per-unit must be between 1 and {MAX_PER_UNIT}", exit_code=2)
    if args.wecom_user is not None:
        return bind_wecom_user(args)
    lifetime = parse_duration(args.expires, option="--expires") if args.expires else None
    roster = read_roster(args.units_file) if args.units_file else None
    names: list[str] = [line.name for line in roster] if roster is not None else list(args.unit)
    emails: list[str | None] = [line.email for line in roster] if roster is not None else [None] * len(names)
    mobiles: list[str | None] = [line.mobile for line in roster] if roster is not None else [None] * len(names)
    if args.email is not None:
        if roster is not None or len(names) != 1:
            raise CommandError(
                "--email gives the contact of one unit: use it with a single --unit NAME "
                "(for several units, put NAME<TAB>EMAIL lines in --units-file)",
                exit_code=2,
            )
        try:
            emails = [check_email_address(args.email)]
        except InvalidValueError as error:
            raise CommandError(f"--email: {error}") from None

    async def operation(database: Database, settings: Settings) -> list[str]:
        from storage.campaigns import get_campaign
        from storage.contacts import add_email_contact
        from storage.invitations import create_invitation
        from storage.models import CampaignStatus
        from storage.rosters import ensure_units

        now = datetime.now(UTC)
        expires_at = now + lifetime if lifetime is not None else None
        lines: list[str] = []
        async with database.transaction() as session:
            campaign = await get_campaign(session=session, campaign_id=args.campaign, for_update=True)
            if campaign.status is not CampaignStatus.OPEN:
                raise CommandError(
                    f"campaign {campaign.id} is closed; reopen it first with `surveybot campaign reopen {campaign.id}`"
                )
            try:
                units, added = await ensure_units(session=session, campaign=campaign, names=names)
            except InvalidValueError as error:
                raise CommandError(str(error)) from None
            for unit, email, mobile in zip(units, emails, mobiles, strict=True):
                if mobile is not None:
                    unit.contact_mobile = mobile  # mentioned by the WeCom group digest
                if email is not None:
                    _, bound = await add_email_contact(session=session, unit=unit, address=email, now=now)
                    if bound:
                        logger.info("campaign %s: unit %s has a contact e-mail", args.campaign, unit.id)
                for _ in range(args.per_unit):
                    _, token = await create_invitation(session=session, unit=unit, expires_at=expires_at, now=now)
                    links = link_columns(public_url=settings.public_url, bot_username=settings.telegram_bot_username, token=token)
                    lines.append("\t".join([unit.name, token, *links]))
        if added:
            logger.info("campaign %s: %d unit(s) added to the roster", args.campaign, len(added))
        return lines

    for line in run_with_database(operation):
        print(line)
    return 0


#: The longest WeCom UserID (成员 UserID: 1 to 64 bytes).
MAX_WECOM_USER_ID = 64


def bind_wecom_user(args: argparse.Namespace) -> int:
    """``--wecom-user USERID``: bind the WeCom member to the one unit named; no token is made."""
    user_id = args.wecom_user.strip()
    if args.units_file or not args.unit or len(args.unit) != 1:
        raise CommandError("--wecom-user binds a member to one unit: give a single --unit NAME", exit_code=2)
    if not user_id or len(user_id.encode("utf-8")) > MAX_WECOM_USER_ID or any(c.isspace() for c in user_id):
        raise CommandError(
            f"--wecom-user {args.wecom_user!r}: write the member's UserID (账号) from WeCom's directory, "
            f"1 to {MAX_WECOM_USER_ID} bytes without spaces",
            exit_code=2,
        )

    async def operation(database: Database, settings: Settings) -> str:
        from storage.campaigns import get_campaign
        from storage.models import CampaignStatus
        from storage.respondents import bind_respondent, get_or_create_respondent
        from storage.responses import get_unit_response
        from storage.rosters import ensure_units

        now = datetime.now(UTC)
        async with database.transaction() as session:
            campaign = await get_campaign(session=session, campaign_id=args.campaign, for_update=True)
            if campaign.status is not CampaignStatus.OPEN:
                raise CommandError(
                    f"campaign {campaign.id} is closed; reopen it first with `surveybot campaign reopen {campaign.id}`"
                )
            try:
                [unit], _ = await ensure_units(session=session, campaign=campaign, names=list(args.unit))
            except InvalidValueError as error:
                raise CommandError(str(error)) from None
            respondent = await get_or_create_respondent(session=session, channel="wecom", external_id=user_id, now=now)
            _, created = await bind_respondent(session=session, respondent=respondent, unit=unit)
            # The unit becomes the member's active one, as redeeming its token would make it.
            respondent.active_response_id = (await get_unit_response(session=session, unit=unit)).id
            await session.flush()
        logger.info("campaign %s: wecom member %s bound to unit %s", args.campaign, user_id, unit.id)
        return "\t".join([unit.name, f"wecom:{user_id}", "bound" if created else "already bound"])

    print(run_with_database(operation))
    return 0


def handle_revoke(args: argparse.Namespace) -> int:
    async def operation(database: Database, settings: Settings) -> list[str]:
        from storage.campaigns import get_campaign
        from storage.invitations import revoke_invitations
        from storage.rosters import check_unit_names, get_unit

        lines: list[str] = []
        async with database.transaction() as session:
            campaign = await get_campaign(session=session, campaign_id=args.campaign)
            units = [await get_unit(session=session, campaign=campaign, name=name) for name in check_unit_names(args.unit)]
            for unit in units:
                revoked = await revoke_invitations(session=session, unit=unit, include_used=args.disconnect)
                used = sum(1 for invitation in revoked if invitation.used_by_respondent_id)
                detail = f" ({used} used: those accounts lost the unit)" if args.disconnect else ""
                lines.append(f"{unit.name}\trevoked {len(revoked)} invitation(s){detail}")
        return lines

    for line in run_with_database(operation):
        print(line)
    return 0
