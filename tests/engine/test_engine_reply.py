"""The neutral reply: what every channel shows for an outcome, and the way forward after every rejection.

A message is read as its text and its rows of control labels, as a respondent
sees them; the actions behind the labels are checked where they matter.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from engine_harness import NANTONG_PATH, Chat, Input, questions

from bot.core.actions import (
    Back,
    ChooseOption,
    ClearDraft,
    Finish,
    GoTo,
    Resume,
    ShowReview,
    Skip,
    Submit,
    ToggleOption,
    Unsupported,
    Upload,
)
from bot.core.events import Paused, Rejected, RejectionCode
from bot.core.loading import parse_survey
from bot.core.outcome import Outcome, UnitChoice, UnitChoices
from bot.core.reply import ControlKind, Reply, ReplyMessage, render
from bot.core.survey import Survey

SURVEY = questions(
    """
    - id: unit
      type: text
      label: {zh: 填报单位, en: Reporting unit}
    - id: count
      type: integer
      label: {zh: 成员单位数, en: Member units}
      min: 0
      max: 100
      required: false
    - id: topics
      type: select_multiple
      label: {zh: 重点人群, en: Key groups}
      max_selected: 2
      choices:
        - {value: youth, label: {zh: 青少年, en: Youth}}
        - {value: farmers, label: {zh: 农民, en: Farmers}}
        - {value: workers, label: {zh: 产业工人, en: Workers}}
    - id: report
      type: long_text
      label: {zh: 评估报告, en: Evaluation report}
      max_length: 20
      required: false
    - id: scan
      type: file
      label: {zh: 盖章扫描件, en: Stamped scan}
      accept: [pdf]
      required: false
    """
)


def reply(chat: Chat) -> Reply:
    return render(Outcome(language=chat.state.language, events=chat.events))


def newest(chat: Chat) -> ReplyMessage:
    """The message a respondent sees last after the chat's last step."""
    return reply(chat).messages[-1]


def labels(message: ReplyMessage) -> list[list[str]]:
    return [[control.label for control in row] for row in message.rows]


def at(question_id: str) -> Chat:
    """A chat on ``question_id`` of :data:`SURVEY`, the questions before it answered."""
    inputs: dict[str, list[Input]] = {"count": ["海门区科协"], "topics": ["海门区科协", "12"], "report": ["海门区科协", "12", "1"]}
    inputs["scan"] = [*inputs["report"], "报告", Finish()]
    chat = Chat(SURVEY)
    chat.send(*inputs.get(question_id, []))
    assert chat.prompt().question_id == question_id
    return chat


# -- a question's own message ---------------------------------------------------------------------


def test_prompt__choices_then_done_then_back_and_skip_with_the_question_on_the_message() -> None:
    chat = at("topics")
    message = newest(chat)
    assert message.prompt == chat.prompt()
    assert labels(message) == [["青少年"], ["农民"], ["产业工人"], ["完成"], ["⬅️ 上一题"]]
    assert [control.action for control in message.rows[0] + message.rows[3]] == [
        ToggleOption(value="#0", question_id="topics"),
        Finish(question_id="topics"),
    ]
    chat.send(ToggleOption("farmers", question_id="topics"))
    assert [control.selected for row in newest(chat).rows[:3] for control in row] == [False, True, False]


def test_prompt__yes_no_is_one_row_and_select_one_a_row_each() -> None:
    chat = Chat(
        questions(
            """
            - id: ok
              type: yes_no
              label: {zh: 是否纳入规划, en: In the plan}
            - id: body
              type: select_one
              label: {zh: 机构形式, en: Body}
              choices:
                - {value: group, label: {zh: 领导小组, en: Leading group}}
                - {value: none, label: {zh: 无, en: None}}
            """
        )
    )
    assert labels(newest(chat)) == [["是", "否"]]
    assert newest(chat).controls[0].action == ChooseOption(value="yes", question_id="ok")
    chat.send("是")
    assert labels(newest(chat)) == [["领导小组"], ["无"], ["⬅️ 上一题"]]
    assert newest(chat).controls[1].action == ChooseOption(value="#1", question_id="body")
    assert {control.kind for control in newest(chat).controls} == {ControlKind.CHOICE, ControlKind.BACK}


def test_prompt__long_text_with_a_draft_offers_done_and_start_over() -> None:
    chat = at("report")
    assert labels(newest(chat)) == [["⬅️ 上一题", "跳过"]]
    chat.send("第一段", Resume())
    assert labels(newest(chat)) == [["完成", "清空重写"], ["⬅️ 上一题", "跳过"]]
    assert newest(chat).rows[0][1].action == ClearDraft(question_id="report")


