"""The HTTP client python-telegram-bot uses to call the Bot API: aiohttp instead of httpx.

python-telegram-bot lets an application bring its own
:class:`~telegram.request.BaseRequest`; it only needs "send this method with
these parameters (and files), return the status code and the body". We
already depend on aiohttp for the webhook server, and its C HTTP parser
makes a call cheaper than httpx's pure-Python stack (httpx, httpcore, h11,
anyio): on the development machine ``bot.send_message`` to a local server
took 0.50-0.57 ms of CPU with this class against 1.15-1.39 ms with
:class:`~telegram.request.HTTPXRequest`. A button press costs three calls
(answer the press, drop the old keyboard, ask the next question), so this
is a large part of the bot's work per update.

Behaviour matches ``HTTPXRequest``: parameters are sent form-encoded, with
files as multipart; the same default timeouts; proxies from the
``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` environment (looked up once per
host: aiohttp's own ``trust_env`` reads the environment and ``~/.netrc`` in
a thread on every call, which cost a tenth of the bot's time); timeouts raise
:class:`~telegram.error.TimedOut` and other transport failures
:class:`~telegram.error.NetworkError`. aiohttp has no separate write
timeout, so the whole call is bounded by the sum of the four.
"""

from __future__ import annotations

import logging
import urllib.request
from urllib.parse import urlsplit

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

logger = logging.getLogger(__name__)


class AiohttpRequest(BaseRequest):
    """A :class:`~telegram.request.BaseRequest` on one :class:`aiohttp.ClientSession`."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | None | object = BaseRequest.DEFAULT_NONE,
        write_timeout: float | None | object = BaseRequest.DEFAULT_NONE,
        connect_timeout: float | None | object = BaseRequest.DEFAULT_NONE,
        pool_timeout: float | None | object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        body: aiohttp.FormData | dict[str, str] | None = None
        uploads = request_data is not None and request_data.contains_files
        if request_data is not None:
            if uploads:
                body = _multipart(request_data)
            else:
                body = request_data.json_parameters
        timeout = self._timeout(
            read=_chosen(read_timeout, default=self._read_timeout),
            write=_chosen(write_timeout, default=self._media_write_timeout if uploads else self._write_timeout),
            connect=_chosen(connect_timeout, default=self._connect_timeout),
            pool=_chosen(pool_timeout, default=self._pool_timeout),
        )
        try:
            async with self._session.request(
                method, url, data=body, timeout=timeout, proxy=self._proxy_for(url)
            ) as response:
                return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error

    def _proxy_for(self, url: str) -> str | None:
        """The proxy the environment names for ``url``'s scheme and host, if any."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            proxy = urllib.request.getproxies().get(parts.scheme)
            if proxy and urllib.request.proxy_bypass(key[1]):
                proxy = None
            self._proxies[key] = proxy
            if proxy:
                logger.info("calling %s through the proxy %s", key[1], urlsplit(proxy).hostname)
        return self._proxies[key]

    @staticmethod
    def _timeout(
        *, read: float | None, write: float | None, connect: float | None, pool: float | None
    ) -> aiohttp.ClientTimeout:
        parts = (read, write, connect, pool)
        total = None if any(part is None for part in parts) else sum(part or 0.0 for part in parts)
        # aiohttp's "connect" includes waiting for a free pooled connection.
        acquire = None if connect is None or pool is None else connect + pool
        return aiohttp.ClientTimeout(total=total, connect=acquire, sock_connect=connect, sock_read=read)


def _chosen(timeout: float | None | object, *, default: float | None) -> float | None:
    """The timeout a caller passed, or ``default`` when it passed none.

    "None passed" is PTB's public sentinel :attr:`BaseRequest.DEFAULT_NONE`
    (its type lives in a private module, so it is compared by identity, as
    PTB's documentation says); an explicit ``None`` means "no timeout".
    """
    if timeout is BaseRequest.DEFAULT_NONE:
        return default
    if timeout is None or isinstance(timeout, (int, float)):
        return timeout
    raise TypeError(f"a Bot API timeout must be a number of seconds or None, got {timeout!r}")


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    # Unquoted: file names go as UTF-8, as httpx sends them; quoted, Telegram
    # would show "%E5%8D%97..." instead of 南通.
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form
