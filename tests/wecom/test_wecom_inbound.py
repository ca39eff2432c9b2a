"""Decrypted WeCom callbacks as typed values, and the keys that deduplicate WeCom's retries.

The samples are the examples of WeCom's documentation for self-built apps:
接收消息与事件 → 消息格式 (text, image, voice, video, location, link) and
事件格式 (enter_agent, the menu's click, template_card_event with the
SelectedItems of a vote or multiple-choice card).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from handlers.wecom.crypto import CallbackCrypto
from handlers.wecom.inbound import (
    EnterAgentEvent,
    ImageMessage,
    InboundCallback,
    LinkMessage,
    LocationMessage,
    MenuClickEvent,
    SelectedItem,
    TemplateCardEvent,
    TextMessage,
    Unsupported,
    VideoMessage,
    VoiceMessage,
    parse_inbound,
)
from handlers.wecom.rejection import CallbackRejected, RejectionReason

TEXT = """<xml>
   <ToUserName><![CDATA[toUser]]></ToUserName>
   <FromUserName><![CDATA[fromUser]]></FromUserName>
   <CreateTime>1348831860</CreateTime>
   <MsgType><![CDATA[text]]></MsgType>
   <Content><![CDATA[this is a test]]></Content>
   <MsgId>1234567890123456</MsgId>
   <AgentID>1</AgentID>
</xml>"""

IMAGE = """<xml>
   <ToUserName><![CDATA[toUser]]></ToUserName>
   <FromUserName><![CDATA[fromUser]]></FromUserName>
   <CreateTime>1348831860</CreateTime>
   <MsgType><![CDATA[image]]></MsgType>
   <PicUrl><![CDATA[this is a url]]></PicUrl>
   <MediaId><![CDATA[media_id]]></MediaId>
   <MsgId>1234567890123456</MsgId>
   <AgentID>1</AgentID>
</xml>"""

VOICE = """<xml>
   <ToUserName><![CDATA[toUser]]></ToUserName>
   <FromUserName><![CDATA[fromUser]]></FromUserName>
   <CreateTime>1357290913</CreateTime>
   <MsgType><![CDATA[voice]]></MsgType>
   <MediaId><![CDATA[media_id]]></MediaId>
   <Format><![CDATA[Format]]></Format>
   <MsgId>1234567890123456</MsgId>
   <AgentID>1</AgentID>
</xml>"""

VIDEO = """<xml>
   <ToUserName><![CDATA[toUser]]></ToUserName>
   <FromUserName><![CDATA[fromUser]]></FromUserName>
   <CreateTime>1357290913</CreateTime>
   <MsgType><![CDATA[video]]></MsgType>
   <MediaId><![CDATA[media_id]]></MediaId>
   <ThumbMediaId><![CDATA[thumb_media_id]]></ThumbMediaId>
   <MsgId>1234567890123456</MsgId>
   <AgentID>1</AgentID>
</xml>"""

LOCATION = """<xml>
   <ToUserName><![CDATA[toUser]]></ToUserName>
   <FromUserName><![CDATA[fromUser]]></FromUserName>
   <CreateTime>1351776360</CreateTime>
   <MsgType><![CDATA[location]]></MsgType>
   <Location_X>23.134</Location_X>
   <Location_Y>113.358</Location_Y>
   <Scale>20</Scale>
   <Label><![CDATA[位置信息]]></Label>
   <MsgId>1234567890123456</MsgId>
   <AgentID>1</AgentID>
   <AppType><![CDATA[wxwork]]></AppType>
</xml>"""

LINK = """<xml>
   <ToUserName><![CDATA[toUser]]></ToUserName>
   <FromUserName><![CDATA[fromUser]]></FromUserName>
   <CreateTime>1348831860</CreateTime>
   <MsgType><![CDATA[link]]></MsgType>
   <Title><![CDATA[this is a title!]]></Title>
   <Description><![CDATA[this is a description!]]></Description>
   <Url><![CDATA[URL]]></Url>
   <PicUrl><![CDATA[this is a url]]></PicUrl>
   <MsgId>1234567890123456</MsgId>
   <AgentID>1</AgentID>
