"""A survey compiled for the engine: questions in order, expressions parsed once.

:class:`Survey` is built by :func:`bot.loading.load_survey` from a validated
:class:`~bot.definition.SurveyDefinition`. Everything the engine needs on every
step (the question order, lookup by id, the compiled ``relevant`` and
``constraint`` expressions, choice labels) is computed here once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from bot.definition import (
    DEFAULT_MAX_LENGTH,
    DEFAULT_MAX_SIZE_MB,
    OTHER_VALUE,
    LocalizedText,
    Question,
    QuestionType,
    Section,
    SurveyDefinition,
)
from bot.expressions import Expression

#: Question types whose answer is picked from choices.
CHOICE_TYPES = frozenset({QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE})


def localize(text: LocalizedText | None, language: str, default_language: str) -> str:
    """The text in ``language``, else in the survey's default language."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    return text.get(language) or text.get(default_language) or next(iter(text.values()), "")


@dataclass(frozen=True, slots=True)
class ChoiceOption:
    value: str
    label: LocalizedText
    is_other: bool = False


@dataclass(frozen=True, slots=True)
class CompiledQuestion:
    """One question with everything the engine looks up on each step."""

    definition: Question
    section: Section
    section_index: int
    index: int
    relevant: Expression | None
    constraint: Expression | None
    options: tuple[ChoiceOption, ...]
    pattern: re.Pattern[str] | None
    option_values: frozenset[str] = field(default=frozenset())

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def type(self) -> QuestionType:
        return self.definition.type

    @property
    def answerable(self) -> bool:
        return self.definition.type is not QuestionType.NOTE

    @property
    def required(self) -> bool:
        return self.definition.required and self.answerable

    @property
    def has_other(self) -> bool:
        return self.definition.other is not None

    @property
    def max_length(self) -> int:
        return self.definition.max_length or DEFAULT_MAX_LENGTH.get(self.definition.type, 500)

    @property
    def minimum(self) -> Decimal | None:
        return self.definition.min

    @property
    def maximum(self) -> Decimal | None:
        return self.definition.max

    @property
    def accept(self) -> frozenset[str]:
        return frozenset(ext.lower().lstrip(".") for ext in self.definition.accept or ())

    @property
    def max_size_bytes(self) -> int:
        return int((self.definition.max_size_mb or DEFAULT_MAX_SIZE_MB) * 1024 * 1024)

    def option(self, value: str) -> ChoiceOption | None:
        for option in self.options:
            if option.value == value:
                return option
        return None


@dataclass(frozen=True, slots=True)
class Survey:
    """A loaded, validated and compiled survey."""

    definition: SurveyDefinition
    content_hash: str
    source: str
    questions: tuple[CompiledQuestion, ...]
    by_id: dict[str, CompiledQuestion]

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def version(self) -> str:
        return self.definition.version

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.definition.languages)

    @property
    def default_language(self) -> str:
        return self.definition.languages[0]

    @property
    def sections(self) -> tuple[Section, ...]:
        return tuple(self.definition.sections)

    @property
    def answerable_questions(self) -> tuple[CompiledQuestion, ...]:
        return tuple(question for question in self.questions if question.answerable)

    def text(self, text: LocalizedText | None, language: str) -> str:
        return localize(text, language, self.default_language)

    def language_for(self, requested: str | None) -> str:
        """The survey language closest to ``requested`` (``zh-hans`` → ``zh``)."""
        if requested:
            base = requested.lower().replace("_", "-").split("-")[0]
            for language in self.languages:
                if language == requested or language.split("-")[0] == base:
                    return language
            if "en" in self.languages:
                return "en"
        return self.default_language


def compile_question(
    question: Question,
    *,
    section: Section,
    section_index: int,
    index: int,
    relevant: Expression | None,
    constraint: Expression | None,
) -> CompiledQuestion:
    options: list[ChoiceOption] = [
        ChoiceOption(value=choice.value, label=choice.label) for choice in question.choices or ()
    ]
    if question.other is not None:
        other = ChoiceOption(value=OTHER_VALUE, label=question.other.label, is_other=True)
        position = next(
            (i for i, option in enumerate(options) if option.value == question.other.before),
            len(options),
        )
        options.insert(position, other)
    return CompiledQuestion(
        definition=question,
        section=section,
        section_index=section_index,
        index=index,
        relevant=relevant,
        constraint=constraint,
        options=tuple(options),
        option_values=frozenset(option.value for option in options),
        pattern=re.compile(question.pattern) if question.pattern else None,
    )
