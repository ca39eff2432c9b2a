"""``surveybot validate`` and ``surveybot try``: good files, every kind of bad file, the terminal
channel end to end, and the installed console script."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from engine_harness import CHANGZHOU_PATH, NANTONG_PATH, ROOT

from bot.cli import main

VALID_HEAD = """\
id: bad-survey
version: "1"
title: {zh: 测试, en: Test}
languages: [zh, en]
sections:
  - id: main
    title: {zh: 第一部分, en: Part one}
    questions:
"""


def questions_file(tmp_path: Path, questions_yaml: str) -> Path:
    path = tmp_path / "bad.yaml"
    body = textwrap.indent(textwrap.dedent(questions_yaml).strip("\n"), " " * 6)
    path.write_text(VALID_HEAD + body + "\n", encoding="utf-8")
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.out, captured.err


# -- validate: good files ---------------------------------------------------------------------


def test_validate__shipped_surveys_exit_0_with_one_summary_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "validate", str(NANTONG_PATH), str(CHANGZHOU_PATH))
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"{NANTONG_PATH}: ok: nantong-midterm-2023 v1, 4 sections, 19 questions, 1 notes, languages zh, en",
        f"{CHANGZHOU_PATH}: ok: changzhou-2019-member-progress v1, 5 sections, 38 questions, languages zh, en",
    ]


# -- validate: bad files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(b"id: x\x00\nversion: 1\n", "is a binary file, not YAML text; save the survey as UTF-8 text", id="binary"),
        pytest.param(b"title: \xff\xfe\n", "is not UTF-8 text (bad byte at offset 7); save the file as UTF-8", id="not-utf8"),
        pytest.param(b"", "is empty; a survey needs id, version, title, languages and sections", id="empty"),
        pytest.param(b"  \n\n", "is empty; a survey needs id, version, title, languages and sections", id="blank"),
        pytest.param(
            b"id: [unclosed\n",
            "line 2, column 1: expected ',' or ']', but got '<stream end>'; fix the YAML syntax (indentation, quotes, colons)",
            id="invalid-yaml",
        ),
        pytest.param(
            b"- id: x\n- title: y\n",
            "is not a YAML mapping; a survey starts with keys such as `id:`, `title:` and `sections:`",
            id="yaml-list",
        ),
        pytest.param(b"[" * 1500 + b"]" * 1500, "nests too deeply to be a survey; check the brackets and indentation", id="deep"),
    ],
)
def test_validate__unreadable_file_exits_1_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    path = tmp_path / "survey.yaml"
    path.write_bytes(content)
    code, out, err = run_cli(capsys, "validate", str(path))
    assert (code, out) == (1, "")
    assert err.splitlines() == [f"{path}: {message}"]


def test_validate__wrong_types_are_each_listed_with_their_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "types.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            id: types
            version: "1"
            title: T
            languages: zh
            sections:
              - id: s
                title: S
                questions:
                  - {id: q1, type: integer, label: L, required: maybe, min: lots}
            """
        ),
        encoding="utf-8",
    )
    code, out, err = run_cli(capsys, "validate", str(path))
    assert code == 1
    assert err.splitlines() == [
        f"{path}: languages: Input should be a valid list (got 'zh'); correct the value",
        f"{path}: sections[0].questions[0].required (q1): Input should be a valid boolean, unable to interpret input (got 'maybe'); correct the value",
        f"{path}: sections[0].questions[0].min (q1): Input should be a valid decimal (got 'lots'); correct the value",
    ]


