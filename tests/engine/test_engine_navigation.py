"""Transcripts for moving through a survey: relevance, back, skip, review, go to, submit,
stale buttons, unsupported input, resume, pause, language, and the state's contract."""

from __future__ import annotations

import json
from datetime import date

import pytest
from engine_harness import TODAY, Chat, options, questions, review_lines, round_trip, survey_from_yaml, trace

from bot.core import engine
from bot.core.actions import (
    Action,
    AnswerText,
    Back,
    ChooseOption,
    EditText,
    Finish,
    GoTo,
    InputKind,
    Pause,
    Resume,
    SetLanguage,
    ShowReview,
    Skip,
    Submit,
    ToggleOption,
    Unsupported,
    Upload,
)
from bot.core.events import AnswerChanged, Submitted
from bot.core.state import SessionState, SessionStatus, StateError

#: A follow-up chain: body_meets depends on body_name, which depends on has_body.
CHAIN = questions(
    """
    - id: has_body
      type: yes_no
      label: {zh: 是否建立机构, en: "Is there a coordinating body?"}
    - id: body_name
      type: text
      label: {zh: 机构名称, en: Name of the body}
      relevant: "${has_body} = 'yes'"
    - id: body_meets
      type: yes_no
      label: {zh: 是否定期开会, en: "Does it meet regularly?"}
      relevant: "${body_name} != ''"
    - id: meetings
      type: integer
      label: {zh: 会议次数, en: Number of meetings}
      relevant: "${body_meets} = 'yes'"
      required: false
    - id: members
      type: integer
      label: {zh: 成员单位（个）, en: Member units}
      min: 0
      max: 1000
    """
)

TWO_SECTIONS = survey_from_yaml(
    """
    id: two-sections
    version: "1"
    title: {zh: 两部分, en: Two parts}
    languages: [zh, en]
    sections:
      - id: basic
        title: {zh: 基本信息, en: Basic information}
        questions:
          - id: unit
            type: text
            label: {zh: 填报单位, en: Reporting unit}
          - id: phone
            type: phone
            label: {zh: 联系方式, en: Phone}
            required: false
      - id: figures
        title: {zh: 数据, en: Figures}
        questions:
          - id: members
            type: integer
            label: {zh: 成员单位（个）, en: Member units}
          - id: change
            type: integer
            label: {zh: 增加了（个）, en: Change}
            constraint: "${members} - . >= 0"
            constraint_message: {zh: 增加的个数不能多于现有个数, en: The increase cannot exceed the current count}
    """
)


# -- relevance --------------------------------------------------------------------------------


def test_relevant__follow_up_is_asked_after_yes_and_the_total_grows() -> None:
    chat = Chat(CHAIN)
    assert chat.prompt().total == 2  # has_body and members: the chain is not relevant yet
    assert chat("是") == ["set has_body: None -> 'yes'", "ask body_name 2/3"]
    assert chat("领导小组") == ["set body_name: None -> '领导小组'", "ask body_meets 3/4"]
    assert chat("是") == ["set body_meets: None -> 'yes'", "ask meetings 4/5"]


def test_relevant__no_passes_over_the_whole_chain() -> None:
    chat = Chat(CHAIN)
    assert chat("否") == ["set has_body: None -> 'no'", "ask members 2/2"]


def test_relevant__question_depending_on_a_non_relevant_answer_reads_it_as_empty() -> None:
    chat = Chat(CHAIN)
    chat.send("是", "领导小组", "是", "4", "12")
    chat.send("1")  # review → has_body
    # body_name keeps its stored answer, but as a non-relevant question it reads as empty,
    # so body_meets (and meetings after it) are no longer relevant either.
    assert chat("否") == ["set has_body: 'yes' -> 'no'", "review missing=[]"]
    assert [line.split(" →")[0] for line in review_lines(chat.review())] == [
        "【第一部分】",
        "1. 是否建立机构",
        "2. 成员单位（个）",
    ]
    assert chat.state.answers["body_name"] == "领导小组"  # kept, should has_body turn back to yes
    assert engine.submitted_values(CHAIN, chat.state, today=TODAY) == ({"has_body": "no", "members": 12}, {})
    assert engine.progress(CHAIN, chat.state, today=TODAY) == (2, 2)


