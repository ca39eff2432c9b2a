"""Invitations: a random token, shown once, that binds one chat account to one unit.

Only the token's sha256 is stored. A unit may have several invitations (one
per person who answers for it); each is consumed by the first account that
uses it, may expire, and can be revoked.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from storage.models import CampaignStatus, Invitation, Respondent, RespondentUnit, Unit
from storage.respondents import bind_respondent, unbind_unit
from storage.rows import aware_now, require_aware, require_in_session, sha256_hex

logger = logging.getLogger(__name__)

#: Random bytes in a token: ``secrets.token_urlsafe(16)`` is 22 URL-safe
#: characters, valid in a Telegram ``/start`` deep link.
TOKEN_BYTES = 16
#: Tokens are URL-safe base64; anything longer than this is not one of ours.
TOKEN_MAX_LENGTH = 64


class InvitationRefusal(StrEnum):
    """Why a token does not let an account in."""

    UNKNOWN = "unknown"  # no such token (mistyped, truncated, or never issued)
    REVOKED = "revoked"
    EXPIRED = "expired"
    USED_BY_ANOTHER = "used_by_another"  # another account used it first
    CAMPAIGN_CLOSED = "campaign_closed"


@dataclass(frozen=True, slots=True)
class Redemption:
    """The outcome of using a token: a refusal, or the unit the account now answers for."""

    refusal: InvitationRefusal | None
    invitation: Invitation | None = None
    binding: RespondentUnit | None = None
    #: The account was not bound to the unit before.
    newly_bound: bool = False

    @property
    def accepted(self) -> bool:
        return self.refusal is None

    @property
    def unit(self) -> Unit | None:
        return self.invitation.unit if self.invitation is not None else None


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The stored form of a token: sha256 hex of its text (surrounding spaces ignored)."""
    return sha256_hex(token.strip())


async def create_invitation(
    *,
    session: AsyncSession,
    unit: Unit,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> tuple[Invitation, str]:
    """A new invitation to ``unit`` and its plain token, which is returned only here."""
    if expires_at is not None:
        require_aware(expires_at, "expires_at")
    token = new_token()
    invitation = Invitation(
        unit_id=unit.id,
        token_hash=hash_token(token),
        created_at=aware_now(now),
        expires_at=expires_at,
    )
    session.add(invitation)
    await session.flush()
    logger.info("invitation %s created for unit %s", invitation.id, unit.id)
    return invitation, token


async def issue_link_token(*, session: AsyncSession, unit_id: int, now: datetime | None = None) -> str:
    """A fresh, never-expiring invitation to the unit ``unit_id``; returns its plain token.

    For messages that carry a unit's personal link (an e-mail reminder): the
    stored tokens are hashes, so a message that needs a usable link gets a
    token of its own. The links of earlier messages keep working.
    """
    token = new_token()
    invitation = Invitation(unit_id=unit_id, token_hash=hash_token(token), created_at=aware_now(now))
    session.add(invitation)
    await session.flush()
    logger.info("invitation %s issued for a personal link of unit %s", invitation.id, unit_id)
    return token


async def find_invitation(*, session: AsyncSession, token: str) -> Invitation | None:
    """The invitation of ``token`` (unit and campaign loaded), whatever its state."""
    return await _find(session, token, for_update=False)


async def _find(session: AsyncSession, token: str, *, for_update: bool) -> Invitation | None:
    token = token.strip()
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    statement = _FIND_FOR_UPDATE if for_update else _FIND
    return await session.scalar(statement, {"token_hash": hash_token(token)})


# One query: every invitation has a unit, every unit a campaign and a response.
# Built once (it runs for every /start with a token): a reused statement keeps its cache key.
_FIND = select(Invitation).where(Invitation.token_hash == bindparam("token_hash")).options(
    joinedload(Invitation.unit, innerjoin=True).joinedload(Unit.campaign, innerjoin=True),
    joinedload(Invitation.unit, innerjoin=True).joinedload(Unit.response, innerjoin=True),
)
_FIND_FOR_UPDATE = _FIND.with_for_update(of=Invitation).execution_options(populate_existing=True)


def invitation_refusal(
    invitation: Invitation | None, *, respondent: Respondent, now: datetime
) -> InvitationRefusal | None:
    """Why ``respondent`` may not use ``invitation`` now, or None if it may.

    The account that used the invitation may use it again (a second tap on
    the same link) as long as it is not revoked.
    """
    if invitation is None:
        return InvitationRefusal.UNKNOWN
    if invitation.revoked_at is not None:
        return InvitationRefusal.REVOKED
    if invitation.used_by_respondent_id is not None:
        if invitation.used_by_respondent_id != respondent.id:
            return InvitationRefusal.USED_BY_ANOTHER
    elif invitation.expires_at is not None and invitation.expires_at <= now:
        return InvitationRefusal.EXPIRED
    if invitation.unit.campaign.status is not CampaignStatus.OPEN:
        return InvitationRefusal.CAMPAIGN_CLOSED
    return None


async def redeem_invitation(
    *,
    session: AsyncSession,
    token: str,
    respondent: Respondent,
    now: datetime | None = None,
) -> Redemption:
    """Use ``token`` for ``respondent``: bind the account to the unit, or say why not.

    The invitation row is locked (PostgreSQL) so that two accounts using the
    same token at once cannot both get in. On success the unit's response
    becomes the account's active response.
    """
    require_in_session(session, respondent, "respondent")
    moment = aware_now(now)
    invitation = await _find(session, token, for_update=True)
    refusal = invitation_refusal(invitation, respondent=respondent, now=moment)
    if refusal is not None:
        logger.info("invitation refused for respondent %s: %s", respondent.id, refusal)
        return Redemption(refusal=refusal, invitation=invitation)
    assert invitation is not None
    if invitation.used_by_respondent_id is None:
        invitation.used_by_respondent_id = respondent.id
        invitation.used_at = moment
    binding, created = await bind_respondent(
        session=session, respondent=respondent, unit=invitation.unit, invitation=invitation
    )
    respondent.active_response_id = invitation.unit.response.id
    await session.flush()
    return Redemption(refusal=None, invitation=invitation, binding=binding, newly_bound=created)


async def list_invitations(*, session: AsyncSession, unit: Unit) -> list[Invitation]:
    return list(
        await session.scalars(
            select(Invitation).where(Invitation.unit_id == unit.id).order_by(Invitation.id)
        )
    )


async def revoke_invitations(
    *,
    session: AsyncSession,
    unit: Unit,
    include_used: bool = False,
    now: datetime | None = None,
) -> list[Invitation]:
    """Revoke the unit's invitations that are not revoked yet; returns those revoked.

    By default only unused ones: people who already joined keep answering.
    With ``include_used`` the used ones are revoked too and the accounts that
    joined through them lose the unit.
    """
    moment = aware_now(now)
    statement = (
        select(Invitation)
        .where(Invitation.unit_id == unit.id, Invitation.revoked_at.is_(None))
        .order_by(Invitation.id)
        .with_for_update()
    )
    if not include_used:
        statement = statement.where(Invitation.used_by_respondent_id.is_(None))
    revoked = list(await session.scalars(statement))
    for invitation in revoked:
        invitation.revoked_at = moment
    await session.flush()
    if include_used:
        joined = [
            invitation.used_by_respondent_id
            for invitation in revoked
            if invitation.used_by_respondent_id is not None
        ]
        await unbind_unit(session=session, unit=unit, respondent_ids=joined)
    logger.info("unit %s: revoked %d invitation(s)", unit.id, len(revoked))
    return revoked
