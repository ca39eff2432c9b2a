"""The console's downloads: a campaign's workbook, the zip of its uploaded files, its report book.

The same files as ``/export`` in Telegram (:meth:`bot.coordination.CoordinatorService.export`
with the exporter :mod:`bot.cli` wires in). Each is a plain GET link (a
download changes nothing) that needs a coordinator's session like every
page. The export is written into a fresh temporary folder, streamed to the
browser in chunks and the folder is removed once the last byte is sent, or
the browser goes away.

Routes (relative to ``/admin``): ``GET /campaigns/{id}/download/{kind}``,
``kind`` one of ``workbook``, ``files``, ``report``.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from bot.coordination import CoordinatorService, ExportedFiles, ExportUnavailableError, NotCoordinatorError
from handlers.console.progress import CAMPAIGN, attachment_disposition, progress_message
from storage.errors import CampaignNotFoundError

if TYPE_CHECKING:
    from handlers.console.app import Console

logger = logging.getLogger(__name__)

#: Bytes read and sent at a time.
CHUNK_SIZE = 256 * 1024


class DownloadKind(StrEnum):
    WORKBOOK = "workbook"
    FILES = "files"
    REPORT = "report"


#: Each kind's file in an export, and its content type.
_FILES: dict[DownloadKind, tuple[Callable[[ExportedFiles], Path | None], str]] = {
    DownloadKind.WORKBOOK: (lambda result: result.workbook, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    DownloadKind.FILES: (lambda result: result.bundle, "application/zip"),
    DownloadKind.REPORT: (
        lambda result: result.report_book,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
}

#: The message of a download whose file the export did not write.
_NOTHING = {
    DownloadKind.WORKBOOK: "download_unavailable",
    DownloadKind.FILES: "no_files",
    DownloadKind.REPORT: "no_report",
}


class Downloads:
    def __init__(self, *, console: Console, coordination: CoordinatorService, temporary_dir: Path | None) -> None:
        self.console = console
        self.coordination = coordination
        self.temporary_dir = temporary_dir

    async def download(self, request: web.Request) -> web.StreamResponse:
        """``GET /campaigns/{id}/download/{kind}``: export now, stream the file, remove it."""
        from handlers.console.app import security_headers

        console = self.console
        user = await console.user(request)
        if user is None:
            return console.to_sign_in()
        kind = DownloadKind(request.match_info["kind"])
        if self.temporary_dir is not None:
            self.temporary_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="surveybot-console-export-", dir=self.temporary_dir) as directory:
            try:
                result = await self.coordination.export(
                    user=user.account, campaign_id=int(request.match_info["id"]), directory=Path(directory)
                )
            except NotCoordinatorError:
                return console.to_sign_in()
            except CampaignNotFoundError:
                return console.message(request, 404, "console.not_found", user=user)
            except ExportUnavailableError:
                logger.error("console download refused: this process has no exporter wired in")
                return progress_message(
                    console, request, 503, "download_unavailable", user=user, campaign_id=int(request.match_info["id"])
                )
            pick, content_type = _FILES[kind]
            path = pick(result)
            if path is None or not path.is_file():
                return progress_message(
                    console, request, 404, _NOTHING[kind], user=user, campaign_id=int(request.match_info["id"])
                )
            response = web.StreamResponse(
                headers={
                    "Content-Type": content_type,
                    "Content-Disposition": attachment_disposition(path.name),
                    "Content-Length": str(path.stat().st_size),
                }
            )
            security_headers(response)
            await response.prepare(request)
            try:
                with path.open("rb") as handle:
                    while chunk := await asyncio.to_thread(handle.read, CHUNK_SIZE):
                        await response.write(chunk)
                await response.write_eof()
            except ConnectionResetError:  # the browser went away; the folder goes all the same
                logger.info("console: the download of the %s of campaign %s was cut off", kind.value, request.match_info["id"])
                return response
            logger.info(
                "console: sent the %s of campaign %s (%d bytes)", kind.value, request.match_info["id"], path.stat().st_size
            )
        return response


def register(app: web.Application, *, console: Console, coordination: CoordinatorService, temporary_dir: Path | None) -> None:
    """Add the download route to the console's application."""
    downloads = Downloads(console=console, coordination=coordination, temporary_dir=temporary_dir)
    kinds = "|".join(kind.value for kind in DownloadKind)
    app.router.add_get(CAMPAIGN + f"/download/{{kind:(?:{kinds})}}", downloads.download)
