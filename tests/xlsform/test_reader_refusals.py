"""What an XLSForm says that surveybot cannot do: one line per problem, naming sheet, row and column.

Every test runs ``surveybot validate form.xlsx`` and reads what the designer sees.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from xlsform_forms import FormWriter, Rows, run_cli, write_workbook

YES_NO: Rows = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]


def problems(capsys: pytest.CaptureFixture[str], path: Path) -> list[str]:
    """The lines ``surveybot validate`` prints for an invalid form (exit code 1, nothing on stdout)."""
    code, out, err = run_cli(capsys, "validate", str(path))
    assert (code, out) == (1, [])
    return [line.replace(str(path), path.name) for line in err]


@pytest.mark.parametrize(
    ("type_cell", "message"),
    [
        ("geopoint", "locations (geopoint, geotrace, geoshape) are not supported (type `geopoint`). Fix: ask for the place as `text`"),
        ("geotrace", "locations (geopoint, geotrace, geoshape) are not supported (type `geotrace`). Fix: ask for the place as `text`"),
        ("geoshape", "locations (geopoint, geotrace, geoshape) are not supported (type `geoshape`). Fix: ask for the place as `text`"),
        ("barcode", "barcodes are not supported (type `barcode`). Fix: ask for the code as `text`"),
        *(
            (
                kind,
                f"pictures, sound and video recorded in a form are not supported (type `{kind}`). "
                "Fix: use `file`, which accepts a picture, recording or document sent in the chat",
            )
            for kind in ("image", "audio", "video")
        ),
        ("range", "range (a slider) is not supported (type `range`). Fix: use `integer` with surveybot_min and surveybot_max"),
        ("rank yn", "rank is not supported (type `rank`). Fix: ask one `select_one` per place, or one `integer` per item"),
        ("time", "time answers are not supported (type `time`). Fix: ask for the time as `text`, with an example in the hint"),
        ("dateTime", "dateTime answers are not supported (type `datetime`). Fix: use `date`, and ask for the time as `text`"),
        (
            "select_one_from_file towns.csv",
            "choices from a file (select_*_from_file) are not supported (type `select_one_from_file`). "
            "Fix: copy the choices into the choices sheet",
        ),
        (
            "select_multiple_from_file towns.csv",
            "choices from a file (select_*_from_file) are not supported (type `select_multiple_from_file`). "
            "Fix: copy the choices into the choices sheet",
        ),
        ("integr", "unknown question type `integr`. Fix: write `integer`"),
        (
            "colour",
            "unknown question type `colour`. Fix: use one of: text, integer, decimal, date, note, file, "
            "select_one LIST, select_multiple LIST, begin_group, end_group",
        ),
    ],
)
def test_type__we_do_not_support_is_refused_on_its_row(
    write_form: FormWriter, capsys: pytest.CaptureFixture[str], type_cell: str, message: str
) -> None:
    path = write_form([["type", "name", "label"], ["text", "unit", "Unit"], [type_cell, "where", "Where?"]], choices=YES_NO)

    assert problems(capsys, path) == [f"form.xlsx › survey › row 3 › type: {message}"]


def test_repeat__is_refused_on_its_begin_row(write_form: FormWriter, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_form(
        [["type", "name", "label"], ["begin_repeat", "members", "Members"], ["text", "member", "Name"], ["end_repeat"]]
    )

    assert problems(capsys, path) == [
        "form.xlsx › survey › row 2 › type: repeats are not supported. "
        "Fix: ask for a fixed number of items with one question each, or ask for a table as a `file`"
    ]


@pytest.mark.parametrize(
    ("column", "cell", "message"),
    [
        pytest.param(
            "choice_filter", "county = ${county}",
            "choice filters (cascading selects) are not supported. "
            "Fix: give each question its own complete choices list and remove the choice_filter",
            id="choice_filter",
        ),
        pytest.param(
            "trigger", "${unit}",
            "triggers (recalculating on another answer) are not supported. "
            "Fix: remove the trigger; use relevant to ask a question only after another answer",
            id="trigger",
        ),
        pytest.param(
            "relevant", "pulldata('towns', 'code', 'name', ${unit}) = 'x'",
            "pulldata() reads a CSV file attached to the form, which surveybot does not have "
            "(in \"pulldata('towns', 'code', 'name', ${unit}) = 'x'\"). Fix: write it with ${name} references",
            id="pulldata",
        ),
        pytest.param(
            "relevant", "count(instance('towns')/root/item) > 1",
            "instance() reads a secondary data set, which surveybot does not have "
            "(in \"count(instance('towns')/root/item) > 1\"). Fix: write it with ${name} references",
            id="instance",
        ),
        pytest.param(
            "constraint", "regex(., '^[0-9]{6}$')",
            "regex() is not supported (in \"regex(., '^[0-9]{6}$')\"). "
            "Fix: write the pattern in the surveybot_pattern column (a regular expression the whole answer must match)",
            id="regex",
        ),
        pytest.param(
            "relevant", "/data/unit != ''",
            "XPath paths (/data/…, ../) are not supported (in \"/data/unit != ''\"). Fix: refer to a question as ${name}",
            id="xpath",
        ),
        pytest.param(
            "relevant", "${unit} == 'x'",
            "unexpected '==' at position 8 (in \"${unit} == 'x'\"). Fix: compare with a single '='",
            id="outside-our-subset",
        ),
        pytest.param(
            "required", "${unit} != ''",
            "required must be yes or no (got \"${unit} != ''\"); an answer cannot be required only under a condition. "
            "Fix: write yes or no; to ask the question only under a condition, use relevant",
            id="dynamic-required",
        ),
    ],
)
def test_column__we_cannot_honour_is_refused_on_its_cell(
    write_form: FormWriter, capsys: pytest.CaptureFixture[str], column: str, cell: str, message: str
) -> None:
    path = write_form([["type", "name", "label", column], ["text", "unit", "Unit"], ["text", "town", "Town", cell]])

    lines = problems(capsys, path)

    assert len(lines) == 1
    assert lines[0].startswith(f"form.xlsx › survey › row 3 › {column}: {message}")


def test_calculate__beyond_our_subset_is_refused_on_its_calculation(
    write_form: FormWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_form(
        [
            ["type", "name", "label", "calculation", "relevant"],
            ["integer", "a", "A"],
            ["calculate", "stamp", None, "format-date(today(), '%Y')"],
            ["text", "why", "Why?", None, "${stamp} = '2023'"],
        ]
    )

    lines = problems(capsys, path)

    assert lines == [
        "form.xlsx › survey › row 3 › calculation: unknown function 'format-date' at position 0 "
        "(in \"format-date(today(), '%Y')\"). Fix: known functions: not, selected, count-selected, string-length, "
        "if, today, number, string, concat, coalesce, int, round"
    ]


def test_column__misspelt_names_the_intended_one(write_form: FormWriter, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_form([["type", "name", "lable", "relevent", "requried"], ["text", "unit", "Unit", None, "yes"]])

    assert problems(capsys, path) == [
        "form.xlsx › survey › row 1 › lable: unknown column `lable`. Fix: correct the header: lable → label",
        "form.xlsx › survey › row 1 › relevent: unknown column `relevent`. Fix: correct the header: relevent → relevant",
        "form.xlsx › survey › row 1 › requried: unknown column `requried`. Fix: correct the header: requried → required",
    ]


def test_choices__a_missing_list_is_named_on_the_question(write_form: FormWriter, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_form(
        [["type", "name", "label"], ["select_one y_n", "q1", "Q1?"], ["select_one towns", "q2", "Q2?"]], choices=YES_NO
    )

    assert problems(capsys, path) == [
        "form.xlsx › survey › row 2 › type: the choices list `y_n` is not in the choices sheet. Fix: write `yn`",
        "form.xlsx › survey › row 3 › type: the choices list `towns` is not in the choices sheet. "
        "Fix: add its choices to the choices sheet with list_name towns",
    ]


def test_choices__without_a_choices_sheet_says_so(write_form: FormWriter, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_form([["type", "name", "label"], ["select_one yn", "q1", "Q1?"]])

    assert problems(capsys, path) == [
        "form.xlsx › survey › row 2 › type: the choices list `yn` is not in a choices sheet (the workbook has none). "
        "Fix: add its choices to a choices sheet (the workbook has none) with list_name yn"
    ]


def test_choices__a_repeated_name_in_a_list_is_refused_on_its_row(
    write_form: FormWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_form(
        [["type", "name", "label"], ["select_one yn", "q1", "Q1?"]], choices=[*YES_NO, ["yn", "yes", "Sure"]]
    )

    assert problems(capsys, path) == [
        "form.xlsx › choices › row 4 › name: `yes` is already a choice of list `yn` (row 2). "
        "Fix: give each choice of a list its own name"
    ]


def test_checks__of_the_yaml_format_name_the_cell_they_are_about(
    write_form: FormWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_form(
        [
            ["type", "name", "label"],
            ["integer", "Members", "Members"],
            ["select_one towns", "town", "Town"],
            ["text", "unlabelled"],
        ],
        choices=[["list_name", "name", "label"], ["towns", "a b", "A B"]],
    )

    assert problems(capsys, path) == [
        "form.xlsx › survey › row 2 › name: id 'Members' is not valid. "
        "Fix: use lowercase letters, digits and _, starting with a letter",
        "form.xlsx › choices › row 2 › name: String should match pattern '^[A-Za-z0-9_.-]+$' (got 'a b'). "
        "Fix: correct the value",
        "form.xlsx › survey › row 4 › label: `label` is required. Fix: add it",
    ]


def test_checks__of_expressions_and_bounds_name_the_cell(write_form: FormWriter, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_form(
        [
            ["type", "name", "label", "relevant", "surveybot_min", "surveybot_max"],
            ["integer", "change", "Change", "${later} > 0", 10, 1],
            ["text", "later", "Later"],
        ]
    )

    assert problems(capsys, path) == [
        "form.xlsx › survey › row 2 › surveybot_min: min 10 is greater than max 1. Fix: swap them",
        "form.xlsx › survey › row 2 › relevant: refers to the later question ${later} at position 0 (in '${later} > 0'). "
        "Fix: relevance can only depend on earlier questions, so move the question after ${later}",
    ]


def test_problems__are_all_reported_at_once(write_form: FormWriter, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_form(
        [
            ["type", "name", "label", "relevent"],
            ["start", "start"],
            ["begin_repeat", "members", "Members"],
            ["geopoint", "where", "Where?"],
            ["end_repeat"],
            ["select_one nowhere", "q1", "Q1?"],
        ]
    )

    assert problems(capsys, path) == [
        "form.xlsx › survey › row 1 › relevent: unknown column `relevent`. Fix: correct the header: relevent → relevant",
        "form.xlsx › survey › row 3 › type: repeats are not supported. "
        "Fix: ask for a fixed number of items with one question each, or ask for a table as a `file`",
        "form.xlsx › survey › row 4 › type: locations (geopoint, geotrace, geoshape) are not supported (type `geopoint`). "
        "Fix: ask for the place as `text`",
        "form.xlsx › survey › row 6 › type: the choices list `nowhere` is not in a choices sheet (the workbook has none). "
        "Fix: add its choices to a choices sheet (the workbook has none) with list_name nowhere",
    ]


def test_groups__unbalanced_begin_and_end_rows_are_named(write_form: FormWriter, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_form(
        [["type", "name", "label"], ["end_group"], ["begin_group", "basic", "Basic"], ["text", "unit", "Unit"]]
    )

    assert problems(capsys, path) == [
        "form.xlsx › survey › row 2 › type: `end_group` closes nothing. Fix: remove the row, or add the begin row above it",
        "form.xlsx › survey › row 3 › type: `begin_group basic` is never closed. "
        "Fix: add an `end_group` row after its last question",
    ]


# -- the workbook itself ---------------------------------------------------------------------


def test_blank_rows__are_counted_in_the_row_numbers(write_form: FormWriter, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_form([["type", "name", "label"], [], ["text", "unit", "Unit"], [], [], ["barcode", "code", "Code"]])

    assert problems(capsys, path) == [
        "form.xlsx › survey › row 6 › type: barcodes are not supported (type `barcode`). Fix: ask for the code as `text`"
    ]


def test_formula__without_a_saved_result_is_refused(write_form: FormWriter, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_form([["type", "name", "label"], ["text", "unit", '="Unit " & "name"']])

    assert problems(capsys, path) == [
        "form.xlsx › survey › row 2 › label: is a formula (=\"Unit \" & \"name\") whose result was never saved, "
        "so it reads as empty. Fix: open and save the workbook in Excel, WPS or LibreOffice, or type the value instead",
    ]


def test_workbook__without_a_survey_sheet_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_workbook(
        tmp_path / "form.xlsx", {"questions": [["type", "name", "label"]], "choices": [["list_name", "name", "label"]]}
    )

    assert problems(capsys, path) == [
        "form.xlsx: has no sheet named `survey` (its sheets: questions, choices). "
        "Fix: name the sheet that lists the questions `survey`"
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param("form.xlsx", b"id: x\n", "is named .xlsx but is text (not a workbook); save it as .yaml, "
                     "or save the form from Excel, WPS or LibreOffice as .xlsx", id="text-named-xlsx"),
        pytest.param("form.xls", b"PK\x03\x04rest", "is named .xls but is an .xlsx workbook; rename it to .xlsx", id="xlsx-named-xls"),
        pytest.param("form.xlsx", b"\xd0\xcf\x11\xe0rest", "is named .xlsx but is an .xls workbook (Excel 97-2003); "
                     "rename it to .xls", id="xls-named-xlsx"),
        pytest.param("survey.yaml", b"PK\x03\x04rest", "is named .yaml but is an .xlsx workbook; rename it to .xlsx", id="xlsx-named-yaml"),
    ],
)
def test_suffix__that_lies_about_the_content_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    assert problems(capsys, path) == [f"{name}: {message}"]


def test_workbook__that_is_damaged_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "form.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 200)

    lines = problems(capsys, path)

    assert len(lines) == 1
    assert lines[0].startswith("form.xlsx: cannot be read as an .xlsx workbook (")
    assert lines[0].endswith("). Fix: open it in Excel, WPS or LibreOffice and save it again as .xlsx")


def test_survey_sheet__without_questions_says_so(write_form: FormWriter, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_form([["type", "name", "label"], [], ["start", "start"]])

    assert problems(capsys, path) == ["form.xlsx › survey: has no questions. Fix: add one row per question below the header row"]


def test_language__without_a_code_is_refused_on_its_header(write_form: FormWriter, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_form([["type", "name", "label::Klingon"], ["text", "unit", "Unit"]])

    assert problems(capsys, path) == [
        "form.xlsx › survey › row 1 › label::Klingon: the language `Klingon` has no language code. "
        "Fix: name it with its code, e.g. `label::English (en)` or `label::Chinese (zh)`"
    ]


def test_language__a_column_without_one_beside_columns_with_one_is_refused(
    write_form: FormWriter, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_form([["type", "name", "label", "label::English (en)"], ["text", "unit", "单位", "Unit"]], settings=None)

    assert problems(capsys, path) == [
        "form.xlsx › survey › row 1 › label: `label` has no language while other columns name theirs. "
        "Fix: name its language, e.g. `label::Chinese (zh)`, or set default_language in the settings sheet"
    ]