def test_prompt__an_answered_question_offers_keep_instead_of_skip() -> None:
    chat = at("count")
    chat.send("12", Back())
    assert labels(newest(chat)) == [["⬅️ 上一题", "保留当前答案"]]
    assert newest(chat).rows[0][1].kind is ControlKind.KEEP


# -- the draft counter ------------------------------------------------------------------------------


def test_draft__optional_part_offers_done_start_over_and_skip() -> None:
    chat = at("report")
    chat.send("第一段")
    message = newest(chat)
    assert message.text.startswith("已输入 3/20 字")
    assert labels(message) == [["完成", "清空重写"], ["跳过"]]
    assert [control.action for control in message.controls] == [
        Finish(question_id="report"),
        ClearDraft(question_id="report"),
        Skip(question_id="report"),
    ]


def test_draft__required_part_offers_no_skip_and_an_answered_one_offers_keep() -> None:
    chat = Chat(questions("- {id: report, type: long_text, label: {zh: 评估报告, en: Report}}"))
    chat.send("第一段")
    assert labels(newest(chat)) == [["完成", "清空重写"]]
    chat.send(Finish(), GoTo(1), "改写")
    assert labels(newest(chat)) == [["完成", "清空重写"], ["保留当前答案"]]


# -- every rejection re-offers the way forward --------------------------------------------------------


@dataclass(frozen=True)
class RejectionCase:
    code: RejectionCode
    chat: Chat
    #: The newest message's controls, by label.
    controls: list[list[str]]


def rejection_cases() -> list[RejectionCase]:
    """One rejection of every kind, and the way forward the newest message must offer."""
    cases: list[RejectionCase] = []

    def case(code: RejectionCode, chat: Chat, *inputs: Input, controls: list[list[str]]) -> None:
        chat.send(*inputs)
        cases.append(RejectionCase(code, chat, controls))

    case(RejectionCode.INVALID, at("count"), "很多", controls=[["⬅️ 上一题", "跳过"]])
    case(
        RejectionCode.CONSTRAINT,
        at_optional_report_part(),
        "五" * 201,
        Finish(),
        controls=[["完成", "清空重写"], ["⬅️ 上一题", "跳过"]],
    )
    case(RejectionCode.REQUIRED, at("topics"), Finish(), controls=[["完成"], ["⬅️ 上一题"]])
    case(
        RejectionCode.SELECTION,
        at("topics"),
        ToggleOption("youth", "topics"),
        ToggleOption("farmers", "topics"),
        ToggleOption("workers", "topics"),
        controls=[["完成"], ["⬅️ 上一题"]],
    )
    case(
        RejectionCode.DRAFT_TOO_LONG,
        at("report"),
        "一二三四五六七八九十",
        "一二三四五六七八九十",
        controls=[["完成", "清空重写"], ["⬅️ 上一题", "跳过"]],
    )
    case(RejectionCode.WRONG_INPUT, at("scan"), "扫描件在这里", controls=[["⬅️ 上一题", "跳过"]])
    case(RejectionCode.STALE, at("count"), Skip(question_id="unit"), controls=[["⬅️ 上一题", "跳过"]])
    case(RejectionCode.NOT_NOW, at("scan"), Skip(), "随便写点什么", controls=[["📋 查看全部回答", "✅ 提交"]])
    case(
        RejectionCode.INCOMPLETE,
        Chat(SURVEY),
        "海门区科协",
        Skip(),
        ShowReview(),
        Submit(),
        controls=[["完成"], ["⬅️ 上一题"]],  # the review in mid-survey: still on the multiple choice
    )
    case(
        RejectionCode.ALREADY_SUBMITTED,
        at("scan"),
        Skip(),
        Submit(),
        Submit(),
        controls=[["📋 查看全部回答"]],
    )
    return cases


def at_optional_report_part() -> Chat:
    """The Nantong survey with its last report part optional, on that part; the four before total 800."""
    chat = Chat(nantong_with_optional_part("r4_suggestions"))
    table = ["如东县科学技术协会", "张三", "0513-59003013", "2023年4月26日", "是", "否", "是", "否", "1", "是", "35", "0"]
    report = [item for part in ("一" * 200, "二" * 200, "三" * 200, "四" * 200) for item in (part, Finish())]
    chat.send(*table, *report)
    assert chat.prompt().question_id == "r4_suggestions" and not chat.prompt().required
    return chat


def nantong_with_optional_part(question_id: str) -> Survey:
    text = NANTONG_PATH.read_text(encoding="utf-8")
    anchor = f"      - id: {question_id}\n        type: long_text\n"
    assert text.count(anchor) == 1
    return parse_survey(text.replace(anchor, anchor + "        required: false\n"), source=str(NANTONG_PATH))


CASES = rejection_cases()


