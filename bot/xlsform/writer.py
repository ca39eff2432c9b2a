"""A survey definition → an XLSForm workbook (.xlsx) that pyxform and our reader both accept.

The survey sheet lists each section as a top-level group; every text is
written in one ``column::Name (code)`` column per language, a plain text in
all of them. What XLSForm cannot say goes into ``surveybot_*`` columns, which
pyxform passes over: ``surveybot_type`` (phone, email), the bounds and limits
of our types, ``surveybot_prefill`` and ``surveybot_change_of`` (last period),
the per-language survey title and intro. A ``yes_no`` question
is ``select_one yes_no``; a select gets a choices list of its own named after
it, so that ``or_other`` (written as an ``other`` row where the "other"
choice is shown) never leaks into another question.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Final

from bot.core.catalog import translate
from bot.core.definition import OTHER_VALUE, LocalizedText, Question, QuestionType, SurveyDefinition
from bot.xlsform.languages import language_header
from bot.xlsform.question_types import MULTILINE_APPEARANCE

logger = logging.getLogger(__name__)

YES_NO_LIST: Final = "yes_no"
OR_OTHER_SUFFIX: Final = " or_other"
_WIDTHS: Final[dict[str, int]] = {"type": 28, "name": 22, "label": 48, "hint": 40, "relevant": 30, "constraint": 40}
#: Our type-specific fields written to surveybot_* columns, in column order.
_EXTRA_FIELDS: Final = ("max_length", "pattern", "min", "max", "min_selected", "max_selected")


def write_xlsform(definition: SurveyDefinition) -> bytes:
    """The XLSForm of ``definition``, as the bytes of an .xlsx file."""
    from openpyxl import Workbook

    languages = list(definition.languages)
    lists = _list_names(definition)
    workbook = Workbook()
    survey_sheet = workbook.active
    survey_sheet.title = "survey"
    survey_rows, survey_headers = _survey_rows(definition, languages, lists)
    _fill(survey_sheet, survey_headers, survey_rows)
    choices_rows = list(_choices_rows(definition, languages, lists))
    _fill(workbook.create_sheet("choices"), ["list_name", "name", *_localized("label", languages)], choices_rows)
    settings_headers, settings_row = _settings(definition, languages)
    _fill(workbook.create_sheet("settings"), settings_headers, [settings_row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _localized(column: str, languages: list[str]) -> list[str]:
    return [f"{column}::{language_header(language)}" for language in languages]


def _text(text: LocalizedText | None, language: str) -> str | None:
    if text is None:
        return None
    return text if isinstance(text, str) else text.get(language)


def _texts(column: str, text: LocalizedText | None, languages: list[str]) -> dict[str, Any]:
    return {header: _text(text, language) for header, language in zip(_localized(column, languages), languages, strict=True)}


def _number(value: Decimal | float | int | None) -> Any:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _list_names(definition: SurveyDefinition) -> dict[str, str]:
    """The choices list of each select (named after it) and of the yes/no questions."""
    ids = {question.id for section in definition.sections for question in section.questions}
    yes_no = YES_NO_LIST
    while yes_no in ids:
        yes_no += "_list"
    names = {YES_NO_LIST: yes_no}
    for section in definition.sections:
        for question in section.questions:
            if question.type in {QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE}:
                names[question.id] = question.id
    return names


def _question_type(question: Question, lists: dict[str, str]) -> tuple[str, str | None, str | None]:
    """The type cell, the appearance and the surveybot_type of ``question``."""
    kind = question.type
    if kind is QuestionType.LONG_TEXT:
        return "text", MULTILINE_APPEARANCE, None
    if kind in {QuestionType.PHONE, QuestionType.EMAIL}:
        return "text", None, kind.value
    if kind is QuestionType.YES_NO:
        return f"select_one {lists[YES_NO_LIST]}", None, None
    if kind in {QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE}:
        suffix = OR_OTHER_SUFFIX if question.other is not None else ""
        return f"{kind.value} {lists[question.id]}{suffix}", None, None
    return kind.value, None, None


def _survey_rows(
    definition: SurveyDefinition, languages: list[str], lists: dict[str, str]
) -> tuple[list[dict[str, Any]], list[str]]:
    rows: list[dict[str, Any]] = []
    for section in definition.sections:
        rows.append({"type": "begin_group", "name": section.id, **_texts("label", section.title, languages)})
        for question in section.questions:
            type_cell, appearance, surveybot_type = _question_type(question, lists)
            row: dict[str, Any] = {
                "type": type_cell,
                "name": question.id,
                **_texts("label", question.label, languages),
                **_texts("hint", question.hint, languages),
                "required": "yes" if question.required and question.type is not QuestionType.NOTE else None,
                "relevant": question.relevant,
                "constraint": question.constraint,
                **_texts("constraint_message", question.constraint_message, languages),
                "appearance": appearance,
                "surveybot_type": surveybot_type,
            }
            for name in _EXTRA_FIELDS:
                value = getattr(question, name)
                row[f"surveybot_{name}"] = _number(value) if name != "pattern" else value
            row.update(_texts("surveybot_pattern_message", question.pattern_message, languages))
            row["surveybot_prefill"] = None if question.prefill is None else ("yes" if question.prefill else "no")
            row["surveybot_change_of"] = question.change_of
            row["body::accept"] = ",".join(f".{item.lstrip('.')}" for item in question.accept) if question.accept else None
            row["surveybot_max_size_mb"] = _number(question.max_size_mb)
            rows.append(row)
        rows.append({"type": "end_group"})
    base = ["type", "name", *_localized("label", languages), *_localized("hint", languages), "required", "relevant"]
    base += ["constraint", *_localized("constraint_message", languages)]
    optional = ["appearance", "surveybot_type", *(f"surveybot_{name}" for name in _EXTRA_FIELDS)]
    optional += [*_localized("surveybot_pattern_message", languages), "body::accept", "surveybot_max_size_mb"]
    optional += ["surveybot_prefill", "surveybot_change_of"]
    headers = base + [header for header in optional if any(row.get(header) is not None for row in rows)]
    return rows, headers


def _choices_rows(definition: SurveyDefinition, languages: list[str], lists: dict[str, str]) -> Iterable[dict[str, Any]]:
    questions = [question for section in definition.sections for question in section.questions]
    if any(question.type is QuestionType.YES_NO for question in questions):
        for value, key in (("yes", "engine.yes_label"), ("no", "engine.no_label")):
            labels = {language: translate(language, key) for language in languages}
            yield {"list_name": lists[YES_NO_LIST], "name": value, **_texts("label", labels, languages)}
    for question in questions:
        if question.id not in lists:
            continue
        rows = [
            {"list_name": lists[question.id], "name": choice.value, **_texts("label", choice.label, languages)}
            for choice in question.choices or ()
        ]
        if question.other is not None:
            other = {"list_name": lists[question.id], "name": OTHER_VALUE, **_texts("label", question.other.label, languages)}
            names = [row["name"] for row in rows]
            before = question.other.before
            rows.insert(names.index(before) if before in names else len(rows), other)
        yield from rows


def _settings(definition: SurveyDefinition, languages: list[str]) -> tuple[list[str], dict[str, Any]]:
    row: dict[str, Any] = {
        "form_title": _text(definition.title, languages[0]),
        "form_id": definition.id,
        "version": definition.version,
        "default_language": language_header(languages[0]),
    }
    headers = list(row)
    if isinstance(definition.title, dict):
        title = _texts("surveybot_title", definition.title, languages)
        row.update(title)
        headers += list(title)
    if definition.intro is not None:
        intro = _texts("surveybot_intro", definition.intro, languages)
        row.update(intro)
        headers += list(intro)
    return headers, row


def _fill(sheet: Any, headers: list[str], rows: list[dict[str, Any]]) -> None:
    from openpyxl.styles import Alignment, Font

    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row.get(header) for header in headers])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # a text, not a formula
    sheet.freeze_panes = "C2" if sheet.title == "survey" else "A2"
    for index, header in enumerate(headers, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = _WIDTHS.get(header.split("::")[0], 16)
        if header.split("::")[0] in {"label", "hint", "constraint_message", "surveybot_intro", "constraint"}:
            for cell in sheet[letter][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
