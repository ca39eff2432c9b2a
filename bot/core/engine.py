"""The conversation engine: survey + state + action → new state + events.

Pure and synchronous: no I/O, no clock (``today`` comes from the caller's
clock), no channel or database imports (a test enforces it). Every channel
(terminal, Telegram, WeCom, web chat) drives the same two functions::

    step = start(survey, language="zh", today=today)
    step = resume(survey, step.state, AnswerText("12"), today=today)

A campaign linked to last period's passes the unit's submitted answers of then
as ``previous`` (:class:`~bot.core.previous.PreviousAnswers`): prompts offer
them (``Prompt.previous_display``, the :class:`~bot.core.actions.UsePrevious`
action) and expressions read them as ``${previous:ID}``.

An invalid answer is an expected outcome: the step carries a
:class:`~bot.core.events.Rejected` event and the state it was given, unchanged.

Relevance is evaluated in question order after every change, so a question
whose ``relevant`` depends on an earlier non-relevant question is itself
judged on an empty value, as in XLSForm.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from bot.core import answers as parsing
from bot.core.actions import (
    Action,
    AnswerText,
    Back,
    ChooseOption,
    ClearDraft,
    EditText,
    Finish,
    GoTo,
    Pause,
    Resume,
    SetLanguage,
    ShowReview,
    Skip,
    Submit,
    ToggleOption,
    Unsupported,
    Upload,
    UsePrevious,
)
from bot.core.catalog import translate
from bot.core.definition import OTHER_VALUE, QuestionType
from bot.core.events import (
    AnswerChanged,
    DraftUpdated,
    Event,
    Intro,
    NoteShown,
    Paused,
    Prompt,
    PromptChoice,
    Rejected,
    RejectionCode,
    ReviewItem,
    ReviewSection,
    ReviewShown,
    Submitted,
)
from bot.core.file_content import fits_extension
from bot.core.previous import NO_PREVIOUS, PreviousAnswers, fill_hint, previous_key
from bot.core.state import SessionState, SessionStatus, StateError
from bot.core.survey import CompiledQuestion, LocalizedQuestion, Survey

logger = logging.getLogger(__name__)

#: The longest name accepted for an "other (name)" choice.
MAX_OTHER_LENGTH = 200
#: How many choice lists are kept per question and language (a multiple choice has 2^n).
_CHOICES_CACHE_SIZE = 256


@dataclass(frozen=True, slots=True)
class Step:
    """The outcome of one action: the new state and what to show or store."""

    state: SessionState
    events: tuple[Event, ...]

    @property
    def rejected(self) -> bool:
        return any(isinstance(event, Rejected) for event in self.events)


class _Rejection(Exception):
    """Raised inside a step to abandon it; :func:`resume` turns it into a Rejected event."""

    def __init__(self, code: RejectionCode, reason: str, *, reprompt: bool = False) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.reprompt = reprompt


def start(
    survey: Survey, *, today: date, language: str | None = None, previous: PreviousAnswers = NO_PREVIOUS
) -> Step:
    """Begin a response: the introduction, any opening notes, and the first question."""
    state = SessionState(
        survey_id=survey.id,
        survey_version=survey.version,
        language=survey.language_for(language),
    )
    walk = _Walk(survey, state, today, previous)
    if survey.definition.intro is not None:
        walk.emit(Intro(text=survey.text(survey.definition.intro, state.language)))
    walk.advance(after_index=-1)
    return walk.step()


def resume(
    survey: Survey, state: SessionState, action: Action, *, today: date, previous: PreviousAnswers = NO_PREVIOUS
) -> Step:
    """Apply one action to ``state``; ``state`` itself is never modified."""
    _check_state(survey, state)
    walk = _Walk(survey, state.copy(), today, previous)
    handler = _HANDLERS.get(type(action))
    if handler is None:
        raise TypeError(f"unknown action {action!r}")
    try:
        handler(walk, action)
    except _Rejection as rejection:
        return Step(state=state, events=_rejected(survey, state, rejection, today=walk.today, previous=previous))
    return walk.step()


def _rejected(
    survey: Survey, state: SessionState, rejection: _Rejection, *, today: date, previous: PreviousAnswers
) -> tuple[Event, ...]:
    """The events of a rejected action: the reason, with the way forward from the unchanged ``state``."""
    current = (
        survey.by_id[state.current] if state.status is SessionStatus.ANSWERING and state.current is not None else None
    )
    if current is None:
        review = _Walk(survey, state, today, previous)  # only reads the state
        return (Rejected(code=rejection.code, reason=rejection.reason, can_submit=review.can_submit()),)
    retry = _Walk(survey, state.copy(), today, previous)
    retry.prompt(current, repeated=True)
    [prompt] = retry.events
    assert isinstance(prompt, Prompt)
    if rejection.reprompt:
        return Rejected(code=rejection.code, reason=rejection.reason, question_id=current.id), prompt
    return (Rejected(code=rejection.code, reason=rejection.reason, question_id=current.id, prompt=prompt),)


def submitted_values(survey: Survey, state: SessionState, *, today: date) -> tuple[dict[str, Any], dict[str, str]]:
    """The answers and "other" texts of the relevant questions only."""
    return relevant_answers(survey, state.answers, state.others, today=today)


def relevant_answers(
    survey: Survey, answers: dict[str, Any], others: dict[str, str], *, today: date
) -> tuple[dict[str, Any], dict[str, str]]:
    """Keep only the answers (and "other" texts) of questions that are relevant given ``answers``.

    Exports use it on stored answers: a question made non-relevant by a later
    change keeps its stored answer, but it is not part of the report.
    """
    relevant = _relevance(survey, answers, today)
    values = {
        question.id: answers[question.id]
        for question in survey.questions
        if question.answerable and relevant[question.id] and question.id in answers
    }
    kept_others = {key: text for key, text in others.items() if key in values}
    return values, kept_others


def progress(survey: Survey, state: SessionState, *, today: date) -> tuple[int, int]:
    """How many relevant questions are answered, and how many there are."""
    relevant = _relevance(survey, state.answers, today)
    numbered = [q for q in survey.questions if q.answerable and relevant[q.id]]
    return sum(1 for q in numbered if q.id in state.answers), len(numbered)


def format_answer(survey: Survey, question: CompiledQuestion, value: Any, other: str | None, language: str) -> str:
    """An answer as a person reads it, in ``language``."""
    kind = question.type
    if value is None:
        return _translate(language, "engine.unanswered")
    if kind is QuestionType.YES_NO:
        return _translate(language, "engine.yes_label" if value == parsing.YES else "engine.no_label")
    if kind in (QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE):
        chosen = value if isinstance(value, list) else [value]
        option_labels = survey.localized(question, language).option_labels
        labels: list[str] = []
        for item in chosen:
            option = question.option(item)
            label = option_labels[item] if option else str(item)
            if option is not None and option.is_other and other:
                label = _translate(language, "engine.other_answer", label=label, text=other)
            labels.append(label)
        return _translate(language, "engine.list_separator").join(labels)
    if kind is QuestionType.FILE and isinstance(value, dict):
        return _translate(
            language,
            "engine.file_answer",
            name=value.get("name", ""),
            size=parsing.format_size(int(value.get("size", 0))),
        )
    return str(value)


# -- internals ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _template(language: str, key: str) -> str:
    """A catalog entry, unformatted (``translate`` without parameters returns it as is)."""
    return translate(language, key)


def _translate(language: str, key: str, /, **params: object) -> str:
    """:func:`bot.core.catalog.translate`, with the catalog lookups cached."""
    template = _template(language, key)
    return template.format(**params) if params else template


def _check_state(survey: Survey, state: SessionState) -> None:
    if state.survey_id != survey.id:
        raise StateError(f"state belongs to survey {state.survey_id!r}, not {survey.id!r}")
    if state.current is not None and state.current not in survey.by_id:
        raise StateError(f"state's current question {state.current!r} is not in survey {survey.id!r}")


def _relevance(survey: Survey, answers: dict[str, Any], today: date) -> dict[str, bool]:
    """Which questions are relevant, judged in order; non-relevant answers read as empty.

    Only the survey's relevance plan is walked: the questions with a ``relevant``
    expression and those such an expression reads. Every other question is relevant.
    """
    relevant = dict(survey.all_relevant)
    values: dict[str, Any] = {}
    for question, is_read in survey.relevance_plan:
        expression = question.relevant
        if expression is not None and not expression.test(values, today=today):
            relevant[question.id] = False
        elif is_read:
            value = answers.get(question.id)
            if value is not None:
                values[question.id] = parsing.to_expression_value(question.type, value)
    return relevant


#: How many relevance judgements a survey keeps, and review items a question keeps.
_RELEVANCE_CACHE_SIZE = 1024
_REVIEW_CACHE_SIZE = 64


def _judged(
    survey: Survey, answers: dict[str, Any], today: date
) -> tuple[dict[str, bool], tuple[CompiledQuestion, ...]]:
    """The relevance of every question and the numbered (relevant, answerable) questions.

    Relevance is a function of the day and of the answers that ``relevant``
    expressions read, so it is computed once per combination and kept on the
    survey. The result is shared: do not modify it.
    """
    key: list[object] | None = [today]
    for question_id in survey.relevance_reads:
        value = answers.get(question_id)
        kind = type(value)
        if kind is list:
            value = tuple(cast("list[object]", value))
        elif kind is dict:
            key = None  # a file's metadata: not worth a key
            break
        key.append(kind)  # type: ignore[union-attr]
        key.append(value)  # type: ignore[union-attr]
    cache = survey.relevance_cache
    frozen_key: tuple[object, ...] | None = tuple(key) if key is not None else None
    if frozen_key is not None:
        try:
            found = cache.get(frozen_key)
        except TypeError:  # an unhashable value in a hand-made state
            frozen_key, found = None, None
        if found is not None:
            return found  # type: ignore[return-value]
    relevant = _relevance(survey, answers, today)
    judged = (relevant, tuple(q for q in survey.answerable_questions if relevant[q.id]))
    if frozen_key is not None:
        if len(cache) >= _RELEVANCE_CACHE_SIZE:
            cache.clear()
        cache[frozen_key] = judged
    return judged


class _Walk:
    """One step in progress: a mutable copy of the state and the events so far."""

    __slots__ = ("survey", "state", "today", "previous", "events", "_relevant", "_numbered")

    def __init__(self, survey: Survey, state: SessionState, today: date, previous: PreviousAnswers = NO_PREVIOUS) -> None:
        self.survey = survey
        self.state = state
        self.today = today
        self.previous = previous
        self.events: list[Event] = []
        self._relevant: dict[str, bool] | None = None
        self._numbered: tuple[CompiledQuestion, ...] | None = None

    # -- helpers ------------------------------------------------------------------------

    def step(self) -> Step:
        return Step(state=self.state, events=tuple(self.events))

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def text(self, key: str, **params: object) -> str:
        return _translate(self.state.language, key, **params)

    def reject(self, code: RejectionCode, key: str, *, reprompt: bool = False, **params: object) -> _Rejection:
        return _Rejection(code, self.text(key, **params), reprompt=reprompt)

    @property
    def relevant(self) -> dict[str, bool]:
        """Question id → relevant, for the current answers (shared: do not modify)."""
        if self._relevant is None:
            self._relevant, self._numbered = _judged(self.survey, self.state.answers, self.today)
        return self._relevant

    def forget_relevance(self) -> None:
        """The answers changed: judge relevance again when next asked."""
        self._relevant = None
        self._numbered = None

    def numbered(self) -> tuple[CompiledQuestion, ...]:
        """The relevant questions that take an answer, numbered from 1 in this order."""
        if self._numbered is None:
            self._relevant, self._numbered = _judged(self.survey, self.state.answers, self.today)
        return self._numbered

    def current_question(self, *, required: bool = True) -> CompiledQuestion | None:
        if self.state.status is not SessionStatus.ANSWERING or self.state.current is None:
            if required:
                raise self.reject(RejectionCode.NOT_NOW, "engine.not_now")
            return None
        return self.survey.by_id[self.state.current]

    def check_button(self, question_id: str | None) -> CompiledQuestion:
        """The current question, if a button made for ``question_id`` may act on it."""
        current = self.current_question(required=False)
        if current is None or (question_id is not None and question_id != current.id):
            raise self.reject(RejectionCode.STALE, "engine.stale_button")
        return current

    def expectation(self, question: CompiledQuestion) -> str:
        accept = "/".join(sorted(question.accept)) or "pdf/jpg/png"
        return self.text(
            f"expect.{question.type.value}",
            accept=accept,
            max_size=f"{question.max_size_bytes / 1024 / 1024:g}",
        )

    # -- moving through the survey ------------------------------------------------------

    def advance(self, *, after_index: int) -> None:
        """Ask the next question after ``after_index``, or show the review."""
        state = self.state
        state.selection = None
        state.awaiting_other = False
        relevant = self.relevant
        for question in self.survey.questions[after_index + 1 :]:
            if not relevant[question.id]:
                continue
            if not question.answerable:
                if not state.return_to_review:
                    texts = self.survey.localized(question, state.language)
                    self.emit(
                        NoteShown(
                            question_id=question.id,
                            section_title=texts.section_title,
                            text=texts.label,
                            hint=texts.hint,
                        )
                    )
                continue
            if state.return_to_review and (question.id in state.answers or question.id in state.skipped):
                continue
            self.prompt(question)
            return
        state.return_to_review = False
        # Back from looking at a submitted answer without changing anything: still submitted.
        unchanged = state.revision > 0 and not state.changed_since_submit
        self.show_review(status=SessionStatus.SUBMITTED if unchanged else SessionStatus.REVIEWING)

    def prompt(self, question: CompiledQuestion, *, repeated: bool = False) -> None:
        state = self.state
        language = state.language
        if state.current != question.id:
            state.selection = None
            state.awaiting_other = False
        state.status = SessionStatus.ANSWERING
        state.current = question.id
        answer = state.answers.get(question.id)
        if question.type is QuestionType.SELECT_MULTIPLE and state.selection is None:
            state.selection = list(answer) if isinstance(answer, list) else []
        numbered = self.numbered()
        position = next((i for i, q in enumerate(numbered, start=1) if q is question), 0)
        total = len(numbered)
        if not position:
            # Asked although no longer relevant (a `relevant` on today() changed since the
            # question was reached): count it in rather than fail.
            position = 1 + sum(1 for q in numbered if q.index < question.index)
            total += 1
        texts = self.survey.localized(question, language)
        kind = question.type
        previous_display: str | None = None
        if self.previous and not state.awaiting_other:
            offered = self.previous.offered(question, today=self.today)
            if offered is not None:
                previous_display = format_answer(
                    self.survey, question, offered, self.previous.others.get(question.id), language
                )
        self.emit(
            Prompt(
                question_id=question.id,
                kind=kind,
                section_title=texts.section_title,
                label=texts.label,
                hint=fill_hint(texts.hint, self.previous_display),
                position=position,
                total=total,
                required=question.required,
                can_skip=not question.required or answer is not None,
                can_back=position > 1,
                choices=self.choices(question),
                current_display=(
                    format_answer(self.survey, question, answer, state.others.get(question.id), language)
                    if answer is not None
                    else None
                ),
                draft_length=self.draft_length(question.id) if question.id in state.drafts else 0,
                max_length=question.max_length if kind is QuestionType.TEXT or kind is QuestionType.LONG_TEXT else None,
                min_selected=self.min_selected(question) if kind is QuestionType.SELECT_MULTIPLE else None,
                max_selected=question.definition.max_selected,
                awaiting_other=state.awaiting_other,
                other_label=texts.other_label if state.awaiting_other else "",
                accept=question.accept_sorted,
                max_size_mb=question.max_size_bytes / 1024 / 1024 if kind is QuestionType.FILE else None,
                repeated=repeated,
                previous_display=previous_display,
            )
        )

    def previous_display(self, question_id: str) -> str:
        """Last period's answer to ``question_id`` as a hint shows it ('' when there is none)."""
        question = self.survey.by_id.get(question_id)
        value = self.previous.value(question, today=self.today) if question is not None else None
        if question is None or value is None:
            return ""
        return format_answer(self.survey, question, value, self.previous.others.get(question_id), self.state.language)

    def choices(self, question: CompiledQuestion) -> tuple[PromptChoice, ...]:
        kind = question.type
        state = self.state
        selected: Any
        if kind is QuestionType.YES_NO or kind is QuestionType.SELECT_ONE:
            selected = state.answers.get(question.id)
        elif kind is QuestionType.SELECT_MULTIPLE:
            selected = state.selection or ()
        else:
            return ()
        cache = self.survey.localized(question, state.language).choices
        try:
            key = frozenset(selected) if kind is QuestionType.SELECT_MULTIPLE else selected
            return cache[key]  # type: ignore[return-value]
        except KeyError:
            pass
        except TypeError:  # an unhashable value in a hand-made state: build, do not cache
            return self.build_choices(question, selected)
        built = self.build_choices(question, selected)
        if len(cache) < _CHOICES_CACHE_SIZE:
            cache[key] = built
        return built

    def build_choices(self, question: CompiledQuestion, selected: Any) -> tuple[PromptChoice, ...]:
        """The choices of ``question``, ``selected`` being its answer or (multiple choice) selection."""
        if question.type is QuestionType.YES_NO:
            return (
                PromptChoice(parsing.YES, self.text("engine.yes_label"), selected=selected == parsing.YES),
                PromptChoice(parsing.NO, self.text("engine.no_label"), selected=selected == parsing.NO),
            )
        chosen = set(selected) if question.type is QuestionType.SELECT_MULTIPLE else {selected}
        labels = self.survey.localized(question, self.state.language).option_labels
        return tuple(
            PromptChoice(
                value=option.value,
                label=labels[option.value],
                selected=option.value in chosen,
                is_other=option.is_other,
            )
            for option in question.options
        )

    def other_label(self, question: CompiledQuestion) -> str:
        return self.survey.localized(question, self.state.language).other_label

    def min_selected(self, question: CompiledQuestion) -> int:
        minimum = question.definition.min_selected
        if minimum is None:
            return 1 if question.required else 0
        return minimum

    def draft_updated(self, question: CompiledQuestion, *, length: int, parts: int) -> DraftUpdated:
        answered = question.id in self.state.answers
        return DraftUpdated(
            question_id=question.id,
            length=length,
            max_length=question.max_length,
            parts=parts,
            can_skip=answered or not question.required,
            answered=answered,
        )

    def draft_parts(self, question_id: str) -> list[list[str]]:
        return self.state.drafts.get(question_id, [])

    def draft_length(self, question_id: str) -> int:
        return len(_join_draft(self.draft_parts(question_id)))

    def show_review(self, *, status: SessionStatus | None = None) -> None:
        state = self.state
        if status is not None:
            state.status = status
            state.current = None
            state.selection = None
            state.awaiting_other = False
        language = state.language
        sections: list[ReviewSection] = []
        missing: list[int] = []
        items: list[ReviewItem] = []
        section_index = -1
        section_title = ""
        localized = self.survey.localized
        for number, question in enumerate(self.numbered(), start=1):
            texts = localized(question, language)
            if question.section_index != section_index:
                if items:
                    sections.append(ReviewSection(title=section_title, items=tuple(items)))
                items = []
                section_index = question.section_index
                section_title = texts.section_title
            answer = state.answers.get(question.id)
            if answer is None and question.required:
                missing.append(number)
            items.append(self.review_item(question, texts, number, answer))
        if items:
            sections.append(ReviewSection(title=section_title, items=tuple(items)))
        submitted = state.status is SessionStatus.SUBMITTED
        self.emit(
            ReviewShown(
                sections=tuple(sections),
                missing=tuple(missing),
                revision=state.revision,
                submitted=submitted,
                can_submit=not missing and self.unsubmitted_changes(),
            )
        )

    def unsubmitted_changes(self) -> bool:
        """Not submitted, or changed since the last submission."""
        state = self.state
        return state.status is not SessionStatus.SUBMITTED and (state.revision == 0 or state.changed_since_submit)

    def can_submit(self) -> bool:
        """Submitting now is possible: every required question answered, and something new to submit."""
        if not self.unsubmitted_changes():
            return False
        answers = self.state.answers
        return all(question.id in answers for question in self.numbered() if question.required)

    def review_item(self, question: CompiledQuestion, texts: LocalizedQuestion, number: int, answer: Any) -> ReviewItem:
        """Question ``number`` and its answer as the review lists it.

        Items are immutable and depend only on the question, the language, the number and
        the answer, so they are kept on the question's texts and reused.
        """
        state = self.state
        other = state.others.get(question.id)
        skipped = answer is None and question.id in state.skipped
        cache = texts.review_items
        key: tuple[object, ...] | None
        try:
            key = (number, type(answer), tuple(answer) if type(answer) is list else answer, other, skipped)
            item = cache.get(key)
        except TypeError:  # a file's metadata (a dict): build it every time
            key, item = None, None
        if item is None:
            if answer is None:
                display = self.text("engine.skipped" if skipped else "engine.unanswered")
            else:
                display = format_answer(self.survey, question, answer, other, state.language)
            item = ReviewItem(
                number=number, question_id=question.id, label=texts.label, display=display, answered=answer is not None
            )
            if key is not None:
                if len(cache) >= _REVIEW_CACHE_SIZE:
                    cache.clear()
                cache[key] = item
        return item  # type: ignore[return-value]

    # -- storing an answer --------------------------------------------------------------

    def accept(self, question: CompiledQuestion, value: Any, *, other: str | None = None) -> None:
        """Check the constraint, store the answer and move on."""
        self.check_constraint(question, value)
        state = self.state
        old_value = state.answers.get(question.id)
        old_other = state.others.get(question.id)
        if value is None:
            state.answers.pop(question.id, None)
        else:
            state.answers[question.id] = value
        self.forget_relevance()  # the only place answers change
        if other is None:
            state.others.pop(question.id, None)
        else:
            state.others[question.id] = other
        if question.id in state.skipped and value is not None:
            state.skipped.remove(question.id)
        state.drafts.pop(question.id, None)
        if old_value != value or old_other != other:
            state.changed_since_submit = state.revision > 0
            self.emit(
                AnswerChanged(
                    question_id=question.id,
                    old_value=old_value,
                    new_value=value,
                    old_other=old_other,
                    new_other=other,
                )
            )
        self.advance(after_index=question.index)

    def check_constraint(self, question: CompiledQuestion, value: Any) -> None:
        expression = question.constraint
        if expression is None or value is None:
            return
        survey = self.survey
        answers = self.state.answers
        question_id = question.id
        if question_id in survey.relevance_reads and answers.get(question_id) is not value:
            # The new value may change what is relevant: judge it with the value in place.
            candidate = dict(answers)
            candidate[question_id] = value
            relevant = _judged(survey, candidate, self.today)[0]
        else:
            relevant = self.relevant
        by_id = survey.by_id
        # An expression reads nothing but the questions it refers to.
        values: dict[str, Any] = {}
        for reference in question.constraint_references:
            stored = value if reference == question_id else answers.get(reference)
            if stored is not None and relevant[reference]:
                values[reference] = parsing.to_expression_value(by_id[reference].type, stored)
        for reference in question.constraint_previous_references:
            earlier = self.previous.value(by_id[reference], today=self.today) if self.previous else None
            if earlier is not None:
                values[previous_key(reference)] = parsing.to_expression_value(by_id[reference].type, earlier)
        dot = parsing.to_expression_value(question.type, value)
        if not expression.test(values, dot=dot, today=self.today):
            message = question.definition.constraint_message
            if message is not None:
                raise _Rejection(RejectionCode.CONSTRAINT, self.survey.text(message, self.state.language))
            raise self.reject(RejectionCode.CONSTRAINT, "engine.constraint_failed")

    def parse_typed(self, question: CompiledQuestion, text: str) -> Any:
        """A typed answer to a question that is not a choice, long text or file."""
        kind = question.type
        outcome: parsing.ParseOutcome
        if kind is QuestionType.INTEGER:
            outcome = parsing.parse_integer(text, low=question.minimum, high=question.maximum)
        elif kind is QuestionType.DECIMAL:
            outcome = parsing.parse_decimal(text, low=question.minimum, high=question.maximum)
        elif kind is QuestionType.YES_NO:
            outcome = parsing.parse_yes_no(text)
        elif kind is QuestionType.DATE:
            outcome = parsing.parse_date(text, today=self.today)
        elif kind is QuestionType.PHONE:
            outcome = parsing.parse_phone(text)
        elif kind is QuestionType.EMAIL:
            outcome = parsing.parse_email(text)
        else:
            outcome = parsing.parse_text(text, max_length=question.max_length, pattern=question.pattern)
        if isinstance(outcome, parsing.Invalid):
            if outcome.key == "pattern" and question.definition.pattern_message is not None:
                raise _Rejection(
                    RejectionCode.INVALID,
                    self.survey.text(question.definition.pattern_message, self.state.language),
                )
            raise _Rejection(RejectionCode.INVALID, self.text(f"answer.{outcome.key}", **outcome.params))
        return outcome.value

    def options_from_numbers(self, question: CompiledQuestion, text: str) -> list[str] | None:
        """Choice values from typed numbers ("2", "1,3") or a typed label; ``None`` if neither."""
        cleaned = parsing.normalize(text)
        options = question.options
        for option in options:
            if cleaned.casefold() in {
                self.survey.text(option.label, self.state.language).casefold(),
                option.value.casefold(),
            }:
                return [option.value]
        tokens = [token for token in cleaned.replace("、", ",").replace("，", ",").replace(" ", ",").split(",") if token]
        # ASCII digits only: str.isdigit() also accepts characters int() refuses (𐩀, ²).
        if not tokens or not all(token.isascii() and token.isdigit() and len(token) <= 9 for token in tokens):
            return None
        numbers = [int(token) for token in tokens]
        if any(not 1 <= number <= len(options) for number in numbers):
            return None
        values = [options[number - 1].value for number in numbers]
        return sorted(set(values), key=[o.value for o in options].index)

    def checked_selection(self, question: CompiledQuestion, selection: list[str]) -> list[str]:
        """``selection`` in the order of the choices, if its size is allowed."""
        minimum = self.min_selected(question)
        maximum = question.definition.max_selected
        if len(selection) < minimum:
            if not selection and question.required:
                raise self.reject(RejectionCode.REQUIRED, "engine.required")
            raise self.reject(RejectionCode.SELECTION, "engine.select_min", min=minimum)
        if maximum is not None and len(selection) > maximum:
            raise self.reject(RejectionCode.SELECTION, "engine.select_max", max=maximum)
        return [option.value for option in question.options if option.value in selection]

    def finish_selection(self, question: CompiledQuestion, selection: list[str]) -> None:
        ordered = self.checked_selection(question, selection)
        if not ordered:
            self.skip_unanswered(question)
            return
        if OTHER_VALUE in ordered:
            previous = self.state.answers.get(question.id)
            had_other = isinstance(previous, list) and OTHER_VALUE in previous
            other = self.state.others.get(question.id)
            if not (had_other and other):
                self.state.selection = ordered
                self.state.awaiting_other = True
                self.prompt(question)
                return
            self.accept(question, ordered, other=other)
            return
        self.accept(question, ordered)

    def skip_unanswered(self, question: CompiledQuestion) -> None:
        state = self.state
        if question.id in state.answers:
            # Clearing an optional answer skips the question: it is not asked again on the
            # way back to the review, and the review says "skipped".
            if question.id not in state.skipped:
                state.skipped.append(question.id)
            self.accept(question, None)
            return
        if question.id not in state.skipped:
            state.skipped.append(question.id)
        state.drafts.pop(question.id, None)
        self.advance(after_index=question.index)


