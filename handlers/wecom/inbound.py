"""A decrypted WeCom callback as a typed value, with the key that deduplicates WeCom's retries.

WeCom waits five seconds for the callback's answer and tries three times in
all, so the same message can arrive more than once. Each value here has a
``dedup_key``: for a message, its ``MsgId`` (a 64-bit number in the
documentation, but kept as text, since newer callbacks use string ids); for
an event, which has no id, the sender, ``CreateTime`` and the event's own
fields, as WeCom's documentation recommends (FromUserName + CreateTime).

A self-built app receives text, image, voice, video, location and link
messages, and events; the events the survey uses are parsed into their own
types (entering the app, a menu click, a template-card press). Anything else
(another message type, another event) is an :class:`Unsupported` value, never
an exception: it is authentic and must be acknowledged, just not acted on.
A message without the fields every callback has raises
:class:`~handlers.wecom.rejection.CallbackRejected` (``malformed_message``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TypedDict
from xml.etree.ElementTree import Element

from handlers.wecom.rejection import CallbackRejected, RejectionReason
from handlers.wecom.safe_xml import parse_callback_xml


class MessageType(StrEnum):
    """``MsgType`` values this module parses."""

    TEXT = "text"
    IMAGE = "image"
    VOICE = "voice"
    VIDEO = "video"
    LOCATION = "location"
    LINK = "link"
    EVENT = "event"


class EventType(StrEnum):
    """``Event`` values (for ``MsgType`` event) this module parses."""

    ENTER_AGENT = "enter_agent"
    CLICK = "click"
    TEMPLATE_CARD_EVENT = "template_card_event"


@dataclass(frozen=True, slots=True, kw_only=True)
class Inbound:
    """What every callback carries."""

    #: ``ToUserName``: the CorpID the callback is for.
    corp_id: str
    #: ``FromUserName``: the member's UserID.
    user_id: str
    #: ``CreateTime``: when WeCom created it, in Unix seconds.
    created_at: int
    #: ``AgentID``: the app, when the callback names it.
    agent_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundMessage(Inbound):
    """A message a member sent to the app."""

    #: ``MsgId``: unique per message; text, since it may be a string.
    msg_id: str

    @property
    def dedup_key(self) -> str:
        return f"msg:{self.msg_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TextMessage(InboundMessage):
    content: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageMessage(InboundMessage):
    #: ``PicUrl``: a link to the picture.
    pic_url: str
    #: ``MediaId``: fetch it with media/get; valid for three days only.
    media_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceMessage(InboundMessage):
    media_id: str
    #: ``Format``: amr, speex...
    format: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VideoMessage(InboundMessage):
    media_id: str
    thumb_media_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LocationMessage(InboundMessage):
    #: ``Location_X``.
    latitude: Decimal
    #: ``Location_Y``.
    longitude: Decimal
    #: ``Scale``: the map's zoom level.
    scale: int
    #: ``Label``: the place's name.
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkMessage(InboundMessage):
    title: str
    description: str
    url: str
    pic_url: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundEvent(Inbound):
    """Something a member did in the app; events carry no id."""

    @property
    def dedup_key(self) -> str:
        """Sender, time, app and the event's own fields, hashed to a fixed length."""
        return _event_dedup_key([self.user_id, self.created_at, self.agent_id, *self._identity()])

    def _identity(self) -> list[object]:
        raise NotImplementedError


@dataclass(frozen=True, slots=True, kw_only=True)
class EnterAgentEvent(InboundEvent):
    """The member opened the app's chat (``enter_agent``)."""

    def _identity(self) -> list[object]:
        return [EventType.ENTER_AGENT.value]


@dataclass(frozen=True, slots=True, kw_only=True)
class MenuClickEvent(InboundEvent):
    """The member pressed a custom-menu item of type click (``click``)."""

    #: ``EventKey``: the key the menu item was created with.
    event_key: str

    def _identity(self) -> list[object]:
        return [EventType.CLICK.value, self.event_key]


@dataclass(frozen=True, slots=True)
class SelectedItem:
    """One question of a vote or multiple-choice card, and the options chosen in it."""

    question_key: str
    option_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateCardEvent(InboundEvent):
    """The member pressed a template card's button (``template_card_event``)."""

    #: ``EventKey``: the pressed button's key (the submit button's, for a vote card).
    event_key: str
    #: ``TaskId``: the task_id the card was sent with.
    task_id: str
    #: ``CardType``: button_interaction, vote_interaction, multiple_interaction...
    card_type: str
    #: ``ResponseCode``: lets the app update this card once, within 72 hours.
    response_code: str
    #: ``SelectedItems``: the choices of a vote or multiple-choice card, in order.
    selected_items: tuple[SelectedItem, ...]

    def _identity(self) -> list[object]:
        # Not the ResponseCode: it is a credential for updating the card, not part of what was pressed.
        selected = [[item.question_key, list(item.option_ids)] for item in self.selected_items]
        return [EventType.TEMPLATE_CARD_EVENT.value, self.event_key, self.task_id, self.card_type, selected]


@dataclass(frozen=True, slots=True, kw_only=True)
class Unsupported(Inbound):
    """An authentic callback of a type the survey does not use: acknowledged, not acted on."""

    msg_type: str
    #: ``Event``, for an event.
    event: str | None
    #: ``MsgId``, when it has one.
    msg_id: str | None
    #: ``EventKey``, when it has one (it tells two events of one second apart).
    event_key: str | None

    @property
    def dedup_key(self) -> str:
        if self.msg_id:
            return f"msg:{self.msg_id}"
        return _event_dedup_key([self.user_id, self.created_at, self.agent_id, self.msg_type, self.event, self.event_key])


