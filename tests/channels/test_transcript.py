"""The transcript runner: the case shape it reads, and how a step fails."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.channels.transcript import Reply, TranscriptError, load_cases, run_case


class ScriptedDriver:
    """A channel that answers each text with the replies scripted for it."""

    def __init__(self, script: Mapping[str, list[Reply]]) -> None:
        self.script = script
        self.values = {"token": "T0KEN"}
        self.done: list[Mapping[str, Any]] = []

    async def do(self, action: Mapping[str, Any]) -> list[Reply]:
        self.done.append(action)
        return self.script.get(str(action.get("text")), [])


def write_cases(tmp_path: Path, cases: object) -> Path:
    path = tmp_path / "incoming.json"
    path.write_text(json.dumps(cases, ensure_ascii=False), encoding="utf-8")
    return path


CASE = {
    "name": "hello",
    "steps": [
        {"do": {"text": "$token"}, "expect": [{"contains": ["第 1 题"], "buttons": [["是", "否"]]}]},
        {"do": {"text": "bye"}, "expect": []},
    ],
}


async def test_a_matching_transcript__passes_with_values_substituted(tmp_path: Path) -> None:
    [case] = load_cases(write_cases(tmp_path, [CASE]))
    driver = ScriptedDriver({"T0KEN": [Reply("第 1 题：是否", (("是", "否"),))]})
    await run_case(case, driver)
    assert str(case) == "incoming/hello"
    assert driver.done == [{"text": "T0KEN"}, {"text": "bye"}]


@pytest.mark.parametrize(
    ("replies", "problem"),
    [
        ([Reply("第 2 题", (("是", "否"),))], "message 1: text lacks '第 1 题'"),
        ([Reply("第 1 题", ())], "message 1: buttons are [], expected [['是', '否']]"),
        ([Reply("第 1 题", (("是", "否"),)), Reply("多余")], "2 message(s), expected 1"),
        ([], "0 message(s), expected 1"),
    ],
    ids=["text", "buttons", "one_too_many", "none"],
)
async def test_a_step_that_differs__fails_with_the_problem_and_the_transcript(
    tmp_path: Path, replies: list[Reply], problem: str
) -> None:
    [case] = load_cases(write_cases(tmp_path, [CASE]))
    with pytest.raises(AssertionError) as failure:
        await run_case(case, ScriptedDriver({"T0KEN": replies}))
    message = str(failure.value)
    assert message.startswith("incoming/hello step 1:") and problem in message
    assert 'step 1: {"text": "T0KEN"}' in message


async def test_an_unknown_value__names_the_values_there_are(tmp_path: Path) -> None:
    [case] = load_cases(write_cases(tmp_path, [{"name": "x", "steps": [{"do": {"text": "$unit"}}]}]))
    with pytest.raises(TranscriptError, match=r"\$unit in '\$unit' is not one of the driver's values \['token'\]"):
        await run_case(case, ScriptedDriver({}))


@pytest.mark.parametrize(
    ("cases", "error"),
    [
        ({"name": "x"}, "the file must be a JSON list of cases"),
        ([{"name": "x", "steps": [{"do": {"text": "a"}, "expected": []}]}], r"case 1 \(x\) step 1: unknown key\(s\) \['expected'\]"),
        ([{"name": "x", "steps": [{"do": {}}]}], r"case 1 \(x\) step 1: 'do' must be a non-empty object"),
        ([{"name": "x", "steps": [{"do": {"text": "a"}, "expect": [{"buttons": ["是"]}]}]}], "must be a list of rows"),
        ([{"name": "x", "steps": [{"do": {"text": "a"}}]}] * 2, "two cases are named 'x'"),
        ([{"steps": []}], "case 1: 'name' must be a non-empty string"),
    ],
    ids=["not_a_list", "unknown_key", "empty_action", "buttons_not_rows", "same_name_twice", "no_name"],
)
def test_a_malformed_file__says_where_and_what(tmp_path: Path, cases: object, error: str) -> None:
    with pytest.raises(TranscriptError, match=error):
        load_cases(write_cases(tmp_path, cases))
