"""Last period's answers offered as defaults (沿用上次), ``change_of`` and ``${previous:ID}``.

A second-period campaign hands the engine the unit's submitted answers of the
first; each test is a short transcript against an inline survey.
"""

from __future__ import annotations

import pytest

from bot.core.actions import Finish, UsePrevious
from bot.core.events import DraftUpdated, RejectionCode
from bot.core.loading import DefinitionError
from bot.core.outcome import Outcome
from bot.core.previous import PreviousAnswers
from bot.core.reply import ControlKind, render
from tests.engine.engine_harness import Chat, last, questions

SECOND_PERIOD = questions(
    """
    - id: members
      type: integer
      label: {zh: 成员单位数, en: Member units}
      min: 0
      hint: {zh: "上期为 ${previous:members} 个", en: "${previous:members} last period"}
    - id: members_change
      type: integer
      label: {zh: 比上期增减, en: Change against last period}
      change_of: members
      constraint: ${previous:members} = '' or . = ${members} - ${previous:members}
      constraint_message: {zh: 增减应等于本期减上期, en: The change must be this period minus last period}
    - id: office
      type: text
      label: {zh: 联系人, en: Contact}
      prefill: false
    - id: kind
      type: select_one
      label: {zh: 类型, en: Kind}
      choices:
        - {value: a, label: {zh: 甲, en: A}}
        - {value: b, label: {zh: 乙, en: B}}
    - id: report
      type: long_text
      label: {zh: 工作总结, en: Summary}
    """
)
FIRST_PERIOD = PreviousAnswers.from_submitted(
    {
        "answers": {
            "members": 32,
            "members_change": 4,
            "office": "张三",
            "kind": "b",
            "report": "去年的总结。",
        },
        "others": {},
    }
)


def controls(chat: Chat) -> list[ControlKind]:
    reply = render(Outcome(language="zh", events=chat.events))
    return [control.kind for message in reply.messages for control in message.controls]


def test_prefill__the_question_shows_last_periods_answer_and_the_control() -> None:
    chat = Chat(SECOND_PERIOD, previous=FIRST_PERIOD)
    prompt = chat.prompt()
    assert prompt.question_id == "members"
    assert prompt.previous_display == "32"
    text = render(Outcome(language="zh", events=chat.events)).messages[-1].text
    assert "上次：32" in text
    assert "上期为 32 个" in text  # the hint shows last period's figure
    assert ControlKind.USE_PREVIOUS in controls(chat)


def test_prefill__accepting_records_the_answer_like_typing_it() -> None:
    chat = Chat(SECOND_PERIOD, previous=FIRST_PERIOD)
    assert chat(UsePrevious(question_id="members")) == ["set members: None -> 32", "ask members_change 2/5"]
    assert chat.state.answers["members"] == 32


def test_prefill__changing_the_answer_is_typing_another() -> None:
    chat = Chat(SECOND_PERIOD, previous=FIRST_PERIOD)
    assert chat("35") == ["set members: None -> 35", "ask members_change 2/5"]


def test_prefill__a_change_of_question_is_not_prefilled_and_its_constraint_reads_last_period() -> None:
    chat = Chat(SECOND_PERIOD, previous=FIRST_PERIOD)
    chat("35")
    assert chat.prompt().previous_display is None
    assert ControlKind.USE_PREVIOUS not in controls(chat)
    assert chat("4") == ["reject constraint: 增减应等于本期减上期"]
    assert chat("3") == ["set members_change: None -> 3", "ask office 3/5"]


def test_prefill__opt_out_shows_no_control_and_refuses_the_action() -> None:
    chat = Chat(SECOND_PERIOD, previous=FIRST_PERIOD)
    chat("35", "3")
    assert chat.prompt().question_id == "office"
    assert chat.prompt().previous_display is None
    assert ControlKind.USE_PREVIOUS not in controls(chat)
    chat.send(UsePrevious(question_id="office"))
    assert chat.rejection().code is RejectionCode.STALE
    assert "office" not in chat.state.answers


def test_prefill__a_choice_is_offered_by_its_label() -> None:
    chat = Chat(SECOND_PERIOD, previous=FIRST_PERIOD)
    chat("35", "3", "李四")
    assert chat.prompt().previous_display == "乙"
    assert chat(UsePrevious(question_id="kind")) == ["set kind: None -> 'b'", "ask report 5/5"]


def test_prefill__a_long_text_becomes_a_draft_that_done_accepts() -> None:
    chat = Chat(SECOND_PERIOD, previous=FIRST_PERIOD)
    chat("35", "3", "李四", "1")
    assert chat.prompt().previous_display == "去年的总结。"
    chat.send(UsePrevious(question_id="report"))
    draft = last(chat.events, DraftUpdated)
    assert draft.length == len("去年的总结。")
    assert "report" not in chat.state.answers  # a draft, not an answer yet
    chat.send("今年新增一段。")
    assert chat(Finish(question_id="report"))[0] == "set report: None -> '去年的总结。\\n今年新增一段。'"


