"""The terminal channel: answer a survey on the keyboard (``surveybot try``).

It drives the same engine as the chat channels, with the same commands
(``/back``, ``/skip``, ``/review``, ``/submit``, ``/done``, ``/lang``), shows
choices as numbers, and ends by printing the submitted answers as JSON. It is
the zero-set-up way to try a survey file.
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
    Finish,
    GoTo,
    Pause,
    Resume,
    SetLanguage,
    ShowReview,
    Skip,
    Submit,
    Upload,
)
from bot.core.answers import normalize
from bot.core.catalog import translate
from bot.core.definition import QuestionType
from bot.core.events import (
    DraftUpdated,
    Event,
    Intro,
    NoteShown,
    Paused,
    Prompt,
    Rejected,
    ReviewShown,
    Submitted,
)
from bot.core.state import SessionStatus
from bot.core.survey import Survey
from bot.core.wording import draft_text, prompt_text, review_blocks

#: Commands without an argument and the action each one means.
SIMPLE_COMMANDS: dict[str, type] = {
    "/back": Back,
    "/skip": Skip,
    "/review": ShowReview,
    "/submit": Submit,
    "/done": Finish,
    "/resume": Resume,
    "/cancel": Pause,
}


class TerminalSession:
    """One respondent answering ``survey`` through ``stdin`` and ``stdout``."""

    def __init__(self, survey: Survey, *, language: str | None, stdin: TextIO, stdout: TextIO) -> None:
        self.survey = survey
        self.stdin = stdin
        self.stdout = stdout
        self.today = date.today()
        self.step = engine.start(survey, language=language or survey.default_language, today=self.today)
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
            self.step = engine.resume(self.survey, self.step.state, action, today=self.today)
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
        language = self.language
        for event in events:
            if isinstance(event, Intro):
                self.say(event.text)
            elif isinstance(event, NoteShown):
                self.say()
                self.say(f"【{event.section_title}】")
                self.say(event.text)
                if event.hint:
                    self.say(event.hint)
            elif isinstance(event, Prompt):
                self.prompt = event
                self.say()
                self.say(prompt_text(event, language))
                if not event.awaiting_other:
                    for number, choice in enumerate(event.choices, start=1):
                        mark = "[x]" if choice.selected else "[ ]"
                        self.say(f"  {number}) {mark if event.kind is QuestionType.SELECT_MULTIPLE else ''}{choice.label}")
                self.say(self.commands_hint(event))
            elif isinstance(event, DraftUpdated):
                self.say(draft_text(event, language))
            elif isinstance(event, Rejected):
                self.say(f"⚠ {event.reason}")
            elif isinstance(event, ReviewShown):
                self.after_review = True
                if self.step.state.status is not SessionStatus.ANSWERING:
                    self.prompt = None  # still answering: a file question still takes a path
                self.say()
                for block in review_blocks(event, language):
                    self.say(block)
                self.say(translate(language, "terminal.review_commands"))
            elif isinstance(event, Paused):
                self.say(translate(language, "terminal.paused"))

    def commands_hint(self, prompt: Prompt) -> str:
        parts: list[str] = []
        if prompt.kind is QuestionType.SELECT_MULTIPLE:
            parts.append(translate(self.language, "terminal.type_numbers"))
        elif prompt.choices:
            parts.append(translate(self.language, "terminal.type_number"))
        if prompt.kind is QuestionType.LONG_TEXT:
            parts.append("/done")
        if prompt.kind is QuestionType.FILE:
            parts.append(translate(self.language, "terminal.type_path"))
        if prompt.can_back:
            parts.append("/back")
        if prompt.can_skip:
            parts.append("/skip")
        parts.append("/review")
        return "  ".join(parts)
