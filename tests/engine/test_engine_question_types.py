"""Transcripts for every question type: what is asked, what is accepted, what is refused and why."""

from __future__ import annotations

from datetime import date

import pytest
from engine_harness import Chat, options, questions

from bot.core.actions import (
    AnswerText,
    Back,
    ChooseOption,
    ClearDraft,
    EditText,
    Finish,
    Pause,
    Resume,
    Skip,
    ToggleOption,
    Upload,
)
from bot.core.definition import QuestionType
from bot.core.events import DraftUpdated, Intro, NoteShown, RejectionCode

# -- text -------------------------------------------------------------------------------------

TEXT = questions(
    """
    - id: unit
      type: text
      label: {zh: 填报单位, en: Reporting unit}
      hint: {zh: 单位全称, en: Full name}
      max_length: 10
    - id: credit_code
      type: text
      label: {zh: 统一社会信用代码, en: Unified social credit code}
      pattern: "[0-9A-Z]{18}"
      pattern_message: {zh: 请输入18位统一社会信用代码, en: Please enter the 18-character credit code}
    - id: remark
      type: text
      label: {zh: 备注, en: Remark}
      pattern: "[a-z]+"
      required: false
    """
)


def test_text__first_prompt_shows_label_hint_position_and_limit() -> None:
    chat = Chat(TEXT)
    prompt = chat.prompt()
    assert (prompt.question_id, prompt.kind, prompt.section_title) == ("unit", QuestionType.TEXT, "第一部分")
    assert (prompt.label, prompt.hint, prompt.position, prompt.total) == ("填报单位", "单位全称", 1, 3)
    assert (prompt.max_length, prompt.required, prompt.can_skip, prompt.can_back) == (10, True, False, False)
    assert prompt.choices == ()


def test_text__answer_is_trimmed_and_stored() -> None:
    chat = Chat(TEXT)
    assert chat("  如东县科协 ") == ["set unit: None -> '如东县科协'", "ask credit_code 2/3"]
    assert chat.state.answers == {"unit": "如东县科协"}
    assert chat.state.current == "credit_code"


@pytest.mark.parametrize(
    ("language", "reason"),
    [
        ("zh", "最多 10 字，目前 11 字，请精简后重新发送"),
        ("en", "At most 10 characters; this has 11. Please shorten it and send it again"),
    ],
)
def test_text__over_max_length_is_rejected_with_both_lengths(language: str, reason: str) -> None:
    chat = Chat(TEXT, language=language)
    assert chat("一二三四五六七八九十一") == [f"reject invalid: {reason}"]
    assert chat.state.answers == {}


@pytest.mark.parametrize(("language", "reason"), [("zh", "请输入内容"), ("en", "Please enter some text")])
def test_text__blank_is_rejected_as_empty(language: str, reason: str) -> None:
    assert Chat(TEXT, language=language)("   ") == [f"reject invalid: {reason}"]


@pytest.mark.parametrize(
    ("language", "reason"),
    [("zh", "请输入18位统一社会信用代码"), ("en", "Please enter the 18-character credit code")],
)
def test_text__pattern_mismatch_is_rejected_with_the_pattern_message(language: str, reason: str) -> None:
    chat = Chat(TEXT, language=language)
    chat.send("如东县科协")
    assert chat("91320623-MA1") == [f"reject invalid: {reason}"]
    assert chat("91320623MA1MXXXX0X") == ["set credit_code: None -> '91320623MA1MXXXX0X'", "ask remark 3/3"]


@pytest.mark.parametrize(("language", "reason"), [("zh", "格式不符合要求"), ("en", "The format is not accepted")])
def test_text__pattern_without_message_is_rejected_with_the_generic_reason(language: str, reason: str) -> None:
    chat = Chat(TEXT, language=language)
    chat.send("如东县科协", "91320623MA1MXXXX0X")
    assert chat("ABC") == [f"reject invalid: {reason}"]
    assert chat("abc") == ["set remark: None -> 'abc'", "review missing=[]"]


# -- long text --------------------------------------------------------------------------------

LONG_TEXT = questions(
    """
    - id: report
      type: long_text
      label: {zh: 评估报告, en: Evaluation report}
      max_length: 20
    - id: remark
      type: long_text
      label: {zh: 补充说明, en: Remarks}
      required: false
    """
)


def test_long_text__parts_grow_one_draft_counting_line_breaks() -> None:
    chat = Chat(LONG_TEXT)
    prompt = chat.prompt()
    assert (prompt.kind, prompt.max_length, prompt.draft_length) == (QuestionType.LONG_TEXT, 20, 0)
    assert chat(AnswerText("第一段内容", part_id="m1")) == ["draft report 5/20 in 1"]
    assert chat(AnswerText("第二段", part_id="m2")) == ["draft report 9/20 in 2"]
    assert chat.state.drafts == {"report": [["m1", "第一段内容"], ["m2", "第二段"]]}
    assert chat.state.answers == {}
    assert chat(Finish()) == ["set report: None -> '第一段内容\\n第二段'", "ask remark 2/2"]
    assert chat.state.drafts == {}


