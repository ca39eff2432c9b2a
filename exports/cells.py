"""Cell values that are safe to write and columns sized for Chinese text.

Safety. Respondents type whatever they like, and a spreadsheet must never
turn that into a formula, an error value or a broken file:

* every piece of text goes through :func:`clean_text`, which removes the
  characters XML 1.0 cannot hold (C0 control characters other than tab, line
  feed and carriage return — NUL included —, lone surrogates, U+FFFE and
  U+FFFF; openpyxl would raise ``IllegalCharacterError`` on the first ones and
  write an unreadable file with the others), turns carriage returns (and
  CR LF) into line feeds — XML readers, Excel included, do that to a raw CR
  anyway, and a line break in a cell is a line feed —, and cuts the text at
  Excel's 32,767 characters per cell;
* text is always written as a string cell (``data_type 's'``, an inline
  string). Text that a spreadsheet program could read as a formula or an
  error code — beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return, or equal to ``#N/A`` and the like — additionally carries Excel's
  *quote prefix* style, so that even editing the cell in Excel keeps it text
  (a leading line feed, which is what a leading carriage return becomes,
  counts as risky too).
  :func:`is_risky_text` says which text that is.

Widths. :func:`display_width` counts East Asian wide and fullwidth
characters (``unicodedata.east_asian_width`` W or F) as two columns and the
others as one; a regular expression built from the Unicode tables keeps that
fast on long report texts (a test checks it against :mod:`unicodedata` for
every assigned code point). :class:`ColumnWidths` tracks the widest cell of
each column, up to a cap, while the rows stream by.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Final

from openpyxl.cell.cell import ERROR_CODES

logger = logging.getLogger(__name__)

#: Excel's limit on the characters of one cell.
MAX_CELL_CHARACTERS: Final = 32_767

#: Characters XML 1.0 cannot contain (tab, LF and CR are allowed).
_ILLEGAL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: The first characters that make a spreadsheet program evaluate text.
FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r", "\n")
_ERROR_CODES: Final = frozenset(ERROR_CODES)

#: East Asian Wide (W) and Fullwidth (F) assigned code points (Unicode 14, as in
#: Python 3.11's unicodedata), as merged ranges.
_WIDE_RANGES: Final[tuple[tuple[int, int], ...]] = (
    (0x1100, 0x115F), (0x231A, 0x231B), (0x2329, 0x232A), (0x23E9, 0x23EC), (0x23F0, 0x23F0),
    (0x23F3, 0x23F3), (0x25FD, 0x25FE), (0x2614, 0x2615), (0x2648, 0x2653), (0x267F, 0x267F),
    (0x2693, 0x2693), (0x26A1, 0x26A1), (0x26AA, 0x26AB), (0x26BD, 0x26BE), (0x26C4, 0x26C5),
    (0x26CE, 0x26CE), (0x26D4, 0x26D4), (0x26EA, 0x26EA), (0x26F2, 0x26F3), (0x26F5, 0x26F5),
    (0x26FA, 0x26FA), (0x26FD, 0x26FD), (0x2705, 0x2705), (0x270A, 0x270B), (0x2728, 0x2728),
    (0x274C, 0x274C), (0x274E, 0x274E), (0x2753, 0x2755), (0x2757, 0x2757), (0x2795, 0x2797),
    (0x27B0, 0x27B0), (0x27BF, 0x27BF), (0x2B1B, 0x2B1C), (0x2B50, 0x2B50), (0x2B55, 0x2B55),
    (0x2E80, 0x303E), (0x3041, 0x3247), (0x3250, 0x4DBF), (0x4E00, 0xA4C6), (0xA960, 0xA97C),
    (0xAC00, 0xD7A3), (0xF900, 0xFAD9), (0xFE10, 0xFE19), (0xFE30, 0xFE6B), (0xFF01, 0xFF60),
    (0xFFE0, 0xFFE6), (0x16FE0, 0x1B2FB), (0x1F004, 0x1F004), (0x1F0CF, 0x1F0CF),
    (0x1F18E, 0x1F18E), (0x1F191, 0x1F19A), (0x1F200, 0x1F320), (0x1F32D, 0x1F335),
    (0x1F337, 0x1F37C), (0x1F37E, 0x1F393), (0x1F3A0, 0x1F3CA), (0x1F3CF, 0x1F3D3),
    (0x1F3E0, 0x1F3F0), (0x1F3F4, 0x1F3F4), (0x1F3F8, 0x1F43E), (0x1F440, 0x1F440),
    (0x1F442, 0x1F4FC), (0x1F4FF, 0x1F53D), (0x1F54B, 0x1F54E), (0x1F550, 0x1F567),
    (0x1F57A, 0x1F57A), (0x1F595, 0x1F596), (0x1F5A4, 0x1F5A4), (0x1F5FB, 0x1F64F),
    (0x1F680, 0x1F6C5), (0x1F6CC, 0x1F6CC), (0x1F6D0, 0x1F6D2), (0x1F6D5, 0x1F6DF),
    (0x1F6EB, 0x1F6EC), (0x1F6F4, 0x1F6FC), (0x1F7E0, 0x1F7F0), (0x1F90C, 0x1F93A),
    (0x1F93C, 0x1F945), (0x1F947, 0x1F9FF), (0x1FA70, 0x1FAF6), (0x20000, 0x3134A),
)
_WIDE_RUN: Final = re.compile(
    "[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in _WIDE_RANGES) + "]+"
)

#: Extra characters of room in a column, besides its widest text.
WIDTH_PADDING: Final = 2
MIN_COLUMN_WIDTH: Final = 6
#: A header never makes its column wider than this; a longer header wraps.
HEADER_CAP: Final = 24


def clean_text(text: str) -> str:
    """``text`` without XML-illegal characters, line breaks as ``\n``, cut to Excel's cell limit."""
    text = xml_text(text)
    if len(text) > MAX_CELL_CHARACTERS:
        text = text[:MAX_CELL_CHARACTERS]
    return text


