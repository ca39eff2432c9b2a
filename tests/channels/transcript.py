"""Transcript cases for channels: one shape for every channel's fake, one runner.

In the manner of RapidPro courier's ``handlers/<channel>/testdata/incoming.json``
and ``outgoing.json``, each channel keeps its cases in
``tests/channels/<channel>/testdata/``:

* ``incoming.json``: conversations a person starts: what they send, what they get back;
* ``outgoing.json``: what the bot sends unprompted (reminders, broadcasts) and
  how it arrives, possibly followed by the person's answer to it.

Both files hold a JSON list of cases of one shape::

    [
      {
        "name": "start_with_a_token",            # the test id, unique in the file
        "description": "for people; optional",
        "steps": [
          {
            "do": {"command": "/start", "args": ["$token"]},
            "expect": [                           # every new message, in order
              {"contains": ["第 1/18 题"]},
              {"text": "the exact text", "buttons": [["是", "否"], ["⬅️ 上一题"]]}
            ]
          }
        ]
      }
    ]

``do`` is the one channel-specific part: the channel's driver knows its own
actions (Telegram: ``command``, ``text``, ``press``, ``press_data``,
``broadcast``, ``reminder``; a web chat would have ``text`` and ``click``,
WeCom its callbacks). Strings in ``do`` may name the driver's values as
``$name`` (``$token``: an invitation to the roster's first unit).

An expected message matches a message the bot sent when its ``text`` is equal,
each ``contains`` fragment occurs in the text, and its ``buttons`` (rows of
labels, ``[]`` for none) are equal; a key left out is not checked. The number
of messages must be exactly the number expected, so a driver returns a step's
messages once the bot has handled the action (never after a quiet period).

A channel adds a driver (an object with ``values`` and ``do``, see
:class:`ChannelDriver`), its two testdata files and one test::

    @pytest.mark.parametrize("case", load_cases(TESTDATA / "incoming.json", ...), ids=str)
    async def test_transcript(case: TranscriptCase, driver: MyDriver) -> None:
        await run_case(case, driver)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any, Protocol

#: Keys a case, a step and an expected message may have.
CASE_KEYS = frozenset({"name", "description", "steps"})
STEP_KEYS = frozenset({"do", "expect"})
EXPECT_KEYS = frozenset({"text", "contains", "buttons"})

Buttons = tuple[tuple[str, ...], ...]


class TranscriptError(ValueError):
    """A testdata file that does not have the transcript shape (the message says where)."""


@dataclass(frozen=True)
class Reply:
    """A message as the person sees it, whatever the channel: its text and its buttons."""

    text: str
    buttons: Buttons = ()


@dataclass(frozen=True)
class ExpectedReply:
    text: str | None = None
    contains: tuple[str, ...] = ()
    buttons: Buttons | None = None

    def mismatches(self, reply: Reply) -> list[str]:
        """What differs between this expectation and ``reply`` (nothing when it matches)."""
        problems = []
        if self.text is not None and reply.text != self.text:
            problems.append(f"text is {reply.text!r}, expected {self.text!r}")
        problems.extend(f"text lacks {fragment!r}" for fragment in self.contains if fragment not in reply.text)
        if self.buttons is not None and reply.buttons != self.buttons:
            problems.append(f"buttons are {_lists(reply.buttons)}, expected {_lists(self.buttons)}")
        return problems


@dataclass(frozen=True)
class Step:
    do: Mapping[str, Any]
    expect: tuple[ExpectedReply, ...]


@dataclass(frozen=True)
class TranscriptCase:
    source: str
    """The file's stem (``incoming`` or ``outgoing``)."""
    name: str
    steps: tuple[Step, ...]
    description: str = ""

    def __str__(self) -> str:
        return f"{self.source}/{self.name}"


class ChannelDriver(Protocol):
    """One channel's side of a transcript: performs an action, returns what the person got."""

    @property
    def values(self) -> Mapping[str, str]:
        """What ``$name`` in an action stands for."""
        ...

    async def do(self, action: Mapping[str, Any]) -> list[Reply]:
        """Perform ``action`` and return the bot's new messages once it has handled it."""
        ...


def load_cases(*paths: Path) -> list[TranscriptCase]:
    """The cases of each file, in file order; raises :class:`TranscriptError` on a malformed file."""
    cases: list[TranscriptCase] = []
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise TranscriptError(f"{path}: not JSON ({error}); fix the syntax") from None
        if not isinstance(data, list):
            raise TranscriptError(f"{path}: the file must be a JSON list of cases")
        names: set[str] = set()
        for index, raw in enumerate(data):
            case = _case(raw, source=path.stem, where=f"{path} case {index + 1}")
            if case.name in names:
                raise TranscriptError(f"{path}: two cases are named {case.name!r}; names are test ids, rename one")
            names.add(case.name)
            cases.append(case)
    return cases