def test_long_text__editing_a_sent_part_updates_the_draft() -> None:
    chat = Chat(LONG_TEXT)
    chat.send(AnswerText("第一段内容", part_id="m1"), AnswerText("第二段", part_id="m2"))
    assert chat(EditText(part_id="m1", text="一")) == ["draft report 5/20 in 2"]
    assert chat(EditText(part_id="m2", text="  ")) == ["draft report 1/20 in 1"]  # emptied: the part goes
    assert chat.state.drafts == {"report": [["m1", "一"]]}
    assert chat(Finish()) == ["set report: None -> '一'", "ask remark 2/2"]


@pytest.mark.parametrize(
    ("language", "reason"),
    [
        ("zh", "加上这段共 21 字，超过了 20 字的上限；这段没有保存，请精简后重新发送"),
        ("en", "With this part the text would have 21 characters, over the limit of 20; this part was not kept, please shorten it and send it again"),
    ],
)
def test_long_text__part_beyond_max_length_is_rejected_and_not_kept(language: str, reason: str) -> None:
    chat = Chat(LONG_TEXT, language=language)
    chat.send(AnswerText("一二三四五六七八九十", part_id="m1"))
    assert chat(AnswerText("一二三四五六七八九十", part_id="m2")) == [f"reject draft_too_long: {reason}"]
    assert chat.state.drafts == {"report": [["m1", "一二三四五六七八九十"]]}


def test_long_text__edit_beyond_max_length_is_rejected() -> None:
    chat = Chat(LONG_TEXT)
    chat.send(AnswerText("短", part_id="m1"))
    assert chat(EditText(part_id="m1", text="长" * 21)) == [
        "reject draft_too_long: 加上这段共 21 字，超过了 20 字的上限；这段没有保存，请精简后重新发送"
    ]


def test_long_text__edit_of_an_unknown_part_is_ignored_with_a_reason() -> None:
    chat = Chat(LONG_TEXT)
    chat.send(AnswerText("第一段", part_id="m1"))
    assert chat(EditText(part_id="m9", text="改")) == [
        "reject not_now: 修改已发送的消息不会改变已保存的答案；如需修改，请在检查页面输入题号"
    ]


def test_long_text__finish_without_text_on_required_is_rejected() -> None:
    chat = Chat(LONG_TEXT)
    assert chat(Finish()) == ["reject required: 还没有输入内容，请先发送文字"]
    assert chat(AnswerText("   ")) == ["reject invalid: 请输入内容"]


def test_long_text__finish_without_text_on_optional_skips_it() -> None:
    chat = Chat(LONG_TEXT)
    chat.send("报告", Finish())
    assert chat(Finish()) == ["review missing=[]"]
    assert chat.state.skipped == ["remark"]


def test_long_text__clear_draft_empties_it_and_asks_again() -> None:
    chat = Chat(LONG_TEXT)
    chat.send(AnswerText("第一段内容", part_id="m1"), AnswerText("第二段", part_id="m2"))
    assert chat(ClearDraft(question_id="report")) == ["ask report 1/2 again"]
    assert chat.state.drafts == {}
    assert chat.prompt().draft_length == 0
    assert chat(AnswerText("重写", part_id="m3")) == ["draft report 2/20 in 1"]  # counts from nothing again


def test_long_text__clear_draft_keeps_the_stored_answer() -> None:
    chat = Chat(LONG_TEXT)
    chat.send("报告", Finish(), Back(), "改写中")
    assert chat(ClearDraft(question_id="report")) == ["ask report 1/2 again"]
    assert chat.state.answers == {"report": "报告"}
    assert chat.prompt().current_display == "报告"


def test_long_text__clear_draft_from_another_question_or_type_is_refused_as_stale() -> None:
    chat = Chat(LONG_TEXT)
    chat.send("报告")
    assert chat(ClearDraft(question_id="remark")) == ["reject stale: 这个按钮属于之前的问题，已忽略；请回答当前问题"]
    assert chat.state.drafts == {"report": [["", "报告"]]}
    choice = Chat(questions("- {id: ok, type: yes_no, label: {zh: 是否, en: Is it}}"))
    assert choice(ClearDraft()) == ["reject stale: 这个按钮属于之前的问题，已忽略；请回答当前问题"]


def test_long_text__draft_says_whether_skip_is_offered_and_whether_it_keeps_an_answer() -> None:
    chat = Chat(LONG_TEXT)
    required = chat.send("报告").events[-1]
    assert isinstance(required, DraftUpdated) and (required.can_skip, required.answered) == (False, False)
    optional = chat.send(Finish(), "备注").events[-1]
    assert isinstance(optional, DraftUpdated) and (optional.can_skip, optional.answered) == (True, False)
    answered = chat.send(Back(), "再写").events[-1]
    assert isinstance(answered, DraftUpdated) and (answered.can_skip, answered.answered) == (True, True)


