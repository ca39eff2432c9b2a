"""The survey definition format: what a survey file says, validated by pydantic.

A survey is a tree (survey → sections → questions) in the spirit of XLSForm:
each element separates its ``id`` (the stable key) from its ``label`` (what
people read, a plain string or a per-language map). This module only describes
the file; :mod:`bot.core.loading` turns a file into these models and reports
problems, and :mod:`bot.core.survey` compiles them for the engine.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

#: Stable identifiers of questions and sections, usable in ``${id}``.
QUESTION_ID_PATTERN: Final = r"^[a-z][a-z0-9_]*$"
SURVEY_ID_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]*$"
#: The reserved choice value of the "other (name)" choice.
OTHER_VALUE: Final = "other"

#: At most 48 characters, so that a button's data ("t:<id>:#12") fits Telegram's 64 bytes.
Identifier = Annotated[str, StringConstraints(pattern=QUESTION_ID_PATTERN, max_length=48)]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]+)*$")]
#: A text people read: one string for every language, or a map language → text.
LocalizedText = Annotated[str, StringConstraints(min_length=1)] | dict[LanguageCode, str]


class QuestionType(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    YES_NO = "yes_no"
    SELECT_ONE = "select_one"
    SELECT_MULTIPLE = "select_multiple"
    DATE = "date"
    PHONE = "phone"
    EMAIL = "email"
    FILE = "file"
    NOTE = "note"


#: The optional fields each type accepts beyond the common ones; any other
#: type-specific field on a question is a definition error.
TYPE_FIELDS: Final[dict[QuestionType, frozenset[str]]] = {
    QuestionType.TEXT: frozenset({"max_length", "pattern", "pattern_message"}),
    QuestionType.LONG_TEXT: frozenset({"max_length"}),
    QuestionType.INTEGER: frozenset({"min", "max"}),
    QuestionType.DECIMAL: frozenset({"min", "max"}),
    QuestionType.YES_NO: frozenset(),
    QuestionType.SELECT_ONE: frozenset({"choices", "other"}),
    QuestionType.SELECT_MULTIPLE: frozenset({"choices", "other", "min_selected", "max_selected"}),
    QuestionType.DATE: frozenset(),
    QuestionType.PHONE: frozenset(),
    QuestionType.EMAIL: frozenset(),
    QuestionType.FILE: frozenset({"accept", "max_size_mb"}),
    QuestionType.NOTE: frozenset(),
}
TYPE_SPECIFIC_FIELDS: Final = frozenset().union(*TYPE_FIELDS.values())
DEFAULT_MAX_LENGTH: Final[dict[QuestionType, int]] = {
    QuestionType.TEXT: 500,
    QuestionType.LONG_TEXT: 2000,
}
DEFAULT_MAX_SIZE_MB: Final = 20.0
#: Types with a number for an answer: the ones ``change_of`` and the workbook's change columns take.
NUMERIC_TYPES: Final = frozenset({QuestionType.INTEGER, QuestionType.DECIMAL})
#: Types whose answer of last period cannot be offered again (a file belongs to its period).
NOT_PREFILLED_TYPES: Final = frozenset({QuestionType.FILE, QuestionType.NOTE})


class _Element(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


class Choice(_Element):
    value: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+$", max_length=64)]
    label: LocalizedText


class OtherChoice(_Element):
    """The "other (name)" choice: chosen, it asks for the name as free text."""

    label: LocalizedText
    #: The value of the choice it is shown before; shown last when omitted.
    before: str | None = None


class Question(_Element):
    id: Identifier
    type: QuestionType
    label: LocalizedText
    hint: LocalizedText | None = None
    required: bool = True
    relevant: str | None = None
    constraint: str | None = None
    constraint_message: LocalizedText | None = None
    # Type-specific (see TYPE_FIELDS).
    max_length: Annotated[int, Field(gt=0, le=100_000)] | None = None
    pattern: str | None = None
    pattern_message: LocalizedText | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    choices: list[Choice] | None = None
    other: OtherChoice | None = None
    min_selected: Annotated[int, Field(ge=0)] | None = None
    max_selected: Annotated[int, Field(ge=1)] | None = None
    accept: list[Annotated[str, StringConstraints(pattern=r"^\.?[A-Za-z0-9]+$")]] | None = None
    max_size_mb: Annotated[float, Field(gt=0, le=2000)] | None = None
    #: Offer the unit's answer of last period (a linked campaign) as the default; ``None``
    #: means yes (left out, it keeps the content hash of surveys written before the field).
    prefill: bool | None = None
    #: This numeric question is the change of that numeric question against last period.
    change_of: Identifier | None = None


class Section(_Element):
    id: Identifier
    title: LocalizedText
    questions: list[Question] = Field(min_length=1)


class SurveyDefinition(_Element):
    id: Annotated[str, StringConstraints(pattern=SURVEY_ID_PATTERN, max_length=64)]
    version: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    title: LocalizedText
    languages: list[LanguageCode] = Field(min_length=1)
    intro: LocalizedText | None = None
    sections: list[Section] = Field(min_length=1)
