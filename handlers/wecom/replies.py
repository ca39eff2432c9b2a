"""Replies to a member's own message: sent at once, counted in the per-member pacer.

WeCom drops, silently, what goes over 30 messages a minute or 1000 an hour
per app and member, so every message sent to a member is counted in one
:class:`~handlers.wecom.pacing.MemberPacer`, the same instance the outbox
transport uses for reminders and broadcasts (the composition root builds it
once). A reply does not queue behind broadcasts: it goes now, unless the
pacer says the member's budget is spent; then it waits (at most
``max_wait`` seconds) rather than go into a silent drop. A reply that still
cannot go is logged and given up: the answer it replies to is stored.

A failure WeCom or the network reports is retried a little (a busy answer, a
45009) and otherwise logged; it never raises into the inbox, whose retry
would find the update applied and show nothing anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from handlers.wecom.api import RateLimited, Rejected, SendResult, Succeeded, Transient, WeComApi
from handlers.wecom.message_split import split_text
from handlers.wecom.pacing import MemberPacer
from handlers.wecom.rendering import Outgoing, OutgoingCard, OutgoingText

logger = logging.getLogger(__name__)

#: The longest a reply waits for the member's budget (or after a 45009) before it is given up.
MAX_REPLY_WAIT_SECONDS = 60.0
#: Tries of one message when WeCom is busy or unreachable.
TRIES = 3
RETRY_PAUSE_SECONDS = 1.0


class WeComReplies:
    """Sends to members through one :class:`WeComApi`, paced by one shared :class:`MemberPacer`."""

    def __init__(
        self,
        *,
        api: WeComApi,
        pacer: MemberPacer,
        max_wait: float = MAX_REPLY_WAIT_SECONDS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.api = api
        self.pacer = pacer
        self.max_wait = max_wait
        self.sleep = sleep

    async def send(self, user: str, outgoing: list[Outgoing]) -> None:
        """Each item in order; cards remember nothing (a press carries its own key)."""
        for item in outgoing:
            if isinstance(item, OutgoingText):
                await self.send_text(user, item.text)
            else:
                assert isinstance(item, OutgoingCard)
                await self.send_card(user, item.card)

    async def send_text(self, user: str, text: str) -> bool:
        """``text`` in parts under 2048 bytes, each paced and counted; False if a part was given up."""
        for part in split_text(text):
            if not await self._paced(user, lambda part=part: self.api.send_text(user, part), what="text"):  # type: ignore[misc]
                return False
        return True

    async def send_card(self, user: str, card: Mapping[str, Any]) -> bool:
        return await self._paced(user, lambda: self.api.send_template_card(user, card), what="template card")

    async def send_file(self, user: str, path: Path) -> bool:
        """Upload ``path`` and send it as a file message (one message to the member)."""
        return await self._paced(user, lambda: self.api.send_file(user, path), what=f"file {path.name}")

    async def update_card(self, user: str, *, response_code: str, replace_name: str) -> None:
        """Turn a pressed card's buttons into ``replace_name`` (not a message: not counted)."""
        result = await self.api.update_template_card(user=user, response_code=response_code, replace_name=replace_name)
        if not isinstance(result, Succeeded):
            logger.warning("could not update a template card of %s: %s", user, _describe(result))

    async def _paced(self, user: str, call: Callable[[], Awaitable[SendResult]], *, what: str) -> bool:
        waited = 0.0
        for attempt in range(1, TRIES + 1):
            decision = self.pacer.decide(user)
            if not decision.send_now:
                if waited + decision.wait_seconds > self.max_wait:
                    logger.warning(
                        "reply (%s) to %s given up: WeCom's per-member limit allows the next in %.0f s",
                        what,
                        user,
                        decision.wait_seconds,
                    )
                    return False
                logger.info("reply (%s) to %s waits %.0f s for the per-member limit", what, user, decision.wait_seconds)
                await self.sleep(decision.wait_seconds)
                waited += decision.wait_seconds
            result = await call()
            if isinstance(result, Succeeded):
                self.pacer.record_sent(user)
                return True
            if isinstance(result, Rejected):
                logger.warning("reply (%s) to %s refused: %s", what, user, result.detail)
                return False
            pause = result.retry_after if isinstance(result, RateLimited) else RETRY_PAUSE_SECONDS * attempt
            if attempt == TRIES or waited + pause > self.max_wait:
                break
            logger.info("reply (%s) to %s failed (%s); trying again in %.0f s", what, user, _describe(result), pause)
            await self.sleep(pause)
            waited += pause
        logger.warning("reply (%s) to %s given up after %d tries: %s", what, user, attempt, _describe(result))
        return False


def _describe(result: SendResult) -> str:
    if isinstance(result, Rejected):
        return result.detail
    if isinstance(result, RateLimited):
        return f"rate limited (45009): {result.errmsg}"
    if isinstance(result, Transient):
        return result.detail
    return "ok"
