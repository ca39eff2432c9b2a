"""Last period: the answers a unit submitted in the campaign this one is linked to.

A campaign created with ``--previous`` offers each unit its submitted answers
of the earlier campaign as defaults (沿用上次), and expressions read them as
``${previous:ID}``. The service reads them from storage and hands them to the
engine as a :class:`PreviousAnswers`; the engine never loads anything itself.

A previous value is offered only when it is still a valid answer to the
question as it stands now (same type checks, bounds, choices and length as a
typed answer); anything else is treated as if the unit had not answered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from bot.core import answers as parsing
from bot.core.definition import NOT_PREFILLED_TYPES, OTHER_VALUE, QuestionType
from bot.core.expressions import PREVIOUS_PREFIX
from bot.core.survey import CompiledQuestion, Survey


def previous_key(question_id: str) -> str:
    """The key under which an expression's values hold last period's answer to ``question_id``."""
    return PREVIOUS_PREFIX + question_id


@dataclass(frozen=True, slots=True)
class PreviousAnswers:
    """One unit's submitted answers of last period (``Response.submitted_values``)."""

    answers: Mapping[str, Any] = field(default_factory=dict)
    others: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_submitted(
        cls, values: Mapping[str, Any] | None, *, matched: Collection[str] | None = None
    ) -> PreviousAnswers:
        """From the stored ``{"answers": ..., "others": ...}`` of a submitted response (``None``: none).

        ``matched``: the question ids that carry over (:func:`compare_surveys`); ``None`` keeps all.
        """
        if not values:
            return NO_PREVIOUS
        answers = {
            str(key): value
            for key, value in (values.get("answers") or {}).items()
            if matched is None or key in matched
        }
        others = {str(k): str(v) for k, v in (values.get("others") or {}).items() if k in answers}
        return cls(answers=answers, others=others) if answers else NO_PREVIOUS

    def __bool__(self) -> bool:
        return bool(self.answers)

    def value(self, question: CompiledQuestion, *, today: date) -> Any:
        """Last period's answer to ``question`` if it is a valid answer now, else ``None``."""
        stored = self.answers.get(question.id)
        if stored is None:
            return None
        return compatible_value(question, stored, self.others.get(question.id), today=today)

    def offered(self, question: CompiledQuestion, *, today: date) -> Any:
        """The value offered as the default (沿用上次): ``None`` when the question opts out or has none."""
        definition = question.definition
        if definition.prefill is False or definition.change_of is not None or question.type in NOT_PREFILLED_TYPES:
            return None
        return self.value(question, today=today)


#: No linked campaign, or a unit that did not exist last period.
NO_PREVIOUS = PreviousAnswers()


def compatible_value(question: CompiledQuestion, value: Any, other: str | None, *, today: date) -> Any:
    """``value`` as an answer to ``question`` now, or ``None`` when it no longer fits."""
    kind = question.type
    outcome: parsing.ParseOutcome
    if kind is QuestionType.INTEGER:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return None
        outcome = parsing.parse_integer(str(value), low=question.minimum, high=question.maximum)
    elif kind is QuestionType.DECIMAL:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return None
        outcome = parsing.parse_decimal(str(value), low=question.minimum, high=question.maximum)
    elif kind is QuestionType.YES_NO:
        return value if value in (parsing.YES, parsing.NO) else None
    elif kind is QuestionType.SELECT_ONE:
        if not isinstance(value, str) or value not in question.option_values:
            return None
        return None if value == OTHER_VALUE and not other else value
    elif kind is QuestionType.SELECT_MULTIPLE:
        if not isinstance(value, list) or not value or not set(value) <= question.option_values:
            return None
        if OTHER_VALUE in value and not other:
            return None
        maximum = question.definition.max_selected
        minimum = question.definition.min_selected or 0
        if len(value) < minimum or (maximum is not None and len(value) > maximum):
            return None
        return [option.value for option in question.options if option.value in value]
    elif kind is QuestionType.LONG_TEXT:
        return value if isinstance(value, str) and value.strip() and len(value) <= question.max_length else None
    elif kind is QuestionType.DATE:
        if not isinstance(value, str):
            return None
        outcome = parsing.parse_date(value, today=today)
    elif kind is QuestionType.PHONE:
        outcome = parsing.parse_phone(value) if isinstance(value, str) else parsing.Invalid("phone")
    elif kind is QuestionType.EMAIL:
        outcome = parsing.parse_email(value) if isinstance(value, str) else parsing.Invalid("email")
    elif kind is QuestionType.TEXT:
        if not isinstance(value, str):
            return None
        outcome = parsing.parse_text(value, max_length=question.max_length, pattern=question.pattern)
    else:
        return None
    return outcome.value if isinstance(outcome, parsing.Parsed) else None