def _event_dedup_key(identity: list[object]) -> str:
    """``event:`` and the SHA-256 of the fields as JSON: unambiguous, and 70 characters whatever they hold."""
    encoded = json.dumps(identity, ensure_ascii=False, separators=(",", ":"))
    return "event:" + hashlib.sha256(encoded.encode("utf-8")).hexdigest()


InboundCallback = (
    TextMessage
    | ImageMessage
    | VoiceMessage
    | VideoMessage
    | LocationMessage
    | LinkMessage
    | EnterAgentEvent
    | MenuClickEvent
    | TemplateCardEvent
    | Unsupported
)


def parse_inbound(xml: bytes) -> InboundCallback:
    """The callback in ``xml`` (the decrypted message from :meth:`CallbackCrypto.decrypt_message`)."""
    root = parse_callback_xml(xml, what="the decrypted callback")
    common = _common_fields(root)
    msg_type = _required(root, "MsgType")
    event = _text(root, "Event")
    msg_id = _text(root, "MsgId") or None
    if msg_type == MessageType.EVENT:
        return _event(root, common, event=event.lower(), msg_id=msg_id)
    if msg_id is None:  # every documented message has one; without it, it cannot be deduplicated as a message
        return _unsupported(root, common, msg_type=msg_type, event=event, msg_id=None)
    if msg_type == MessageType.TEXT:
        return TextMessage(**common, msg_id=msg_id, content=root.findtext("Content") or "")
    if msg_type == MessageType.IMAGE:
        return ImageMessage(**common, msg_id=msg_id, pic_url=_text(root, "PicUrl"), media_id=_required(root, "MediaId"))
    if msg_type == MessageType.VOICE:
        return VoiceMessage(**common, msg_id=msg_id, media_id=_required(root, "MediaId"), format=_text(root, "Format"))
    if msg_type == MessageType.VIDEO:
        return VideoMessage(
            **common, msg_id=msg_id, media_id=_required(root, "MediaId"), thumb_media_id=_text(root, "ThumbMediaId")
        )
    if msg_type == MessageType.LOCATION:
        return LocationMessage(
            **common,
            msg_id=msg_id,
            latitude=_decimal(root, "Location_X"),
            longitude=_decimal(root, "Location_Y"),
            scale=_integer(root, "Scale", default=0),
            label=_text(root, "Label"),
        )
    if msg_type == MessageType.LINK:
        return LinkMessage(
            **common,
            msg_id=msg_id,
            title=_text(root, "Title"),
            description=_text(root, "Description"),
            url=_text(root, "Url"),
            pic_url=_text(root, "PicUrl"),
        )
    return _unsupported(root, common, msg_type=msg_type, event=event, msg_id=msg_id)


def _event(root: Element, common: _CommonFields, *, event: str, msg_id: str | None) -> InboundCallback:
    event_key = _text(root, "EventKey")
    if event == EventType.ENTER_AGENT:
        return EnterAgentEvent(**common)
    if event == EventType.CLICK:
        return MenuClickEvent(**common, event_key=event_key)
    if event == EventType.TEMPLATE_CARD_EVENT:
        return TemplateCardEvent(
            **common,
            event_key=event_key,
            task_id=_text(root, "TaskId"),
            card_type=_text(root, "CardType"),
            response_code=_text(root, "ResponseCode"),
            selected_items=_selected_items(root),
        )
    return _unsupported(root, common, msg_type=MessageType.EVENT.value, event=event, msg_id=msg_id)


def _unsupported(root: Element, common: _CommonFields, *, msg_type: str, event: str, msg_id: str | None) -> Unsupported:
    return Unsupported(**common, msg_type=msg_type, event=event or None, msg_id=msg_id, event_key=_text(root, "EventKey") or None)


def _selected_items(root: Element) -> tuple[SelectedItem, ...]:
    return tuple(
        SelectedItem(
            question_key=(item.findtext("QuestionKey") or "").strip(),
            option_ids=tuple((option.text or "").strip() for option in item.iterfind("OptionIds/OptionId")),
        )
        for item in root.iterfind("SelectedItems/SelectedItem")
    )


class _CommonFields(TypedDict):
    corp_id: str
    user_id: str
    created_at: int
    agent_id: str | None


def _common_fields(root: Element) -> _CommonFields:
    return _CommonFields(
        corp_id=_text(root, "ToUserName"),
        user_id=_required(root, "FromUserName"),
        created_at=_integer(root, "CreateTime"),
        agent_id=_text(root, "AgentID") or None,
    )


def _text(root: Element, tag: str) -> str:
    """The element's text, stripped; empty when it is absent."""
    return (root.findtext(tag) or "").strip()


def _required(root: Element, tag: str) -> str:
    value = _text(root, tag)
    if not value:
        raise CallbackRejected(RejectionReason.MALFORMED_MESSAGE, f"the decrypted callback has no <{tag}> (or an empty one)")
    return value


def _integer(root: Element, tag: str, *, default: int | None = None) -> int:
    value = _text(root, tag)
    if not value and default is not None:
        return default
    if not value.isascii() or not value.isdigit():
        raise CallbackRejected(
            RejectionReason.MALFORMED_MESSAGE, f"the decrypted callback's <{tag}> is {value[:32]!r}, not a whole number"
        )
    return int(value)


def _decimal(root: Element, tag: str) -> Decimal:
    value = _text(root, tag)
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise CallbackRejected(
            RejectionReason.MALFORMED_MESSAGE, f"the decrypted callback's <{tag}> is {value[:32]!r}, not a number"
        )
    return number