# -- back -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "reason"), [("zh", "已经是第一题"), ("en", "This is already the first question")]
)
def test_back__from_the_first_question_is_rejected(language: str, reason: str) -> None:
    chat = Chat(CHAIN, language=language)
    assert chat.prompt().can_back is False
    assert chat(Back()) == [f"reject not_now: {reason}"]


def test_back__returns_to_the_previous_relevant_question_showing_its_answer() -> None:
    chat = Chat(CHAIN)
    chat.send("否")
    assert chat.prompt().can_back is True
    assert chat(Back()) == ["ask has_body 1/2"]  # the non-relevant chain is passed over
    prompt = chat.prompt()
    assert (prompt.current_display, prompt.can_skip) == ("否", True)
    assert options(prompt) == ["是", "否 ✓"]


def test_back__then_skip_keeps_the_answer_and_moves_on() -> None:
    chat = Chat(CHAIN)
    chat.send("否", Back())
    assert chat(Skip()) == ["ask members 2/2"]
    assert chat.state.answers == {"has_body": "no"}


def test_back__then_a_new_answer_changes_it_and_follows_the_new_branch() -> None:
    chat = Chat(CHAIN)
    chat.send("否", Back())
    assert chat("是") == ["set has_body: 'no' -> 'yes'", "ask body_name 2/3"]


def test_back__from_the_review_asks_the_last_question() -> None:
    chat = Chat(CHAIN)
    chat.send("否", "12")
    assert chat(Back()) == ["ask members 2/2"]
    assert chat("13") == ["set members: 12 -> 13", "review missing=[]"]


# -- skip -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "reason"),
    [("zh", "此题必答，不能跳过"), ("en", "This question must be answered and cannot be skipped")],
)
def test_skip__on_a_required_unanswered_question_is_rejected(language: str, reason: str) -> None:
    chat = Chat(CHAIN, language=language)
    assert chat.prompt().can_skip is False
    assert chat(Skip()) == [f"reject required: {reason}"]


def test_skip__on_an_optional_question_records_it_as_skipped() -> None:
    chat = Chat(CHAIN)
    chat.send("是", "领导小组", "是")
    assert chat.prompt().can_skip is True
    assert chat(Skip()) == ["ask members 5/5"]
    assert chat.state.skipped == ["meetings"]
    assert "meetings" not in chat.state.answers
    chat.send("12")
    assert "4. 会议次数 → （跳过）" in review_lines(chat.review())


def test_skip__on_an_answered_question_keeps_the_answer() -> None:
    chat = Chat(CHAIN)
    chat.send("是", "领导小组", Back(), Back())
    assert chat.prompt().question_id == "has_body"
    assert chat(Skip()) == ["ask body_name 2/4"]
    assert chat(Skip()) == ["ask body_meets 3/4"]
    assert chat.state.answers == {"has_body": "yes", "body_name": "领导小组"}


def test_skip__then_answering_later_removes_it_from_skipped() -> None:
    chat = Chat(CHAIN)
    chat.send("是", "领导小组", "是", Skip(), "12", "4")  # review → question 4
    assert chat("6") == ["set meetings: None -> 6", "review missing=[]"]
    assert chat.state.skipped == []


def test_skip__cleared_optional_answer_is_not_asked_again_on_the_way_back_to_the_review() -> None:
    survey = questions(
        """
        - id: unit
          type: text
          label: {zh: 单位, en: Unit}
        - id: channels
          type: select_multiple
          label: {zh: 渠道, en: Channels}
          required: false
          choices: [{value: tv, label: {zh: 电视, en: TV}}, {value: web, label: {zh: 网站, en: Web}}]
        - id: members
          type: integer
          label: {zh: 成员, en: Members}
        """
    )
    chat = Chat(survey)
    chat.send("科协", "1", "12", "2", ToggleOption("tv"))
    assert chat(Finish()) == ["set channels: ['tv'] -> None", "review missing=[]"]
    assert chat("1") == ["ask unit 1/3"]
    assert chat("市科协") == ["set unit: '科协' -> '市科协'", "review missing=[]"]


# -- review and go to -------------------------------------------------------------------------


def test_show_review__groups_answers_by_section_and_lists_missing_numbers() -> None:
    chat = Chat(TWO_SECTIONS)
    chat.send("如东县科协", Skip())
    assert chat(ShowReview()) == ["review missing=[3, 4]"]
    review = chat.review()
    assert review_lines(review) == [
        "【基本信息】",
        "1. 填报单位 → 如东县科协",
        "2. 联系方式 → （跳过）",
        "【数据】",
        "3. 成员单位（个） → （未答）",
        "4. 增加了（个） → （未答）",
    ]
    assert (review.can_submit, review.submitted, review.revision) == (False, False, 0)
    assert chat.state.status is SessionStatus.ANSWERING  # a look at the answers, still on question 3
    assert chat("12") == ["set members: None -> 12", "ask change 4/4"]


