"""The data functions: survey versions, campaigns, rosters, answers, updates, coordinators, files."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.settings import Settings
from storage.attachments import (
    attachment_file,
    list_attachments,
    sanitize_file_name,
    store_attachment,
)
from storage.campaigns import (
    close_campaign,
    create_campaign,
    get_campaign,
    list_campaigns,
    reopen_campaign,
)
from storage.coordinators import (
    add_coordinator,
    is_coordinator,
    list_coordinators,
    remove_coordinator,
)
from storage.database import Database
from storage.errors import (
    CampaignNotFoundError,
    DuplicateUnitError,
    InvalidValueError,
    UnitNotFoundError,
)
from storage.models import AnswerHistory, CampaignStatus, ResponseStatus
from storage.respondents import get_or_create_respondent, mark_unreachable
from storage.responses import (
    answer_history,
    current_answers,
    get_unit_response,
    lock_response,
    record_answer,
    reopen_response,
    save_state,
    submit_response,
)
from storage.rosters import (
    RosterFileError,
    add_units,
    ensure_units,
    get_unit,
    list_units,
    read_units_file,
)
from storage.surveys import definition_hash, get_or_create_survey_version
from storage.updates import claim_update, prune_processed_updates

DEFINITION = {"id": "s", "version": "1", "title": "T", "sections": [{"id": "a"}]}


# -- survey versions ---------------------------------------------------------------------


async def test_survey_version__same_content_is_stored_once(database: Database) -> None:
    async with database.transaction() as session:
        first = await get_or_create_survey_version(
            session=session, definition_json=DEFINITION, survey_id="s", version="1"
        )
    async with database.transaction() as session:
        reordered = dict(reversed(list(DEFINITION.items())))
        again = await get_or_create_survey_version(
            session=session, definition_json=reordered, survey_id="s", version="1"
        )
    assert again.id == first.id
    assert first.content_hash == definition_hash(DEFINITION)


async def test_edited_survey__is_a_new_version_and_the_running_campaign_keeps_its_own(
    database: Database, deadline: datetime, now: datetime
) -> None:
    async with database.transaction() as session:
        old = await get_or_create_survey_version(
            session=session, definition_json=DEFINITION, survey_id="s", version="1"
        )
        campaign = await create_campaign(
            session=session, survey_version=old, title="C", deadline=deadline, now=now
        )
    edited = {**DEFINITION, "version": "2", "title": "T2"}
    async with database.transaction() as session:
        new = await get_or_create_survey_version(
            session=session, definition_json=edited, survey_id="s", version="2"
        )
    assert new.id != old.id
    async with database.read() as session:
        loaded = await get_campaign(session=session, campaign_id=campaign.id)
    assert loaded.survey_version.id == old.id
    assert loaded.survey_version.definition == DEFINITION


# -- campaigns ---------------------------------------------------------------------------


async def test_create_campaign__stores_deadline_zone_and_reminders(
    database: Database, deadline: datetime, now: datetime
) -> None:
    async with database.transaction() as session:
        version = await get_or_create_survey_version(
            session=session, definition_json=DEFINITION, survey_id="s", version="1"
        )
        campaign = await create_campaign(
            session=session,
            survey_version=version,
            title="  南通   中期评估 ",
            deadline=deadline,
            reminder_offsets=[7200, 259200, 86400],
            now=now,
        )
    async with database.read() as session:
        stored = await get_campaign(session=session, campaign_id=campaign.id)
    assert stored.title == "南通 中期评估"
    assert stored.deadline == deadline
    assert stored.timezone == "Asia/Shanghai"
    assert stored.reminder_offsets == [259200, 86400, 7200]
    assert stored.status is CampaignStatus.OPEN


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"deadline": datetime(2027, 1, 1)}, "timezone-aware"),
        ({"past": True}, "in the past"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"title": "   "}, "title is empty"),
        ({"reminder_offsets": [0]}, "positive"),
    ],
)
async def test_create_campaign__refuses_bad_values(
    database: Database, deadline: datetime, now: datetime, change: dict, message: str
) -> None:
    arguments: dict = {"title": "C", "deadline": deadline, "now": now}
    change = dict(change)  # the parameter is shared by the backends' runs
    if change.pop("past", False):
        arguments["deadline"] = now - timedelta(minutes=1)
    arguments.update(change)
    async with database.transaction() as session:
        version = await get_or_create_survey_version(
            session=session, definition_json=DEFINITION, survey_id="s", version="1"
        )
        with pytest.raises(InvalidValueError, match=message):
            await create_campaign(session=session, survey_version=version, **arguments)


async def test_unknown_campaign__raises_not_found(database: Database) -> None:
    async with database.read() as session:
        with pytest.raises(CampaignNotFoundError, match="no campaign with id 42"):
            await get_campaign(session=session, campaign_id=42)


async def test_close_and_reopen__are_idempotent(database: Database, make_campaign) -> None:  # type: ignore[no-untyped-def]
    campaign = await make_campaign()
    async with database.transaction() as session:
        loaded = await get_campaign(session=session, campaign_id=campaign.id, for_update=True)
        assert await close_campaign(session=session, campaign=loaded)
        assert not await close_campaign(session=session, campaign=loaded)
        assert loaded.closed_at is not None
        assert await reopen_campaign(session=session, campaign=loaded)
        assert not await reopen_campaign(session=session, campaign=loaded)
        assert loaded.closed_at is None


async def test_list_campaigns__counts_units_by_status(database: Database, make_campaign) -> None:  # type: ignore[no-untyped-def]
    first = await make_campaign(units=["a", "b", "c"])
    await make_campaign(units=[])
    async with database.transaction() as session:
        units = await list_units(session=session, campaign=first)
        await submit_response(session=session, response=units[0].response, values={"q": 1})
        await save_state(session=session, response=units[1].response, state={"at": "q"})

    async with database.read() as session:
        listed = await list_campaigns(session=session)
    assert [(item.units, item.not_started, item.in_progress, item.submitted) for item in listed] == [
        (3, 1, 1, 1),
        (0, 0, 0, 0),
    ]


# -- rosters -----------------------------------------------------------------------------


async def test_add_units__keeps_roster_order_and_gives_each_a_response(
    database: Database, make_campaign  # type: ignore[no-untyped-def]
) -> None:
    campaign = await make_campaign(units=["崇川区", "海门区"])
    async with database.transaction() as session:
        await add_units(session=session, campaign=campaign, names=["  如皋市 ", "启东市"])
    async with database.read() as session:
        units = await list_units(session=session, campaign=campaign)
    assert [(unit.position, unit.name) for unit in units] == [
        (1, "崇川区"),
        (2, "海门区"),
        (3, "如皋市"),
        (4, "启东市"),
    ]
    assert all(unit.response.status is ResponseStatus.NOT_STARTED for unit in units)


async def test_add_units__refuses_a_name_already_on_the_roster(database: Database, make_campaign) -> None:  # type: ignore[no-untyped-def]
    campaign = await make_campaign(units=["崇川区"])
    async with database.transaction() as session:
        with pytest.raises(DuplicateUnitError, match="崇川区"):
            await add_units(session=session, campaign=campaign, names=["海门区", "崇川区"])
        with pytest.raises(InvalidValueError, match="listed twice"):
            await add_units(session=session, campaign=campaign, names=["x", " x"])


async def test_ensure_units__adds_only_the_missing_ones(database: Database, make_campaign) -> None:  # type: ignore[no-untyped-def]
    campaign = await make_campaign(units=["崇川区"])
    async with database.transaction() as session:
        units, added = await ensure_units(session=session, campaign=campaign, names=["海门区", "崇川区"])
    assert [unit.name for unit in units] == ["海门区", "崇川区"]
    assert added == ["海门区"]
    async with database.read() as session:
        assert await get_unit(session=session, campaign=campaign, name="海门区")
        with pytest.raises(UnitNotFoundError):
            await get_unit(session=session, campaign=campaign, name="如皋市")


def test_units_file__text_with_bom_comments_and_csv_columns(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_bytes(
        "\ufeff# 南通市各县（市、区）\n崇川区,张三,0513-1\n\n  海门区  \n\"如皋市, 新\",x\n# end\n".encode()
    )
    assert read_units_file(path) == ["崇川区", "海门区", "如皋市, 新"]


def test_units_file__tab_separated(tmp_path: Path) -> None:
    path = tmp_path / "units.tsv"
    path.write_text("崇川区\t张三\n海门区\t李四\n", encoding="utf-8")
    assert read_units_file(path) == ["崇川区", "海门区"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("崇川区\n海门区\n崇川区\n".encode(), "line 3: unit '崇川区' is already on line 1"),
        ("崇川区".encode("gbk"), "not UTF-8"),
        (b"# nothing\n\n", "lists no units"),
        (b"\x00\x01\x02", "binary"),
        (b",contact\n", "line 1: the first column is empty"),
    ],
)
def test_units_file__problems_name_the_file_and_line(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "units.txt"
    path.write_bytes(content)
    with pytest.raises(RosterFileError) as raised:
        read_units_file(path)
    assert str(raised.value).startswith(str(path))
    assert message in str(raised.value)


def test_units_file__missing(tmp_path: Path) -> None:
    with pytest.raises(RosterFileError, match="file not found"):
        read_units_file(tmp_path / "nope.txt")


# -- responses, answers, history ---------------------------------------------------------


async def test_record_answer__keeps_current_value_and_appends_history(
    database: Database, make_campaign, now: datetime  # type: ignore[no-untyped-def]
) -> None:
    campaign = await make_campaign(units=["崇川区"])
    async with database.transaction() as session:
        alice = await get_or_create_respondent(session=session, channel="telegram", external_id=1)
        unit = await get_unit(session=session, campaign=campaign, name="崇川区")
        response = await lock_response(session=session, response_id=unit.response.id)
        first = await record_answer(
            session=session, response=response, question_id="q1", value=12,
            respondent=alice, channel="telegram", now=now,
        )
        unchanged = await record_answer(
            session=session, response=response, question_id="q1", value=12, respondent=alice
        )
        second = await record_answer(
            session=session, response=response, question_id="q1", value=15,
            respondent=alice, channel="telegram", now=now + timedelta(minutes=1),
        )
        other = await record_answer(
            session=session, response=response, question_id="q5", value="other",
            other_text="科普联盟", respondent=alice, channel="telegram",
        )
        cleared = await record_answer(
            session=session, response=response, question_id="q5", value=None, respondent=alice
        )
    assert (first, second, other, cleared) == (1, 2, 3, 4)  # the revision each change produced
    assert unchanged is None
    async with database.read() as session:
        response = await get_unit_response(session=session, unit=unit)
        answers = await current_answers(session=session, response=response)
        history = await answer_history(session=session, response=response)
    assert {question: answer.value for question, answer in answers.items()} == {"q1": 15}
    assert response.status is ResponseStatus.IN_PROGRESS
    assert response.revision == 4
    assert response.started_at == now
    assert [(row.question_id, row.old_value, row.new_value, row.revision) for row in history] == [
        ("q1", None, 12, 1),
        ("q1", 12, 15, 2),
        ("q5", None, "other", 3),
        ("q5", "other", None, 4),
    ]
    assert history[2].new_other_text == "科普联盟"
    assert history[3].old_other_text == "科普联盟"
    assert {row.respondent_id for row in history} == {alice.id}


async def test_record_answer__a_loaded_answer_reads_the_new_value(
    database: Database, make_campaign  # type: ignore[no-untyped-def]
) -> None:
    campaign = await make_campaign(units=["崇川区"])
    async with database.transaction() as session:
        unit = await get_unit(session=session, campaign=campaign, name="崇川区")
        response = await lock_response(session=session, response_id=unit.response.id)
        await record_answer(session=session, response=response, question_id="q1", value=12)
        await record_answer(session=session, response=response, question_id="q2", value="a")
        loaded = await current_answers(session=session, response=response)
        listed = await response.awaitable_attrs.answers
        assert [answer.value for answer in listed] == [12, "a"]
        await record_answer(session=session, response=response, question_id="q1", value=15)
        await record_answer(session=session, response=response, question_id="q2", value=None)
        await record_answer(session=session, response=response, question_id="q3", value=True)
        assert await loaded["q1"].awaitable_attrs.value == 15  # expired, so read again
        assert loaded["q2"] not in session  # cleared: no longer in the session
        assert [answer.value for answer in await response.awaitable_attrs.answers] == [15, True]
    async with database.read() as session:
        stored = await current_answers(session=session, response=await get_unit_response(session=session, unit=unit))
    assert {question: answer.value for question, answer in stored.items()} == {"q1": 15, "q3": True}


async def test_answer_values__must_be_json(database: Database, make_campaign) -> None:  # type: ignore[no-untyped-def]
    campaign = await make_campaign(units=["崇川区"])
    async with database.transaction() as session:
        unit = await get_unit(session=session, campaign=campaign, name="崇川区")
        with pytest.raises(InvalidValueError, match="not JSON"):
            await record_answer(session=session, response=unit.response, question_id="q", value={1, 2})


async def test_submit_and_reopen__change_status_and_revision(database: Database, make_campaign) -> None:  # type: ignore[no-untyped-def]
    campaign = await make_campaign(units=["崇川区"])
    async with database.transaction() as session:
        unit = await get_unit(session=session, campaign=campaign, name="崇川区")
        response = await lock_response(session=session, response_id=unit.response.id)
        assert not await reopen_response(session=session, response=response)
        await submit_response(session=session, response=response, values={"q1": 3})
        assert response.status is ResponseStatus.SUBMITTED and response.revision == 1
        assert await reopen_response(session=session, response=response)
    async with database.read() as session:
        stored = await get_unit_response(session=session, unit=unit)
    assert stored.status is ResponseStatus.IN_PROGRESS
    assert stored.submitted_values == {"q1": 3}
    assert stored.revision == 2


async def test_history_rows__are_never_updated_by_the_repository(database: Database, make_campaign) -> None:  # type: ignore[no-untyped-def]
    campaign = await make_campaign(units=["崇川区"])
    async with database.transaction() as session:
        unit = await get_unit(session=session, campaign=campaign, name="崇川区")
        for value in range(5):
            await record_answer(session=session, response=unit.response, question_id="q", value=value)
    async with database.read() as session:
        rows = list(await session.scalars(select(AnswerHistory).order_by(AnswerHistory.id)))
    assert [(row.old_value, row.new_value) for row in rows] == [
        (None, 0), (0, 1), (1, 2), (2, 3), (3, 4)
    ]


# -- respondents --------------------------------------------------------------------------


async def test_respondent__is_created_once_and_refreshed(database: Database, now: datetime) -> None:
    async with database.transaction() as session:
        first = await get_or_create_respondent(
            session=session, channel="telegram", external_id=42, display_name="王", language="zh", now=now
        )
    async with database.transaction() as session:
        again = await get_or_create_respondent(
            session=session, channel="telegram", external_id="42", language="en"
        )
        await mark_unreachable(session=session, respondent=again, reason="blocked the bot", now=now)
    assert again.id == first.id
    assert (again.display_name, again.language) == ("王", "en")
    assert again.unreachable and again.unreachable_since == now


# -- processed updates ----------------------------------------------------------------------


async def test_claim_update__a_redelivery_is_refused(database: Database, now: datetime) -> None:
    async with database.transaction() as session:
        assert await claim_update(session=session, channel="telegram", update_id=1, now=now)
        assert not await claim_update(session=session, channel="telegram", update_id="1")
        assert await claim_update(session=session, channel="wecom", update_id="1")
    async with database.transaction() as session:
        assert not await claim_update(session=session, channel="telegram", update_id=1)
        removed = await prune_processed_updates(session=session, older_than=now + timedelta(seconds=1))
    assert removed == 1


async def test_claim_update__is_undone_when_the_transaction_fails(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction() as session:
            assert await claim_update(session=session, channel="telegram", update_id=9)
            raise RuntimeError("crash before commit")
    async with database.transaction() as session:
        assert await claim_update(session=session, channel="telegram", update_id=9)


# -- coordinators --------------------------------------------------------------------------


async def test_coordinators__stored_and_from_settings(database: Database) -> None:
    telegram_ids = Settings(admin_ids="100,200").admin_ids  # type: ignore[arg-type]
    async with database.transaction() as session:
        _, created = await add_coordinator(session=session, channel="telegram", external_id=300)
        _, again = await add_coordinator(session=session, channel="telegram", external_id="300")
    assert created and not again
    async with database.read() as session:
        for account, expected in [(100, True), (300, True), ("300", True), (400, False)]:
            assert await is_coordinator(
                session=session, telegram_ids=telegram_ids, channel="telegram", external_id=account
            ) is expected
        assert not await is_coordinator(
            session=session, telegram_ids=telegram_ids, channel="wecom", external_id=100
        )
        assert [row.external_id for row in await list_coordinators(session=session)] == ["300"]
    async with database.transaction() as session:
        assert await remove_coordinator(session=session, channel="telegram", external_id=300)
        assert not await remove_coordinator(session=session, channel="telegram", external_id=300)


# -- attachments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("盖章扫描件.pdf", "盖章扫描件.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\report.docx", "report.docx"),
        ("..", "file"),
        ("a\x00b\nc.txt", "abc.txt"),
        ("<script>.pdf", "_script_.pdf"),
        ("x" * 300 + ".pdf", "x" * 76 + ".pdf"),
    ],
)
def test_sanitize_file_name(name: str, expected: str) -> None:
    assert sanitize_file_name(name) == expected


async def test_store_attachment__writes_under_the_data_dir_and_records_sha256(
    database: Database, make_campaign, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    campaign = await make_campaign(units=["崇川区"])
    data_dir = tmp_path / "files"
    content = b"%PDF-1.4 stamped table"
    async with database.transaction() as session:
        unit = await get_unit(session=session, campaign=campaign, name="崇川区")
        attachment = await store_attachment(
            session=session,
            data_dir=data_dir,
            response=unit.response,
            question_id="stamped_table",
            original_name="../../盖章表.pdf",
            content=content,
            mime_type="application/pdf",
        )
    assert attachment.stored_path.startswith(f"attachments/c{campaign.id}/r{unit.response.id}/")
    assert ".." not in attachment.stored_path
    path = attachment_file(data_dir=data_dir, attachment=attachment)
    assert path.read_bytes() == content
    assert attachment.size == len(content)
    assert len(attachment.sha256) == 64
    async with database.read() as session:
        stored = await list_attachments(session=session, response=unit.response)
    assert [row.original_name for row in stored] == ["../../盖章表.pdf"]
