"""The WeCom group digest: with each reminder slot, one markdown post to the coordinator's work group.

A campaign with a group robot webhook (``surveybot campaign create/set
--wecom-group-webhook``) gets, for each reminder slot (each ``reminder@…``
batch the scheduler creates, in whichever process), one markdown message in
the group: the campaign, the deadline and the units not yet submitted; then,
when the roster gives those units' mobile numbers, a short text that
@mentions them (the robot takes mention lists on text messages only,
群机器人配置说明).

**Once per slot**, with any number of processes: the digest is claimed in the
database before the post (:mod:`storage.group_digests`); a post that may work
later (45009, network) is retried by whoever finds it due; a process killed
mid-post leaves the digest failed after a lease rather than posted twice.
A slot's digest is considered for :data:`DIGEST_WINDOW` after its batch was
created: a webhook set later does not post digests of old slots.

**Limits** (群机器人配置说明): markdown content at most 4096 UTF-8 bytes (the
list of units is cut with a count of those left out), text at most 2048 (the
mention text is short); at most 20 messages a minute per robot: this process
counts its posts per robot and waits below :data:`ROBOT_PER_MINUTE`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.catalog import translate
from handlers.wecom import api as wecom_api
from handlers.wecom.outbox_rendering import DATETIME_FORMAT, utc_offset
from handlers.wecom.pacing import MemberPacer
from handlers.wecom.robot_webhook import webhook_label
from storage.campaigns import get_campaign
from storage.database import Database
from storage.group_digests import (
    FAILED,
    PENDING,
    POSTED,
    PendingUnit,
    claim_due_retries,
    claim_new_digest,
    digest_attempts,
    fail_interrupted_digests,
    finish_digest,
    pending_units,
    slots_wanting_a_digest,
)
from storage.types import utc_now

logger = logging.getLogger(__name__)

#: WeCom's group robot limits (群机器人配置说明).
ROBOT_MARKDOWN_LIMIT_BYTES = 4096
ROBOT_LIMIT_PER_MINUTE = 20
#: What this process allows itself per robot: under the limit, since other senders may share a robot.
ROBOT_PER_MINUTE = 18
#: A slot's digest is posted only this long after its reminder batch was created.
DIGEST_WINDOW = timedelta(hours=6)
#: A digest ``posting`` longer than this belongs to a process that died.
LEASE = timedelta(minutes=10)
#: Failed posts (rate limits not counted) before a digest is given up.
MAX_ATTEMPTS = 5
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30))
LANGUAGE = "zh"


@dataclass(frozen=True, slots=True)
class DigestText:
    """What a digest posts: the markdown, and the mention text with its mobiles (none: no second post)."""

    markdown: str
    mention_text: str
    mobiles: tuple[str, ...]


def compose_digest(
    *, campaign_title: str, deadline: datetime, pending: list[PendingUnit], total: int, language: str = LANGUAGE
) -> DigestText:
    """The digest of the units not yet submitted, under the robot's 4096-byte markdown limit."""
    head = [
        translate(language, "wecom_outbound.digest_title", campaign=_plain(campaign_title)),
        translate(
            language, "wecom_outbound.digest_deadline", deadline=deadline.strftime(DATETIME_FORMAT), zone=utc_offset(deadline)
        ),
        translate(language, "wecom_outbound.digest_pending", pending=len(pending), total=total),
    ]
    lines = list(head)
    listed: list[PendingUnit] = []
    for index, unit in enumerate(pending):
        line = translate(language, "wecom_outbound.digest_unit", unit=_plain(unit.name))
        left_after = len(pending) - index - 1
        # Room for this line and, if units remain after it, for the "… N more" line.
        tail = [translate(language, "wecom_outbound.digest_more", count=left_after)] if left_after else []
        if _size([*lines, line, *tail]) > ROBOT_MARKDOWN_LIMIT_BYTES:
            lines.append(translate(language, "wecom_outbound.digest_more", count=len(pending) - index))
            break
        lines.append(line)
        listed.append(unit)
    mobiles = tuple(dict.fromkeys(unit.mobile for unit in listed if unit.mobile))
    return DigestText(
        markdown="\n".join(lines),
        mention_text=translate(language, "wecom_outbound.digest_mention"),
        mobiles=mobiles,
    )


def _size(lines: list[str]) -> int:
    return len("\n".join(lines).encode("utf-8"))


def _plain(text: str) -> str:
    """A name as markdown text: the characters WeCom's markdown acts on are escaped or dropped."""
    return text.replace("<", "‹").replace(">", "›").replace("*", "＊").replace("[", "［").replace("]", "］").replace("`", "'")


