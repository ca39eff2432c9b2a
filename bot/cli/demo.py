"""``surveybot demo``: a working collection on this machine in one command, answered in the browser.

Creates (or reuses) a SQLite database in ``--data-dir`` with a campaign on the
shipped Nantong survey and Nantong's county-level units in mixed states, made
through the service as real answers: two submitted, two half done, three not
started. Prints each unit's web chat link, a sign-in link to the coordinator
console (``/admin``: progress, the workbook, reminders) for the demo's
coordinator account ``web:demo``, and the command that compiles the workbook,
then serves the web chat and the console until Ctrl-C. Each start prints a
fresh sign-in link: it works once, for :data:`CONSOLE_LINK_TTL`.

The demo keeps its links in ``DATA_DIR/demo-links.tsv`` (tokens are stored
hashed, so this file is the only way to show them again on the next start):
it is a demonstration, not a place for real units' links.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shlex
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli import CommandError
from bot.cli.run import parse_listen

if TYPE_CHECKING:
    from bot.core.actions import Action
    from bot.core.outcome import Outcome
    from bot.service import SurveyService
    from bot.settings import Settings
    from storage.database import Database

logger = logging.getLogger(__name__)

SURVEY_FILE = Path(__file__).resolve().parents[2] / "surveys" / "nantong-midterm-2023.yaml"
CAMPAIGN_TITLE = "南通市《规划》实施情况中期评估（演示）"
#: Nantong's county-level units and how far each has got: None not started, a number of answers, or "submitted".
UNITS: tuple[tuple[str, int | str | None], ...] = (
    ("崇川区", "submitted"),
    ("通州区", "submitted"),
    ("海门区", 9),
    ("如皋市", 4),
    ("海安市", None),
    ("启东市", None),
    ("如东县", None),
)
LINKS_FILE = "demo-links.tsv"
#: The demo's coordinator: a web account, since the demo runs no chat channel.
COORDINATOR_CHANNEL, COORDINATOR_ID = "web", "demo"
#: How long the printed console sign-in link works (once): a newcomer may read the output later.
CONSOLE_LINK_TTL = timedelta(hours=12)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="try surveybot in the browser: a demo campaign, its links, the web chat",
        description=(
            "Create (or reuse) a demo campaign on the Nantong survey with seven units in mixed states, "
            "print their web chat links and serve the web chat until Ctrl-C."
        ),
    )
    parser.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT", help="where the web chat listens")
    parser.add_argument("--data-dir", default="surveybot-demo", metavar="DIR", help="the demo's database and files")
    parser.set_defaults(handler=handle_demo)


def handle_demo(args: argparse.Namespace) -> int:
    from bot.cli.run import _serve
    from bot.console_access import login_url
    from bot.logs import add_log_file
    from bot.settings import SettingsError, load_settings

    host, port = parse_listen(args.listen)
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        settings = load_settings(
            data_dir=data_dir,
            database_url=f"sqlite+aiosqlite:///{data_dir / 'surveybot.db'}",
            telegram_token=None,
        )
    except SettingsError as error:
        raise CommandError(str(error), exit_code=2) from None
    if not SURVEY_FILE.is_file():
        raise CommandError(f"{SURVEY_FILE} is missing; run the demo from a checkout (pip install -e .)", exit_code=2)
    base = settings.public_url or f"http://{host if host not in ('0.0.0.0', '::') else '127.0.0.1'}:{port}"
    links = asyncio.run(prepare(settings))
    console_token = asyncio.run(console_login_token(settings))
    print("surveybot demo: 南通市《规划》实施情况中期评估 (Nantong survey), seven units")
    print()
    for name, token, state in links:
        print(f"  {name}\t{state}\t{base}/s/{token}")
    print()
    print("Open a link on a phone-sized browser window (or in WeChat) and answer to 已提交 (submitted).")
    print()
    print("The coordinator console (progress, the workbook, reminders): open this sign-in link on a desktop browser;")
    print(f"it works once, for {CONSOLE_LINK_TTL.total_seconds() / 3600:g} hours (`surveybot demo` prints a new one each start):")
    print(f"  {login_url(base, console_token)}")
    print("The coordinator's workbook, any time, in another terminal:")
    # The database URL too: a SURVEYBOT_DATABASE_URL of the shell or a .env would win over the data directory.
    environment = f"SURVEYBOT_DATABASE_URL={shlex.quote(str(settings.database_url))} SURVEYBOT_DATA_DIR={shlex.quote(str(data_dir))}"
    print(f"  {environment} {this_command()} export --campaign {links_campaign(settings)} -o nantong.xlsx")
    print()
    print(f"Serving the web chat and the console on {host}:{port}; press Ctrl-C to stop.", flush=True)
    if not logging.getLogger().isEnabledFor(logging.INFO):
        logging.getLogger().setLevel(logging.INFO)
    add_log_file(data_dir / "logs")
    asyncio.run(_serve(settings, None, None, telegram=False, web_chat=(host, port)))
    print("Stopped. Run `surveybot demo` again to continue where you left off.")
    return 0


async def console_login_token(settings: Settings) -> str:
    """A one-time console sign-in token for the demo's coordinator (made a coordinator on first use)."""
    from bot.console_access import ConsoleAccess
    from storage.coordinators import add_coordinator
    from storage.database import Database

    database = Database.from_settings(settings)
    try:
        async with database.transaction() as session:
            await add_coordinator(session=session, channel=COORDINATOR_CHANNEL, external_id=COORDINATOR_ID)
        access = ConsoleAccess(database=database, settings=settings)
        return await access.issue_login_link(channel=COORDINATOR_CHANNEL, external_id=COORDINATOR_ID, ttl=CONSOLE_LINK_TTL)
    finally:
        await database.dispose()