def _join_draft(parts: list[list[str]]) -> str:
    return "\n".join(text for _, text in parts)


# -- action handlers ----------------------------------------------------------------------


def _answer_text(walk: _Walk, action: AnswerText) -> None:
    state = walk.state
    if action.question_id is not None:
        walk.check_button(action.question_id)  # made for a question that is no longer current: refused as stale
        if state.awaiting_other:
            # A card's choice numbers while the "other" name is awaited: a new choice, never the name.
            state.awaiting_other = False
            state.selection = None
    if state.status is not SessionStatus.ANSWERING:
        number = parsing.parse_number(action.text)
        if number is not None and number == number.to_integral_value():
            _go_to(walk, GoTo(number=int(number)))
            return
        raise walk.reject(RejectionCode.NOT_NOW, "engine.review_hint")
    question = walk.current_question()
    assert question is not None
    kind = question.type
    if state.awaiting_other:
        name = action.text.strip()
        if not name:
            raise walk.reject(RejectionCode.INVALID, "answer.other_empty", label=walk.other_label(question))
        if len(name) > MAX_OTHER_LENGTH:
            raise walk.reject(RejectionCode.INVALID, "answer.too_long", max=MAX_OTHER_LENGTH, length=len(name))
        value: Any = OTHER_VALUE
        if kind is QuestionType.SELECT_MULTIPLE:
            # The selection may have changed while the name was awaited: check it again.
            value = walk.checked_selection(question, list(state.selection or [OTHER_VALUE]))
        walk.accept(question, value, other=name)
        return
    if kind is QuestionType.LONG_TEXT:
        _append_draft(walk, question, action)
        return
    if kind is QuestionType.FILE:
        raise walk.reject(RejectionCode.WRONG_INPUT, "engine.wrong_input", expect=walk.expectation(question))
    if kind in (QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE):
        values = walk.options_from_numbers(question, action.text)
        if values is None or (kind is QuestionType.SELECT_ONE and len(values) != 1):
            key = "answer.choice" if kind is QuestionType.SELECT_ONE else "answer.choices"
            raise walk.reject(RejectionCode.INVALID, key, count=len(question.options))
        if kind is QuestionType.SELECT_ONE:
            _choose(walk, question, values[0])
        else:
            walk.finish_selection(question, values)
        return
    if kind is QuestionType.YES_NO:
        # Channels that number the choices (the terminal) show 1) yes 2) no.
        numbered = {"1": parsing.YES, "2": parsing.NO}.get(parsing.normalize(action.text))
        if numbered is not None:
            walk.accept(question, numbered)
            return
    walk.accept(question, walk.parse_typed(question, action.text))


