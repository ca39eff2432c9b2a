"""Who may use the coordinator console: one-time login links and the sessions they open.

The link's token and the session id are secrets handed out once; storage keeps
only their sha256 (:mod:`storage.console_sessions`). Opening a link (:meth:`ConsoleAccess.peek`)
consumes nothing; :meth:`ConsoleAccess.sign_in` uses it once. Every request of a
session goes through :meth:`ConsoleAccess.current`, which also checks that the
account is still a coordinator (stored, or in ``SURVEYBOT_ADMIN_IDS``).
Results are plain data, never database rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.service import ChannelUser
from bot.settings import Settings
from storage.console_sessions import (
    create_console_session,
    create_login_link,
    find_console_session,
    find_login_link,
    list_console_sessions,
    revoke_console_session,
    use_login_link,
)
from storage.coordinators import is_coordinator
from storage.database import Database
from storage.types import utc_now

logger = logging.getLogger(__name__)

#: How long a login link works when ``--ttl`` is not given.
DEFAULT_LINK_TTL = timedelta(minutes=15)
#: The longest a login link may work: it is a password sent through a chat.
MAX_LINK_TTL = timedelta(days=1)
#: How long a signed-in browser stays signed in.
SESSION_LIFETIME = timedelta(hours=12)
#: The console's path under the public URL.
CONSOLE_PREFIX = "/admin"


class NotCoordinatorAccountError(Exception):
    """A login link was asked for an account that is not a coordinator."""


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    """The coordinator behind a live console session."""

    #: The session's row id (what sign-out and the session list name).
    session: int
    channel: str
    external_id: str
    #: The token every form of this session must carry.
    csrf_token: str

    @property
    def account(self) -> ChannelUser:
        return ChannelUser(channel=self.channel, external_id=self.external_id)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A session just opened: its id goes into the cookie, and nowhere else."""

    session_id: str
    user: ConsoleUser


@dataclass(frozen=True, slots=True)
class ConsoleSessionInfo:
    """One live session of an account, as the session list shows it."""

    session: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


def login_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}{CONSOLE_PREFIX}/login/{token}"


class ConsoleAccess:
    """Login links and console sessions over one database."""

    def __init__(self, *, database: Database, settings: Settings, clock: Callable[[], datetime] = utc_now) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock

    async def _is_coordinator(self, channel: str, external_id: str) -> bool:
        async with self.database.read() as session:
            return await is_coordinator(
                session=session, telegram_ids=self.settings.admin_ids, channel=channel, external_id=external_id
            )

    async def issue_login_link(self, *, channel: str, external_id: str, ttl: timedelta = DEFAULT_LINK_TTL) -> str:
        """A new one-time token for the coordinator's account; :class:`NotCoordinatorAccountError` otherwise."""
        if not timedelta(0) < ttl <= MAX_LINK_TTL:
            raise ValueError(f"a login link works between a second and {MAX_LINK_TTL}, not {ttl}")
        if not await self._is_coordinator(channel, external_id):
            raise NotCoordinatorAccountError(f"{channel}:{external_id}")
        async with self.database.transaction() as session:
            _, token = await create_login_link(
                session=session, channel=channel, external_id=external_id, ttl=ttl, now=self.clock()
            )
        return token

    async def peek(self, *, token: str) -> bool:
        """Whether ``token`` would sign a coordinator in now; consumes nothing (link previews)."""
        async with self.database.read() as session:
            link = await find_login_link(session=session, token=token, now=self.clock())
            account = None if link is None else (link.channel, link.external_id)
        return account is not None and await self._is_coordinator(*account)

    async def sign_in(self, *, token: str) -> SignedIn | None:
        """Use the link once and open a session; None if the link is unknown, used, expired,
        or its account is no longer a coordinator (the link is used up all the same)."""
        async with self.database.transaction() as session:
            link = await use_login_link(session=session, token=token, now=self.clock())
            if link is None:
                return None
            allowed = await is_coordinator(
                session=session, telegram_ids=self.settings.admin_ids, channel=link.channel, external_id=link.external_id
            )
            if not allowed:
                logger.warning("console sign-in refused: %s:%s is no longer a coordinator", link.channel, link.external_id)
                return None
            row, session_id = await create_console_session(
                session=session,
                channel=link.channel,
                external_id=link.external_id,
                lifetime=SESSION_LIFETIME,
                now=self.clock(),
            )
            user = ConsoleUser(session=row.id, channel=row.channel, external_id=row.external_id, csrf_token=row.csrf_token)
        return SignedIn(session_id=session_id, user=user)

    async def current(self, *, session_id: str) -> ConsoleUser | None:
        """The coordinator of a live session (and its last-seen time updated), or None."""
        async with self.database.transaction() as session:
            row = await find_console_session(session=session, session_id=session_id, now=self.clock())
            if row is None:
                return None
            user = ConsoleUser(session=row.id, channel=row.channel, external_id=row.external_id, csrf_token=row.csrf_token)
            allowed = await is_coordinator(
                session=session, telegram_ids=self.settings.admin_ids, channel=user.channel, external_id=user.external_id
            )
        if not allowed:
            logger.warning("console session %s refused: %s:%s is no longer a coordinator", user.session, user.channel, user.external_id)
            return None
        return user

    async def sessions(self, *, user: ConsoleUser) -> list[ConsoleSessionInfo]:
        """The account's live sessions, newest first."""
        async with self.database.read() as session:
            rows = await list_console_sessions(
                session=session, channel=user.channel, external_id=user.external_id, now=self.clock()
            )
            return [
                ConsoleSessionInfo(
                    session=row.id, created_at=row.created_at, last_seen_at=row.last_seen_at, expires_at=row.expires_at
                )
                for row in rows
            ]

    async def revoke(self, *, user: ConsoleUser, session: int) -> bool:
        """Revoke one of the account's own sessions (sign-out is revoking the current one)."""
        if session not in {info.session for info in await self.sessions(user=user)}:
            return False
        async with self.database.transaction() as transaction:
            return await revoke_console_session(session=transaction, session_id=session, now=self.clock())
