"""pyxform's own example forms (tests/xlsform/forms/, BSD licence): each accepted or refused as documented there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from xlsform_forms import FORMS, run_cli

from bot.survey_files import load_survey_file


def questions(path: Path) -> dict[str, dict[str, Any]]:
    definition = load_survey_file(path).survey.definition.model_dump(mode="json", exclude_none=True)
    return {question.pop("id"): question for section in definition["sections"] for question in section["questions"]}


def test_yes_or_no_question__is_one_yes_no_question_in_english() -> None:
    survey = load_survey_file(FORMS / "yes_or_no_question.xlsx").survey

    assert survey.languages == ("en",)
    assert questions(FORMS / "yes_or_no_question.xlsx") == {
        "good_day": {"type": "yes_no", "label": "have you had a good day today?", "required": False}
    }


def test_specify_other__is_a_select_one_with_our_other_choice_last() -> None:
    assert questions(FORMS / "specify_other.xlsx") == {
        "sex": {
            "type": "select_one",
            "label": "What sex are you?",
            "required": False,
            "choices": [{"value": "male", "label": "Male"}, {"value": "female", "label": "Female"}],
            "other": {"label": "Other (please name)"},
        }
    }


def test_text_and_integer__are_a_text_and_an_integer_question() -> None:
    assert {name: question["type"] for name, question in questions(FORMS / "text_and_integer.xlsx").items()} == {
        "your_name": "text",
        "your_age": "integer",
    }


@pytest.mark.parametrize("name", ["group.xlsx", "group.xls"])
def test_group__is_two_sections_with_the_phone_number_as_phone(name: str) -> None:
    survey = load_survey_file(FORMS / name).survey

    assert [(section.id, [question.id for question in section.questions]) for section in survey.sections] == [
        ("questions", ["family_name"]),
        ("father", ["phone_number", "age"]),
    ]
    assert survey.by_id["phone_number"].type.value == "phone"


@pytest.mark.parametrize(
    "name", ["yes_or_no_question.xlsx", "specify_other.xlsx", "text_and_integer.xlsx", "group.xlsx", "group.xls"]
)
def test_accepted_forms__validate_with_the_settings_warnings_only(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = FORMS / name

    code, out, err = run_cli(capsys, "validate", str(path))

    assert code == 0
    assert out[0].startswith(f"{path}: ok: {path.stem.lower()} v1, ")
    assert err == [
        f"{path} › settings › form_id: warning: no form_id; the survey id is taken from the file name: `{path.stem}`. "
        "Fix: set form_id in the settings sheet",
        f"{path} › settings › version: warning: no version; the survey is version 1. "
        "Fix: set version in the settings sheet and raise it whenever the survey changes",
    ]


def test_loop__is_refused_as_a_repeat(capsys: pytest.CaptureFixture[str]) -> None:
    path = FORMS / "loop.xlsx"

    code, out, err = run_cli(capsys, "validate", str(path))

    assert (code, out) == (1, [])
    assert err == [
        f"{path} › survey › row 3 › type: repeats are not supported. "
        "Fix: ask for a fixed number of items with one question each, or ask for a table as a `file`"
    ]