def test_show_review__in_english() -> None:
    chat = Chat(TWO_SECTIONS, language="en")
    chat.send("Rudong", Skip(), "12", "3")
    assert review_lines(chat.review()) == [
        "【Basic information】",
        "1. Reporting unit → Rudong",
        "2. Phone → (skipped)",
        "【Figures】",
        "3. Member units → 12",
        "4. Change → 3",
    ]


def test_goto__from_the_review_changes_one_answer_and_returns_to_the_review() -> None:
    chat = Chat(TWO_SECTIONS)
    chat.send("如东县科协", Skip(), "12", "3")
    assert chat.state.status is SessionStatus.REVIEWING
    assert chat(GoTo(1)) == ["ask unit 1/4"]
    assert chat.prompt().current_display == "如东县科协"
    assert chat.state.return_to_review is True
    assert chat("如皋市科协") == ["set unit: '如东县科协' -> '如皋市科协'", "review missing=[]"]
    assert chat.state.status is SessionStatus.REVIEWING


def test_goto__typed_number_in_the_review_goes_to_that_question() -> None:
    chat = Chat(TWO_SECTIONS)
    chat.send("如东县科协", Skip(), "12", "3")
    assert chat("２") == ["ask phone 2/4"]
    assert chat("0513-59003013") == ["set phone: None -> '0513-59003013'", "review missing=[]"]
    assert chat.state.skipped == []


@pytest.mark.parametrize(
    ("language", "reason"), [("zh", "请输入 1 到 4 之间的题号"), ("en", "Please enter a question number from 1 to 4")]
)
def test_goto__number_out_of_range_is_rejected(language: str, reason: str) -> None:
    chat = Chat(TWO_SECTIONS, language=language)
    chat.send("x", Skip(), "12", "3")
    assert chat(GoTo(5)) == [f"reject invalid: {reason}"]
    assert chat("0") == [f"reject invalid: {reason}"]


@pytest.mark.parametrize(
    ("language", "reason"),
    [
        ("zh", "输入题号可修改对应答案，确认无误后点“提交”"),
        ("en", 'Type a question\'s number to change its answer; when everything is right, tap "Submit"'),
    ],
)
def test_answer_text__in_the_review_that_is_not_a_number_is_rejected_with_a_hint(language: str, reason: str) -> None:
    chat = Chat(TWO_SECTIONS, language=language)
    chat.send("x", Skip(), "12", "3")
    assert chat("好的") == [f"reject not_now: {reason}"]


def test_goto__while_answering_cannot_jump_ahead_to_an_unanswered_question() -> None:
    chat = Chat(TWO_SECTIONS)
    chat.send("如东县科协")
    assert chat(GoTo(3)) == ["reject not_now: 请先回答前面的问题"]
    assert chat(GoTo(1)) == ["ask unit 1/4"]
    assert chat("如皋市科协") == ["set unit: '如东县科协' -> '如皋市科协'", "ask phone 2/4"]


def test_goto__while_answering_returns_to_the_first_unanswered_question_after_the_change() -> None:
    chat = Chat(TWO_SECTIONS)
    chat.send("如东县科协", "0513-59003013", "12")
    assert chat(GoTo(1)) == ["ask unit 1/4"]
    assert chat("如皋市科协") == ["set unit: '如东县科协' -> '如皋市科协'", "ask change 4/4"]


def test_submit__again_without_any_change_is_refused_and_keeps_the_revision() -> None:
    chat = Chat(TWO_SECTIONS)
    chat.send("如东县科协", "0513-59003013", "12", "3", Submit())
    assert chat.state.revision == 1
    assert chat(GoTo(3)) == ["ask members 3/4"]
    assert chat(Skip()) == ["review missing=[] submitted"]  # kept the answer: nothing to submit
    assert chat.state.status is SessionStatus.SUBMITTED
    assert chat(Submit()) == ["reject already_submitted: 已提交，答案没有改动，无需再次提交"]
    assert chat(GoTo(3)) == ["ask members 3/4"]
    assert chat("15") == ["set members: 12 -> 15", "review missing=[]"]
    assert chat.review().can_submit
    chat.send(Submit())
    assert chat.state.revision == 2


