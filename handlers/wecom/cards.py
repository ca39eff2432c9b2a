"""Choice questions as WeCom template cards, and a card press back as an engine action.

A yes/no or single choice of at most six options is a ``button_interaction``
card: one button per option, whose key ``c|<question>|<value>|<label>``
carries the action the press means (the engine's ``ChooseOption``, with the
question it was made for, so a press on an old card is refused as stale) and
the label the card shows once chosen. A longer single choice, or a multiple
choice, is a ``vote_interaction`` card (a checkbox, mode 0 single or 1
multiple, at most 20 options) with a submit button keyed
``s<mode>|<question>``; option ids are ``o<index>``. The options' texts start
with the number the text message gives them, so the card and the typed
number agree. A vote is applied as those numbers for the card's question
(``AnswerText`` with its ``question_id``), so the engine refuses it as stale
too, in the step's own transaction, once the response has moved on.

Card structure (模板卡片消息 in 发送应用消息, document/path/90236; button
text up to 10 characters suggested, keys up to 1024 bytes, option ids up to
128 bytes, task_id unique per app of digits, letters and ``_-@`` up to 128
bytes, 6 buttons, 20 checkbox options).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from bot.core.actions import ChooseOption
from bot.core.catalog import translate
from bot.core.definition import QuestionType
from bot.core.events import Prompt
from bot.core.reply import Control
from handlers.wecom.inbound import TemplateCardEvent

MAX_BUTTONS = 6
MAX_CHECKBOX_OPTIONS = 20
BUTTON_TEXT_LENGTH = 10
TITLE_LENGTH = 36
SUBTITLE_LENGTH = 160
OPTION_TEXT_LENGTH = 17
KEY_LABEL_LENGTH = 40

BUTTON_PREFIX = "c"
SUBMIT_SINGLE_PREFIX = "s0"
SUBMIT_MULTIPLE_PREFIX = "s1"


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def new_task_id() -> str:
    return f"sv-{uuid.uuid4().hex}"


def question_card(prompt: Prompt, choices: list[Control], language: str) -> dict[str, Any]:
    """The card for a choice question; ``choices`` are the reply's choice controls, in order."""
    title = {"title": shorten(prompt.label, TITLE_LENGTH), "desc": f"{prompt.position}/{prompt.total}"}
    multiple = prompt.kind is QuestionType.SELECT_MULTIPLE
    if not multiple and len(choices) <= MAX_BUTTONS:
        buttons = []
        for control in choices:
            assert isinstance(control.action, ChooseOption)
            label = shorten(control.label, KEY_LABEL_LENGTH).replace("|", "/")
            buttons.append(
                {
                    "text": shorten(control.label, BUTTON_TEXT_LENGTH),
                    "style": 1,
                    "key": f"{BUTTON_PREFIX}|{prompt.question_id}|{control.action.value}|{label}",
                }
            )
        card: dict[str, Any] = {
            "card_type": "button_interaction",
            "task_id": new_task_id(),
            "main_title": title,
            "button_list": buttons,
        }
        if prompt.hint:
            card["sub_title_text"] = shorten(prompt.hint, SUBTITLE_LENGTH)
        return card
    options = [
        {
            "id": f"o{index}",
            "text": shorten(f"{index + 1} {control.label}", OPTION_TEXT_LENGTH),
            "is_checked": control.selected,
        }
        for index, control in enumerate(choices[:MAX_CHECKBOX_OPTIONS])
    ]
    prefix = SUBMIT_MULTIPLE_PREFIX if multiple else SUBMIT_SINGLE_PREFIX
    return {
        "card_type": "vote_interaction",
        "task_id": new_task_id(),
        "main_title": title,
        "checkbox": {"question_key": f"q|{prompt.question_id}", "option_list": options, "mode": 1 if multiple else 0},
        "submit_button": {"text": translate(language, "wecom.card_submit"), "key": f"{prefix}|{prompt.question_id}"},
    }


@dataclass(frozen=True, slots=True)
class SingleChoicePress:
    """A button, or a single-choice vote: the option's value (``#i`` or yes/no) for the question."""

    question_id: str
    value: str
    #: What the card shows once chosen.
    shown: str


@dataclass(frozen=True, slots=True)
class MultipleChoicePress:
    """A multiple-choice vote submitted: the options' numbers (1-based), maybe none."""

    question_id: str
    numbers: tuple[int, ...]


CardPress = SingleChoicePress | MultipleChoicePress


def read_press(event: TemplateCardEvent) -> CardPress | None:
    """What a card press means, or None for a card this channel did not send (or a mangled key)."""
    prefix, _, rest = event.event_key.partition("|")
    if prefix == BUTTON_PREFIX:
        parts = rest.split("|", 2)
        if len(parts) != 3 or not parts[0] or not parts[1]:
            return None
        question_id, value, label = parts
        return SingleChoicePress(question_id=question_id, value=value, shown=label)
    if prefix in (SUBMIT_SINGLE_PREFIX, SUBMIT_MULTIPLE_PREFIX) and rest:
        indexes: list[int] = []
        for item in event.selected_items:
            for option in item.option_ids:
                if option.startswith("o") and option[1:].isascii() and option[1:].isdigit():
                    indexes.append(int(option[1:]))
        indexes = sorted(set(indexes))
        if prefix == SUBMIT_SINGLE_PREFIX:
            if len(indexes) != 1:
                return None
            return SingleChoicePress(question_id=rest, value=f"#{indexes[0]}", shown=str(indexes[0] + 1))
        return MultipleChoicePress(question_id=rest, numbers=tuple(index + 1 for index in indexes))
    return None
