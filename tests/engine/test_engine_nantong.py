"""Transcripts over the shipped surveys: the Nantong 2023 mid-term table and report (附件1/2),
including the whole-report limit of 1000 characters, and the Changzhou targets."""

from __future__ import annotations

import pytest
from engine_harness import Chat, Input, changzhou, nantong, options, review_lines

from bot.core.actions import AnswerText, Back, ChooseOption, Finish, GoTo, Skip, Submit, ToggleOption, Upload
from bot.core.events import NoteShown

#: Answers to the table up to item 7 (q4 yes, q5 "other"), typed as a respondent would.
TABLE_ZH: tuple[Input, ...] = (
    "如东县科学技术协会",
    "张三",
    "+86 198 5002 8855",
    "2023年4月26日",
    "是",
    ChooseOption("no", question_id="q2_tech_plan"),
    "对",
    "是",
    "1,2",
    ChooseOption("other", question_id="q5_body"),
    "科普工作联席会议",
    "是",
    "３５ 个",
    "减少 3",
)
REPORT_PARTS = ("组织实施有力。", "任务完成良好。", "经验：协同。", "问题：经费不足。", "建议：加大投入。")


def report_inputs(parts: tuple[str, ...] = REPORT_PARTS) -> list[Input]:
    inputs: list[Input] = []
    for part in parts:
        inputs += [part, Finish()]
    return inputs


EXPECTED_ANSWERS = {
    "unit": "如东县科学技术协会",
    "filled_by": "张三",
    "contact_phone": "19850028855",
    "filled_on": "2023-04-26",
    "q1_econ_plan": "yes",
    "q2_tech_plan": "no",
    "q3_regulation": "yes",
    "q4_assessment": "yes",
    "q4_by": ["party_committee", "government"],
    "q5_body": "other",
    "q6_meetings": "yes",
    "q7_members": 35,
    "q7_change": -3,
    "r1_organization": "组织实施有力。",
    "r1_tasks": "任务完成良好。",
    "r2_experience": "经验：协同。",
    "r3_problems": "问题：经费不足。",
    "r4_suggestions": "建议：加大投入。",
    "stamped_table": {"name": "调查表.pdf", "size": 1_048_576, "mime": "application/pdf", "ref": "files/42"},
}


def test_nantong__whole_survey_in_chinese_is_submitted_with_every_answer() -> None:
    chat = Chat(nantong())
    assert [type(e).__name__ for e in chat.steps[0].events] == ["Intro", "Prompt"]
    assert (chat.prompt().label, chat.prompt().position, chat.prompt().total) == ("填报单位", 1, 18)
    chat.send(*TABLE_ZH)
    assert chat.prompt().question_id == "r1_organization"
    chat.send(*report_inputs())
    upload = Upload(name="调查表.pdf", size=1_048_576, mime="application/pdf", ref="files/42")
    assert chat(upload) == [f"set stamped_table: None -> {EXPECTED_ANSWERS['stamped_table']!r}", "review missing=[]"]
    assert chat(Submit()) == ["submitted r1"]
    submitted = chat.submitted()
    assert submitted.answers == EXPECTED_ANSWERS
    assert submitted.others == {"q5_body": "科普工作联席会议"}


def test_nantong__whole_survey_in_english_reads_english_and_stores_the_same_values() -> None:
    chat = Chat(nantong(), language="en")
    assert (chat.prompt().label, chat.prompt().section_title) == ("Reporting unit", "Basic information")
    inputs: list[Input] = [
        "Rudong County Association for Science and Technology",
        "Zhang San",
        "0513-59003013",
        "2023-04-26",
        "yes", "no", "y", "no",  # item 4 "no": the follow-up is not asked
        "4",  # q5_body: "No" is the 4th choice, after "Other (name)"
        "n",
        "12",
        "0",
    ]
    chat.send(*inputs)
    chat.send(*report_inputs(("Organization.", "Tasks.", "Experience.", "Problems.", "Suggestions.")))
    assert chat.prompt().label == "Scan of the survey table bearing the unit's official stamp"
    assert chat(Skip()) == ["review missing=[]"]
    assert chat(Submit()) == ["submitted r1"]
    answers = chat.submitted().answers
    assert answers["q4_assessment"] == "no" and "q4_by" not in answers
    assert (answers["q5_body"], answers["q7_members"], answers["q7_change"]) == ("no", 12, 0)
    assert "stamped_table" not in answers
    assert len(answers) == 17


def test_nantong__item_4_yes_asks_whose_assessment_and_counts_19_questions() -> None:
    chat = Chat(nantong())
    chat.send(*TABLE_ZH[:7])
    assert chat("是") == ["set q4_assessment: None -> 'yes'", "ask q4_by 9/19"]
    prompt = chat.prompt()
    assert (prompt.label, prompt.hint, prompt.min_selected) == ("4. 是（党委 / 政府）：纳入哪一方的考核？", "可多选。", 1)
    assert options(prompt) == ["党委", "政府"]
    assert chat(Finish()) == ["reject required: 此题必答，不能跳过"]


