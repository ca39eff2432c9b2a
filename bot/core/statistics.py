"""Running totals of a campaign's submitted answers: the workbook's 统计 sheet and the console's summaries.

One computation for both (``exports.workbook`` writes it to the 统计 sheet,
``bot.campaign_progress`` shows it on the console's campaign page), fed with
what each submitted unit submitted last (:func:`storage.responses.split_submitted_values`).

The totals are kept while the roster streams by, so their size is
O(questions × options), never O(units): per choice question the count of
units per option, per number question the count, sum, minimum and maximum
(the mean is derived). Sums of decimals stay exact (``Decimal``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from bot.core import answers as parsing
from bot.core.definition import QuestionType
from bot.core.survey import CompiledQuestion, Survey

logger = logging.getLogger(__name__)

#: Question types counted per option on the statistics sheet.
CHOICE_STAT_TYPES: Final = frozenset({QuestionType.YES_NO, QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE})
#: Question types summed up on the statistics sheet.
NUMBER_TYPES: Final = frozenset({QuestionType.INTEGER, QuestionType.DECIMAL})
#: Question types whose answers the console's summaries list as they are.
TEXT_TYPES: Final = frozenset({QuestionType.TEXT, QuestionType.LONG_TEXT})


@dataclass(slots=True)
class ChoiceTally:
    """Units per option of one choice question (yes/no counts as the options yes and no)."""

    question: CompiledQuestion
    #: Option value → number of units that chose it, in the question's option order.
    counts: dict[str, int] = field(default_factory=dict)
    answered: int = 0

    def __post_init__(self) -> None:
        if not self.counts:
            values = (
                [parsing.YES, parsing.NO]
                if self.question.type is QuestionType.YES_NO
                else [option.value for option in self.question.options]
            )
            self.counts = {value: 0 for value in values}

    def add(self, value: Any) -> None:
        chosen = value if isinstance(value, list) else [value]
        counted = False
        for item in dict.fromkeys(chosen):  # a value listed twice counts once
            if isinstance(item, str) and item in self.counts:
                self.counts[item] += 1
                counted = True
        if counted:
            self.answered += 1


@dataclass(slots=True)
class NumberStats:
    """Count, sum, minimum and maximum of one number question's answers."""

    question: CompiledQuestion
    count: int = 0
    total: Decimal = Decimal(0)
    minimum: Decimal | None = None
    maximum: Decimal | None = None

    def add(self, value: Any) -> None:
        if isinstance(value, bool):
            return
        try:
            number = Decimal(value) if isinstance(value, (int, str)) else Decimal(str(value))
        except (InvalidOperation, ValueError, TypeError):
            return
        if not number.is_finite():
            return
        self.count += 1
        self.total += number
        if self.minimum is None or number < self.minimum:
            self.minimum = number
        if self.maximum is None or number > self.maximum:
            self.maximum = number

    @property
    def mean(self) -> Decimal | None:
        if not self.count:
            return None
        return self.total / self.count


@dataclass(slots=True)
class TextAnswers:
    """The submitted texts of one text question, with the unit of each (the console lists them; O(units))."""

    question: CompiledQuestion
    #: ``(unit name, text)`` in the order the units were added.
    texts: list[tuple[str, str]] = field(default_factory=list)

    def add(self, unit: str, value: Any) -> None:
        if isinstance(value, str) and value.strip():
            self.texts.append((unit, value))


def text_answers(survey: Survey) -> list[TextAnswers]:
    """An empty :class:`TextAnswers` per text question of ``survey``, in survey order."""
    return [TextAnswers(question) for question in survey.answerable_questions if question.type in TEXT_TYPES]


class Statistics:
    """Every tally of a survey, fed one submitted unit at a time.

    In a campaign linked to last period's, the ``compared`` number questions
    also total what the roster's units submitted then (:attr:`last_period`).
    """

    def __init__(self, survey: Survey, *, compared: frozenset[str] = frozenset()) -> None:
        self.submitted = 0
        self.choices: list[ChoiceTally] = [
            ChoiceTally(question) for question in survey.answerable_questions if question.type in CHOICE_STAT_TYPES
        ]
        self.numbers: list[NumberStats] = [
            NumberStats(question) for question in survey.answerable_questions if question.type in NUMBER_TYPES
        ]
        #: Question id → last period's totals over the units of this roster that submitted then.
        self.last_period: dict[str, NumberStats] = {
            stats.question.id: NumberStats(stats.question) for stats in self.numbers if stats.question.id in compared
        }

    def add_last_period(self, answers: Mapping[str, Any]) -> None:
        """One unit's submitted answers of last period."""
        for question_id, stats in self.last_period.items():
            value = answers.get(question_id)
            if value is not None:
                stats.add(value)

    def add_submission(self, answers: Mapping[str, Any]) -> None:
        self.submitted += 1
        for tally in self.choices:
            value = answers.get(tally.question.id)
            if value is not None:
                tally.add(value)
        for stats in self.numbers:
            value = answers.get(stats.question.id)
            if value is not None:
                stats.add(value)
