"""Property test: no sequence of actions, whatever the strings in them, makes the engine raise
or leaves the state inconsistent.

Each run walks a survey with up to 60 actions of every kind. Half of the actions are drawn
blindly (any action, adversarial strings: numbers, Chinese, empty, huge, odd Unicode digits),
half are plausible for the question being asked, so runs get deep into the survey (the
review, go to, resubmission) instead of stalling on the first question. After every step
the invariants below are checked against an oracle that judges relevance independently.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from engine_harness import TODAY, check_step, nantong, questions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
from bot.core.definition import OTHER_VALUE, QuestionType
from bot.core.engine import Step
from bot.core.events import AnswerChanged, Prompt, Submitted
from bot.core.state import SessionState, SessionStatus
from bot.core.survey import CompiledQuestion, Survey

#: A small survey with every type, relevance chains, constraints, "other" and limits.
EVERY_TYPE = questions(
    """
    - id: unit
      type: text
      label: {zh: 单位, en: Unit}
      max_length: 8
    - id: code
      type: text
      label: {zh: 代码, en: Code}
      pattern: "[0-9]{3}"
      required: false
    - id: intro_note
      type: note
      label: {zh: 以下为数据, en: Figures follow}
    - id: members
      type: integer
      label: {zh: 成员, en: Members}
      min: 0
      max: 1000
    - id: change
      type: integer
      label: {zh: 变化, en: Change}
      constraint: "${members} - . >= 0"
    - id: big
      type: integer
      label: {zh: 任意整数, en: Any integer}
      required: false
    - id: rate
      type: decimal
      label: {zh: 比例, en: Rate}
      min: 0
      max: 100
    - id: has_body
      type: yes_no
      label: {zh: 有机构, en: Has a body}
    - id: body
      type: select_one
      label: {zh: 机构, en: Body}
      relevant: "${has_body} = 'yes'"
      choices: [{value: group, label: {zh: 小组, en: Group}}, {value: "no", label: {zh: 否, en: "No"}}]
      other: {label: {zh: 其他, en: Other}, before: "no"}
    - id: body_by
      type: select_multiple
      label: {zh: 考核, en: Assessment}
      relevant: "${body} != 'no' and ${body} != ''"
      choices: [{value: party, label: {zh: 党委, en: Party}}, {value: gov, label: {zh: 政府, en: Gov}},
                {value: congress, label: {zh: 人大, en: Congress}}]
      other: {label: {zh: 其他, en: Other}}
      min_selected: 2
      max_selected: 3
    - id: channels
      type: select_multiple
      label: {zh: 渠道, en: Channels}
      required: false
      relevant: "count-selected(${body_by}) >= 2"
      choices: [{value: tv, label: {zh: 电视, en: TV}}, {value: web, label: {zh: 网站, en: Web}}]
    - id: day
      type: date
      label: {zh: 日期, en: Date}
      constraint: ". <= today()"
    - id: phone
      type: phone
      label: {zh: 电话, en: Phone}
    - id: email
      type: email
      label: {zh: 邮箱, en: E-mail}
      required: false
    - id: report
      type: long_text
      label: {zh: 报告, en: Report}
      max_length: 60
      constraint: "string-length(.) + string-length(${remark}) <= 80"
    - id: remark
      type: long_text
      label: {zh: 说明, en: Remark}
      required: false
      max_length: 60
      constraint: "string-length(${report}) + string-length(.) <= 80"
    - id: scan
      type: file
      label: {zh: 扫描件, en: Scan}
      accept: [pdf, png]
      max_size_mb: 1
      required: false
    - id: closing
      type: note
      label: {zh: 谢谢, en: Thanks}
      relevant: "${members} > 10"
    """
)

ADVERSARIAL_TEXTS = [
    "", " ", "\n", "是", "否", "对", "不是", "yes", "no", "y", "n", "1", "2", "3", "4", "5", "0", "-1", "99",
    "1,2", "3、1", "1，2，3", "1 2", "12", "１２", "３．５", "1,234", "12 个", "10万", "增加 3", "减少 2",
    "减少 -3", "85%", "1e5", "NaN", "Infinity", "2023-04-26", "2023/4/26", "2023.4.26", "2023年4月26日",
    "4月26日", "2023-02-30", "20230426", "0513-59003013", "010-12345678", "+86 198 5002 8855", "59003013",
    "a@b.cn", "x@", "other", "no", "group", "party", "小组", "其他", "x" * 61, "${unit}", "/back", "🙂",
]
#: Strings that once broke, or could break, parsing: odd digits, huge numbers, control characters.
NASTY_TEXTS = [
    "𐩀", "1,𐩀", "²", "١٢", "①", "9" * 5000, "1," + "9" * 5000, "1" * 40 + "万", "1" * 25, "一" * 1001,
    "\x00", "\u200b", "\ud800", "1\n2", "　", "减少", "万", "-", ",", ".", "1.", ".5",
]


def text_strategy() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(ADVERSARIAL_TEXTS),
        st.sampled_from(NASTY_TEXTS),
        st.text(max_size=40),
        st.text(alphabet="0123456789,.，、 万个-+年月日/", max_size=14),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.sampled_from([1, 24, 25, 29, 4300, 4301, 6000]).map(lambda n: "9" * n),
        st.integers(min_value=0, max_value=3000).map(lambda n: "长" * n),
    )


def blind_action(survey: Survey) -> st.SearchStrategy[Action]:
    values = sorted({option.value for q in survey.questions for option in q.options} | {"yes", "no", "bogus", ""})
    question_ids = st.one_of(st.none(), st.sampled_from([q.id for q in survey.questions] + ["bogus"]))
    part_ids = st.one_of(st.none(), st.sampled_from(["m1", "m2", "m3", ""]))
    texts = text_strategy()
    return st.one_of(
        st.builds(AnswerText, texts, part_ids),
        st.builds(EditText, st.sampled_from(["m1", "m2", "m3", ""]), texts),
        st.builds(ChooseOption, st.sampled_from(values), question_ids),
        st.builds(ToggleOption, st.sampled_from(values), question_ids),
        st.builds(Finish, question_ids),
        st.builds(Skip, question_ids),
        st.builds(Back, question_ids),
        st.builds(GoTo, st.integers(min_value=-2, max_value=25)),
        st.just(ShowReview()),
        st.just(Submit()),
        st.builds(
            Upload,
            st.sampled_from(["a.pdf", "b.PNG", "c.docx", "noext", "", ".pdf", "扫描件.jpg"]),
            st.integers(min_value=-1, max_value=3 * 1024 * 1024),
            st.one_of(st.none(), st.just("application/pdf")),
            texts,
        ),
        st.builds(Unsupported, st.sampled_from(list(InputKind))),
        st.just(Resume()),
        st.just(Pause()),
        st.builds(SetLanguage, st.sampled_from(["zh", "en", "fr", "", "EN", "zh-hans"])),
    )


PLAUSIBLE_TEXTS: dict[QuestionType, list[str]] = {
    QuestionType.TEXT: ["如东县科协", "123", "abc"],
    QuestionType.LONG_TEXT: ["报告第一段", "第二段" * 5, "长" * 30],
    QuestionType.INTEGER: ["12", "0", "减少 3", "增加 5", "1000", "１０"],
    QuestionType.DECIMAL: ["3.5", "85%", "100"],
    QuestionType.YES_NO: ["是", "否"],
    QuestionType.DATE: ["2023-04-20", "4月1日", "2023年4月26日"],
    QuestionType.PHONE: ["0513-59003013", "19850028855"],
    QuestionType.EMAIL: ["kxkpb@nantong.gov.cn"],
    QuestionType.SELECT_ONE: ["1", "2"],
    QuestionType.SELECT_MULTIPLE: ["1,2", "2,3"],
    QuestionType.FILE: [],
    QuestionType.NOTE: [],
}


def plausible_actions(survey: Survey, state: SessionState) -> tuple[list[Action], list[Action]]:
    """Actions a cooperative respondent might take now: (forward, sideways)."""
    if state.status is not SessionStatus.ANSWERING or state.current is None:
        return [Submit(), AnswerText("2")], [GoTo(1), GoTo(3), GoTo(9), Back(), ShowReview(), Resume()]
    question = survey.by_id[state.current]
    if state.awaiting_other:
        toggles: list[Action] = [ToggleOption(option.value, question_id=question.id) for option in question.options]
        return [AnswerText("联席会议")], [Back(), Finish(), *toggles]
    forward: list[Action] = [AnswerText(text) for text in PLAUSIBLE_TEXTS[question.type]]
    sideways: list[Action] = [Skip(), Back(), ShowReview(), Submit(), Pause(), Resume(), SetLanguage("en")]
    kind = question.type
    if kind is QuestionType.SELECT_ONE:
        forward += [ChooseOption(option.value, question_id=question.id) for option in question.options]
    if kind is QuestionType.SELECT_MULTIPLE:
        forward += [Finish(question_id=question.id)]
        forward += [ToggleOption(option.value, question_id=question.id) for option in question.options]
    if kind is QuestionType.LONG_TEXT:
        forward += [Finish(question_id=question.id), AnswerText("一段", part_id="m1")]
        sideways += [AnswerText("二段", part_id="m2"), EditText("m1", "改"), EditText("m2", "")]
    if kind is QuestionType.YES_NO:
        forward += [ChooseOption("yes", question_id=question.id), ChooseOption("no", question_id=question.id)]
    if kind is QuestionType.FILE:
        forward += [Upload(name="scan.pdf", size=1000, mime="application/pdf", ref="f1")]
    if not question.required:
        forward.append(Skip())
    return forward, sideways


# -- the oracle and the invariants ------------------------------------------------------------


def relevant_ids(survey: Survey, answers: dict[str, Any], today: date) -> set[str]:
    """Relevance judged independently of the engine: in order, non-relevant reads as empty."""
    values: dict[str, Any] = {}
    relevant: set[str] = set()
    for question in survey.questions:
        if question.relevant is None or question.relevant.test(values, today=today):
            relevant.add(question.id)
            if question.id in answers:
                value = answers[question.id]
                values[question.id] = Decimal(value) if question.type is QuestionType.DECIMAL else value
    return relevant


_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-\d{7,8})$")


def check_value(question: CompiledQuestion, value: Any, other: str | None) -> None:
    kind, where = question.type, f"{question.id}={value!r}"
    low, high = question.minimum, question.maximum
    if kind in (QuestionType.TEXT, QuestionType.LONG_TEXT):
        assert isinstance(value, str) and value and len(value) <= question.max_length, where
        if kind is QuestionType.TEXT:
            assert value == value.strip(), where
            assert question.pattern is None or question.pattern.fullmatch(value), where
    elif kind is QuestionType.INTEGER:
        assert type(value) is int, where
        assert (low is None or value >= low) and (high is None or value <= high), where
    elif kind is QuestionType.DECIMAL:
        assert isinstance(value, str), where
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise AssertionError(where) from None
        assert number.is_finite() and (low is None or number >= low) and (high is None or number <= high), where
    elif kind is QuestionType.YES_NO:
        assert value in ("yes", "no"), where
    elif kind is QuestionType.SELECT_ONE:
        assert isinstance(value, str) and value in question.option_values, where
    elif kind is QuestionType.SELECT_MULTIPLE:
        assert isinstance(value, list) and value, where
        order = [option.value for option in question.options]
        assert all(item in question.option_values for item in value), where
        assert value == sorted(set(value), key=order.index), f"{where}: duplicates or out of choice order"
        minimum, maximum = question.definition.min_selected, question.definition.max_selected
        assert (minimum is None or len(value) >= minimum) and (maximum is None or len(value) <= maximum), where
    elif kind is QuestionType.DATE:
        assert isinstance(value, str) and date.fromisoformat(value).isoformat() == value, where
    elif kind is QuestionType.PHONE:
        assert isinstance(value, str) and _PHONE.match(value), where
    elif kind is QuestionType.EMAIL:
        assert isinstance(value, str) and "@" in value and " " not in value, where
    elif kind is QuestionType.FILE:
        assert isinstance(value, dict) and set(value) == {"name", "size", "mime", "ref"}, where
        extension = value["name"].rsplit(".", 1)[-1].lower() if "." in value["name"] else ""
        assert not question.accept or extension in question.accept, where
        assert value["size"] <= question.max_size_bytes, where
    else:
        raise AssertionError(f"{where}: a {kind} is never answered")
    if other is not None:
        assert value == OTHER_VALUE or (isinstance(value, list) and OTHER_VALUE in value), f"{where}: stray other"
        assert other.strip() == other and 0 < len(other) <= engine.MAX_OTHER_LENGTH, where


def check_invariants(survey: Survey, before: SessionState, action: Action, step: Step) -> None:
    check_step(before, before.to_dict(), action, step)
    state = step.state
    relevant = relevant_ids(survey, state.answers, TODAY)
    if state.status is SessionStatus.ANSWERING:
        assert state.current is not None, "answering without a current question"
        current = survey.by_id[state.current]
        assert current.answerable and current.id in relevant, f"current {current.id} is not a relevant question"
    else:
        assert state.current is None and state.selection is None and not state.awaiting_other
        assert not state.return_to_review
    for question_id, value in state.answers.items():
        question = survey.by_id.get(question_id)
        assert question is not None and question.answerable, f"answer for {question_id}"
        check_value(question, value, state.others.get(question_id))
    assert set(state.others) <= set(state.answers), "an other name without its answer"
    assert len(set(state.skipped)) == len(state.skipped) and not set(state.skipped) & set(state.answers)
    assert all(not survey.by_id[qid].required for qid in state.skipped), "a required question was skipped"
    if state.selection is not None:
        current = survey.by_id[state.current or ""]
        assert current.type is QuestionType.SELECT_MULTIPLE, "a selection outside a multiple choice"
        assert len(set(state.selection)) == len(state.selection)
        assert set(state.selection) <= current.option_values
    if state.awaiting_other:
        current = survey.by_id[state.current or ""]
        assert current.has_other
        if current.type is QuestionType.SELECT_MULTIPLE:
            assert OTHER_VALUE in (state.selection or [])
    for question_id, parts in state.drafts.items():
        question = survey.by_id[question_id]
        assert question.type is QuestionType.LONG_TEXT
        assert len("\n".join(text for _, text in parts)) <= question.max_length
    # Every stored change is announced, with the right old value.
    if not step.rejected:
        answers, others = dict(before.answers), dict(before.others)
        for event in step.events:
            if isinstance(event, AnswerChanged):
                assert answers.get(event.question_id) == event.old_value
                assert others.get(event.question_id) == event.old_other
                for store, new in ((answers, event.new_value), (others, event.new_other)):
                    if new is None:
                        store.pop(event.question_id, None)
                    else:
                        store[event.question_id] = new
        assert answers == state.answers, f"{action!r} changed answers without AnswerChanged"
        assert others == state.others, f"{action!r} changed others without AnswerChanged"
    numbered = [q.id for q in survey.questions if q.answerable and q.id in relevant]
    for event in step.events:
        if isinstance(event, Submitted):
            assert state.status is SessionStatus.SUBMITTED and event.revision == before.revision + 1
            assert event.answers == {qid: state.answers[qid] for qid in numbered if qid in state.answers}
            assert all(event.answers.get(qid) is not None for qid in numbered if survey.by_id[qid].required)
    prompts = [event for event in step.events if isinstance(event, Prompt)]
    if prompts and state.status is SessionStatus.ANSWERING and prompts[-1].question_id == state.current:
        prompt = prompts[-1]
        assert (prompt.position, prompt.total) == (numbered.index(prompt.question_id) + 1, len(numbered))


def run(survey: Survey, data: st.DataObject, language: str) -> None:
    step = engine.start(survey, language=language, today=TODAY)
    blind, texts = blind_action(survey), text_strategy()
    length = data.draw(st.integers(min_value=1, max_value=60), label="length")
    # A cooperative warm-up takes some runs deep into the survey before anything else happens;
    # after it, some runs are chaotic, some cooperative enough to reach the review and resubmit.
    warm_up = data.draw(st.integers(min_value=0, max_value=min(30, length - 1)), label="warm-up")
    blind_share = data.draw(st.sampled_from([0, 2, 4]), label="blind actions in 10")
    for index in range(length):
        forward, sideways = plausible_actions(survey, step.state)
        roll = 5 if index < warm_up else data.draw(st.integers(min_value=0, max_value=9), label="roll")
        action: Action
        if roll < blind_share:
            action = data.draw(blind, label="blind action")
        elif roll in (6, 7):
            action = AnswerText(data.draw(texts, label="adversarial answer"))
        elif roll < 6:
            action = data.draw(st.sampled_from(forward), label="forward action")
        else:
            action = data.draw(st.sampled_from(sideways), label="sideways action")
        before = step.state
        step = engine.resume(survey, before, action, today=TODAY)
        check_invariants(survey, before, action, step)


PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@PROPERTY_SETTINGS
@given(data=st.data(), language=st.sampled_from(["zh", "en"]))
def test_any_actions_on_the_nantong_survey__never_raise_and_keep_the_state_consistent(
    data: st.DataObject, language: str
) -> None:
    run(nantong(), data, language)


@PROPERTY_SETTINGS
@given(data=st.data(), language=st.sampled_from(["zh", "en"]))
def test_any_actions_on_a_survey_with_every_type__never_raise_and_keep_the_state_consistent(
    data: st.DataObject, language: str
) -> None:
    run(EVERY_TYPE, data, language)
