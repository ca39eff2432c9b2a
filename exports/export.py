"""Exporting a campaign: the entry point the CLI and the Telegram ``/export`` command call.

::

    result = await export_campaign(
        database=database,
        campaign_id=7,
        workbook_path=Path("out/7.xlsx"),
        data_dir=settings.data_dir,
    )
    # result.workbook: out/7.xlsx; result.bundle: out/7.zip or None

Steps: one read of the database in a single read-only snapshot
(:mod:`exports.collect`), then the workbook written in a worker thread (so a
bot's event loop is not blocked) and, when the campaign has uploaded files,
the zip bundle: the same workbook with each attachment cell linked to its
file, and the files (:mod:`exports.bundle`).

The standalone workbook has no links (they would point to files that are not
next to it); the bundle's copy has them. Both files are written to a
temporary name in their folder and renamed when complete, so a failed export
never leaves a half-written file under the requested name. Whether the output
locations are writable is checked before the database is read.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.campaigns import CampaignSummary
from bot.survey_cache import SurveyCache
from exports.bundle import write_bundle
from exports.collect import ExportContent, campaign_zone, collect
from exports.data import DEFAULT_PAGE_SIZE, load_campaign, read_snapshot
from exports.output import ExportError, OutputFile
from exports.workbook import write_workbook
from storage.database import Database
from storage.models import ResponseStatus
from storage.types import utc_now

logger = logging.getLogger(__name__)


class BundleMode(StrEnum):
    """When to write the zip bundle."""

    AUTO = "auto"  # when the campaign has at least one uploaded file
    ALWAYS = "always"
    NEVER = "never"


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What was written, and the numbers a coordinator wants to hear about."""

    campaign_id: int
    campaign_title: str
    workbook: Path
    #: The zip (workbook + attachments), or None when none was written.
    bundle: Path | None
    units: int
    submitted: int
    in_progress: int
    not_started: int
    #: Files put in the bundle (or that would be, when no bundle was asked for).
    attachments: int
    #: File answers whose stored file was not found, as ``unit: question (file name)``.
    missing_attachments: tuple[str, ...]
    seconds: float
    #: The report book (every unit's narrative answers, a .docx), when one was
    #: asked for, the survey has long-text questions and a unit has submitted.
    report_book: Path | None = None


def bundle_path_for(workbook_path: Path) -> Path:
    """``out/report.xlsx`` → ``out/report.zip``."""
    return workbook_path.with_suffix(".zip")


_UNSAFE_FILE_CHARACTERS = re.compile(r'[/\\:*?"<>|#%\x00-\x1f\x7f]')


def export_file_name(campaign_title: str, exported_at: datetime, *, suffix: str = ".xlsx") -> str:
    """A file name for an export: ``<title>-<YYYYMMDD-HHMM>.xlsx``, safe on every system."""
    title = unicodedata.normalize("NFC", campaign_title)
    title = _UNSAFE_FILE_CHARACTERS.sub("", title)
    title = " ".join(title.split()).strip(". ")[:80] or "export"
    return f"{title}-{exported_at:%Y%m%d-%H%M}{suffix}"


def _write_files(
    content: ExportContent,
    workbook: OutputFile,
    bundle: OutputFile | None,
) -> int:
    """Write the workbook and the bundle (blocking; run in a worker thread)."""
    write_workbook(content=content, path=workbook.temporary, links=False)
    if bundle is None:
        workbook.commit()
        return 0
    linked = OutputFile(bundle.final.with_suffix(".links.xlsx"))
    try:
        write_workbook(content=content, path=linked.temporary, links=True)
        written = write_bundle(
            path=bundle.temporary,
            workbook=linked.temporary,
            workbook_name=workbook.final.name,
            files=content.bundle.files,
        )
    finally:
        linked.discard()
    workbook.commit()
    bundle.commit()
    return written