def _append_draft(walk: _Walk, question: CompiledQuestion, action: AnswerText) -> None:
    text = action.text.strip()
    if not text:
        raise walk.reject(RejectionCode.INVALID, "answer.empty")
    parts = [list(part) for part in walk.draft_parts(question.id)]
    parts.append([action.part_id or "", text])
    length = len(_join_draft(parts))
    if length > question.max_length:
        raise walk.reject(RejectionCode.DRAFT_TOO_LONG, "engine.draft_too_long", length=length, max=question.max_length)
    walk.state.drafts[question.id] = parts
    walk.emit(walk.draft_updated(question, length=length, parts=len(parts)))


def _edit_text(walk: _Walk, action: EditText) -> None:
    question = walk.current_question(required=False)
    if question is not None and question.type is QuestionType.LONG_TEXT:
        parts = [list(part) for part in walk.draft_parts(question.id)]
        for part in parts:
            if part[0] == action.part_id:
                part[1] = action.text.strip()
                parts = [p for p in parts if p[1]]
                length = len(_join_draft(parts))
                if length > question.max_length:
                    raise walk.reject(
                        RejectionCode.DRAFT_TOO_LONG, "engine.draft_too_long", length=length, max=question.max_length
                    )
                walk.state.drafts[question.id] = parts
                walk.emit(walk.draft_updated(question, length=length, parts=len(parts)))
                return
    raise walk.reject(RejectionCode.NOT_NOW, "engine.edit_ignored")


