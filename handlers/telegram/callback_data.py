"""Inline button data: what a button press means, encoded in at most 64 bytes.

Every button of a question carries that question's id, so that a press on an
old message is recognised by the engine and refused instead of answering the
wrong question. Data that does not decode (forged, or from an older version
of the bot) yields ``None`` and is refused politely.
"""

from __future__ import annotations

from bot.core.actions import (
    Action,
    Back,
    ChooseOption,
    ClearDraft,
    Finish,
    Resume,
    SetLanguage,
    ShowReview,
    Skip,
    Submit,
    ToggleOption,
    UsePrevious,
)

#: Telegram's limit on callback data.
MAX_DATA_BYTES = 64
_SEPARATOR = ":"
SUBMIT = "sub"
REVIEW = "rev"
RESUME = "res"
UNIT = "unit"
LANGUAGE = "lang"
#: The one-letter kinds of a question's buttons: ``<kind>:<question id>``.
_QUESTION_BUTTONS: dict[type[Finish | ClearDraft | Skip | Back | UsePrevious], str] = {
    Finish: "f",
    ClearDraft: "d",
    Skip: "s",
    Back: "b",
    UsePrevious: "p",
}


def encode(action: Action) -> str:
    """The callback data of a button that triggers ``action`` (:func:`decode` gives it back).

    Raises ``ValueError`` for an action no button stands for, or data longer
    than Telegram allows: both are bugs in the code that made the button.
    """
    match action:
        case ChooseOption(value=value, question_id=str(question_id)):
            return _checked(f"c:{question_id}:{value}")
        case ToggleOption(value=value, question_id=str(question_id)):
            return _checked(f"t:{question_id}:{value}")
        case Finish() | ClearDraft() | Skip() | Back() | UsePrevious() if action.question_id is not None:
            return _checked(f"{_QUESTION_BUTTONS[type(action)]}:{action.question_id}")
        case Submit():
            return SUBMIT
        case ShowReview():
            return REVIEW
        case Resume(campaign_id=None, unit_id=None):
            return RESUME
        case Resume(campaign_id=int(campaign_id), unit_id=None):
            return _checked(f"{RESUME}:{campaign_id}")  # "Continue" in one campaign (a reminder's button)
        case Resume(campaign_id=None, unit_id=int(unit_id)):
            return _checked(f"{UNIT}:{unit_id}")  # answer for this unit (the /unit list's buttons)
        case SetLanguage(language=code):
            return _checked(f"{LANGUAGE}:{code}")
    raise ValueError(f"no button data for {action!r}: only a question's, the review's, resume and language buttons have one")


def _checked(data: str) -> str:
    if len(data.encode("utf-8")) > MAX_DATA_BYTES:
        raise ValueError(f"button data {data!r} is longer than {MAX_DATA_BYTES} bytes")
    return data


def decode(data: str | None) -> Action | None:
    """The action a button's data stands for, or ``None`` if it is not ours."""
    if not data or len(data.encode("utf-8")) > MAX_DATA_BYTES:
        return None
    simple: dict[str, Action] = {SUBMIT: Submit(), REVIEW: ShowReview(), RESUME: Resume()}
    if data in simple:
        return simple[data]
    kind, _, rest = data.partition(_SEPARATOR)
    if kind == RESUME:
        return Resume(campaign_id=int(rest)) if _is_id(rest) else None
    if kind == UNIT:
        return Resume(unit_id=int(rest)) if _is_id(rest) else None
    if kind == LANGUAGE:
        return SetLanguage(language=rest) if rest.isalpha() else None
    if kind in ("c", "t"):
        question_id, _, value = rest.partition(_SEPARATOR)
        if not question_id or not value:
            return None
        if kind == "c":
            return ChooseOption(value=value, question_id=question_id)
        return ToggleOption(value=value, question_id=question_id)
    single = {letter: button for button, letter in _QUESTION_BUTTONS.items()}
    if kind in single and rest:
        return single[kind](question_id=rest)
    return None


def _is_id(text: str) -> bool:
    return text.isdecimal() and text.isascii()