def test_nantong__item_4_no_passes_over_the_follow_up() -> None:
    chat = Chat(nantong())
    chat.send(*TABLE_ZH[:7])
    assert chat("否") == ["set q4_assessment: None -> 'no'", "ask q5_body 9/18"]


def test_nantong__item_5_other_comes_before_no_as_on_the_paper_form() -> None:
    chat = Chat(nantong())
    chat.send(*TABLE_ZH[:9])
    assert options(chat.prompt()) == ["全民科学素质工作领导小组", "全民科学素质纲要实施工作办公室", "其他（名称）", "否"]
    assert chat("3") == ["ask q5_body 10/19 other-name"]
    assert chat.prompt().other_label == "其他（名称）"


@pytest.mark.parametrize(
    ("text", "value"),
    [("１２", 12), ("1,234", 1234), ("12 个", 12), ("35个", 35), ("1万", 10000), (" 7 ", 7)],
)
def test_nantong__member_count_accepts_tolerant_input(text: str, value: int) -> None:
    chat = Chat(nantong())
    chat.send(*TABLE_ZH[:12])
    assert chat(text) == [f"set q7_members: None -> {value}", "ask q7_change 13/19"]


@pytest.mark.parametrize(("text", "value"), [("增加 3", 3), ("减少 2", -2), ("-2", -2), ("－２", -2), ("0", 0)])
def test_nantong__change_accepts_signed_words(text: str, value: int) -> None:
    chat = Chat(nantong())
    chat.send(*TABLE_ZH[:13])
    assert chat(text)[0] == f"set q7_change: None -> {value}"


@pytest.mark.parametrize(
    ("language", "reason"),
    [
        ("zh", "增加的个数不能多于现有成员单位个数（“十三五”时的个数 = 现有个数 − 增加的个数，不能小于0）。请核对。"),
        ("en", "The increase cannot be larger than the current number of member units (the 13th Five-Year count, current count minus the increase, cannot be below 0). Please check."),
    ],
)
def test_nantong__increase_larger_than_the_member_count_breaks_the_constraint(language: str, reason: str) -> None:
    chat = Chat(nantong(), language=language)
    chat.send(*TABLE_ZH[:13])  # 35 member units
    assert chat("增加 36") == [f"reject constraint: {reason}"]
    assert chat("36") == [f"reject constraint: {reason}"]
    assert chat("35")[0] == "set q7_change: None -> 35"


@pytest.mark.parametrize(
    ("language", "reason"),
    [("zh", "请输入 -500 到 500 之间的整数"), ("en", "Please enter a whole number from -500 to 500")],
)
def test_nantong__change_out_of_range_is_rejected_with_the_range(language: str, reason: str) -> None:
    chat = Chat(nantong(), language=language)
    chat.send(*TABLE_ZH[:13])
    assert chat("减少 501") == [f"reject invalid: {reason}"]


def test_nantong__the_report_note_is_shown_before_the_first_report_part() -> None:
    chat = Chat(nantong())
    chat.send(*TABLE_ZH[:13])
    step = chat.send("减少 3")
    note = next(event for event in step.events if isinstance(event, NoteShown))
    assert note.question_id == "report_note"
    assert note.section_title == "中期评估报告"
    assert "篇幅不超过1000字" in note.text
    assert chat.prompt().max_length == 1000


# -- the whole report: at most 1000 characters over five parts --------------------------------

TOTAL_REASON_ZH = "评估报告全文（五个部分合计）不得超过1000字，现已超出。请精简本部分后重新发送。"
TOTAL_REASON_EN = (
    "The whole report (all five parts together) may not exceed 1000 characters, and it now does. "
    "Please shorten this part and send it again."
)


def at_report(language: str = "zh") -> Chat:
    chat = Chat(nantong(), language=language)
    chat.send(*TABLE_ZH)
    return chat


def test_nantong_report__parts_within_the_total_are_accepted_up_to_exactly_1000() -> None:
    chat = at_report()
    chat.send(AnswerText("甲" * 300, part_id="m1"), AnswerText("乙" * 299, part_id="m2"))  # 300 + 1 + 299
    assert chat(Finish()) == [f"set r1_organization: None -> {'甲' * 300 + chr(10) + '乙' * 299!r}", "ask r1_tasks 15/19"]
    assert chat("丙" * 400) == ["draft r1_tasks 400/1000 in 1"]
    assert chat(Finish())[0].startswith("set r1_tasks: None -> ")  # 600 + 400 = 1000
    assert chat(Finish()) == ["reject required: 还没有输入内容，请先发送文字"]


@pytest.mark.parametrize(("language", "reason"), [("zh", TOTAL_REASON_ZH), ("en", TOTAL_REASON_EN)])
def test_nantong_report__part_that_takes_the_total_over_1000_is_rejected(language: str, reason: str) -> None:
    chat = at_report(language)
    chat.send("甲" * 600, Finish())
    assert chat("乙" * 401) == ["draft r1_tasks 401/1000 in 1"]  # a part alone is within its own limit
    assert chat(Finish()) == [f"reject constraint: {reason}"]
    assert "r1_tasks" not in chat.state.answers
    assert chat.state.drafts["r1_tasks"] == [["", "乙" * 401]]