def _choose(walk: _Walk, question: CompiledQuestion, value: str) -> None:
    if value == OTHER_VALUE and question.has_other:
        walk.state.awaiting_other = True
        walk.prompt(question)
        return
    walk.accept(question, value)


def _option_value(question: CompiledQuestion, value: str) -> str:
    """A choice value; ``#i`` names the i-th option (buttons use it to stay short)."""
    if value.startswith("#") and value[1:].isdigit():
        index = int(value[1:])
        if index < len(question.options):
            return question.options[index].value
    return value


def _choose_option(walk: _Walk, action: ChooseOption) -> None:
    question = walk.check_button(action.question_id)
    kind = question.type
    action = ChooseOption(value=_option_value(question, action.value), question_id=action.question_id)
    if kind is QuestionType.YES_NO and action.value in (parsing.YES, parsing.NO):
        walk.accept(question, action.value)
    elif kind is QuestionType.SELECT_ONE and action.value in question.option_values:
        walk.state.awaiting_other = False
        _choose(walk, question, action.value)
    elif kind is QuestionType.SELECT_MULTIPLE and action.value in question.option_values:
        _toggle_option(walk, ToggleOption(value=action.value, question_id=action.question_id))
    else:
        raise walk.reject(RejectionCode.STALE, "engine.stale_button")


