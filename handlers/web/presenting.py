"""An outcome as the web chat's JSON: the neutral reply's messages and controls, and what the page asks for.

Pure: :func:`bot.core.reply.render` decides the wording and the controls;
this module only writes them as JSON (controls carry their action in the form
of :mod:`handlers.web.actions`), adds a change control for each answer in the
review (the review's numbers, as a button instead of typing the number), and
says which input the page shows: a textbox, a long-text box with its counter,
a file picker, or none (answer with the buttons).
"""

from __future__ import annotations

from typing import Any

from bot.core import reply as neutral
from bot.core.actions import GoTo, Resume
from bot.core.catalog import BOT_LANGUAGES, translate
from bot.core.definition import QuestionType
from bot.core.events import DraftUpdated, Prompt, Rejected, ReviewShown
from bot.core.outcome import Outcome
from bot.core.reply import Control, ReplyMessage
from handlers.web import actions

#: Question types answered with the buttons alone (unless the "other" name is awaited).
BUTTON_TYPES = frozenset({QuestionType.YES_NO, QuestionType.SELECT_ONE, QuestionType.SELECT_MULTIPLE, QuestionType.NOTE})
#: The page's own words, sent with every state so that the page has no text of its own.
UI_KEYS = (
    "page_title",
    "language_name",
    "switch_language",
    "answer_label",
    "long_text_label",
    "send",
    "counter",
    "upload_label",
    "upload",
    "uploading",
    "edit",
    "you",
    "working",
    "offline",
    "error_internal",
)


def control_json(control: Control) -> dict[str, Any]:
    return {
        "kind": control.kind.value,
        "label": control.label,
        "selected": control.selected,
        "action": actions.encode(control.action),
    }


def message_json(message: ReplyMessage) -> dict[str, Any]:
    return {
        "text": message.text,
        "warning": message.warning,
        "rows": [[control_json(control) for control in row] for row in message.rows],
    }


def input_json(outcome: Outcome) -> dict[str, Any]:
    """What the page offers for typing: the newest open question decides."""
    field: dict[str, Any] = {"kind": "none"}
    for event in outcome.events:
        prompt: Prompt | None = None
        if isinstance(event, Prompt):
            prompt = event
        elif isinstance(event, Rejected) and event.prompt is not None:
            prompt = event.prompt
        elif isinstance(event, DraftUpdated):
            field = {"kind": "long_text", "question": event.question_id, "length": event.length, "max_length": event.max_length}
            continue
        elif isinstance(event, ReviewShown):
            field = {"kind": "none"}
            continue
        if prompt is None:
            continue
        if prompt.awaiting_other or prompt.kind not in BUTTON_TYPES | {QuestionType.LONG_TEXT, QuestionType.FILE}:
            field = {"kind": "text", "question": prompt.question_id}
        elif prompt.kind is QuestionType.LONG_TEXT:
            field = {
                "kind": "long_text",
                "question": prompt.question_id,
                "length": prompt.draft_length,
                "max_length": prompt.max_length or 0,
            }
        elif prompt.kind is QuestionType.FILE:
            field = {
                "kind": "file",
                "question": prompt.question_id,
                "accept": list(prompt.accept),
                "max_size_mb": prompt.max_size_mb,
            }
        else:
            field = {"kind": "none", "question": prompt.question_id}
    return field


def review_edits(outcome: Outcome, language: str, *, read_only: bool, position: str | None) -> list[dict[str, Any]]:
    """A change control per answer of the newest review (none when the answers are read-only).

    A review asked for in the middle of the survey ends with a control that
    continues at the open question.
    """
    reviews = [event for event in outcome.events if isinstance(event, ReviewShown)]
    if read_only or not reviews:
        return []
    label = translate(language, "web.edit")
    edits = [
        {
            "number": item.number,
            "question": item.label,
            "label": f"{label} {item.number}",
            "action": actions.encode(GoTo(number=item.number)),
        }
        for section in reviews[-1].sections
        for item in section.items
    ]
    if position is not None and position.startswith("q:"):
        edits.append(
            {"number": None, "question": "", "label": translate(language, "reply.resume"), "action": actions.encode(Resume())}
        )
    return edits


def state_json(
    outcome: Outcome, *, position: str | None, read_only: bool, status: str, notice: str | None = None
) -> dict[str, Any]:
    """The whole answer to a GET or a POST: messages, the input to show, where the respondent is."""
    language = outcome.language
    reply = neutral.render(outcome, commands=False)  # buttons and the link, no /resume or /review
    other = next(code for code in BOT_LANGUAGES if code != language) if language in BOT_LANGUAGES else BOT_LANGUAGES[0]
    return {
        "status": status,
        "language": language,
        "other_language": other,
        "position": position,
        "read_only": read_only,
        "notice": notice,
        "messages": [message_json(message) for message in reply.messages],
        "input": {"kind": "none"} if read_only else input_json(outcome),
        "edits": review_edits(outcome, language, read_only=read_only, position=position),
        "ui": {**{key: translate(language, f"web.{key}") for key in UI_KEYS}, "review": translate(language, "reply.review")},
    }
