"""What the sheets hold: the columns of each sheet and each unit's cell values.

The 汇总 (summary) columns, in survey order::

    unit | status | <question> [| <other text>] [| <option 0/1> ...] | ...

* every answerable question has a column (notes have none);
* a question with an "other (name)" choice is followed by the column of that
  name, right after the question;
* a select_multiple question is then followed by one 0/1 column per option
  (1 selected, 0 not selected; blank when the question is unanswered or not
  relevant);
* in a campaign linked to last period's (``--previous``), a number question
  asked alike then (same id and type, not itself a ``change_of``) is followed
  by last period's value, the signed change (增减) and the change rate (增减率,
  blank when last period's value is 0 or missing).

Cell values are plain Python values (``str``, ``int``, ``Decimal``, ``date``,
``datetime``) or a :class:`FileCell`; :mod:`exports.workbook` turns them into
cells. All text here is in one language, the survey's default language, from
the survey itself or from the ``export`` block of the catalogs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.core import answers as parsing
from bot.core.catalog import translate
from bot.core.definition import OTHER_VALUE, QuestionType
from bot.core.previous import compare_surveys
from bot.core.statistics import NUMBER_TYPES
from bot.core.survey import ChoiceOption, CompiledQuestion, Survey
from exports.cells import clean_text, display_width
from exports.data import UnitRecord
from storage.models import ResponseStatus

logger = logging.getLogger(__name__)


#: The widest a column of each kind of content grows (in characters).
_ANSWER_CAPS: Final[dict[QuestionType, int]] = {
    QuestionType.TEXT: 40,
    QuestionType.LONG_TEXT: 60,
    QuestionType.SELECT_ONE: 30,
    QuestionType.SELECT_MULTIPLE: 30,
    QuestionType.FILE: 40,
    QuestionType.EMAIL: 32,
    QuestionType.PHONE: 16,
    QuestionType.DATE: 12,
}
_DEFAULT_CAP: Final = 20
UNIT_CAP: Final = 40
STATUS_CAP: Final = 12
OTHER_CAP: Final = 30
OPTION_CAP: Final = 12


class ColumnKind(StrEnum):
    UNIT = "unit"
    STATUS = "status"
    ANSWER = "answer"
    OTHER = "other"
    OPTION = "option"
    PREVIOUS = "previous"  # last period's value of a number question
    CHANGE = "change"  # this period's minus last period's
    CHANGE_RATE = "change_rate"  # the change over last period's value


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the summary sheet (and one row of the codebook)."""

    kind: ColumnKind
    #: The field's key: ``_unit``, ``_status``, ``<question id>``, ``<question id>.other``
    #: (the "other" name) or ``<question id>=<option value>`` (an option's 0/1).
    key: str
    header: str
    cap: int
    question: CompiledQuestion | None = None
    option: ChoiceOption | None = None

    @property
    def section_index(self) -> int:
        return self.question.section_index if self.question is not None else -1


#: The columns that follow a number question in a linked campaign, and their key suffixes.
PERIOD_KINDS: Final = (ColumnKind.PREVIOUS, ColumnKind.CHANGE, ColumnKind.CHANGE_RATE)
PERIOD_CAP: Final = 14


@dataclass(frozen=True, slots=True)
class Change:
    """A signed difference against last period: shown with its sign (+3, -2, 0)."""

    value: int | Decimal


@dataclass(frozen=True, slots=True)
class ChangeRate:
    """A change as a fraction of last period's value: shown as a signed percentage."""

    value: Decimal


def change(current: Any, previous: Any) -> Change | None:
    """``current - previous`` when both are numbers, else ``None``."""
    now, before = _as_number(current), _as_number(previous)
    if now is None or before is None:
        return None
    difference = now - before
    return Change(int(difference) if isinstance(difference, int) else difference)


def change_rate(current: Any, previous: Any) -> ChangeRate | None:
    """``(current - previous) / previous``; ``None`` when either is missing or last period's is 0."""
    now, before = _as_number(current), _as_number(previous)
    if now is None or before is None or before == 0:
        return None
    return ChangeRate((Decimal(now) - Decimal(before)) / Decimal(before))


