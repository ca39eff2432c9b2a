"""The compiled surveys of stored survey versions, kept for reuse: one bounded cache.

Compiling a stored version (its JSON read back through the YAML loader and
checked) costs far more than a step of the engine, and a stored version never
changes, so the respondent service, the outbox composer and the exports share
one :class:`SurveyCache`, created where the process is wired (:mod:`bot.cli`).
It keeps the :data:`DEFAULT_MAX_SIZE` most recently used versions: a process
serves a few campaigns at a time, and an old campaign's export must not make
the cache grow without end.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.loading import parse_survey
from bot.core.survey import Survey
from storage.models import SurveyVersion
from storage.surveys import get_survey_version

logger = logging.getLogger(__name__)

#: Survey versions kept compiled; the least recently used goes first.
DEFAULT_MAX_SIZE = 16


class SurveyCache:
    """Compiled surveys by survey version id, at most ``max_size`` of them (least recently used out)."""

    def __init__(self, *, max_size: int = DEFAULT_MAX_SIZE) -> None:
        if max_size < 1:
            raise ValueError(f"a survey cache holds at least one survey, not {max_size}")
        self.max_size = max_size
        #: Version id → (content hash, compiled survey), the most recently used last.
        self._surveys: OrderedDict[int, tuple[str, Survey]] = OrderedDict()
        #: How many versions were compiled (a miss) and how many were found (a hit).
        self.compiled_count = 0
        self.hit_count = 0

    def __len__(self) -> int:
        return len(self._surveys)

    def __contains__(self, survey_version_id: object) -> bool:
        return survey_version_id in self._surveys

    async def survey(self, *, session: AsyncSession, survey_version_id: int) -> Survey:
        """The compiled survey of a stored version, read from the database only when not cached."""
        cached = self._surveys.get(survey_version_id)
        if cached is not None:
            self._surveys.move_to_end(survey_version_id)
            self.hit_count += 1
            return cached[1]
        version = await get_survey_version(session=session, survey_version_id=survey_version_id)
        return self.compiled(version=version)

    def compiled(self, *, version: SurveyVersion) -> Survey:
        """The compiled survey of a version already read (a cached one whose content differs is replaced)."""
        cached = self._surveys.get(version.id)
        if cached is not None and cached[0] == version.content_hash:
            self._surveys.move_to_end(version.id)
            self.hit_count += 1
            return cached[1]
        survey = parse_survey(json.dumps(version.definition, ensure_ascii=False), source=f"survey version {version.id}")
        self.compiled_count += 1
        self._surveys[version.id] = (version.content_hash, survey)
        self._surveys.move_to_end(version.id)
        while len(self._surveys) > self.max_size:
            evicted, _ = self._surveys.popitem(last=False)
            logger.debug("survey version %s left the compiled-survey cache", evicted)
        return survey