def test_long_text__draft_survives_a_pause_and_shows_its_length_when_asked_again() -> None:
    chat = Chat(LONG_TEXT)
    chat.send(AnswerText("第一段内容", part_id="m1"))
    assert chat(Pause()) == ["paused"]
    assert chat(Resume()) == ["ask report 1/2 again"]
    assert chat.prompt().draft_length == 5
    assert chat.state.drafts == {"report": [["m1", "第一段内容"]]}


def test_long_text__skip_on_optional_drops_the_draft() -> None:
    chat = Chat(LONG_TEXT)
    chat.send("报告", Finish(), "补充")
    assert chat(Skip()) == ["review missing=[]"]
    assert chat.state.drafts == {}
    assert chat.state.skipped == ["remark"]


# -- integer and decimal ----------------------------------------------------------------------

NUMBERS = questions(
    """
    - id: members
      type: integer
      label: {zh: 成员单位（个）, en: Member units}
      min: 0
      max: 1000
    - id: change
      type: integer
      label: {zh: 增加（或减少）了（个）, en: Change}
      min: -500
    - id: budget
      type: decimal
      label: {zh: 经费（万元）, en: Budget (10k yuan)}
      max: 99.5
    - id: rate
      type: decimal
      label: {zh: 志愿服务率（%）, en: Volunteer service rate (%)}
      min: 0
      max: 100
    - id: anything
      type: integer
      label: {zh: 任意整数, en: Any whole number}
    """
)


@pytest.mark.parametrize(
    ("text", "language", "reason"),
    [
        ("1001", "zh", "请输入 0 到 1000 之间的整数"),
        ("-1", "zh", "请输入 0 到 1000 之间的整数"),
        ("很多", "zh", "请输入 0 到 1000 之间的整数"),
        ("12.5", "zh", "请输入 0 到 1000 之间的整数"),
        ("1001", "en", "Please enter a whole number from 0 to 1000"),
        ("many", "en", "Please enter a whole number from 0 to 1000"),
    ],
)
def test_integer__out_of_range_or_not_a_whole_number_is_rejected_with_range(text: str, language: str, reason: str) -> None:
    chat = Chat(NUMBERS, language=language)
    assert chat(text) == [f"reject invalid: {reason}"]
    assert chat.state.answers == {}


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("1000", 1000), ("１２", 12), ("12 个", 12), ("1,000", 1000)])
def test_integer__bounds_are_inclusive_and_input_is_tolerant(text: str, value: int) -> None:
    chat = Chat(NUMBERS)
    assert chat(text) == [f"set members: None -> {value!r}", "ask change 2/5"]


def test_integer__min_only_rejects_with_the_minimum() -> None:
    chat = Chat(NUMBERS)
    chat.send("12")
    assert chat("-501") == ["reject invalid: 请输入不小于 -500 的整数"]
    assert chat("abc") == ["reject invalid: 请输入整数，例如 12"]
    chat_en = Chat(NUMBERS, language="en")
    chat_en.send("12")
    assert chat_en("-501") == ["reject invalid: Please enter a whole number of at least -500"]
    assert chat_en("abc") == ["reject invalid: Please enter a whole number, for example 12"]


def test_integer__signed_change_in_words() -> None:
    chat = Chat(NUMBERS)
    chat.send("12")
    assert chat("减少 2") == ["set change: None -> -2", "ask budget 3/5"]
    chat.send(Back())
    assert chat("增加 3") == ["set change: -2 -> 3", "ask budget 3/5"]


def test_decimal__stored_as_exact_text() -> None:
    chat = Chat(NUMBERS)
    chat.send("12", "0")
    assert chat("３．５") == ["set budget: None -> '3.5'", "ask rate 4/5"]
    assert chat("85.50%") == ["set rate: None -> '85.5'", "ask anything 5/5"]


@pytest.mark.parametrize(
    ("language", "text", "reason"),
    [
        ("zh", "99.6", "请输入不大于 99.5 的数字"),
        ("zh", "abc", "请输入数字，例如 3.5"),
        ("en", "99.6", "Please enter a number of at most 99.5"),
        ("en", "abc", "Please enter a number, for example 3.5"),
    ],
)
def test_decimal__over_max_or_not_a_number_is_rejected(language: str, text: str, reason: str) -> None:
    chat = Chat(NUMBERS, language=language)
    chat.send("12", "0")
    assert chat(text) == [f"reject invalid: {reason}"]