def _as_number(value: Any) -> int | Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


@dataclass(frozen=True, slots=True)
class FileCell:
    """An uploaded file: its name, and where it lies in the bundle (if it is in one)."""

    name: str
    target: str | None = None


class Texts:
    """The catalog texts of one language used by the export."""

    def __init__(self, language: str) -> None:
        self.language = language

    def __call__(self, key: str, /, **params: object) -> str:
        return translate(self.language, f"export.{key}", **params)

    def status(self, status: ResponseStatus) -> str:
        return self(f"status.{status.value}")


class Formatter:
    """Turns stored answers into cell values in the survey's default language."""

    def __init__(self, survey: Survey, *, timezone: ZoneInfo) -> None:
        self.survey = survey
        self.language = survey.default_language
        self.texts = Texts(self.language)
        self.timezone = timezone
        self.yes = translate(self.language, "engine.yes_label")
        self.no = translate(self.language, "engine.no_label")
        self.separator = translate(self.language, "engine.list_separator")
        self._labels: dict[str, dict[str, str]] = {
            question.id: {
                option.value: clean_text(survey.text(option.label, self.language))
                for option in question.options
            }
            for question in survey.questions
            if question.options
        }
        self._status = {status: self.texts.status(status) for status in ResponseStatus}

    def labels(self, question: CompiledQuestion) -> dict[str, str]:
        """Choice value → label of a choice question."""
        return self._labels.get(question.id, {})

    def text(self, text: Any) -> str:
        return clean_text(text if isinstance(text, str) else str(text))

    def status(self, status: ResponseStatus) -> str:
        return self._status[status]

    def moment(self, moment: datetime | None) -> datetime | None:
        """A stored UTC time as a naive time in the campaign's time zone (Excel has no zones)."""
        if moment is None:
            return None
        return moment.astimezone(self.timezone).replace(tzinfo=None, microsecond=0)

    def answer(self, question: CompiledQuestion, value: Any) -> Any:
        """The cell value of one stored answer (None for no answer)."""
        if value is None:
            return None
        kind = question.type
        if kind is QuestionType.INTEGER:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            return self._number(value)
        if kind is QuestionType.DECIMAL:
            return self._number(value)
        if kind is QuestionType.DATE:
            if isinstance(value, str):
                try:
                    return date.fromisoformat(value)
                except ValueError:
                    pass
            return self._other(value)
        if kind is QuestionType.YES_NO:
            if value == parsing.YES:
                return self.yes
            if value == parsing.NO:
                return self.no
            return self._other(value)
        if kind is QuestionType.SELECT_ONE:
            return self._label(question, value)
        if kind is QuestionType.SELECT_MULTIPLE:
            chosen = value if isinstance(value, list) else [value]
            return self.separator.join(self._label(question, item) for item in chosen)
        if kind is QuestionType.FILE:
            if isinstance(value, dict):
                return FileCell(name=self.text(value.get("name") or ""))
            return self._other(value)
        return self._other(value)

    def _label(self, question: CompiledQuestion, value: Any) -> str:
        if isinstance(value, str):
            label = self._labels.get(question.id, {}).get(value)
            if label is not None:
                return label
        return self._other(value)

    def _number(self, value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        try:
            return Decimal(str(value))
        except (InvalidOperation, ValueError):
            return self._other(value)

    def _other(self, value: Any) -> str:
        if isinstance(value, str):
            return clean_text(value)
        return clean_text(json.dumps(value, ensure_ascii=False))


def column_header(column: Column, survey: Survey, language: str) -> str:
    """The column's header in ``language`` (the summary sheet uses the default language)."""
    texts = Texts(language)
    if column.kind is ColumnKind.UNIT:
        return texts("column.unit")
    if column.kind is ColumnKind.STATUS:
        return texts("column.status")
    assert column.question is not None
    if column.kind is ColumnKind.ANSWER:
        return clean_text(survey.text(column.question.definition.label, language))
    if column.kind in PERIOD_KINDS:
        return texts(f"column.{column.kind.value}", label=clean_text(survey.text(column.question.definition.label, language)))
    assert column.option is not None
    option_label = clean_text(survey.text(column.option.label, language))
    if column.kind is ColumnKind.OTHER:
        return texts("column.other", label=option_label)
    return texts("column.option", option=option_label)


def compared_questions(survey: Survey, earlier: Survey | None) -> frozenset[str]:
    """The number questions compared with last period: asked alike then, and not a ``change_of``."""
    if earlier is None:
        return frozenset()
    matched = set(compare_surveys(survey, earlier).matched)
    return frozenset(
        question.id
        for question in survey.answerable_questions
        if question.id in matched and question.type in NUMBER_TYPES and question.definition.change_of is None
    )


def summary_columns(survey: Survey, *, compared: frozenset[str] = frozenset()) -> tuple[Column, ...]:
    """The summary sheet's columns, in order, with headers in the survey's default language.

    ``compared``: the number questions followed by last period's value, the change and its rate.
    """
    planned: list[Column] = [
        Column(ColumnKind.UNIT, "_unit", "", UNIT_CAP),
        Column(ColumnKind.STATUS, "_status", "", STATUS_CAP),
    ]
    for question in survey.answerable_questions:
        planned.append(
            Column(ColumnKind.ANSWER, question.id, "", _ANSWER_CAPS.get(question.type, _DEFAULT_CAP), question=question)
        )
        other = next((option for option in question.options if option.is_other), None)
        if other is not None:
            planned.append(
                Column(ColumnKind.OTHER, f"{question.id}.{OTHER_VALUE}", "", OTHER_CAP, question=question, option=other)
            )
        if question.type is QuestionType.SELECT_MULTIPLE:
            planned.extend(
                Column(ColumnKind.OPTION, f"{question.id}={option.value}", "", OPTION_CAP, question=question, option=option)
                for option in question.options
            )
        if question.id in compared:
            planned.extend(
                Column(kind, f"{question.id}.{kind.value}", "", PERIOD_CAP, question=question) for kind in PERIOD_KINDS
            )
    language = survey.default_language
    return tuple(replace(column, header=column_header(column, survey, language)) for column in planned)


def section_spans(columns: Sequence[Column]) -> list[tuple[int, int, int]]:
    """``(first, last, section index)`` of each run of columns of one section (0-based)."""
    spans: list[tuple[int, int, int]] = []
    start = 0
    for index in range(1, len(columns) + 1):
        if index == len(columns) or columns[index].section_index != columns[start].section_index:
            if columns[start].section_index >= 0:
                spans.append((start, index - 1, columns[start].section_index))
            start = index
    return spans


class SummaryRows:
    """Builds the summary sheet's rows: one converter per column, chosen once for all units.

    Calling it with a unit's record (and the unit's file cells by question)
    gives the row's values, in the order of ``columns``.
    """

    _ANSWERS, _OTHERS, _FILES, _PREVIOUS = 0, 1, 2, 3

    def __init__(self, columns: Sequence[Column], formatter: Formatter) -> None:
        self.formatter = formatter
        #: (source, question id, converter); source -1: a change, computed from both periods' values.
        self._plan: list[tuple[int, str, Callable[..., Any]]] = []
        for column in columns[2:]:
            assert column.question is not None
            question_id = column.question.id
            if column.kind is ColumnKind.ANSWER and column.question.type is QuestionType.FILE:
                self._plan.append((self._FILES, question_id, _same))  # FileCell, made by the collector
            elif column.kind is ColumnKind.ANSWER:
                self._plan.append((self._ANSWERS, question_id, self._answer_converter(column.question)))
            elif column.kind is ColumnKind.OTHER:
                self._plan.append((self._OTHERS, question_id, formatter.text))
            elif column.kind is ColumnKind.PREVIOUS:
                self._plan.append((self._PREVIOUS, question_id, self._answer_converter(column.question)))
            elif column.kind in (ColumnKind.CHANGE, ColumnKind.CHANGE_RATE):
                # Computed from the record as a whole (see __call__): the key marks the column.
                self._plan.append((-1, question_id, change if column.kind is ColumnKind.CHANGE else change_rate))
            else:
                assert column.option is not None
                self._plan.append((self._ANSWERS, question_id, _flag(column.option.value)))
        assert [column.kind for column in columns[:2]] == [ColumnKind.UNIT, ColumnKind.STATUS]

    def _answer_converter(self, question: CompiledQuestion) -> Callable[[Any], Any]:
        """A converter for the question's answers: a fast path for the usual value, else the general one."""
        general = self.formatter.answer
        kind = question.type
        known: dict[str, str] = {}
        if kind is QuestionType.SELECT_ONE:
            known = self.formatter.labels(question)
        elif kind is QuestionType.YES_NO:
            known = {parsing.YES: self.formatter.yes, parsing.NO: self.formatter.no}
        if known:

            def choice(value: Any) -> Any:
                label = known.get(value) if type(value) is str else None
                return label if label is not None else general(question, value)

            return choice
        if kind is QuestionType.INTEGER:

            def integer(value: Any) -> Any:
                return value if type(value) is int else general(question, value)

            return integer
        if kind in (QuestionType.TEXT, QuestionType.LONG_TEXT, QuestionType.PHONE, QuestionType.EMAIL):

            def text(value: Any) -> Any:
                return clean_text(value) if type(value) is str else general(question, value)

            return text

        def other(value: Any) -> Any:
            return general(question, value)

        return other

    def __call__(self, record: UnitRecord, files: dict[str, FileCell]) -> list[Any]:
        formatter = self.formatter
        sources = (record.answers, record.others, files, record.previous)
        row: list[Any] = [formatter.text(record.name), formatter.status(record.status)]
        append = row.append
        for source, key, convert in self._plan:
            if source < 0:
                append(convert(record.answers.get(key), record.previous.get(key)))
                continue
            value = sources[source].get(key)
            append(None if value is None else convert(value))
        return row


def _same(value: Any) -> Any:
    return value


def _flag(option_value: str) -> Callable[[Any], int]:
    """The 0/1 of one option of a select_multiple answer."""

    def flag(value: Any) -> int:
        return 1 if option_value in (value if isinstance(value, list) else (value,)) else 0

    return flag


def known_width(column: Column, formatter: Formatter) -> int | None:
    """The widest value of a column that only ever holds a few known labels, else None.

    The export measures these columns once, from their labels, instead of
    measuring every unit's cell.
    """
    kind = column.kind
    if kind is ColumnKind.OPTION:
        return 1
    if kind is ColumnKind.CHANGE_RATE:
        return len("+100.0%")
    if kind is ColumnKind.STATUS:
        labels: list[str] = [formatter.status(status) for status in ResponseStatus]
    elif kind is ColumnKind.ANSWER and column.question is not None:
        question_type = column.question.type
        if question_type is QuestionType.DATE:
            return len("2023-04-26")
        if question_type is QuestionType.YES_NO:
            labels = [formatter.yes, formatter.no]
        elif question_type is QuestionType.SELECT_ONE:
            labels = list(formatter.labels(column.question).values())
        else:
            return None
    else:
        return None
    return max((display_width(label) for label in labels), default=0)


def long_text_questions(survey: Survey) -> tuple[CompiledQuestion, ...]:
    return tuple(q for q in survey.answerable_questions if q.type is QuestionType.LONG_TEXT)


def progress_row(record: UnitRecord, formatter: Formatter, *, name: str, status: str) -> list[Any]:
    """The progress sheet's values for one unit (``name`` and ``status`` as already formatted)."""
    separator = formatter.separator
    respondents = record.respondents
    return [
        name,
        status,
        formatter.text(separator.join(person.name for person in respondents)) if respondents else None,
        formatter.moment(record.started_at),
        formatter.moment(record.last_activity_at),
        formatter.moment(record.submitted_at),
        record.revision,
        record.reminders_sent,
        formatter.text(separator.join(p.name for p in respondents if p.unreachable)) or None if respondents else None,
    ]


PROGRESS_KEYS: Final = (
    "unit",
    "status",
    "respondents",
    "started_at",
    "last_activity_at",
    "submitted_at",
    "revision",
    "reminders_sent",
    "unreachable",
)
PROGRESS_CAPS: Final = (UNIT_CAP, STATUS_CAP, 40, 17, 17, 17, 10, 10, 30)
