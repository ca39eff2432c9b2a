"""``surveybot campaign``: create, list, close and reopen campaigns, move a deadline.

``campaign create`` loads the survey file (storing a new survey version when
its content is new), creates the campaign and optionally its roster from a
units file, and prints the campaign's id as its last line. ``--previous ID``
links it to last period's campaign: the questions that do not carry over are
listed on stderr, one line each, and nothing is created when none does.
Creating, closing, reopening and moving a deadline go through
:class:`bot.campaign_setup.CampaignSetup`, as the console's forms do.
"""

from __future__ import annotations

import argparse
import logging
import sys
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.cli import CommandError, row_id
from bot.cli.database import run_with_database
from bot.core import durations
from bot.core.durations import MAX_DURATION, DurationProblem, DurationRejection, format_duration

if TYPE_CHECKING:
    from bot.campaign_setup import CreatedCampaign, DeadlineMove, SetupRejection
    from bot.core.survey import Survey
    from bot.settings import Settings
    from storage.database import Database
    from storage.rosters import RosterLine

logger = logging.getLogger(__name__)

DEFAULT_REMIND = "3d,1d,2h"


# -- parsing of option values (shared with ``surveybot invite``) -----------------------


def duration_error(option: str, rejection: DurationRejection) -> CommandError:
    """The one-line error of an option whose duration (or schedule) was refused."""
    text = rejection.text
    if rejection.problem is DurationProblem.TOO_LONG:
        return CommandError(f"{option} {text!r}: at most {MAX_DURATION.days}d (ten years)", exit_code=2)
    if rejection.problem is DurationProblem.REPEATED:
        return CommandError(f"{option} {text!r}: a reminder time is given twice", exit_code=2)
    return CommandError(
        f"{option} {text!r}: expected a duration such as 3d, 2h, 90m or 1d12h (w weeks, d days, h hours, m minutes, s seconds)",
        exit_code=2,
    )


def parse_duration(text: str, *, option: str) -> timedelta:
    """``3d``, ``2h``, ``90m``, ``1d12h``, ``2w`` → a positive timedelta; else exit 2."""
    parsed = durations.parse_duration(text)
    if isinstance(parsed, DurationRejection):
        raise duration_error(option, parsed)
    return parsed


def parse_reminders(text: str) -> list[int]:
    """``3d,1d,2h`` → offsets in seconds before the deadline; ``none`` → no reminders."""
    parsed = durations.parse_reminder_offsets(text)
    if isinstance(parsed, DurationRejection):
        raise duration_error("--remind", parsed)
    return parsed


def parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CommandError(
            f"--timezone {name!r}: unknown time zone; use an IANA name such as Asia/Shanghai",
            exit_code=2,
        ) from None


def parse_deadline(text: str) -> datetime:
    """An ISO 8601 date and time with its UTC offset, e.g. ``2026-12-15T17:00+08:00``."""
    try:
        deadline = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(
            f"--deadline {text!r}: not a date and time; write it like 2026-12-15T17:00+08:00",
            exit_code=2,
        ) from None
    if deadline.tzinfo is None or deadline.utcoffset() is None:
        raise CommandError(
            f"--deadline {text!r} has no time zone; add the UTC offset, e.g. 2026-12-15T17:00+08:00",
            exit_code=2,
        )
    return deadline


def format_deadline(deadline: datetime, zone_name: str) -> str:
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = deadline.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {zone_name}"


