"""``surveybot remind``: remind the units that have not submitted, from the command line.

``surveybot remind --campaign ID`` enqueues a manual reminder (one outbox row
per respondent of every unit not submitted) and sends it itself, through the
Bot API with ``SURVEYBOT_TELEGRAM_TOKEN``, paced like the bot, printing the
progress and a summary (sent, failed, unreachable, by name). When
``SURVEYBOT_SMTP_HOST`` is set it also sends by e-mail to the units' contact
addresses (one sender per channel, at once); with only SMTP set it sends the
e-mails and leaves the Telegram rows to the running bot. It goes through
the same outbox as the bot: when a bot process (``surveybot run``) is running
on the same database it may take a share of the rows, and each message is
still sent once.

``--enqueue-only`` leaves the sending to the running bot (no token needed;
it picks the batch up within seconds). ``--dry-run`` only says who would be
reminded. Ctrl-C stops after the sends in flight; the rest stays queued for
the running bot or another ``surveybot remind``.

Exit codes: 0 done, 1 a problem with the campaign or some messages failed,
2 bad configuration (no token nor SMTP host, Telegram refusing the token,
incomplete SMTP settings, database unusable).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from typing import TYPE_CHECKING

from bot.cli import CommandError, row_id
from bot.cli.database import cli_settings, run_with_database

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from telegram import Bot

    from bot.core.campaigns import CampaignSummary
    from bot.outbox_transport import Transport
    from bot.settings import Settings
    from handlers.email.outbox_transport import EmailTransport
    from storage.audience import Audience
    from storage.database import Database

logger = logging.getLogger(__name__)

#: Seconds between two progress lines.
PROGRESS_INTERVAL = 2.0
#: Seconds to wait for rows another process is sending when ours are done.
FOREIGN_WAIT_SECONDS = 60.0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "remind",
        help="remind the units that have not submitted",
        description=(
            "Send a reminder now to every respondent of the units that have not submitted: "
            "the survey, the deadline, the unit's progress and a button to continue. "
            "Sends through SURVEYBOT_TELEGRAM_TOKEN, and by e-mail to the units' contact addresses "
            "when SURVEYBOT_SMTP_HOST is set, unless --enqueue-only."
        ),
    )
    parser.add_argument("--campaign", type=row_id, required=True, metavar="ID", help="the campaign's id")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="only say who would be reminded")
    mode.add_argument(
        "--enqueue-only",
        action="store_true",
        help="queue the reminder for the running bot (surveybot run) instead of sending it here",
    )
    parser.set_defaults(handler=handle_remind)


def audience_lines(campaign: CampaignSummary, audience: Audience) -> list[str]:
    lines = [
        f"campaign {campaign.id} {campaign.title}: {len(audience.respondent_ids)} respondent(s) "
        f"of {len(audience.units)} unit(s) not submitted"
    ]
    if audience.units_without_respondents:
        lines.append(
            f"{len(audience.units_without_respondents)} unit(s) not submitted have nobody bound and get "
            "no reminder: " + ", ".join(audience.units_without_respondents)
        )
    return lines


def outbox_channels(settings: Settings) -> tuple[str, ...]:
    """The channels reminders go to: Telegram, e-mail when ``SURVEYBOT_SMTP_HOST`` is set, WeCom when its settings are."""
    return (
        "telegram",
        *(("email",) if settings.email_enabled else ()),
        *(("wecom",) if settings.wecom_enabled else ()),
    )


def _email_transport(settings: Settings) -> EmailTransport | None:
    if not settings.email_enabled:
        return None
    from handlers.email.setup import EmailSetupError, email_transport

    try:
        return email_transport(settings)
    except EmailSetupError as error:
        raise CommandError(str(error), exit_code=2) from None


def handle_remind(args: argparse.Namespace) -> int:
    settings = cli_settings()
    sending = not (args.dry_run or args.enqueue_only)
    telegram = settings.telegram_token is not None and bool(settings.telegram_token.get_secret_value().strip())
    email = _email_transport(settings) if sending else None
    if sending and not telegram and email is None and not settings.wecom_enabled:
        raise CommandError(
            "SURVEYBOT_TELEGRAM_TOKEN is not set (nor SURVEYBOT_SMTP_HOST, nor the SURVEYBOT_WECOM_* settings); "
            "set one to send from here, "
            "or use --enqueue-only to let the running bot send the reminder",
            exit_code=2,
        )

    async def operation(database: Database, settings: Settings) -> int:
        from bot.coordination import CoordinatorService
        from bot.outreach import OutreachService, Refused
        from storage.errors import CampaignNotFoundError

        outreach = OutreachService(
            database=database,
            coordination=CoordinatorService(database=database, settings=settings),
            outbox_channels=outbox_channels(settings),
        )
        try:
            if args.dry_run:
                preview = await outreach.preview_reminder(campaign_id=args.campaign)
                if isinstance(preview, Refused):
                    raise CommandError(_refusal_text(preview))
                for line in audience_lines(preview.campaign, preview.audience):
                    print(line)
                return 0
            bot = await _open_bot(settings) if sending and telegram else None
            try:
                queued = await outreach.enqueue_reminder(campaign_id=args.campaign, requested_by="cli")
                if isinstance(queued, Refused):
                    raise CommandError(_refusal_text(queued))
                for line in audience_lines(queued.campaign, queued.audience):
                    print(line)
                if queued.batch_id is None:
                    print("nobody to remind")
                    return 0
                if not sending:
                    print(f"queued as outbox batch {queued.batch_id}; the running bot (surveybot run) sends it")
                    return 0
                async with _wecom_transport(settings) as wecom:
                    return await _send(database, _transports(bot, email, wecom), queued.batch_id, queued.total)
            finally:
                if bot is not None:
                    with contextlib.suppress(Exception):
                        await bot.shutdown()
        except CampaignNotFoundError as error:
            raise CommandError(str(error)) from None

    return run_with_database(operation, settings=settings)


def _refusal_text(refused: object) -> str:
    from bot.core.read_only import ReadOnlyReason
    from bot.outreach import Refused

    assert isinstance(refused, Refused)
    campaign = refused.campaign
    if refused.reason is ReadOnlyReason.CLOSED:
        return f"campaign {campaign.id} is closed; reopen it first (surveybot campaign reopen {campaign.id})"
    return f"campaign {campaign.id} is past its deadline; reminders are no longer sent"


async def _open_bot(settings: Settings) -> Bot:
    from telegram import Bot
    from telegram.error import InvalidToken, TelegramError

    from handlers.telegram.http_client import AiohttpRequest

    assert settings.telegram_token is not None
    bot = Bot(
        settings.telegram_token.get_secret_value(),
        base_url=settings.telegram_api_url,
        base_file_url=settings.telegram_file_url,
        request=AiohttpRequest(connection_pool_size=32),
    )
    try:
        await bot.initialize()
    except InvalidToken:
        raise CommandError("Telegram refused SURVEYBOT_TELEGRAM_TOKEN; check the token", exit_code=2) from None
    except TelegramError as error:
        raise CommandError(f"cannot reach the Telegram Bot API: {error.message}", exit_code=2) from None
    return bot


@contextlib.asynccontextmanager
async def _wecom_transport(settings: Settings) -> AsyncIterator[Transport | None]:
    """The WeCom outbox transport when its settings are set (with its own HTTP session and pacer), else None."""
    if not settings.wecom_enabled:
        yield None
        return
    import time

    import aiohttp

    from handlers.wecom.outbox_transport import WeComTransport
    from handlers.wecom.pacing import MemberPacer
    from handlers.wecom.setup import WeComSetupError, wecom_api

    async with aiohttp.ClientSession() as session:
        try:
            api = wecom_api(settings, session)
        except WeComSetupError as error:
            raise CommandError(str(error), exit_code=2) from None
        yield WeComTransport(api, MemberPacer(clock=time.monotonic))


def _transports(bot: Bot | None, email: EmailTransport | None, wecom: Transport | None = None) -> list[Transport]:
    from handlers.telegram.outbox_transport import TelegramTransport

    transports: list[Transport] = [TelegramTransport(bot)] if bot is not None else []
    if email is not None:
        transports.append(email)
    if wecom is not None:
        transports.append(wecom)
    return transports


async def _send(database: Database, transports: list[Transport], batch_id: int, total: int) -> int:
    """Send the batch through one sender per channel, at once; print the progress and the summary."""
    from bot.outbox_compose import OutboxComposer
    from bot.outbox_sender import OutboxSender
    from storage.models import DeliveryStatus
    from storage.outbox import OPEN_STATUSES, delivery_counts, delivery_problems, get_batch

    composer = OutboxComposer()
    senders = [OutboxSender(database=database, transport=transport, composer=composer) for transport in transports]
    for sender in senders:
        await sender.recover()

    async def counts() -> dict[DeliveryStatus, int]:
        async with database.read() as session:
            return await delivery_counts(session=session, batch_id=batch_id)

    async def progress() -> None:
        shown = -1
        while True:
            await asyncio.sleep(PROGRESS_INTERVAL)
            sent = (await counts())[DeliveryStatus.SENT]
            if sent != shown:
                print(f"sent {sent}/{total}", flush=True)
                shown = sent

    def stop_all() -> None:
        for sender in senders:
            sender.request_stop()

    async def drain_all() -> None:
        await asyncio.gather(*(sender.drain(batch_id=batch_id) for sender in senders))

    loop = asyncio.get_running_loop()
    # Ctrl-C: stop claiming, let the sends in flight finish (main thread only).
    interruptible = False
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, stop_all)
        interruptible = True
    printer = asyncio.create_task(progress())
    try:
        await drain_all()
        waited = 0.0
        while not senders[0].stopping and waited < FOREIGN_WAIT_SECONDS:
            current = await counts()
            if not any(current[status] for status in OPEN_STATUSES):
                break
            await asyncio.sleep(1.0)  # rows another process (or channel) is sending
            waited += 1.0
            await drain_all()
    finally:
        printer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await printer
        if interruptible:
            loop.remove_signal_handler(signal.SIGINT)
    for sender in senders:
        await sender.report(batch_id=batch_id, force=True)
    final = await counts()
    async with database.read() as session:
        problems = await delivery_problems(session=session, batch=await get_batch(session=session, batch_id=batch_id))
    print(
        f"sent {final[DeliveryStatus.SENT]}/{total}, failed {final[DeliveryStatus.FAILED]}, "
        f"unreachable {final[DeliveryStatus.UNREACHABLE]}, skipped {final[DeliveryStatus.SKIPPED]}"
    )
    for problem in problems:
        units = ", ".join(problem.units) or "-"
        print(f"{problem.status.value}: {units} / {problem.name}: {problem.reason}")
    left = sum(final[status] for status in OPEN_STATUSES)
    if left:
        print(f"{left} message(s) still queued; the running bot (surveybot run) or another surveybot remind sends them")
    return 1 if final[DeliveryStatus.FAILED] else 0