def xml_text(text: str) -> str:
    """``text`` without XML-illegal characters and with line breaks as ``\n``, of any length.

    :func:`clean_text` without the spreadsheet's length limit: the report book's rule.
    """
    if _ILLEGAL.search(text) is not None:
        text = _ILLEGAL.sub("", text)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def is_risky_text(text: str) -> bool:
    """Whether a spreadsheet program could read ``text`` as a formula or an error value."""
    return text.startswith(FORMULA_PREFIXES) or text in _ERROR_CODES


def line_width(line: str) -> int:
    """Columns one line of text takes: wide and fullwidth characters count two."""
    if line.isascii():
        return len(line)
    return len(line) + sum(map(len, _WIDE_RUN.findall(line)))


def display_width(text: str, *, limit: int | None = None) -> int:
    """The widest line of ``text`` in columns; with ``limit``, at most ``limit``.

    With a limit only the first ``limit`` characters of each line are looked
    at (no line of ``limit`` characters is narrower than ``limit``), which
    keeps measuring long report texts cheap.
    """
    widest = 0
    for line in text.split("\n") if "\n" in text else (text,):
        if limit is not None:
            line = line[:limit]
        widest = max(widest, line_width(line))
        if limit is not None and widest >= limit:
            return limit
    return widest


class ColumnWidths:
    """The widest value seen in each column of a sheet, capped per column.

    A column whose text reached its cap, or held a line break, is a column
    to wrap (:meth:`wraps`). Headers count up to :data:`HEADER_CAP` only:
    a longer header wraps instead of widening its column.
    """

    __slots__ = ("caps", "widths", "headers", "_multiline")

    def __init__(self, caps: Sequence[int], headers: Sequence[str] = ()) -> None:
        self.caps: list[int] = list(caps)
        self.widths: list[int] = [0] * len(self.caps)
        self._multiline: list[bool] = [False] * len(self.caps)
        self.headers: list[int] = [0] * len(self.caps)
        for index, header in enumerate(headers):
            self.headers[index] = display_width(header, limit=HEADER_CAP)

    def see_text(self, index: int, text: str) -> None:
        cap = self.caps[index]
        width = self.widths[index]
        if width >= cap or 2 * len(text) <= width:  # no character is wider than two columns
            return
        if "\n" in text:
            self._multiline[index] = True
        width = display_width(text, limit=cap)
        if width > self.widths[index]:
            self.widths[index] = width

    def see_width(self, index: int, width: int) -> None:
        if width > self.widths[index]:
            self.widths[index] = min(width, self.caps[index])

    def wraps(self, index: int) -> bool:
        """Whether some text of the column is wider than the column or spans lines."""
        return self._multiline[index] or self.widths[index] >= self.caps[index]

    def content_width(self, index: int) -> int:
        return max(self.widths[index], self.headers[index], MIN_COLUMN_WIDTH - WIDTH_PADDING)

    def final(self, index: int) -> float:
        """The column width to give Excel."""
        return float(self.content_width(index) + WIDTH_PADDING)

    def header_lines(self, index: int, header: str) -> int:
        """How many lines ``header`` takes once wrapped in the column (an estimate)."""
        room = max(self.content_width(index), 1)
        total = 0
        for line in header.split("\n"):
            total += max(1, -(-line_width(line) // room))
        return total
