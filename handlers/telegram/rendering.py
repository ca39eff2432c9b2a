"""Turning an :class:`~bot.core.outcome.Outcome` into Telegram messages and keyboards.

Pure: builds :class:`OutgoingMessage` values; the handlers send them. Texts
come from the catalogs and from :mod:`bot.core.wording`, so the wording is
the same in every channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

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
from handlers.telegram import callback_data as buttons

#: Telegram's limit on a message's text.
MAX_MESSAGE_LENGTH = 4096
DATETIME_FORMAT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    text: str
    keyboard: InlineKeyboardMarkup | None = None
    #: Set on a question's message, so a button press on it can edit it in place.
    prompt: Prompt | None = None


def render(outcome: Outcome) -> list[OutgoingMessage]:
    """The messages to send for ``outcome``, in order."""
    language = outcome.language
    messages: list[OutgoingMessage] = []
    for event in outcome.events:
        if isinstance(event, Prompt):
            messages.append(render_prompt(event, language))
        elif isinstance(event, ReviewShown):
            messages.extend(render_review(event, language))
        elif isinstance(event, DraftUpdated):
            messages.append(
                OutgoingMessage(
                    text=draft_text(event, language),
                    keyboard=InlineKeyboardMarkup(
                        [[InlineKeyboardButton(translate(language, "tg.done"), callback_data=buttons.finish(event.question_id))]]
                    ),
                )
            )
        elif isinstance(event, Rejected):
            messages.append(OutgoingMessage(text=f"⚠️ {event.reason}"))
        elif isinstance(event, Intro | NoteShown):
            blocks = [event.text if isinstance(event, Intro) else _note_text(event)]
            if isinstance(event, Intro) and messages and messages[-1].keyboard is None:
                blocks.insert(0, messages.pop().text)  # the greeting and the introduction in one message
            messages.extend(OutgoingMessage(text=part) for part in pack_messages(blocks, limit=MAX_MESSAGE_LENGTH))
        elif isinstance(event, Greeting):
            messages.append(OutgoingMessage(text=greeting_text(event, language)))
        elif isinstance(event, SubmissionReceipt):
            messages.append(
                OutgoingMessage(
                    text=translate(
                        language,
                        "tg.submitted",
                        time=event.submitted_at.strftime(DATETIME_FORMAT),
                        revision=event.revision,
                        unit=event.unit_name,
                    )
                )
            )
        elif isinstance(event, ReadOnly):
            messages.append(
                OutgoingMessage(
                    text=translate(
                        language, f"tg.read_only_{event.reason.value}", deadline=event.deadline.strftime(DATETIME_FORMAT)
                    )
                )
            )
        elif isinstance(event, InvitationRefused):
            messages.append(OutgoingMessage(text=translate(language, f"tg.invitation_{event.problem.value}")))
        elif isinstance(event, NotInvited):
            messages.append(OutgoingMessage(text=translate(language, "tg.not_invited")))
        elif isinstance(event, Paused):
            messages.append(
                OutgoingMessage(
                    text=translate(language, "tg.paused"),
                    keyboard=InlineKeyboardMarkup(
                        [[InlineKeyboardButton(translate(language, "tg.resume"), callback_data=buttons.RESUME)]]
                    ),
                )
            )
        elif isinstance(event, LanguageChanged):
            messages.append(OutgoingMessage(text=translate(language, "tg.language_changed")))
        elif isinstance(event, UnitChoices):
            messages.append(render_unit_choices(event, language))
        elif isinstance(event, AnswerChanged | Submitted):
            continue  # stored by the service; the receipt or the next prompt says it
    return messages


def render_unit_choices(choices: UnitChoices, language: str) -> OutgoingMessage:
    """One unit: say so; several: a button for each, the current one marked."""
    if len(choices.units) == 1:
        [only] = choices.units
        return OutgoingMessage(
            text=translate(language, "tg.unit_only", unit=only.unit_name, campaign=only.campaign_title)
        )
    rows = [
        [
            InlineKeyboardButton(
                translate(
                    language,
                    "tg.unit_button",
                    mark="✅ " if choice.active else "",
                    unit=choice.unit_name,
                    campaign=choice.campaign_title,
                    submitted=translate(language, "tg.unit_submitted") if choice.submitted else "",
                ),
                callback_data=buttons.unit(choice.unit_id),
            )
        ]
        for choice in choices.units
    ]
    return OutgoingMessage(text=translate(language, "tg.unit_choose"), keyboard=InlineKeyboardMarkup(rows))


def _note_text(event: NoteShown) -> str:
    text = f"【{event.section_title}】\n{event.text}"
    return f"{text}\n{event.hint}" if event.hint else text


def greeting_text(greeting: Greeting, language: str) -> str:
    key = "tg.greeting_resumed" if greeting.resumed else "tg.greeting"
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


def render_prompt(prompt: Prompt, language: str) -> OutgoingMessage:
    text = prompt_text(prompt, language)
    if len(text) > MAX_MESSAGE_LENGTH:
        text = text[: MAX_MESSAGE_LENGTH - 1] + "…"
    return OutgoingMessage(text=text, keyboard=prompt_keyboard(prompt, language), prompt=prompt)


def prompt_keyboard(prompt: Prompt, language: str) -> InlineKeyboardMarkup | None:
    rows: list[list[InlineKeyboardButton]] = []
    qid = prompt.question_id
    if not prompt.awaiting_other:
        if prompt.kind is QuestionType.YES_NO:
            rows.append(
                [
                    InlineKeyboardButton(_mark(c.label, c.selected), callback_data=buttons.yes_no(qid, c.value))
                    for c in prompt.choices
                ]
            )
        elif prompt.kind is QuestionType.SELECT_ONE:
            rows.extend(
                [InlineKeyboardButton(_mark(c.label, c.selected), callback_data=buttons.choose(qid, index))]
                for index, c in enumerate(prompt.choices)
            )
        elif prompt.kind is QuestionType.SELECT_MULTIPLE:
            rows.extend(
                [InlineKeyboardButton(_mark(c.label, c.selected), callback_data=buttons.toggle(qid, index))]
                for index, c in enumerate(prompt.choices)
            )
            rows.append([InlineKeyboardButton(translate(language, "tg.done"), callback_data=buttons.finish(qid))])
        elif prompt.kind is QuestionType.LONG_TEXT and prompt.draft_length:
            rows.append([InlineKeyboardButton(translate(language, "tg.done"), callback_data=buttons.finish(qid))])
    navigation: list[InlineKeyboardButton] = []
    if prompt.can_back:
        navigation.append(InlineKeyboardButton(translate(language, "tg.back"), callback_data=buttons.back(qid)))
    if prompt.can_skip and not prompt.awaiting_other:
        key = "tg.keep" if prompt.current_display is not None else "tg.skip"
        navigation.append(InlineKeyboardButton(translate(language, key), callback_data=buttons.skip(qid)))
    if navigation:
        rows.append(navigation)
    return InlineKeyboardMarkup(rows) if rows else None


def _mark(label: str, selected: bool) -> str:
    return f"✅ {label}" if selected else label


def render_review(review: ReviewShown, language: str) -> list[OutgoingMessage]:
    parts = pack_messages(review_blocks(review, language), limit=MAX_MESSAGE_LENGTH)
    keyboard_rows: list[list[InlineKeyboardButton]] = []
    if review.can_submit:
        keyboard_rows.append([InlineKeyboardButton(translate(language, "tg.submit"), callback_data=buttons.SUBMIT)])
    keyboard = InlineKeyboardMarkup(keyboard_rows) if keyboard_rows else None
    return [
        OutgoingMessage(text=part, keyboard=keyboard if index == len(parts) - 1 else None)
        for index, part in enumerate(parts)
    ]
