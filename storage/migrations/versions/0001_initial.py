"""Initial schema: surveys, campaigns, rosters, invitations, respondents, responses.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Migrations are self-contained: they use plain SQLAlchemy types, never the
models or enums of :mod:`storage.models`, which keep changing after them.
Status columns are VARCHAR(16) holding the enum values (no native PostgreSQL
enum types, so that adding a status needs no ALTER TYPE).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: INTEGER on SQLite (its auto-increment needs exactly that type), BIGINT elsewhere.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "survey_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_versions")),
        sa.UniqueConstraint(
            "survey_id", "content_hash", name=op.f("uq_survey_versions_survey_id_content_hash")
        ),
    )

    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("survey_version_id", sa.Integer(), nullable=False),
        _timestamp("deadline"),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("reminder_offsets", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        _timestamp("created_at"),
        _timestamp("closed_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["survey_version_id"],
            ["survey_versions.id"],
            name=op.f("fk_campaigns_survey_version_id_survey_versions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index(op.f("ix_campaigns_survey_version_id"), "campaigns", ["survey_version_id"])

    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_units_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("campaign_id", "name", name=op.f("uq_units_campaign_id_name")),
        sa.UniqueConstraint("campaign_id", "position", name=op.f("uq_units_campaign_id_position")),
    )

    op.create_table(
        "responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("state", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("revision", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _timestamp("created_at"),
        _timestamp("started_at", nullable=True),
        _timestamp("last_activity_at", nullable=True),
        _timestamp("submitted_at", nullable=True),
        sa.Column("submitted_values", sa.JSON(none_as_null=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_responses_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responses")),
        sa.UniqueConstraint("unit_id", name=op.f("uq_responses_unit_id")),
    )

    op.create_table(
        "respondents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("unreachable", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("unreachable_reason", sa.String(length=500), nullable=True),
        _timestamp("unreachable_since", nullable=True),
        sa.Column("active_response_id", sa.Integer(), nullable=True),
        _timestamp("created_at"),
        _timestamp("last_seen_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["active_response_id"],
            ["responses.id"],
            name=op.f("fk_respondents_active_response_id_responses"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_respondents")),
        sa.UniqueConstraint(
            "channel", "external_id", name=op.f("uq_respondents_channel_external_id")
        ),
    )
    op.create_index(
        op.f("ix_respondents_active_response_id"), "respondents", ["active_response_id"]
    )

    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        _timestamp("created_at"),
        _timestamp("expires_at", nullable=True),
        _timestamp("revoked_at", nullable=True),
        sa.Column("used_by_respondent_id", sa.Integer(), nullable=True),
        _timestamp("used_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_invitations_unit_id_units"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["used_by_respondent_id"],
            ["respondents.id"],
            name=op.f("fk_invitations_used_by_respondent_id_respondents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    op.create_index(op.f("ix_invitations_unit_id"), "invitations", ["unit_id"])
    op.create_index(
        op.f("ix_invitations_used_by_respondent_id"), "invitations", ["used_by_respondent_id"]
    )

    op.create_table(
        "respondent_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("respondent_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name=op.f("fk_respondent_units_invitation_id_invitations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["respondent_id"],
            ["respondents.id"],
            name=op.f("fk_respondent_units_respondent_id_respondents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_respondent_units_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_respondent_units")),
        sa.UniqueConstraint(
            "respondent_id", "unit_id", name=op.f("uq_respondent_units_respondent_id_unit_id")
        ),
    )
    op.create_index(op.f("ix_respondent_units_unit_id"), "respondent_units", ["unit_id"])
    op.create_index(
        op.f("ix_respondent_units_invitation_id"), "respondent_units", ["invitation_id"]
    )

    op.create_table(
        "answers",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("other_text", sa.Text(), nullable=True),
        _timestamp("updated_at"),
        sa.Column("updated_by_respondent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_answers_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_respondent_id"],
            ["respondents.id"],
            name=op.f("fk_answers_updated_by_respondent_id_respondents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answers")),
        sa.UniqueConstraint(
            "response_id", "question_id", name=op.f("uq_answers_response_id_question_id")
        ),
    )
    op.create_index(
        op.f("ix_answers_updated_by_respondent_id"), "answers", ["updated_by_respondent_id"]
    )

    op.create_table(
        "answer_history",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("respondent_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        _timestamp("at"),
        sa.Column("old_value", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("new_value", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("old_other_text", sa.Text(), nullable=True),
        sa.Column("new_other_text", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["respondent_id"],
            ["respondents.id"],
            name=op.f("fk_answer_history_respondent_id_respondents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_answer_history_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_history")),
    )
    op.create_index(
        op.f("ix_answer_history_response_id_question_id"),
        "answer_history",
        ["response_id", "question_id"],
    )
    op.create_index(op.f("ix_answer_history_respondent_id"), "answer_history", ["respondent_id"])

    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("stored_path", sa.String(length=500), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mime_type", sa.String(length=127), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_respondent_id", sa.Integer(), nullable=True),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_attachments_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_respondent_id"],
            ["respondents.id"],
            name=op.f("fk_attachments_uploaded_by_respondent_id_respondents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_index(op.f("ix_attachments_response_id"), "attachments", ["response_id"])
    op.create_index(
        op.f("ix_attachments_uploaded_by_respondent_id"),
        "attachments",
        ["uploaded_by_respondent_id"],
    )

    op.create_table(
        "processed_updates",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("update_id", sa.String(length=128), nullable=False),
        _timestamp("processed_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processed_updates")),
        sa.UniqueConstraint(
            "channel", "update_id", name=op.f("uq_processed_updates_channel_update_id")
        ),
    )
    op.create_index(
        op.f("ix_processed_updates_processed_at"), "processed_updates", ["processed_at"]
    )

    op.create_table(
        "coordinators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        _timestamp("added_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coordinators")),
        sa.UniqueConstraint(
            "channel", "external_id", name=op.f("uq_coordinators_channel_external_id")
        ),
    )


def downgrade() -> None:
    for table in (
        "coordinators",
        "processed_updates",
        "attachments",
        "answer_history",
        "answers",
        "respondent_units",
        "invitations",
        "respondents",
        "responses",
        "units",
        "campaigns",
        "survey_versions",
    ):
        op.drop_table(table)