def test_nantong_report__last_part_is_checked_against_all_the_others() -> None:
    chat = at_report()
    chat.send(*report_inputs(("一" * 200, "二" * 200, "三" * 200, "四" * 200)))
    assert chat.prompt().question_id == "r4_suggestions"
    chat.send("五" * 201)
    assert chat(Finish()) == [f"reject constraint: {TOTAL_REASON_ZH}"]


def test_nantong_report__editing_an_earlier_part_from_the_review_is_checked_against_the_total() -> None:
    chat = at_report()
    chat.send(*report_inputs(("一" * 200, "二" * 200, "三" * 200, "四" * 200, "五" * 200)), Skip())
    assert chat.review().can_submit is True
    assert chat(GoTo(14)) == ["ask r1_organization 14/19"]
    assert chat.prompt().current_display == "一" * 200
    chat.send("一" * 201)
    assert chat(Finish()) == [f"reject constraint: {TOTAL_REASON_ZH}"]
    chat.send(Back())  # give up the edit: back to the previous question, the stored answer stays
    assert chat.state.answers["r1_organization"] == "一" * 200


def test_nantong_report__finish_with_an_empty_draft_keeps_an_existing_answer() -> None:
    chat = at_report()
    chat.send(*report_inputs(), Skip())
    chat.send(GoTo(15))
    assert chat(Finish()) == ["review missing=[]"]
    assert chat.state.answers["r1_tasks"] == "任务完成良好。"


# -- the stamped table ------------------------------------------------------------------------


def test_nantong__stamped_table_refuses_a_word_file_and_may_be_skipped() -> None:
    chat = at_report()
    chat.send(*report_inputs())
    prompt = chat.prompt()
    assert (prompt.accept, prompt.required, prompt.can_skip) == (("jpeg", "jpg", "pdf", "png"), False, True)
    assert chat(Upload(name="调查表.docx", size=1000)) == ["reject invalid: 不支持这种文件类型，请发送 jpeg/jpg/pdf/png 文件"]
    assert chat(Upload(name="调查表.pdf", size=21 * 1024 * 1024)) == [
        "reject invalid: 文件太大（21.0 MB），请发送不超过 20 MB 的文件"
    ]
    assert chat(Skip()) == ["review missing=[]"]
    assert review_lines(chat.review())[-2:] == ["【盖章调查表】", "19. 盖公章的调查表扫描件 → （跳过）"]


def test_nantong__review_lists_every_relevant_answer_by_section() -> None:
    chat = at_report()
    chat.send(*report_inputs(), Skip())
    lines = review_lines(chat.review())
    assert lines[:2] == ["【基本信息】", "1. 填报单位 → 如东县科学技术协会"]
    assert "9. 4. 是（党委 / 政府）：纳入哪一方的考核？ → 党委、政府" in lines
    assert "10. 5. 是否建立全民科学素质纲要实施工作组织协调机构（机构形式） → 其他（名称）：科普工作联席会议" in lines
    assert "13. 7. 与“十三五”相比较，增加（或减少）了（个） → -3" in lines
    assert [line for line in lines if line.startswith("【")] == ["【基本信息】", "【各县（市、区）情况】", "【中期评估报告】", "【盖章调查表】"]


def test_nantong__turning_item_4_to_no_from_the_review_drops_the_follow_up_from_the_submission() -> None:
    chat = at_report()
    chat.send(*report_inputs(), Skip())
    chat.send(GoTo(8))
    assert chat("否") == ["set q4_assessment: 'yes' -> 'no'", "review missing=[]"]
    assert len(chat.review().sections[1].items) == 8
    chat.send(Submit())
    assert "q4_by" not in chat.submitted().answers
    chat.send(GoTo(8))
    assert chat("是") == ["set q4_assessment: 'no' -> 'yes'", "review missing=[]"]  # q4_by is still answered
    chat.send(Submit())
    assert chat.submitted().answers["q4_by"] == ["party_committee", "government"]
    assert chat.submitted().revision == 2


def test_nantong__toggles_on_item_4_follow_up() -> None:
    chat = Chat(nantong())
    chat.send(*TABLE_ZH[:8])
    chat.send(ToggleOption("government", question_id="q4_by"))
    assert options(chat.prompt()) == ["党委", "政府 ✓"]
    assert chat(Finish(question_id="q4_by")) == ["set q4_by: None -> ['government']", "ask q5_body 10/19"]


# -- Changzhou: a reason only when a figure misses its target ---------------------------------


def test_changzhou__figure_below_target_asks_for_the_reason_and_above_does_not() -> None:
    below = Chat(changzhou())
    below.send("常州市教育局", "李四", "0519-12345678", "2019-12-20")
    assert below.prompt().question_id == "f05_key_activities"
    assert below.prompt().hint == "目标：各成员单位、辖市区组织开展 700 项以上。"
    assert below("699")[1].startswith("ask f05_key_activities_reason ")
    above = Chat(changzhou())
    above.send("常州市教育局", "李四", "0519-12345678", "2019-12-20")
    assert not above("700")[1].startswith("ask f05_key_activities_reason")