async def export_campaign(
    *,
    database: Database,
    campaign_id: int,
    workbook_path: Path,
    data_dir: Path | None,
    bundle: BundleMode = BundleMode.AUTO,
    bundle_path: Path | None = None,
    now: datetime | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    surveys: SurveyCache | None = None,
) -> ExportResult:
    """Write the campaign's workbook to ``workbook_path`` and, if need be, the zip bundle.

    ``data_dir`` is where uploaded files are stored (``Settings.data_dir``);
    without it no file can be bundled. The bundle goes to ``bundle_path``,
    by default the workbook's path with ``.zip``. Raises
    :class:`~storage.errors.CampaignNotFoundError` for an unknown campaign,
    :class:`ExportError` when a file cannot be written, and
    :class:`~storage.errors.DatabaseUnavailableError` when the database
    cannot be read. ``surveys`` is the process's compiled-survey cache.
    """
    started = time.perf_counter()
    moment = now or utc_now()
    workbook_output = OutputFile(workbook_path)
    workbook_output.check()
    bundle_output: OutputFile | None = None
    if bundle is not BundleMode.NEVER:
        bundle_output = OutputFile(bundle_path or bundle_path_for(workbook_path))
        if bundle_output.final == workbook_output.final:
            workbook_output.discard()
            raise ExportError(f"the bundle and the workbook cannot both be {workbook_path}")
    try:
        if bundle_output is not None:
            bundle_output.check()
        async with read_snapshot(database) as session:
            campaign, survey = await load_campaign(session=session, campaign_id=campaign_id, surveys=surveys)
            content = await collect(
                session=session,
                campaign=campaign,
                survey=survey,
                data_dir=data_dir,
                now=moment.astimezone(campaign_zone(campaign)),
                page_size=page_size,
            )
        try:
            files = len(content.bundle.files)
            if bundle_output is not None and bundle is BundleMode.AUTO and not files:
                bundle_output.discard()
                bundle_output = None
            written = await asyncio.to_thread(_write_files, content, workbook_output, bundle_output)
        finally:
            content.close()
    except BaseException:
        workbook_output.discard()
        if bundle_output is not None:
            bundle_output.discard()
        raise
    result = ExportResult(
        campaign_id=content.campaign_id,
        campaign_title=content.campaign_title,
        workbook=workbook_output.final,
        bundle=bundle_output.final if bundle_output is not None else None,
        units=content.units,
        submitted=content.counts[ResponseStatus.SUBMITTED],
        in_progress=content.counts[ResponseStatus.IN_PROGRESS],
        not_started=content.counts[ResponseStatus.NOT_STARTED],
        attachments=written if bundle_output is not None else files,
        missing_attachments=tuple(content.bundle.missing),
        seconds=time.perf_counter() - started,
    )
    logger.info(
        "exported campaign %s (%d units) to %s%s in %.2fs",
        result.campaign_id,
        result.units,
        result.workbook,
        f" and {result.bundle}" if result.bundle else "",
        result.seconds,
    )
    return result


@dataclass(frozen=True, slots=True)
class CampaignFilesExporter:
    """Writes a campaign's export into a directory under a dated file name.

    The coordinator service calls it (``bot.coordination.CampaignExporter``)
    after checking the asking account; :mod:`bot.cli` wires it in.
    """

    database: Database
    data_dir: Path | None
    #: The process's compiled-survey cache (``None``: the exports' own).
    surveys: SurveyCache | None = None

    #: Also write the report book (``/export`` sends it beside the workbook).
    report_book: bool = True

    async def __call__(self, *, campaign: CampaignSummary, directory: Path, now: datetime) -> ExportResult:
        from exports.report_book import write_report_book  # python-docx only when a book is asked for

        local = now.astimezone(ZoneInfo(campaign.timezone))
        result = await export_campaign(
            database=self.database,
            campaign_id=campaign.id,
            workbook_path=directory / export_file_name(campaign.title, local),
            data_dir=self.data_dir,
            now=now,
            surveys=self.surveys,
        )
        if not self.report_book:
            return result
        book_path = directory / export_file_name(campaign.title, local, suffix=".docx")
        book = await write_report_book(database=self.database, campaign_id=campaign.id, path=book_path, now=now)
        if book.chapters == 0 or book.submitted == 0:  # no narrative question, or no report yet: nothing to compile
            book_path.unlink(missing_ok=True)
            return result
        return replace(result, report_book=book_path)