def _toggle_option(walk: _Walk, action: ToggleOption) -> None:
    question = walk.check_button(action.question_id)
    action = ToggleOption(value=_option_value(question, action.value), question_id=action.question_id)
    if question.type is not QuestionType.SELECT_MULTIPLE or action.value not in question.option_values:
        raise walk.reject(RejectionCode.STALE, "engine.stale_button")
    state = walk.state
    selection = list(state.selection or [])
    if action.value in selection:
        selection.remove(action.value)
        if action.value == OTHER_VALUE:
            state.awaiting_other = False
    else:
        maximum = question.definition.max_selected
        if maximum is not None and len(selection) >= maximum:
            raise walk.reject(RejectionCode.SELECTION, "engine.select_max", max=maximum)
        selection.append(action.value)
    state.selection = selection
    walk.prompt(question)


def _finish(walk: _Walk, action: Finish) -> None:
    question = walk.check_button(action.question_id)
    state = walk.state
    if question.type is QuestionType.SELECT_MULTIPLE:
        walk.finish_selection(question, list(state.selection or []))
    elif question.type is QuestionType.LONG_TEXT:
        text = _join_draft(walk.draft_parts(question.id))
        if not text:
            if question.id in state.answers:
                walk.advance(after_index=question.index)
                return
            if question.required:
                raise walk.reject(RejectionCode.REQUIRED, "engine.draft_empty")
            walk.skip_unanswered(question)
            return
        walk.accept(question, text)
    else:
        raise walk.reject(RejectionCode.STALE, "engine.stale_button")


