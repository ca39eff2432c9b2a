"""Column headers: what each means, languages, and the typo a near miss most likely is."""

from __future__ import annotations

import pytest

from bot.xlsform.columns import SheetName, Use, read_header
from bot.xlsform.languages import language_code, language_header


@pytest.mark.parametrize(
    ("header", "name", "code"),
    [
        ("label::Chinese (zh)", "label", "zh"),
        ("label::English (en)", "label", "en"),
        ("hint::zh-Hant", "hint", "zh-Hant"),
        ("constraint_message::English", "constraint_message", "en"),
        ("label:english", "label", "en"),
        ("caption::中文", "label", "zh"),
        ("relevance", "relevant", None),
        ("body::accept", "body::accept", None),
    ],
)
def test_read_header__names_the_column_and_its_language(header: str, name: str, code: str | None) -> None:
    column = read_header(header, sheet=SheetName.SURVEY)

    assert (column.name, column.code) == (name, code)


@pytest.mark.parametrize(
    ("header", "likely"),
    [("relevent", "relevant"), ("lable", "label"), ("constrain", "constraint"), ("requried", "required"), ("hints", "hint")],
)
def test_read_header__misspelt_names_the_intended_one(header: str, likely: str) -> None:
    column = read_header(header, sheet=SheetName.SURVEY)

    assert (column.spec, column.likely) == (None, likely)


def test_read_header__the_designers_own_column_is_unknown_without_a_guess() -> None:
    column = read_header("remarks", sheet=SheetName.SURVEY)

    assert (column.name, column.likely) == (None, None)


def test_read_header__pyxform_passthrough_columns_are_ignored() -> None:
    column = read_header("bind::odk:length", sheet=SheetName.SURVEY)

    assert column.spec is not None and column.spec.use is Use.IGNORE


def test_read_header__a_language_without_a_code_is_kept_for_the_message() -> None:
    column = read_header("label::Klingon", sheet=SheetName.SURVEY)

    assert (column.name, column.language, column.code) == ("label", "Klingon", None)


@pytest.mark.parametrize(("code", "header"), [("zh", "Chinese (zh)"), ("en", "English (en)"), ("xx", "xx (xx)")])
def test_language_header__is_name_and_code_and_reads_back(code: str, header: str) -> None:
    assert language_header(code) == header
    assert language_code(header) == code
