"""Reading XLSForms: every row of the mapping table, as the loaded survey's questions show it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from xlsform_forms import FormWriter, Rows

from bot.survey_files import load_survey_file


def loaded(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], tuple[str, ...]]:
    """The sections and the questions of a form, as plain data, and its warnings."""
    result = load_survey_file(path)
    definition = result.survey.definition.model_dump(mode="json", exclude_none=True)
    questions = [question for section in definition["sections"] for question in section["questions"]]
    return definition["sections"], questions, tuple(warning.replace(str(path), path.name) for warning in result.warnings)


def only_question(path: Path) -> dict[str, Any]:
    _, questions, _ = loaded(path)
    assert len(questions) == 1, questions
    return questions[0]


# -- types -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        pytest.param(["text", "unit", "Unit"], {"type": "text"}, id="text"),
        pytest.param(["text", "report", "Report", "multiline"], {"type": "long_text"}, id="text-multiline"),
        pytest.param(["integer", "count", "Count"], {"type": "integer"}, id="integer"),
        pytest.param(["decimal", "rate", "Rate"], {"type": "decimal"}, id="decimal"),
        pytest.param(["date", "filled_on", "Date"], {"type": "date"}, id="date"),
        pytest.param(["note", "intro_note", "Read this"], {"type": "note"}, id="note"),
        pytest.param(["file", "scan", "Scan"], {"type": "file"}, id="file"),
        pytest.param(["phone number", "tel", "Phone"], {"type": "phone"}, id="pyxform-phone-number"),
    ],
)
def test_type__maps_to_our_question_type(write_form: FormWriter, row: list[str], expected: dict[str, Any]) -> None:
    path = write_form([["type", "name", "label", "appearance"], row])

    question = only_question(path)

    assert {key: question[key] for key in expected} == expected
    assert question["label"] == row[2]


@pytest.mark.parametrize(("surveybot_type", "expected"), [("phone", "phone"), ("email", "email")])
def test_surveybot_type__makes_a_text_question_a_phone_or_email(
    write_form: FormWriter, surveybot_type: str, expected: str
) -> None:
    path = write_form([["type", "name", "label", "surveybot_type"], ["text", "contact", "Contact", surveybot_type]])

    assert only_question(path)["type"] == expected


def test_surveybot_columns__carry_our_bounds_and_limits(write_form: FormWriter) -> None:
    path = write_form(
        [
            ["type", "name", "label", "surveybot_min", "surveybot_max", "surveybot_max_length", "surveybot_pattern", "surveybot_pattern_message"],
            ["integer", "members", "Members", 0, 500, None, None, None],
            ["text", "code", "Code", None, None, 6, r"\d{6}", "Six digits"],
        ]
    )

    _, questions, _ = loaded(path)

    assert questions[0]["min"] == "0" and questions[0]["max"] == "500"
    assert (questions[1]["max_length"], questions[1]["pattern"], questions[1]["pattern_message"]) == (6, r"\d{6}", "Six digits")


def test_body_accept__lists_the_file_extensions(write_form: FormWriter) -> None:
    path = write_form([["type", "name", "label", "body::accept"], ["file", "scan", "Scan", ".pdf,.jpg, png"]])

    assert only_question(path)["accept"] == ["pdf", "jpg", "png"]


# -- selects ---------------------------------------------------------------------------------

BODIES: Rows = [
    ["list_name", "name", "label"],
    ["bodies", "leading_group", "Leading group"],
    ["bodies", "office", "Office"],
    ["bodies", "no", "No"],
]


@pytest.mark.parametrize("select", ["select_one", "select_multiple"])
def test_select__takes_its_choices_list_in_order(write_form: FormWriter, select: str) -> None:
    path = write_form([["type", "name", "label"], [f"{select} bodies", "body", "Body"]], choices=BODIES)

    question = only_question(path)

    assert question["type"] == select
    assert question["choices"] == [
        {"value": "leading_group", "label": "Leading group"},
        {"value": "office", "label": "Office"},
        {"value": "no", "label": "No"},
    ]


@pytest.mark.parametrize("order", [["yes", "no"], ["no", "yes"]])
def test_select_one__of_a_yes_no_list_is_yes_no(write_form: FormWriter, order: list[str]) -> None:
    choices = [["list_name", "name", "label"], *(["yn", name, name.title()] for name in order)]
    path = write_form([["type", "name", "label"], ["select_one yn", "q1", "Q1?"]], choices=choices)

    question = only_question(path)

    assert question["type"] == "yes_no"
    assert "choices" not in question


def test_select_multiple__of_a_yes_no_list_stays_a_select(write_form: FormWriter) -> None:
    choices = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]
    path = write_form([["type", "name", "label"], ["select_multiple yn", "q1", "Q1?"]], choices=choices)

    assert only_question(path)["type"] == "select_multiple"


def test_or_other__without_an_other_row_adds_our_other_choice_last(write_form: FormWriter) -> None:
    path = write_form([["type", "name", "label"], ["select_one bodies or_other", "body", "Body"]], choices=BODIES)

    question = only_question(path)

    assert question["other"] == {"label": "Other (please name)"}
    assert [choice["value"] for choice in question["choices"]] == ["leading_group", "office", "no"]


def test_or_other__an_other_row_gives_its_label_and_place(write_form: FormWriter) -> None:
    choices = [*BODIES[:3], ["bodies", "other", "Other (name)"], BODIES[3]]
    path = write_form([["type", "name", "label"], ["select_one bodies or_other", "body", "Body"]], choices=choices)

    question = only_question(path)

    assert question["other"] == {"label": "Other (name)", "before": "no"}
    assert [choice["value"] for choice in question["choices"]] == ["leading_group", "office", "no"]


def test_or_other__does_not_leak_into_another_question_sharing_the_list(write_form: FormWriter) -> None:
    path = write_form(
        [["type", "name", "label"], ["select_one bodies or_other", "body", "Body"], ["select_one bodies", "again", "Again"]],
        choices=BODIES,
    )

    _, questions, _ = loaded(path)

    assert "other" in questions[0]
    assert "other" not in questions[1]
    assert [choice["value"] for choice in questions[1]["choices"]] == ["leading_group", "office", "no"]


# -- groups ----------------------------------------------------------------------------------


def test_groups__top_level_groups_are_sections_and_loose_questions_get_their_own(write_form: FormWriter) -> None:
    path = write_form(
        [
            ["type", "name", "label"],
            ["text", "unit", "Unit"],
            ["begin_group", "status", "Status"],
            ["integer", "members", "Members"],
            ["end_group"],
            ["begin group", "report", "Report"],
            ["text", "summary", "Summary"],
            ["end group"],
        ]
    )

    sections, _, _ = loaded(path)

    assert [(section["id"], section["title"], [q["id"] for q in section["questions"]]) for section in sections] == [
        ("questions", "Test form", ["unit"]),
        ("status", "Status", ["members"]),
        ("report", "Report", ["summary"]),
    ]


def test_groups__nested_groups_are_flattened_with_their_relevant_joined_by_and(write_form: FormWriter) -> None:
    path = write_form(
        [
            ["type", "name", "label", "relevant"],
            ["integer", "count", "Count"],
            ["begin_group", "details", "Details", "${count} > 0"],
            ["begin_group", "more", "More", "${count} > 5"],
            ["text", "why", "Why?", "${count} < 100"],
            ["end_group"],
            ["text", "what", "What?"],
            ["end_group"],
        ]
    )

    sections, questions, warnings = loaded(path)

    assert [section["id"] for section in sections] == ["questions", "details"]
    assert {question["id"]: question.get("relevant") for question in questions} == {
        "count": None,
        "why": "(${count} > 0) and (${count} > 5) and (${count} < 100)",
        "what": "${count} > 0",
    }
    assert any("the label of the nested group `more` is not shown" in warning for warning in warnings)


# -- texts and languages ---------------------------------------------------------------------


def test_language_columns__become_language_maps_in_the_order_of_default_language(write_form: FormWriter) -> None:
    path = write_form(
        [
            ["type", "name", "label::English (en)", "label::Chinese (zh)", "hint::English (en)", "hint::Chinese (zh)",
             "constraint", "constraint_message::English (en)", "constraint_message::Chinese (zh)"],
            ["integer", "members", "Members", "成员", "Now", "现在", ". >= 0", "Not negative", "不能为负"],
        ],
        settings=[["form_title", "form_id", "version", "default_language"], ["T", "t", "2", "Chinese (zh)"]],
    )

    result = load_survey_file(path)
    question = result.survey.definition.sections[0].questions[0]

    assert result.survey.languages == ("zh", "en")
    assert (question.label, question.hint, question.constraint_message) == (
        {"en": "Members", "zh": "成员"},
        {"en": "Now", "zh": "现在"},
        {"en": "Not negative", "zh": "不能为负"},
    )


def test_language_columns__pyxforms_older_forms_are_read(write_form: FormWriter) -> None:
    path = write_form([["type", "name", "label:english", "label::中文"], ["text", "unit", "Unit", "单位"]], settings=None)

    result = load_survey_file(path)

    assert result.survey.languages == ("en", "zh")
    assert result.survey.definition.sections[0].questions[0].label == {"en": "Unit", "zh": "单位"}


def test_language__of_a_form_without_one_is_taken_from_its_script_with_a_warning(write_form: FormWriter) -> None:
    path = write_form([["type", "name", "label"], ["text", "unit", "填报单位"]], settings=None)

    sections, questions, warnings = loaded(path)

    assert questions[0]["label"] == "填报单位"
    assert load_survey_file(path).survey.languages == ("zh",)
    assert warnings[0] == (
        "form.xlsx › survey: warning: no column names its language; the texts are taken as `zh`. "
        "Fix: set default_language in the settings sheet, e.g. `Chinese (zh)`"
    )


# -- columns ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "expected"), [("yes", True), ("TRUE", True), ("no", False), (None, False)])
def test_required__yes_is_required_and_blank_is_optional_as_in_xlsform(
    write_form: FormWriter, cell: str | None, expected: bool
) -> None:
    path = write_form([["type", "name", "label", "required"], ["text", "unit", "Unit", cell]])

    assert only_question(path)["required"] is expected


@pytest.mark.parametrize(
    ("column", "cell", "expected"),
    [
        pytest.param("relevant", "${q1} = 'yes'", "${q1} = 'yes'", id="equals"),
        pytest.param("relevant", "selected(${q1}, 'yes')", "selected(${q1}, 'yes')", id="selected"),
        pytest.param("relevant", "${q1} = ‘yes’", "${q1} = 'yes'", id="smart-quotes"),
        pytest.param("constraint", ". >= 0", ". >= 0", id="dot"),
        pytest.param("constraint", "string-length(.) <= 10", "string-length(.) <= 10", id="string-length"),
        pytest.param("constraint", "string-length(.)\u00a0<=\u00a010", "string-length(.) <= 10", id="nbsp"),
    ],
)
def test_expressions__are_translated_into_ours(write_form: FormWriter, column: str, cell: str, expected: str) -> None:
    path = write_form(
        [["type", "name", "label", column], ["select_one yn", "q1", "Q1?"], ["text", "q2", "Q2", cell]],
        choices=[["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]],
    )

    _, questions, _ = loaded(path)

    assert questions[1][column] == expected


def test_calculate__within_our_subset_is_inlined_where_it_is_used(write_form: FormWriter) -> None:
    path = write_form(
        [
            ["type", "name", "label", "calculation", "relevant"],
            ["integer", "a", "A"],
            ["integer", "b", "B"],
            ["calculate", "total", None, "${a} + ${b}"],
            ["text", "why", "Why so many?", None, "${total} > 10"],
        ]
    )

    _, questions, _ = loaded(path)

    assert [question["id"] for question in questions] == ["a", "b", "why"]
    assert questions[2]["relevant"] == "(${a} + ${b}) > 10"


def test_settings__give_the_survey_id_title_version_and_default_language(write_form: FormWriter) -> None:
    path = write_form(
        [["type", "name", "label::Chinese (zh)", "label::English (en)"], ["text", "unit", "单位", "Unit"]],
        settings=[["form_title", "form_id", "version", "default_language"], ["中期评估", "midterm-2023", "3", "Chinese (zh)"]],
    )

    survey = load_survey_file(path).survey

    assert (survey.id, survey.version, survey.definition.title, survey.languages) == ("midterm-2023", "3", "中期评估", ("zh", "en"))


@pytest.mark.parametrize(
    ("column", "cell", "warning"),
    [
        pytest.param(
            "default", "0",
            "form.xlsx › survey › row 1 › default: warning: the column `default` is ignored: "
            "the bot asks every question without a pre-filled answer",
            id="default",
        ),
        pytest.param(
            "required_message", "Please answer",
            "form.xlsx › survey › row 1 › required_message: warning: the column `required_message` is ignored: "
            "the bot says in its own words that an answer is required",
            id="required_message",
        ),
        pytest.param(
            "appearance", "minimal",
            "form.xlsx › survey › row 2 › appearance: warning: the appearance `minimal` has no effect in a chat",
            id="appearance",
        ),
        pytest.param(
            "remarks", "check with Li",
            "form.xlsx › survey › row 1 › remarks: warning: the column `remarks` is not an XLSForm column; it is ignored",
            id="own-column",
        ),
    ],
)
def test_columns__we_have_no_use_for_are_dropped_with_a_warning(
    write_form: FormWriter, column: str, cell: str, warning: str
) -> None:
    path = write_form([["type", "name", "label", column], ["integer", "count", "Count", cell]])

    _, questions, warnings = loaded(path)

    assert [question["id"] for question in questions] == ["count"]
    assert warnings == (warning,)


def test_metadata_rows__are_dropped_with_a_warning(write_form: FormWriter) -> None:
    path = write_form(
        [["type", "name", "label"], ["start", "start"], ["deviceid", "deviceid"], ["text", "unit", "Unit"], ["end", "end"]]
    )

    _, questions, warnings = loaded(path)

    assert [question["id"] for question in questions] == ["unit"]
    assert warnings == tuple(
        f"form.xlsx › survey › row {row} › type: warning: the metadata row `{kind}` is dropped: "
        "the bot records who answered and when itself"
        for row, kind in ((2, "start"), (3, "deviceid"), (5, "end"))
    )


def test_cells__non_breaking_spaces_are_trimmed_and_typographic_quotes_in_texts_kept(write_form: FormWriter) -> None:
    path = write_form(
        [["type", "name", "label\u00a0", "hint"], ["text\u00a0", "\u00a0unit\u00a0", "“填报单位”\u00a0", "e.g.\u00a0‘Rudong’"]]
    )

    question = only_question(path)

    assert (question["id"], question["type"]) == ("unit", "text")
    assert (question["label"], question["hint"]) == ("“填报单位”", "e.g. ‘Rudong’")