def _clear_draft(walk: _Walk, action: ClearDraft) -> None:
    question = walk.check_button(action.question_id)
    if question.type is not QuestionType.LONG_TEXT:
        raise walk.reject(RejectionCode.STALE, "engine.stale_button")
    walk.state.drafts.pop(question.id, None)
    walk.prompt(question, repeated=True)


def _skip(walk: _Walk, action: Skip) -> None:
    question = walk.check_button(action.question_id)
    if question.id in walk.state.answers:
        walk.state.drafts.pop(question.id, None)
        walk.advance(after_index=question.index)  # keep the current answer
    elif question.required:
        raise walk.reject(RejectionCode.REQUIRED, "engine.required")
    else:
        walk.skip_unanswered(question)


def _use_previous(walk: _Walk, action: UsePrevious) -> None:
    """Answer as last period: the same checks as a typed answer; a long text becomes a draft to finish."""
    question = walk.check_button(action.question_id)
    value = walk.previous.offered(question, today=walk.today)
    if value is None or walk.state.awaiting_other:
        raise walk.reject(RejectionCode.STALE, "engine.stale_button")
    if question.type is QuestionType.LONG_TEXT:
        parts = [["previous", str(value)]]
        walk.state.drafts[question.id] = parts
        walk.emit(walk.draft_updated(question, length=len(_join_draft(parts)), parts=len(parts)))
        return
    if question.type is QuestionType.SELECT_MULTIPLE:
        walk.state.selection = list(value)
    walk.accept(question, value, other=walk.previous.others.get(question.id) if OTHER_VALUE in _as_list(value) else None)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _back(walk: _Walk, action: Back) -> None:
    state = walk.state
    numbered = walk.numbered()
    if state.status is not SessionStatus.ANSWERING:
        if not numbered:
            raise walk.reject(RejectionCode.NOT_NOW, "engine.not_now")
        walk.prompt(numbered[-1])
        return
    question = walk.check_button(action.question_id)
    if state.awaiting_other:
        state.awaiting_other = False
        walk.prompt(question)
        return
    earlier = [q for q in numbered if q.index < question.index]
    if not earlier:
        raise walk.reject(RejectionCode.NOT_NOW, "engine.first_question")
    walk.prompt(earlier[-1])