def test_goto__edit_that_makes_new_questions_relevant_asks_them_first_then_returns_to_the_review() -> None:
    chat = Chat(CHAIN)
    chat.send("否", "12")
    assert chat(GoTo(1)) == ["ask has_body 1/2"]
    assert chat("是") == ["set has_body: 'no' -> 'yes'", "ask body_name 2/3"]
    assert chat("领导小组") == ["set body_name: None -> '领导小组'", "ask body_meets 3/4"]
    assert chat("否") == ["set body_meets: None -> 'no'", "review missing=[]"]  # members is answered
    assert [item.question_id for item in chat.review().sections[0].items] == [
        "has_body", "body_name", "body_meets", "members",
    ]


def test_goto__edit_that_makes_questions_non_relevant_excludes_their_answers_from_the_submission() -> None:
    chat = Chat(CHAIN)
    chat.send("是", "领导小组", "是", "4", "12")
    chat.send(GoTo(1), "否")
    assert chat(Submit()) == ["submitted r1"]
    assert chat.submitted() == Submitted(revision=1, answers={"has_body": "no", "members": 12}, others={})
    assert engine.submitted_values(CHAIN, chat.state, today=TODAY) == ({"has_body": "no", "members": 12}, {})


def test_goto__non_relevant_other_name_is_excluded_from_the_submission() -> None:
    survey = questions(
        """
        - id: has_body
          type: yes_no
          label: {zh: 是否建立机构, en: "Is there a body?"}
        - id: body
          type: select_one
          label: {zh: 机构形式, en: Form}
          relevant: "${has_body} = 'yes'"
          choices: [{value: group, label: {zh: 领导小组, en: Leading group}}]
          other: {label: {zh: 其他（名称）, en: Other (name)}}
        """
    )
    chat = Chat(survey)
    chat.send("是", ChooseOption("other"), "联席会议")
    assert engine.submitted_values(survey, chat.state, today=TODAY) == (
        {"has_body": "yes", "body": "other"},
        {"body": "联席会议"},
    )
    chat.send("1", "否")
    assert chat(Submit()) == ["submitted r1"]
    assert (chat.submitted().answers, chat.submitted().others) == ({"has_body": "no"}, {})


# -- submit -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "reason"),
    [("zh", "还有必答题未回答：第 3, 4 题"), ("en", "Required questions are still unanswered: 3, 4")],
)
def test_submit__with_required_answers_missing_is_rejected_with_their_numbers(language: str, reason: str) -> None:
    chat = Chat(TWO_SECTIONS, language=language)
    chat.send("x", Skip())
    assert chat(Submit()) == [f"reject incomplete: {reason}"]


def test_submit__complete_answers_are_submitted_as_revision_1() -> None:
    chat = Chat(TWO_SECTIONS)
    chat.send("如东县科协", Skip(), "12", "减少 3")
    assert chat.review().can_submit is True
    assert chat(Submit()) == ["submitted r1"]
    assert chat.submitted().answers == {"unit": "如东县科协", "members": 12, "change": -3}
    assert (chat.state.status, chat.state.current, chat.state.revision) == (SessionStatus.SUBMITTED, None, 1)


@pytest.mark.parametrize(
    ("language", "reason"),
    [("zh", "已提交，答案没有改动，无需再次提交"), ("en", "Already submitted and nothing has changed since")],
)
def test_submit__twice_is_rejected_as_already_submitted(language: str, reason: str) -> None:
    chat = Chat(TWO_SECTIONS, language=language)
    chat.send("x", Skip(), "12", "3", Submit())
    assert chat(Submit()) == [f"reject already_submitted: {reason}"]
    assert chat.state.revision == 1


def test_submit__after_submitting_the_review_shows_it_submitted() -> None:
    chat = Chat(TWO_SECTIONS)
    chat.send("x", Skip(), "12", "3", Submit())
    assert chat(ShowReview()) == ["review missing=[] submitted"]
    assert (chat.review().can_submit, chat.review().revision) == (False, 1)
    assert chat(Resume()) == ["review missing=[] submitted"]


