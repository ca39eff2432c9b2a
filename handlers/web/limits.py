"""Per-client rate limits for the web chat: token buckets kept in memory, per IP and per link."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WebLimits:
    """How much the web chat accepts. The defaults let a fast typist through and stop a script."""

    #: Requests per minute from one IP address (a whole office may share one), with bursts of ``ip_burst``.
    ip_per_minute: float = 600
    ip_burst: int = 120
    #: Requests per minute through one link (one unit), with bursts of ``link_burst``.
    link_per_minute: float = 300
    link_burst: int = 100
    #: Largest JSON body of an action, and largest upload.
    max_action_bytes: int = 64 * 1024
    max_upload_bytes: int = 20 * 1024 * 1024


class RateLimiter:
    """Token buckets by key; ``retry_after`` says how long until the next request passes."""

    def __init__(
        self, *, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def retry_after(self, key: str) -> int:
        """Take one request for ``key``: 0 if it may pass, else the seconds to wait."""
        now = self.clock()
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            self._forget_oldest()
            return 0
        self._buckets[key] = (tokens, now)
        return max(1, math.ceil((1 - tokens) / self.rate)) if self.rate > 0 else 60

    def _forget_oldest(self) -> None:
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
