"""The channel-neutral reply: what to show for one outcome, before any channel touches it.

:func:`render` turns an :class:`~bot.core.outcome.Outcome` (engine events and
service notices) into a :class:`Reply`: messages in order, each with its text
and its controls. A control is a label, the engine :class:`~bot.core.actions.Action`
it triggers and a :class:`ControlKind`; controls are arranged in rows. Each
channel only translates: Telegram makes inline keyboards whose callback data
encode the actions, the terminal prints choices as numbered lines and the
rest as commands.

Rules every channel gets for free from here:

- the wording comes from the catalogs and :mod:`bot.core.wording`;
- a question's message keeps its :class:`~bot.core.events.Prompt`, so a
  channel can update it in place (a multiple choice's ✅ moving);
- every rejection re-offers the way forward: the warning carries the open
  question's skip/keep, back and done controls (or, in the review, submit),
  so the newest message always has them.

Choice controls name their option by position (``#0``, ``#1`` ...), which the
engine accepts like the option's value and keeps encoded buttons short.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import assert_never

from bot.core.actions import (
    Action,
    Back,
    ChooseOption,
    ClearDraft,
    Finish,
    Resume,
    ShowReview,
    Skip,
    Submit,
    ToggleOption,
    UsePrevious,
)
from bot.core.catalog import translate
from bot.core.definition import QuestionType
from bot.core.events import (
    AnswerChanged,
    DraftUpdated,
    Intro,
    NoteShown,
    Paused,
    Prompt,
    Rejected,
    ReviewShown,
    Submitted,
)
from bot.core.outcome import (
    Greeting,
    InvitationRefused,
    LanguageChanged,
    NotInvited,
    Outcome,
    ReadOnly,
    SubmissionReceipt,
    UnitChoices,
)
from bot.core.wording import draft_text, pack_messages, prompt_text, review_blocks

DATETIME_FORMAT = "%Y-%m-%d %H:%M"


class ControlKind(StrEnum):
    """What a control does, for channels that show kinds differently (marks, commands, colours)."""

    CHOICE = "choice"  # answer a single choice (select_one, yes_no)
    TOGGLE = "toggle"  # select or unselect a multiple choice's option
    DONE = "done"  # finish a multiple choice or a long-text draft
    CLEAR_DRAFT = "clear_draft"  # start a long-text draft over
    SKIP = "skip"  # skip an optional, unanswered question
    KEEP = "keep"  # keep the current answer and go on
    USE_PREVIOUS = "use_previous"  # answer as last period (沿用上次)
    BACK = "back"  # the previous question
    REVIEW = "review"  # show every answer
    SUBMIT = "submit"
    RESUME = "resume"  # continue where the respondent left off
    UNIT = "unit"  # answer for this unit


@dataclass(frozen=True, slots=True)
class Control:
    """One thing the respondent can press (or type, in channels without buttons)."""

    kind: ControlKind
    #: What the person reads, without marks: channels mark ``selected`` their own way.
    label: str
    action: Action
    selected: bool = False


Row = tuple[Control, ...]


@dataclass(frozen=True, slots=True)
class ReplyMessage:
    """One message: its text and its controls, in rows."""

    text: str
    rows: tuple[Row, ...] = ()
    #: Set on a question's message, so that a channel can update it in place.
    prompt: Prompt | None = None
    #: The text says what went wrong (a rejection); channels may mark it (⚠️).
    warning: bool = False

    @property
    def controls(self) -> tuple[Control, ...]:
        return tuple(control for row in self.rows for control in row)


@dataclass(frozen=True, slots=True)
class Reply:
    """Everything to show for one outcome, in order, in ``language``."""

    language: str
    messages: tuple[ReplyMessage, ...] = ()


def render(outcome: Outcome, *, max_length: int | None = None, commands: bool = True) -> Reply:
    """The reply for ``outcome``; ``max_length`` is the channel's limit on one message's text.

    ``commands``: whether the channel has slash commands (Telegram, the
    terminal). Without them (the web chat) the greeting, the receipt and the
    pause point to the page's buttons and links instead of ``/resume`` and ``/review``.
    """
    language = outcome.language
    # Keys whose wording names slash commands, and their wording for a channel of buttons.
    wording = (lambda key: key) if commands else _without_commands
    limit = max_length or sys.maxsize
    messages: list[ReplyMessage] = []
    for event in outcome.events:
        match event:
            case Prompt():
                messages.append(prompt_message(event, language, limit=limit))
            case ReviewShown():
                messages.extend(review_messages(event, language, limit=limit))
            case DraftUpdated():
                messages.append(ReplyMessage(text=draft_text(event, language), rows=draft_rows(event, language)))
            case Rejected():
                messages.append(rejection_message(event, language))
            case Intro():
                blocks = [event.text]
                previous = messages[-1] if messages else None
                if previous is not None and not (previous.rows or previous.warning or previous.prompt):
                    blocks.insert(0, messages.pop().text)  # the greeting and the introduction in one message
                messages.extend(ReplyMessage(text=part) for part in pack_messages(blocks, limit=limit))
            case NoteShown():
                messages.extend(ReplyMessage(text=part) for part in pack_messages([note_text(event)], limit=limit))
            case Greeting():
                messages.append(ReplyMessage(text=greeting_text(event, language, commands=commands)))
            case SubmissionReceipt():
                text = translate(
                    language,
                    wording("reply.submitted"),
                    time=event.submitted_at.strftime(DATETIME_FORMAT),
                    revision=event.revision,
                    unit=event.unit_name,
                )
                messages.append(ReplyMessage(text=text))
            case ReadOnly():
                deadline = event.deadline.strftime(DATETIME_FORMAT)
                messages.append(
                    ReplyMessage(text=translate(language, f"reply.read_only_{event.reason.value}", deadline=deadline))
                )
            case InvitationRefused():
                messages.append(ReplyMessage(text=translate(language, f"reply.invitation_{event.problem.value}")))
            case NotInvited():
                messages.append(ReplyMessage(text=translate(language, "reply.not_invited")))
            case Paused():
                resume = Control(ControlKind.RESUME, translate(language, "reply.resume"), Resume())
                messages.append(ReplyMessage(text=translate(language, wording("reply.paused")), rows=((resume,),)))
            case LanguageChanged():
                messages.append(ReplyMessage(text=translate(language, "reply.language_changed")))
            case UnitChoices():
                messages.append(unit_choices_message(event, language))
            case AnswerChanged() | Submitted():
                pass  # stored by the service; the receipt or the next prompt says it
            case _:
                assert_never(event)
    return Reply(language=language, messages=tuple(messages))


#: Catalog keys that name slash commands → their wording for a channel without commands.
_COMMAND_FREE_KEYS = {
    "reply.greeting": "web_speed.greeting_without_commands",
    "reply.submitted": "web_speed.submitted_without_commands",
    "reply.paused": "web_speed.paused_without_commands",
}


def _without_commands(key: str) -> str:
    return _COMMAND_FREE_KEYS.get(key, key)


# -- questions ------------------------------------------------------------------------------


def prompt_message(prompt: Prompt, language: str, *, limit: int) -> ReplyMessage:
    text = prompt_text(prompt, language)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return ReplyMessage(text=text, rows=prompt_rows(prompt, language), prompt=prompt)


def prompt_rows(prompt: Prompt, language: str) -> tuple[Row, ...]:
    """A question's controls: its choices, then done (and start over), then back and skip."""
    rows: list[Row] = []
    if not prompt.awaiting_other:
        rows.extend(choice_rows(prompt))
    return (*rows, *navigation_rows(prompt, language))


