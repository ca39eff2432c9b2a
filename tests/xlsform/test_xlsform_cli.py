"""The commands that take a survey file, with XLSForms: validate, convert, try, campaign create."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from xlsform_forms import SURVEYS, FormWriter, run_cli

from bot.survey_files import load_survey

NANTONG_YAML = SURVEYS / "nantong-midterm-2023.yaml"
NANTONG_XLSX = SURVEYS / "nantong-midterm-2023.xlsx"


def test_validate__an_xlsform_prints_the_summary_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "validate", str(NANTONG_XLSX), str(NANTONG_YAML))

    assert (code, err) == (0, [])
    assert out == [
        f"{NANTONG_XLSX}: ok: nantong-midterm-2023 v1, 4 sections, 19 questions, 1 notes, languages zh, en",
        f"{NANTONG_YAML}: ok: nantong-midterm-2023 v1, 4 sections, 19 questions, 1 notes, languages zh, en",
    ]


def test_validate__prints_what_was_dropped_as_warning_lines(write_form: FormWriter, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_form([["type", "name", "label"], ["today", "today"], ["text", "unit", "Unit"]])

    code, out, err = run_cli(capsys, "validate", str(path))

    assert code == 0
    assert out == [f"{path}: ok: test-form v1, 1 sections, 1 questions, languages en"]
    assert err == [
        f"{path} › survey › row 2 › type: warning: the metadata row `today` is dropped: "
        "the bot records who answered and when itself"
    ]


@pytest.mark.parametrize("shipped", sorted(SURVEYS.glob("*.yaml")), ids=lambda path: path.stem)
def test_convert__yaml_to_xlsform_and_back_keeps_the_survey(
    shipped: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xlsx, yaml_again = tmp_path / f"{shipped.stem}.xlsx", tmp_path / f"{shipped.stem}.yaml"
    survey = load_survey(shipped)

    assert run_cli(capsys, "convert", str(shipped), "-o", str(xlsx)) == (
        0,
        [f"{shipped} → {xlsx}: {survey.id} v1, {len(survey.questions)} questions"],
        [],
    )
    assert run_cli(capsys, "convert", str(xlsx), "-o", str(yaml_again))[0] == 0

    assert yaml_again.read_text(encoding="utf-8").startswith(f"# Converted from {xlsx.name} by `surveybot convert`.\nid: ")
    assert load_survey(yaml_again).definition == survey.definition


def test_convert__an_xlsform_to_yaml_writes_our_format(write_form: FormWriter, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_form(
        [["type", "name", "label", "required", "relevant"], ["select_one yn", "q1", "Q1?", "yes"], ["text", "why", "Why?", None, "${q1} = 'no'"]],
        choices=[["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]],
    )
    out_path = tmp_path / "form.yaml"

    code, _, _ = run_cli(capsys, "convert", str(path), "-o", str(out_path))

    assert code == 0
    assert out_path.read_text(encoding="utf-8") == (
        "# Converted from form.xlsx by `surveybot convert`.\n"
        "id: test-form\n"
        "version: '1'\n"
        "title: Test form\n"
        "languages:\n"
        "- en\n"
        "sections:\n"
        "- id: questions\n"
        "  title: Test form\n"
        "  questions:\n"
        "  - id: q1\n"
        "    type: yes_no\n"
        "    label: Q1?\n"
        "  - id: why\n"
        "    type: text\n"
        "    label: Why?\n"
        "    required: false\n"
        "    relevant: ${q1} = 'no'\n"
    )


def test_convert__an_invalid_form_lists_its_problems_and_writes_nothing(
    write_form: FormWriter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_form([["type", "name", "label"], ["begin_repeat", "members", "Members"], ["text", "member", "Name"], ["end_repeat"]])
    out_path = tmp_path / "form.yaml"

    code, out, err = run_cli(capsys, "convert", str(path), "-o", str(out_path))

    assert (code, out) == (1, [])
    assert err == [
        "surveybot convert: the survey is not valid:",
        f"{path} › survey › row 2 › type: repeats are not supported. "
        "Fix: ask for a fixed number of items with one question each, or ask for a table as a `file`",
    ]
    assert not out_path.exists()


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("form.xls", "-o {out}: cannot tell the format from the suffix; name the output .yaml or .xlsx"),
        ("form.txt", "-o {out}: cannot tell the format from the suffix; name the output .yaml or .xlsx"),
    ],
)
def test_convert__an_output_suffix_we_do_not_write_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], output: str, message: str
) -> None:
    out = tmp_path / output

    assert run_cli(capsys, "convert", str(NANTONG_YAML), "-o", str(out)) == (2, [], [f"surveybot convert: {message.format(out=out)}"])


def test_try__answers_an_xlsform_in_the_terminal(
    write_form: FormWriter, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_form([["type", "name", "label", "required"], ["integer", "count", "How many?", "yes"]])
    monkeypatch.setattr(sys, "stdin", io.StringIO("12\n/submit\n"))

    code, out, err = run_cli(capsys, "try", str(path))

    assert (code, err) == (0, [])
    assert any("How many?" in line for line in out)
    assert any('"count": 12' in line for line in out)


def test_campaign_create__takes_the_shipped_xlsform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("DATABASE_URL", "TELEGRAM_BOT_USERNAME", "ADMIN_IDS", "TIMEZONE"):
        monkeypatch.delenv(f"SURVEYBOT_{name}", raising=False)
    monkeypatch.setenv("SURVEYBOT_DATA_DIR", str(tmp_path / "data"))

    code, out, err = run_cli(
        capsys, "campaign", "create", "--survey", str(NANTONG_XLSX), "--title", "南通 中期评估",
        "--deadline", "2099-12-15T17:00+08:00",
    )

    assert (code, err) == (0, [])
    assert out[-1] == "1"


def test_shipped_xlsform__edited_in_a_spreadsheet_still_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's "done": a designer changes a label and adds a question, and validate takes the form."""
    from openpyxl import load_workbook

    workbook = load_workbook(NANTONG_XLSX)
    sheet = workbook["survey"]
    header = [cell.value for cell in sheet[1]]
    column = {name: index + 1 for index, name in enumerate(header)}
    sheet.cell(row=3, column=column["label::English (en)"], value="Reporting unit (full name)")
    sheet.insert_rows(4)
    for name, value in {
        "type": "text", "name": "unit_code", "label::Chinese (zh)": "单位代码", "label::English (en)": "Unit code",
    }.items():
        sheet.cell(row=4, column=column[name], value=value)
    edited = tmp_path / "nantong-edited.xlsx"
    workbook.save(edited)

    code, out, err = run_cli(capsys, "validate", str(edited))

    assert (code, err) == (0, [])
    assert out == [f"{edited}: ok: nantong-midterm-2023 v1, 4 sections, 20 questions, 1 notes, languages zh, en"]
    survey = load_survey(edited)
    assert survey.definition.sections[0].questions[0].label == {"zh": "填报单位", "en": "Reporting unit (full name)"}
    assert [question.id for question in survey.questions][:2] == ["unit", "unit_code"]