@pytest.mark.parametrize(
    ("language", "text", "reason"),
    [
        ("zh", "101", "请输入 0 到 100 之间的数字"),
        ("zh", "百分之八十", "请输入 0 到 100 之间的数字"),
        ("en", "-0.1", "Please enter a number from 0 to 100"),
    ],
)
def test_decimal__out_of_range_is_rejected_with_range(language: str, text: str, reason: str) -> None:
    chat = Chat(NUMBERS, language=language)
    chat.send("12", "0", "1")
    assert chat(text) == [f"reject invalid: {reason}"]


def test_integer__without_bounds_takes_large_figures() -> None:
    chat = Chat(NUMBERS)
    chat.send("12", "0", "1", "1")
    assert chat("10万") == ["set anything: None -> 100000", "review missing=[]"]


def test_integer__absurdly_long_number_is_rejected_not_stored() -> None:
    chat = Chat(NUMBERS)
    chat.send("12", "0", "1", "1")
    assert chat("9" * 5000) == ["reject invalid: 请输入整数，例如 12"]
    assert chat("1" * 40 + "万") == ["reject invalid: 请输入整数，例如 12"]
    assert "anything" not in chat.state.answers


# -- yes / no ---------------------------------------------------------------------------------

YES_NO = questions(
    """
    - id: regulation
      type: yes_no
      label: {zh: 是否出台本地区科普条例, en: "Has the locality issued regulations?"}
    - id: meetings
      type: yes_no
      label: {zh: 是否定期召开会议, en: "Are meetings held regularly?"}
    """
)


def test_yes_no__prompt_offers_yes_and_no_buttons() -> None:
    chat = Chat(YES_NO)
    assert [(c.value, c.label, c.selected) for c in chat.prompt().choices] == [("yes", "是", False), ("no", "否", False)]
    chat_en = Chat(YES_NO, language="en")
    assert options(chat_en.prompt()) == ["Yes", "No"]


@pytest.mark.parametrize(
    ("text", "value"),
    [("是", "yes"), ("否", "no"), ("对", "yes"), ("不是", "no"), ("yes", "yes"), ("No", "no"), ("y", "yes"), ("n", "no"),
     ("是的。", "yes"), ("没有", "no"), ("1", "yes"), ("2", "no"), ("１", "yes")],
)
def test_yes_no__typed_words_are_understood(text: str, value: str) -> None:
    assert Chat(YES_NO)(text) == [f"set regulation: None -> {value!r}", "ask meetings 2/2"]


def test_yes_no__buttons_answer_and_show_the_selection_when_asked_again() -> None:
    chat = Chat(YES_NO)
    assert chat(ChooseOption("no", question_id="regulation")) == ["set regulation: None -> 'no'", "ask meetings 2/2"]
    chat.send(ChooseOption("yes"))
    assert chat.state.answers == {"regulation": "no", "meetings": "yes"}
    chat.send("1")  # from the review: change question 1
    assert options(chat.prompt()) == ["是", "否 ✓"]
    assert chat.prompt().current_display == "否"


@pytest.mark.parametrize(("language", "reason"), [("zh", "请回答“是”或“否”"), ("en", "Please answer yes or no")])
def test_yes_no__other_text_is_rejected(language: str, reason: str) -> None:
    assert Chat(YES_NO, language=language)("也许") == [f"reject invalid: {reason}"]


# -- select one -------------------------------------------------------------------------------

SELECT_ONE = questions(
    """
    - id: body
      type: select_one
      label: {zh: 机构形式, en: Form of the body}
      choices:
        - {value: leading_group, label: {zh: 领导小组, en: Leading group}}
        - {value: office, label: {zh: 办公室, en: Office}}
        - {value: "no", label: {zh: 否, en: "No"}}
      other:
        label: {zh: 其他（名称）, en: Other (name)}
        before: "no"
    - id: level
      type: select_one
      label: {zh: 级别, en: Level}
      choices:
        - {value: city, label: {zh: 市级, en: City}}
        - {value: county, label: {zh: 县级, en: County}}
      other: {label: {zh: 其他, en: Other}}
    """
)


def test_select_one__other_is_placed_before_the_named_choice() -> None:
    chat = Chat(SELECT_ONE)
    prompt = chat.prompt()
    assert options(prompt) == ["领导小组", "办公室", "其他（名称）", "否"]
    assert [c.is_other for c in prompt.choices] == [False, False, True, False]
    chat.send(ChooseOption("office"))
    assert options(chat.prompt()) == ["市级", "县级", "其他"]  # without `before`: last


def test_select_one__button_stores_the_value() -> None:
    chat = Chat(SELECT_ONE)
    assert chat(ChooseOption("leading_group", question_id="body")) == ["set body: None -> 'leading_group'", "ask level 2/2"]


@pytest.mark.parametrize(("text", "value"), [("2", "office"), ("４", "no"), ("办公室", "office"), ("OFFICE", "office")])
def test_select_one__typed_number_or_label_chooses(text: str, value: str) -> None:
    assert Chat(SELECT_ONE)(text) == [f"set body: None -> {value!r}", "ask level 2/2"]