#: ``${previous:ID}`` in a question's hint: shown as last period's answer, or as nothing.
HINT_REFERENCE = re.compile(r"\$\{previous:([a-z][a-z0-9_]*)\}")


def hint_references(hint: str) -> list[str]:
    """The question ids a hint shows last period's answer of."""
    return HINT_REFERENCE.findall(hint)


def fill_hint(hint: str, display: Callable[[str], str]) -> str:
    """``hint`` with every ``${previous:ID}`` replaced by ``display(ID)`` ('' when there is none)."""
    if PREVIOUS_PREFIX not in hint:
        return hint
    return HINT_REFERENCE.sub(lambda match: display(match.group(1)), hint)


class MismatchKind(StrEnum):
    """Why a question's answer of last period does not carry over."""

    #: Asked this period only (or last period as a note, which takes no answer).
    NEW = "new"
    #: Asked in both periods, with another type last period.
    TYPE_CHANGED = "type_changed"
    #: Asked last period only.
    DROPPED = "dropped"


@dataclass(frozen=True, slots=True)
class QuestionMismatch:
    """One question without a counterpart (same id and type) in the other period."""

    question_id: str
    kind: MismatchKind
    #: This period's type (last period's for a dropped question).
    type: QuestionType
    #: Last period's type, when it changed.
    earlier_type: QuestionType | None = None

    @property
    def line(self) -> str:
        """The terminal's wording (``surveybot campaign create --previous``)."""
        if self.kind is MismatchKind.NEW:
            return f"question {self.question_id}: new this period; it is asked without a default"
        if self.kind is MismatchKind.TYPE_CHANGED:
            assert self.earlier_type is not None
            return (
                f"question {self.question_id}: {self.type.value} now but {self.earlier_type.value} last period; "
                "it is asked without a default"
            )
        return f"question {self.question_id}: asked last period only; its answers are not carried over"


@dataclass(frozen=True, slots=True)
class SurveyComparison:
    """How this period's survey matches last period's: questions matched by id and type."""

    #: Question ids asked in both periods with the same type: their answers carry over.
    matched: tuple[str, ...]
    #: Each question that does not carry over, in this period's order, then last period's.
    unmatched: tuple[QuestionMismatch, ...]

    @property
    def mismatches(self) -> tuple[str, ...]:
        """One line per question that does not carry over (:attr:`QuestionMismatch.line`)."""
        return tuple(mismatch.line for mismatch in self.unmatched)


def compare_surveys(current: Survey, earlier: Survey) -> SurveyComparison:
    """Which answers of ``earlier`` can be offered in ``current`` (notes take no answer and are left out)."""
    matched: list[str] = []
    unmatched: list[QuestionMismatch] = []
    for question in current.answerable_questions:
        before = earlier.by_id.get(question.id)
        if before is None or not before.answerable:
            unmatched.append(QuestionMismatch(question.id, MismatchKind.NEW, question.type))
        elif before.type is not question.type:
            unmatched.append(QuestionMismatch(question.id, MismatchKind.TYPE_CHANGED, question.type, before.type))
        else:
            matched.append(question.id)
    for question in earlier.answerable_questions:
        if question.id not in current.by_id:
            unmatched.append(QuestionMismatch(question.id, MismatchKind.DROPPED, question.type))
    return SurveyComparison(matched=tuple(matched), unmatched=tuple(unmatched))