def display_width(text: str) -> int:
    """Terminal columns of ``text``: wide (CJK) characters count as two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows aligned in columns two spaces apart (CJK-aware)."""
    widths = [display_width(cell) for cell in header]
    for row in rows:
        widths = [max(width, display_width(cell)) for width, cell in zip(widths, row, strict=True)]
    lines = []
    for row in (header, *rows):
        cells = [cell + " " * (width - display_width(cell)) for cell, width in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return lines


def read_units(path: str) -> list[str]:
    return [line.name for line in read_roster(path)]


def read_roster(path: str) -> list[RosterLine]:
    """The units file's lines (name, contact e-mail or None); a bad file is a one-line error."""
    from storage.rosters import RosterFileError, read_roster_file

    try:
        return read_roster_file(Path(path))
    except RosterFileError as error:
        raise CommandError(str(error)) from None


# -- the commands -----------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "campaign",
        help="create, list, close, reopen campaigns and move their deadlines",
        description="A campaign sends one survey to a roster of units, due at a deadline.",
    )
    actions = parser.add_subparsers(dest="campaign_command", metavar="ACTION", required=True)

    create = actions.add_parser(
        "create",
        help="create a campaign; prints its id as the last line",
        description="Create a campaign. The last line printed is the new campaign's id.",
    )
    create.add_argument("--survey", required=True, metavar="FILE", help="the survey file: .yaml, or an XLSForm .xlsx/.xls")
    create.add_argument("--title", required=True, help="the campaign's title")
    create.add_argument(
        "--deadline",
        required=True,
        metavar="WHEN",
        help="date, time and UTC offset, e.g. 2026-12-15T17:00+08:00",
    )
    create.add_argument(
        "--remind",
        default=DEFAULT_REMIND,
        metavar="TIMES",
        help=f"reminders before the deadline, comma-separated, or none (default {DEFAULT_REMIND})",
    )
    create.add_argument(
        "--units-file",
        metavar="FILE",
        help="the roster: UTF-8 text or CSV, one unit per line (first column), # comments",
    )
    create.add_argument(
        "--previous",
        type=int,
        metavar="CAMPAIGN_ID",
        help="last period's campaign: each unit (matched by name) is offered what it submitted then, "
        "question by question (matched by id and type)",
    )
    create.add_argument(
        "--timezone",
        metavar="ZONE",
        help="time zone the deadline and reminders are shown in (default SURVEYBOT_TIMEZONE, Asia/Shanghai)",
    )
    create.add_argument(
        "--wecom-group-webhook",
        metavar="URL",
        help="a WeCom group robot's webhook (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...): "
        "each reminder slot posts the units not yet submitted to that group",
    )
    create.set_defaults(handler=handle_create)

    setting = actions.add_parser(
        "set",
        help="change a campaign's settings: its reminders, the WeCom group robot webhook",
        description="Change a campaign's settings (at least one option).",
    )
    setting.add_argument("campaign_id", type=row_id, metavar="ID")
    setting.add_argument(
        "--remind",
        metavar="TIMES",
        help="reminders before the deadline, comma-separated (3d,1d,2h), or none; "
        "a reminder already sent is not sent again, one whose time has passed is not sent late",
    )
    setting.add_argument(
        "--wecom-group-webhook",
        metavar="URL|none",
        help="the WeCom group robot's webhook that gets the digest of each reminder slot; none removes it",
    )
    setting.set_defaults(handler=handle_set)

    listing = actions.add_parser("list", help="list campaigns with their progress")
    listing.set_defaults(handler=handle_list)

    close = actions.add_parser("close", help="close a campaign: no more answers are taken")
    close.add_argument("campaign_id", type=row_id, metavar="ID")
    close.set_defaults(handler=handle_close)

    reopen = actions.add_parser(
        "reopen",
        help="reopen a closed campaign, or one unit's submitted response for editing",
    )
    reopen.add_argument("campaign_id", type=row_id, metavar="ID")
    reopen.add_argument("--unit", metavar="NAME", help="reopen only this unit's submitted response")
    reopen.set_defaults(handler=handle_reopen)

    deadline = actions.add_parser(
        "deadline",
        help="move a campaign's deadline; reminders not yet sent move with it",
        description="Move the deadline. Reminders whose time has not come move with it; "
        "those sent (or passed) are not sent again.",
    )
    deadline.add_argument("campaign_id", type=row_id, metavar="ID")
    deadline.add_argument("deadline", metavar="WHEN", help="the new deadline with its UTC offset, e.g. 2026-12-20T17:00+08:00")
    deadline.set_defaults(handler=handle_deadline)


def _load_survey(path: str) -> Survey:
    from bot.cli.survey import print_warnings
    from bot.core.loading import DefinitionError
    from bot.survey_files import load_survey_file

    try:
        loaded = load_survey_file(path)
    except DefinitionError as error:
        raise CommandError(str(error)) from None
    print_warnings(loaded.warnings)
    return loaded.survey


