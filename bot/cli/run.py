"""``surveybot run``: the Telegram bot (by polling or behind a webhook), the web chat and the WeCom app.

With ``SURVEYBOT_TELEGRAM_TOKEN`` set the Telegram bot runs; the web chat
(``handlers/web``, personal links ``{SURVEYBOT_PUBLIC_URL}/s/{token}``) is
served on ``--listen`` when there is no token, when ``--listen`` is given, or
when ``SURVEYBOT_PUBLIC_URL`` is set; with a webhook both share one server.

Besides answering updates, the process schedules the campaigns' reminders and
sends the outbox (:class:`bot.reminder_worker.ReminderWorker`, with one
:class:`bot.outbox_sender.OutboxSender` per channel, each given its
transport; Telegram's is built here) as a background task; it stops first on SIGINT/SIGTERM, letting the sends in flight finish.

With the five ``SURVEYBOT_WECOM_*`` settings the WeCom app's callback
``/wecom/callback`` is served on the same ``--listen`` server
(``handlers/wecom``, ``docs/wecom.md``); a partial set stops the start with a
line naming what is missing. The process builds one
:class:`handlers.wecom.pacing.MemberPacer`: WeCom's per-member budget is
shared by the replies and (once wired) the outbox's WeCom transport.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from typing import Any
from urllib.parse import urlsplit

from bot.cli import CommandError
from bot.logs import add_log_file

logger = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the Telegram bot and the web chat",
        description=(
            "Run the Telegram bot (polls by default, or serves a webhook with --webhook-url) and the web chat "
            "(served on --listen; alone when no Telegram token is set)."
        ),
    )
    parser.add_argument("--webhook-url", help="public HTTPS URL Telegram posts updates to")
    parser.add_argument(
        "--listen", metavar="HOST:PORT", help=f"where the web chat and the webhook listen (default {DEFAULT_LISTEN})"
    )
    parser.add_argument("--secret-token", help="secret Telegram sends with every webhook request")
    parser.set_defaults(handler=run_command)


DEFAULT_LISTEN = "127.0.0.1:8443"


def parse_listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"--listen {value!r}: write HOST:PORT, such as 0.0.0.0:8443", exit_code=2)
    return host.strip("[]"), int(port)


def run_command(args: argparse.Namespace) -> int:
    from bot.settings import SettingsError, load_settings
    from handlers.telegram.webhook import SecretTokenError, check_secret_token

    try:
        settings = load_settings()
    except SettingsError as error:
        raise CommandError(str(error), exit_code=2) from None
    telegram = settings.telegram_token is not None and bool(settings.telegram_token.get_secret_value().strip())
    wecom = _wecom_enabled(settings)
    listen = parse_listen(args.listen or DEFAULT_LISTEN)
    web_chat = not telegram or args.listen is not None or settings.public_url is not None or wecom
    webhook: tuple[str, str, int, str] | None = None
    if args.webhook_url:
        if not telegram:
            raise CommandError(
                "--webhook-url needs SURVEYBOT_TELEGRAM_TOKEN; put the token @BotFather gave you in the environment or .env",
                exit_code=2,
            )
        if not args.secret_token:
            raise CommandError("--webhook-url needs --secret-token, so that forged updates are refused", exit_code=2)
        try:
            check_secret_token(args.secret_token)
        except SecretTokenError as error:
            raise CommandError(f"--secret-token: {error}", exit_code=2) from None
        path = urlsplit(args.webhook_url).path or "/"
        webhook = (args.webhook_url, *listen, path)
    if not logging.getLogger().isEnabledFor(logging.INFO):
        logging.getLogger().setLevel(logging.INFO)
    log_file = add_log_file(settings.data_dir / "logs")
    logger.info("logging to %s", log_file)
    if not telegram:
        logger.info("SURVEYBOT_TELEGRAM_TOKEN is not set: serving the web chat alone")
    asyncio.run(
        _serve(settings, webhook, args.secret_token, telegram=telegram, web_chat=listen if web_chat else None, wecom=wecom)
    )
    return 0


def _wecom_enabled(settings: Any) -> bool:
    """Whether the WeCom channel runs; a partial or malformed set of its settings is a one-line error."""
    from bot.settings import WECOM_REQUIRED

    if len(settings.wecom_missing) == len(WECOM_REQUIRED):
        return False  # not used: nothing of the channel is even imported
    from handlers.wecom.setup import WeComSetupError, callback_crypto, check_wecom_settings

    try:
        if not check_wecom_settings(settings):
            return False
        callback_crypto(settings)  # a malformed EncodingAESKey stops the start here, naming the setting
    except WeComSetupError as error:
        raise CommandError(str(error), exit_code=2) from None
    return True


def _email_transport(settings: Any) -> Any:
    """The e-mail transport when ``SURVEYBOT_SMTP_HOST`` is set, else None; incomplete settings are a one-line error."""
    if not settings.email_enabled:
        return None
    from handlers.email.setup import EmailSetupError, email_transport

    try:
        return email_transport(settings)
    except EmailSetupError as error:
        raise CommandError(str(error), exit_code=2) from None


async def _serve(
    settings: Any,
    webhook: tuple[str, str, int, str] | None,
    secret_token: str | None,
    *,
    telegram: bool = True,
    web_chat: tuple[str, int] | None = None,
    wecom: bool = False,
) -> None:
    import time

    import aiohttp
    from aiohttp import web
    from telegram.error import BadRequest, InvalidToken

    from bot.inbox import Inbox
    from bot.memory import freeze_startup_objects
    from bot.outbox_compose import OutboxComposer
    from bot.outbox_sender import OutboxSender
    from bot.reminder_worker import ReminderWorker
    from bot.service import SurveyService
    from bot.survey_cache import SurveyCache
    from handlers.console.app import mount as mount_console
    from handlers.telegram.application import (
        TelegramTokenRefusedError,
        TelegramUnreachableError,
        build_application,
        check_connection,
    )
    from handlers.telegram.intake import ALLOWED_UPDATES, CHANNEL, Intake, UpdateFeeder
    from handlers.telegram.outbox_transport import TelegramTransport
    from handlers.telegram.webhook import make_webhook_app
    from handlers.web.access_log import RedactingAccessLogger
    from handlers.web.app import make_web_app, mount
    from storage.database import Database
    from storage.errors import StorageError
    from storage.migrate import ensure_schema

    if telegram:
        try:
            await check_connection(settings)
        except TelegramTokenRefusedError:
            raise CommandError(
                "Telegram refused SURVEYBOT_TELEGRAM_TOKEN (401 Unauthorized); copy the token @BotFather gave you again",
                exit_code=2,
            ) from None
        except TelegramUnreachableError as error:
            raise CommandError(
                f"cannot reach the Telegram Bot API at {settings.telegram_api_url} ({error}); "
                "check the network, a proxy, or SURVEYBOT_TELEGRAM_API_URL",
                exit_code=1,
            ) from None
    database = Database.from_settings(settings)
    try:
        await ensure_schema(database)
    except StorageError as error:
        await database.dispose()
        raise CommandError(str(error), exit_code=2) from None
    # One compiled-survey cache for the service, the outbox composer and the exports.
    surveys = SurveyCache()
    service = SurveyService(database=database, settings=settings, surveys=surveys)
    # Set when a coordinator confirms a reminder or broadcast: wakes the sender.
    outbox_wakeup = asyncio.Event()
    # The channels reminders and broadcasts go out through: Telegram and WeCom when they run, e-mail when SMTP is set.
    email = _email_transport(settings)
    outbox_channels = tuple(
        channel
        for channel, enabled in (("telegram", telegram), ("email", email is not None), ("wecom", wecom))
        if enabled
    )
    application = (
        build_application(settings, service, on_outbox_enqueued=outbox_wakeup.set, outbox_channels=outbox_channels)
        if telegram
        else None
    )
    intake: Intake | None = None
    if application is not None:
        inbox = Inbox(database=database, channel=CHANNEL, handler=UpdateFeeder(application))
        intake = Intake(application=application, inbox=inbox, polling=webhook is None)
    # WeCom: one per-member pacer for the process, shared by the replies and the outbox's WeCom transport.
    wecom_pacer: Any = None
    wecom_session: aiohttp.ClientSession | None = None
    wecom_channel: Any = None
    wecom_stop = asyncio.Event()
    wecom_recovery: asyncio.Task[None] | None = None
    if wecom:
        from handlers.wecom.pacing import MemberPacer

        wecom_pacer = MemberPacer(clock=time.monotonic)
        wecom_session = aiohttp.ClientSession()
        try:
            wecom_channel = _wecom_channel(
                settings, service, wecom_session, wecom_pacer, outbox_wakeup=outbox_wakeup, outbox_channels=outbox_channels
            )
        except CommandError:
            await wecom_session.close()
            await database.dispose()
            raise
    worker: ReminderWorker | None = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner: web.AppRunner | None = None
    try:
        if application is not None and intake is not None:
            await application.initialize()
            if application.post_init:
                await application.post_init(application)
            await application.start()
            if webhook is None:
                await application.bot.delete_webhook()
            await intake.start()  # what a killed process left comes first
        if wecom_channel is not None:
            recovered = await wecom_channel.inbox.recover(at_start=True)  # what a killed process acknowledged
            if recovered:
                logger.info("handled %d WeCom callback(s) recorded before the restart", recovered)
            wecom_recovery = asyncio.create_task(wecom_channel.inbox.run_recovery(wecom_stop), name="wecom-inbox-recovery")
        root: web.Application | None = None
        if application is not None and intake is not None and webhook is not None:
            assert secret_token is not None
            root = make_webhook_app(application, inbox=intake.inbox, secret_token=secret_token, path=webhook[3])
        if web_chat is not None or root is not None:
            root = root if root is not None else web.Application()
            if web_chat is not None:
                mount(root, make_web_app(service=service, upload_dir=settings.data_dir / "tmp"))
                mount_console(
                    root,
                    console_app(
                        settings, database, surveys,
                        outreach=console_outreach(
                            settings, database, surveys=surveys, on_enqueued=outbox_wakeup.set, outbox_channels=outbox_channels
                        ),
                    ),
                )
            if wecom_channel is not None:
                root.add_routes(wecom_channel.routes)
            host, port = web_chat if web_chat is not None else (webhook[1], webhook[2])  # type: ignore[index]
            runner = web.AppRunner(root, access_log_class=RedactingAccessLogger)
            await runner.setup()
            try:
                await web.TCPSite(runner, host, port).start()
            except OSError as error:
                raise CommandError(
                    f"cannot listen on {host}:{port} ({error.strerror or error}); "
                    "is another process using it? pick another with --listen",
                    exit_code=1,
                ) from None
            if web_chat is not None:
                logger.info(
                    "serving the web chat on %s:%d; links are %s/s/<token>; the coordinator console is at /admin/",
                    host, port, settings.public_url or f"http://{host}:{port}",
                )
            if wecom_channel is not None:
                logger.info("serving the WeCom callback on %s:%d/wecom/callback (API %s)", host, port, settings.wecom_api_url)
        # Reminders and broadcasts: the schedule and one paced outbox sender per channel.
        composer = OutboxComposer(surveys=surveys)
        senders: list[OutboxSender] = []
        if application is not None:
            senders.append(OutboxSender(database=database, transport=TelegramTransport(application.bot), composer=composer))
        if email is not None:
            senders.append(OutboxSender(database=database, transport=email, composer=composer))
            logger.info("reminders and broadcasts also go by e-mail through %s:%d", email.server.host, email.server.port)
        followers: list[Any] = []
        if wecom_channel is not None:
            from handlers.wecom.group_digest import GroupDigest
            from handlers.wecom.outbox_transport import WeComTransport

            # The same pacer as the replies: both count against WeCom's per-member limits, the outbox leaves a reserve.
            senders.append(
                OutboxSender(database=database, transport=WeComTransport(wecom_channel.api, wecom_pacer), composer=composer)
            )
            followers.append(GroupDigest(database=database, api=wecom_channel.api))
        if application is not None:
            if webhook is None:
                logger.info("polling for updates as @%s", application.bot.username)
            else:
                url, host, port, path = webhook
                try:
                    await application.bot.set_webhook(url=url, secret_token=secret_token, allowed_updates=ALLOWED_UPDATES)
                except BadRequest as error:
                    raise CommandError(
                        f"Telegram refused the webhook {url} ({error}); check --webhook-url", exit_code=2
                    ) from None
                logger.info("serving the webhook on %s:%d%s for %s", host, port, path, url)
        if senders:
            worker = ReminderWorker(database=database, senders=senders, wakeup=outbox_wakeup, followers=followers)
            worker.start()
        freeze_startup_objects()  # spares every later collection a walk over start-up state
        try:
            if intake is not None:
                await intake.wait(stop)
            else:
                await stop.wait()
        except InvalidToken:
            raise CommandError(
                "Telegram no longer accepts SURVEYBOT_TELEGRAM_TOKEN (401 Unauthorized); was it revoked?", exit_code=2
            ) from None
    finally:
        if worker is not None:
            await worker.stop()
        if runner is not None:  # no more requests; the updates recorded are handled below
            await runner.cleanup()
        if intake is not None:
            await intake.stop()
        if wecom_channel is not None:
            wecom_stop.set()
            if wecom_recovery is not None:
                await asyncio.gather(wecom_recovery, return_exceptions=True)
            await wecom_channel.inbox.drain(5.0)
        if wecom_session is not None:
            await wecom_session.close()
        if application is not None:
            if application.running:
                await application.stop()
            await application.shutdown()
        await database.dispose()


def _wecom_channel(
    settings: Any, service: Any, session: Any, pacer: Any, *, outbox_wakeup: asyncio.Event, outbox_channels: tuple[str, ...]
) -> Any:
    """The WeCom channel over the process's service, HTTP session and shared pacer (see ``docs/wecom.md``)."""
    from bot.console_access import ConsoleAccess
    from bot.coordination import CoordinatorService
    from bot.outreach import OutreachService
    from exports import CampaignFilesExporter
    from handlers.wecom.setup import WeComSetupError, build_wecom_channel

    coordination = CoordinatorService(
        database=service.database,
        settings=settings,
        exporter=CampaignFilesExporter(database=service.database, data_dir=settings.data_dir, surveys=service.surveys),
    )
    outreach = OutreachService(
        database=service.database, coordination=coordination, on_enqueued=outbox_wakeup.set, outbox_channels=outbox_channels
    )
    try:
        return build_wecom_channel(
            settings=settings,
            service=service,
            session=session,
            pacer=pacer,
            coordination=coordination,
            outreach=outreach,
            access=ConsoleAccess(database=service.database, settings=settings),
            download_dir=settings.data_dir / "tmp",
        )
    except WeComSetupError as error:
        raise CommandError(str(error), exit_code=2) from None