def test_submit__edit_after_submitting_then_submit_again_is_revision_2() -> None:
    chat = Chat(TWO_SECTIONS)
    chat.send("x", Skip(), "12", "3", Submit())
    assert chat("3") == ["ask members 3/4"]
    assert chat.state.status is SessionStatus.ANSWERING
    assert chat("15") == ["set members: 12 -> 15", "review missing=[]"]
    assert chat(Submit()) == ["submitted r2"]
    assert chat.submitted() == Submitted(revision=2, answers={"unit": "x", "members": 15, "change": 3}, others={})


def test_submit__from_the_last_optional_question_is_allowed() -> None:
    survey = questions(
        """
        - id: unit
          type: text
          label: {zh: 单位, en: Unit}
        - id: scan
          type: file
          label: {zh: 扫描件, en: Scan}
          required: false
        """
    )
    chat = Chat(survey)
    chat.send("科协")
    assert chat(Submit()) == ["submitted r1"]
    assert chat.submitted().answers == {"unit": "科协"}


def test_submit__constraint_broken_by_a_later_edit_takes_the_respondent_to_that_question() -> None:
    chat = Chat(TWO_SECTIONS)
    chat.send("x", Skip(), "12", "10")
    chat.send(GoTo(3), "5")  # 5 members now, but an increase of 10 is still stored
    assert chat(Submit()) == ["reject constraint: 增加的个数不能多于现有个数", "ask change 4/4"]
    assert (chat.state.status, chat.state.current, chat.state.return_to_review) == (
        SessionStatus.ANSWERING, "change", True,
    )
    assert chat("-1") == ["set change: 10 -> -1", "review missing=[]"]
    assert chat(Submit()) == ["submitted r1"]


# -- buttons of other questions, and input no question takes ----------------------------------


def test_choose_option__button_of_another_question_is_stale_and_changes_nothing() -> None:
    chat = Chat(CHAIN)
    chat.send("否")
    old_state = chat.state
    step = chat.send(ChooseOption("yes", question_id="has_body"))
    assert trace(step.events) == ["reject stale: 这个按钮属于之前的问题，已忽略；请回答当前问题"]
    assert step.state.to_dict() == old_state.to_dict()


@pytest.mark.parametrize(
    "action",
    [
        ChooseOption("maybe", question_id="has_body"),
        ChooseOption("maybe"),
        ToggleOption("yes", question_id="has_body"),
        ToggleOption("yes"),
        Finish(question_id="has_body"),
        Finish(),
        Skip(question_id="members"),
        Back(question_id="members"),
    ],
)
def test_buttons__forged_or_for_another_kind_of_question_are_stale_and_change_nothing(action: Action) -> None:
    chat = Chat(CHAIN)
    old_state = chat.state
    step = chat.send(action)
    assert trace(step.events) == ["reject stale: 这个按钮属于之前的问题，已忽略；请回答当前问题"]
    assert step.state.to_dict() == old_state.to_dict()


def test_buttons__in_the_review_are_stale() -> None:
    chat = Chat(CHAIN)
    chat.send("否", "12")
    assert chat(ChooseOption("yes", question_id="has_body")) == [
        "reject stale: 这个按钮属于之前的问题，已忽略；请回答当前问题"
    ]
    assert chat(Finish()) == ["reject stale: 这个按钮属于之前的问题，已忽略；请回答当前问题"]


def test_answer_text__made_for_another_question_is_stale_and_changes_nothing() -> None:
    chat = Chat(CHAIN)
    chat.send("否")  # members is current now
    old_state = chat.state
    step = chat.send(AnswerText("1", question_id="has_body"))  # a card's numbers for the first question
    assert trace(step.events) == ["reject stale: 这个按钮属于之前的问题，已忽略；请回答当前问题"]
    assert step.state.to_dict() == old_state.to_dict()
    assert chat(AnswerText("12", question_id="members"))[0] == "set members: None -> 12"  # for the current question: applied


def test_answer_text__made_for_a_question_is_stale_in_the_review_not_a_go_to() -> None:
    chat = Chat(CHAIN)
    chat.send("否", "12")
    assert chat(AnswerText("1", question_id="members")) == ["reject stale: 这个按钮属于之前的问题，已忽略；请回答当前问题"]


def test_choose_option__in_english_the_stale_reason_is_english() -> None:
    chat = Chat(CHAIN, language="en")
    assert chat(ChooseOption("yes", question_id="members")) == [
        "reject stale: That button belongs to an earlier question and was ignored; please answer the current question"
    ]


