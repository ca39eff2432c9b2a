"""The WeCom server API as our channel uses it: one self-built app's access_token, sends, cards, media, menu.

Every call answers with a typed result and never raises for what WeCom or the
network does: :class:`Succeeded` (with the message ids, media id or card
response code), :class:`RateLimited` (errcode 45009, with a suggested wait),
:class:`Rejected` (a permanent errcode, unknown ones included, with errcode and
errmsg) or :class:`Transient` (network trouble, HTTP 5xx, errcode -1 "system
busy", a token WeCom keeps refusing). Downloads answer :class:`MediaDownloaded`
or :class:`MediaTooLarge` instead of success. Bugs (an empty text, a missing
file) still raise.

The access_token (获取access_token, developer.work.weixin.qq.com/document/path/91039)
lasts ``expires_in`` seconds (7200); WeCom asks to cache it and to fetch a new
one when it is refused, since it "可能会出于运营需要，提前使access_token失效". The
client caches it, fetches a new one :data:`TOKEN_REFRESH_MARGIN` seconds before
it expires, and on 40014 (invalid) or 42001 (expired) fetches a new one and
retries the call once. Concurrent callers wait for one shared fetch.

Secrets: the app secret, the access_token and a group robot's webhook key
("一定要保护好机器人的webhook地址") travel in query strings, so nothing here logs a
URL or a query; exception texts are redacted before they are logged or
returned. See ``tests/fakes/wecom.py`` for where each API fact was checked.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout
from pydantic import SecretStr

from handlers.wecom.message_split import TEXT_LIMIT_BYTES, split_text

logger = logging.getLogger(__name__)

#: WeCom's own API base; 政务微信 and private deployments set ``SURVEYBOT_WECOM_API_URL``.
DEFAULT_API_URL = "https://qyapi.weixin.qq.com"
#: Fetch a new access_token this many seconds before the cached one expires.
TOKEN_REFRESH_MARGIN = 300.0
#: What :class:`RateLimited` suggests waiting: WeCom gives no retry-after, and its
#: per-member and group-robot windows are a minute long.
RATE_LIMIT_WAIT_SECONDS = 60.0
#: The most of a JSON answer we read; WeCom's answers are a few hundred bytes.
MAX_JSON_ANSWER_BYTES = 1024 * 1024
#: A markdown message's ``content`` limit in UTF-8 bytes (发送应用消息, markdown消息).
MARKDOWN_LIMIT_BYTES = 2048

# errcodes with a meaning for the client (WeCom's 全局错误码 table).
ERRCODE_OK = 0
ERRCODE_BUSY = -1
ERRCODE_INVALID_TOKEN = 40014
ERRCODE_TOKEN_EXPIRED = 42001
ERRCODE_RATE_LIMITED = 45009
ERRCODE_NO_VALID_RECIPIENT = 81013
_TOKEN_REFUSED = frozenset({ERRCODE_INVALID_TOKEN, ERRCODE_TOKEN_EXPIRED})

_SECRET_QUERY_VALUE = re.compile(r"(?i)\b(access_token|corpsecret|key)=[^&\s\"'<>]*")

JSON = dict[str, Any]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Succeeded:
    """WeCom accepted the call.

    ``message_ids``: one msgid per message sent (a long text is several);
    ``media_id``: the uploaded file's id; ``response_code``: what
    :meth:`WeComApi.update_template_card` needs for an interactive card.
    """

    message_ids: tuple[str, ...] = ()
    media_id: str | None = None
    response_code: str | None = None


@dataclass(frozen=True)
class MediaDownloaded:
    """The bytes behind a media_id, with the type and file name WeCom gave them."""

    content: bytes
    content_type: str
    filename: str | None


@dataclass(frozen=True)
class MediaTooLarge:
    """The media is larger than the caller allowed; nothing beyond the limit was read."""

    limit_bytes: int
    size_bytes: int | None  # from Content-Length, when WeCom sent one


@dataclass(frozen=True)
class RateLimited:
    """WeCom answered 45009: slow down, try again after ``retry_after`` seconds.

    ``parts_delivered``: how many parts of a multi-part send went out before (a
    retry should start after them).
    """

    retry_after: float
    errmsg: str
    parts_delivered: int = 0


@dataclass(frozen=True)
class Rejected:
    """WeCom refused the call for good (retrying the same request will not help)."""

    errcode: int
    errmsg: str
    parts_delivered: int = 0

    @property
    def detail(self) -> str:
        return f"WeCom errcode {self.errcode}: {self.errmsg}"


@dataclass(frozen=True)
class Transient:
    """The call may have failed for a passing reason (network, 5xx, busy): retry later."""

    detail: str
    parts_delivered: int = 0


Failure = RateLimited | Rejected | Transient
SendResult = Succeeded | Failure
DownloadResult = MediaDownloaded | MediaTooLarge | Failure


@dataclass(frozen=True)
class _Answer:
    """An HTTP answer as read (at most the cap)."""

    status: int
    content_type: str
    headers: Mapping[str, str]
    body: bytes
    truncated: bool
    content_length: int | None


@dataclass(frozen=True)
class _Multipart:
    """A multipart/form-data body, built once so that a retry can send it again."""

    body: bytes
    content_type: str


@dataclass
class _CachedToken:
    value: str
    refresh_at: float  # on the client's monotonic clock


# --------------------------------------------------------------------------- the client


class WeComApi:
    """One WeCom self-built app (自建应用), spoken to over HTTP.

    Args:
        session: the aiohttp session to use (owned by the caller).
        corp_id / agent_id / secret: the app's CorpID, AgentId and Secret
            (``SURVEYBOT_WECOM_CORP_ID``, ``_AGENT_ID``, ``_SECRET``).
        base_url: the API base (``SURVEYBOT_WECOM_API_URL``).
        clock: monotonic seconds, for the token's lifetime (a fake in tests).
        timeout_seconds: the whole of one HTTP request.
    """

    def __init__(
        self,
        *,
        session: ClientSession,
        corp_id: str,
        agent_id: int,
        secret: SecretStr | str,
        base_url: str = DEFAULT_API_URL,
        clock: Callable[[], float] = time.monotonic,
        timeout_seconds: float = 10.0,
    ) -> None:
        if not corp_id:
            raise ValueError("WeComApi: corp_id is empty; set SURVEYBOT_WECOM_CORP_ID (我的企业 → 企业信息 → 企业ID)")
        self._secret = secret if isinstance(secret, SecretStr) else SecretStr(secret)
        if not self._secret.get_secret_value():
            raise ValueError("WeComApi: secret is empty; set SURVEYBOT_WECOM_SECRET (应用管理 → the app → Secret)")
        self._session = session
        self._corp_id = corp_id
        self._agent_id = agent_id
        self._base_url = base_url.rstrip("/")
        self._clock = clock
        self._timeout = ClientTimeout(total=timeout_seconds)
        self._token: _CachedToken | None = None
        self._token_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"WeComApi(corp_id={self._corp_id!r}, agent_id={self._agent_id}, base_url={self._base_url!r})"

    # ---- sending

    async def send_text(self, user: str, text: str) -> SendResult:
        """``text`` to ``user``, split at line boundaries into messages under 2048 bytes.

        The parts go in order, each after the previous one was accepted; on a
        failure the rest are not sent, and the failure's ``parts_delivered``
        says how many went out.
        """
        parts = split_text(text, limit_bytes=TEXT_LIMIT_BYTES)
        if not parts:
            raise ValueError(f"send_text to {user!r}: the text is empty; WeCom refuses empty messages")
        message_ids: list[str] = []
        for part in parts:
            result = await self._send_message(user, "text", {"content": part})
            if not isinstance(result, Succeeded):
                return _with_parts_delivered(result, len(message_ids))
            message_ids.extend(result.message_ids)
        return Succeeded(message_ids=tuple(message_ids))

    async def send_markdown(self, user: str, markdown: str) -> SendResult:
        """One markdown message (WeCom's subset; at most 2048 bytes) to ``user``."""
        if not markdown.strip():
            raise ValueError(f"send_markdown to {user!r}: the markdown is empty")
        size = len(markdown.encode("utf-8"))
        if size > MARKDOWN_LIMIT_BYTES:
            raise ValueError(
                f"send_markdown to {user!r}: {size} bytes, WeCom takes at most {MARKDOWN_LIMIT_BYTES}; "
                "shorten it or send it with send_text, which splits"
            )
        return await self._send_message(user, "markdown", {"content": markdown})

    async def send_file(self, user: str, path: Path) -> SendResult:
        """Upload ``path`` (media/upload, type file) and send it to ``user`` as a file message.

        The file name WeCom shows is ``path.name``. ``Succeeded.media_id`` is the
        upload's id (valid three days).
        """
        content = path.read_bytes()
        uploaded = await self.upload_media(content, filename=path.name, media_type="file")
        if not isinstance(uploaded, Succeeded) or uploaded.media_id is None:
            return uploaded
        sent = await self._send_message(user, "file", {"media_id": uploaded.media_id})
        if not isinstance(sent, Succeeded):
            return sent
        return Succeeded(message_ids=sent.message_ids, media_id=uploaded.media_id)

    async def send_template_card(self, user: str, card: Mapping[str, Any]) -> SendResult:
        """A template card (``card`` is the ``template_card`` object) to ``user``.

        For the interactive types (button_interaction, vote_interaction,
        multiple_interaction) ``Succeeded.response_code`` is what
        :meth:`update_template_card` needs, once, within 72 hours.
        """
        return await self._send_message(user, "template_card", dict(card))

    async def update_template_card(
        self,
        *,
        user: str,
        response_code: str,
        replace_name: str | None = None,
        card: Mapping[str, Any] | None = None,
    ) -> SendResult:
        """Update the card behind ``response_code`` for ``user``: its buttons' text, or the whole card.

        Give exactly one of ``replace_name`` (the buttons become unclickable and
        show it) and ``card`` (a new ``template_card``). WeCom accepts one update
        per response_code; a second is :class:`Rejected`.
        """
        if (replace_name is None) == (card is None):
            raise ValueError("update_template_card: give exactly one of replace_name and card")
        body: JSON = {"userids": [user], "agentid": self._agent_id, "response_code": response_code}
        if replace_name is not None:
            body["button"] = {"replace_name": replace_name}
        else:
            body["template_card"] = dict(card or {})
        answer = await self._call_json("message/update_template_card", json_body=body)
        if isinstance(answer, dict):
            return Succeeded()
        return answer

    async def create_menu(self, buttons: Sequence[Mapping[str, Any]]) -> SendResult:
        """Set the app's custom menu (menu/create): ``buttons`` is WeCom's ``button`` list."""
        answer = await self._call_json(
            "menu/create", params={"agentid": str(self._agent_id)}, json_body={"button": [dict(b) for b in buttons]}
        )
        if isinstance(answer, dict):
            return Succeeded()
        return answer

    # ---- media

    async def upload_media(self, content: bytes, *, filename: str, media_type: str = "file",
                           content_type: str = "application/octet-stream") -> SendResult:
        """Upload ``content`` as temporary media (media/upload); ``Succeeded.media_id`` is its id."""

        form = _multipart_media(content, filename=filename, content_type=content_type)
        answer = await self._call_json("media/upload", params={"type": media_type}, form=form)
        if not isinstance(answer, dict):
            return answer
        media_id = answer.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            return Transient(detail="media/upload answered errcode 0 without a media_id")
        return Succeeded(media_id=media_id)

    async def download_media(self, media_id: str, *, max_bytes: int) -> DownloadResult:
        """The bytes behind ``media_id`` (media/get), refusing anything over ``max_bytes``.

        WeCom answers the file itself, or a JSON error (e.g. 40007 for an unknown
        or expired id) with HTTP 200; the two are told apart by Content-Type.
        """
        answer = await self._call("GET", "media/get", params={"media_id": media_id}, max_bytes=max_bytes)
        if not isinstance(answer, _Answer):
            return answer
        if answer.content_type == "application/json" or answer.content_type.startswith("text/plain"):
            payload = _parse_json(answer)
            if isinstance(payload, dict):
                classified = self._classify("media/get", payload)
                if not isinstance(classified, dict):
                    return classified
            return Transient(detail="media/get answered JSON that is not an error")
        if answer.truncated:
            logger.warning("WeCom media/get: media %s is over the %d-byte limit; not read", media_id, max_bytes)
            return MediaTooLarge(limit_bytes=max_bytes, size_bytes=answer.content_length)
        return MediaDownloaded(
            content=answer.body,
            content_type=answer.content_type or "application/octet-stream",
            filename=_filename_from(answer.headers.get("Content-Disposition")),
        )

    # ---- group robot

    async def post_group_robot(
        self,
        webhook_url: str,
        *,
        markdown: str,
        mentioned_mobiles: Sequence[str] = (),
        mention_text: str = "",
    ) -> SendResult:
        """Post ``markdown`` to a work group through its robot; then mention members by mobile number.

        WeCom's robot takes mention lists (``mentioned_mobile_list``) only on
        text messages, so with ``mentioned_mobiles`` a second post follows: a
        text ``mention_text`` (required then) that mentions them. A failure of
        the second says ``parts_delivered=1``. The webhook URL holds the robot's
        key, a secret: it is never logged.
        """
        if not markdown.strip():
            raise ValueError("post_group_robot: the markdown is empty")
        if mentioned_mobiles and not mention_text.strip():
            raise ValueError("post_group_robot: mentioned_mobiles need a mention_text to carry them")
        first = await self._post_robot(webhook_url, {"msgtype": "markdown", "markdown": {"content": markdown}})
        if not isinstance(first, Succeeded) or not mentioned_mobiles:
            return first
        second = await self._post_robot(
            webhook_url,
            {"msgtype": "text", "text": {"content": mention_text, "mentioned_mobile_list": list(mentioned_mobiles)}},
        )
        if not isinstance(second, Succeeded):
            return _with_parts_delivered(second, 1)
        return Succeeded()

    async def _post_robot(self, webhook_url: str, body: JSON) -> SendResult:
        answer = await self._request("POST", webhook_url, "webhook/send", json_body=body,
                                     max_bytes=MAX_JSON_ANSWER_BYTES)
        if not isinstance(answer, _Answer):
            return answer
        payload = _parse_json(answer)
        if not isinstance(payload, dict):
            return payload
        classified = self._classify("webhook/send", payload)
        return Succeeded() if isinstance(classified, dict) else classified

    # ---- plumbing

    async def _send_message(self, user: str, msgtype: str, payload: JSON) -> SendResult:
        body: JSON = {"touser": user, "msgtype": msgtype, "agentid": self._agent_id, msgtype: payload}
        answer = await self._call_json("message/send", json_body=body)
        if not isinstance(answer, dict):
            return answer
        invalid = [u for u in str(answer.get("invaliduser") or "").split("|") if u]
        if invalid:
            # WeCom sends to the valid recipients and names the rest; ours is the only one.
            logger.warning("WeCom message/send: %s is not a valid recipient of this app", user)
            return Rejected(errcode=ERRCODE_NO_VALID_RECIPIENT, errmsg=f"invaliduser: {'|'.join(invalid)}")
        msgid = answer.get("msgid")
        response_code = answer.get("response_code")
        return Succeeded(
            message_ids=(str(msgid),) if msgid else (),
            response_code=str(response_code) if response_code else None,
        )

    async def _call_json(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: JSON | None = None,
        form: _Multipart | None = None,
    ) -> JSON | Failure:
        """POST to ``/cgi-bin/{path}`` with the token; the JSON answer if errcode is 0, else the failure."""
        answer = await self._call("POST", path, params=params, json_body=json_body, form=form,
                                  max_bytes=MAX_JSON_ANSWER_BYTES)
        if not isinstance(answer, _Answer):
            return answer
        payload = _parse_json(answer)
        if not isinstance(payload, dict):
            return payload
        return self._classify(path, payload)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        max_bytes: int,
        params: Mapping[str, str] | None = None,
        json_body: JSON | None = None,
        form: _Multipart | None = None,
    ) -> _Answer | Failure:
        """One authenticated call; on 40014/42001 a new token and one retry."""
        token = await self._access_token(stale=None)
        if not isinstance(token, str):
            return token
        url = f"{self._base_url}/cgi-bin/{path}"
        for attempt in (1, 2):
            answer = await self._request(
                method, url, path, params={**(params or {}), "access_token": token},
                json_body=json_body, form=form, max_bytes=max_bytes,
            )
            if not isinstance(answer, _Answer):
                return answer
            refused = _token_refusal(answer)
            if refused is None:
                return answer
            if attempt == 2:
                logger.warning("WeCom %s: a fresh access_token was refused too (errcode %d)", path, refused)
                return Transient(detail=f"WeCom refused a fresh access_token (errcode {refused}) on {path}")
            logger.info("WeCom %s: access_token refused (errcode %d); fetching a new one", path, refused)
            token = await self._access_token(stale=token)
            if not isinstance(token, str):
                return token
        raise AssertionError("unreachable")  # pragma: no cover

    async def _access_token(self, *, stale: str | None) -> str | Failure:
        """The cached token, or a new one if it is due or ``stale`` (one fetch for all waiters)."""
        async with self._token_lock:
            cached = self._token
            # A caller that saw a token refused passes it as stale; if another caller has
            # replaced it meanwhile, the new one is used without a second fetch.
            if cached is not None and cached.value != stale and self._clock() < cached.refresh_at:
                return cached.value
            return await self._fetch_token()

    async def _fetch_token(self) -> str | Failure:
        answer = await self._request(
            "GET", f"{self._base_url}/cgi-bin/gettoken", "gettoken",
            params={"corpid": self._corp_id, "corpsecret": self._secret.get_secret_value()},
            max_bytes=MAX_JSON_ANSWER_BYTES,
        )
        if not isinstance(answer, _Answer):
            return answer
        payload = _parse_json(answer)
        if not isinstance(payload, dict):
            return payload
        classified = self._classify("gettoken", payload)
        if not isinstance(classified, dict):
            if isinstance(classified, Rejected):
                logger.error(
                    "WeCom gettoken refused (errcode %d: %s): check SURVEYBOT_WECOM_CORP_ID and SURVEYBOT_WECOM_SECRET",
                    classified.errcode, classified.errmsg,
                )
            return classified
        value = classified.get("access_token")
        expires_in = classified.get("expires_in")
        if not isinstance(value, str) or not value or not isinstance(expires_in, int) or expires_in <= 0:
            return Transient(detail="gettoken answered errcode 0 without an access_token and expires_in")
        now = self._clock()
        # Refresh early; a token with less than the margin left (WeCom repeats a valid
        # token with its remaining lifetime) is used to its end rather than re-fetched on every call.
        lifetime = expires_in - TOKEN_REFRESH_MARGIN if expires_in > 2 * TOKEN_REFRESH_MARGIN else expires_in
        self._token = _CachedToken(value=value, refresh_at=now + lifetime)
        logger.debug("WeCom access_token fetched; valid %d s", expires_in)
        return value

    async def _request(
        self,
        method: str,
        url: str,
        label: str,
        *,
        max_bytes: int,
        params: Mapping[str, str] | None = None,
        json_body: JSON | None = None,
        form: _Multipart | None = None,
    ) -> _Answer | Transient:
        """One HTTP exchange; network trouble and 5xx become :class:`Transient`. ``label`` names it in logs."""
        try:
            async with self._session.request(
                method, url, params=params, json=json_body, timeout=self._timeout,
                data=form.body if form is not None else None,
                headers={"Content-Type": form.content_type} if form is not None else None,
            ) as response:
                content_length = response.content_length
                body = bytearray()
                if content_length is None or content_length <= max_bytes:
                    # Read one byte past the cap at most: enough to know it is over, no more.
                    while len(body) <= max_bytes:
                        chunk = await response.content.read(max_bytes + 1 - len(body))
                        if not chunk:
                            break
                        body += chunk
                truncated = len(body) > max_bytes or (content_length is not None and content_length > max_bytes)
                answer = _Answer(
                    status=response.status,
                    content_type=response.content_type,
                    headers={k: v for k, v in response.headers.items()},
                    body=bytes(body[:max_bytes]),
                    truncated=truncated,
                    content_length=content_length,
                )
        except (ClientError, TimeoutError) as exc:
            detail = f"{label}: {type(exc).__name__}: {_redact(str(exc))}"
            logger.warning("WeCom %s", detail)
            return Transient(detail=detail)
        if answer.status >= 500:
            logger.warning("WeCom %s: HTTP %d", label, answer.status)
            return Transient(detail=f"{label}: HTTP {answer.status}")
        return answer

    def _classify(self, path: str, payload: JSON) -> JSON | Failure:
        """errcode 0 -> the payload; 45009 -> RateLimited; -1 -> Transient; any other -> Rejected."""
        errcode = payload.get("errcode", ERRCODE_OK)
        errmsg = _redact(str(payload.get("errmsg", "")))
        if not isinstance(errcode, int):
            return Transient(detail=f"{path}: errcode is not a number: {errcode!r}")
        if errcode == ERRCODE_OK:
            return payload
        if errcode == ERRCODE_RATE_LIMITED:
            logger.warning("WeCom %s: rate limited (errcode 45009: %s)", path, errmsg)
            return RateLimited(retry_after=RATE_LIMIT_WAIT_SECONDS, errmsg=errmsg)
        if errcode == ERRCODE_BUSY:
            logger.warning("WeCom %s: system busy (errcode -1: %s)", path, errmsg)
            return Transient(detail=f"{path}: WeCom busy (errcode -1: {errmsg})")
        logger.warning("WeCom %s: refused with errcode %d: %s", path, errcode, errmsg)
        return Rejected(errcode=errcode, errmsg=errmsg)


