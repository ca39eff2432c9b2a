"""A survey file on disk, YAML or XLSForm, loaded by what it is.

Every command that takes a survey file goes through :func:`load_survey_file`:
``.yaml``/``.yml`` is our YAML format (:mod:`bot.loading`), ``.xlsx``/``.xls``
an XLSForm (:mod:`bot.xlsform`). The content is checked against the suffix
(an .xlsx is a ZIP archive, an .xls an OLE2 compound file), so a file whose
suffix lies is named as what it is; a file with another suffix is read as
what its content is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

from bot.core.loading import DefinitionError, Problem, parse_survey
from bot.core.survey import Survey

logger = logging.getLogger(__name__)

#: Workbooks carry styles and shared strings; a form is still far below this.
MAX_WORKBOOK_BYTES: Final = 10 * 1024 * 1024


class SurveyFormat(StrEnum):
    YAML = "yaml"
    XLSX = "xlsx"
    XLS = "xls"


SUFFIXES: Final[dict[str, SurveyFormat]] = {
    ".yaml": SurveyFormat.YAML,
    ".yml": SurveyFormat.YAML,
    ".xlsx": SurveyFormat.XLSX,
    ".xls": SurveyFormat.XLS,
}


@dataclass(frozen=True, slots=True)
class SurveyFile:
    """A valid survey file: the survey, and one line per thing dropped while reading it."""

    survey: Survey
    format: SurveyFormat
    warnings: tuple[str, ...] = ()


def format_of(data: bytes) -> SurveyFormat:
    """What ``data`` is by its first bytes: a workbook, or else YAML text."""
    from bot.xlsform.workbook import WorkbookKind, sniff_workbook

    kind = sniff_workbook(data)
    if kind is WorkbookKind.XLSX:
        return SurveyFormat.XLSX
    if kind is WorkbookKind.XLS:
        return SurveyFormat.XLS
    return SurveyFormat.YAML


def load_survey_file(path: str | Path) -> SurveyFile:
    """Read, validate and compile the survey file at ``path``; raises :class:`DefinitionError`."""
    source = str(path)

    def fail(message: str) -> DefinitionError:
        return DefinitionError(source, [Problem("", message)])

    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise fail("file not found; check the path") from None
    except IsADirectoryError:
        raise fail("is a directory; name a .yaml or .xlsx file") from None
    except OSError as error:
        raise fail(f"cannot be read ({error.strerror})") from None
    return load_survey_data(data, source=source)


def load_survey_data(data: bytes, *, source: str) -> SurveyFile:
    """Validate and compile a survey file's bytes; ``source`` is its name (suffix and messages).

    The console's upload goes through here with the uploaded file's name, so
    its messages are exactly those ``surveybot validate NAME`` prints.
    """

    def fail(message: str) -> DefinitionError:
        return DefinitionError(source, [Problem("", message)])

    found = format_of(data)
    named = SUFFIXES.get(Path(source).suffix.lower())
    if named is not None and named is not found:
        raise fail(_lying_suffix(named, found, Path(source).suffix))
    if found is SurveyFormat.YAML:
        return SurveyFile(survey=parse_survey(data, source=source), format=found)
    if len(data) > MAX_WORKBOOK_BYTES:
        raise fail(f"is larger than {MAX_WORKBOOK_BYTES // 1024 // 1024} MB; is it really a survey form?")
    from bot.xlsform.reader import read_xlsform
    from bot.xlsform.workbook import WorkbookKind

    result = read_xlsform(data, source=source, kind=WorkbookKind(found.value))
    return SurveyFile(
        survey=result.survey,
        format=found,
        warnings=tuple(warning.render(source, warning=True) for warning in result.warnings),
    )


def load_survey(path: str | Path) -> Survey:
    """The survey of the file at ``path``, for callers that have no use for warnings."""
    return load_survey_file(path).survey


def _lying_suffix(named: SurveyFormat, found: SurveyFormat, suffix: str) -> str:
    what = {
        SurveyFormat.YAML: "text (not a workbook)",
        SurveyFormat.XLSX: "an .xlsx workbook",
        SurveyFormat.XLS: "an .xls workbook (Excel 97-2003)",
    }[found]
    fix = {
        SurveyFormat.YAML: "save it as .yaml, or save the form from Excel, WPS or LibreOffice as .xlsx",
        SurveyFormat.XLSX: "rename it to .xlsx",
        SurveyFormat.XLS: "rename it to .xls",
    }[found]
    return f"is named {suffix} but is {what}; {fix}"