def test_rejection_cases__cover_every_rejection_code() -> None:
    assert sorted(case.code for case in CASES) == sorted(RejectionCode)


@pytest.mark.parametrize("case", CASES, ids=[case.code.value for case in CASES])
def test_rejection__the_newest_message_is_the_warning_with_the_way_forward(case: RejectionCase) -> None:
    rejected = case.chat.rejection()
    assert rejected.code is case.code
    message = newest(case.chat)
    assert (message.text, message.warning, message.prompt) == (rejected.reason, True, None)
    assert labels(message) == case.controls


def test_rejection__not_now_at_the_first_question_still_offers_what_the_question_offers() -> None:
    chat = Chat(SURVEY)
    chat.send("海门区科协")
    chat.send(Back(), Back(question_id="unit"))
    assert chat.rejection().code is RejectionCode.NOT_NOW
    assert labels(newest(chat)) == [["保留当前答案"]]


def test_rejection__carries_the_open_question_as_it_stands_and_leaves_the_state_alone() -> None:
    chat = at("report")
    chat.send("第一段")
    before = chat.state.to_dict()
    chat.send("长" * 20)
    rejected = chat.rejection()
    assert rejected.prompt is not None
    assert (rejected.prompt.question_id, rejected.prompt.draft_length, rejected.prompt.repeated) == ("report", 3, True)
    assert chat.state.to_dict() == before
    assert [type(event) for event in chat.events] == [Rejected]  # the question text is not repeated


def test_rejection__in_the_review_offers_submit_when_the_answers_can_be_submitted() -> None:
    chat = at("scan")
    chat.send(Skip(), "随便写点什么")
    assert chat.rejection().code is RejectionCode.NOT_NOW
    assert labels(newest(chat)) == [["📋 查看全部回答", "✅ 提交"]]
    assert [control.action for control in newest(chat).controls] == [ShowReview(), Submit()]


def test_rejection__that_asks_the_question_again_leaves_the_controls_to_the_question() -> None:
    chat = at("count")
    chat.send(Unsupported())
    warning, question = reply(chat).messages
    assert warning.warning and warning.rows == ()
    assert question.prompt is not None and labels(question) == [["⬅️ 上一题", "跳过"]]


def test_rejection__a_wrong_file_type_offers_the_file_question_s_way_forward() -> None:
    chat = at("scan")
    chat.send(Upload(name="表.docx", size=10))
    assert chat.rejection().code is RejectionCode.INVALID
    assert labels(newest(chat)) == [["⬅️ 上一题", "跳过"]]


def test_clear_draft__after_the_cross_field_rejection_starts_the_part_over() -> None:
    chat = at_optional_report_part()
    chat.send("五" * 201, Finish())
    start_over = next(c for c in newest(chat).controls if c.kind is ControlKind.CLEAR_DRAFT)
    chat.send(start_over.action)
    assert chat.state.drafts == {}
    assert chat.prompt().question_id == "r4_suggestions" and chat.prompt().draft_length == 0
    chat.send("五" * 200, Finish())
    assert chat.state.answers["r4_suggestions"] == "五" * 200


# -- notices and the rest -----------------------------------------------------------------------------


def test_paused__offers_resume() -> None:
    message = render(Outcome(language="en", events=(Paused(),))).messages[-1]
    assert labels(message) == [["Continue"]]
    assert message.controls[0].action == Resume()


def test_unit_choices__one_control_per_unit_the_active_one_selected() -> None:
    units = UnitChoices(
        units=(
            UnitChoice(unit_id=1, unit_name="崇川区", campaign_title="南通中期评估", submitted=True, active=False),
            UnitChoice(unit_id=2, unit_name="海门区", campaign_title="南通中期评估", submitted=False, active=True),
        )
    )
    message = render(Outcome(language="zh", events=(units,))).messages[0]
    assert labels(message) == [["崇川区 · 南通中期评估（已提交）"], ["海门区 · 南通中期评估"]]
    assert [(c.action, c.selected) for c in message.controls] == [(Resume(unit_id=1), False), (Resume(unit_id=2), True)]


def test_review__is_cut_to_the_channel_limit_and_only_the_last_part_offers_submit() -> None:
    chat = at("scan")
    chat.send(Skip())
    messages = render(Outcome(language="zh", events=chat.events), max_length=60).messages
    assert len(messages) > 1 and all(len(message.text) <= 60 for message in messages)
    assert [labels(message) for message in messages[-2:]] == [[], [["✅ 提交"]]]


def test_render__an_event_it_does_not_know_fails_loudly_instead_of_vanishing() -> None:
    @dataclass(frozen=True)
    class Unknown:
        pass

    with pytest.raises(AssertionError):
        render(Outcome(language="zh", events=(Unknown(),)))  # type: ignore[arg-type]  # not an Event: the point