@pytest.mark.parametrize(
    ("questions_yaml", "expected"),
    [
        pytest.param(
            """
            - id: q1
              type: text
              label: L
              colour: red
            """,
            "sections[0].questions[0] (q1): unknown field `colour`; remove it or check its spelling (see docs/survey-format.md)",
            id="unknown-field",
        ),
        pytest.param(
            """
            - id: q1
              type: texty
              label: L
            """,
            "sections[0].questions[0].type (q1): unknown question type 'texty'; use one of: text, long_text, integer, "
            "decimal, yes_no, select_one, select_multiple, date, phone, email, file, note",
            id="unknown-type",
        ),
        pytest.param(
            """
            - {id: q1, type: text, label: A}
            - {id: q1, type: text, label: B}
            """,
            "sections[0].questions[1] (q1): question id `q1` is already used by sections[0].questions[0]; ids must be unique",
            id="duplicate-question-id",
        ),
        pytest.param(
            """
            - id: q1
              type: select_one
              label: L
              choices: [{value: a, label: A}, {value: a, label: B}]
            """,
            "sections[0].questions[0].choices[1].value (q1): choice value 'a' repeats choices[0]; give each choice its own value",
            id="duplicate-choice-value",
        ),
        pytest.param(
            """
            - {id: q1, type: text, label: A, relevant: "${q2} = 'yes'"}
            - {id: q2, type: yes_no, label: B}
            """,
            "sections[0].questions[0].relevant (q1): refers to the later question ${q2} at position 0 (in \"${q2} = 'yes'\"); "
            "relevance can only depend on earlier questions, so move the question after ${q2}",
            id="relevant-on-a-later-question",
        ),
        pytest.param(
            """
            - {id: q1, type: yes_no, label: A, relevant: "${q1} = 'yes'"}
            """,
            "sections[0].questions[0].relevant (q1): refers to itself at position 0 (in \"${q1} = 'yes'\"); "
            "whether a question is asked cannot depend on its own answer, so refer to an earlier question",
            id="relevant-on-itself",
        ),
        pytest.param(
            """
            - {id: q1, type: yes_no, label: A}
            - {id: q2, type: text, label: B, relevant: "${q1} = 'yes' and ${nope} != ''"}
            """,
            "sections[0].questions[1].relevant (q2): refers to unknown question ${nope} at position 18 "
            "(in \"${q1} = 'yes' and ${nope} != ''\"); check the id",
            id="relevant-on-an-unknown-id",
        ),
        pytest.param(
            """
            - id: q1
              type: text
              label: {zh: 名称}
            """,
            "sections[0].questions[0].label (q1): has no text for en; add it or use one plain string",
            id="localized-text-missing-a-language",
        ),
        pytest.param(
            """
            - id: q1
              type: select_one
              label: L
              choices: [{value: a, label: A}, {value: b, label: B}]
              other: {label: 其他, before: zz}
            """,
            "sections[0].questions[0].other.before (q1): names no choice of this question ('zz'); use one of: a, b",
            id="other-before-names-no-choice",
        ),
        pytest.param(
            """
            - {id: q1, type: integer, label: L, min: 10, max: 1}
            """,
            "sections[0].questions[0].min (q1): min 10 is greater than max 1; swap them",
            id="min-greater-than-max",
        ),
    ],
)
def test_validate__definition_problem_is_listed_as_file_path_question_and_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], questions_yaml: str, expected: str
) -> None:
    path = questions_file(tmp_path, questions_yaml)
    code, out, err = run_cli(capsys, "validate", str(path))
    assert (code, out) == (1, "")
    assert err.splitlines() == [f"{path}: {expected}"]


@pytest.mark.parametrize(
    ("expression", "fragments"),
    [
        pytest.param("${q1} = ", ["sections[0].questions[1].relevant (q2): ", "at position 8", "(in '${q1} = ')"], id="syntax-error"),
        pytest.param("(${q1} = 'yes'", ["unclosed '(' at position 0", "add the missing ')'"], id="unclosed-parenthesis"),
        pytest.param(
            "string-length(${q1}, 2) > 0",
            ["string-length() takes 1 argument, got 2 at position 0", "write string-length(${q1})"],
            id="wrong-arity",
        ),
        pytest.param("${q1} == 'yes'", ["unexpected '==' at position 6", "compare with a single '='"], id="double-equals"),
    ],
)
def test_validate__bad_expression_names_the_question_and_the_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], expression: str, fragments: list[str]
) -> None:
    path = questions_file(
        tmp_path,
        f"""
        - {{id: q1, type: yes_no, label: A}}
        - {{id: q2, type: text, label: B, relevant: "{expression}"}}
        """,
    )
    code, _, err = run_cli(capsys, "validate", str(path))
    assert code == 1
    [line] = err.splitlines()
    assert line.startswith(f"{path}: sections[0].questions[1].relevant (q2): ")
    for fragment in fragments:
        assert fragment in line


def test_validate__lists_every_problem_of_a_file_not_just_the_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = questions_file(
        tmp_path,
        """
        - {id: q1, type: integer, label: {zh: 数量}, min: 5, max: 1}
        - id: q2
          type: select_multiple
          label: B
          choices: [{value: a, label: A}, {value: a, label: A2}]
          min_selected: 3
        - {id: q2, type: text, label: C, relevant: "${q9} = 1"}
        """,
    )
    code, _, err = run_cli(capsys, "validate", str(path))
    assert code == 1
    lines = err.splitlines()
    assert all(line.startswith(f"{path}: sections[0].questions[") for line in lines)
    assert [line.split(": ", 2)[1] for line in lines] == [
        "sections[0].questions[0].label (q1)",
        "sections[0].questions[0].min (q1)",
        "sections[0].questions[1].choices[1].value (q2)",
        "sections[0].questions[1].min_selected (q2)",
        "sections[0].questions[2] (q2)",
        "sections[0].questions[2].relevant (q2)",
    ]


