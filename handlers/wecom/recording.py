"""Callbacks recorded together: the callbacks that arrive while one record is being written share the next.

Every acknowledgement waits for its callback's record to be committed. On
SQLite all writes queue for one lock, so one transaction per callback would
put each acknowledgement behind every write before it; here the callbacks
that arrive meanwhile are written in one transaction (one commit), so under
load the acknowledgements keep well under WeCom's five seconds.
"""

from __future__ import annotations

import asyncio
import logging

from bot.inbox import Inbox
from storage.inbox import ArrivedUpdate, InboxEntry

logger = logging.getLogger(__name__)


class GroupRecorder:
    """Records callbacks in the inbox in batches; each caller gets its own entry (or none if recorded before)."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self._waiting: list[tuple[ArrivedUpdate, asyncio.Future[InboxEntry | None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, arrived: ArrivedUpdate) -> InboxEntry | None:
        """The callback's new entry, or None if its key was recorded before; raises what the database raised."""
        future: asyncio.Future[InboxEntry | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((arrived, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="wecom-inbox-records")
        return await future

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                entries = await self.inbox.record([arrived for arrived, _ in batch])
            except Exception as error:  # each waiting request answers 503; WeCom tries again
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            new = {entry.dedup_key: entry for entry in entries}
            for arrived, future in batch:
                if not future.done():
                    # The first of two same keys in one batch gets the entry; the second finds it taken.
                    future.set_result(new.pop(arrived.dedup_key, None))