# --------------------------------------------------------------------------- helpers


def _parse_json(answer: _Answer) -> JSON | Transient:
    if answer.truncated:
        return Transient(detail=f"an answer over {MAX_JSON_ANSWER_BYTES} bytes where JSON was expected")
    try:
        payload = json.loads(answer.body)
    except (ValueError, UnicodeDecodeError):
        return Transient(detail=f"HTTP {answer.status}: the answer is not JSON ({answer.content_type or 'no type'})")
    if not isinstance(payload, dict):
        return Transient(detail=f"HTTP {answer.status}: the JSON answer is not an object")
    return payload


def _token_refusal(answer: _Answer) -> int | None:
    """40014 or 42001 if the answer is a JSON error saying the token was refused, else None."""
    if answer.truncated or not (answer.content_type == "application/json" or answer.content_type.startswith("text/")):
        return None
    try:
        payload = json.loads(answer.body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(payload, dict) and payload.get("errcode") in _TOKEN_REFUSED:
        return int(payload["errcode"])
    return None


def _with_parts_delivered(failure: Failure, parts: int) -> Failure:
    if isinstance(failure, RateLimited):
        return RateLimited(retry_after=failure.retry_after, errmsg=failure.errmsg, parts_delivered=parts)
    if isinstance(failure, Rejected):
        return Rejected(errcode=failure.errcode, errmsg=failure.errmsg, parts_delivered=parts)
    return Transient(detail=failure.detail, parts_delivered=parts)


def _multipart_media(content: bytes, *, filename: str, content_type: str) -> _Multipart:
    """The form media/upload takes: one part named ``media`` with filename and filelength.

    Built by hand because WeCom shows the ``filename`` to the recipient as is:
    it must be the UTF-8 name (as browsers send it), not aiohttp's
    percent-encoding, which WeCom would show as ``%E5%8D%97...``. Quotes and line
    breaks are escaped the way browsers do (HTML's multipart/form-data rules).
    """
    boundary = f"surveybot-{secrets.token_hex(16)}"
    safe_name = filename.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="media"; filename="{safe_name}"; filelength={len(content)}\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return _Multipart(body=head + content + tail, content_type=f"multipart/form-data; boundary={boundary}")


def _filename_from(disposition: str | None) -> str | None:
    if not disposition:
        return None
    match = re.search(r'filename="?([^";]+)"?', disposition)
    return match.group(1) if match else None


def _redact(text: str) -> str:
    """``text`` with the values of access_token, corpsecret and key query parameters removed."""
    return _SECRET_QUERY_VALUE.sub(lambda m: f"{m.group(1)}=***", text)
