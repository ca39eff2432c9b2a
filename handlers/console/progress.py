"""The console's progress pages: a campaign's units table and summaries, a unit's page, its files.

Routes (relative to ``/admin``), each needing a coordinator's session (without
one: 303 to the sign-in page); a campaign, unit or file id that does not
belong together answers 404 and shows nothing:

- ``GET /campaigns/{id}?status=&sort=&dir=``: the units table (filtered and
  sorted on the server, so it works without script), the per-question
  summaries, the download links, the reminder schedule and, for a campaign
  linked to last period's, the questions that do not carry over.
- ``GET /campaigns/{id}/progress?status=&sort=&dir=``: the table alone (an
  HTML fragment), fetched by ``static/progress.js`` every 15 seconds.
- ``GET /campaigns/{id}/units/{unit_id}``: the unit's answers as its review
  words them, the history of changes and its uploaded files.
- ``GET /campaigns/{id}/units/{unit_id}/files/{file_id}``: one uploaded file,
  as an attachment with its stored (sniffed) content type.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web

from bot.campaign_progress import ProgressService, ProgressTable, UnitNotInCampaignError
from bot.console_access import CONSOLE_PREFIX, ConsoleUser
from bot.coordination import NotCoordinatorError
from bot.core.catalog import translate
from handlers.console.presenting import deadline_text, local_time
from handlers.console.progress_view import (
    TableQuery,
    channel_names,
    file_size,
    filter_options,
    progress_row,
    sort_headers,
    summaries_view,
    unit_view_times,
)
from handlers.console.schedule_view import last_period_view, reminders_notice, schedule_view
from storage.attachments import sanitize_file_name
from storage.errors import CampaignNotFoundError

if TYPE_CHECKING:
    from handlers.console.app import Console

logger = logging.getLogger(__name__)

#: How often the page asks for the table again (``data-refresh-seconds``).
REFRESH_SECONDS = 15
CAMPAIGN = r"/campaigns/{id:\d{1,18}}"
UNIT = CAMPAIGN + r"/units/{unit_id:\d{1,18}}"


def attachment_disposition(name: str) -> str:
    """``attachment; filename="report.pdf"; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf``: safe for any name."""
    safe = sanitize_file_name(name)
    ascii_name = safe.encode("ascii", "replace").decode("ascii").replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(safe, safe='')}"


def render_page(
    console: Console, request: web.Request, template: str, *, user: ConsoleUser | None, status: int = 200, **context: Any
) -> web.Response:
    """``console.render`` with ``tp(key)``: the words of this block of the catalogs (``console_progress.*``)."""
    language = console.language(request)

    def tp(key: str, **params: object) -> str:
        return translate(language, f"console_progress.{key}", **params)

    return console.render(request, template, user=user, status=status, tp=tp, **context)


def progress_message(
    console: Console,
    request: web.Request,
    status: int,
    key: str,
    *,
    user: ConsoleUser,
    campaign_id: int,
    campaign_title: str = "",
) -> web.Response:
    """A page saying ``console_progress.<key>``, with the way back to the campaign."""
    return render_page(
        console,
        request,
        "progress_message.html",
        user=user,
        status=status,
        message_key=key,
        back_url=f"{CONSOLE_PREFIX}/campaigns/{campaign_id}",
        campaign_title=campaign_title,
    )


class ProgressPages:
    """The handlers of the progress routes, over the console's rendering and the progress service."""

    def __init__(self, *, console: Console, progress: ProgressService) -> None:
        self.console = console
        self.progress = progress

    async def _table(self, request: web.Request) -> web.StreamResponse | tuple[ConsoleUser, ProgressTable]:
        """The signed-in coordinator and the campaign's table; or the answer refusing them."""
        console = self.console
        user = await console.user(request)
        if user is None:
            return console.to_sign_in()
        try:
            table = await self.progress.table(user=user.account, campaign_id=int(request.match_info["id"]))
        except NotCoordinatorError:
            return console.to_sign_in()
        except CampaignNotFoundError:
            return console.message(request, 404, "console.not_found", user=user)
        return user, table

    def _table_context(self, request: web.Request, table: ProgressTable) -> dict[str, Any]:
        language = self.console.language(request)
        query = TableQuery.parse(dict(request.query))
        rows = [
            progress_row(language, table, unit)
            for unit in table.rows(status=query.status, sort=query.sort, descending=query.descending)
        ]
        campaign_id = table.campaign.id
        return {
            "campaign": table.campaign,
            "rows": rows,
            "query": query,
            "headers": sort_headers(language, query),
            "filters": filter_options(language, table, query),
            "refresh_url": f"{CONSOLE_PREFIX}/campaigns/{campaign_id}/progress?{query.query_string()}",
            "updated": local_time(self.progress.coordination.clock(), table.campaign.timezone),
        }

    async def campaign(self, request: web.Request) -> web.StreamResponse:
        """``GET /campaigns/{id}``: the units table, the summaries, the downloads."""
        found = await self._table(request)
        if isinstance(found, web.StreamResponse):
            return found
        user, table = found
        language = self.console.language(request)
        summaries = await self.progress.summaries(user=user.account, campaign_id=table.campaign.id)
        schedule = await self.progress.reminder_schedule(user=user.account, campaign_id=table.campaign.id)
        last_period = await self.progress.last_period(user=user.account, campaign_id=table.campaign.id, language=language)
        notice = ""
        if request.query.get("notice") == "reminders":  # back from the reminders form
            notice = reminders_notice(language, schedule.offsets, request.query.get("was"))
        return render_page(
            self.console,
            request,
            "campaign.html",
            user=user,
            deadline=deadline_text(language, table.campaign),
            overdue=table.overdue,
            summaries=summaries_view(language, summaries),
            schedule=schedule_view(language, schedule, notice=notice),
            last_period=last_period_view(language, last_period) if last_period is not None else None,
            script_url=self.console.asset_urls["progress.js"],
            refresh_seconds=REFRESH_SECONDS,
            **self._table_context(request, table),
        )

    async def table(self, request: web.Request) -> web.StreamResponse:
        """``GET /campaigns/{id}/progress``: the table alone, for the page's refresh."""
        found = await self._table(request)
        if isinstance(found, web.StreamResponse):
            return found
        user, table = found
        return render_page(self.console, request, "progress_table.html", user=user, **self._table_context(request, table))

    async def unit(self, request: web.Request) -> web.StreamResponse:
        """``GET /campaigns/{id}/units/{unit_id}``: the answers, the changes, the files."""
        console = self.console
        user = await console.user(request)
        if user is None:
            return console.to_sign_in()
        language = console.language(request)
        try:
            detail = await self.progress.unit(
                user=user.account,
                campaign_id=int(request.match_info["id"]),
                unit_id=int(request.match_info["unit_id"]),
                language=language,
            )
        except NotCoordinatorError:
            return console.to_sign_in()
        except (CampaignNotFoundError, UnitNotInCampaignError):
            return console.message(request, 404, "console.not_found", user=user)
        zone = detail.campaign.timezone
        none = translate(language, "console.never")
        history = [
            {
                "at": local_time(entry.at, zone),
                "who": entry.who or translate(language, "console_progress.someone"),
                "channel": channel_names(language, (entry.channel,)) if entry.channel else none,
                "question": entry.question,
                "old": entry.old,
                "new": entry.new,
            }
            for entry in reversed(detail.history)  # newest first
        ]
        files = [
            {
                "href": f"{CONSOLE_PREFIX}/campaigns/{detail.campaign.id}/units/{detail.unit_id}/files/{item.id}",
                "name": item.name,
                "question": item.question,
                "size": file_size(item.size),
                "uploaded_at": local_time(item.uploaded_at, zone),
            }
            for item in detail.files
        ]
        return render_page(
            console,
            request,
            "unit.html",
            user=user,
            campaign=detail.campaign,
            unit=detail,
            status_text=translate(language, f"console.status_{detail.state.value}"),
            times=unit_view_times(detail),
            none=none,
            history=history,
            files=files,
        )

    async def file(self, request: web.Request) -> web.StreamResponse:
        """``GET .../files/{file_id}``: the uploaded bytes as a download, never shown inline."""
        console = self.console
        user = await console.user(request)
        if user is None:
            return console.to_sign_in()
        try:
            found = await self.progress.file(
                user=user.account,
                campaign_id=int(request.match_info["id"]),
                unit_id=int(request.match_info["unit_id"]),
                attachment_id=int(request.match_info["file_id"]),
            )
        except NotCoordinatorError:
            return console.to_sign_in()
        except (CampaignNotFoundError, UnitNotInCampaignError):
            return console.message(request, 404, "console.not_found", user=user)
        response = web.FileResponse(
            found.path,
            headers={
                "Content-Type": found.content_type,
                "Content-Disposition": attachment_disposition(found.name),
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-store",
            },
        )
        return response


def register(app: web.Application, *, console: Console, progress: ProgressService) -> None:
    """Add the progress routes to the console's application."""
    pages = ProgressPages(console=console, progress=progress)
    app.router.add_get(CAMPAIGN, pages.campaign)
    app.router.add_get(CAMPAIGN + "/progress", pages.table)
    app.router.add_get(UNIT, pages.unit)
    app.router.add_get(UNIT + r"/files/{file_id:\d{1,18}}", pages.file)
