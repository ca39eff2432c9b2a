"""The whole Nantong survey through WeCom: by typed numbers and words, and by card presses; then what is stored."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from storage.models import Attachment, Response, ResponseStatus
from tests.fakes.wecom import SentMessage
from tests.wecom.conftest import COORDINATOR, PUBLIC_URL, WeComWorld

USER = "wangfang"
#: A JPEG's first bytes, then filler: a photo of the stamped table as WeCom hands it over.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 20
HEADER = ("海门区科协", "王芳", "0513-59003013", "2023年4月26日")
#: The report's answers: long enough that the review is over WeCom's 2048 bytes and goes out in parts.
REPORT = tuple(
    f"{head}{'各成员单位协同推进全民科学素质工作，' * 9}"
    for head in ("组织保障有力。", "任务完成过半。", "经验：部门协同。", "问题：经费不足。", "建议：加大投入。")
)


async def bind(world: WeComWorld, user: str = USER, unit: str = "海门区") -> None:
    await world.send(user, world.tokens[unit])
    assert "第 1/" in world.last_text(user), world.texts(user)


async def answer_report_and_photo(world: WeComWorld) -> None:
    """The report's five long texts (typed, then 完成), the photo, then 提交 from the review."""
    for text in REPORT:
        await world.send(USER, text)
        await world.send(USER, "完成")
    assert "照片" in world.last_text(USER) and f"{PUBLIC_URL}/s/" in world.last_text(USER)
    media_id = world.fake.add_media(JPEG, filename="IMG_0001.jpg")
    await world.deliver(world.callbacks.image_xml(USER, media_id))
    review = world.texts(USER)[-3:]
    assert "请检查您的回答" in "\n".join(review) and "提交" in review[-1]
    assert all(len(text.encode("utf-8")) <= 2048 for text in world.texts(USER))
    assert sum(len(text.encode("utf-8")) for text in review) > 2048  # the review, cut in parts under WeCom's limit
    await world.send(USER, "提交")
    assert "已提交！" in world.last_text(USER)


async def check_stored(world: WeComWorld, *, q4_by: list[str], q5: str) -> None:
    async with world.database.read() as session:
        response = (await session.scalars(select(Response).where(Response.status == ResponseStatus.SUBMITTED))).one()
        attachments = (await session.scalars(select(Attachment))).all()
    assert response.submitted_values is not None
    answers = response.submitted_values["answers"]
    assert answers["filled_by"] == "王芳" and answers["contact_phone"] == "0513-59003013"
    assert answers["q1_econ_plan"] == "yes" and answers["q2_tech_plan"] == "no"
    assert answers["q4_by"] == q4_by and answers["q5_body"] == q5
    assert answers["q7_members"] == 12 and answers["r3_problems"] == REPORT[3]
    [attachment] = attachments
    assert attachment.original_name.endswith(".jpg")
    assert Path(world.service.settings.data_dir / "attachments").exists()


async def export_to_coordinator(world: WeComWorld) -> openpyxl.Workbook:
    """导出 by the coordinator: the workbook arrives as a file message; its bytes are what WeCom holds."""
    await world.send(COORDINATOR, "导出")
    files = [m for m in world.fake.messages_to(COORDINATOR) if m.msgtype == "file"]
    assert files, world.texts(COORDINATOR)
    media = world.fake.media[files[0].media_id or ""]
    assert media.filename.endswith(".xlsx")
    return openpyxl.load_workbook(io.BytesIO(media.content), read_only=True)


def workbook_text(book: openpyxl.Workbook) -> str:
    return "\n".join(
        str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None
    )


