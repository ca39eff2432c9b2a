"""The neutral reply as WeCom messages: numbered text, typed words, and (optionally) template cards.

WeCom's app chat has no inline buttons that every client shows, so every
control is something to type: choices are numbered ("回复数字：1 是　2 否";
several numbers for a multiple choice, "1 3"), the other controls are the
words :mod:`handlers.wecom.words` understands (上一题, 跳过, 查看, 提交, 重写 …).
With cards on, a choice question's message is followed by a template card
(:mod:`handlers.wecom.cards`) whose press counts like the typed number; the
numbered text still comes first, for clients that cannot show cards.

A file question says how to answer it in WeCom, where the app receives no
files: a photo, or the unit's web link for a PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.catalog import translate
from bot.core.definition import QuestionType
from bot.core.outcome import NotInvited, Outcome
from bot.core.reply import Control, ControlKind, ReplyMessage, render
from handlers.wecom.cards import question_card

#: The words each control kind is typed as (catalog keys under ``wecom.``).
CONTROL_WORDS: dict[ControlKind, str] = {
    ControlKind.BACK: "word_back",
    ControlKind.SKIP: "word_skip",
    ControlKind.KEEP: "word_keep",
    ControlKind.DONE: "word_done",
    ControlKind.CLEAR_DRAFT: "word_clear",
    ControlKind.USE_PREVIOUS: "word_same",
    ControlKind.REVIEW: "word_review",
    ControlKind.SUBMIT: "word_submit",
    ControlKind.RESUME: "word_resume",
}
#: Choices shown on one line when there are at most this many, each short.
INLINE_CHOICES = 4
INLINE_LABEL_LENGTH = 8
#: The kinds of question a card can answer.
CARD_KINDS = frozenset({QuestionType.YES_NO, QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE})


@dataclass(frozen=True, slots=True)
class OutgoingText:
    text: str


@dataclass(frozen=True, slots=True)
class OutgoingCard:
    """A template card; ``fallback`` is what the numbered text already said (for logs)."""

    card: dict[str, Any]


Outgoing = OutgoingText | OutgoingCard


def render_outcome(outcome: Outcome, *, cards: bool = False, file_link: str | None = None) -> list[Outgoing]:
    """What to send for ``outcome``, in order; ``file_link`` is the unit's web link for a file question."""
    language = outcome.language
    if any(isinstance(event, NotInvited) for event in outcome.events):
        return [OutgoingText(translate(language, "wecom.not_invited"))]
    outgoing: list[Outgoing] = []
    for message in render(outcome).messages:
        outgoing.append(OutgoingText(message_text(message, language, file_link=file_link)))
        prompt = message.prompt
        if cards and prompt is not None and prompt.kind in CARD_KINDS and not prompt.awaiting_other:
            choices = choice_controls(message)
            if choices:
                outgoing.append(OutgoingCard(question_card(prompt, choices, language)))
    return outgoing


def choice_controls(message: ReplyMessage) -> list[Control]:
    return [control for control in message.controls if control.kind in (ControlKind.CHOICE, ControlKind.TOGGLE)]


def message_text(message: ReplyMessage, language: str, *, file_link: str | None = None) -> str:
    """The message's text, its choices numbered, its units listed, its other controls as words to type."""
    blocks = [f"⚠️ {message.text}" if message.warning else message.text]
    choices = choice_controls(message)
    if choices:
        blocks.append(choices_text(choices, language))
    units = [control for control in message.controls if control.kind is ControlKind.UNIT]
    if units:
        blocks.append(
            "\n".join(
                ("✅ " if control.selected else "") + translate(language, "wecom.unit_line", number=number, unit=control.label)
                for number, control in enumerate(units, start=1)
            )
        )
    prompt = message.prompt
    if prompt is not None and prompt.kind is QuestionType.FILE and not prompt.awaiting_other:
        if file_link:
            blocks.append(translate(language, "wecom.file_ask", link=file_link))
        else:
            blocks.append(translate(language, "wecom.file_ask_no_link"))
    words = words_text(message, language)
    if words:
        blocks.append(words)
    return "\n\n".join(block for block in blocks if block)


def choices_text(choices: list[Control], language: str) -> str:
    """``回复数字：1 是　2 否`` for a few short choices, else one numbered line each (a multiple choice's marked)."""
    several = choices[0].kind is ControlKind.TOGGLE
    if not several and len(choices) <= INLINE_CHOICES and all(len(control.label) <= INLINE_LABEL_LENGTH for control in choices):
        inline = "　".join(f"{number} {control.label}" for number, control in enumerate(choices, start=1))
        return translate(language, "wecom.choose_number", choices=inline)
    header = translate(language, "wecom.choose_numbers_lines" if several else "wecom.choose_number_lines")
    lines = [header]
    for number, control in enumerate(choices, start=1):
        mark = ("☑ " if control.selected else "☐ ") if several else ""
        lines.append(f"{number}. {mark}{control.label}")
    return "\n".join(lines)


def words_text(message: ReplyMessage, language: str) -> str:
    """``也可回复：上一题 · 跳过``: the words that do what the message's other controls do."""
    words: list[str] = []
    for control in message.controls:
        key = CONTROL_WORDS.get(control.kind)
        if key is None:
            continue
        word = translate(language, f"wecom.{key}")
        if word not in words:
            words.append(word)
    if not words:
        return ""
    return translate(language, "wecom.words", words=" · ".join(words))
