"""The links a console session issued, kept in this process's memory for that session only.

Storage keeps only the sha256 of an invitation token, so a link can be shown
only by the request that issued it. To let the coordinator come back to the
links (the QR images, the printable sheet, the plain-text download are
further requests), the console keeps the plain tokens it issued **in memory**,
per signed-in browser (console session) and campaign, for at most a session's
lifetime. Nothing of it reaches the database or a log; a restart, the
session's end or the expiry forgets them (the links keep working). Pages
check every shown link against storage, so a revoked link disappears.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.console_access import SESSION_LIFETIME
from bot.invitations import IssuedLink

#: Sessions whose links are kept at once; the least recently used are forgotten first.
MAX_SESSIONS = 200
#: Links kept per session and campaign (a roster of a few thousand units, issued twice).
MAX_LINKS_PER_CAMPAIGN = 10_000


@dataclass(frozen=True, slots=True)
class ShownLink:
    """An issued token, the unit it opens and when it was issued."""

    link: IssuedLink
    issued_at: datetime


class LinkSheets:
    """Issued tokens by console session and campaign, forgotten after ``lifetime``."""

    def __init__(self, *, lifetime: timedelta = SESSION_LIFETIME, max_sessions: int = MAX_SESSIONS) -> None:
        self.lifetime = lifetime
        self.max_sessions = max_sessions
        self._sheets: OrderedDict[int, dict[int, dict[int, ShownLink]]] = OrderedDict()

    def keep(self, *, session: int, campaign_id: int, links: Iterable[IssuedLink], now: datetime) -> None:
        """Remember links just issued by ``session`` for ``campaign_id`` (and forget every expired one)."""
        self._forget_expired(now)
        campaigns = self._sheets.setdefault(session, {})
        self._sheets.move_to_end(session)
        sheet = campaigns.setdefault(campaign_id, {})
        for link in links:
            sheet[link.invitation_id] = ShownLink(link=link, issued_at=now)
        while len(sheet) > MAX_LINKS_PER_CAMPAIGN:
            del sheet[next(iter(sheet))]
        while len(self._sheets) > self.max_sessions:
            self._sheets.popitem(last=False)

    def shown(self, *, session: int, campaign_id: int, now: datetime) -> dict[int, ShownLink]:
        """The links ``session`` issued for ``campaign_id`` and still keeps, by invitation id (oldest first)."""
        campaigns = self._sheets.get(session)
        if campaigns is None:
            return {}
        sheet = campaigns.get(campaign_id, {})
        for invitation_id in [key for key, shown in sheet.items() if now - shown.issued_at > self.lifetime]:
            del sheet[invitation_id]
        return dict(sheet)

    def forget(self, *, session: int) -> None:
        self._sheets.pop(session, None)

    def _forget_expired(self, now: datetime) -> None:
        for session, campaigns in list(self._sheets.items()):
            for campaign_id, sheet in list(campaigns.items()):
                for invitation_id in [key for key, shown in sheet.items() if now - shown.issued_at > self.lifetime]:
                    del sheet[invitation_id]
                if not sheet:
                    del campaigns[campaign_id]
            if not campaigns:
                del self._sheets[session]
