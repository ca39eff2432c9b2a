"""Writing XLSForms: what the sheets hold, and both shipped surveys surviving YAML → XLSForm → YAML."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from xlsform_forms import SURVEYS

from bot.survey_files import load_survey, load_survey_file
from bot.xlsform.reader import read_xlsform
from bot.xlsform.workbook import WorkbookKind
from bot.xlsform.writer import write_xlsform

SHIPPED = sorted(SURVEYS.glob("*.yaml"))


def sheets(data: bytes) -> dict[str, list[tuple[object, ...]]]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in workbook}


def test_shipped_surveys__are_two() -> None:
    assert [path.name for path in SHIPPED] == ["changzhou-2019-member-progress.yaml", "nantong-midterm-2023.yaml"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_round_trip__a_shipped_survey_reads_back_to_the_same_definition(path: Path) -> None:
    survey = load_survey(path)

    back = read_xlsform(write_xlsform(survey.definition), source=f"{path.stem}.xlsx", kind=WorkbookKind.XLSX)

    assert back.warnings == ()
    assert back.survey.definition == survey.definition
    assert back.survey.content_hash == survey.content_hash


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_pyxform__converts_the_xlsform_we_write(path: Path) -> None:
    from pyxform.xls2xform import convert

    survey = load_survey(path)

    result = convert(write_xlsform(survey.definition), file_type=".xlsx", validate=False)

    for question in survey.questions:
        assert f'nodeset="/data/{question.id}"' in result.xform or f"/{question.id}\"" in result.xform


def test_sheets__hold_language_columns_yes_no_lists_and_surveybot_types() -> None:
    survey = load_survey(SURVEYS / "nantong-midterm-2023.yaml")

    written = sheets(write_xlsform(survey.definition))

    survey_rows = written["survey"]
    header = survey_rows[0]
    assert header[:6] == ("type", "name", "label::Chinese (zh)", "label::English (en)", "hint::Chinese (zh)", "hint::English (en)")
    by_name = {row[1]: dict(zip(header, row, strict=True)) for row in survey_rows[1:] if row[1]}
    assert by_name["basic"]["type"] == "begin_group"
    assert by_name["q1_econ_plan"]["type"] == "select_one yes_no"
    assert (by_name["contact_phone"]["type"], by_name["contact_phone"]["surveybot_type"]) == ("text", "phone")
    assert (by_name["r1_organization"]["type"], by_name["r1_organization"]["appearance"]) == ("text", "multiline")
    assert by_name["q5_body"]["type"] == "select_one q5_body or_other"
    assert by_name["q4_by"]["relevant"] == "${q4_assessment} = 'yes'"
    assert by_name["stamped_table"]["body::accept"] == ".pdf,.jpg,.jpeg,.png"
    assert written["choices"][:3] == [
        ("list_name", "name", "label::Chinese (zh)", "label::English (en)"),
        ("yes_no", "yes", "是", "Yes"),
        ("yes_no", "no", "否", "No"),
    ]
    assert [row[1] for row in written["choices"] if row[0] == "q5_body"] == ["leading_group", "implementation_office", "other", "no"]
    settings_header, settings_row = written["settings"][:2]
    assert dict(zip(settings_header, settings_row, strict=True))["default_language"] == "Chinese (zh)"


def test_shipped_xlsform__loads_to_the_same_definition_as_the_yaml() -> None:
    from_yaml = load_survey(SURVEYS / "nantong-midterm-2023.yaml")

    from_xlsx = load_survey_file(SURVEYS / "nantong-midterm-2023.xlsx")

    assert from_xlsx.warnings == ()
    assert from_xlsx.survey.definition == from_yaml.definition


def test_round_trip__last_period_fields_survive_as_surveybot_columns() -> None:
    from bot.core.loading import parse_survey

    survey = parse_survey(
        """\
id: periods
version: "1"
title: 两期
languages: [zh]
sections:
  - id: main
    title: 主要
    questions:
      - {id: members, type: integer, label: 成员, hint: "上期 ${previous:members}"}
      - id: change
        type: integer
        label: 增减
        change_of: members
        constraint: "${previous:members} = '' or . = ${members} - ${previous:members}"
      - {id: who, type: text, label: 填表人, prefill: false}
""",
        source="periods.yaml",
    )
    data = write_xlsform(survey.definition)
    survey_rows = sheets(data)["survey"]
    by_name = {row[1]: dict(zip(survey_rows[0], row, strict=True)) for row in survey_rows[1:] if row[1]}
    assert (by_name["change"]["surveybot_change_of"], by_name["who"]["surveybot_prefill"]) == ("members", "no")

    back = read_xlsform(data, source="periods.xlsx", kind=WorkbookKind.XLSX)

    assert back.survey.definition == survey.definition
    assert back.survey.content_hash == survey.content_hash