def handle_create(args: argparse.Namespace) -> int:
    from bot.cli.database import cli_settings

    settings = cli_settings()
    deadline = parse_deadline(args.deadline)
    if deadline <= datetime.now(deadline.tzinfo):
        raise CommandError(f"--deadline {args.deadline}: the deadline is in the past")
    reminders = parse_reminders(args.remind)
    zone_name = args.timezone or settings.timezone
    parse_zone(zone_name)
    survey = _load_survey(args.survey)
    roster = read_roster(args.units_file) if args.units_file else []
    webhook = group_webhook(args.wecom_group_webhook, settings) if args.wecom_group_webhook else None

    async def operation(database: Database, settings: Settings) -> CreatedCampaign | SetupRejection:
        from bot.campaign_setup import CampaignPlan, CampaignSetup

        plan = CampaignPlan(
            survey=survey,
            title=args.title,
            deadline=deadline,
            timezone=zone_name,
            reminder_offsets=tuple(reminders),
            roster=tuple(roster),
            previous_campaign_id=args.previous,
            wecom_group_webhook=webhook,
        )
        return await CampaignSetup(database=database).create(plan=plan, now=datetime.now(UTC))

    from bot.campaign_setup import SetupField, SetupRejection

    created = run_with_database(operation, settings=settings)
    if isinstance(created, SetupRejection):
        if created.field is SetupField.PREVIOUS:
            raise CommandError(f"--previous {args.previous}: {created.message}")
        raise CommandError(created.message)
    for mismatch in created.mismatches:
        print(f"surveybot campaign: --previous {args.previous}: {mismatch}", file=sys.stderr)
    if created.previous_campaign_id is not None:
        print(f"previous period: campaign {created.previous_campaign_id} {created.previous_title!r}; units matched by name")
    reminder_text = ", ".join(format_duration(offset) for offset in created.reminder_offsets) or "none"
    print(
        f"survey {created.survey_id} version {created.survey_version} "
        f"(stored version #{created.stored_version}, content {created.content_hash[:12]})"
    )
    print(
        f"campaign {created.title!r}: deadline {format_deadline(created.deadline, zone_name)}, reminders {reminder_text} before"
    )
    print(
        f"roster: {created.units} unit(s)"
        + (f" from {args.units_file}" if args.units_file else "; add them with surveybot invite")
        + (f", {created.contacts} with a contact e-mail" if created.contacts else "")
        + (f", {created.mobiles} with a mobile number" if created.mobiles else "")
    )
    if webhook:
        print(f"WeCom group digest: {webhook_text(webhook)}")
    print(created.campaign_id)
    return 0


def group_webhook(url: str, settings: Settings) -> str:
    """A checked group robot webhook URL; a bad one is a one-line error (exit 2) that never shows the key."""
    from handlers.wecom.robot_webhook import WebhookUrlError, check_webhook_url

    try:
        return check_webhook_url(url, api_url=getattr(settings, "wecom_api_url", None))
    except WebhookUrlError as error:
        raise CommandError(f"--wecom-group-webhook: {error}", exit_code=2) from None


def webhook_text(url: str) -> str:
    from handlers.wecom.robot_webhook import webhook_label

    return webhook_label(url)


def handle_set(args: argparse.Namespace) -> int:
    from bot.cli.database import cli_settings

    if args.remind is None and args.wecom_group_webhook is None:
        raise CommandError("campaign set: give --remind TIMES or --wecom-group-webhook URL|none", exit_code=2)
    settings = cli_settings()
    reminders = parse_reminders(args.remind) if args.remind is not None else None
    webhook: str | None = None
    if args.wecom_group_webhook is not None:
        value = args.wecom_group_webhook.strip()
        webhook = None if value.lower() in {"none", "off", ""} else group_webhook(value, settings)

    async def operation(database: Database, settings: Settings) -> list[str]:
        from bot.campaign_setup import CampaignSetup
        from storage.campaigns import get_campaign

        lines: list[str] = []
        if args.wecom_group_webhook is not None:
            async with database.transaction() as session:
                campaign = await get_campaign(session=session, campaign_id=args.campaign_id, for_update=True)
                campaign.wecom_group_webhook = webhook
            if webhook is None:
                lines.append(f"campaign {campaign.id}: no WeCom group digest any more")
            else:
                lines.append(
                    f"campaign {campaign.id}: each reminder slot posts a digest to the WeCom group ({webhook_text(webhook)})"
                )
        if reminders is not None:
            changed = await CampaignSetup(database=database).set_reminders(
                campaign_id=args.campaign_id, offsets=tuple(reminders), now=datetime.now(UTC)
            )
            text = ", ".join(format_duration(offset) for offset in changed.offsets) or "none"
            lines.append(f"campaign {changed.campaign_id}: reminders {text} before the deadline")
            if changed.upcoming:
                zone = parse_zone(changed.timezone)
                times = ", ".join(f"{slot.send_at.astimezone(zone):%Y-%m-%d %H:%M}" for slot in changed.upcoming)
                lines.append(f"reminders to come: {times} ({changed.timezone})")
            else:
                lines.append("no reminders to come")
        return lines

    for line in run_with_database(operation, settings=settings):
        print(line)
    return 0