@pytest.mark.parametrize(
    ("language", "text", "reason"),
    [
        ("zh", "5", "请点击下方按钮选择，或输入选项编号（1–4）"),
        ("zh", "1,2", "请点击下方按钮选择，或输入选项编号（1–4）"),
        ("en", "chair", "Please tap a button below, or type the option's number (1–4)"),
    ],
)
def test_select_one__unknown_number_or_label_is_rejected(language: str, text: str, reason: str) -> None:
    assert Chat(SELECT_ONE, language=language)(text) == [f"reject invalid: {reason}"]


def test_select_one__other_asks_for_its_name_then_stores_both() -> None:
    chat = Chat(SELECT_ONE)
    assert chat(ChooseOption("other")) == ["ask body 1/2 other-name"]
    prompt = chat.prompt()
    assert (prompt.awaiting_other, prompt.other_label) == (True, "其他（名称）")
    assert chat.state.answers == {}
    assert chat("  科普联席会议 ") == ["set body: None -> 'other' other None -> '科普联席会议'", "ask level 2/2"]
    assert chat.state.others == {"body": "科普联席会议"}


def test_select_one__other_by_typed_number_asks_for_its_name() -> None:
    chat = Chat(SELECT_ONE)
    assert chat("3") == ["ask body 1/2 other-name"]
    assert chat(" ") == ["reject invalid: 请输入“其他（名称）”的名称"]
    assert chat("x" * 201) == ["reject invalid: 最多 200 字，目前 201 字，请精简后重新发送"]


def test_select_one__choosing_a_plain_choice_drops_the_other_name() -> None:
    chat = Chat(SELECT_ONE)
    chat.send(ChooseOption("other"), "联席会议", ChooseOption("city"))
    chat.send("1")  # review: change question 1
    assert chat.prompt().current_display == "其他（名称）：联席会议"
    assert chat(ChooseOption("no")) == ["set body: 'other' -> 'no' other '联席会议' -> None", "review missing=[]"]
    assert chat.state.others == {}


def test_select_one__back_while_naming_other_returns_to_the_choices() -> None:
    chat = Chat(SELECT_ONE)
    chat.send(ChooseOption("other"))
    assert chat(Back()) == ["ask body 1/2"]
    assert chat.state.awaiting_other is False


# -- select multiple --------------------------------------------------------------------------

SELECT_MULTIPLE = questions(
    """
    - id: by
      type: select_multiple
      label: {zh: 纳入哪一方的考核, en: Whose assessment}
      choices:
        - {value: party_committee, label: {zh: 党委, en: Party committee}}
        - {value: government, label: {zh: 政府, en: Government}}
        - {value: congress, label: {zh: 人大, en: Congress}}
      other: {label: {zh: 其他, en: Other}}
      min_selected: 2
      max_selected: 3
    - id: channels
      type: select_multiple
      label: {zh: 宣传渠道, en: Channels}
      required: false
      choices:
        - {value: tv, label: {zh: 电视, en: TV}}
        - {value: web, label: {zh: 网站, en: Website}}
    """
)


def test_select_multiple__toggles_mark_choices_and_finish_stores_them_in_choice_order() -> None:
    chat = Chat(SELECT_MULTIPLE)
    prompt = chat.prompt()
    assert (prompt.min_selected, prompt.max_selected) == (2, 3)
    assert chat(ToggleOption("government", question_id="by")) == ["ask by 1/2"]
    assert options(chat.prompt()) == ["党委", "政府 ✓", "人大", "其他"]
    assert chat.state.selection == ["government"]
    chat.send(ToggleOption("party_committee"))
    assert options(chat.prompt()) == ["党委 ✓", "政府 ✓", "人大", "其他"]
    assert chat(Finish(question_id="by")) == [
        "set by: None -> ['party_committee', 'government']",
        "ask channels 2/2",
    ]
    assert chat.state.selection == []  # the next multiple choice starts empty


def test_select_multiple__toggling_twice_unselects() -> None:
    chat = Chat(SELECT_MULTIPLE)
    chat.send(ToggleOption("government"), ToggleOption("government"))
    assert options(chat.prompt()) == ["党委", "政府", "人大", "其他"]
    assert chat.state.selection == []


@pytest.mark.parametrize(
    ("language", "reason"), [("zh", "请至少选择 2 项"), ("en", "Please choose at least 2")]
)
def test_select_multiple__finish_with_too_few_is_rejected_with_the_minimum(language: str, reason: str) -> None:
    chat = Chat(SELECT_MULTIPLE, language=language)
    chat.send(ToggleOption("government"))
    assert chat(Finish()) == [f"reject selection: {reason}"]


def test_select_multiple__finish_with_none_on_required_is_rejected_as_required() -> None:
    assert Chat(SELECT_MULTIPLE)(Finish()) == ["reject required: 此题必答，不能跳过"]