</xml>"""

ENTER_AGENT = """<xml><ToUserName><![CDATA[toUser]]></ToUserName>
<FromUserName><![CDATA[FromUser]]></FromUserName>
<CreateTime>1408091189</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[enter_agent]]></Event>
<EventKey><![CDATA[]]></EventKey>
<AgentID>1</AgentID>
</xml>"""

CLICK = """<xml>
<ToUserName><![CDATA[toUser]]></ToUserName>
<FromUserName><![CDATA[FromUser]]></FromUserName>
<CreateTime>123456789</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[click]]></Event>
<EventKey><![CDATA[EVENTKEY]]></EventKey>
<AgentID>1</AgentID>
</xml>"""

TEMPLATE_CARD_EVENT = """<xml>
<ToUserName><![CDATA[toUser]]></ToUserName>
<FromUserName><![CDATA[FromUser]]></FromUserName>
<CreateTime>123456789</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[template_card_event]]></Event>
<EventKey><![CDATA[key111]]></EventKey>
<TaskId><![CDATA[taskid111]]></TaskId>
<CardType><![CDATA[vote_interaction]]></CardType>
<ResponseCode><![CDATA[ResponseCode]]></ResponseCode>
<AgentID>1</AgentID>
<SelectedItems>
    <SelectedItem>
        <QuestionKey><![CDATA[QuestionKey1]]></QuestionKey>
        <OptionIds>
            <OptionId><![CDATA[OptionId1]]></OptionId>
            <OptionId><![CDATA[OptionId2]]></OptionId>
        </OptionIds>
    </SelectedItem>
    <SelectedItem>
        <QuestionKey><![CDATA[QuestionKey2]]></QuestionKey>
        <OptionIds>
            <OptionId><![CDATA[OptionId3]]></OptionId>
            <OptionId><![CDATA[OptionId4]]></OptionId>
        </OptionIds>
    </SelectedItem>
