"""Writing the workbook: five sheets in openpyxl's write-only mode, from spooled rows.

Sheets, all titles and headers in the survey's default language (from the
catalogs' ``export`` block and the survey itself):

* 汇总 — one row per roster unit, two header rows (section titles merged over
  their columns, then the column headers), frozen headers and first column,
  an autofilter, widths fitted to the text (:mod:`exports.cells`), long text
  wrapped; an attachment cell links to its file when ``links`` is set.
* 报告 — the long-text answers, one row per unit, wrapped; printed in
  landscape, fitted to the page width, the header row repeated on every page.
* 进度 — status, respondents, times, revision, reminders, unreachable people.
* 统计 — per choice question the number of submitted units per option, with a
  bar chart; per number question count, sum, mean, minimum and maximum; the
  list of the units not submitted.
* 字段说明 — one row per 汇总 column: its letter, field key, header in every
  survey language, type, choice values and labels, and relevant expression.

Cells are built directly (``Cell`` with a prepared style array) only where a
style is needed; plain values go to openpyxl as they are. Text goes through
:func:`_text`: it always ends up a string cell, and risky text (see
:func:`exports.cells.is_risky_text`) gets the quote-prefix style.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.properties import PageSetupProperties

from bot.core import answers as parsing
from bot.core.catalog import translate
from bot.core.definition import QuestionType
from exports.cells import ColumnWidths, clean_text, is_risky_text
from exports.collect import ExportContent, Sheet
from exports.layout import (
    Change,
    ChangeRate,
    Column,
    ColumnKind,
    FileCell,
    Texts,
    change,
    change_rate,
    column_header,
    section_spans,
)
from storage.models import ResponseStatus

logger = logging.getLogger(__name__)

HEADER_FILL: Final = "DDEBF7"
SECTION_FILL: Final = "BDD7EE"
LINK_COLOR: Final = "0563C1"
#: Points per line of an 11-point font, for the heights of wrapped header rows.
LINE_HEIGHT: Final = 15.0
MAX_HEADER_LINES: Final = 8
#: Rows one choice block of the statistics sheet takes at least (the chart's height).
CHART_ROWS: Final = 15
CHART_HEIGHT_CM: Final = 7.0
CHART_WIDTH_CM: Final = 16.0
DATE_FORMAT: Final = "yyyy-mm-dd"
DATETIME_FORMAT: Final = "yyyy-mm-dd hh:mm"
#: A change against last period, with its sign: +3, -2, 0.
CHANGE_FORMAT: Final = "+General;-General;0"
#: A change rate: +12.5%, -3.0%, 0.0%.
CHANGE_RATE_FORMAT: Final = "+0.0%;-0.0%;0.0%"
PAPER_A4: Final = 9


class _Styles:
    """The style arrays of one workbook, prepared once and copied into cells."""

    def __init__(self, sheet: WriteOnlyWorksheet) -> None:
        thin = Side(style="thin", color="9BC2E6")
        border = Border(left=thin, right=thin, top=thin, bottom=thin)
        bold = Font(bold=True)
        self.header = self._make(
            sheet,
            font=bold,
            fill=PatternFill("solid", fgColor=HEADER_FILL),
            border=border,
            alignment=Alignment(wrap_text=True, vertical="center", horizontal="center"),
        )
        self.section = self._make(
            sheet,
            font=bold,
            fill=PatternFill("solid", fgColor=SECTION_FILL),
            border=border,
            alignment=Alignment(vertical="center", horizontal="center"),
        )
        self.title = self._make(sheet, font=Font(bold=True, size=13))
        self.bold = self._make(sheet, font=bold)
        self.top = self._make(sheet, alignment=Alignment(vertical="top"))
        self.wrap = self._make(sheet, alignment=Alignment(wrap_text=True, vertical="top"))
        self.date = self._make(sheet, number_format=DATE_FORMAT)
        self.datetime = self._make(sheet, number_format=DATETIME_FORMAT)
        self.change = self._make(sheet, number_format=CHANGE_FORMAT)
        self.change_rate = self._make(sheet, number_format=CHANGE_RATE_FORMAT)
        self.link = self._make(
            sheet, font=Font(color=LINK_COLOR, underline="single"), alignment=Alignment(vertical="top")
        )

    @staticmethod
    def _make(
        sheet: WriteOnlyWorksheet,
        *,
        font: Font | None = None,
        fill: PatternFill | None = None,
        border: Border | None = None,
        alignment: Alignment | None = None,
        number_format: str | None = None,
    ) -> StyleArray:
        cell = Cell(sheet)
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        if border is not None:
            cell.border = border
        if alignment is not None:
            cell.alignment = alignment
        if number_format is not None:
            cell.number_format = number_format
        return StyleArray(cell._style)


class SafeSheet(WriteOnlyWorksheet):
    """A write-only worksheet where text can only ever be text.

    openpyxl turns a string beginning with ``=`` into a formula and a string
    like ``#N/A`` into an error value, and raises on control characters. This
    sheet replaces openpyxl's conversion of appended values (its
    ``_values_to_row`` step, the one place every row passes through):

    * a ``str`` is cleaned (:func:`~exports.cells.clean_text`) and written as a
      string cell; risky text (:func:`~exports.cells.is_risky_text`) also gets
      the quote-prefix style;
    * a prepared :class:`~openpyxl.cell.cell.Cell` is written as it is, except
      that its text, if it is a string cell, gets the same treatment;
    * ``int``, ``float`` and ``Decimal`` are numbers; anything else (dates are
      passed as prepared cells with a number format) goes through openpyxl.
    """

    def __init__(self, parent: Workbook, title: str) -> None:
        super().__init__(parent, title)
        self._style_ids: dict[int, tuple[StyleArray, int]] = {}

    def style_id_of(self, style: StyleArray) -> int:
        """The workbook's id of ``style``, cached by the array's identity."""
        found = self._style_ids.get(id(style))
        if found is None or found[0] is not style:
            found = (style, self.parent._cell_styles.add(style))
            self._style_ids[id(style)] = found
        return found[1]

    def _quote(self, base: StyleArray) -> StyleArray:
        style = StyleArray(base)
        style.quotePrefix = 1
        return style

    def _values_to_row(self, values: Iterable[Any], row_idx: int) -> Iterator[Cell]:
        scratch = Cell(self)
        for column, value in enumerate(values, 1):
            if value is None:
                continue
            kind = type(value)
            if kind is str:
                text = clean_text(value)
                if is_risky_text(text):
                    cell = Cell(self, style_array=self._quote(StyleArray()))
                    cell._value = text
                    cell.data_type = "s"
                    cell.row, cell.column = row_idx, column
                    yield cell
                    continue
                scratch._value = text
                scratch.data_type = "s"
            elif kind is _StyledCell or kind is Cell:
                if value.data_type == "s" and isinstance(value._value, str):
                    value._value = clean_text(value._value)
                    if is_risky_text(value._value):
                        value._style = self._quote(value._style)
                        if kind is _StyledCell:
                            value._style_id = self.parent._cell_styles.add(value._style)
                value.row, value.column = row_idx, column
                if value._hyperlink is not None:
                    value._hyperlink.ref = value.coordinate
                yield value
                continue
            elif kind is int or kind is float or kind is Decimal:
                scratch._value = value
                scratch.data_type = "n"
            else:
                scratch.value = value
            scratch.row, scratch.column = row_idx, column
            yield scratch
            if scratch.has_style:
                scratch = Cell(self)


def _new_sheet(workbook: Workbook, title: str) -> SafeSheet:
    sheet = SafeSheet(parent=workbook, title=clean_text(title))
    workbook._add_sheet(sheet)
    return sheet


class _StyledCell(Cell):
    """A prepared cell: its style array is shared, its style id looked up once per style."""

    __slots__ = ("_style_id",)

    @property
    def style_id(self) -> int:
        return self._style_id


_new_cell = object.__new__


def _cell(sheet: SafeSheet, value: Any, data_type: str, style: StyleArray) -> Cell:
    """A cell with ``style``, built without copying the style array (nothing changes it in place)."""
    cell = _new_cell(_StyledCell)
    cell.parent = sheet
    cell._style = style
    cell.row = cell.column = None  # set when the row is written
    cell._value = value
    cell.data_type = data_type
    cell._hyperlink = None
    cell._comment = None
    cell._style_id = sheet.style_id_of(style)
    return cell


def _text(sheet: SafeSheet, text: str, style: StyleArray | None = None) -> Any:
    """``text`` as a string cell, with ``style`` if given (:class:`SafeSheet` does the rest)."""
    if style is not None:
        return _cell(sheet, text, "s", style)
    return text


def _value(
    sheet: SafeSheet, styles: _Styles, value: Any, *, wrap: bool, links: bool
) -> Any:
    """The cell for one spooled value."""
    kind = type(value)
    if value is None:
        return None
    if kind is str:
        return _cell(sheet, value, "s", styles.wrap) if wrap else value
    if kind is int or kind is float or kind is Decimal:
        return value
    if kind is datetime:
        return _cell(sheet, value, "d", styles.datetime)
    if kind is date:
        return _cell(sheet, value, "d", styles.date)
    if kind is Change:
        return _cell(sheet, value.value, "n", styles.change)
    if kind is ChangeRate:
        return _cell(sheet, float(value.value), "n", styles.change_rate)
    if kind is FileCell:
        if links and value.target:
            cell = _cell(sheet, value.name, "s", styles.link)
            cell._hyperlink = Hyperlink(ref="", target=value.target)
            return cell
        return _cell(sheet, value.name, "s", styles.wrap) if wrap else value.name
    return _text(sheet, str(value), styles.wrap if wrap else None)


def _header_row(
    sheet: SafeSheet, styles: _Styles, headers: Sequence[str | None], style: StyleArray
) -> list[Any]:
    return [_cell(sheet, text, "s", style) if text else _cell(sheet, None, "n", style) for text in headers]


def _set_widths(sheet: WriteOnlyWorksheet, widths: ColumnWidths) -> None:
    for index in range(len(widths.caps)):
        sheet.column_dimensions[get_column_letter(index + 1)].width = widths.final(index)


def _header_height(widths: ColumnWidths, headers: Sequence[str]) -> float:
    lines = max((widths.header_lines(i, header) for i, header in enumerate(headers)), default=1)
    return LINE_HEIGHT * min(max(lines, 1), MAX_HEADER_LINES) + 3


def _body(
    sheet: SafeSheet,
    styles: _Styles,
    rows: Iterable[list[Any]],
    widths: ColumnWidths,
    *,
    links: bool,
    first_style: StyleArray | None,
    always_wrap: range = range(0),
) -> int:
    """Append the spooled rows; the first column gets ``first_style``. Returns the row count.

    Text wraps in the columns that need it (see :meth:`ColumnWidths.wraps`)
    and in those of ``always_wrap``.
    """
    wraps = [widths.wraps(index) or index in always_wrap for index in range(len(widths.caps))]
    count = 0
    append = sheet.append
    for row in rows:
        cells = [
            _value(sheet, styles, value, wrap=wraps[index], links=links) for index, value in enumerate(row)
        ]
        first = row[0]
        if first_style is not None and type(first) is str and not wraps[0]:
            cells[0] = _text(sheet, first, first_style)
        append(cells)
        count += 1
    return count


# -- the sheets --------------------------------------------------------------------------------


def _summary_sheet(workbook: Workbook, content: ExportContent, styles: _Styles, *, links: bool) -> None:
    texts = content.texts
    sheet = _new_sheet(workbook, texts("sheet.summary"))
    sheet_data: Sheet = content.summary
    columns = content.columns
    widths = sheet_data.widths
    _set_widths(sheet, widths)
    sheet.freeze_panes = "B3"
    sheet.print_title_rows = "1:2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = PAPER_A4
    survey = content.survey
    language = survey.default_language
    first_row: list[str | None] = [None] * len(columns)
    second_row: list[str | None] = [column.header for column in columns]
    for index, column in enumerate(columns):
        if column.kind in (ColumnKind.UNIT, ColumnKind.STATUS):
            first_row[index], second_row[index] = column.header, None
            sheet.merged_cells.add(f"{get_column_letter(index + 1)}1:{get_column_letter(index + 1)}2")
    for first, last, section_index in section_spans(columns):
        first_row[first] = clean_text(survey.text(survey.sections[section_index].title, language))
        if last > first:
            sheet.merged_cells.add(f"{get_column_letter(first + 1)}1:{get_column_letter(last + 1)}1")
    sheet.row_dimensions[2].height = _header_height(
        widths, [column.header if column.kind not in (ColumnKind.UNIT, ColumnKind.STATUS) else "" for column in columns]
    )
    row_one = _header_row(sheet, styles, first_row, styles.section)
    for index, column in enumerate(columns):
        if column.kind in (ColumnKind.UNIT, ColumnKind.STATUS):
            row_one[index] = _header_row(sheet, styles, [column.header], styles.header)[0]
    sheet.append(row_one)
    sheet.append(_header_row(sheet, styles, second_row, styles.header))
    count = _body(sheet, styles, sheet_data.rows, widths, links=links, first_style=styles.top)
    last_column = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A2:{last_column}{count + 2}"


def _report_sheet(workbook: Workbook, content: ExportContent, styles: _Styles) -> None:
    sheet = _new_sheet(workbook, content.texts("sheet.report"))
    data = content.report
    _set_widths(sheet, data.widths)
    sheet.freeze_panes = "B2"
    sheet.print_title_rows = "1:1"
    setup = sheet.page_setup
    setup.orientation = "landscape"
    setup.paperSize = PAPER_A4
    setup.fitToWidth = 1
    setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_options.gridLines = True
    sheet.row_dimensions[1].height = _header_height(data.widths, data.headers)
    sheet.append(_header_row(sheet, styles, data.headers, styles.header))
    _body(
        sheet,
        styles,
        data.rows,
        data.widths,
        links=False,
        first_style=styles.top,
        always_wrap=range(2, len(data.headers)),  # the long texts: wrapped, print-friendly
    )


def _progress_sheet(workbook: Workbook, content: ExportContent, styles: _Styles) -> None:
    sheet = _new_sheet(workbook, content.texts("sheet.progress"))
    data = content.progress
    _set_widths(sheet, data.widths)
    sheet.freeze_panes = "B2"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.row_dimensions[1].height = _header_height(data.widths, data.headers)
    sheet.append(_header_row(sheet, styles, data.headers, styles.header))
    count = _body(sheet, styles, data.rows, data.widths, links=False, first_style=None)
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(data.headers))}{count + 1}"


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _statistics_sheet(workbook: Workbook, content: ExportContent, styles: _Styles) -> None:
    texts = content.texts
    survey = content.survey
    language = survey.default_language
    statistics = content.statistics
    sheet = _new_sheet(workbook, texts("sheet.statistics"))
    for letter, width in (("A", 36), *((letter, 12) for letter in "BCDEFGHIJ")):
        sheet.column_dimensions[letter].width = width
    row_number = 0

    def add(row: list[Any]) -> int:
        nonlocal row_number
        sheet.append(row)
        row_number += 1
        return row_number

    def text(value: str, style: StyleArray | None = None) -> Any:
        return _text(sheet, clean_text(value), style)

    add([
        text(
            texts(
                "stats.title",
                campaign=content.campaign_title,
                time=f"{content.exported_at:%Y-%m-%d %H:%M}",
                submitted=statistics.submitted,
                units=content.units,
            ),
            styles.title,
        )
    ])
    add([])
    if statistics.choices:
        add([text(texts("stats.choice_heading", submitted=statistics.submitted), styles.title)])
        for tally in statistics.choices:
            question = tally.question
            label = clean_text(survey.text(question.definition.label, language))
            title_row = add([text(label, styles.bold)])
            header_row = add(_header_row(sheet, styles, [texts("stats.option"), texts("stats.count")], styles.header))
            for value, count in tally.counts.items():
                if question.type is QuestionType.YES_NO:
                    option_label = translate(language, "engine.yes_label" if value == parsing.YES else "engine.no_label")
                else:
                    option = question.option(value)
                    option_label = survey.text(option.label, language) if option is not None else value
                add([text(option_label), count])
            last_row = row_number
            chart = BarChart()
            chart.type = "bar"
            chart.style = 10
            chart.title = label if len(label) <= 60 else label[:59] + "…"
            chart.legend = None
            chart.height = CHART_HEIGHT_CM
            chart.width = CHART_WIDTH_CM
            chart.x_axis.delete = False
            chart.y_axis.delete = False
            chart.y_axis.majorGridlines = None
            chart.y_axis.title = texts("stats.count")
            chart.x_axis.scaling.orientation = "maxMin"  # options top to bottom, as in the table
            chart.add_data(Reference(sheet, min_col=2, min_row=header_row, max_row=last_row), titles_from_data=True)
            chart.set_categories(Reference(sheet, min_col=1, min_row=header_row + 1, max_row=last_row))
            sheet.add_chart(chart, f"D{title_row}")
            while row_number < title_row + CHART_ROWS:
                add([])
    if statistics.numbers:
        last_period = statistics.last_period
        add([text(texts("stats.number_heading", submitted=statistics.submitted), styles.title)])
        keys = ["question", "answered", "sum", "mean", "min", "max"]
        if last_period:
            keys += ["previous_answered", "previous_sum", "sum_change", "sum_change_rate"]
        add(_header_row(sheet, styles, [texts(f"stats.{key}") for key in keys], styles.header))
        for stats in statistics.numbers:
            row: list[Any] = [
                text(clean_text(survey.text(stats.question.definition.label, language)), styles.wrap),
                stats.count,
                _number(stats.total) if stats.count else None,
                float(stats.mean) if stats.mean is not None else None,
                _number(stats.minimum),
                _number(stats.maximum),
            ]
            before = last_period.get(stats.question.id)
            if before is not None:
                now_total = stats.total if stats.count else None
                before_total = before.total if before.count else None
                difference = change(now_total, before_total)
                rate = change_rate(now_total, before_total)
                row += [
                    before.count,
                    _number(before_total),
                    _cell(sheet, _number(Decimal(difference.value)), "n", styles.change) if difference else None,
                    _cell(sheet, float(rate.value), "n", styles.change_rate) if rate else None,
                ]
            add(row)
        add([])
    missing = len(content.not_submitted)
    add([text(texts("stats.not_submitted_heading", count=missing), styles.title)])
    if missing:
        add(_header_row(sheet, styles, [texts("column.unit"), texts("column.status")], styles.header))
        for name, status in content.not_submitted:
            add([text(name), text(status)])
    else:
        add([text(texts("stats.all_submitted"))])


def _codebook_sheet(workbook: Workbook, content: ExportContent, styles: _Styles) -> None:
    texts = content.texts
    survey = content.survey
    languages = survey.languages
    sheet = _new_sheet(workbook, texts("sheet.codebook"))
    headers = [
        texts("codebook.column"),
        texts("codebook.field"),
        *(texts("codebook.label", language=language) for language in languages),
        texts("codebook.type"),
        texts("codebook.choices"),
        texts("codebook.relevant"),
    ]
    widths = [8, 28, *([40] * len(languages)), 20, 44, 36]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "C2"
    sheet.append(_header_row(sheet, styles, headers, styles.header))
    for index, column in enumerate(content.columns, start=1):
        labels = [column_header(column, survey, language) for language in languages]
        row: list[Any] = [
            get_column_letter(index),
            column.key,
            *labels,
            _type_text(column, texts),
            _choices_text(column, content),
            column.question.definition.relevant if column.question is not None and column.kind is ColumnKind.ANSWER else None,
        ]
        sheet.append([
            _text(sheet, clean_text(value), styles.wrap) if isinstance(value, str) and value else None
            for value in row
        ])


def _type_text(column: Column, texts: Texts) -> str:
    if column.kind is ColumnKind.ANSWER and column.question is not None:
        return texts(f"type.{column.question.type.value}")
    return texts(f"type.{column.kind.value}")


def _choices_text(column: Column, content: ExportContent) -> str | None:
    survey = content.survey
    languages = survey.languages

    def labels(text: Any) -> str:
        seen: list[str] = []
        for language in languages:
            label = survey.text(text, language)
            if label not in seen:
                seen.append(label)
        return " / ".join(seen)

    def catalog_labels(key: str) -> str:
        seen: list[str] = []
        for language in languages:
            label = translate(language, key)
            if label not in seen:
                seen.append(label)
        return " / ".join(seen)

    if column.kind is ColumnKind.STATUS:
        return "\n".join(f"{status.value} = {catalog_labels(f'export.status.{status.value}')}" for status in ResponseStatus)
    if column.kind is ColumnKind.OPTION and column.option is not None:
        return f"{column.option.value}: " + catalog_labels("export.codebook.option_values")
    if column.kind is not ColumnKind.ANSWER or column.question is None:
        return None
    question = column.question
    if question.type is QuestionType.YES_NO:
        return "\n".join(
            f"{value} = {catalog_labels(key)}"
            for value, key in ((parsing.YES, "engine.yes_label"), (parsing.NO, "engine.no_label"))
        )
    if question.options:
        return "\n".join(f"{option.value} = {labels(option.label)}" for option in question.options)
    return None


def write_workbook(*, content: ExportContent, path: Path, links: bool) -> None:
    """Write the workbook to ``path``; attachment cells link to their files when ``links``."""
    workbook = Workbook(write_only=True)
    workbook.properties.title = clean_text(content.campaign_title)
    workbook.properties.creator = "surveybot"
    summary_placeholder = _new_sheet(workbook, "styles")
    styles = _Styles(summary_placeholder)
    workbook.remove(summary_placeholder)
    _summary_sheet(workbook, content, styles, links=links)
    _report_sheet(workbook, content, styles)
    _progress_sheet(workbook, content, styles)
    _statistics_sheet(workbook, content, styles)
    _codebook_sheet(workbook, content, styles)
    workbook.save(path)
    logger.info("export of campaign %s: wrote %s", content.campaign_id, path)
