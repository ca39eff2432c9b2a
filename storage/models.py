"""The ORM models: every table surveybot stores, on SQLite and PostgreSQL alike.

The shape, from the survey down to one answer::

    SurveyVersion ─< Campaign ─< Unit ─┬─ Response ─┬─< Answer
                                       │            ├─< AnswerHistory (append-only)
                                       │            └─< Attachment
                                       ├─< Invitation >─ Respondent (used_by)
                                       └─< RespondentUnit >─ Respondent

plus ``ProcessedUpdate`` (inbound update ids already handled, per channel),
``Coordinator``, and the outbox of reminders and broadcasts::

    Campaign ─< OutboxBatch ─< OutboxMessage >─ Respondent

(one batch per reminder slot, manual reminder or broadcast; one message row
per recipient, unique per batch, so that it is sent exactly once). Every unit gets its ``Response`` row when it joins the roster,
so a channel can always lock that row (``SELECT ... FOR UPDATE``) before it
reads and writes a response's state. Timestamps are timezone-aware UTC
(:class:`storage.types.UTCDateTime`); JSON columns hold plain data.

Relationships are loaded explicitly (``selectinload`` or
``await obj.awaitable_attrs.name``): under asyncio an implicit lazy load fails.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime, utc_now

#: Deterministic constraint names, so that migrations can name what they alter.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: The default time zone of a campaign's deadline.
DEFAULT_TIMEZONE = "Asia/Shanghai"

#: 64-bit ids for the tables that grow with traffic (INTEGER on SQLite, whose
#: auto-increment needs exactly that type).
BigId = BigInteger().with_variant(Integer(), "sqlite")

# Lengths shared by the models and the migrations.
CHANNEL_LENGTH = 32
EXTERNAL_ID_LENGTH = 128
#: A message id as the channel's provider gives it (Telegram's integers, WeCom's msgid strings).
PROVIDER_MESSAGE_ID_LENGTH = 128
QUESTION_ID_LENGTH = 64
SHA256_HEX_LENGTH = 64


class Channel(StrEnum):
    """The chat channels surveybot speaks through (stored as plain strings)."""

    TELEGRAM = "telegram"
    TERMINAL = "terminal"
    #: WeCom (企业微信) and the web chat opened inside WeChat: coming channels,
    #: known already so that coordinators can be stored for them.
    WECOM = "wecom"
    WEB = "web"
    #: A unit's contact e-mail: reminders and broadcasts only (external id = the address, lower-cased).
    EMAIL = "email"


class CampaignStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ResponseStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


def _enum_column(enum_class: type[StrEnum], name: str) -> Enum:
    """A VARCHAR holding the enum's values (not a native PostgreSQL enum type)."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=16,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


class Base(AsyncAttrs, DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class SurveyVersion(Base):
    """One content of a survey file; a campaign pins one and never changes it."""

    __tablename__ = "survey_versions"
    __table_args__ = (UniqueConstraint("survey_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    #: sha256 hex of the canonical JSON of the definition.
    content_hash: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH))
    #: The validated definition as plain JSON data (it is also valid YAML).
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    campaigns: Mapped[list[Campaign]] = relationship(back_populates="survey_version")


class Campaign(Base):
    """A survey sent to a roster of units, due at a deadline."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    survey_version_id: Mapped[int] = mapped_column(
        ForeignKey("survey_versions.id", ondelete="RESTRICT"), index=True
    )
    #: The deadline, stored in UTC; show it in ``timezone``.
    deadline: Mapped[datetime]
    #: IANA time zone name the campaign's times are shown in.
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    #: Seconds before the deadline at which reminders go out, largest first.
    reminder_offsets: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[CampaignStatus] = mapped_column(
        _enum_column(CampaignStatus, "campaign_status"), default=CampaignStatus.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    closed_at: Mapped[datetime | None]
    #: The campaign of last period (``campaign create --previous``): each unit is offered
    #: its submitted answers of then, matched by unit name and question id.
    previous_campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))

    survey_version: Mapped[SurveyVersion] = relationship(back_populates="campaigns")
    units: Mapped[list[Unit]] = relationship(
        back_populates="campaign", order_by="Unit.position", passive_deletes=True
    )


class Unit(Base):
    """One member of a campaign's roster (a county, a member unit...); owes one response."""

    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("campaign_id", "name"),
        UniqueConstraint("campaign_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    #: Roster order, 1-based, as given by the coordinator.
    position: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    campaign: Mapped[Campaign] = relationship(back_populates="units")
    response: Mapped[Response] = relationship(back_populates="unit", passive_deletes=True)
    invitations: Mapped[list[Invitation]] = relationship(
        back_populates="unit", passive_deletes=True, order_by="Invitation.id"
    )
    bindings: Mapped[list[RespondentUnit]] = relationship(
        back_populates="unit", passive_deletes=True
    )


class Invitation(Base):
    """A one-account ticket into a unit; only the sha256 of its token is stored."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    used_by_respondent_id: Mapped[int | None] = mapped_column(
        ForeignKey("respondents.id", ondelete="SET NULL"), index=True
    )
    used_at: Mapped[datetime | None]

    unit: Mapped[Unit] = relationship(back_populates="invitations")
    used_by: Mapped[Respondent | None] = relationship()


class Respondent(Base):
    """A chat account (one per channel and external id)."""

    __tablename__ = "respondents"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(CHANNEL_LENGTH))
    external_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_LENGTH))
    display_name: Mapped[str | None] = mapped_column(String(200))
    #: The language the account asked for (e.g. Telegram's ``language_code``).
    language: Mapped[str | None] = mapped_column(String(16))
    #: Messages cannot reach the account (it blocked the bot, was deleted...).
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    unreachable_reason: Mapped[str | None] = mapped_column(String(500))
    unreachable_since: Mapped[datetime | None]
    #: The response the account is answering now, when it is bound to several.
    active_response_id: Mapped[int | None] = mapped_column(
        ForeignKey("responses.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_seen_at: Mapped[datetime | None]

    active_response: Mapped[Response | None] = relationship()
    bindings: Mapped[list[RespondentUnit]] = relationship(
        back_populates="respondent", passive_deletes=True
    )


class RespondentUnit(Base):
    """A respondent may answer for a unit (several people per unit, several units per person)."""

    __tablename__ = "respondent_units"
    __table_args__ = (UniqueConstraint("respondent_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    respondent_id: Mapped[int] = mapped_column(ForeignKey("respondents.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    #: The invitation the binding came from, if any.
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    respondent: Mapped[Respondent] = relationship(back_populates="bindings")
    unit: Mapped[Unit] = relationship(back_populates="bindings")


class Response(Base):
    """The one response a unit owes: the engine's state and the status of the work."""

    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), unique=True)
    status: Mapped[ResponseStatus] = mapped_column(
        _enum_column(ResponseStatus, "response_status"), default=ResponseStatus.NOT_STARTED
    )
    #: The engine's state (plain data); None before the first step.
    state: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    #: Bumped by every change written to the response.
    revision: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    started_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    #: The values of the last submission (question id → value).
    submitted_values: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))

    unit: Mapped[Unit] = relationship(back_populates="response")
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", passive_deletes=True, order_by="Answer.id"
    )