@pytest.mark.parametrize(
    ("language", "reason"),
    [("zh", "请按要求回答：请输入整数"), ("en", "Please answer as asked: Please answer with a whole number")],
)
def test_unsupported__is_wrong_input_and_asks_the_question_again(language: str, reason: str) -> None:
    chat = Chat(CHAIN, language=language)
    chat.send("否")
    assert chat(Unsupported(InputKind.STICKER)) == [f"reject wrong_input: {reason}", "ask members 2/2 again"]
    assert chat.prompt().repeated is True


def test_unsupported__in_the_review_is_wrong_input_with_the_review_hint() -> None:
    chat = Chat(CHAIN)
    chat.send("否", "12")
    assert chat(Unsupported(InputKind.VOICE)) == ["reject wrong_input: 输入题号可修改对应答案，确认无误后点“提交”"]


def test_upload__in_the_review_is_not_now() -> None:
    chat = Chat(CHAIN)
    chat.send("否", "12")
    assert chat(Upload(name="a.pdf", size=1)) == ["reject not_now: 现在不能这样操作"]


def test_edit_text__outside_a_long_text_is_ignored_with_a_reason() -> None:
    chat = Chat(CHAIN)
    assert chat(EditText(part_id="m1", text="改")) == [
        "reject not_now: 修改已发送的消息不会改变已保存的答案；如需修改，请在检查页面输入题号"
    ]


# -- resume, pause, language ------------------------------------------------------------------


def test_resume__repeats_the_current_question() -> None:
    chat = Chat(CHAIN)
    chat.send("是")
    assert chat(Resume()) == ["ask body_name 2/3 again"]


def test_resume__in_the_review_shows_the_review() -> None:
    chat = Chat(CHAIN)
    chat.send("否", "12")
    assert chat(Resume()) == ["review missing=[]"]


def test_pause__keeps_answers_and_drops_the_working_selection() -> None:
    survey = questions(
        """
        - id: by
          type: select_multiple
          label: {zh: 考核, en: Assessment}
          choices: [{value: party, label: {zh: 党委, en: Party}}, {value: gov, label: {zh: 政府, en: Government}}]
        """
    )
    chat = Chat(survey)
    chat.send(ToggleOption("gov"))
    assert chat(Pause()) == ["paused"]
    assert (chat.state.selection, chat.state.current) == (None, "by")
    assert chat(Resume()) == ["ask by 1/1 again"]
    assert options(chat.prompt()) == ["党委", "政府"]


def test_set_language__switches_the_prompt_and_later_rejections_to_english_and_back() -> None:
    chat = Chat(TWO_SECTIONS)
    chat.send("如东县科协", Skip())
    assert chat(SetLanguage("en")) == ["ask members 3/4 again"]
    prompt = chat.prompt()
    assert (prompt.label, prompt.section_title, chat.state.language) == ("Member units", "Figures", "en")
    assert chat("many") == ["reject invalid: Please enter a whole number, for example 12"]
    assert chat(SetLanguage("zh")) == ["ask members 3/4 again"]
    assert (chat.prompt().label, chat.prompt().section_title) == ("成员单位（个）", "数据")
    assert chat("很多") == ["reject invalid: 请输入整数，例如 12"]


@pytest.mark.parametrize("requested", ["EN", "en-GB", "en_US"])
def test_set_language__ignores_case_and_region(requested: str) -> None:
    chat = Chat(TWO_SECTIONS)
    assert chat(SetLanguage(requested)) == ["ask unit 1/4 again"]
    assert chat.state.language == "en"


@pytest.mark.parametrize(
    ("language", "reason"),
    [("zh", "不支持这种语言，可选：zh, en"), ("en", "That language is not available; choose one of: zh, en")],
)
def test_set_language__unknown_language_is_rejected_listing_the_survey_languages(language: str, reason: str) -> None:
    chat = Chat(TWO_SECTIONS, language=language)
    assert chat(SetLanguage("fr")) == [f"reject invalid: {reason}"]
    assert chat(SetLanguage("")) == [f"reject invalid: {reason}"]


def test_start__picks_the_closest_survey_language() -> None:
    assert Chat(TWO_SECTIONS, language="zh-hans").state.language == "zh"
    assert Chat(TWO_SECTIONS, language="fr").state.language == "en"
    assert Chat(TWO_SECTIONS, language=None).state.language == "zh"
    assert Chat(TWO_SECTIONS, language="en").prompt().label == "Reporting unit"


