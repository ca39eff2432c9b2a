"""Where an XLSForm is wrong and how to fix it: places, problems, the error.

Every message names its place as ``form.xlsx › survey › row 12 › relevant``
(the file, the sheet, the row and the column header as the designer wrote
them), then what is wrong, then ``Fix:`` and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.loading import DefinitionError, Problem

SEPARATOR = " › "


@dataclass(frozen=True, slots=True)
class Place:
    """A sheet, and optionally a row (1-based, as the spreadsheet shows it) and a column header."""

    sheet: str | None = None
    row: int | None = None
    column: str | None = None

    def at(self, column: str | None) -> Place:
        """The same row, another column."""
        return Place(self.sheet, self.row, column)

    def render(self, source: str) -> str:
        parts = [source]
        if self.sheet is not None:
            parts.append(self.sheet)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(self.column)
        return SEPARATOR.join(parts)


@dataclass(frozen=True, slots=True)
class XLSFormProblem:
    """One thing wrong with (or, as a warning, dropped from) a form."""

    place: Place
    message: str
    fix: str | None = None

    def render(self, source: str, *, warning: bool = False) -> str:
        label = "warning: " if warning else ""
        text = f"{self.message}. Fix: {self.fix}" if self.fix else self.message
        return f"{self.place.render(source)}: {label}{text}"


class XLSFormError(DefinitionError):
    """An XLSForm is not a valid survey; ``xlsform_problems`` lists every reason with its place.

    A :class:`~bot.loading.DefinitionError`, so every command that reports an
    invalid YAML survey reports an invalid XLSForm the same way.
    """

    def __init__(self, source: str, problems: list[XLSFormProblem]) -> None:
        self.xlsform_problems = problems
        super().__init__(source, [Problem(problem.place.render(source), problem.message) for problem in problems])
        self.args = ("\n".join(problem.render(source) for problem in problems),)

    def __str__(self) -> str:
        return str(self.args[0])