class GroupDigest:
    """Posts each reminder slot's digest to the campaign's group robot (a follower of the reminder worker).

    Args:
        database: the bot's database.
        api: the WeCom client (its ``post_group_robot``); the robot needs no access_token.
        clock: the business clock (UTC datetimes), as the scheduler's.
        monotonic: seconds for the per-robot pacing.
    """

    def __init__(
        self,
        *,
        database: Database,
        api: wecom_api.WeComApi,
        clock: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        name: str | None = None,
    ) -> None:
        self.database = database
        self.api = api
        self.clock = clock
        self.name = (name or f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}")[:64]
        #: Posts per robot, counted like a member's messages (key: sha256 of the URL).
        self._robots = MemberPacer(clock=monotonic, per_minute=ROBOT_PER_MINUTE, per_hour=ROBOT_PER_MINUTE * 60)

    async def follow(self) -> int:
        """Post the digests due now; returns how many were posted by this call."""
        now = self.clock()
        async with self.database.transaction() as session:
            await fail_interrupted_digests(session=session, now=now, lease=LEASE)
        async with self.database.read() as session:
            slots = await slots_wanting_a_digest(session=session, now=now, since=now - DIGEST_WINDOW)
        taken: list[tuple[int, str]] = []
        for slot in slots:
            async with self.database.transaction() as session:
                if await claim_new_digest(
                    session=session, campaign_id=slot.campaign_id, slot_key=slot.slot_key, claimer=self.name, now=now
                ):
                    taken.append((slot.campaign_id, slot.slot_key))
        async with self.database.transaction() as session:
            taken.extend(await claim_due_retries(session=session, claimer=self.name, now=now))
        posted = 0
        for campaign_id, slot_key in taken:
            posted += await self._post(campaign_id, slot_key)
        return posted

    async def _post(self, campaign_id: int, slot_key: str) -> int:
        now = self.clock()
        async with self.database.read() as session:
            campaign = await get_campaign(session=session, campaign_id=campaign_id)
            pending, total = await pending_units(session=session, campaign_id=campaign_id)
            attempts = await digest_attempts(session=session, campaign_id=campaign_id, slot_key=slot_key)
        url = campaign.wecom_group_webhook
        if not url or not pending:
            await self._finish(
                campaign_id,
                slot_key,
                FAILED if not url else POSTED,
                error="no webhook" if not url else "every unit has submitted",
            )
            return 0
        deadline = campaign.deadline.astimezone(ZoneInfo(campaign.timezone))
        text = compose_digest(campaign_title=campaign.title, deadline=deadline, pending=pending, total=total)
        robot = hashlib.sha256(url.encode("utf-8")).hexdigest()
        posts = 2 if text.mobiles else 1
        decision = self._robots.decide(robot, count=posts)
        if not decision.send_now:
            await self._finish(
                campaign_id,
                slot_key,
                PENDING,
                retry_at=now + timedelta(seconds=decision.wait_seconds),
                error=f"robot limit: waiting {decision.wait_seconds:g} s",
            )
            return 0
        for _ in range(posts):
            self._robots.record_sent(robot)  # counted before the post: a refused post still counts at WeCom
        result = await self.api.post_group_robot(
            url, markdown=text.markdown, mentioned_mobiles=text.mobiles, mention_text=text.mention_text
        )
        label = webhook_label(url)
        match result:
            case wecom_api.Succeeded():
                await self._finish(campaign_id, slot_key, POSTED)
                logger.info(
                    "campaign %s: group digest of %s posted to %s (%d unit(s) pending)",
                    campaign_id,
                    slot_key,
                    label,
                    len(pending),
                )
                return 1
            case _ if getattr(result, "parts_delivered", 0) >= 1:
                # The digest is in the group; only the mention failed: not posted again (it would double the digest).
                await self._finish(campaign_id, slot_key, POSTED, error=f"mentions not posted: {_detail(result)}")
                logger.warning(
                    "campaign %s: group digest posted to %s, the mentions failed: %s", campaign_id, label, _detail(result)
                )
                return 1
            case wecom_api.RateLimited(retry_after=wait):
                await self._finish(campaign_id, slot_key, PENDING, retry_at=now + timedelta(seconds=wait), error=_detail(result))
            case wecom_api.Rejected():
                await self._finish(campaign_id, slot_key, FAILED, error=_detail(result))
                logger.error(
                    "campaign %s: %s refused the group digest (%s); check the webhook with "
                    "surveybot campaign set %s --wecom-group-webhook URL",
                    campaign_id,
                    label,
                    _detail(result),
                    campaign_id,
                )
            case wecom_api.Transient():
                if attempts + 1 >= MAX_ATTEMPTS:
                    await self._finish(
                        campaign_id, slot_key, FAILED, error=f"{_detail(result)} (after {attempts + 1} attempts)", count=True
                    )
                else:
                    delay = BACKOFF[min(attempts, len(BACKOFF) - 1)]
                    await self._finish(campaign_id, slot_key, PENDING, retry_at=now + delay, error=_detail(result), count=True)
        return 0

    async def _finish(
        self,
        campaign_id: int,
        slot_key: str,
        status: str,
        *,
        error: str | None = None,
        retry_at: datetime | None = None,
        count: bool = False,
    ) -> None:
        async with self.database.transaction() as session:
            await finish_digest(
                session=session,
                campaign_id=campaign_id,
                slot_key=slot_key,
                claimer=self.name,
                status=status,
                now=self.clock(),
                error=error,
                retry_at=retry_at,
                count_attempt=count,
            )


def _detail(result: wecom_api.SendResult) -> str:
    match result:
        case wecom_api.Rejected():
            return result.detail
        case wecom_api.RateLimited(errmsg=errmsg):
            return f"WeCom errcode 45009: {errmsg}"
        case wecom_api.Transient(detail=detail):
            return detail
    return "posted"