def choice_rows(prompt: Prompt) -> list[Row]:
    qid = prompt.question_id
    match prompt.kind:
        case QuestionType.YES_NO:
            return [
                tuple(
                    Control(ControlKind.CHOICE, c.label, ChooseOption(value=c.value, question_id=qid), c.selected)
                    for c in prompt.choices
                )
            ]
        case QuestionType.SELECT_ONE:
            return [
                (Control(ControlKind.CHOICE, c.label, ChooseOption(value=f"#{i}", question_id=qid), c.selected),)
                for i, c in enumerate(prompt.choices)
            ]
        case QuestionType.SELECT_MULTIPLE:
            return [
                (Control(ControlKind.TOGGLE, c.label, ToggleOption(value=f"#{i}", question_id=qid), c.selected),)
                for i, c in enumerate(prompt.choices)
            ]
        case _:
            return []


def navigation_rows(prompt: Prompt, language: str) -> list[Row]:
    """The way forward from a question, without its choices: done (and start over), back, skip or keep.

    A question's own message shows them below its choices; a rejection's
    warning shows them alone, so the newest message always has them.
    """
    qid = prompt.question_id
    rows: list[Row] = []
    if prompt.previous_display is not None and not prompt.awaiting_other:
        rows.append((same_as_last_time_control(qid, language),))
    if not prompt.awaiting_other:
        if prompt.kind is QuestionType.SELECT_MULTIPLE:
            rows.append((done_control(qid, language),))
        elif prompt.kind is QuestionType.LONG_TEXT and prompt.draft_length:
            rows.append((done_control(qid, language), clear_draft_control(qid, language)))
    navigation: list[Control] = []
    if prompt.can_back:
        navigation.append(Control(ControlKind.BACK, translate(language, "reply.back"), Back(question_id=qid)))
    if prompt.can_skip and not prompt.awaiting_other:
        navigation.append(skip_control(qid, language, keeps_answer=prompt.current_display is not None))
    if navigation:
        rows.append(tuple(navigation))
    return rows