class Answer(Base):
    """The current answer to one question of one response."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(QUESTION_ID_LENGTH))
    value: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    #: The free text of an "other (name)" choice.
    other_text: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_by_respondent_id: Mapped[int | None] = mapped_column(
        ForeignKey("respondents.id", ondelete="SET NULL"), index=True
    )

    response: Mapped[Response] = relationship(back_populates="answers")


class AnswerHistory(Base):
    """One change of one answer: who, when, through which channel, from what to what.

    Append-only: rows are inserted by :func:`storage.responses.record_answer`
    and never updated.
    """

    __tablename__ = "answer_history"
    __table_args__ = (Index(None, "response_id", "question_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(QUESTION_ID_LENGTH))
    respondent_id: Mapped[int | None] = mapped_column(
        ForeignKey("respondents.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str | None] = mapped_column(String(CHANNEL_LENGTH))
    at: Mapped[datetime] = mapped_column(default=utc_now)
    old_value: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    old_other_text: Mapped[str | None] = mapped_column(Text)
    new_other_text: Mapped[str | None] = mapped_column(Text)
    #: The response's revision this change produced.
    revision: Mapped[int]


class Attachment(Base):
    """An uploaded file: its metadata here, its bytes under ``<data dir>/attachments/``."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[str] = mapped_column(String(QUESTION_ID_LENGTH))
    #: The name the respondent's file had (for display and exports only).
    original_name: Mapped[str] = mapped_column(String(255))
    #: Where the bytes are, relative to the data directory (``attachments/...``).
    stored_path: Mapped[str] = mapped_column(String(500))
    size: Mapped[int] = mapped_column(BigInteger)
    mime_type: Mapped[str | None] = mapped_column(String(127))
    sha256: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH))
    uploaded_by_respondent_id: Mapped[int | None] = mapped_column(
        ForeignKey("respondents.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class ProcessedUpdate(Base):
    """An inbound update already handled; a redelivery of it changes nothing."""

    __tablename__ = "processed_updates"
    __table_args__ = (UniqueConstraint("channel", "update_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(CHANNEL_LENGTH))
    update_id: Mapped[str] = mapped_column(String(128))
    processed_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)


class InboundUpdate(Base):
    """An inbound update kept from its arrival until it is handled (the durable inbox).

    Recorded before the update is acknowledged to the provider; handled from
    here, so a process killed at any moment loses nothing acknowledged.
    ``claimed_until`` is the lease of the process handling it, ``attempts``
    counts the handlings started (a process killed while handling counts),
    ``failures`` the handlings that raised; ``handled_at`` is set once it is
    done and ``failed_at`` when it was given up.
    """

    __tablename__ = "inbound_updates"
    __table_args__ = (
        UniqueConstraint("channel", "dedup_key"),
        Index("ix_inbound_updates_pending", "handled_at", "failed_at", "claimed_until"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(CHANNEL_LENGTH))
    dedup_key: Mapped[str] = mapped_column(String(128))
    #: The update as the provider sent it, JSON text (ASCII-escaped, so any text survives).
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    handled_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class Coordinator(Base):
    """A chat account allowed to run coordinator commands (besides ``SURVEYBOT_ADMIN_IDS``)."""

    __tablename__ = "coordinators"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(CHANNEL_LENGTH))
    external_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_LENGTH))
    added_at: Mapped[datetime] = mapped_column(default=utc_now)


class ConsoleLoginLink(Base):
    """A one-time sign-in link to the coordinator console; only the token's sha256 is stored.

    The account is named by channel and id (not a ``coordinators`` row): coordinators
    of ``SURVEYBOT_ADMIN_IDS`` have no row. Whether it is still a coordinator is
    checked when the link is used and on every request of the session it opens.
    """

    __tablename__ = "console_login_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH), unique=True)
    channel: Mapped[str] = mapped_column(String(CHANNEL_LENGTH))
    external_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
    #: Set by the one sign-in it allows.
    used_at: Mapped[datetime | None]


class ConsoleSession(Base):
    """A coordinator's signed-in browser: the cookie holds the id, only its sha256 is stored."""

    __tablename__ = "console_sessions"
    __table_args__ = (Index("ix_console_sessions_account", "channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(SHA256_HEX_LENGTH), unique=True)
    channel: Mapped[str] = mapped_column(String(CHANNEL_LENGTH))
    external_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_LENGTH))
    #: The token every form of this session carries (random, per session).
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class OutboxKind(StrEnum):
    """What an outbox batch sends."""

    #: A reminder slot of the campaign's schedule (deadline minus an offset).
    REMINDER = "reminder"
    #: A reminder asked for by a coordinator (/remind, ``surveybot remind``).
    MANUAL_REMINDER = "manual_reminder"
    #: A coordinator's free text to every bound respondent (/broadcast).
    BROADCAST = "broadcast"


class OutboxBatchStatus(StrEnum):
    #: Prepared, waiting for the coordinator's confirmation; no messages yet.
    DRAFT = "draft"
    #: Confirmed (or scheduled): its messages are being sent.
    ACTIVE = "active"
    #: Every message reached a final status; the summary was given.
    DONE = "done"
    #: The coordinator declined the draft.
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    """Where one outbox message stands; the last four are final."""

    PENDING = "pending"
    #: Claimed by a sender that is sending it now.
    SENDING = "sending"
    SENT = "sent"
    #: Not sent on purpose (the unit submitted meanwhile, the deadline passed...).
    SKIPPED = "skipped"
    #: The channel says the account blocked the bot or is gone (Telegram: 403).
    UNREACHABLE = "unreachable"
    #: Gave up after retries, or the outcome of an interrupted send is unknown.
    FAILED = "failed"


class OutboxBatch(Base):
    """One reminder slot, manual reminder or broadcast of a campaign.

    ``key`` is unique per campaign: ``reminder@<send time>`` for a scheduled
    slot (so that any number of schedulers create it once), ``manual:<uuid>``
    or ``broadcast:<uuid>`` otherwise.
    """

    __tablename__ = "outbox_batches"
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[OutboxKind] = mapped_column(_enum_column(OutboxKind, "outbox_kind"))
    key: Mapped[str] = mapped_column(String(100))
    status: Mapped[OutboxBatchStatus] = mapped_column(
        _enum_column(OutboxBatchStatus, "outbox_batch_status"), index=True
    )
    #: The broadcast's text (None for reminders, which are written per recipient).
    body: Mapped[str | None] = mapped_column(Text)
    #: A scheduled reminder's send time (after quiet hours).
    slot_at: Mapped[datetime | None]
    #: The coordinator who asked for it (channel and external id), if any.
    requested_channel: Mapped[str | None] = mapped_column(String(CHANNEL_LENGTH))
    requested_by: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_LENGTH))
    #: The language the coordinator's progress and summary are written in.
    language: Mapped[str | None] = mapped_column(String(16))
    #: The coordinator's status message, edited as the batch progresses (in the
    #: ``requested_channel``, whose transport carries the batch's feedback).
    status_chat_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_LENGTH))
    status_message_id: Mapped[str | None] = mapped_column(String(PROVIDER_MESSAGE_ID_LENGTH))
    #: How many messages were enqueued.
    total: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    #: How many finished messages the status message last showed (-1: not edited yet).
    reported_done: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    activated_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """One message to one respondent: sent exactly once (unique per batch and respondent)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("batch_id", "respondent_id"),
        Index(None, "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("outbox_batches.id", ondelete="CASCADE"))
    respondent_id: Mapped[int] = mapped_column(
        ForeignKey("respondents.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum_column(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    #: Sends tried that failed with a retryable error (429s not counted).
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    #: Not claimed before this time (retry backoff).
    next_attempt_at: Mapped[datetime] = mapped_column(default=utc_now)
    #: Who is sending it (a sender instance) and since when (a lease).
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    #: The id the recipient's channel gave the sent message.
    provider_message_id: Mapped[str | None] = mapped_column(String(PROVIDER_MESSAGE_ID_LENGTH))
    #: Why it was skipped, failed or unreachable (or the last retryable error).
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime | None]
