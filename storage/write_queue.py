"""The in-process queue of SQLite writers, with a lane for the transactions an acknowledgement waits for.

SQLite has one writer at a time. Within a process, writers wait here in
arrival order instead of polling in SQLite's busy handler (whose growing
sleeps make latency spiky). One kind of writer cannot wait its turn: a
channel that records an inbound update in the durable inbox answers the
sender (WeCom's callback, Telegram's webhook) only after that record is
committed, and under load the queue is full of survey steps, each a whole
transaction with its fsync. WeCom retries a callback it has not had an
answer to in 5 s, and the delivery is then late for everyone.

So :class:`WriteQueue` has two lanes: an *urgent* writer (``async with
queue.urgent():``) goes before every ordinary one still waiting (``async
with queue:``); within a lane, arrival order. Urgent writers are short (one
INSERT of the updates that arrived). So that a burst of them (Telegram's
webhook records each delivery on its own) cannot hold the survey steps off
for long, after :data:`MAX_URGENT_IN_A_ROW` urgent writers in a row one
ordinary writer waiting goes next.

The holder hands the queue to the next waiter directly, so nobody who
arrives meanwhile can overtake a woken waiter. An urgent writer does not
interrupt a holder: a group of web answers (``storage.group_commit``) runs
its items, up to its maximum size, before the queue moves on.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType

#: Urgent writers handed the queue one after another before a waiting ordinary writer gets a turn.
MAX_URGENT_IN_A_ROW = 8


class WriteQueue:
    """A lock with an urgent lane; ``async with queue`` like :class:`asyncio.Lock`."""

    def __init__(self) -> None:
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._ordinary: deque[asyncio.Future[None]] = deque()
        #: Urgent writers handed the queue in a row while ordinary ones waited.
        self._urgent_streak = 0

    def locked(self) -> bool:
        return self._held

    @property
    def waiting(self) -> int:
        """Writers waiting in both lanes (for the tests)."""
        return sum(not waiter.done() for waiter in (*self._urgent, *self._ordinary))

    async def acquire(self, *, urgent: bool = False) -> None:
        if not self._held and not self.waiting:
            self._held = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        lane = self._urgent if urgent else self._ordinary
        lane.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed the queue, then cancelled before running: pass it on
            elif waiter in lane:  # a release may have dropped it already
                lane.remove(waiter)
            raise

    def release(self) -> None:
        if not self._held:
            raise RuntimeError("WriteQueue.release() without a holder")
        ordinary_turn = self._urgent_streak >= MAX_URGENT_IN_A_ROW
        for lane in (self._ordinary, self._urgent) if ordinary_turn else (self._urgent, self._ordinary):
            while lane:
                waiter = lane.popleft()
                if not waiter.done():
                    urgent = lane is self._urgent
                    self._urgent_streak = self._urgent_streak + 1 if urgent and self._ordinary else 0
                    waiter.set_result(None)  # still held: it passes to this waiter
                    return
        self._urgent_streak = 0
        self._held = False

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()

    @asynccontextmanager
    async def urgent(self) -> AsyncIterator[None]:
        """Hold the queue, ahead of every ordinary writer waiting."""
        await self.acquire(urgent=True)
        try:
            yield
        finally:
            self.release()