def _go_to(walk: _Walk, action: GoTo) -> None:
    state = walk.state
    numbered = walk.numbered()
    if not 1 <= action.number <= len(numbered):
        raise walk.reject(RejectionCode.INVALID, "engine.goto_range", total=len(numbered))
    target = numbered[action.number - 1]
    if state.status is SessionStatus.ANSWERING and not state.return_to_review:
        current = walk.current_question()
        assert current is not None
        if target.index > current.index and target.id not in state.answers:
            raise walk.reject(RejectionCode.NOT_NOW, "engine.goto_unanswered")
    # After the change, come back: to the review, or mid-survey to the first
    # question still unanswered (where the respondent was).
    state.return_to_review = True
    walk.prompt(target)


def _show_review(walk: _Walk, action: ShowReview) -> None:
    walk.show_review()


def _submit(walk: _Walk, action: Submit) -> None:
    state = walk.state
    if state.status is SessionStatus.SUBMITTED or (state.revision > 0 and not state.changed_since_submit):
        raise walk.reject(RejectionCode.ALREADY_SUBMITTED, "engine.already_submitted")
    numbered = walk.numbered()
    missing = [str(n) for n, q in enumerate(numbered, start=1) if q.required and q.id not in state.answers]
    if missing:
        raise walk.reject(RejectionCode.INCOMPLETE, "engine.incomplete", numbers=", ".join(missing))
    for question in numbered:
        if question.id in state.answers:
            try:
                walk.check_constraint(question, state.answers[question.id])
            except _Rejection as rejection:
                state.return_to_review = True
                walk.emit(Rejected(code=rejection.code, reason=rejection.reason, question_id=question.id))
                walk.prompt(question)
                return
    state.revision += 1
    state.changed_since_submit = False
    state.status = SessionStatus.SUBMITTED
    state.current = None
    state.selection = None
    state.awaiting_other = False
    state.return_to_review = False
    # As submitted_values(), with the relevance this step already judged.
    values = {question.id: state.answers[question.id] for question in numbered if question.id in state.answers}
    others = {key: text for key, text in state.others.items() if key in values}
    walk.emit(Submitted(revision=state.revision, answers=values, others=others))