</SelectedItems>
</xml>"""

BUTTON_PRESS = """<xml>
<ToUserName><![CDATA[ww0123456789abcdef]]></ToUserName>
<FromUserName><![CDATA[zhangsan]]></FromUserName>
<CreateTime>1700000000</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[template_card_event]]></Event>
<EventKey><![CDATA[q3:#1]]></EventKey>
<TaskId><![CDATA[c7-u12-q3]]></TaskId>
<CardType><![CDATA[button_interaction]]></CardType>
<ResponseCode><![CDATA[rc-first-try]]></ResponseCode>
<AgentID>1000002</AgentID>
</xml>"""


def parse(xml: str) -> InboundCallback:
    return parse_inbound(xml.encode("utf-8"))


def variant(xml: str, old: str, new: str) -> str:
    assert old in xml, old
    return xml.replace(old, new)


# -- every type the app receives -------------------------------------------------------------


def test_parse_inbound__text() -> None:
    assert parse(TEXT) == TextMessage(
        corp_id="toUser",
        user_id="fromUser",
        created_at=1348831860,
        agent_id="1",
        msg_id="1234567890123456",
        content="this is a test",
    )


def test_parse_inbound__image_with_pic_url_and_media_id() -> None:
    image = parse(IMAGE)
    assert isinstance(image, ImageMessage)
    assert (image.pic_url, image.media_id, image.msg_id) == ("this is a url", "media_id", "1234567890123456")


def test_parse_inbound__voice() -> None:
    voice = parse(VOICE)
    assert isinstance(voice, VoiceMessage)
    assert (voice.media_id, voice.format, voice.created_at) == ("media_id", "Format", 1357290913)


def test_parse_inbound__video() -> None:
    video = parse(VIDEO)
    assert isinstance(video, VideoMessage)
    assert (video.media_id, video.thumb_media_id) == ("media_id", "thumb_media_id")


def test_parse_inbound__location_keeps_coordinates_exact() -> None:
    location = parse(LOCATION)
    assert isinstance(location, LocationMessage)
    assert (location.latitude, location.longitude) == (Decimal("23.134"), Decimal("113.358"))
    assert (location.scale, location.label) == (20, "位置信息")


def test_parse_inbound__link() -> None:
    link = parse(LINK)
    assert isinstance(link, LinkMessage)
    assert (link.title, link.description, link.url, link.pic_url) == (
        "this is a title!",
        "this is a description!",
        "URL",
        "this is a url",
    )


def test_parse_inbound__enter_agent() -> None:
    assert parse(ENTER_AGENT) == EnterAgentEvent(corp_id="toUser", user_id="FromUser", created_at=1408091189, agent_id="1")


def test_parse_inbound__menu_click_with_its_event_key() -> None:
    assert parse(CLICK) == MenuClickEvent(
        corp_id="toUser", user_id="FromUser", created_at=123456789, agent_id="1", event_key="EVENTKEY"
    )


def test_parse_inbound__template_card_event_with_selected_items() -> None:
    card = parse(TEMPLATE_CARD_EVENT)
    assert isinstance(card, TemplateCardEvent)
    assert (card.event_key, card.task_id, card.card_type, card.response_code) == (
        "key111",
        "taskid111",
        "vote_interaction",
        "ResponseCode",
    )
    assert card.selected_items == (
        SelectedItem(question_key="QuestionKey1", option_ids=("OptionId1", "OptionId2")),
        SelectedItem(question_key="QuestionKey2", option_ids=("OptionId3", "OptionId4")),
    )


def test_parse_inbound__button_press_has_no_selected_items() -> None:
    card = parse(BUTTON_PRESS)
    assert isinstance(card, TemplateCardEvent)
    assert (card.event_key, card.card_type, card.selected_items) == ("q3:#1", "button_interaction", ())


def test_parse_inbound__text_keeps_what_the_member_typed() -> None:
    typed = "  1 3\n<!DOCTYPE> & 上一题 "
    text = parse(variant(TEXT, "<![CDATA[this is a test]]>", f"<![CDATA[{typed}]]>"))
    assert isinstance(text, TextMessage)
    assert text.content == typed


def test_parse_inbound__event_names_are_matched_in_any_case() -> None:
    assert isinstance(parse(variant(CLICK, "[click]", "[CLICK]")), MenuClickEvent)


def test_parse_inbound__through_decryption() -> None:
    crypto = CallbackCrypto(token="t0ken", encoding_aes_key="A" * 42 + "E", receiver_id="ww0123456789abcdef")
    ciphertext = crypto.encrypt(BUTTON_PRESS.encode())
    body = f"<xml><Encrypt><![CDATA[{ciphertext}]]></Encrypt></xml>".encode()
    inner = crypto.decrypt_message(crypto.signature("1700000000", "9", ciphertext), "1700000000", "9", body)
    card = parse_inbound(inner)
    assert isinstance(card, TemplateCardEvent)
    assert (card.user_id, card.task_id) == ("zhangsan", "c7-u12-q3")


# -- what the survey does not use: Unsupported, never an exception ---------------------------


def test_parse_inbound__unknown_message_type_is_unsupported_with_its_msg_id() -> None:
    file_message = parse(variant(TEXT, "<![CDATA[text]]>", "<![CDATA[file]]>"))
    assert isinstance(file_message, Unsupported)
    assert (file_message.msg_type, file_message.msg_id) == ("file", "1234567890123456")
    assert file_message.dedup_key == "msg:1234567890123456"


@pytest.mark.parametrize("event", ["subscribe", "LOCATION", "view", "template_card_menu_event", ""])
def test_parse_inbound__unknown_event_is_unsupported(event: str) -> None:
    other = parse(variant(CLICK, "<![CDATA[click]]>", f"<![CDATA[{event}]]>"))
    assert isinstance(other, Unsupported)
    assert other.msg_type == "event"
    assert other.event == (event.lower() or None)
    assert other.dedup_key.startswith("event:")


def test_parse_inbound__known_message_type_without_msg_id_is_unsupported() -> None:
    assert isinstance(parse(variant(TEXT, "<MsgId>1234567890123456</MsgId>", "")), Unsupported)


# -- malformed: refused ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param("<![CDATA[fromUser]]>", "", id="no sender"),
        pytest.param("<CreateTime>1348831860</CreateTime>", "", id="no time"),
        pytest.param("1348831860", "yesterday", id="time not a number"),
        pytest.param("1348831860", "１２３", id="time in full-width digits"),
        pytest.param("<![CDATA[text]]>", "", id="no type"),
    ],
)
def test_parse_inbound__callback_without_common_fields_is_refused(old: str, new: str) -> None:
    with pytest.raises(CallbackRejected) as error:
        parse(variant(TEXT, old, new))
    assert error.value.reason is RejectionReason.MALFORMED_MESSAGE


@pytest.mark.parametrize("latitude", ["north", "NaN", "Infinity", ""])
def test_parse_inbound__location_without_numbers_is_refused(latitude: str) -> None:
    with pytest.raises(CallbackRejected) as error:
        parse(variant(LOCATION, "23.134", latitude))
    assert error.value.reason is RejectionReason.MALFORMED_MESSAGE


def test_parse_inbound__image_without_media_id_is_refused() -> None:
    with pytest.raises(CallbackRejected) as error:
        parse(variant(IMAGE, "<MediaId><![CDATA[media_id]]></MediaId>", ""))
    assert error.value.reason is RejectionReason.MALFORMED_MESSAGE


@pytest.mark.parametrize(
    ("xml", "reason"),
    [
        pytest.param(b"this is not xml", RejectionReason.MALFORMED_XML, id="not xml"),
        pytest.param(
            b'<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><Content>&b;</Content></xml>',
            RejectionReason.FORBIDDEN_XML,
            id="entity expansion",
        ),
        pytest.param(
            b'<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/hostname">]><xml><Content>&x;</Content></xml>',
            RejectionReason.FORBIDDEN_XML,
            id="external entity",
        ),
        pytest.param(b"<xml>" + b"<a/>" * 20_000 + b"</xml>", RejectionReason.BODY_TOO_LARGE, id="oversized"),
    ],
)
def test_parse_inbound__unsafe_or_broken_xml_is_refused(xml: bytes, reason: RejectionReason) -> None:
    with pytest.raises(CallbackRejected) as error:
        parse_inbound(xml)
    assert error.value.reason is reason


# -- dedup keys ------------------------------------------------------------------------------


def test_dedup_key__message_is_its_msg_id_even_a_string_one() -> None:
    assert parse(TEXT).dedup_key == "msg:1234567890123456"
    string_id = parse(variant(TEXT, "1234567890123456", "CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI="))
    assert string_id.dedup_key == "msg:CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI="


def test_dedup_key__a_64_bit_msg_id_is_kept_exactly() -> None:
    message = parse(variant(TEXT, "1234567890123456", "18446744073709551615"))
    assert isinstance(message, TextMessage)
    assert message.msg_id == "18446744073709551615"


def test_dedup_key__message_with_same_id_is_the_same_whatever_else_differs() -> None:
    retry = variant(TEXT, "1348831860", "1348831865")
    assert parse(TEXT).dedup_key == parse(retry).dedup_key


@pytest.mark.parametrize(
    "sample", [ENTER_AGENT, CLICK, TEMPLATE_CARD_EVENT, BUTTON_PRESS], ids=["enter", "click", "vote", "button"]
)
def test_dedup_key__an_event_delivered_again_has_the_same_key(sample: str) -> None:
    first, retry = parse(sample), parse(sample)
    assert first.dedup_key == retry.dedup_key
    assert first.dedup_key.startswith("event:") and len(first.dedup_key) == len("event:") + 64


@pytest.mark.parametrize(
    ("sample", "old", "new"),
    [
        pytest.param(ENTER_AGENT, "[FromUser]", "[OtherUser]", id="another sender"),
        pytest.param(ENTER_AGENT, "1408091189", "1408091190", id="another second"),
        pytest.param(CLICK, "EVENTKEY", "OTHERKEY", id="another menu item"),
        pytest.param(BUTTON_PRESS, "q3:#1", "q3:#2", id="another button"),
        pytest.param(BUTTON_PRESS, "c7-u12-q3", "c7-u12-q4", id="another card"),
        pytest.param(TEMPLATE_CARD_EVENT, "OptionId4", "OptionId5", id="another choice"),
        pytest.param(CLICK, "<AgentID>1</AgentID>", "<AgentID>2</AgentID>", id="another app"),
    ],
)
def test_dedup_key__different_events_have_different_keys(sample: str, old: str, new: str) -> None:
    assert parse(sample).dedup_key != parse(variant(sample, old, new)).dedup_key


def test_dedup_key__event_fields_cannot_be_shifted_into_one_another() -> None:
    # Joined naively, "a" + "b:c" and "a:b" + "c" would collide; the key encodes each field apart.
    first = variant(variant(BUTTON_PRESS, "q3:#1", "a"), "c7-u12-q3", "b:c")
    second = variant(variant(BUTTON_PRESS, "q3:#1", "a:b"), "c7-u12-q3", "c")
    assert parse(first).dedup_key != parse(second).dedup_key


def test_dedup_key__response_code_is_not_part_of_a_card_press() -> None:
    # The ResponseCode is a credential for updating the card, not what was pressed.
    again = variant(BUTTON_PRESS, "rc-first-try", "rc-second-try")
    assert parse(BUTTON_PRESS).dedup_key == parse(again).dedup_key


def test_dedup_key__message_and_event_keys_never_collide() -> None:
    assert parse(TEXT).dedup_key.startswith("msg:")
    assert parse(CLICK).dedup_key.startswith("event:")
