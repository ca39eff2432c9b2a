"""What a respondent can do: the inputs the engine accepts.

Channels turn their updates into these (a typed message into
:class:`AnswerText`, a button press into :class:`ChooseOption` ...). Actions
that come from a button carry the ``question_id`` the button was made for, so
a press on an old message can be recognised and refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class AnswerText:
    """Typed text. ``part_id`` names the chat message, so that editing it can update a long-text draft.

    ``question_id``, when given, is the question the text was made for (a
    WeCom vote card's numbers): the text is refused as stale unless that
    question is the current one.
    """

    text: str
    part_id: str | None = None
    question_id: str | None = None


@dataclass(frozen=True, slots=True)
class EditText:
    """An already sent message was edited."""

    part_id: str
    text: str


@dataclass(frozen=True, slots=True)
class ChooseOption:
    """A choice button (select_one, yes_no) was pressed."""

    value: str
    question_id: str | None = None


@dataclass(frozen=True, slots=True)
class ToggleOption:
    """A select_multiple button was pressed: select or unselect it."""

    value: str
    question_id: str | None = None


@dataclass(frozen=True, slots=True)
class Finish:
    """Done with a multiple choice or a long text draft."""

    question_id: str | None = None


@dataclass(frozen=True, slots=True)
class ClearDraft:
    """Start a long-text draft over: drop the parts sent so far and ask again."""

    question_id: str | None = None


@dataclass(frozen=True, slots=True)
class Skip:
    """Skip an optional question, or keep the current answer of an answered one."""

    question_id: str | None = None


@dataclass(frozen=True, slots=True)
class UsePrevious:
    """Answer as last period (沿用上次); a long text's answer becomes a draft to finish or change."""

    question_id: str | None = None


@dataclass(frozen=True, slots=True)
class Back:
    """Go to the previous question."""

    question_id: str | None = None


@dataclass(frozen=True, slots=True)
class GoTo:
    """Change the answer of question ``number`` (as numbered in the review)."""

    number: int


@dataclass(frozen=True, slots=True)
class ShowReview:
    """Show every answer so far."""


@dataclass(frozen=True, slots=True)
class Submit:
    """Submit the answers (from the review)."""


@dataclass(frozen=True, slots=True)
class Upload:
    """A file was sent; the channel has stored it and passes its metadata and a reference.

    ``head`` is the file's first bytes, read by the service (not the
    channel) for the content check; ``None`` where no file is at hand.
    """

    name: str
    size: int
    mime: str | None = None
    ref: str = ""
    head: bytes | None = None


class InputKind(StrEnum):
    """Inputs a channel receives that no question takes."""

    STICKER = "sticker"
    VOICE = "voice"
    LOCATION = "location"
    CONTACT = "contact"
    VIDEO = "video"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Unsupported:
    """Something that is not an answer (a sticker, a voice note...)."""

    kind: InputKind = InputKind.OTHER


@dataclass(frozen=True, slots=True)
class Resume:
    """Show where the respondent is (the current question, the review...)."""

    #: From a reminder: continue in this campaign (an account may answer in
    #: several). The engine ignores it; the service switches responses first.
    campaign_id: int | None = None
    #: From the unit list (``/unit``): continue for this unit, as with ``campaign_id``.
    unit_id: int | None = None


@dataclass(frozen=True, slots=True)
class Pause:
    """Leave the current question for now; answers and drafts stay."""


@dataclass(frozen=True, slots=True)
class SetLanguage:
    language: str


Action = (
    AnswerText
    | EditText
    | ChooseOption
    | ToggleOption
    | Finish
    | ClearDraft
    | Skip
    | UsePrevious
    | Back
    | GoTo
    | ShowReview
    | Submit
    | Upload
    | Unsupported
    | Resume
    | Pause
    | SetLanguage
)