def test_validate__good_and_bad_files_together_exit_1_and_report_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = questions_file(tmp_path, "- {id: q1, type: texty, label: L}")
    code, out, err = run_cli(capsys, "validate", str(NANTONG_PATH), str(bad))
    assert code == 1
    assert out.startswith(f"{NANTONG_PATH}: ok: ")
    assert err.startswith(f"{bad}: sections[0].questions[0].type (q1): unknown question type 'texty'")


def test_validate__directory_and_missing_file_are_problems_not_tracebacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.yaml"
    code, out, err = run_cli(capsys, "validate", str(tmp_path), str(missing))
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"{tmp_path}: is a directory; name a .yaml or .xlsx file",
        f"{missing}: file not found; check the path",
    ]


# -- try: the terminal channel ----------------------------------------------------------------


def answers_json(out: str) -> dict[str, Any]:
    """The JSON printed last by ``try``."""
    lines = out.splitlines()
    start = max(index for index, line in enumerate(lines) if line == "{")
    return json.loads("\n".join(lines[start:]))


NANTONG_ZH_LINES = [
    "如东县科学技术协会",
    "张三",
    "0513-59003013",
    "2023年4月26日",
    "是",
    "否",
    "1",
    "是",
    "1,2",
    "3",  # 其他（名称）
    "科普工作联席会议",
    "是",
    "１２ 个",
    "减少 3",
    "组织实施有力。",
    "/done",
    "任务完成良好。",
    "/done",
    "经验：协同。",
    "/done",
    "问题：经费不足。",
    "/done",
    "建议：加大投入。",
    "/done",
]


def test_try__answering_the_whole_nantong_survey_in_chinese_prints_the_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    scan = tmp_path / "盖章调查表.pdf"
    scan.write_bytes(b"%PDF-1.4 stamped")
    stdin = "\n".join([*NANTONG_ZH_LINES, "no-such-file.pdf", str(scan), "/review", "/submit"]) + "\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code, out, err = run_cli(capsys, "try", str(NANTONG_PATH))
    assert (code, err) == (0, "")
    assert "共 18 题" in out and "第 1/18 题" in out and "填报单位" in out  # the same count, as the survey opens
    assert "找不到文件：no-such-file.pdf" in out
    assert "已提交（第 1 版）。提交的回答：" in out
    printed = answers_json(out)
    assert printed["survey"] == "nantong-midterm-2023"
    assert printed["others"] == {"q5_body": "科普工作联席会议"}
    answers = printed["answers"]
    assert answers["contact_phone"] == "0513-59003013"
    assert answers["filled_on"] == "2023-04-26"
    assert answers["q4_by"] == ["party_committee", "government"]
    assert (answers["q5_body"], answers["q7_members"], answers["q7_change"]) == ("other", 12, -3)
    assert answers["r4_suggestions"] == "建议：加大投入。"
    assert answers["stamped_table"]["name"] == "盖章调查表.pdf"
    assert answers["stamped_table"]["size"] == len(b"%PDF-1.4 stamped")
    assert len(answers) == 19


def test_try__in_english_with_a_rejection_and_a_back(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        "Rudong County Association for Science and Technology",
        "Zhang San",
        "59003013",  # no area code: refused
        "0513-59003013",
        "2023-04-26",
        "yes", "no", "yes",
        "no",  # item 4: no follow-up
        "4",  # q5_body: No
        "/back",
        "1",  # q5_body: the leading group
        "yes",
        "35",
        "0",
        "Organization.", "/done", "Tasks.", "/done", "Experience.", "/done", "Problems.", "/done",
        "Suggestions.", "/done",
        "/skip",
        "/submit",
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    code, out, _ = run_cli(capsys, "try", str(NANTONG_PATH), "--lang", "en")
    assert code == 0
    assert "Question 1/18" in out and "Reporting unit" in out
    assert "⚠ Please enter an 11-digit mobile number, or a landline with its area code, such as 0513-59003013" in out
    assert "Submitted (revision 1). The submitted answers:" in out
    answers = answers_json(out)["answers"]
    assert (answers["q4_assessment"], answers["q5_body"], answers["q7_members"]) == ("no", "leading_group", 35)
    assert "q4_by" not in answers and "stamped_table" not in answers


def test_try__end_of_input_before_submitting_exits_1_saying_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("如东县科学技术协会\n张三\n"))
    code, out, err = run_cli(capsys, "try", str(NANTONG_PATH))
    assert (code, err) == (1, "")
    assert out.rstrip().endswith("未提交，已退出。")
    assert "{" not in out.splitlines()


