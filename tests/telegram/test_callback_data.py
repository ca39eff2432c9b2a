"""Button data: every control's action encodes within Telegram's 64 bytes and decodes back, in the wire
format buttons already sent carry."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core import engine
from bot.core.actions import (
    Action,
    AnswerText,
    Back,
    ChooseOption,
    ClearDraft,
    Finish,
    Resume,
    SetLanguage,
    ShowReview,
    Skip,
    Submit,
    ToggleOption,
    Upload,
    UsePrevious,
)
from bot.core.outcome import Outcome
from bot.core.reply import render
from bot.survey_files import load_survey
from handlers.telegram.callback_data import MAX_DATA_BYTES, decode, encode
from tests.telegram.conftest import NANTONG

#: Data as buttons sent before the neutral reply carry it: they must keep working.
WIRE_FORMAT: list[tuple[str, Action]] = [
    ("c:q5_body:#2", ChooseOption(value="#2", question_id="q5_body")),
    ("c:q1_econ_plan:yes", ChooseOption(value="yes", question_id="q1_econ_plan")),
    ("t:q4_by:#0", ToggleOption(value="#0", question_id="q4_by")),
    ("f:q4_by", Finish(question_id="q4_by")),
    ("s:stamped_table", Skip(question_id="stamped_table")),
    ("b:filled_by", Back(question_id="filled_by")),
    ("p:q2_members", UsePrevious(question_id="q2_members")),
    ("sub", Submit()),
    ("rev", ShowReview()),
    ("res", Resume()),
    ("res:7", Resume(campaign_id=7)),
    ("unit:12", Resume(unit_id=12)),
    ("lang:en", SetLanguage(language="en")),
]


@pytest.mark.parametrize(("data", "action"), WIRE_FORMAT, ids=[data for data, _ in WIRE_FORMAT])
def test_encode__keeps_the_wire_format_of_buttons_already_sent(data: str, action: Action) -> None:
    assert encode(action) == data
    assert decode(data) == action


def test_clear_draft__encodes_as_its_own_kind_and_decodes_back() -> None:
    assert encode(ClearDraft(question_id="r4_suggestions")) == "d:r4_suggestions"
    assert decode("d:r4_suggestions") == ClearDraft(question_id="r4_suggestions")
    assert decode("d:") is None


@pytest.mark.parametrize("action", [AnswerText("12"), Upload(name="a.pdf", size=1), Finish(), Back()])
def test_encode__an_action_no_button_stands_for_is_a_bug_named_as_such(action: Action) -> None:
    with pytest.raises(ValueError, match="no button data"):
        encode(action)


def test_encode__too_long_data_is_refused() -> None:
    with pytest.raises(ValueError, match=f"longer than {MAX_DATA_BYTES} bytes"):
        encode(Finish(question_id="q" * MAX_DATA_BYTES))


def test_every_control_of_the_nantong_survey__round_trips_through_button_data() -> None:
    survey = load_survey(NANTONG)
    step = engine.start(survey, language="zh", today=date(2026, 12, 1))
    seen = 0
    for text in ["如东县科学技术协会", "张三", "0513-59003013", "2023年4月26日", "是", "否", "是", "是"]:
        for message in render(Outcome(language="zh", events=step.events)).messages:
            for control in message.controls:
                assert decode(encode(control.action)) == control.action
                seen += 1
        step = engine.resume(survey, step.state, AnswerText(text), today=date(2026, 12, 1))
    assert seen > 10