def handle_list(args: argparse.Namespace) -> int:
    async def operation(database: Database, settings: Settings) -> list[str]:
        from storage.campaigns import list_campaigns

        async with database.read() as session:
            progress = await list_campaigns(session=session)
        if not progress:
            return ["no campaigns yet; create one with surveybot campaign create"]
        rows = [
            [
                str(item.campaign.id),
                item.campaign.title,
                format_deadline(item.campaign.deadline, item.campaign.timezone),
                item.campaign.status.value,
                str(item.units),
                str(item.submitted),
            ]
            for item in progress
        ]
        return format_table(["ID", "TITLE", "DEADLINE", "STATUS", "UNITS", "SUBMITTED"], rows)

    for line in run_with_database(operation):
        print(line)
    return 0


def handle_close(args: argparse.Namespace) -> int:
    async def operation(database: Database, settings: Settings) -> bool:
        from bot.campaign_setup import CampaignSetup

        return await CampaignSetup(database=database).close(campaign_id=args.campaign_id, now=datetime.now(UTC))

    if run_with_database(operation):
        print(f"campaign {args.campaign_id} closed; no more answers are taken")
    else:
        print(f"campaign {args.campaign_id} was already closed")
    return 0


def handle_deadline(args: argparse.Namespace) -> int:
    deadline = parse_deadline(args.deadline)

    async def operation(database: Database, settings: Settings) -> DeadlineMove | SetupRejection:
        from bot.campaign_setup import CampaignSetup

        return await CampaignSetup(database=database).move_deadline(
            campaign_id=args.campaign_id, deadline=deadline, now=datetime.now(UTC)
        )

    from bot.campaign_setup import SetupRejection

    moved = run_with_database(operation)
    if isinstance(moved, SetupRejection):
        raise CommandError(f"--deadline {args.deadline}: {moved.message}")
    print(
        f"campaign {moved.campaign_id}: deadline moved from {format_deadline(moved.old_deadline, moved.timezone)} "
        f"to {format_deadline(moved.new_deadline, moved.timezone)}"
    )
    if moved.upcoming:
        zone = parse_zone(moved.timezone)
        times = ", ".join(f"{slot.send_at.astimezone(zone):%Y-%m-%d %H:%M}" for slot in moved.upcoming)
        print(f"reminders to come: {times} ({moved.timezone})")
    else:
        print("no reminders to come")
    return 0


def handle_reopen(args: argparse.Namespace) -> int:
    async def operation(database: Database, settings: Settings) -> str:
        from bot.campaign_setup import CampaignSetup
        from storage.campaigns import get_campaign
        from storage.models import CampaignStatus
        from storage.responses import get_unit_response, reopen_response
        from storage.rosters import get_unit

        if args.unit is None:
            if await CampaignSetup(database=database).reopen(campaign_id=args.campaign_id):
                return f"campaign {args.campaign_id} reopened; answers are taken again"
            return f"campaign {args.campaign_id} is open already"
        async with database.transaction() as session:
            campaign = await get_campaign(session=session, campaign_id=args.campaign_id, for_update=True)
            if campaign.status is not CampaignStatus.OPEN:
                raise CommandError(
                    f"campaign {campaign.id} is closed; reopen it first with `surveybot campaign reopen {campaign.id}`"
                )
            unit = await get_unit(session=session, campaign=campaign, name=args.unit)
            response = await get_unit_response(session=session, unit=unit, for_update=True)
            if await reopen_response(session=session, response=response):
                return f"unit {unit.name!r} of campaign {campaign.id}: response reopened for editing"
            return f"unit {unit.name!r} of campaign {campaign.id} has not submitted; its response is editable already"

    print(run_with_database(operation))
    return 0