@pytest.mark.parametrize(("language", "reason"), [("zh", "最多选择 3 项"), ("en", "You can choose at most 3")])
def test_select_multiple__toggle_beyond_the_maximum_is_rejected(language: str, reason: str) -> None:
    chat = Chat(SELECT_MULTIPLE, language=language)
    chat.send(ToggleOption("party_committee"), ToggleOption("government"), ToggleOption("congress"))
    assert chat(ToggleOption("other")) == [f"reject selection: {reason}"]
    assert chat.state.selection == ["party_committee", "government", "congress"]


def test_select_multiple__typed_numbers_choose_and_finish_at_once() -> None:
    chat = Chat(SELECT_MULTIPLE)
    assert chat("3、1") == ["set by: None -> ['party_committee', 'congress']", "ask channels 2/2"]


def test_select_multiple__typed_numbers_beyond_the_maximum_are_rejected() -> None:
    assert Chat(SELECT_MULTIPLE)("1,2,3,4") == ["reject selection: 最多选择 3 项"]
    assert Chat(SELECT_MULTIPLE)("1,9") == ["reject invalid: 请点击下方按钮选择，或输入选项编号，用逗号分隔，例如 1,3"]


def test_select_multiple__other_asks_for_its_name_on_finish() -> None:
    chat = Chat(SELECT_MULTIPLE)
    chat.send(ToggleOption("other"), ToggleOption("government"))
    assert chat(Finish()) == ["ask by 1/2 other-name"]
    assert chat.prompt().other_label == "其他"
    assert chat("纪委") == ["set by: None -> ['government', 'other'] other None -> '纪委'", "ask channels 2/2"]


def test_select_multiple__unselecting_while_naming_other_cannot_bypass_the_minimum() -> None:
    chat = Chat(SELECT_MULTIPLE)
    chat.send(ToggleOption("government"), ToggleOption("other"), Finish())
    chat.send(ToggleOption("government"))  # while the name of "other" is awaited
    assert chat("纪委") == ["reject selection: 请至少选择 2 项"]
    assert "by" not in chat.state.answers


def test_select_multiple__selecting_while_naming_other_keeps_choice_order() -> None:
    chat = Chat(SELECT_MULTIPLE)
    chat.send(ToggleOption("government"), ToggleOption("other"), Finish(), ToggleOption("party_committee"))
    assert chat("纪委") == [
        "set by: None -> ['party_committee', 'government', 'other'] other None -> '纪委'",
        "ask channels 2/2",
    ]


def test_select_multiple__a_cards_numbers_while_naming_other_are_a_new_choice_not_the_name() -> None:
    # WeCom: "4" typed (other) asks for the name; the old vote card, still live, then sends "1 2".
    chat = Chat(SELECT_MULTIPLE)
    chat.send("4、2")
    assert chat.state.awaiting_other
    assert chat(AnswerText("1 2", question_id="by")) == [
        "set by: None -> ['party_committee', 'government']",
        "ask channels 2/2",
    ]
    assert "by" not in chat.state.others
    # Typed text without a card is still the name.
    chat = Chat(SELECT_MULTIPLE)
    chat.send("4、2")
    assert chat("1 2") == ["set by: None -> ['government', 'other'] other None -> '1 2'", "ask channels 2/2"]


def test_select_multiple__asked_again_starts_from_the_stored_answer() -> None:
    chat = Chat(SELECT_MULTIPLE)
    chat.send("1,2", ToggleOption("web"), Finish())
    chat.send("1")  # review → question 1
    assert options(chat.prompt()) == ["党委 ✓", "政府 ✓", "人大", "其他"]
    assert chat(ToggleOption("congress"), Finish()) == [
        "set by: ['party_committee', 'government'] -> ['party_committee', 'government', 'congress']",
        "review missing=[]",
    ]


def test_select_multiple__optional_finish_with_nothing_skips_and_clearing_removes_the_answer() -> None:
    chat = Chat(SELECT_MULTIPLE)
    chat.send("1,2")
    assert chat(Finish()) == ["review missing=[]"]
    assert chat.state.skipped == ["channels"]
    chat.send("2", ToggleOption("tv"), Finish())
    assert chat.state.answers["channels"] == ["tv"]
    chat.send("2", ToggleOption("tv"))
    assert chat(Finish()) == ["set channels: ['tv'] -> None", "review missing=[]"]
    assert "channels" not in chat.state.answers
    assert chat.state.skipped == ["channels"]


# -- date -------------------------------------------------------------------------------------

DATE = questions(
    """
    - id: filled_on
      type: date
      label: {zh: 填表日期, en: Date filled in}
    """
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2023-04-26", "2023-04-26"),
        ("2023/4/26", "2023-04-26"),
        ("2023.4.26", "2023-04-26"),
        ("2023年4月26日", "2023-04-26"),
        ("2023 年 4 月 26 号", "2023-04-26"),
        ("20230426", "2023-04-26"),
        ("２０２３－０４－２６", "2023-04-26"),
        ("4月26日", "2023-04-26"),
    ],
)
def test_date__usual_chinese_forms_are_understood(text: str, value: str) -> None:
    assert Chat(DATE)(text) == [f"set filled_on: None -> {value!r}", "review missing=[]"]


