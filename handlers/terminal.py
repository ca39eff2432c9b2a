"""The terminal channel: answer a survey on the keyboard (``surveybot try``).

It drives the same engine as the chat channels and shows the same neutral
reply (:mod:`bot.core.reply`): choices as numbered lines, the other controls
as the commands that trigger them (``/done``, ``/clear``, ``/back``,
``/skip``, ``/same``, ``/review``, ``/submit``, ``/resume``; ``/lang`` switches the
language). It ends by printing the submitted answers as JSON. It is the
zero-set-up way to try a survey file.
"""

from __future__ import annotations

import json
import mimetypes
from datetime import date
from pathlib import Path
from typing import TextIO

from bot.core import engine
from bot.core.actions import (
    Action,
    AnswerText,
    Back,
    ClearDraft,
    Finish,
    GoTo,
    Pause,
    Resume,
    SetLanguage,
    ShowReview,
    Skip,
    Submit,
    Upload,
    UsePrevious,
)
from bot.core.answers import normalize
from bot.core.catalog import translate
from bot.core.definition import QuestionType
from bot.core.events import Event, Prompt, ReviewShown, Submitted
from bot.core.outcome import Outcome
from bot.core.previous import NO_PREVIOUS, PreviousAnswers
from bot.core.reply import ControlKind, ReplyMessage, render
from bot.core.state import SessionStatus
from bot.core.survey import Survey

#: Commands without an argument and the action each one means.
SIMPLE_COMMANDS: dict[str, type] = {
    "/back": Back,
    "/skip": Skip,
    "/review": ShowReview,
    "/submit": Submit,
    "/done": Finish,
    "/clear": ClearDraft,
    "/resume": Resume,
    "/cancel": Pause,
    "/same": UsePrevious,
}
#: The command a control is typed as; choices and toggles are typed as their numbers.
CONTROL_COMMANDS: dict[ControlKind, str] = {
    ControlKind.DONE: "/done",
    ControlKind.CLEAR_DRAFT: "/clear",
    ControlKind.BACK: "/back",
    ControlKind.SKIP: "/skip",
    ControlKind.KEEP: "/skip",
    ControlKind.USE_PREVIOUS: "/same",
    ControlKind.REVIEW: "/review",
    ControlKind.SUBMIT: "/submit",
    ControlKind.RESUME: "/resume",
}