async def run_case(case: TranscriptCase, driver: ChannelDriver) -> None:
    """Perform each step through ``driver`` and check what came back; fails with the transcript so far."""
    transcript: list[str] = []
    for number, step in enumerate(case.steps, start=1):
        action = _substitute(step.do, driver.values)
        replies = await driver.do(action)
        transcript.append(f"step {number}: {json.dumps(action, ensure_ascii=False)}")
        transcript.extend(f"  <- {reply.text!r} {_lists(reply.buttons)}" for reply in replies)
        problems = []
        if len(replies) != len(step.expect):
            problems.append(f"{len(replies)} message(s), expected {len(step.expect)}")
        for position, (expected, reply) in enumerate(zip(step.expect, replies, strict=False), start=1):
            problems.extend(f"message {position}: {problem}" for problem in expected.mismatches(reply))
        if problems:
            raise AssertionError(
                f"{case} step {number}:\n  " + "\n  ".join(problems) + "\ntranscript:\n" + "\n".join(transcript)
            )


# -- parsing ------------------------------------------------------------------------------


def _case(raw: object, *, source: str, where: str) -> TranscriptCase:
    data = _object(raw, CASE_KEYS, where=where)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise TranscriptError(f"{where}: 'name' must be a non-empty string (it is the test id)")
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise TranscriptError(f"{where} ({name}): 'steps' must be a non-empty list")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise TranscriptError(f"{where} ({name}): 'description' must be a string")
    return TranscriptCase(
        source=source,
        name=name,
        description=description,
        steps=tuple(_step(step, where=f"{where} ({name}) step {index + 1}") for index, step in enumerate(steps)),
    )


def _step(raw: object, *, where: str) -> Step:
    data = _object(raw, STEP_KEYS, where=where)
    action = data.get("do")
    if not isinstance(action, dict) or not action:
        raise TranscriptError(f"{where}: 'do' must be a non-empty object naming the channel action")
    expect = data.get("expect", [])
    if not isinstance(expect, list):
        raise TranscriptError(f"{where}: 'expect' must be a list of expected messages ([] for none)")
    return Step(do=action, expect=tuple(_expected(item, where=f"{where} message {i + 1}") for i, item in enumerate(expect)))


def _expected(raw: object, *, where: str) -> ExpectedReply:
    data = _object(raw, EXPECT_KEYS, where=where)
    text = data.get("text")
    if text is not None and not isinstance(text, str):
        raise TranscriptError(f"{where}: 'text' must be a string")
    contains = data.get("contains", [])
    if not isinstance(contains, list) or not all(isinstance(item, str) for item in contains):
        raise TranscriptError(f"{where}: 'contains' must be a list of strings")
    buttons = data.get("buttons")
    if buttons is not None and not (
        isinstance(buttons, list)
        and all(isinstance(row, list) and all(isinstance(label, str) for label in row) for row in buttons)
    ):
        raise TranscriptError(f"{where}: 'buttons' must be a list of rows of labels, e.g. [[\"是\", \"否\"]]")
    return ExpectedReply(
        text=text,
        contains=tuple(contains),
        buttons=None if buttons is None else tuple(tuple(row) for row in buttons),
    )


def _object(raw: object, keys: frozenset[str], *, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise TranscriptError(f"{where}: must be an object")
    unknown = sorted(set(raw) - keys)
    if unknown:
        raise TranscriptError(f"{where}: unknown key(s) {unknown}; the keys are {sorted(keys)}")
    return raw


def _substitute(value: Any, values: Mapping[str, str]) -> Any:
    """``value`` with ``$name`` in every string replaced from ``values`` (unknown names fail)."""
    if isinstance(value, str):
        try:
            return Template(value).substitute(values)
        except KeyError as error:
            raise TranscriptError(f"${error.args[0]} in {value!r} is not one of the driver's values {sorted(values)}") from None
    if isinstance(value, Mapping):
        return {key: _substitute(item, values) for key, item in value.items()}
    if isinstance(value, Sequence):
        return [_substitute(item, values) for item in value]
    return value


def _lists(buttons: Buttons) -> list[list[str]]:
    return [list(row) for row in buttons]