def test_date__month_and_day_take_the_year_of_today() -> None:
    chat = Chat(DATE, today=date(2024, 1, 5))
    assert chat("4月26日") == ["set filled_on: None -> '2024-04-26'", "review missing=[]"]


@pytest.mark.parametrize(
    ("language", "text", "reason"),
    [
        ("zh", "2023-02-30", "日期“2023-02-30”不存在，请检查月份和日期"),
        ("zh", "2023年13月1日", "日期“2023年13月1日”不存在，请检查月份和日期"),
        ("en", "2023/2/29", 'The date "2023/2/29" does not exist; check the month and day'),
    ],
)
def test_date__impossible_date_is_rejected_naming_it(language: str, text: str, reason: str) -> None:
    assert Chat(DATE, language=language)(text) == [f"reject invalid: {reason}"]


@pytest.mark.parametrize(
    ("language", "reason"),
    [
        ("zh", "请输入日期，例如 2023-04-25、2023年4月26日 或 4月26日"),
        ("en", "Please enter a date, for example 2023-04-25 or 26 April as 4月26日"),
    ],
)
def test_date__unreadable_text_is_rejected_with_an_example(language: str, reason: str) -> None:
    assert Chat(DATE, language=language)("下周一") == [f"reject invalid: {reason}"]


# -- phone and email --------------------------------------------------------------------------

CONTACT = questions(
    """
    - id: phone
      type: phone
      label: {zh: 联系方式, en: Phone}
    - id: email
      type: email
      label: {zh: 电子邮箱, en: E-mail}
    """
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("19850028855", "19850028855"),
        ("+86 198 5002 8855", "19850028855"),
        ("+86-198-5002-8855", "19850028855"),
        ("86 19850028855", "19850028855"),
        ("198-5002-8855", "19850028855"),
        ("１９８５００２８８５５", "19850028855"),
        ("0513-59003013", "0513-59003013"),
        ("0513 5900 3013", "0513-59003013"),
        ("(0513)59003013", "0513-59003013"),
        ("010-12345678", "010-12345678"),
        ("021-1234567", "021-1234567"),
    ],
)
def test_phone__mobile_and_landline_with_area_code_are_normalised(text: str, value: str) -> None:
    assert Chat(CONTACT)(text) == [f"set phone: None -> {value!r}", "ask email 2/2"]


@pytest.mark.parametrize("text", ["59003013", "12345678901", "1985002885", "+1 650 253 0000", "电话"])
def test_phone__landline_without_area_code_or_other_numbers_are_rejected(text: str) -> None:
    assert Chat(CONTACT)(text) == ["reject invalid: 请输入11位手机号，或带区号的固定电话，例如 0513-59003013"]


def test_phone__rejection_in_english_names_the_expected_forms() -> None:
    assert Chat(CONTACT, language="en")("59003013") == [
        "reject invalid: Please enter an 11-digit mobile number, or a landline with its area code, such as 0513-59003013"
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [("kxkpb@nantong.gov.cn", "kxkpb@nantong.gov.cn"), (" Zhang.San@Example.COM ", "Zhang.San@example.com")],
)
def test_email__address_is_kept_with_the_domain_lowercased(text: str, value: str) -> None:
    chat = Chat(CONTACT)
    chat.send("19850028855")
    assert chat(text) == [f"set email: None -> {value!r}", "review missing=[]"]


@pytest.mark.parametrize(
    ("language", "text", "reason"),
    [
        ("zh", "zhang@", "请输入电子邮箱，例如 name@example.com"),
        ("zh", "zhang.example.com", "请输入电子邮箱，例如 name@example.com"),
        ("en", "a@b", "Please enter an e-mail address, for example name@example.com"),
    ],
)
def test_email__malformed_address_is_rejected(language: str, text: str, reason: str) -> None:
    chat = Chat(CONTACT, language=language)
    chat.send("19850028855")
    assert chat(text) == [f"reject invalid: {reason}"]


# -- file -------------------------------------------------------------------------------------

FILE = questions(
    """
    - id: stamped_table
      type: file
      label: {zh: 盖章扫描件, en: Stamped scan}
      accept: [pdf, .JPG, png]
      max_size_mb: 5
    - id: attachment
      type: file
      label: {zh: 附件, en: Attachment}
      required: false
    """
)


def test_file__prompt_lists_accepted_types_and_size() -> None:
    prompt = Chat(FILE).prompt()
    assert (prompt.kind, prompt.accept, prompt.max_size_mb) == (QuestionType.FILE, ("jpg", "pdf", "png"), 5.0)


