"""The WeCom respondent's conversation: one recorded callback through the survey service, and the reply.

:class:`WeComConversation` is the durable inbox's handler for the ``wecom``
channel (:mod:`bot.inbox`): the callback route records the decrypted XML
and acknowledges; this runs the survey step after, and again after a
restart for whatever a killed process left. The callback's dedup key is the
service's update id, so a second handling (a retry, WeCom's third try)
changes nothing and shows nothing.

Callbacks of one member are handled in the order they were recorded (one
lock per member); different members' run concurrently, a few at a time.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from bot.core.actions import Action, AnswerText, ChooseOption, Finish, InputKind, Resume, ShowReview, Unsupported, Upload
from bot.core.catalog import translate
from bot.core.definition import QuestionType
from bot.core.events import Event, Prompt, Rejected, RejectionCode
from bot.core.file_content import fits_extension
from bot.core.outcome import Notice, Outcome, UnitChoices
from bot.service import ChannelUser, SurveyService
from handlers.wecom.account_state import AccountState
from handlers.wecom.api import MediaDownloaded, MediaTooLarge, WeComApi
from handlers.wecom.api import Rejected as ApiRejected
from handlers.wecom.cards import MultipleChoicePress, SingleChoicePress, read_press
from handlers.wecom.coordinator import WeComCoordinator
from handlers.wecom.inbound import (
    EnterAgentEvent,
    ImageMessage,
    InboundCallback,
    LinkMessage,
    LocationMessage,
    MenuClickEvent,
    TemplateCardEvent,
    TextMessage,
    VideoMessage,
    VoiceMessage,
    parse_inbound,
)
from handlers.wecom.menu import MenuKey
from handlers.wecom.rendering import render_outcome
from handlers.wecom.replies import WeComReplies
from handlers.wecom.words import Answer, Bind, BindUsage, Coordinate, Help, Navigate, Units, read_typed
from storage.inbox import InboxEntry

logger = logging.getLogger(__name__)

CHANNEL = "wecom"
#: Callbacks handled at once (across members): the rest wait, so that the database's write queue stays short
#: and the acknowledgements of new callbacks, which write too, are not stuck behind it.
MAX_CONCURRENT_HANDLINGS = 4
#: The largest photo fetched (media/get); WeCom's own limit for images is 10 MB.
MAX_PHOTO_BYTES = 20 * 1024 * 1024
#: What a photo may be, by its first bytes: (extension, MIME type).
PHOTO_TYPES: tuple[tuple[str, str], ...] = (("jpg", "image/jpeg"), ("png", "image/png"), ("gif", "image/gif"))


class MediaUnavailableError(Exception):
    """WeCom could not hand over a photo for a passing reason; the inbox tries the callback again."""


def channel_user(user_id: str) -> ChannelUser:
    return ChannelUser(channel=CHANNEL, external_id=user_id)


class WeComConversation:
    """Handles recorded WeCom callbacks: respondents through the service, coordinators through commands."""

    def __init__(
        self,
        *,
        service: SurveyService,
        api: WeComApi,
        replies: WeComReplies,
        accounts: AccountState,
        coordinator: WeComCoordinator,
        download_dir: Path,
        cards: bool = False,
        public_url: str | None = None,
        max_concurrent: int = MAX_CONCURRENT_HANDLINGS,
    ) -> None:
        self.service = service
        self.api = api
        self.replies = replies
        self.accounts = accounts
        self.coordinator = coordinator
        self.download_dir = download_dir
        self.cards = cards
        self.public_url = public_url
        self._slots = asyncio.Semaphore(max_concurrent)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._waiting: defaultdict[str, int] = defaultdict(int)

    async def __call__(self, entry: InboxEntry) -> None:
        callback = parse_inbound(entry.payload.encode("utf-8"))
        async with self._member(callback.user_id), self._slots:
            try:
                await self.dispatch(callback, update_id=entry.dedup_key)
            except MediaUnavailableError:
                raise  # the inbox tries again: media ids last three days
            except Exception:
                logger.error("handling WeCom callback %s of %s failed", entry.dedup_key, callback.user_id, exc_info=True)
                await self._apologise(callback.user_id)
                raise

    async def dispatch(self, callback: InboundCallback, *, update_id: str) -> None:
        user_id = callback.user_id
        match callback:
            case TextMessage():
                await self.text(user_id, callback, update_id=update_id)
            case ImageMessage():
                await self.photo(user_id, callback, update_id=update_id)
            case VoiceMessage():
                await self.act(user_id, Unsupported(kind=InputKind.VOICE), update_id=update_id)
            case VideoMessage():
                await self.act(user_id, Unsupported(kind=InputKind.VIDEO), update_id=update_id)
            case LocationMessage():
                await self.act(user_id, Unsupported(kind=InputKind.LOCATION), update_id=update_id)
            case LinkMessage():
                await self.act(user_id, Unsupported(kind=InputKind.OTHER), update_id=update_id)
            case EnterAgentEvent():
                await self.start(user_id, token=None, update_id=update_id)
            case MenuClickEvent():
                await self.menu_click(user_id, callback, update_id=update_id)
            case TemplateCardEvent():
                await self.card_press(user_id, callback, update_id=update_id)
            case _:
                logger.debug("WeCom callback %s of %s not acted on (%s)", update_id, user_id, type(callback).__name__)

    # -- inputs ---------------------------------------------------------------------------

    async def text(self, user_id: str, message: TextMessage, *, update_id: str) -> None:
        """A typed message: a word, a command, an invitation token, or an answer."""
        typed = read_typed(message.content)
        if isinstance(typed, Coordinate):
            if typed.slash or await self.accounts.is_coordinator(user_id):
                language = (await self.accounts.standing(user_id)).language
                await self.coordinator.handle(user_id, typed, update_id=update_id, language=language)
                return
            typed = Answer(message.content)
        match typed:
            case Navigate(action=action):
                await self.act(user_id, action, update_id=update_id)
            case Bind(token=token, bare=bare):
                if bare and token is not None:
                    standing = await self.accounts.standing(user_id)
                    if standing.bound and not await self.accounts.invitation_exists(token):
                        await self.act(user_id, AnswerText(text=message.content, part_id=message.msg_id), update_id=update_id)
                        return
                await self.start(user_id, token=token, update_id=update_id)
            case BindUsage():
                await self.say(user_id, "wecom.bind_usage")
            case Help():
                await self.help(user_id)
            case Units(number=number):
                await self.units(user_id, number, update_id=update_id)
            case Answer(text=text):
                await self.act(user_id, AnswerText(text=text, part_id=message.msg_id), update_id=update_id)

    async def photo(self, user_id: str, message: ImageMessage, *, update_id: str) -> None:
        """A photo answers a file question: fetched at once (media ids last three days), checked by content, stored."""
        downloaded = await self.api.download_media(message.media_id, max_bytes=MAX_PHOTO_BYTES)
        if isinstance(downloaded, MediaTooLarge):
            await self.say(user_id, "wecom.photo_too_big")
            return
        if isinstance(downloaded, ApiRejected):
            logger.warning("photo %s of %s could not be fetched: %s", message.media_id, user_id, downloaded.detail)
            await self.say(user_id, "wecom.photo_unavailable")
            return
        if not isinstance(downloaded, MediaDownloaded):
            raise MediaUnavailableError(f"media/get for a photo of {user_id}: {downloaded}")
        extension, mime = _photo_type(downloaded.content)
        self.download_dir.mkdir(parents=True, exist_ok=True)
        path = self.download_dir / f"{uuid.uuid4().hex}.part"
        try:
            await asyncio.to_thread(path.write_bytes, downloaded.content)
            upload = Upload(name=f"照片-{message.msg_id}.{extension}", size=len(downloaded.content), mime=mime, ref=str(path))
            outcome = await self.service.act(user=channel_user(user_id), update_id=update_id, action=upload)
        finally:
            await asyncio.to_thread(path.unlink, True)
        await self.send(user_id, outcome)

    async def menu_click(self, user_id: str, event: MenuClickEvent, *, update_id: str) -> None:
        """继续填写 resumes, 我的进度 shows the answers so far, 帮助 explains."""
        if event.event_key == MenuKey.CONTINUE:
            await self.act(user_id, Resume(), update_id=update_id)
        elif event.event_key == MenuKey.PROGRESS:
            await self.act(user_id, ShowReview(), update_id=update_id)
        elif event.event_key == MenuKey.HELP:
            await self.help(user_id)
        else:
            logger.info("menu click %r of %s: not a key of this app's menu", event.event_key, user_id)

    async def card_press(self, user_id: str, event: TemplateCardEvent, *, update_id: str) -> None:
        """A card press counts like the typed number, for the card's question only; the card then shows the choice.

        The action carries the card's question and the engine checks it in the
        step's own write transaction: a press after the response moved on (a
        typed answer, another device or channel) changes nothing, and the
        member is told the card is out of date and shown where the answers are.
        """
        press = read_press(event)
        if press is None:
            logger.info("template card press %r of %s: not a card of this survey", event.event_key, user_id)
            return
        action: Action
        if isinstance(press, SingleChoicePress):
            action = ChooseOption(value=press.value, question_id=press.question_id)
            shown = press.shown
        else:
            assert isinstance(press, MultipleChoicePress)
            numbers = " ".join(str(number) for number in press.numbers)
            action = (
                AnswerText(text=numbers, question_id=press.question_id) if numbers else Finish(question_id=press.question_id)
            )
            shown = "、".join(str(number) for number in press.numbers) or "—"
        outcome = await self.service.act(user=channel_user(user_id), update_id=update_id, action=action)
        if outcome.duplicate:
            return
        rejection = next((event for event in outcome.events if isinstance(event, Rejected)), None)
        if rejection is None:
            await self.replies.update_card(
                user_id,
                response_code=event.response_code,
                replace_name=translate(outcome.language, "wecom.card_chosen", choice=shown),
            )
        elif rejection.code is RejectionCode.STALE:
            await self.replies.update_card(
                user_id, response_code=event.response_code, replace_name=translate(outcome.language, "wecom.card_stale")
            )
            outcome = out_of_date(outcome, rejection)
        await self.send(user_id, outcome)

    # -- steps ----------------------------------------------------------------------------

    async def start(self, user_id: str, *, token: str | None, update_id: str) -> None:
        outcome = await self.service.start(user=channel_user(user_id), update_id=update_id, token=token)
        await self.send(user_id, outcome)

    async def act(self, user_id: str, action: Action, *, update_id: str) -> None:
        outcome = await self.service.act(user=channel_user(user_id), update_id=update_id, action=action)
        await self.send(user_id, outcome)

    async def units(self, user_id: str, number: int | None, *, update_id: str) -> None:
        """``单位``: the units this member answers for; ``单位 N``: continue for the N-th."""
        outcome = await self.service.units(user=channel_user(user_id))
        if number is not None:
            choices = next((event for event in outcome.events if isinstance(event, UnitChoices)), None)
            if choices is not None and 1 <= number <= len(choices.units):
                await self.act(user_id, Resume(unit_id=choices.units[number - 1].unit_id), update_id=update_id)
                return
        await self.send(user_id, outcome)

    async def help(self, user_id: str) -> None:
        standing = await self.accounts.standing(user_id)
        text = translate(standing.language, "wecom.help")
        if await self.accounts.is_coordinator(user_id):
            text = f"{text}\n\n{translate(standing.language, 'wecom.coordinator_help')}"
        await self.replies.send_text(user_id, text)

    async def say(self, user_id: str, key: str) -> None:
        standing = await self.accounts.standing(user_id)
        await self.replies.send_text(user_id, translate(standing.language, key))

    async def send(self, user_id: str, outcome: Outcome) -> None:
        """The outcome as WeCom messages; a file question gets the unit's web link for a PDF."""
        if outcome.duplicate:
            return
        file_link: str | None = None
        if self.public_url and any(isinstance(e, Prompt) and e.kind is QuestionType.FILE for e in outcome.events):
            standing = await self.accounts.standing(user_id)
            if standing.unit_id is not None:
                file_link = await self.accounts.web_link(public_url=self.public_url, unit_id=standing.unit_id)
        await self.replies.send(user_id, render_outcome(outcome, cards=self.cards, file_link=file_link))

    async def _apologise(self, user_id: str) -> None:
        try:
            await self.say(user_id, "wecom.error")
        except Exception:  # the apology itself failed; the log has the original error
            logger.warning("could not tell %s about the error", user_id, exc_info=True)

    @asynccontextmanager
    async def _member(self, user_id: str) -> AsyncIterator[None]:
        """One member's callbacks one at a time, in the order they arrived."""
        self._waiting[user_id] += 1
        try:
            async with self._locks[user_id]:
                yield
        finally:
            self._waiting[user_id] -= 1
            if not self._waiting[user_id]:
                del self._waiting[user_id]
                self._locks.pop(user_id, None)


def out_of_date(outcome: Outcome, stale: Rejected) -> Outcome:
    """A stale card press's reply: the card is out of date, then the current question (with its card) or the review's way on."""
    language = outcome.language
    events: list[Event | Notice] = []
    for event in outcome.events:
        if event is stale:
            events.append(replace(stale, reason=translate(language, "wecom_card_press.out_of_date"), prompt=None))
            if stale.prompt is not None:
                events.append(stale.prompt)
        else:
            events.append(event)
    return replace(outcome, events=tuple(events))


def _photo_type(content: bytes) -> tuple[str, str]:
    """The photo's extension and MIME type by its first bytes; an unknown kind keeps ``jpg`` and the engine refuses it."""
    for extension, mime in PHOTO_TYPES:
        if fits_extension(extension, content[:16]):
            return extension, mime
    return "jpg", "image/jpeg"
