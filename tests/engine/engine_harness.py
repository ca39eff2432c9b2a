"""Transcript harness for engine tests, in the style of goflow's flow tests.

A test builds a survey from inline YAML (so it reads like the survey it
tests), starts a :class:`Chat` and sends actions; a plain ``str`` stands for
typed text. :func:`trace` renders a step's events as short lines, so a test
reads as the conversation it checks::

    chat = Chat(questions('''
        - id: count
          type: integer
          label: {zh: 数量, en: Count}
          min: 0
          max: 1000
    '''))
    assert chat("1001") == ["reject invalid: 请输入 0 到 1000 之间的整数"]

Every step a :class:`Chat` takes is also checked against the engine's
contract (:func:`check_step`): the state passed in is never mutated, a
rejection leaves the state unchanged, the revision never goes down, and the
state survives ``to_dict`` → JSON → ``from_dict``.
"""

from __future__ import annotations

import functools
import json
import textwrap
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any, Final, TypeVar

from bot.core import engine
from bot.core.actions import Action, AnswerText, Submit
from bot.core.engine import Step
from bot.core.events import (
    AnswerChanged,
    DraftUpdated,
    Event,
    Intro,
    NoteShown,
    Paused,
    Prompt,
    Rejected,
    RejectionCode,
    ReviewShown,
    Submitted,
)
from bot.core.loading import parse_survey
from bot.core.previous import NO_PREVIOUS, PreviousAnswers
from bot.core.state import SessionState, SessionStatus
from bot.core.survey import Survey
from bot.survey_files import load_survey

#: The day every test runs on, unless it says otherwise (the Nantong deadline was 2023-04-26).
TODAY: Final = date(2023, 4, 25)
ROOT: Final = Path(__file__).resolve().parents[2]
NANTONG_PATH: Final = ROOT / "surveys" / "nantong-midterm-2023.yaml"
CHANGZHOU_PATH: Final = ROOT / "surveys" / "changzhou-2019-member-progress.yaml"

#: What a test may send: an action, or a ``str`` meaning typed text.
Input = Action | str
E = TypeVar("E", bound=Event)


# -- surveys ------------------------------------------------------------------------------


def survey_from_yaml(text: str) -> Survey:
    """A whole survey file given inline."""
    return parse_survey(textwrap.dedent(text), source="<test>")


def questions(text: str, *, languages: str = "[zh, en]", intro: str | None = None) -> Survey:
    """A one-section survey (section title 第一部分 / Part one) around the question list ``text``."""
    body = textwrap.indent(textwrap.dedent(text).strip("\n"), " " * 6)
    head = [
        "id: test-survey",
        'version: "1"',
        "title: {zh: 测试问卷, en: Test survey}",
        f"languages: {languages}",
    ]
    if intro is not None:
        head.append(f"intro: {intro}")
    head += [
        "sections:",
        "  - id: main",
        "    title: {zh: 第一部分, en: Part one}",
        "    questions:",
    ]
    return parse_survey("\n".join(head) + "\n" + body + "\n", source="<test>")


@functools.cache
def nantong() -> Survey:
    return load_survey(NANTONG_PATH)


@functools.cache
def changzhou() -> Survey:
    return load_survey(CHANGZHOU_PATH)


# -- the contract every step keeps ---------------------------------------------------------


def round_trip(state: SessionState) -> SessionState:
    """``state`` through ``to_dict`` → JSON text → ``from_dict``, as a database stores it."""
    return SessionState.from_dict(json.loads(json.dumps(state.to_dict(), ensure_ascii=False)))


def is_submit_redirect(action: Action, before: SessionState, step: Step) -> bool:
    """A submission refused by a constraint that an answer changed since: the engine takes the
    respondent to the failing question (a Rejected event *and* a new state), by design."""
    rejections = [event for event in step.events if isinstance(event, Rejected)]
    return (
        isinstance(action, Submit)
        and len(rejections) == 1
        and rejections[0].code is RejectionCode.CONSTRAINT
        and step.state.status is SessionStatus.ANSWERING
        and step.state.current == rejections[0].question_id
        and step.state.return_to_review
        and step.state.answers == before.answers
    )


