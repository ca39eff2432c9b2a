"""A survey compiled for the engine: questions in order, expressions parsed once.

:class:`Survey` is built by :func:`bot.core.loading.load_survey` from a validated
:class:`~bot.core.definition.SurveyDefinition`. Everything the engine needs on every
step (the question order, lookup by id, the compiled ``relevant`` and
``constraint`` expressions, choice labels) is computed here once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from bot.core.definition import (
    DEFAULT_MAX_LENGTH,
    DEFAULT_MAX_SIZE_MB,
    OTHER_VALUE,
    LocalizedText,
    Question,
    QuestionType,
    Section,
    SurveyDefinition,
)
from bot.core.expressions import Expression

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
class LocalizedQuestion:
    """A question's texts in one language, looked up once and then reused."""

    label: str
    hint: str
    section_title: str
    #: Choice value → label, in the order of the choices.
    option_labels: dict[str, str]
    #: The label of the "other (name)" choice, or ''.
    other_label: str
    #: Prompt choices already built, by what is selected (see ``engine._Walk.choices``).
    #: They are immutable, so prompts share them.
    choices: dict[object, tuple[object, ...]] = field(default_factory=dict, compare=False, repr=False)
    #: Review items already built, by number and answer (see ``engine._Walk.review_item``).
    review_items: dict[object, object] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class CompiledQuestion:
    """One question with everything the engine looks up on each step.

    Everything derived from the definition is computed once by :func:`compile_question`
    and stored as a plain attribute: the engine reads these on every step.
    """

    definition: Question
    section: Section
    section_index: int
    index: int
    relevant: Expression | None
    constraint: Expression | None
    options: tuple[ChoiceOption, ...]
    pattern: re.Pattern[str] | None
    option_values: frozenset[str] = field(default=frozenset())
    id: str = ""
    type: QuestionType = QuestionType.TEXT
    answerable: bool = True
    required: bool = True
    has_other: bool = False
    max_length: int = 500
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    accept: frozenset[str] = field(default=frozenset())
    max_size_bytes: int = 0
    #: The question ids the constraint refers to (what its expression can read).
    constraint_references: tuple[str, ...] = ()
    #: The question ids whose answer of last period the constraint reads (``${previous:ID}``).
    constraint_previous_references: tuple[str, ...] = ()
    #: ``accept`` sorted, as prompts and messages show it.
    accept_sorted: tuple[str, ...] = ()
    #: Language → texts, filled on first use by :meth:`Survey.localized`.
    localized_texts: dict[str, LocalizedQuestion] = field(default_factory=dict, compare=False, repr=False)

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
    # Derived once in __post_init__ (see there).
    id: str = field(init=False)
    version: str = field(init=False)
    languages: tuple[str, ...] = field(init=False)
    default_language: str = field(init=False)
    sections: tuple[Section, ...] = field(init=False)
    answerable_questions: tuple[CompiledQuestion, ...] = field(init=False)
    #: In question order, the questions relevance is computed from: those with a ``relevant``
    #: expression and those such an expression refers to. Every other question is always
    #: relevant and its value is never read by a ``relevant``.
    relevance_plan: tuple[tuple[CompiledQuestion, bool], ...] = field(init=False)
    #: Every question id mapped to True: the relevance of a survey without conditions.
    all_relevant: dict[str, bool] = field(init=False)
    #: The ids of the questions some ``relevant`` expression reads, in order: relevance is a
    #: function of their answers (and of the day) alone.
    relevance_reads: tuple[str, ...] = field(init=False)
    #: Relevance already judged, by the answers it reads (see ``engine._judged``).
    relevance_cache: dict[object, object] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        definition = self.definition
        referenced = {
            reference.question_id
            for question in self.questions
            if question.relevant is not None
            for reference in question.relevant.references
            if not reference.previous
        }
        plan = tuple(
            (question, question.id in referenced)
            for question in self.questions
            if question.relevant is not None or question.id in referenced
        )
        derived = {
            "id": definition.id,
            "version": definition.version,
            "languages": tuple(definition.languages),
            "default_language": definition.languages[0],
            "sections": tuple(definition.sections),
            "answerable_questions": tuple(question for question in self.questions if question.answerable),
            "relevance_plan": plan,
            "all_relevant": dict.fromkeys((question.id for question in self.questions), True),
            "relevance_reads": tuple(question.id for question, is_read in plan if is_read),
            "relevance_cache": {},
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    def text(self, text: LocalizedText | None, language: str) -> str:
        return localize(text, language, self.default_language)

    def localized(self, question: CompiledQuestion, language: str) -> LocalizedQuestion:
        """The texts of ``question`` in ``language`` (cached on the question)."""
        texts = question.localized_texts.get(language)
        if texts is None:
            definition = question.definition
            option_labels = {option.value: self.text(option.label, language) for option in question.options}
            texts = LocalizedQuestion(
                label=self.text(definition.label, language),
                hint=self.text(definition.hint, language),
                section_title=self.text(question.section.title, language),
                option_labels=option_labels,
                other_label=option_labels.get(OTHER_VALUE, "") if question.has_other else "",
            )
            question.localized_texts[language] = texts
        return texts

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
    kind = question.type
    answerable = kind is not QuestionType.NOTE
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
        id=question.id,
        type=kind,
        answerable=answerable,
        required=question.required and answerable,
        has_other=question.other is not None,
        max_length=question.max_length or DEFAULT_MAX_LENGTH.get(kind, 500),
        minimum=question.min,
        maximum=question.max,
        accept=frozenset(ext.lower().lstrip(".") for ext in question.accept or ()),
        accept_sorted=tuple(sorted({ext.lower().lstrip(".") for ext in question.accept or ()})),
        max_size_bytes=int((question.max_size_mb or DEFAULT_MAX_SIZE_MB) * 1024 * 1024),
        constraint_references=tuple(
            dict.fromkeys(r.question_id for r in constraint.references if not r.previous) if constraint else ()
        ),
        constraint_previous_references=tuple(
            dict.fromkeys(r.question_id for r in constraint.references if r.previous) if constraint else ()
        ),
    )
