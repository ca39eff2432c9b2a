"""The cells of an XLSForm workbook, read with pyxform's own reader.

pyxform's backends (``xlsx_to_dict`` for .xlsx, ``xls_to_dict`` for .xls)
turn each sheet into a list of row dicts keyed by column header, keeping blank
rows so that row numbers stay true; they strip cells and turn non-breaking
spaces into spaces. This module adds what pyxform does not keep: each row's
number, the sheet names as written, and formula cells without a saved result
(a workbook written by a program and never opened in a spreadsheet app).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.xlsform.problems import Place, XLSFormProblem

logger = logging.getLogger(__name__)

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"
#: The header is row 1; data starts on row 2.
FIRST_DATA_ROW = 2


class WorkbookKind(StrEnum):
    XLSX = "xlsx"
    XLS = "xls"


def sniff_workbook(data: bytes) -> WorkbookKind | None:
    """The kind of workbook ``data`` is, by its first bytes; ``None`` for anything else."""
    if data.startswith(XLSX_MAGIC):
        return WorkbookKind.XLSX
    if data.startswith(XLS_MAGIC):
        return WorkbookKind.XLS
    return None


@dataclass(frozen=True, slots=True)
class Row:
    number: int
    cells: dict[str, str]

    def place(self, sheet: str, column: str | None = None) -> Place:
        return Place(sheet, self.number, column)


@dataclass(frozen=True, slots=True)
class Sheet:
    name: str  # as written in the workbook
    headers: tuple[str, ...]  # in column order
    rows: tuple[Row, ...]  # blank rows included, with empty cells
    #: Formula cells without a saved result, which read as blank: (row, header) → formula.
    unsaved_formulas: dict[tuple[int, str], str]


@dataclass(frozen=True, slots=True)
class Workbook:
    #: The XLSForm sheets by lowercase name (``survey``, ``choices``, ``settings``).
    sheets: dict[str, Sheet]
    #: Every sheet's name as written, in workbook order.
    sheet_names: tuple[str, ...]


class UnreadableWorkbook(Exception):
    """The bytes are not a workbook pyxform can read; ``problems`` say why."""

    def __init__(self, problems: list[XLSFormProblem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems


def read_workbook(data: bytes, *, kind: WorkbookKind) -> Workbook:
    """The XLSForm sheets of a workbook; raises :class:`UnreadableWorkbook`."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2json_backends import xls_to_dict, xlsx_to_dict

    reader = xlsx_to_dict if kind is WorkbookKind.XLSX else xls_to_dict
    try:
        book: dict[str, Any] = reader(io.BytesIO(data))
    except PyXFormError as error:
        raise UnreadableWorkbook([_read_error(str(error), kind)]) from None
    except Exception as error:  # a damaged file can fail deep inside openpyxl or xlrd
        logger.debug("pyxform could not read the workbook", exc_info=True)
        raise UnreadableWorkbook([_read_error(f"{type(error).__name__}: {error}", kind)]) from None
    names = tuple(str(name) for name in book.get("sheet_names", ()))
    formulas = _formulas(data) if kind is WorkbookKind.XLSX else {}
    sheets: dict[str, Sheet] = {}
    for name in names:
        key = name.lower()
        rows = book.get(key)
        if rows is None or key in sheets:
            continue
        header_rows = book.get(f"{key}_header") or [{}]
        read_rows = tuple(
            Row(number=index + FIRST_DATA_ROW, cells={str(k): str(v) for k, v in row.items()}) for index, row in enumerate(rows)
        )
        cells = {(row.number, header) for row in read_rows for header in row.cells}
        sheets[key] = Sheet(
            name=name,
            headers=tuple(str(header) for header in header_rows[0]),
            rows=read_rows,
            unsaved_formulas={place: formula for place, formula in formulas.get(name, {}).items() if place not in cells},
        )
    return Workbook(sheets=sheets, sheet_names=names)


def _read_error(message: str, kind: WorkbookKind) -> XLSFormProblem:
    if message.startswith("Duplicate column header: "):
        header = message.removeprefix("Duplicate column header: ")
        return XLSFormProblem(
            Place(),
            f"a sheet has two columns headed `{header}`",
            "keep one of them (pyxform reads each header once)",
        )
    return XLSFormProblem(
        Place(),
        f"cannot be read as an .{kind} workbook ({message})",
        "open it in Excel, WPS or LibreOffice and save it again as .xlsx",
    )


def _formulas(data: bytes) -> dict[str, dict[tuple[int, str], str]]:
    """Every formula cell below the header, by sheet name and (row, header)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # pyxform read it; trouble in a second reader only loses this check
        logger.debug("formula check skipped", exc_info=True)
        return {}
    found: dict[str, dict[tuple[int, str], str]] = {}
    try:
        for worksheet in book.worksheets:
            headers: list[str] = []
            for row_number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
                if row_number == 1:
                    headers = [" ".join(str(value).split()) if value is not None else "" for value in values]
                    continue
                for column, value in enumerate(values):
                    if isinstance(value, str) and value.startswith("=") and column < len(headers) and headers[column]:
                        found.setdefault(worksheet.title, {})[(row_number, headers[column])] = value
    finally:
        book.close()
    return found