def this_command() -> str:
    """How to run surveybot again as it was run now: ``.venv/bin/surveybot`` is often not on the PATH."""
    script = Path(sys.argv[0])
    if script.name == "surveybot" and script.is_file():
        return shlex.quote(str(script.absolute()))
    return f"{shlex.quote(sys.executable)} -m bot.cli"


def links_campaign(settings: Settings) -> int:
    return int((settings.data_dir / LINKS_FILE).read_text(encoding="utf-8").splitlines()[0].split("\t")[1])


async def prepare(settings: Settings) -> list[tuple[str, str, str]]:
    """The demo campaign's units, tokens and states; created with their answers on the first run."""
    from bot.service import SurveyService
    from storage.database import Database
    from storage.migrate import ensure_schema

    links_path = settings.data_dir / LINKS_FILE
    database = Database.from_settings(settings)
    try:
        await ensure_schema(database)
        if not links_path.is_file():
            service = SurveyService(database=database, settings=settings)
            campaign_id, tokens = await create_campaign(database)
            for name, progress in UNITS:
                if progress is not None:
                    await answer(service, tokens[name], submit=progress == "submitted", limit=progress if isinstance(progress, int) else None)
            lines = [f"campaign\t{campaign_id}"] + [f"{name}\t{tokens[name]}" for name, _ in UNITS]
            links_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            logger.info("demo campaign %s created in %s", campaign_id, settings.data_dir)
        rows = [line.split("\t") for line in links_path.read_text(encoding="utf-8").splitlines()[1:]]
        return [(name, token, await unit_state(database, name)) for name, token in rows]
    finally:
        await database.dispose()


async def create_campaign(database: Database) -> tuple[int, dict[str, str]]:
    from bot.survey_files import load_survey
    from storage.campaigns import create_campaign as store_campaign
    from storage.invitations import create_invitation
    from storage.rosters import add_units
    from storage.surveys import store_survey

    survey = load_survey(SURVEY_FILE)
    now = datetime.now(UTC)
    tokens: dict[str, str] = {}
    async with database.transaction() as session:
        version = await store_survey(session=session, survey=survey)
        campaign = await store_campaign(
            session=session, survey_version=version, title=CAMPAIGN_TITLE, deadline=now + timedelta(days=14), now=now
        )
        for unit in await add_units(session=session, campaign=campaign, names=[name for name, _ in UNITS]):
            tokens[unit.name] = (await create_invitation(session=session, unit=unit, now=now))[1]
        return campaign.id, tokens


async def unit_state(database: Database, name: str) -> str:
    from sqlalchemy import select

    from storage.models import Response, Unit

    async with database.read() as session:
        response = await session.scalar(select(Response).join(Unit).where(Unit.name == name, Unit.campaign.has(title=CAMPAIGN_TITLE)))
        return response.status.value if response is not None else "?"


async def answer(service: SurveyService, token: str, *, submit: bool, limit: int | None) -> None:
    """Answer as a respondent would, through the link: sample answers, the optional file skipped."""
    from bot.core.actions import Submit
    from bot.core.events import AnswerChanged
    from bot.core.outcome import SubmissionReceipt

    answered = 0
    action: Action | None = None
    result = await service.view_link(token=token)
    for _ in range(200):
        action = next_action(result.outcome)
        if action is None:
            return
        if isinstance(action, Submit) and not submit:
            return
        result = await service.act_on_link(token=token, key=uuid.uuid4().hex, action=action, expected_position=None)
        if any(isinstance(event, AnswerChanged) for event in result.outcome.events):
            answered += 1
            if limit is not None and answered >= limit:
                return
        if any(isinstance(event, SubmissionReceipt) for event in result.outcome.events):
            return
    raise CommandError("the demo answers did not reach the end of the survey; the survey file changed?")


def next_action(outcome: Outcome) -> Action | None:
    """A plausible answer to the newest question, finishing drafts and selections, submitting from the review."""
    from bot.core.actions import AnswerText, ChooseOption, Finish, Skip, Submit, ToggleOption
    from bot.core.definition import QuestionType
    from bot.core.events import DraftUpdated, Prompt, Rejected, ReviewShown

    for event in reversed(outcome.events):
        if isinstance(event, DraftUpdated):
            return Finish(question_id=event.question_id)
        if isinstance(event, ReviewShown):
            return Submit() if event.can_submit and not event.missing else None
        prompt = event.prompt if isinstance(event, Rejected) else event if isinstance(event, Prompt) else None
        if prompt is None:
            continue
        qid = prompt.question_id
        if prompt.awaiting_other:
            return AnswerText(text="科普工作联席会议")
        match prompt.kind:
            case QuestionType.YES_NO:
                return ChooseOption(value=prompt.choices[0].value, question_id=qid)
            case QuestionType.SELECT_ONE:
                return ChooseOption(value="#0", question_id=qid)
            case QuestionType.SELECT_MULTIPLE:
                if any(choice.selected for choice in prompt.choices):
                    return Finish(question_id=qid)
                return ToggleOption(value="#0", question_id=qid)
            case QuestionType.LONG_TEXT:
                return AnswerText(text="按计划推进，成效明显。")
            case QuestionType.FILE:
                return Skip(question_id=qid)
            case QuestionType.INTEGER | QuestionType.DECIMAL:
                return AnswerText(text="3")
            case QuestionType.DATE:
                return AnswerText(text="2023-04-26")
            case QuestionType.PHONE:
                return AnswerText(text="0513-59003013")
            case QuestionType.EMAIL:
                return AnswerText(text="kexie@example.org")
            case _:
                return AnswerText(text="示例填报")
    return None
