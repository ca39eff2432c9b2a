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
    Finish,
    Resume,
    SetLanguage,
    ShowReview,
    Skip,
    Submit,
    ToggleOption,
)

#: Telegram's limit on callback data.
MAX_DATA_BYTES = 64
_SEPARATOR = ":"


def choose(question_id: str, index: int) -> str:
    return _checked(f"c:{question_id}:#{index}")


def toggle(question_id: str, index: int) -> str:
    return _checked(f"t:{question_id}:#{index}")


def yes_no(question_id: str, value: str) -> str:
    return _checked(f"c:{question_id}:{value}")


def finish(question_id: str) -> str:
    return _checked(f"f:{question_id}")


def skip(question_id: str) -> str:
    return _checked(f"s:{question_id}")


def back(question_id: str) -> str:
    return _checked(f"b:{question_id}")


SUBMIT = "sub"
REVIEW = "rev"
RESUME = "res"
UNIT = "unit"


def resume(campaign_id: int) -> str:
    """"Continue" in one campaign (a reminder's button)."""
    return _checked(f"{RESUME}:{campaign_id}")


def unit(unit_id: int) -> str:
    """Answer for this unit (the ``/unit`` list's buttons)."""
    return _checked(f"{UNIT}:{unit_id}")


def language(code: str) -> str:
    return _checked(f"lang:{code}")


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
    if kind == "lang":
        return SetLanguage(language=rest) if rest.isalpha() else None
    if kind in ("c", "t"):
        question_id, _, value = rest.partition(_SEPARATOR)
        if not question_id or not value:
            return None
        if kind == "c":
            return ChooseOption(value=value, question_id=question_id)
        return ToggleOption(value=value, question_id=question_id)
    single: dict[str, type[Finish] | type[Skip] | type[Back]] = {"f": Finish, "s": Skip, "b": Back}
    if kind in single and rest:
        return single[kind](question_id=rest)
    return None


def _is_id(text: str) -> bool:
    return text.isdecimal() and text.isascii()