def check_step(before: SessionState, snapshot: dict[str, Any], action: Action, step: Step) -> None:
    """The engine's contract for one ``resume`` call."""
    assert before.to_dict() == snapshot, f"{action!r} mutated the state it was given"
    if step.rejected and not is_submit_redirect(action, before, step):
        assert step.state.to_dict() == snapshot, f"{action!r} was rejected but changed the state"
    assert step.state.revision >= before.revision, f"{action!r} lowered the revision"
    assert round_trip(step.state).to_dict() == step.state.to_dict(), "the state does not survive JSON"


# -- conversations ------------------------------------------------------------------------


class Chat:
    """One respondent's conversation with the engine; every step is contract-checked."""

    def __init__(
        self,
        survey: Survey,
        *,
        language: str | None = "zh",
        today: date = TODAY,
        previous: PreviousAnswers = NO_PREVIOUS,
    ) -> None:
        self.survey = survey
        self.today = today
        #: The unit's submitted answers of last period (a campaign linked with ``--previous``).
        self.previous = previous
        self.steps: list[Step] = [engine.start(survey, language=language, today=today, previous=previous)]

    @property
    def step(self) -> Step:
        return self.steps[-1]

    @property
    def state(self) -> SessionState:
        return self.step.state

    @property
    def events(self) -> tuple[Event, ...]:
        return self.step.events

    def send(self, *inputs: Input) -> Step:
        """Apply each input in turn; returns the last step."""
        for item in inputs:
            action: Action = AnswerText(item) if isinstance(item, str) else item
            before = self.state
            snapshot = before.to_dict()
            step = engine.resume(self.survey, before, action, today=self.today, previous=self.previous)
            check_step(before, snapshot, action, step)
            self.steps.append(step)
        return self.step

    def __call__(self, *inputs: Input) -> list[str]:
        """Apply the inputs; the trace of the last step."""
        return trace(self.send(*inputs).events)

    def prompt(self) -> Prompt:
        """The question the last step asked."""
        return last(self.events, Prompt)

    def rejection(self) -> Rejected:
        return last(self.events, Rejected)

    def review(self) -> ReviewShown:
        return last(self.events, ReviewShown)

    def submitted(self) -> Submitted:
        return last(self.events, Submitted)


def last(events: Iterable[Event], kind: type[E]) -> E:
    found = [event for event in events if isinstance(event, kind)]
    assert found, f"no {kind.__name__} among {trace(events)}"
    return found[-1]


# -- rendering ----------------------------------------------------------------------------


def describe(event: Event) -> str:
    """One event as a short line."""
    if isinstance(event, Intro):
        return "intro"
    if isinstance(event, NoteShown):
        return f"note {event.question_id}"
    if isinstance(event, Prompt):
        line = f"ask {event.question_id} {event.position}/{event.total}"
        if event.awaiting_other:
            line += " other-name"
        return line + (" again" if event.repeated else "")
    if isinstance(event, Rejected):
        return f"reject {event.code.value}: {event.reason}"
    if isinstance(event, DraftUpdated):
        return f"draft {event.question_id} {event.length}/{event.max_length} in {event.parts}"
    if isinstance(event, AnswerChanged):
        line = f"set {event.question_id}: {event.old_value!r} -> {event.new_value!r}"
        if event.old_other is not None or event.new_other is not None:
            line += f" other {event.old_other!r} -> {event.new_other!r}"
        return line
    if isinstance(event, ReviewShown):
        return f"review missing={list(event.missing)}" + (" submitted" if event.submitted else "")
    if isinstance(event, Submitted):
        return f"submitted r{event.revision}"
    if isinstance(event, Paused):
        return "paused"
    raise AssertionError(f"unknown event {event!r}")


def trace(events: Iterable[Event]) -> list[str]:
    return [describe(event) for event in events]


def options(prompt: Prompt) -> list[str]:
    """The choices as shown, a selected one marked with ``✓``."""
    return [choice.label + (" ✓" if choice.selected else "") for choice in prompt.choices]


def review_lines(review: ReviewShown) -> list[str]:
    """The review as ``【section】`` lines and ``n. label → answer`` lines."""
    lines: list[str] = []
    for section in review.sections:
        lines.append(f"【{section.title}】")
        lines.extend(f"{item.number}. {item.label} → {item.display}" for item in section.items)
    return lines
