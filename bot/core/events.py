"""What the engine tells a channel to show, and what changed.

The engine does no I/O: every step returns events. Channels render the
display events (:class:`Prompt`, :class:`Rejected`, :class:`ReviewShown` ...)
and the service stores the data events (:class:`AnswerChanged`,
:class:`Submitted`). Every text in an event is already in the respondent's
language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.core.definition import QuestionType


@dataclass(frozen=True, slots=True)
class PromptChoice:
    value: str
    label: str
    selected: bool = False
    is_other: bool = False


@dataclass(frozen=True, slots=True)
class Intro:
    """The survey's introduction, shown once at the start."""

    text: str


@dataclass(frozen=True, slots=True)
class NoteShown:
    question_id: str
    section_title: str
    text: str
    hint: str = ""


@dataclass(frozen=True, slots=True)
class Prompt:
    """Ask one question."""

    question_id: str
    kind: QuestionType
    section_title: str
    label: str
    hint: str
    #: 1-based number among the relevant questions, and how many there are.
    position: int
    total: int
    required: bool
    can_skip: bool
    can_back: bool
    choices: tuple[PromptChoice, ...] = ()
    #: The stored answer, formatted for reading (``None`` when unanswered).
    current_display: str | None = None
    #: For long text: the characters in the draft so far, and the limit.
    draft_length: int = 0
    max_length: int | None = None
    min_selected: int | None = None
    max_selected: int | None = None
    #: Waiting for the name of the "other" choice (``other_label`` says which).
    awaiting_other: bool = False
    other_label: str = ""
    accept: tuple[str, ...] = ()
    max_size_mb: float | None = None
    #: True when the question is asked again after a rejection or a resume.
    repeated: bool = False
    #: The unit's answer of last period, formatted for reading, when it is offered as the
    #: default (:class:`~bot.core.actions.UsePrevious` takes it); ``None`` otherwise.
    previous_display: str | None = None


class RejectionCode(StrEnum):
    INVALID = "invalid"  # the input does not parse or is out of range
    CONSTRAINT = "constraint"  # the survey's constraint failed
    REQUIRED = "required"  # skipping a required question
    SELECTION = "selection"  # too few / too many choices
    DRAFT_TOO_LONG = "draft_too_long"  # a long-text part would exceed the limit
    WRONG_INPUT = "wrong_input"  # text where a file is expected, a sticker...
    STALE = "stale"  # a button of another question
    NOT_NOW = "not_now"  # the action does not apply at this point
    INCOMPLETE = "incomplete"  # submitting with required answers missing
    ALREADY_SUBMITTED = "already_submitted"


@dataclass(frozen=True, slots=True)
class Rejected:
    """An input was not accepted; the state is unchanged.

    A rejection says what is wrong and carries the way forward, so that a
    channel can offer it on the newest message: the question still waiting
    for an answer (its skip, back and done controls), or, outside a question,
    whether the answers can be submitted now.
    """

    code: RejectionCode
    reason: str
    question_id: str | None = None
    #: The question still waiting for an answer, as it stands. ``None`` when
    #: no question is open, or when the question is asked again right after
    #: the rejection (a :class:`Prompt` follows).
    prompt: Prompt | None = None
    #: No question is open (the review): the answers can be submitted now.
    can_submit: bool = False


@dataclass(frozen=True, slots=True)
class DraftUpdated:
    """A long-text draft grew or was edited."""

    question_id: str
    length: int
    max_length: int
    parts: int
    #: Skip is offered: the question is optional, or already has an answer to keep.
    can_skip: bool = False
    #: The question has a stored answer: skipping keeps it (and drops the draft).
    answered: bool = False


@dataclass(frozen=True, slots=True)
class AnswerChanged:
    """An answer was stored, changed or removed (``new_value`` ``None``)."""

    question_id: str
    old_value: Any
    new_value: Any
    old_other: str | None = None
    new_other: str | None = None


@dataclass(frozen=True, slots=True)
class ReviewItem:
    number: int
    question_id: str
    label: str
    display: str
    answered: bool


@dataclass(frozen=True, slots=True)
class ReviewSection:
    title: str
    items: tuple[ReviewItem, ...]


@dataclass(frozen=True, slots=True)
class ReviewShown:
    """Every relevant question with its answer, grouped by section."""

    sections: tuple[ReviewSection, ...]
    #: Numbers of the required questions still unanswered.
    missing: tuple[int, ...]
    revision: int
    submitted: bool
    #: True when there are changes since the last submission (or none yet).
    can_submit: bool


@dataclass(frozen=True, slots=True)
class Submitted:
    """The answers were submitted; ``answers`` holds only the relevant questions."""

    revision: int
    answers: dict[str, Any] = field(default_factory=dict)
    others: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Paused:
    """The respondent left the current question; /resume continues."""


Event = (
    Intro
    | NoteShown
    | Prompt
    | Rejected
    | DraftUpdated
    | AnswerChanged
    | ReviewShown
    | Submitted
    | Paused
)
