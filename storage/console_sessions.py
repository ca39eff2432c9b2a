"""The coordinator console's sign-in: one-time login links and server-side sessions.

A login link's token and a session's id are random, handed out once, and
stored only as their sha256 (like invitation tokens). A link signs in once and
expires; a session expires, can be revoked, and is listed per account.
Whether the account is (still) a coordinator is the caller's check
(:func:`storage.coordinators.is_coordinator`).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConsoleLoginLink, ConsoleSession
from storage.respondents import check_account
from storage.rows import aware_now, sha256_hex

logger = logging.getLogger(__name__)

#: Random bytes of a login token and of a session id (URL-safe base64, 43 characters).
SECRET_BYTES = 32
#: Anything longer is not one of ours (not hashed, not looked up).
SECRET_MAX_LENGTH = 128


def hash_secret(secret: str) -> str:
    """The stored form of a login token or session id."""
    return sha256_hex(secret.strip())


def _plausible(secret: str) -> bool:
    return 0 < len(secret.strip()) <= SECRET_MAX_LENGTH


async def create_login_link(
    *, session: AsyncSession, channel: str, external_id: str | int, ttl: timedelta, now: datetime | None = None
) -> tuple[ConsoleLoginLink, str]:
    """A new one-time link for the account and its plain token, which is returned only here."""
    if ttl <= timedelta(0):
        raise ValueError(f"a login link's lifetime must be positive, got {ttl}")
    channel, account = check_account(channel, external_id)
    created = aware_now(now)
    token = secrets.token_urlsafe(SECRET_BYTES)
    link = ConsoleLoginLink(
        token_hash=hash_secret(token), channel=channel, external_id=account, created_at=created, expires_at=created + ttl
    )
    session.add(link)
    await session.flush()
    logger.info("console login link %s created for %s:%s, valid until %s", link.id, channel, account, link.expires_at)
    return link, token


async def find_login_link(*, session: AsyncSession, token: str, now: datetime | None = None) -> ConsoleLoginLink | None:
    """The link of ``token`` if it is unused and unexpired; consumes nothing."""
    if not _plausible(token):
        return None
    link = await session.scalar(select(ConsoleLoginLink).where(ConsoleLoginLink.token_hash == hash_secret(token)))
    if link is None or link.used_at is not None or link.expires_at <= aware_now(now):
        return None
    return link


async def use_login_link(*, session: AsyncSession, token: str, now: datetime | None = None) -> ConsoleLoginLink | None:
    """Mark the link of ``token`` used, once: None if unknown, used (by this or a concurrent call) or expired."""
    if not _plausible(token):
        return None
    moment = aware_now(now)
    token_hash = hash_secret(token)
    # One conditional UPDATE: of two concurrent sign-ins with one link, only one changes the row.
    result = await session.execute(
        update(ConsoleLoginLink)
        .where(
            ConsoleLoginLink.token_hash == token_hash,
            ConsoleLoginLink.used_at.is_(None),
            ConsoleLoginLink.expires_at > moment,
        )
        .values(used_at=moment)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    link = await session.scalar(
        select(ConsoleLoginLink).where(ConsoleLoginLink.token_hash == token_hash).execution_options(populate_existing=True)
    )
    if link is not None:
        logger.info("console login link %s used by %s:%s", link.id, link.channel, link.external_id)
    return link


async def create_console_session(
    *, session: AsyncSession, channel: str, external_id: str | int, lifetime: timedelta, now: datetime | None = None
) -> tuple[ConsoleSession, str]:
    """A new session for the account and its plain id (the cookie's value), returned only here."""
    channel, account = check_account(channel, external_id)
    created = aware_now(now)
    session_id = secrets.token_urlsafe(SECRET_BYTES)
    row = ConsoleSession(
        session_hash=hash_secret(session_id),
        channel=channel,
        external_id=account,
        csrf_token=secrets.token_urlsafe(SECRET_BYTES),
        created_at=created,
        last_seen_at=created,
        expires_at=created + lifetime,
    )
    session.add(row)
    await session.flush()
    logger.info("console session %s opened for %s:%s", row.id, channel, account)
    return row, session_id


async def find_console_session(
    *, session: AsyncSession, session_id: str, now: datetime | None = None
) -> ConsoleSession | None:
    """The live session of ``session_id`` (not revoked, not expired), its last-seen time set to now."""
    if not _plausible(session_id):
        return None
    moment = aware_now(now)
    row = await session.scalar(select(ConsoleSession).where(ConsoleSession.session_hash == hash_secret(session_id)))
    if row is None or row.revoked_at is not None or row.expires_at <= moment:
        return None
    row.last_seen_at = moment
    await session.flush()
    return row


async def revoke_console_session(*, session: AsyncSession, session_id: int, now: datetime | None = None) -> bool:
    """Revoke the session with row id ``session_id``; False when it was revoked already or is unknown."""
    moment = aware_now(now)
    result = await session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.id == session_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=moment)
        .execution_options(synchronize_session=False)
    )
    revoked = result.rowcount == 1  # type: ignore[attr-defined]
    if revoked:
        logger.info("console session %s revoked", session_id)
    return revoked


async def list_console_sessions(
    *, session: AsyncSession, channel: str, external_id: str | int, now: datetime | None = None
) -> list[ConsoleSession]:
    """The account's live sessions, newest first."""
    channel, account = check_account(channel, external_id)
    moment = aware_now(now)
    return list(
        await session.scalars(
            select(ConsoleSession)
            .where(
                ConsoleSession.channel == channel,
                ConsoleSession.external_id == account,
                ConsoleSession.revoked_at.is_(None),
                ConsoleSession.expires_at > moment,
            )
            .order_by(ConsoleSession.created_at.desc(), ConsoleSession.id.desc())
        )
    )