def test_file__upload_stores_its_metadata() -> None:
    chat = Chat(FILE)
    upload = Upload(name="盖章表.PDF", size=812_345, mime="application/pdf", ref="files/1")
    assert chat(upload) == [
        "set stamped_table: None -> {'name': '盖章表.PDF', 'size': 812345, 'mime': 'application/pdf', 'ref': 'files/1'}",
        "ask attachment 2/2",
    ]
    assert chat(Upload(name="anything.docx", size=20 * 1024 * 1024)) == [
        "set attachment: None -> {'name': 'anything.docx', 'size': 20971520, 'mime': None, 'ref': ''}",
        "review missing=[]",
    ]
    assert chat.review().sections[0].items[0].display == "盖章表.PDF（793 KB）"


@pytest.mark.parametrize(
    ("language", "name", "reason"),
    [
        ("zh", "表.docx", "不支持这种文件类型，请发送 jpg/pdf/png 文件"),
        ("zh", "表", "不支持这种文件类型，请发送 jpg/pdf/png 文件"),
        ("en", "table.doc", "This file type is not accepted; please send a jpg/pdf/png file"),
    ],
)
def test_file__type_not_accepted_is_rejected(language: str, name: str, reason: str) -> None:
    assert Chat(FILE, language=language)(Upload(name=name, size=100)) == [f"reject invalid: {reason}"]


@pytest.mark.parametrize(
    ("language", "reason"),
    [
        ("zh", "文件太大（5.0 MB），请发送不超过 5 MB 的文件"),
        ("en", "The file is too large (5.0 MB); please send one of at most 5 MB"),
    ],
)
def test_file__over_max_size_is_rejected(language: str, reason: str) -> None:
    chat = Chat(FILE, language=language)
    assert chat(Upload(name="a.pdf", size=5 * 1024 * 1024 + 1)) == [f"reject invalid: {reason}"]
    assert chat(Upload(name="a.pdf", size=5 * 1024 * 1024))[0].startswith("set stamped_table")


def test_file__typed_text_is_wrong_input() -> None:
    assert Chat(FILE)("已盖章") == ["reject wrong_input: 请按要求回答：请以文件形式发送（jpg/pdf/png，不超过 5 MB）"]
    assert Chat(FILE, language="en")("done") == [
        "reject wrong_input: Please answer as asked: Please send a file (jpg/pdf/png, at most 5 MB)"
    ]


def test_file__upload_where_text_is_asked_is_wrong_input_and_asks_again() -> None:
    chat = Chat(TEXT)
    assert chat(Upload(name="a.pdf", size=10)) == ["reject wrong_input: 请按要求回答：请输入文字回答", "ask unit 1/3 again"]


# -- note -------------------------------------------------------------------------------------

NOTES = questions(
    """
    - id: opening
      type: note
      label: {zh: 请如实填写。, en: Please answer truthfully.}
      hint: {zh: 约需5分钟, en: About 5 minutes}
    - id: count
      type: integer
      label: {zh: 数量, en: Count}
    - id: closing
      type: note
      label: {zh: 感谢填写。, en: Thank you.}
    """,
    intro="{zh: 欢迎, en: Welcome}",
)


def test_note__is_shown_in_order_and_never_counted_or_answered() -> None:
    first = Chat(NOTES)
    assert [type(e).__name__ for e in first.steps[0].events] == ["Intro", "NoteShown", "Prompt"]
    note = first.steps[0].events[1]
    assert isinstance(note, NoteShown)
    assert (note.text, note.hint, note.section_title) == ("请如实填写。", "约需5分钟", "第一部分")
    assert first.prompt().total == 1
    assert first("3") == ["set count: None -> 3", "note closing", "review missing=[]"]
    assert first.state.answers == {"count": 3}
    assert [item.question_id for item in first.review().sections[0].items] == ["count"]


def test_note__is_not_shown_again_when_returning_to_the_review() -> None:
    chat = Chat(NOTES)
    chat.send("3", "1")
    assert chat("4") == ["set count: 3 -> 4", "review missing=[]"]


def test_note__english_intro_and_note() -> None:
    events = Chat(NOTES, language="en").steps[0].events
    texts = [event.text for event in events if isinstance(event, Intro | NoteShown)]
    assert texts == ["Welcome", "Please answer truthfully."]


def test_draft_updated_event_carries_the_limit() -> None:
    chat = Chat(LONG_TEXT)
    event = chat.send(AnswerText("abc", part_id="m")).events[0]
    assert event == DraftUpdated(question_id="report", length=3, max_length=20, parts=1)


def test_rejection_codes_are_stable_strings() -> None:
    assert {code.value for code in RejectionCode} == {
        "invalid", "constraint", "required", "selection", "draft_too_long", "wrong_input",
        "stale", "not_now", "incomplete", "already_submitted",
    }
