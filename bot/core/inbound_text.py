"""Inbound text made storable and showable: the one normalisation every channel's input goes through.

A chat client (or a forged update) can deliver text no database and no
outgoing message can carry: a lone UTF-16 surrogate (``\\ud800``, which
UTF-8 cannot encode) or NUL (which PostgreSQL refuses in text). Both are
fixed once, where input enters the service, so nothing downstream meets them.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

#: What a lone surrogate becomes (U+FFFD REPLACEMENT CHARACTER).
REPLACEMENT = "\ufffd"

T = TypeVar("T")


def clean_text(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD and every NUL dropped.

    Two surrogates that form a pair become the character they encode.
    """
    if text.isascii():
        return text.replace("\x00", "") if "\x00" in text else text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text.replace("\x00", "")


def clean_fields(value: T) -> T:
    """A frozen dataclass (an action, a channel user) with every text field cleaned."""
    assert dataclasses.is_dataclass(value) and not isinstance(value, type)
    changes = {
        field.name: clean_text(current)
        for field in dataclasses.fields(value)
        if isinstance(current := getattr(value, field.name), str) and clean_text(current) != current
    }
    return dataclasses.replace(value, **changes) if changes else value
