"""A unit's invitation links, built from its token: the web chat's and the Telegram deep link.

One token works in both channels. ``surveybot invite`` prints these links and
the console's invitations page shows them (with their QR codes); neither can
show a token again later, since storage keeps only its hash.

:class:`RememberedLinks` keeps, in this process's memory and for a bounded
time, the plain token a channel issued for a unit's link, so that a message
shown again (a WeCom member going back to a file question) carries the same
link instead of a new invitation row each time.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

#: How long a remembered link is sent again: as long as the console shows the links it issued (a console session).
LINK_REUSE_LIFETIME = timedelta(hours=12)
#: Units whose link is remembered at once; the least recently issued are forgotten first.
MAX_REMEMBERED_UNITS = 10_000


def telegram_link(username: str | None, token: str) -> str:
    """The deep link that starts the bot with ``token``, or the token when no bot is named."""
    if not username:
        return token
    return f"https://t.me/{username.strip().lstrip('@')}?start={token}"


def web_link(public_url: str, token: str) -> str:
    """A unit's personal web chat link: ``{public_url}/s/{token}``."""
    return f"{public_url.rstrip('/')}/s/{token}"


def link_columns(*, public_url: str | None, bot_username: str | None, token: str) -> list[str]:
    """The LINK column (and the Telegram column when both channels are known)."""
    if public_url:
        columns = [web_link(public_url, token)]
        if bot_username:
            columns.append(telegram_link(bot_username, token))
        return columns
    return [telegram_link(bot_username, token)]


@dataclass(frozen=True, slots=True)
class UnitLinks:
    """The links of one token: the web chat's, and Telegram's when the bot's username is known."""

    web: str
    telegram: str | None


def unit_links(*, public_url: str, bot_username: str | None, token: str) -> UnitLinks:
    """Both links of ``token`` for a process that serves the web chat at ``public_url``."""
    return UnitLinks(
        web=web_link(public_url, token),
        telegram=telegram_link(bot_username, token) if bot_username else None,
    )


@dataclass(frozen=True, slots=True)
class RememberedLink:
    """A plain token this process issued for a unit's link, and when."""

    unit_id: int
    token: str
    issued_at: datetime


class RememberedLinks:
    """The token issued for each unit's link, kept in memory for ``lifetime``; nothing of it is stored or logged.

    A restart, the lifetime's end or the bound on units forgets a token (its
    link keeps working); the caller then issues a new one. The caller checks
    a recalled token against storage before it sends it (it may have been
    revoked since).
    """

    def __init__(self, *, lifetime: timedelta = LINK_REUSE_LIFETIME, max_units: int = MAX_REMEMBERED_UNITS) -> None:
        self.lifetime = lifetime
        self.max_units = max_units
        self._links: OrderedDict[int, RememberedLink] = OrderedDict()

    def recall(self, unit_id: int, *, now: datetime) -> str | None:
        """The token issued for ``unit_id`` within the lifetime, or None."""
        remembered = self._links.get(unit_id)
        if remembered is None:
            return None
        if now - remembered.issued_at > self.lifetime:
            del self._links[unit_id]
            return None
        return remembered.token

    def keep(self, unit_id: int, token: str, *, now: datetime) -> None:
        """Remember ``token``, just issued for ``unit_id`` (in place of any earlier one)."""
        self._links.pop(unit_id, None)
        self._links[unit_id] = RememberedLink(unit_id=unit_id, token=token, issued_at=now)
        while len(self._links) > self.max_units:
            self._links.popitem(last=False)

    def forget(self, unit_id: int) -> None:
        self._links.pop(unit_id, None)
