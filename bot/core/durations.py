"""Durations as coordinators type them: ``3d``, ``2h``, ``90m``, ``1d12h``, ``2w``.

One parser for every place a duration is typed (``surveybot campaign create
--remind``, ``invite --expires``, the console's reminder schedule), so they
cannot drift. A text that is no duration is an expected outcome, returned as a
:class:`DurationRejection` for the caller to word; nothing here raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Final

_PART: Final = re.compile(r"(\d+)([wdhms])")
_UNIT_SECONDS: Final = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_UNIT_NAMES: Final = (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
#: The longest duration taken: far beyond any campaign, well within what dates can hold.
MAX_DURATION: Final = timedelta(days=10 * 366)
#: The words that mean "no reminders" in a schedule.
NO_REMINDERS: Final = frozenset({"none", "no", "off", ""})


class DurationProblem(StrEnum):
    #: Not a duration such as 3d, 2h, 90m or 1d12h.
    MALFORMED = "malformed"
    #: Longer than :data:`MAX_DURATION`.
    TOO_LONG = "too_long"
    #: A schedule names the same time twice.
    REPEATED = "repeated"


@dataclass(frozen=True, slots=True)
class DurationRejection:
    """Why ``text`` (the whole input, or the part of a schedule at fault) was refused."""

    problem: DurationProblem
    text: str


def parse_duration(text: str) -> timedelta | DurationRejection:
    """``3d``, ``2h``, ``90m``, ``1d12h``, ``2w`` → a positive timedelta."""
    compact = text.strip().lower().replace(" ", "")
    position = 0
    seconds = 0
    for match in _PART.finditer(compact):
        if match.start() != position:
            break
        seconds += int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if not compact or position != len(compact) or seconds <= 0:
        return DurationRejection(DurationProblem.MALFORMED, text)
    if seconds > MAX_DURATION.total_seconds():
        return DurationRejection(DurationProblem.TOO_LONG, text)
    return timedelta(seconds=seconds)


def parse_reminder_offsets(text: str) -> list[int] | DurationRejection:
    """``3d,1d,2h`` → offsets in seconds before the deadline, largest first; ``none`` → no reminders.

    Commas (also the Chinese ``，`` and ``、``) separate the times.
    """
    if text.strip().lower() in NO_REMINDERS:
        return []
    parts = [part for part in re.split(r"[,，、]", text) if part.strip()]
    offsets: list[int] = []
    for part in parts:
        parsed = parse_duration(part)
        if isinstance(parsed, DurationRejection):
            return parsed
        offset = int(parsed.total_seconds())
        if offset in offsets:
            return DurationRejection(DurationProblem.REPEATED, text)
        offsets.append(offset)
    return sorted(offsets, reverse=True)


def format_duration(seconds: int) -> str:
    """The inverse of :func:`parse_duration` for whole units: 86400 → ``1d``, 93600 → ``1d2h``."""
    parts: list[str] = []
    for name, size in _UNIT_NAMES:
        if seconds >= size:
            count, seconds = divmod(seconds, size)
            parts.append(f"{count}{name}")
    return "".join(parts) or "0s"


def format_reminder_offsets(offsets: list[int] | tuple[int, ...]) -> str:
    """``3d,1d,2h`` (what :func:`parse_reminder_offsets` reads back), or ``none``."""
    return ",".join(format_duration(offset) for offset in offsets) or "none"
