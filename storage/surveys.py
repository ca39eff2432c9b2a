"""Survey versions: each distinct content of a survey file, stored once."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import InvalidValueError, NotFoundError
from storage.models import SurveyVersion
from storage.rows import canonical_json, insert_unless_exists, sha256_hex

if TYPE_CHECKING:
    from bot.core.survey import Survey

logger = logging.getLogger(__name__)


def definition_hash(definition_json: Mapping[str, Any]) -> str:
    """sha256 hex of the canonical JSON of a definition (blind to key order)."""
    return sha256_hex(canonical_json(definition_json))


async def get_or_create_survey_version(
    *,
    session: AsyncSession,
    definition_json: Mapping[str, Any],
    survey_id: str,
    version: str,
    content_hash: str | None = None,
) -> SurveyVersion:
    """The stored version with this survey id and content hash, created if new.

    ``content_hash`` defaults to :func:`definition_hash` of ``definition_json``.
    An edited file has another hash and so becomes another version; campaigns
    that pinned the old one keep it.
    """
    if not survey_id:
        raise InvalidValueError("a survey version needs a survey id")
    content_hash = content_hash or definition_hash(definition_json)
    if len(content_hash) != 64:
        raise InvalidValueError(f"content hash {content_hash!r} is not a sha256 hex digest")

    async def existing() -> SurveyVersion | None:
        return await session.scalar(
            select(SurveyVersion).where(
                SurveyVersion.survey_id == survey_id, SurveyVersion.content_hash == content_hash
            )
        )

    row, created = await insert_unless_exists(
        session,
        SurveyVersion(
            survey_id=survey_id,
            version=version,
            content_hash=content_hash,
            definition=dict(definition_json),
        ),
        existing=existing,
    )
    if created:
        logger.info("stored survey %s version %s (%s)", survey_id, version, content_hash[:12])
    return row


async def get_survey_version(*, session: AsyncSession, survey_version_id: int) -> SurveyVersion:
    row = await session.get(SurveyVersion, survey_version_id)
    if row is None:
        raise NotFoundError(f"no survey version with id {survey_version_id}")
    return row


async def list_survey_versions(
    *, session: AsyncSession, survey_id: str | None = None
) -> list[SurveyVersion]:
    statement = select(SurveyVersion).order_by(SurveyVersion.id)
    if survey_id is not None:
        statement = statement.where(SurveyVersion.survey_id == survey_id)
    return list(await session.scalars(statement))


async def store_survey(*, session: AsyncSession, survey: Survey) -> SurveyVersion:
    """The stored version of a loaded survey (its validated definition as JSON), created if new."""
    return await get_or_create_survey_version(
        session=session,
        definition_json=survey.definition.model_dump(mode="json", exclude_none=True),
        survey_id=survey.id,
        version=survey.version,
        content_hash=survey.content_hash,
    )
