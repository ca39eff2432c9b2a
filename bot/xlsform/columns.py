"""The columns of the survey, choices and settings sheets we know, and what a header means.

A header is a column name, optionally followed by ``::`` and a language for
the columns people read (``label::English (en)``). Aliases pyxform accepts
(``relevance``, ``caption``…) are read as the column they stand for. A header
that is none of these but close to one is most likely a typo and is refused
("relevent → relevant"); any other header is the designer's own column and is
ignored with a warning.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bot.xlsform.languages import language_code


class SheetName(StrEnum):
    SURVEY = "survey"
    CHOICES = "choices"
    SETTINGS = "settings"


class Use(StrEnum):
    """What the reader does with a column."""

    READ = "read"  # mapped to our definition
    REFUSE = "refuse"  # a feature we do not have: a value in it is a problem
    IGNORE = "ignore"  # display details a chat has no use for: dropped with a warning


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    use: Use
    #: The columns people read take a language after ``::``.
    translatable: bool = False
    #: Why it is refused or ignored, and what to do instead.
    reason: str = ""
    fix: str = ""


_UNSUPPORTED_FIX = "remove the column's values"

SURVEY_COLUMNS: Final[dict[str, ColumnSpec]] = {
    "type": ColumnSpec(Use.READ),
    "name": ColumnSpec(Use.READ),
    "label": ColumnSpec(Use.READ, translatable=True),
    "hint": ColumnSpec(Use.READ, translatable=True),
    "required": ColumnSpec(Use.READ),
    "required_message": ColumnSpec(
        Use.IGNORE, translatable=True, reason="the bot says in its own words that an answer is required"
    ),
    "relevant": ColumnSpec(Use.READ),
    "constraint": ColumnSpec(Use.READ),
    "constraint_message": ColumnSpec(Use.READ, translatable=True),
    "default": ColumnSpec(Use.IGNORE, reason="the bot asks every question without a pre-filled answer"),
    "appearance": ColumnSpec(Use.READ),
    "calculation": ColumnSpec(Use.READ),
    "body::accept": ColumnSpec(Use.READ),
    # Our own columns, for what XLSForm cannot say.
    "surveybot_type": ColumnSpec(Use.READ),
    "surveybot_max_length": ColumnSpec(Use.READ),
    "surveybot_pattern": ColumnSpec(Use.READ),
    "surveybot_pattern_message": ColumnSpec(Use.READ, translatable=True),
    "surveybot_min": ColumnSpec(Use.READ),
    "surveybot_max": ColumnSpec(Use.READ),
    "surveybot_min_selected": ColumnSpec(Use.READ),
    "surveybot_max_selected": ColumnSpec(Use.READ),
    "surveybot_max_size_mb": ColumnSpec(Use.READ),
    "surveybot_prefill": ColumnSpec(Use.READ),
    "surveybot_change_of": ColumnSpec(Use.READ),
    # XLSForm features a chat survey does not have.
    "choice_filter": ColumnSpec(
        Use.REFUSE,
        reason="choice filters (cascading selects) are not supported",
        fix="give each question its own complete choices list and remove the choice_filter",
    ),
    "trigger": ColumnSpec(
        Use.REFUSE,
        reason="triggers (recalculating on another answer) are not supported",
        fix="remove the trigger; use relevant to ask a question only after another answer",
    ),
    "repeat_count": ColumnSpec(
        Use.REFUSE, reason="repeats are not supported", fix="remove the repeat_count with its repeat group"
    ),
    "parameters": ColumnSpec(
        Use.REFUSE,
        reason="question parameters are not supported",
        fix="remove the parameters; use surveybot_min/surveybot_max for bounds",
    ),
    "read_only": ColumnSpec(Use.IGNORE, reason="every question a respondent sees can be answered"),
    "guidance_hint": ColumnSpec(Use.IGNORE, translatable=True, reason="the hint is the only help text shown"),
    "image": ColumnSpec(Use.IGNORE, translatable=True, reason="media labels are not sent in the chat"),
    "big-image": ColumnSpec(Use.IGNORE, translatable=True, reason="media labels are not sent in the chat"),
    "audio": ColumnSpec(Use.IGNORE, translatable=True, reason="media labels are not sent in the chat"),
    "video": ColumnSpec(Use.IGNORE, translatable=True, reason="media labels are not sent in the chat"),
    "autoplay": ColumnSpec(Use.IGNORE, reason="media labels are not sent in the chat"),
    "note": ColumnSpec(Use.IGNORE, reason="it is the designer's own note"),
}
SURVEY_ALIASES: Final[dict[str, str]] = {
    "relevance": "relevant",
    "caption": "label",
    "calculate": "calculation",
    "constraining_message": "constraint_message",
    "requiredmsg": "required_message",
    "media::image": "image",
    "media::big-image": "big-image",
    "media::audio": "audio",
    "media::video": "video",
}
#: Header families pyxform passes into the XForm as they are: ignored with a warning.
SURVEY_PREFIXES: Final = ("bind::", "instance::", "body::", "media::", "sms_")

CHOICES_COLUMNS: Final[dict[str, ColumnSpec]] = {
    "list_name": ColumnSpec(Use.READ),
    "name": ColumnSpec(Use.READ),
    "label": ColumnSpec(Use.READ, translatable=True),
    "image": ColumnSpec(Use.IGNORE, translatable=True, reason="media labels are not sent in the chat"),
    "big-image": ColumnSpec(Use.IGNORE, translatable=True, reason="media labels are not sent in the chat"),
    "audio": ColumnSpec(Use.IGNORE, translatable=True, reason="media labels are not sent in the chat"),
    "video": ColumnSpec(Use.IGNORE, translatable=True, reason="media labels are not sent in the chat"),
}
CHOICES_ALIASES: Final[dict[str, str]] = {
    "list name": "list_name",
    "value": "name",
    "caption": "label",
    "media::image": "image",
    "media::audio": "audio",
    "media::video": "video",
}

SETTINGS_COLUMNS: Final[dict[str, ColumnSpec]] = {
    "form_title": ColumnSpec(Use.READ),
    "form_id": ColumnSpec(Use.READ),
    "version": ColumnSpec(Use.READ),
    "default_language": ColumnSpec(Use.READ),
    "surveybot_title": ColumnSpec(Use.READ, translatable=True),
    "surveybot_intro": ColumnSpec(Use.READ, translatable=True),
    "instance_name": ColumnSpec(Use.IGNORE, reason="submissions are named by unit"),
    "public_key": ColumnSpec(Use.IGNORE, reason="answers are kept in the bot's own database"),
    "submission_url": ColumnSpec(Use.IGNORE, reason="answers are kept in the bot's own database"),
    "style": ColumnSpec(Use.IGNORE, reason="a chat has no page style"),
    "name": ColumnSpec(Use.IGNORE, reason="the form_id names the survey"),
    "namespaces": ColumnSpec(Use.IGNORE, reason="there is no XForm to add namespaces to"),
    "allow_choice_duplicates": ColumnSpec(Use.IGNORE, reason="choice names are always unique within a list"),
    "clean_text_values": ColumnSpec(Use.IGNORE, reason="texts are always read with their spaces trimmed"),
    "auto_send": ColumnSpec(Use.IGNORE, reason="the respondent submits in the chat"),
    "auto_delete": ColumnSpec(Use.IGNORE, reason="the respondent submits in the chat"),
}
SETTINGS_ALIASES: Final[dict[str, str]] = {"id_string": "form_id", "set_form_id": "form_id", "set_form_title": "form_title"}

COLUMNS: Final[dict[SheetName, tuple[dict[str, ColumnSpec], dict[str, str]]]] = {
    SheetName.SURVEY: (SURVEY_COLUMNS, SURVEY_ALIASES),
    SheetName.CHOICES: (CHOICES_COLUMNS, CHOICES_ALIASES),
    SheetName.SETTINGS: (SETTINGS_COLUMNS, SETTINGS_ALIASES),
}
#: How close an unknown header must be to a known one to be taken for a typo of it.
TYPO_CUTOFF: Final = 0.8


@dataclass(frozen=True, slots=True)
class Column:
    """One header, understood."""

    header: str  # as written
    #: The canonical column name (``label``, ``body::accept``), or ``None`` for an unknown header.
    name: str | None
    spec: ColumnSpec | None
    #: For a translatable column: the language as written after ``::`` (``None`` without one) and its code.
    language: str | None = None
    code: str | None = None
    #: For an unknown header: the known column it is most likely a typo of.
    likely: str | None = None


def read_header(header: str, *, sheet: SheetName) -> Column:
    """What ``header`` means on ``sheet``."""
    columns, aliases = COLUMNS[sheet]
    text = " ".join(header.split())
    base, separator, language = text.partition("::")
    if not separator and ":" in text:  # pyxform's older single-colon form: label:English
        candidate, _, rest = text.partition(":")
        if columns.get(aliases.get(candidate.lower(), candidate.lower()), ColumnSpec(Use.READ)).translatable:
            base, separator, language = candidate, ":", rest
    name = aliases.get(text.lower()) or aliases.get(base.lower(), base.lower())
    spec = columns.get(name)
    if spec is not None and spec.translatable and separator:
        language = language.strip()
        return Column(header, name, spec, language=language, code=language_code(language))
    whole = aliases.get(text.lower(), text.lower())
    if whole in columns:
        return Column(header, whole, columns[whole])
    if spec is not None and not separator:
        return Column(header, name, spec)
    if sheet is SheetName.SURVEY and whole.startswith(SURVEY_PREFIXES):
        return Column(header, whole, ColumnSpec(Use.IGNORE, reason="surveybot does not write an XForm"))
    close = difflib.get_close_matches(base.lower(), list(columns), n=1, cutoff=TYPO_CUTOFF)
    return Column(header, None, None, likely=close[0] if close else None)