def draft_rows(draft: DraftUpdated, language: str) -> tuple[Row, ...]:
    """Under the draft counter: done and start over, and skip (or keep) where the question allows it."""
    qid = draft.question_id
    rows: list[Row] = [(done_control(qid, language), clear_draft_control(qid, language))]
    if draft.can_skip:
        rows.append((skip_control(qid, language, keeps_answer=draft.answered),))
    return tuple(rows)


def done_control(question_id: str, language: str) -> Control:
    return Control(ControlKind.DONE, translate(language, "reply.done"), Finish(question_id=question_id))


def same_as_last_time_control(question_id: str, language: str) -> Control:
    return Control(ControlKind.USE_PREVIOUS, translate(language, "reply.same_as_last_time"), UsePrevious(question_id=question_id))


def clear_draft_control(question_id: str, language: str) -> Control:
    return Control(ControlKind.CLEAR_DRAFT, translate(language, "reply.clear_draft"), ClearDraft(question_id=question_id))


def skip_control(question_id: str, language: str, *, keeps_answer: bool) -> Control:
    if keeps_answer:
        return Control(ControlKind.KEEP, translate(language, "reply.keep"), Skip(question_id=question_id))
    return Control(ControlKind.SKIP, translate(language, "reply.skip"), Skip(question_id=question_id))


def rejection_message(rejected: Rejected, language: str) -> ReplyMessage:
    """The reason, with the way forward: the open question's navigation, or the review's."""
    rows: list[Row]
    if rejected.prompt is not None:
        rows = navigation_rows(rejected.prompt, language)
    elif rejected.question_id is None:
        review = Control(ControlKind.REVIEW, translate(language, "reply.review"), ShowReview())
        rows = [(review, submit_control(language)) if rejected.can_submit else (review,)]
    else:
        rows = []  # the question is asked again right below, with its controls
    return ReplyMessage(text=rejected.reason, rows=tuple(rows), warning=True)


def note_text(note: NoteShown) -> str:
    text = f"【{note.section_title}】\n{note.text}"
    return f"{text}\n{note.hint}" if note.hint else text


# -- the review -----------------------------------------------------------------------------


def review_messages(review: ReviewShown, language: str, *, limit: int) -> list[ReplyMessage]:
    """The review in as few messages as fit; the last one carries submit when submitting is possible."""
    parts = pack_messages(review_blocks(review, language), limit=limit)
    rows: tuple[Row, ...] = ((submit_control(language),),) if review.can_submit else ()
    return [ReplyMessage(text=part, rows=rows if index == len(parts) - 1 else ()) for index, part in enumerate(parts)]


def submit_control(language: str) -> Control:
    return Control(ControlKind.SUBMIT, translate(language, "reply.submit"), Submit())


# -- notices --------------------------------------------------------------------------------


def unit_choices_message(choices: UnitChoices, language: str) -> ReplyMessage:
    """One unit: say so; several: a control for each, the current one selected."""
    if len(choices.units) == 1:
        [only] = choices.units
        return ReplyMessage(text=translate(language, "reply.unit_only", unit=only.unit_name, campaign=only.campaign_title))
    rows = tuple(
        (
            Control(
                ControlKind.UNIT,
                translate(
                    language,
                    "reply.unit_button",
                    unit=choice.unit_name,
                    campaign=choice.campaign_title,
                    submitted=translate(language, "reply.unit_submitted") if choice.submitted else "",
                ),
                Resume(unit_id=choice.unit_id),
                selected=choice.active,
            ),
        )
        for choice in choices.units
    )
    return ReplyMessage(text=translate(language, "reply.unit_choose"), rows=rows)


def greeting_text(greeting: Greeting, language: str, *, commands: bool = True) -> str:
    key = "reply.greeting_resumed" if greeting.resumed else "reply.greeting"
    if not commands:
        key = _without_commands(key)
    return translate(
        language,
        key,
        survey=greeting.survey_title,
        campaign=greeting.campaign_title,
        unit=greeting.unit_name,
        deadline=greeting.deadline.strftime(DATETIME_FORMAT),
        zone=utc_offset(greeting.deadline),
        total=greeting.total_questions,
        answered=greeting.answered,
    )


def utc_offset(moment: datetime) -> str:
    """``UTC+08:00``: unambiguous, unlike abbreviations such as CST."""
    offset = moment.utcoffset()
    if offset is None:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