def test_prefill__a_unit_new_this_period_simply_answers() -> None:
    chat = Chat(SECOND_PERIOD)
    prompt = chat.prompt()
    assert prompt.previous_display is None
    assert "上期为  个" in render(Outcome(language="zh", events=chat.events)).messages[-1].text
    assert ControlKind.USE_PREVIOUS not in controls(chat)
    chat("30")
    # Without last period the change constraint's first branch holds: any change is taken.
    assert chat("7") == ["set members_change: None -> 7", "ask office 3/5"]


def test_prefill__a_value_no_longer_valid_is_not_offered() -> None:
    previous = PreviousAnswers.from_submitted({"answers": {"members": -1, "kind": "gone"}, "others": {}})
    chat = Chat(SECOND_PERIOD, previous=previous)
    assert chat.prompt().previous_display is None  # below min 0
    chat("35", "3", "李四")
    assert chat.prompt().previous_display is None  # the choice was removed


def test_prefill__the_terminal_types_same_for_the_control() -> None:
    import io

    from handlers.terminal import TerminalSession

    session = TerminalSession(SECOND_PERIOD, language="zh", stdin=io.StringIO(""), stdout=io.StringIO())
    assert session.action_for("/same") == UsePrevious()


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("change_of: nowhere", "names unknown question `nowhere`"),
        ("change_of: name", "names `name`, a `text` question"),
        ("constraint: . = ${previous:nowhere}", "refers to unknown question ${previous:nowhere}"),
        ("relevant: ${previous:name} = 'x'", "cannot depend on last period"),
        ("hint: 'was ${previous:nowhere}'", "refers to unknown question ${previous:nowhere}"),
    ],
)
def test_loading__previous_period_mistakes_say_where_and_how_to_fix(field: str, message: str) -> None:
    with pytest.raises(DefinitionError) as raised:
        questions(
            f"""
            - id: name
              type: text
              label: 名称
            - id: count
              type: integer
              label: 数量
              {field}
            """
        )
    text = str(raised.value)
    assert message in text
    assert "sections[0].questions[1]" in text and "(count)" in text


def test_loading__a_change_must_be_a_number() -> None:
    with pytest.raises(DefinitionError, match="a change is a number, but this question is `text`"):
        questions(
            """
            - id: count
              type: integer
              label: 数量
            - id: note
              type: text
              label: 说明
              change_of: count
            """
        )


def test_prefill__a_multiple_choice_with_an_other_name_comes_back_whole() -> None:
    survey = questions(
        """
        - id: by
          type: select_multiple
          label: {zh: 由谁印发, en: Issued by}
          choices:
            - {value: party, label: {zh: 党委, en: Party}}
            - {value: gov, label: {zh: 政府, en: Government}}
          other: {label: {zh: 其他（名称）, en: Other (name)}}
        """
    )
    previous = PreviousAnswers.from_submitted({"answers": {"by": ["gov", "other"]}, "others": {"by": "人大"}})
    chat = Chat(survey, previous=previous)
    assert chat.prompt().previous_display == "政府、其他（名称）：人大"
    assert chat(UsePrevious(question_id="by"))[0] == "set by: None -> ['gov', 'other'] other None -> '人大'"


def test_prefill__last_periods_answer_still_meets_this_periods_constraint() -> None:
    survey = questions(
        """
        - id: activities
          type: integer
          label: {zh: 科普活动（项）, en: Activities}
          constraint: . >= 700
          constraint_message: {zh: 不少于700项, en: At least 700}
        """
    )
    chat = Chat(survey, previous=PreviousAnswers.from_submitted({"answers": {"activities": 650}}))
    assert chat.prompt().previous_display == "650"
    assert chat(UsePrevious(question_id="activities")) == ["reject constraint: 不少于700项"]
    assert chat.state.answers == {}


def test_prefill__a_button_of_another_question_is_refused_as_stale() -> None:
    chat = Chat(SECOND_PERIOD, previous=FIRST_PERIOD)
    chat.send(UsePrevious(question_id="kind"))
    assert chat.rejection().code is RejectionCode.STALE
    assert chat.state.answers == {}


def test_prefill__a_carried_over_answer_set_is_limited_to_the_matched_questions() -> None:
    previous = PreviousAnswers.from_submitted({"answers": {"members": 32, "kind": "b"}}, matched={"kind"})
    chat = Chat(SECOND_PERIOD, previous=previous)
    assert chat.prompt().previous_display is None  # members changed type since: not carried over
    chat("35", "3", "李四")
    assert chat.prompt().previous_display == "乙"
