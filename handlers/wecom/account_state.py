"""What the WeCom channel reads about an account before it decides what a message means.

Reads only (one short read transaction each), except :meth:`AccountState.web_link`,
which may issue the unit's personal web link. Tokens are stored hashed, so a
link can be sent again only while the process remembers its plain token
(:class:`~bot.invitation_links.RememberedLinks`, 12 hours): within that time
every file question of the unit carries the same link; after a restart or
the 12 hours, one new invitation is issued for the unit.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from bot.core.catalog import bot_language
from bot.core.state import SessionState, SessionStatus
from bot.invitation_links import RememberedLinks, web_link
from storage.coordinators import is_coordinator
from storage.database import Database
from storage.invitations import find_invitation, issue_link_token
from storage.models import Response
from storage.respondents import find_respondent, list_bindings
from storage.types import utc_now


@dataclass(frozen=True, slots=True)
class Standing:
    """An account as the channel needs it: bound or not, its language, where its active response is."""

    known: bool
    bound: bool
    language: str
    unit_id: int | None = None
    #: The question waiting for an answer (``None`` in the review, after submission, or unstarted).
    current_question: str | None = None


class AccountState:
    def __init__(
        self,
        *,
        database: Database,
        channel: str,
        telegram_admin_ids: Collection[int] = (),
        links: RememberedLinks | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.database = database
        self.channel = channel
        self.telegram_admin_ids = telegram_admin_ids
        #: The units' links this process issued, sent again while remembered.
        self.links = links if links is not None else RememberedLinks()
        self.clock = clock

    async def standing(self, user_id: str) -> Standing:
        async with self.database.read() as session:
            respondent = await find_respondent(session=session, channel=self.channel, external_id=user_id)
            if respondent is None:
                return Standing(known=False, bound=False, language=bot_language(None))
            language = bot_language(respondent.language)
            bindings = await list_bindings(session=session, respondent=respondent)
            if respondent.active_response_id is None:
                return Standing(known=True, bound=bool(bindings), language=language)
            response = await session.get(Response, respondent.active_response_id)
        if response is None:
            return Standing(known=True, bound=bool(bindings), language=language)
        current: str | None = None
        if response.state is not None:
            state = SessionState.from_dict(response.state)
            if state.status is SessionStatus.ANSWERING:
                current = state.current
        return Standing(known=True, bound=True, language=language, unit_id=response.unit_id, current_question=current)

    async def invitation_exists(self, token: str) -> bool:
        async with self.database.read() as session:
            return await find_invitation(session=session, token=token) is not None

    async def is_coordinator(self, user_id: str) -> bool:
        async with self.database.read() as session:
            return await is_coordinator(
                session=session, telegram_ids=self.telegram_admin_ids, channel=self.channel, external_id=user_id
            )

    async def web_link(self, *, public_url: str, unit_id: int) -> str:
        """The unit's personal web chat link, ``{public_url}/s/{token}``: the one sent before while remembered, else a new one.

        A remembered token is sent again only while its invitation is still
        live (the coordinator may have revoked the unit's links since).
        """
        now = self.clock()
        token = self.links.recall(unit_id, now=now)
        if token is not None:
            async with self.database.read() as session:
                invitation = await find_invitation(session=session, token=token)
                live = invitation is not None and invitation.unit_id == unit_id and invitation.revoked_at is None
            if not live:
                self.links.forget(unit_id)
                token = None
        if token is None:
            async with self.database.transaction() as session:
                token = await issue_link_token(session=session, unit_id=unit_id, now=now)
            self.links.keep(unit_id, token, now=now)
        return web_link(public_url, token)
