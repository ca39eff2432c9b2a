"""An XLSForm workbook → the survey dict of our YAML format → the same checks as YAML.

The reader walks the survey sheet row by row (a stack of open groups, like
pyxform), builds exactly the dict a YAML survey file holds and remembers the
place (sheet, row, column) of every element in it. It reports what XLSForm
says that we cannot do; everything else is checked by :mod:`bot.loading`,
whose messages are then given the place of the element they are about. All
problems are reported at once.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Final

from bot.core.catalog import translate
from bot.core.definition import OTHER_VALUE, QUESTION_ID_PATTERN, QuestionType
from bot.core.loading import DefinitionError, Problem, parse_survey
from bot.core.survey import Survey
from bot.xlsform.columns import Column, SheetName, Use, read_header
from bot.xlsform.expressions import ExpressionProblem, check, inline_calculations, references, translate_expression
from bot.xlsform.languages import language_code
from bot.xlsform.problems import Place, XLSFormError, XLSFormProblem
from bot.xlsform.question_types import (
    MULTILINE_APPEARANCE,
    SURVEYBOT_TYPES,
    Kind,
    TypeCell,
    read_type,
)
from bot.xlsform.workbook import Row, Sheet, UnreadableWorkbook, Workbook, WorkbookKind, read_workbook

logger = logging.getLogger(__name__)

_YES: Final = frozenset({"yes", "true", "true()", "1"})
_NO: Final = frozenset({"no", "false", "false()", "0"})
_CJK: Final = re.compile(r"[\u3400-\u9fff]")
_IDENTIFIER: Final = re.compile(QUESTION_ID_PATTERN)
#: The id of a section made of questions outside any top-level group.
IMPLICIT_SECTION_ID: Final = "questions"
DEFAULT_VERSION: Final = "1"
#: Our type-specific fields and the columns they come from.
_EXTRA_COLUMNS: Final[dict[str, str]] = {
    "max_length": "surveybot_max_length",
    "pattern": "surveybot_pattern",
    "min": "surveybot_min",
    "max": "surveybot_max",
    "min_selected": "surveybot_min_selected",
    "max_selected": "surveybot_max_selected",
    "max_size_mb": "surveybot_max_size_mb",
    "prefill": "surveybot_prefill",
    "change_of": "surveybot_change_of",
}
_TYPE_LIST: Final = "text, integer, decimal, date, note, file, select_one LIST, select_multiple LIST, begin_group, end_group"


@dataclass(frozen=True, slots=True)
class ReadResult:
    """A valid form: the survey, and what was dropped from it on the way (warnings)."""

    survey: Survey
    warnings: tuple[XLSFormProblem, ...]


def read_xlsform(data: bytes, *, source: str, kind: WorkbookKind) -> ReadResult:
    """Read, map and validate an XLSForm; raises :class:`XLSFormError` listing every problem."""
    try:
        workbook = read_workbook(data, kind=kind)
    except UnreadableWorkbook as error:
        raise XLSFormError(source, error.problems) from None
    return _FormReader(workbook, source=source).read()


@dataclass(slots=True)
class _Choice:
    name: str
    label: Any
    row: Row


@dataclass(slots=True)
class _Frame:
    """An open group or repeat."""

    name: str
    row: Row
    repeat: bool
    #: Its relevant (already translated), with the place it was written.
    relevant: tuple[str, Place] | None
    #: The index of the section it opened, for a top-level group.
    section: int | None


@dataclass(slots=True)
class _Section:
    raw: dict[str, Any]
    place: Place
    implicit: bool
    open: bool = True
    locations: dict[str, Place] = field(default_factory=dict)


class _FormReader:
    def __init__(self, workbook: Workbook, *, source: str) -> None:
        self.workbook = workbook
        self.source = source
        self.problems: list[XLSFormProblem] = []
        self.warnings: list[XLSFormProblem] = []
        self.locations: dict[str, Place] = {}
        self.columns: dict[SheetName, list[Column]] = {}
        self.languages: list[str] = []
        self.plain_language: str | None = None
        self.metadata_names: set[str] = set()
        self.group_names: set[str] = set()
        self.question_rows: dict[str, int] = {}
        self.calculations: dict[str, tuple[Row, str]] = {}
        self.resolved: dict[str, str | None] = {}
        #: Columns left unread for a reported reason (a misspelt header, a language without a code):
        #: a text missing from them needs no second problem.
        self.unreadable_columns: set[str] = set()

    # -- the stages --------------------------------------------------------------------

    def read(self) -> ReadResult:
        survey_sheet = self._sheet(SheetName.SURVEY)
        if survey_sheet is None:
            names = ", ".join(self.workbook.sheet_names) or "none"
            raise XLSFormError(
                self.source,
                [
                    XLSFormProblem(
                        Place(),
                        f"has no sheet named `survey` (its sheets: {names})",
                        "name the sheet that lists the questions `survey`",
                    )
                ],
            )
        for sheet_name in SheetName:
            sheet = self._sheet(sheet_name)
            if sheet is not None:
                self.columns[sheet_name] = self._read_headers(sheet, sheet_name)
        if not any(column.name == "type" for column in self.columns[SheetName.SURVEY]):
            self.problems.append(
                XLSFormProblem(
                    Place(survey_sheet.name, 1),
                    "has no `type` column",
                    "head the columns of the survey sheet type, name, label (see docs/survey-format.md)",
                )
            )
            raise XLSFormError(self.source, self.problems)
        self._read_languages()
        settings = self._read_settings()
        lists = self._read_choices()
        self._collect_calculations(survey_sheet)
        sections = self._read_survey(survey_sheet, lists, settings["title"])
        self.locations["sections"] = Place(survey_sheet.name)
        if not sections and not self.problems:
            self.problems.append(
                XLSFormProblem(Place(survey_sheet.name), "has no questions", "add one row per question below the header row")
            )
        raw: dict[str, Any] = {key: value for key, value in settings.items() if value is not None}
        raw["languages"] = self.languages
        raw["sections"] = []
        for section in sections:
            index = len(raw["sections"])
            raw["sections"].append(section.raw)
            for path, place in section.locations.items():
                self.locations[f"sections[{index}]{path}"] = place
        return self._validate(raw)

    def _validate(self, raw: dict[str, Any]) -> ReadResult:
        text = json.dumps(raw, ensure_ascii=False)
        try:
            survey = parse_survey(text, source=self.source)
        except DefinitionError as error:
            # A cell that already has a problem of ours (a formula, a misspelt header) needs no second one.
            reported = {problem.place for problem in self.problems}
            seen: set[tuple[Place, str]] = set()
            for problem in error.problems:
                located = self._locate(problem)
                if located.place in reported or located.place.column in self.unreadable_columns:
                    continue
                if (located.place, located.message) not in seen:
                    seen.add((located.place, located.message))
                    self.problems.append(located)
            raise XLSFormError(self.source, self.problems) from None
        if self.problems:
            raise XLSFormError(self.source, self.problems)
        return ReadResult(survey=survey, warnings=tuple(self.warnings))

    def _locate(self, problem: Problem) -> XLSFormProblem:
        """A loader problem, placed in the workbook."""
        parts = re.findall(r"[^.\[\]]+|\[\d+\]", problem.path)
        place = Place()
        field_name: str | None = None
        for end in range(len(parts), -1, -1):
            key = "".join(part if part.startswith("[") or index == 0 else f".{part}" for index, part in enumerate(parts[:end]))
            if key in self.locations:
                place = self.locations[key]
                rest = parts[end:]
                field_name = rest[0] if rest and not rest[0].startswith("[") else None
                break
        missing = re.match(r"`(\w+)` is required", problem.message)
        if missing and f"{problem.path}.{missing[1]}" in self.locations:
            place = self.locations[f"{problem.path}.{missing[1]}"]
        elif missing and place.column is None:
            place = place.at(missing[1])
        if field_name is not None and place.column is None:
            place = place.at(field_name)
        what, _, how = problem.message.partition("; ")
        return XLSFormProblem(place, what, how or None)

    # -- sheets and headers ---------------------------------------------------------------

    def _sheet(self, name: SheetName) -> Sheet | None:
        return self.workbook.sheets.get(name.value)

    def _read_headers(self, sheet: Sheet, sheet_name: SheetName) -> list[Column]:
        columns = [read_header(header, sheet=sheet_name) for header in sheet.headers]
        for column in columns:
            place = Place(sheet.name, 1, column.header)
            filled = [row for row in sheet.rows if row.cells.get(column.header)]
            if column.spec is None:
                if column.likely is not None:
                    self.unreadable_columns.add(column.likely)
                    self.problems.append(
                        XLSFormProblem(
                            place,
                            f"unknown column `{column.header}`",
                            f"correct the header: {column.header} → {column.likely}",
                        )
                    )
                elif filled and sheet_name is not SheetName.CHOICES:  # choices may hold choice_filter columns
                    self.warnings.append(
                        XLSFormProblem(place, f"the column `{column.header}` is not an XLSForm column; it is ignored")
                    )
                continue
            if column.spec.translatable and column.language is not None and column.code is None:
                self.unreadable_columns.add(column.name or column.header)
                self.problems.append(
                    XLSFormProblem(
                        place,
                        f"the language `{column.language}` has no language code",
                        f"name it with its code, e.g. `{column.name}::English (en)` or `{column.name}::Chinese (zh)`",
                    )
                )
            if column.spec.use is Use.IGNORE and filled:
                self.warnings.append(XLSFormProblem(place, f"the column `{column.header}` is ignored: {column.spec.reason}"))
            if column.spec.use is Use.REFUSE:
                for row in filled:
                    self.problems.append(
                        XLSFormProblem(row.place(sheet.name, column.header), column.spec.reason, column.spec.fix)
                    )
        return columns

    # -- languages ------------------------------------------------------------------------

    def _translatable(self) -> list[tuple[SheetName, Column]]:
        return [
            (sheet_name, column)
            for sheet_name, columns in self.columns.items()
            for column in columns
            if column.spec is not None and column.spec.translatable and column.spec.use is Use.READ
        ]

    def _read_languages(self) -> None:
        coded = [column.code for _, column in self._translatable() if column.code is not None]
        plain = [(sheet_name, column) for sheet_name, column in self._translatable() if column.language is None]
        default: str | None = None
        settings = self._sheet(SheetName.SETTINGS)
        if settings is not None:
            for row in settings.rows[:1]:
                value = self._cell(row, SheetName.SETTINGS, "default_language")
                if value:
                    default = self._language_of(
                        value, row.place(settings.name, self._header(SheetName.SETTINGS, "default_language"))
                    )
        if default is None and plain:
            if coded:
                sheet_name, column = plain[0]
                sheet = self._sheet(sheet_name)
                assert sheet is not None
                self.problems.append(
                    XLSFormProblem(
                        Place(sheet.name, 1, column.header),
                        f"`{column.header}` has no language while other columns name theirs",
                        f"name its language, e.g. `{column.name}::Chinese (zh)`, or set default_language in the settings sheet",
                    )
                )
                default = coded[0]
            else:
                default = self._guess_language()
        ordered = ([default] if default else []) + coded
        self.languages = list(dict.fromkeys(ordered)) or ["en"]
        self.plain_language = default or self.languages[0]

    def _language_of(self, value: str, place: Place) -> str | None:
        code = language_code(value)
        if code is None:
            self.problems.append(
                XLSFormProblem(
                    place,
                    f"`{value}` names no language code",
                    "write the language as its name and code, e.g. `Chinese (zh)` or `English (en)`",
                )
            )
        return code

    def _guess_language(self) -> str:
        texts = [
            value
            for sheet_name, column in self._translatable()
            if (sheet := self._sheet(sheet_name)) is not None
            for row in sheet.rows
            if (value := row.cells.get(column.header))
        ]
        code = "zh" if any(_CJK.search(text) for text in texts) else "en"
        survey = self._sheet(SheetName.SURVEY)
        self.warnings.append(
            XLSFormProblem(
                Place(survey.name if survey else None),
                f"no column names its language; the texts are taken as `{code}`",
                f"set default_language in the settings sheet, e.g. `{'Chinese (zh)' if code == 'zh' else 'English (en)'}`",
            )
        )
        return code

    # -- cells ----------------------------------------------------------------------------

    def _header(self, sheet_name: SheetName, name: str) -> str | None:
        for column in self.columns.get(sheet_name, ()):
            if column.name == name and column.language is None:
                return column.header
        return None

    def _cell(self, row: Row, sheet_name: SheetName, name: str) -> str | None:
        header = self._header(sheet_name, name)
        if header is None:
            return None
        value = row.cells.get(header, "").strip()
        return value or None

    def _text(self, row: Row, sheet_name: SheetName, name: str) -> tuple[Any, str | None]:
        """A localized text from the columns of ``name`` (a string or a language map), and its first header."""
        values: dict[str, str] = {}
        first: str | None = None
        for column in self.columns.get(sheet_name, ()):
            if column.name != name or column.spec is None or not column.spec.translatable:
                continue
            value = row.cells.get(column.header, "").strip()
            if not value:
                continue
            code = column.code if column.language is not None else self.plain_language
            if code is None or (column.language is None and code in values):
                continue  # a coded column wins over the plain one for the same language
            values[code] = value
            first = first or column.header
        if not values:
            return None, first
        if len(self.languages) == 1:
            return next(iter(values.values())), first
        if set(values) == set(self.languages) and len(set(values.values())) == 1:
            return next(iter(values.values())), first  # the same in every language: one plain text
        return values, first

    # -- settings ---------------------------------------------------------------------------

    def _read_settings(self) -> dict[str, Any]:
        sheet = self._sheet(SheetName.SETTINGS)
        row = sheet.rows[0] if sheet is not None and sheet.rows else None
        name = sheet.name if sheet is not None else SheetName.SETTINGS.value  # where to add it
        settings_place = Place(name, 2 if row else None)

        def cell(column: str) -> str | None:
            return self._cell(row, SheetName.SETTINGS, column) if row else None

        form_id = cell("form_id")
        if form_id is None:
            stem = PurePath(self.source).stem.lower()
            form_id = re.sub(r"[^a-z0-9_-]+", "-", stem).strip("-_") or "survey"
            self.warnings.append(
                XLSFormProblem(
                    settings_place.at("form_id"),
                    f"no form_id; the survey id is taken from the file name: `{form_id}`",
                    "set form_id in the settings sheet",
                )
            )
        self.locations["id"] = settings_place.at(self._header(SheetName.SETTINGS, "form_id") or "form_id")
        version = cell("version")
        if version is None:
            version = DEFAULT_VERSION
            self.warnings.append(
                XLSFormProblem(
                    settings_place.at("version"),
                    f"no version; the survey is version {DEFAULT_VERSION}",
                    "set version in the settings sheet and raise it whenever the survey changes",
                )
            )
        self.locations["version"] = settings_place.at("version")
        title, title_header = self._text(row, SheetName.SETTINGS, "surveybot_title") if row else (None, None)
        if title is None:
            title = cell("form_title") or form_id
            title_header = "form_title"
        self.locations["title"] = settings_place.at(title_header)
        intro, intro_header = self._text(row, SheetName.SETTINGS, "surveybot_intro") if row else (None, None)
        self.locations["intro"] = settings_place.at(intro_header)
        self.locations["languages"] = settings_place.at("default_language")
        return {"id": form_id, "version": version, "title": title, "intro": intro}

    # -- choices ----------------------------------------------------------------------------

    def _read_choices(self) -> dict[str, list[_Choice]]:
        sheet = self._sheet(SheetName.CHOICES)
        lists: dict[str, list[_Choice]] = {}
        if sheet is None:
            return lists
        seen: dict[tuple[str, str], int] = {}
        for row in sheet.rows:
            self._report_formulas(sheet, row)
            list_name = self._cell(row, SheetName.CHOICES, "list_name")
            name = self._cell(row, SheetName.CHOICES, "name")
            label, _ = self._text(row, SheetName.CHOICES, "label")
            if list_name is None and name is None and label is None:
                continue
            if list_name is None:
                self.problems.append(
                    XLSFormProblem(
                        row.place(sheet.name, "list_name"),
                        "the choice has no list_name",
                        "write the name of the list it belongs to",
                    )
                )
                continue
            if name is None:
                self.problems.append(
                    XLSFormProblem(
                        row.place(sheet.name, "name"),
                        f"the choice of list `{list_name}` has no name",
                        "write the value stored when it is chosen (letters, digits, _ . -)",
                    )
                )
                continue
            if (list_name, name) in seen:
                self.problems.append(
                    XLSFormProblem(
                        row.place(sheet.name, self._header(SheetName.CHOICES, "name")),
                        f"`{name}` is already a choice of list `{list_name}` (row {seen[(list_name, name)]})",
                        "give each choice of a list its own name",
                    )
                )
                continue
            seen[(list_name, name)] = row.number
            lists.setdefault(list_name, []).append(_Choice(name, label, row))
        return lists

    # -- calculations -------------------------------------------------------------------------

    def _collect_calculations(self, sheet: Sheet) -> None:
        """Calculate rows, metadata rows and groups by name: an expression may refer to a later row."""
        for row in sheet.rows:
            type_cell = self._cell(row, SheetName.SURVEY, "type")
            name = self._cell(row, SheetName.SURVEY, "name")
            if not (type_cell and name):
                continue
            spec = read_type(type_cell).spec
            kind = spec.kind if spec is not None else None
            if kind is Kind.CALCULATE:
                self.calculations[name] = (row, self._cell(row, SheetName.SURVEY, "calculation") or "")
            elif kind is Kind.METADATA:
                self.metadata_names.add(name)
            elif kind in {Kind.BEGIN_GROUP, Kind.BEGIN_REPEAT}:
                self.group_names.add(name)

    def _calculation(self, name: str, trail: tuple[str, ...] = ()) -> str | None:
        """The translated expression of the calculate row ``name``, or ``None`` if it has a problem."""
        if name in self.resolved:
            return self.resolved[name]
        sheet = self._sheet(SheetName.SURVEY)
        assert sheet is not None
        row, text = self.calculations[name]
        place = row.place(sheet.name, self._header(SheetName.SURVEY, "calculation") or "calculation")
        result: str | None = None
        if name in trail:
            self.problems.append(XLSFormProblem(place, f"the calculation of `{name}` depends on itself", "remove the loop"))
        elif not text:
            self.problems.append(XLSFormProblem(place, f"the calculate row `{name}` has no calculation", "write its expression"))
        else:
            result = self._expression(text, place, trail=(*trail, name), dot_allowed=False)
        self.resolved[name] = result
        return result

    def _expression(self, text: str, place: Place, *, trail: tuple[str, ...] = (), dot_allowed: bool = True) -> str | None:
        """``text`` translated, calculations inlined; ``None`` (and a problem) if it cannot be."""
        try:
            source = translate_expression(text)
        except ExpressionProblem as problem:
            self.problems.append(XLSFormProblem(place, problem.message, problem.fix))
            return None
        calculations: dict[str, str] = {}
        for name in references(source):
            if name in self.calculations:
                inlined = self._calculation(name, trail)
                if inlined is None:
                    return None  # its problem is reported on its own row
                calculations[name] = inlined
            elif name in self.metadata_names:
                self.problems.append(
                    XLSFormProblem(
                        place,
                        f"refers to ${{{name}}}, a metadata row that surveybot drops (in {source!r})",
                        "remove the reference",
                    )
                )
                return None
            elif name in self.group_names:
                self.problems.append(
                    XLSFormProblem(
                        place,
                        f"refers to the group ${{{name}}}, which has no value (in {source!r})",
                        "refer to a question of the group",
                    )
                )
                return None
        if calculations:
            source = inline_calculations(source, calculations)
            try:
                check(source)
            except ExpressionProblem as problem:
                self.problems.append(XLSFormProblem(place, problem.message, problem.fix))
                return None
        if not dot_allowed and re.search(r"(?<![\w.])\.(?![\w.])", re.sub(r"'[^']*'|\"[^\"]*\"", "''", source)):
            self.problems.append(
                XLSFormProblem(place, f"a calculation cannot use `.` (in {source!r})", "refer to questions as ${name}")
            )
            return None
        return source

    def _report_formulas(self, sheet: Sheet, row: Row) -> None:
        for (number, header), formula in sheet.unsaved_formulas.items():
            if number == row.number:
                self.problems.append(
                    XLSFormProblem(
                        row.place(sheet.name, header),
                        f"is a formula ({formula}) whose result was never saved, so it reads as empty",
                        "open and save the workbook in Excel, WPS or LibreOffice, or type the value instead",
                    )
                )

    # -- the survey sheet -------------------------------------------------------------------

    def _read_survey(self, sheet: Sheet, lists: dict[str, list[_Choice]], title: Any) -> list[_Section]:
        sections: list[_Section] = []
        stack: list[_Frame] = []
        for row in sheet.rows:
            self._report_formulas(sheet, row)
            if not row.cells:
                continue
            type_text = self._cell(row, SheetName.SURVEY, "type")
            name = self._cell(row, SheetName.SURVEY, "name")
            type_place = row.place(sheet.name, self._header(SheetName.SURVEY, "type") or "type")
            if type_text is None:
                label, _ = self._text(row, SheetName.SURVEY, "label")
                if name is not None or label is not None:
                    self.problems.append(
                        XLSFormProblem(type_place, "the row has no type", f"write its type, one of: {_TYPE_LIST}")
                    )
                continue
            cell = read_type(type_text)
            if cell.spec is None:
                fix = f"write `{cell.suggestion}`" if cell.suggestion else f"use one of: {_TYPE_LIST}"
                self.problems.append(XLSFormProblem(type_place, f"unknown question type `{type_text}`", fix))
                continue
            kind = cell.spec.kind
            if kind is Kind.METADATA:
                if name:
                    self.metadata_names.add(name)
                extra = " (for an e-mail question use type text with surveybot_type email)" if cell.name == "email" else ""
                self.warnings.append(
                    XLSFormProblem(
                        type_place,
                        f"the metadata row `{type_text}` is dropped: the bot records who answered and when itself{extra}",
                    )
                )
                continue
            if kind is Kind.CALCULATE:
                if name:
                    self._calculation(name)
                continue
            if kind in {Kind.BEGIN_GROUP, Kind.BEGIN_REPEAT}:
                self._begin_group(sheet, row, cell, name, stack, sections)
                continue
            if kind in {Kind.END_GROUP, Kind.END_REPEAT}:
                self._end_group(sheet, row, kind, stack, sections, type_place)
                continue
            section = self._current_section(stack, sections, row, sheet, title)
            question, locations = self._question(sheet, row, cell, name, stack, lists)
            if question is None:
                continue
            index = len(section.raw["questions"])
            section.raw["questions"].append(question)
            for path, place in locations.items():
                section.locations[f".questions[{index}]{path}"] = place
        for frame in reversed(stack):
            self.problems.append(
                XLSFormProblem(
                    frame.row.place(sheet.name, self._header(SheetName.SURVEY, "type")),
                    f"`{'begin_repeat' if frame.repeat else 'begin_group'} {frame.name}` is never closed",
                    f"add an `{'end_repeat' if frame.repeat else 'end_group'}` row after its last question",
                )
            )
        return sections

    def _begin_group(
        self,
        sheet: Sheet,
        row: Row,
        cell: TypeCell,
        name: str | None,
        stack: list[_Frame],
        sections: list[_Section],
    ) -> None:
        repeat = cell.spec is not None and cell.spec.kind is Kind.BEGIN_REPEAT
        type_place = row.place(sheet.name, self._header(SheetName.SURVEY, "type"))
        if repeat:
            self.problems.append(
                XLSFormProblem(
                    type_place,
                    "repeats are not supported",
                    "ask for a fixed number of items with one question each, or ask for a table as a `file`",
                )
            )
        if name is None:
            self.problems.append(
                XLSFormProblem(
                    row.place(sheet.name, "name"), "the group has no name", "give it a name: lowercase letters, digits and _"
                )
            )
            name = f"group_row_{row.number}"
        self.group_names.add(name)
        relevant_text = self._cell(row, SheetName.SURVEY, "relevant")
        relevant: tuple[str, Place] | None = None
        if relevant_text:
            place = row.place(sheet.name, self._header(SheetName.SURVEY, "relevant"))
            translated = self._expression(relevant_text, place)
            if translated is not None:
                relevant = (translated, place)
        section_index: int | None = None
        if not stack and not repeat:
            label, label_header = self._text(row, SheetName.SURVEY, "label")
            for section in sections:
                section.open = False
            section = _Section(raw={"id": name, "title": label, "questions": []}, place=row.place(sheet.name), implicit=False)
            section.locations[""] = row.place(sheet.name)
            section.locations[".id"] = row.place(sheet.name, self._header(SheetName.SURVEY, "name"))
            section.locations[".title"] = row.place(sheet.name, label_header or "label")
            section.locations[".questions"] = row.place(sheet.name, self._header(SheetName.SURVEY, "type"))
            if label is None:
                self.problems.append(
                    XLSFormProblem(
                        row.place(sheet.name, "label"),
                        f"the top-level group `{name}` has no label; it becomes a section, whose title is its label",
                        "give the group a label",
                    )
                )
                section.raw["title"] = name
            sections.append(section)
            section_index = len(sections) - 1
        elif stack:
            self._warn_flattened(sheet, row, name)
        stack.append(_Frame(name=name, row=row, repeat=repeat, relevant=relevant, section=section_index))

    def _warn_flattened(self, sheet: Sheet, row: Row, name: str) -> None:
        label, _ = self._text(row, SheetName.SURVEY, "label")
        if label is not None:
            self.warnings.append(
                XLSFormProblem(
                    row.place(sheet.name, self._header(SheetName.SURVEY, "label")),
                    f"the label of the nested group `{name}` is not shown: its questions join the enclosing section",
                )
            )

    def _end_group(
        self,
        sheet: Sheet,
        row: Row,
        kind: Kind,
        stack: list[_Frame],
        sections: list[_Section],
        type_place: Place,
    ) -> None:
        closing_repeat = kind is Kind.END_REPEAT
        if not stack:
            self.problems.append(
                XLSFormProblem(
                    type_place,
                    f"`{'end_repeat' if closing_repeat else 'end_group'}` closes nothing",
                    "remove the row, or add the begin row above it",
                )
            )
            return
        frame = stack.pop()
        if frame.repeat != closing_repeat:
            self.problems.append(
                XLSFormProblem(
                    type_place,
                    f"`{'end_repeat' if closing_repeat else 'end_group'}` closes `{'begin_repeat' if frame.repeat else 'begin_group'} {frame.name}` (row {frame.row.number})",
                    f"write `{'end_repeat' if frame.repeat else 'end_group'}`",
                )
            )
        if frame.section is not None:
            section = sections[frame.section]
            section.open = False
            if not section.raw["questions"]:
                self.problems.append(
                    XLSFormProblem(
                        frame.row.place(sheet.name, self._header(SheetName.SURVEY, "type")),
                        f"the group `{frame.name}` has no questions",
                        "add questions between its begin_group and end_group, or remove it",
                    )
                )
                sections.pop(frame.section)

    def _current_section(self, stack: list[_Frame], sections: list[_Section], row: Row, sheet: Sheet, title: Any) -> _Section:
        for frame in stack:
            if frame.section is not None:
                return sections[frame.section]
        if sections and sections[-1].implicit and sections[-1].open:
            return sections[-1]
        used = {section.raw["id"] for section in sections}
        section_id = IMPLICIT_SECTION_ID
        counter = 1
        while section_id in used:
            counter += 1
            section_id = f"{IMPLICIT_SECTION_ID}_{counter}"
        for section in sections:
            section.open = False
        section = _Section(raw={"id": section_id, "title": title, "questions": []}, place=row.place(sheet.name), implicit=True)
        section.locations[""] = row.place(sheet.name)
        sections.append(section)
        return section

    # -- one question -----------------------------------------------------------------------

    def _question(
        self,
        sheet: Sheet,
        row: Row,
        cell: TypeCell,
        name: str | None,
        stack: list[_Frame],
        lists: dict[str, list[_Choice]],
    ) -> tuple[dict[str, Any] | None, dict[str, Place]]:
        survey = SheetName.SURVEY

        def header(column: str) -> str:
            """The column's header as written, or its name when the sheet has no such column."""
            return self._header(survey, column) or column

        place = row.place(sheet.name)
        type_place = place.at(header("type"))
        if name is None:
            self.problems.append(
                XLSFormProblem(place.at("name"), "the question has no name", "give it a name: lowercase letters, digits and _")
            )
            return None, {}
        if name in self.question_rows:
            self.problems.append(
                XLSFormProblem(
                    place.at(header("name")),
                    f"the name `{name}` is already used on row {self.question_rows[name]}",
                    "give each question its own name",
                )
            )
            return None, {}
        self.question_rows[name] = row.number
        spec = cell.spec
        assert spec is not None
        locations: dict[str, Place] = {"": place, ".id": place.at(header("name")), ".type": type_place}
        question: dict[str, Any] = {"id": name}
        if spec.kind is Kind.REFUSED:
            self.problems.append(XLSFormProblem(type_place, f"{spec.reason} (type `{cell.name}`)", spec.fix))
            question_type: str = QuestionType.TEXT.value  # a stand-in, so that references to it still resolve
        elif spec.kind is Kind.SELECT and cell.list_name is None:
            self.problems.append(XLSFormProblem(type_place, f"`{cell.name}` names no choices list", f"write `{cell.suggestion}`"))
            question_type = QuestionType.TEXT.value
        else:
            assert spec.question_type is not None
            question_type = spec.question_type.value
        appearance = self._cell(row, survey, "appearance")
        if appearance:
            words = appearance.split()
            if question_type == QuestionType.TEXT and MULTILINE_APPEARANCE in words:
                question_type = QuestionType.LONG_TEXT.value
                words.remove(MULTILINE_APPEARANCE)
            if words:
                self.warnings.append(
                    XLSFormProblem(place.at(header("appearance")), f"the appearance `{' '.join(words)}` has no effect in a chat")
                )
        surveybot_type = self._cell(row, survey, "surveybot_type")
        if surveybot_type:
            target = SURVEYBOT_TYPES.get(surveybot_type.lower())
            column_place = place.at(header("surveybot_type"))
            if target is None:
                self.problems.append(
                    XLSFormProblem(
                        column_place,
                        f"unknown surveybot_type `{surveybot_type}`",
                        f"use one of: {', '.join(SURVEYBOT_TYPES)} (on a question of type text)",
                    )
                )
            elif question_type != QuestionType.TEXT:
                self.problems.append(
                    XLSFormProblem(
                        column_place,
                        f"surveybot_type `{surveybot_type}` applies to a question of type text, not `{cell.name}`",
                        "set the type to text, or clear surveybot_type",
                    )
                )
            else:
                question_type = target.value
                locations[".type"] = column_place
        question["type"] = question_type
        label, label_header = self._text(row, survey, "label")
        if label is not None:
            question["label"] = label
        locations[".label"] = place.at(label_header or "label")
        for field_name, column in (("hint", "hint"), ("constraint_message", "constraint_message")):
            text, text_header = self._text(row, survey, column)
            if text is not None:
                question[field_name] = text
                locations[f".{field_name}"] = place.at(text_header)
        if question_type != QuestionType.NOTE:
            required = self._required(row, place.at(header("required")))
            question["required"] = required
            locations[".required"] = place.at(header("required"))
        relevant = self._relevant(row, place.at(header("relevant")), stack)
        if relevant is not None:
            question["relevant"], locations[".relevant"] = relevant
        constraint_text = self._cell(row, survey, "constraint")
        if constraint_text:
            constraint_place = place.at(header("constraint"))
            constraint = self._expression(constraint_text, constraint_place)
            if constraint is not None:
                question["constraint"] = constraint
            elif "constraint_message" in question:
                del question["constraint_message"]  # its constraint's problem is reported
            locations[".constraint"] = constraint_place
        calculation = self._cell(row, survey, "calculation")
        if calculation:
            self.problems.append(
                XLSFormProblem(
                    place.at(header("calculation")),
                    f"a `{cell.name}` question cannot have a calculation; surveybot does not compute answers",
                    "remove the calculation, or make the row a calculate row of its own",
                )
            )
        for field_name, column in _EXTRA_COLUMNS.items():
            value = self._cell(row, survey, column)
            if value is not None:
                question[field_name] = value
                locations[f".{field_name}"] = place.at(header(column))
        pattern_message, pattern_header = self._text(row, survey, "surveybot_pattern_message")
        if pattern_message is not None:
            question["pattern_message"] = pattern_message
            locations[".pattern_message"] = place.at(pattern_header)
        accept = self._cell(row, survey, "body::accept")
        if accept is not None:
            question["accept"] = [item.strip().lstrip(".") for item in re.split(r"[,\s]+", accept) if item.strip()]
            locations[".accept"] = place.at(header("body::accept"))
        if spec.kind is Kind.SELECT and cell.list_name is not None:
            self._choices(question, locations, cell, lists, type_place)
        return question, locations

    def _required(self, row: Row, place: Place) -> bool:
        value = self._cell(row, SheetName.SURVEY, "required")
        if value is None or value.lower() in _NO:
            return False
        if value.lower() in _YES:
            return True
        self.problems.append(
            XLSFormProblem(
                place,
                f"required must be yes or no (got {value!r}); an answer cannot be required only under a condition",
                "write yes or no; to ask the question only under a condition, use relevant",
            )
        )
        return False

    def _relevant(self, row: Row, place: Place, stack: list[_Frame]) -> tuple[str, Place] | None:
        parts = [frame.relevant for frame in stack if frame.relevant is not None]
        own = self._cell(row, SheetName.SURVEY, "relevant")
        if own:
            translated = self._expression(own, place)
            if translated is not None:
                parts.append((translated, place))
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        return " and ".join(f"({source})" for source, _ in parts), parts[-1][1]

    def _choices(
        self,
        question: dict[str, Any],
        locations: dict[str, Place],
        cell: TypeCell,
        lists: dict[str, list[_Choice]],
        type_place: Place,
    ) -> None:
        assert cell.list_name is not None
        choices = lists.get(cell.list_name)
        if choices is None:
            close = difflib.get_close_matches(cell.list_name, list(lists), n=1)
            where = (
                "the choices sheet" if self._sheet(SheetName.CHOICES) is not None else "a choices sheet (the workbook has none)"
            )
            fix = f"write `{close[0]}`" if close else f"add its choices to {where} with list_name {cell.list_name}"
            self.problems.append(XLSFormProblem(type_place, f"the choices list `{cell.list_name}` is not in {where}", fix))
            question["type"] = QuestionType.TEXT.value  # a stand-in, so that references to it still resolve
            return
        sheet = self._sheet(SheetName.CHOICES)
        assert sheet is not None
        names = [choice.name for choice in choices]
        if question["type"] == QuestionType.SELECT_ONE and not cell.or_other and sorted(names) == ["no", "yes"]:
            question["type"] = QuestionType.YES_NO.value
            return
        kept = choices
        if cell.or_other:
            other_index = names.index(OTHER_VALUE) if OTHER_VALUE in names else None
            if other_index is None:
                label: Any = self._default_other_label()
                other: dict[str, Any] = {"label": label}
                locations[".other"] = type_place
            else:
                written = choices[other_index]
                other = {"label": written.label if written.label is not None else self._default_other_label()}
                if other_index + 1 < len(choices):
                    other["before"] = choices[other_index + 1].name
                kept = choices[:other_index] + choices[other_index + 1 :]
                locations[".other"] = written.row.place(sheet.name)
                locations[".other.label"] = written.row.place(sheet.name, "label")
            question["other"] = other
        question["choices"] = []
        name_header = self._header(SheetName.CHOICES, "name") or "name"
        for index, choice in enumerate(kept):
            raw: dict[str, Any] = {"value": choice.name}
            if choice.label is not None:
                raw["label"] = choice.label
            question["choices"].append(raw)
            locations[f".choices[{index}]"] = choice.row.place(sheet.name)
            locations[f".choices[{index}].value"] = choice.row.place(sheet.name, name_header)
            locations[f".choices[{index}].label"] = choice.row.place(sheet.name, "label")
        locations[".choices"] = type_place
        # keep the question's order of keys close to the YAML format: other after choices
        if "other" in question:
            question["other"] = question.pop("other")

    def _default_other_label(self) -> Any:
        labels = {language: translate(language, "xlsform.other_label") for language in self.languages}
        return labels[self.languages[0]] if len(labels) == 1 else labels