class TerminalSession:
    """One respondent answering ``survey`` through ``stdin`` and ``stdout``."""

    def __init__(
        self,
        survey: Survey,
        *,
        language: str | None,
        stdin: TextIO,
        stdout: TextIO,
        previous: PreviousAnswers = NO_PREVIOUS,
    ) -> None:
        self.survey = survey
        self.stdin = stdin
        self.stdout = stdout
        self.today = date.today()
        #: Last period's answers offered as defaults (``surveybot try --previous``); ``/same`` takes one.
        self.previous = previous
        self.step = engine.start(
            survey, language=language or survey.default_language, today=self.today, previous=previous
        )
        self.prompt: Prompt | None = None
        #: The review was just shown: a bare number picks a question, as the review says.
        self.after_review = False

    @property
    def language(self) -> str:
        return self.step.state.language

    def say(self, text: str = "") -> None:
        print(text, file=self.stdout, flush=True)

    def run(self) -> int:
        title = self.survey.text(self.survey.definition.title, self.language)
        self.say(f"== {title} ==")
        # The count the questions' positions use ("第 1/18 题"): the relevant ones, as the Telegram greeting says.
        _, total = engine.progress(self.survey, self.step.state, today=self.today)
        self.say(translate(self.language, "terminal.welcome", total=total))
        self.show(self.step.events)
        while True:
            self.stdout.write("> ")
            self.stdout.flush()
            line = self.stdin.readline()
            if not line:
                self.say()
                self.say(translate(self.language, "terminal.not_submitted"))
                return 1
            text = line.rstrip("\n")
            if text.strip() in ("/quit", "/exit"):
                self.say(translate(self.language, "terminal.not_submitted"))
                return 1
            if text.strip() == "/help":
                self.say(translate(self.language, "terminal.help"))
                continue
            action = self.action_for(text)
            if action is None:
                continue
            self.step = engine.resume(self.survey, self.step.state, action, today=self.today, previous=self.previous)
            self.show(self.step.events)
            submitted = next((e for e in self.step.events if isinstance(e, Submitted)), None)
            if submitted is not None:
                self.say(translate(self.language, "terminal.submitted", revision=submitted.revision))
                self.say(
                    json.dumps(
                        {"survey": self.survey.id, "answers": submitted.answers, "others": submitted.others},
                        ensure_ascii=False,
                        indent=2,
                    )
                )
                return 0

    def action_for(self, text: str) -> Action | None:
        stripped = text.strip()
        after_review, self.after_review = self.after_review, False
        number = normalize(stripped)
        if after_review and number.isascii() and number.isdigit():
            # "/review" in the middle of the survey shows the review but stays on the current
            # question; the review says "type a number to change that answer", so do that
            # rather than take the number as an answer to the current question.
            return GoTo(number=int(number))
        command, _, argument = stripped.partition(" ")
        if command in SIMPLE_COMMANDS:
            return SIMPLE_COMMANDS[command]()
        if command == "/lang":
            return SetLanguage(language=argument.strip() or self.language)
        if command.startswith("/") and command[1:].isalpha():
            self.say(translate(self.language, "terminal.unknown_command", command=command))
            return None
        prompt = self.prompt
        if prompt is not None and prompt.kind is QuestionType.FILE and not prompt.awaiting_other:
            return self.upload(stripped)
        return AnswerText(text=text)

    def upload(self, path_text: str) -> Action | None:
        path = Path(path_text).expanduser()
        if not path.is_file():
            self.say(translate(self.language, "terminal.no_such_file", path=path_text))
            return None
        mime, _ = mimetypes.guess_type(path.name)
        return Upload(name=path.name, size=path.stat().st_size, mime=mime, ref=str(path.resolve()))

    def show(self, events: tuple[Event, ...]) -> None:
        """Print the reply to ``events`` and note what the next line may mean (a path, a question number)."""
        for event in events:
            if isinstance(event, Prompt):
                self.prompt = event
            elif isinstance(event, ReviewShown):
                self.after_review = True
                if self.step.state.status is not SessionStatus.ANSWERING:
                    self.prompt = None  # still answering: a file question still takes a path
        for message in render(Outcome(language=self.language, events=events)).messages:
            self.show_message(message)

    def show_message(self, message: ReplyMessage) -> None:
        """The text, the choices as numbered lines, then the commands that do what the other controls do."""
        if message.warning:
            self.say(f"⚠ {message.text}")
        else:
            self.say()
            self.say(message.text)
        choices = [control for control in message.controls if control.kind in (ControlKind.CHOICE, ControlKind.TOGGLE)]
        for number, control in enumerate(choices, start=1):
            mark = ("[x]" if control.selected else "[ ]") if control.kind is ControlKind.TOGGLE else ""
            self.say(f"  {number}) {mark}{control.label}")
        hints: list[str] = []
        if choices:
            several = choices[0].kind is ControlKind.TOGGLE
            hints.append(translate(self.language, "terminal.type_numbers" if several else "terminal.type_number"))
        prompt = message.prompt
        if prompt is not None and prompt.kind is QuestionType.FILE and not prompt.awaiting_other:
            hints.append(translate(self.language, "terminal.type_path"))
        for control in message.controls:
            command = CONTROL_COMMANDS.get(control.kind)
            if command is not None and command not in hints:
                hints.append(command)
        if prompt is not None and "/review" not in hints:
            hints.append("/review")
        if hints:
            self.say("  ".join(hints))
