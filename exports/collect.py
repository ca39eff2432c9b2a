"""The one pass over the database: every unit turned into its rows, spooled and measured.

:func:`collect` streams the roster (:mod:`exports.data`) and, per unit,

* appends its rows of the summary, report and progress sheets to spools
  (:mod:`exports.spool`) and measures their text for the column widths;
* adds a submitted unit's answers to the statistics (:mod:`bot.core.statistics`),
  or appends a unit not submitted to the statistics sheet's list of them;
* names its uploaded files for the zip bundle (:mod:`exports.bundle`).

What it returns, :class:`ExportContent`, is all :mod:`exports.workbook` needs;
writing the workbook (CPU work, no I/O on the database) can then run in a
worker thread, and run twice (without and with attachment links) without
reading the database again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.definition import QuestionType
from bot.core.statistics import Statistics
from bot.core.survey import CompiledQuestion, Survey
from exports.bundle import BundlePlan
from exports.cells import ColumnWidths
from exports.data import DEFAULT_PAGE_SIZE, UnitRecord, iter_unit_records, load_last_period_survey
from exports.layout import (
    PROGRESS_CAPS,
    PROGRESS_KEYS,
    STATUS_CAP,
    UNIT_CAP,
    Change,
    Column,
    ColumnKind,
    FileCell,
    Formatter,
    SummaryRows,
    Texts,
    compared_questions,
    known_width,
    long_text_questions,
    progress_row,
    summary_columns,
)
from exports.spool import Spool
from storage.models import Campaign, ResponseStatus

logger = logging.getLogger(__name__)

#: The report sheet's text columns share about this many characters of page width.
REPORT_PAGE_WIDTH = 150
REPORT_TEXT_MIN = 30
REPORT_TEXT_MAX = 80


@dataclass(slots=True)
class Sheet:
    """The rows of one sheet, spooled, and the widths of its columns."""

    headers: tuple[str, ...]
    widths: ColumnWidths
    rows: Spool
    #: The columns whose values are measured row by row (the others' widths are known).
    measured: tuple[int, ...] = ()

    def fix_widths(self, known: Sequence[int | None]) -> None:
        """Give the columns of known width that width; measure the others row by row."""
        for index, width in enumerate(known):
            if width is not None:
                self.widths.see_width(index, width)
        self.measured = tuple(index for index, width in enumerate(known) if width is None)

    def add(self, row: list[Any]) -> None:
        _measure(self.widths, row, self.measured)
        self.rows.append(row)


@dataclass(slots=True)
class ExportContent:
    """Everything the workbook is written from."""

    campaign_id: int
    campaign_title: str
    survey: Survey
    formatter: Formatter
    exported_at: datetime
    columns: tuple[Column, ...]
    summary: Sheet
    report_questions: tuple[CompiledQuestion, ...]
    report: Sheet
    progress: Sheet
    #: ``[unit name, status]`` of every unit not submitted, in roster order.
    not_submitted: Spool
    statistics: Statistics
    bundle: BundlePlan
    counts: dict[ResponseStatus, int] = field(default_factory=lambda: {status: 0 for status in ResponseStatus})

    @property
    def texts(self) -> Texts:
        return self.formatter.texts

    @property
    def units(self) -> int:
        return sum(self.counts.values())

    def close(self) -> None:
        for spool in (self.summary.rows, self.report.rows, self.progress.rows, self.not_submitted):
            spool.close()


def campaign_zone(campaign: Campaign) -> ZoneInfo:
    try:
        return ZoneInfo(campaign.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _measure(widths: ColumnWidths, row: list[Any], indexes: Sequence[int]) -> None:
    """Widen the columns ``indexes`` of ``widths`` to fit the values of ``row``."""
    for index in indexes:
        value = row[index]
        if value is None:
            continue
        kind = type(value)
        if kind is str:
            widths.see_text(index, value)
        elif kind is int or kind is Decimal or kind is float:
            widths.see_width(index, len(str(value)))
        elif kind is FileCell:
            widths.see_text(index, value.name)
        elif kind is Change:
            widths.see_width(index, len(str(value.value)) + 1)  # and its sign
        elif kind is datetime:
            widths.see_width(index, 16)
        elif kind is date:
            widths.see_width(index, 10)


def new_content(
    *,
    campaign: Campaign,
    survey: Survey,
    data_dir: Path | None,
    exported_at: datetime,
    spool_dir: str | None = None,
    compared: frozenset[str] = frozenset(),
) -> ExportContent:
    """An empty :class:`ExportContent` for the campaign, ready for :meth:`Collector.add`.

    ``compared``: the number questions compared with last period (a linked campaign).
    """
    formatter = Formatter(survey, timezone=campaign_zone(campaign))
    texts = formatter.texts
    columns = summary_columns(survey, compared=compared)
    report_questions = long_text_questions(survey)
    language = survey.default_language
    report_headers = (
        texts("column.unit"),
        texts("column.status"),
        *(formatter.text(survey.text(q.definition.label, language)) for q in report_questions),
    )
    text_width = REPORT_TEXT_MAX
    if report_questions:
        room = (REPORT_PAGE_WIDTH - 20 - STATUS_CAP) // len(report_questions)
        text_width = max(REPORT_TEXT_MIN, min(REPORT_TEXT_MAX, room))
    progress_headers = tuple(texts(f"column.{key}") for key in PROGRESS_KEYS)
    content = ExportContent(
        campaign_id=campaign.id,
        campaign_title=campaign.title,
        survey=survey,
        formatter=formatter,
        exported_at=exported_at.astimezone(formatter.timezone),
        columns=columns,
        summary=Sheet(
            headers=tuple(column.header for column in columns),
            widths=ColumnWidths([column.cap for column in columns], [column.header for column in columns]),
            rows=Spool(directory=spool_dir),
        ),
        report_questions=report_questions,
        report=Sheet(
            headers=report_headers,
            widths=ColumnWidths([UNIT_CAP, STATUS_CAP, *([text_width] * len(report_questions))], report_headers),
            rows=Spool(directory=spool_dir),
        ),
        progress=Sheet(
            headers=progress_headers,
            widths=ColumnWidths(PROGRESS_CAPS, progress_headers),
            rows=Spool(directory=spool_dir),
        ),
        not_submitted=Spool(directory=spool_dir),
        statistics=Statistics(survey, compared=compared),
        bundle=BundlePlan(data_dir=data_dir),
    )
    status_width = known_width(columns[1], formatter)
    content.summary.fix_widths([known_width(column, formatter) for column in columns])
    unit_width = 0  # measured on the summary (see Collector.finish)
    content.report.fix_widths([unit_width, status_width, *([None] * len(report_questions))])
    moment_width = len("2023-04-26 17:00")
    known_progress = {
        "unit": unit_width,
        "status": status_width,
        "started_at": moment_width,
        "last_activity_at": moment_width,
        "submitted_at": moment_width,
    }
    content.progress.fix_widths([known_progress.get(key) for key in PROGRESS_KEYS])
    return content


class Collector:
    """Feeds unit records into an :class:`ExportContent`."""

    def __init__(self, content: ExportContent) -> None:
        self.content = content
        self._summary_row = SummaryRows(content.columns, content.formatter)
        # The report's long texts are the summary's cells of the same questions.
        where = {column.question.id: index for index, column in enumerate(content.columns)
                 if column.kind is ColumnKind.ANSWER and column.question is not None}
        self._report_indexes = tuple(where[question.id] for question in content.report_questions)
        self._file_questions = tuple(
            q for q in content.survey.answerable_questions if q.type is QuestionType.FILE
        )

    def add(self, record: UnitRecord) -> None:
        content = self.content
        formatter = content.formatter
        content.counts[record.status] += 1
        files = self._files(record) if self._file_questions and record.answers else {}
        summary = self._summary_row(record, files)
        content.summary.add(summary)
        name, status = summary[0], summary[1]
        content.report.add([name, status, *[summary[index] for index in self._report_indexes]])
        content.progress.add(progress_row(record, formatter, name=name, status=status))
        if record.previous:
            content.statistics.add_last_period(record.previous)
        if record.status is ResponseStatus.SUBMITTED:
            content.statistics.add_submission(record.answers)
        else:
            content.not_submitted.append([name, status])

    def finish(self) -> None:
        """Call after the last unit: the unit column is measured once, on the summary."""
        content = self.content
        for sheet in (content.report, content.progress):
            sheet.widths.see_width(0, content.summary.widths.widths[0])

    def _files(self, record: UnitRecord) -> dict[str, FileCell]:
        files: dict[str, FileCell] = {}
        for question in self._file_questions:
            value = record.answers.get(question.id)
            if not isinstance(value, dict):
                continue
            name = self.content.formatter.text(value.get("name") or "")
            target = self.content.bundle.add(
                unit_id=record.unit_id,
                unit_name=record.name,
                position=record.position,
                question_id=question.id,
                file_name=name,
                ref=value.get("ref"),
            )
            files[question.id] = FileCell(name=name, target=target)
        return files


async def collect(
    *,
    session: AsyncSession,
    campaign: Campaign,
    survey: Survey,
    data_dir: Path | None,
    now: datetime,
    page_size: int = DEFAULT_PAGE_SIZE,
    spool_dir: str | None = None,
) -> ExportContent:
    """Read the whole campaign once; the caller must :meth:`ExportContent.close` the result."""
    earlier = await load_last_period_survey(session=session, campaign=campaign)
    compared = compared_questions(survey, earlier)
    content = new_content(
        campaign=campaign, survey=survey, data_dir=data_dir, exported_at=now, spool_dir=spool_dir, compared=compared
    )
    try:
        collector = Collector(content)
        today = content.exported_at.date()
        async for page in iter_unit_records(
            session=session, campaign=campaign, survey=survey, today=today, page_size=page_size, compared=compared
        ):
            for record in page:
                collector.add(record)
        collector.finish()
    except BaseException:
        content.close()
        raise
    logger.info(
        "export of campaign %s: read %d unit(s), %d file(s) to bundle",
        campaign.id,
        content.units,
        len(content.bundle.files),
    )
    return content