def _upload(walk: _Walk, action: Upload) -> None:
    question = walk.current_question()
    assert question is not None
    if question.type is not QuestionType.FILE:
        raise walk.reject(RejectionCode.WRONG_INPUT, "engine.wrong_input", reprompt=True, expect=walk.expectation(question))
    extension = action.name.rsplit(".", 1)[-1].lower() if "." in action.name else ""
    if question.accept and extension not in question.accept:
        raise walk.reject(RejectionCode.INVALID, "engine.file_type", accept="/".join(sorted(question.accept)))
    if action.size == 0 or action.head == b"":
        raise walk.reject(RejectionCode.INVALID, "engine.file_empty")
    if action.head is not None and not fits_extension(extension, action.head):
        accept = "/".join(sorted(question.accept)) or extension or "pdf/jpg/png"
        raise walk.reject(RejectionCode.INVALID, "engine.file_content", name=action.name, accept=accept)
    if action.size > question.max_size_bytes:
        raise walk.reject(
            RejectionCode.INVALID,
            "engine.file_size",
            size=parsing.format_size(action.size),
            max_size=f"{question.max_size_bytes / 1024 / 1024:g}",
        )
    walk.accept(question, {"name": action.name, "size": action.size, "mime": action.mime, "ref": action.ref})


def _unsupported(walk: _Walk, action: Unsupported) -> None:
    question = walk.current_question(required=False)
    if question is None:
        raise walk.reject(RejectionCode.WRONG_INPUT, "engine.review_hint")
    raise walk.reject(RejectionCode.WRONG_INPUT, "engine.wrong_input", reprompt=True, expect=walk.expectation(question))


def _resume(walk: _Walk, action: Resume) -> None:
    state = walk.state
    if state.status is SessionStatus.ANSWERING and state.current is not None:
        question = walk.survey.by_id[state.current]
        if walk.relevant[question.id]:
            walk.prompt(question, repeated=True)
        else:
            walk.advance(after_index=question.index)
        return
    if state.status is SessionStatus.ANSWERING:
        walk.advance(after_index=-1)
        return
    walk.show_review()


def _pause(walk: _Walk, action: Pause) -> None:
    walk.state.awaiting_other = False
    walk.state.selection = None
    walk.emit(Paused())


def _set_language(walk: _Walk, action: SetLanguage) -> None:
    languages = walk.survey.languages
    # Case and region are ignored as in Survey.language_for ("EN", "zh-hans", "zh_CN").
    requested = action.language.strip().lower().replace("_", "-")
    chosen = next((lang for lang in languages if lang.lower() == requested), None) or next(
        (lang for lang in languages if requested and lang.lower().split("-")[0] == requested.split("-")[0]), None
    )
    if chosen is None:
        raise walk.reject(RejectionCode.INVALID, "engine.unknown_language", languages=", ".join(languages))
    walk.state.language = chosen
    _resume(walk, Resume())


_HANDLERS: dict[type, Callable[[_Walk, Any], None]] = {
    AnswerText: _answer_text,
    EditText: _edit_text,
    ChooseOption: _choose_option,
    ToggleOption: _toggle_option,
    Finish: _finish,
    ClearDraft: _clear_draft,
    Skip: _skip,
    UsePrevious: _use_previous,
    Back: _back,
    GoTo: _go_to,
    ShowReview: _show_review,
    Submit: _submit,
    Upload: _upload,
    Unsupported: _unsupported,
    Resume: _resume,
    Pause: _pause,
    SetLanguage: _set_language,
}