def console_app(settings: Any, database: Any, surveys: Any = None, *, outreach: Any = None) -> Any:
    """The coordinator console over the process's database (``/admin``; see ``docs/console.md``).

    Its downloads are the files of Telegram's ``/export`` (the same exporter).
    """
    from bot.console_access import ConsoleAccess
    from bot.coordination import CoordinatorService
    from exports import CampaignFilesExporter
    from handlers.console.app import make_console_app

    return make_console_app(
        access=ConsoleAccess(database=database, settings=settings),
        coordination=CoordinatorService(
            database=database,
            settings=settings,
            exporter=CampaignFilesExporter(database=database, data_dir=settings.data_dir, surveys=surveys),
        ),
        secure_cookies=(settings.public_url or "").lower().startswith("https://"),
        outreach=outreach,
        surveys=surveys,
    )


def console_outreach(
    settings: Any,
    database: Any,
    *,
    surveys: Any,
    on_enqueued: Any,
    outbox_channels: tuple[str, ...],
    clock: Any = None,
) -> Any:
    """The console's reminders and notices: the outreach service of the process's outbox channels,
    and each channel's message text for the previews."""
    from bot.coordination import CoordinatorService
    from bot.outbox_compose import BroadcastContent, OutboxComposer, ReminderContent
    from bot.outreach import OutreachService
    from handlers.console.outreach import OutreachSetup, Previewer
    from handlers.email.rendering import render_email
    from handlers.telegram.outbox_rendering import render_outbox
    from storage.types import utc_now

    public_url = settings.public_url or f"http://{DEFAULT_LISTEN}"

    def email_text(content: ReminderContent | BroadcastContent) -> str:
        email = render_email(content, public_url=public_url)
        return f"{email.subject}\n\n{email.body}"

    def telegram_text(content: ReminderContent | BroadcastContent) -> str:
        return render_outbox(content).text

    from handlers.wecom.outbox_rendering import render_outbox_text

    previewers: dict[str, Previewer] = {"telegram": telegram_text, "email": email_text, "wecom": render_outbox_text}
    clock = clock or utc_now
    return OutreachSetup(
        service=OutreachService(
            database=database,
            coordination=CoordinatorService(database=database, settings=settings, clock=clock),
            clock=clock,
            on_enqueued=on_enqueued,
            outbox_channels=outbox_channels,
            composer=OutboxComposer(surveys=surveys),
        ),
        previewers=previewers,
    )