# -- the state --------------------------------------------------------------------------------


def test_state__mid_conversation_survives_json_round_trip() -> None:
    survey = questions(
        """
        - id: by
          type: select_multiple
          label: {zh: 考核, en: Assessment}
          choices: [{value: party, label: {zh: 党委, en: Party}}]
          other: {label: {zh: 其他, en: Other}}
        - id: report
          type: long_text
          label: {zh: 报告, en: Report}
        """
    )
    chat = Chat(survey)
    chat.send(ToggleOption("party"), ToggleOption("other"), Finish())
    assert chat.state.awaiting_other is True
    assert round_trip(chat.state) == chat.state
    chat.send("纪委", AnswerText("第一段", part_id="m1"))
    text = json.dumps(chat.state.to_dict(), ensure_ascii=False)
    restored = SessionState.from_dict(json.loads(text))
    assert restored == chat.state
    step = engine.resume(survey, restored, Finish(), today=TODAY)
    assert trace(step.events) == ["set report: None -> '第一段'", "review missing=[]"]


def test_state__passed_in_is_never_mutated() -> None:
    chat = Chat(CHAIN)
    chat.send("是")
    state = chat.state
    before = json.dumps(state.to_dict(), ensure_ascii=False, sort_keys=True)
    for action in (AnswerText("领导小组"), Back(), Skip(), ShowReview(), SetLanguage("en"), Pause(), Submit()):
        engine.resume(CHAIN, state, action, today=TODAY)
    assert json.dumps(state.to_dict(), ensure_ascii=False, sort_keys=True) == before


def test_state__from_dict_refuses_an_unknown_format_or_malformed_data() -> None:
    data = Chat(CHAIN).state.to_dict()
    with pytest.raises(StateError, match="unknown state format"):
        SessionState.from_dict({**data, "format": 99})
    with pytest.raises(StateError, match="malformed state"):
        SessionState.from_dict({**data, "status": "lost"})


def test_resume__with_the_state_of_another_survey_raises() -> None:
    state = Chat(TWO_SECTIONS).state
    with pytest.raises(StateError, match="belongs to survey"):
        engine.resume(CHAIN, state, Resume(), today=TODAY)


def test_answer_changed__events_replay_to_the_stored_answers() -> None:
    chat = Chat(CHAIN)
    replayed: dict[str, object] = {}
    for item in ("是", "领导小组", "是", Skip(), "12", "1", "否", Submit(), "2", "13", Submit()):
        step = chat.send(item)
        for event in step.events:
            if isinstance(event, AnswerChanged):
                assert replayed.get(event.question_id) == event.old_value
                if event.new_value is None:
                    replayed.pop(event.question_id, None)
                else:
                    replayed[event.question_id] = event.new_value
        assert replayed == chat.state.answers
    assert chat.state.revision == 2


def test_today__is_used_for_dates_when_given() -> None:
    survey = questions(
        """
        - id: day
          type: date
          label: {zh: 日期, en: Date}
          constraint: ". <= today()"
        """
    )
    chat = Chat(survey, today=date(2023, 4, 25))
    assert chat("4月26日") == ["reject constraint: 答案不符合要求，请检查后重新输入"]
    assert chat("4月25日") == ["set day: None -> '2023-04-25'", "review missing=[]"]


def test_today__question_no_longer_relevant_the_next_day_is_still_shown_not_a_crash() -> None:
    survey = questions(
        """
        - id: figure
          type: integer
          label: {zh: 数字, en: Figure}
        - id: late_reason
          type: text
          label: {zh: 逾期原因, en: Why late}
          relevant: "today() > '2023-04-26'"
        - id: done
          type: yes_no
          label: {zh: 完成, en: Done}
        """
    )
    chat = Chat(survey, today=date(2023, 4, 27))
    assert chat("1") == ["set figure: None -> 1", "ask late_reason 2/3"]
    chat.today = date(2023, 4, 26)  # the state is resumed on another day: late_reason is no longer relevant
    assert chat(Unsupported(InputKind.STICKER)) == ["reject wrong_input: 请按要求回答：请输入文字回答", "ask late_reason 2/3 again"]
    assert chat(Upload(name="a.pdf", size=1)) == ["reject wrong_input: 请按要求回答：请输入文字回答", "ask late_reason 2/3 again"]
    assert chat(Resume()) == ["ask done 2/2"]