async def test_nantong_survey_by_typed_numbers_and_words__submitted_stored_and_in_the_workbook(world: WeComWorld) -> None:
    await bind(world)
    first = world.last_text(USER)
    assert "填报单位" in first and "也可回复" not in first.split("第 1/")[0]
    for text in HEADER:
        await world.send(USER, text)
    assert "回复数字：1 是　2 否" in world.last_text(USER)
    await world.send(USER, "1")  # q1 是
    await world.send(USER, "跳过")  # q2 is required: refused, asked again
    assert "⚠️" in "\n".join(world.texts(USER)[-2:])
    await world.send(USER, "2")  # q2 否
    await world.send(USER, "上一题")  # back to q2, shown with its answer
    assert "第 6/" in world.last_text(USER)
    await world.send(USER, "2")
    await world.send(USER, "2")  # q3 否
    await world.send(USER, "1")  # q4 是 → q4_by, a multiple choice
    assert "可多选" in world.last_text(USER)
    await world.send(USER, "1 2")
    await world.send(USER, "2")  # q5: the second body
    await world.send(USER, "1")  # q6
    await world.send(USER, "12")
    await world.send(USER, "3")
    await answer_report_and_photo(world)
    await check_stored(world, q4_by=["party_committee", "government"], q5="implementation_office")
    text = workbook_text(await export_to_coordinator(world))
    assert "王芳" in text and "问题：经费不足。" in text
    # Over 30 replies in this "minute": the pacer held some back rather than let WeCom drop them.
    assert world.clock.slept and world.fake.dropped == []


def latest_card(world: WeComWorld) -> SentMessage:
    cards = world.cards(USER)
    assert cards, world.texts(USER)
    return cards[-1]


async def press(world: WeComWorld, label: str, *, times: int = 1) -> SentMessage:
    """Press the button labelled ``label`` on the newest card."""
    message = latest_card(world)
    card = message.card or {}
    assert card["card_type"] == "button_interaction", card
    button = next(b for b in card["button_list"] if b["text"] == label)
    assert message.response_code is not None
    xml = world.callbacks.card_press_xml(
        USER, key=button["key"], card_type="button_interaction", task_id=card["task_id"], response_code=message.response_code
    )
    await world.deliver(xml, times=times)
    return message


async def vote(world: WeComWorld, options: tuple[str, ...]) -> SentMessage:
    message = latest_card(world)
    card = message.card or {}
    assert card["card_type"] == "vote_interaction", card
    assert message.response_code is not None
    xml = world.callbacks.card_press_xml(
        USER,
        key=card["submit_button"]["key"],
        card_type="vote_interaction",
        task_id=card["task_id"],
        response_code=message.response_code,
        selected=(card["checkbox"]["question_key"], options),
    )
    await world.deliver(xml)
    return message


@pytest.mark.parametrize("cards", [True])
async def test_nantong_survey_by_card_presses__each_press_counts_once_and_the_card_shows_the_choice(world: WeComWorld) -> None:
    await bind(world)
    for text in HEADER:
        await world.send(USER, text)
    assert latest_card(world).card["main_title"]["title"].startswith("1. 是否")  # type: ignore[index]
    pressed = await press(world, "是", times=3)  # q1, WeCom's three tries
    assert [u.body["button"]["replace_name"] for u in world.fake.card_updates] == ["已选：是"]
    assert pressed.updates and "第 6/" in world.last_text(USER)
    await press(world, "否")  # q2
    await world.send(USER, "2")  # q3 by the typed number: the text always works too
    await press(world, "是")  # q4
    await vote(world, ("o0", "o1"))  # q4_by, a multiple choice as a vote card
    assert world.fake.card_updates[-1].body["button"]["replace_name"] == "已选：1、2"
    await press(world, latest_card(world).card["button_list"][1]["text"])  # type: ignore[index]  # q5
    await press(world, "是")  # q6
    stale = world.cards(USER)[-2]  # q5's card, pressed already and answered: a second press is stale
    await world.send(USER, "12")
    await world.send(USER, "3")
    await answer_report_and_photo(world)
    await check_stored(world, q4_by=["party_committee", "government"], q5="implementation_office")
    assert stale.updates  # the answered card shows its choice
    text = workbook_text(await export_to_coordinator(world))
    assert "王芳" in text


async def test_photo_that_is_not_an_image__refused_by_its_content_and_voice_is_not_an_answer(world: WeComWorld) -> None:
    await bind(world)
    await world.deliver(world.callbacks.xml(USER, "voice", "<MediaId><![CDATA[v1]]></MediaId><Format><![CDATA[amr]]></Format>"))
    assert "⚠️" in world.last_text(USER) or "第 1/" in world.last_text(USER)
    await world.deliver(world.callbacks.image_xml(USER, world.fake.add_media(b"MZ\x90\x00" + bytes(200), filename="x.jpg")))
    async with world.database.read() as session:
        assert (await session.scalars(select(Attachment))).all() == []
    await world.deliver(world.callbacks.image_xml(USER, "media-unknown"))
    assert "照片没有取到" in world.last_text(USER)
