"""Engine actions as the web chat's JSON: ``{"type": "choose", "value": "#0", "question": "q1"}``.

Controls carry their action in this form to the page, and the page posts it
back unchanged (or a typed ``{"type": "text", "text": ...}``). Decoding
accepts only the types below with fields of the right types: anything else is
a bad request, never an exception.
"""

from __future__ import annotations

from typing import Any

from bot.core.actions import (
    Action,
    AnswerText,
    Back,
    ChooseOption,
    ClearDraft,
    Finish,
    GoTo,
    Resume,
    SetLanguage,
    ShowReview,
    Skip,
    Submit,
    ToggleOption,
)
from bot.core.catalog import BOT_LANGUAGES

#: Longest typed text accepted in one action (a long-text part; the engine applies the question's own limit).
MAX_TEXT_LENGTH = 5000

#: JSON type name → the action class; actions with a question id carry it as ``question``.
ACTION_TYPES: dict[str, type] = {
    "text": AnswerText,
    "choose": ChooseOption,
    "toggle": ToggleOption,
    "finish": Finish,
    "clear_draft": ClearDraft,
    "skip": Skip,
    "back": Back,
    "goto": GoTo,
    "review": ShowReview,
    "submit": Submit,
    "resume": Resume,
    "language": SetLanguage,
}
TYPE_NAMES: dict[type, str] = {cls: name for name, cls in ACTION_TYPES.items()}


def encode(action: Action) -> dict[str, Any]:
    """The JSON form of an action a control triggers."""
    match action:
        case ChooseOption() | ToggleOption():
            return {"type": TYPE_NAMES[type(action)], "value": action.value, "question": action.question_id}
        case Finish() | ClearDraft() | Skip() | Back():
            return {"type": TYPE_NAMES[type(action)], "question": action.question_id}
        case GoTo():
            return {"type": "goto", "number": action.number}
        case SetLanguage():
            return {"type": "language", "language": action.language}
        case AnswerText():
            return {"type": "text", "text": action.text}
        case Resume() | ShowReview() | Submit():
            return {"type": TYPE_NAMES[type(action)]}
        case _:
            raise ValueError(f"the web chat offers no control for {action!r}")


def decode(data: object) -> Action | None:
    """The action a posted JSON object stands for, or None when it is not one."""
    if not isinstance(data, dict):
        return None
    kind = data.get("type")
    question = data.get("question")
    if question is not None and not (isinstance(question, str) and 0 < len(question) <= 200):
        return None
    match kind:
        case "text":
            text = data.get("text")
            if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT_LENGTH:
                return None
            return AnswerText(text=text)
        case "choose" | "toggle":
            value = data.get("value")
            if not isinstance(value, str) or not 0 < len(value) <= 200:
                return None
            return ChooseOption(value=value, question_id=question) if kind == "choose" else ToggleOption(value=value, question_id=question)
        case "finish" | "clear_draft" | "skip" | "back":
            return ACTION_TYPES[kind](question_id=question)
        case "goto":
            number = data.get("number")
            if not isinstance(number, int) or isinstance(number, bool) or not 0 < number < 10_000:
                return None
            return GoTo(number=number)
        case "language":
            language = data.get("language")
            return SetLanguage(language=language) if language in BOT_LANGUAGES else None
        case "review" | "submit" | "resume":
            return ACTION_TYPES[kind]()
        case _:
            return None
