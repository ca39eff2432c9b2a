"""The access log without credentials: a link's token never reaches a log line."""

from __future__ import annotations

import re

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

#: ``/s/<token>`` and ``/s/<token>/...``: the segment after ``/s/`` is a credential (assets excepted);
#: so is the one after ``/admin/login/`` (the coordinator console's one-time sign-in links).
TOKEN_PATH = re.compile(r"^(/s/(?!assets/)|/admin/login/)[^/?#]+")


def redact(path: str) -> str:
    """``path`` with a link's or a console sign-in link's token replaced by ``<token>``."""
    return TOKEN_PATH.sub(r"\1<token>", path)


class RedactingAccessLogger(AbstractAccessLogger):
    """aiohttp's access log line (address, method, path, status, size, time) with tokens redacted; no query string."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %d %d %.3fs',
            request.remote,
            request.method,
            redact(request.path),
            response.status,
            response.body_length,
            time,
        )
