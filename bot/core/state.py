"""The state of one response: plain data that is stored between steps.

The engine never mutates a state it was given; it copies it, changes the copy
and returns it. :meth:`SessionState.to_dict` and :meth:`SessionState.from_dict`
convert to and from JSON-safe data for the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

STATE_FORMAT = 1


class SessionStatus(StrEnum):
    ANSWERING = "answering"
    REVIEWING = "reviewing"
    SUBMITTED = "submitted"


class StateError(Exception):
    """A state does not fit the survey it is used with: a bug or a stale record."""


@dataclass(slots=True)
class SessionState:
    survey_id: str
    survey_version: str
    language: str
    status: SessionStatus = SessionStatus.ANSWERING
    #: The question being asked (``None`` while reviewing or submitted).
    current: str | None = None
    #: Question id → stored answer value (see :mod:`bot.core.answers`).
    answers: dict[str, Any] = field(default_factory=dict)
    #: Question id → the text of its "other (name)" choice.
    others: dict[str, str] = field(default_factory=dict)
    #: Optional questions the respondent skipped without answering.
    skipped: list[str] = field(default_factory=list)
    #: The working selection of the current multiple-choice question.
    selection: list[str] | None = None
    #: Long-text drafts: question id → parts ``[part_id, text]`` in order.
    drafts: dict[str, list[list[str]]] = field(default_factory=dict)
    #: True while the "other (name)" text of the current question is awaited.
    awaiting_other: bool = False
    #: True while changing an answer from the review: return there afterwards.
    return_to_review: bool = False
    #: How many times the answers were submitted.
    revision: int = 0
    #: An answer changed since the last submission (always False before the first).
    changed_since_submit: bool = False

    def copy(self) -> SessionState:
        # Positional, in field order: this runs on every step.
        drafts = self.drafts
        return SessionState(
            self.survey_id,
            self.survey_version,
            self.language,
            self.status,
            self.current,
            dict(self.answers),
            dict(self.others),
            list(self.skipped),
            list(self.selection) if self.selection is not None else None,
            {key: [list(part) for part in parts] for key, parts in drafts.items()} if drafts else {},
            self.awaiting_other,
            self.return_to_review,
            self.revision,
            self.changed_since_submit,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "survey_id": self.survey_id,
            "survey_version": self.survey_version,
            "language": self.language,
            "status": self.status.value,
            "current": self.current,
            "answers": dict(self.answers),
            "others": dict(self.others),
            "skipped": list(self.skipped),
            "selection": list(self.selection) if self.selection is not None else None,
            "drafts": {key: [list(part) for part in parts] for key, parts in self.drafts.items()},
            "awaiting_other": self.awaiting_other,
            "return_to_review": self.return_to_review,
            "revision": self.revision,
            "changed_since_submit": self.changed_since_submit,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionState:
        if data.get("format") != STATE_FORMAT:
            raise StateError(f"unknown state format {data.get('format')!r}; expected {STATE_FORMAT}")
        try:
            return cls(
                survey_id=str(data["survey_id"]),
                survey_version=str(data["survey_version"]),
                language=str(data["language"]),
                status=SessionStatus(data["status"]),
                current=data.get("current"),
                answers=dict(data.get("answers") or {}),
                others={str(k): str(v) for k, v in (data.get("others") or {}).items()},
                skipped=[str(item) for item in data.get("skipped") or []],
                selection=list(data["selection"]) if data.get("selection") is not None else None,
                drafts={str(k): [[str(a), str(b)] for a, b in v] for k, v in (data.get("drafts") or {}).items()},
                awaiting_other=bool(data.get("awaiting_other", False)),
                return_to_review=bool(data.get("return_to_review", False)),
                revision=int(data.get("revision", 0)),
                changed_since_submit=bool(data.get("changed_since_submit", False)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise StateError(f"malformed state: {error}") from None
