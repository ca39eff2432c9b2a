"""The compiled-survey cache: stored versions compiled once, at most ``max_size`` kept."""

from __future__ import annotations

import pytest

from bot.core.loading import parse_survey
from bot.survey_cache import DEFAULT_MAX_SIZE, SurveyCache
from storage.database import Database
from storage.models import SurveyVersion
from storage.surveys import store_survey
from tests.storage.conftest import SMALL_SURVEY_YAML


async def store_versions(database: Database, count: int) -> list[SurveyVersion]:
    """``count`` stored survey versions, each titled with its number."""
    async with database.transaction() as session:
        return [
            await store_survey(
                session=session,
                survey=parse_survey(SMALL_SURVEY_YAML.replace("存储测试", f"存储测试{number}"), source=f"v{number}"),
            )
            for number in range(1, count + 1)
        ]


async def test_survey__compiles_each_version_once_and_keeps_the_most_recently_used(database: Database) -> None:
    first, second, third = await store_versions(database, 3)
    cache = SurveyCache(max_size=2)
    async with database.read() as session:
        survey = await cache.survey(session=session, survey_version_id=first.id)
        assert survey.text(survey.definition.title, "zh") == "存储测试1"
        await cache.survey(session=session, survey_version_id=second.id)
        assert await cache.survey(session=session, survey_version_id=first.id) is survey  # a hit: first is newest now
        await cache.survey(session=session, survey_version_id=third.id)  # second, least recently used, goes

        assert len(cache) == 2
        assert first.id in cache and third.id in cache and second.id not in cache
        assert (cache.compiled_count, cache.hit_count) == (3, 1)
        again = await cache.survey(session=session, survey_version_id=second.id)
    assert again.text(again.definition.title, "zh") == "存储测试2"
    assert cache.compiled_count == 4 and len(cache) == 2


async def test_survey__never_grows_past_its_size(database: Database) -> None:
    versions = await store_versions(database, DEFAULT_MAX_SIZE + 4)
    cache = SurveyCache()
    async with database.read() as session:
        for version in versions:
            await cache.survey(session=session, survey_version_id=version.id)
    assert len(cache) == DEFAULT_MAX_SIZE
    assert versions[-1].id in cache and versions[0].id not in cache


async def test_compiled__a_version_read_with_other_content_is_compiled_again(database: Database) -> None:
    [version] = await store_versions(database, 1)
    cache = SurveyCache()
    cache.compiled(version=version)
    assert cache.compiled(version=version) is cache.compiled(version=version)
    # Another database's version with the same id (an export from another file) is not mixed up.
    other = SurveyVersion(
        id=version.id,
        survey_id=version.survey_id,
        version=version.version,
        content_hash="0" * 64,
        definition={**version.definition, "title": {"zh": "另一个库", "en": "Another database"}},
    )
    survey = cache.compiled(version=other)
    assert survey.text(survey.definition.title, "zh") == "另一个库"
    assert cache.compiled_count == 2 and len(cache) == 1


def test_max_size_below_one__is_refused() -> None:
    with pytest.raises(ValueError, match="at least one survey"):
        SurveyCache(max_size=0)