def test_try__unknown_language_exits_2_with_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, out, err = run_cli(capsys, "try", str(NANTONG_PATH), "--lang", "fr")
    assert (code, out) == (2, "")
    assert err.splitlines() == ["surveybot try: --lang fr: the survey has zh, en; choose one of them"]


def test_try__invalid_survey_exits_1_listing_its_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = questions_file(tmp_path, "- {id: q1, type: texty, label: L}")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, out, err = run_cli(capsys, "try", str(path))
    assert (code, out) == (1, "")
    assert err.splitlines()[0] == "surveybot try: the survey is not valid:"
    assert err.splitlines()[1].startswith(f"{path}: sections[0].questions[0].type (q1): unknown question type")


# -- the installed console script -------------------------------------------------------------


def console_script() -> str:
    found = shutil.which("surveybot", path=str(Path(sys.executable).parent))
    assert found is not None, "the surveybot console script is not installed next to this Python"
    return found


def test_console_script__validate_runs_as_a_real_process() -> None:
    result = subprocess.run(
        [console_script(), "validate", "surveys/nantong-midterm-2023.yaml", "surveys/changzhou-2019-member-progress.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert len(result.stdout.splitlines()) == 2


def test_console_script__try_reads_stdin_and_exits_1_on_end_of_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\x00\x01")
    result = subprocess.run(
        [console_script(), "try", "surveys/nantong-midterm-2023.yaml"],
        cwd=ROOT,
        input="如东县科学技术协会\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "填报单位" in result.stdout and "未提交，已退出。" in result.stdout
    bad_run = subprocess.run([console_script(), "validate", str(bad)], capture_output=True, text=True, timeout=60)
    assert bad_run.returncode == 1
    assert "Traceback" not in bad_run.stdout + bad_run.stderr
    assert bad_run.stderr.strip() == f"{bad}: is a binary file, not YAML text; save the survey as UTF-8 text"


def test_try__a_number_typed_after_review_in_mid_survey_picks_that_question_as_the_review_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF")
    lines = [*NANTONG_ZH_LINES[:12], "/review", "3", "0513-59003014"]  # at item 7: review, then change question 3
    lines += ["/skip"] * 8  # keep the answers from 填表日期 to item 6
    lines += [*NANTONG_ZH_LINES[12:], "/review", str(scan), "/submit"]  # a path after /review is still an upload
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    code, out, _ = run_cli(capsys, "try", str(NANTONG_PATH))
    assert code == 0
    answers = answers_json(out)["answers"]
    assert answers["contact_phone"] == "0513-59003014"  # question 3 changed, not "3" taken as the member count
    assert answers["q7_members"] == 12
    assert answers["stamped_table"]["name"] == "scan.pdf"


def test_try__clear_starts_a_long_text_over_and_a_rejection_names_the_commands_that_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [*NANTONG_ZH_LINES[:2], "59003013", *NANTONG_ZH_LINES[2:14]]  # a bad phone number first
    lines += ["组织实施不力。", "/clear", "组织实施有力。", "/done", *NANTONG_ZH_LINES[16:], "/skip", "/submit"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    code, out, _ = run_cli(capsys, "try", str(NANTONG_PATH))
    assert code == 0
    printed = [line.removeprefix("> ") for line in out.splitlines()]  # "> " asks for the next line
    warning = printed.index("⚠ 请输入11位手机号，或带区号的固定电话，例如 0513-59003013")
    assert printed[warning + 1] == "/back"  # the way forward, right under the warning
    draft = printed.index("已输入 7/1000 字")
    assert printed[draft + 2] == "/done  /clear"
    assert answers_json(out)["answers"]["r1_organization"] == "组织实施有力。"


def test_try__previous_answers_are_offered_and_same_takes_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    last_year = tmp_path / "last-year.json"
    last_year.write_text(
        json.dumps({"survey": "nantong-midterm-2023", "answers": {"unit": "如东县科学技术协会", "filled_by": "张三"}}),
        encoding="utf-8",
    )
    lines = ["/same", "李四"]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    code, out, _ = run_cli(capsys, "try", str(NANTONG_PATH), "--previous", str(last_year))
    assert code == 1  # not submitted: the input ends
    printed = [line.removeprefix("> ") for line in out.splitlines()]
    first = printed.index("上次：如东县科学技术协会")
    assert printed[first + 1] == "/same  /review"  # the control, typed as a command
    assert "上次：张三" in printed  # /same answered the first question; the second is asked with its default


def test_try__previous_that_is_not_json_exits_1_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("unit: 如东县", encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, out, err = run_cli(capsys, "try", str(NANTONG_PATH), "--previous", str(bad))
    assert (code, out) == (1, "")
    assert len(err.splitlines()) == 1
    assert err.startswith(f"surveybot try: --previous {bad}: not JSON text")
