"""A fake WeCom (企业微信) server API for end-to-end tests.

Our WeCom client (``handlers/wecom/api.py``) talks HTTP to this server exactly
as it would to ``https://qyapi.weixin.qq.com``; only WeCom is faked. The fake
serves the endpoints under ``/cgi-bin/`` that the channel uses, answers with
WeCom's JSON shapes (``errcode``/``errmsg`` in every answer), records what it
received, and has knobs for the failures the real platform produces.

Usage inside a test (runs in the test's event loop)::

    async with FakeWeCom() as wecom:
        client = WeComApi(base_url=wecom.url, corp_id=wecom.corp_id,
                          agent_id=wecom.agent_id, secret=wecom.secret, session=session)
        await client.send_text("zhangsan", "你好")
        assert wecom.texts_to("zhangsan") == ["你好"]

Where each fact comes from (developer.work.weixin.qq.com/document/path/...;
the page titles are WeCom's):

* ``GET /cgi-bin/gettoken?corpid=&corpsecret=`` -> ``{"errcode":0,"errmsg":"ok",
  "access_token":...,"expires_in":7200}``; "有效期内重复获取返回相同结果，过期后获取会返回
  新的access_token"; WeCom "可能会出于运营需要，提前使access_token失效" (获取access_token,
  91039). A wrong secret answers 40001 (不合法的secret参数), a wrong corpid 40013
  (全局错误码).
* Every other call carries ``access_token`` in the query: missing -> 41001,
  unknown or revoked -> 40014 (不合法的access_token), expired -> 42001
  (access_token已过期) (全局错误码; copies on kancloud and in WxJava's error enum).
* ``POST /cgi-bin/message/send`` (发送应用消息, 90236): ``touser``, ``msgtype``,
  ``agentid`` and the type's object; answers ``errcode``, ``errmsg``,
  ``invaliduser``, ``msgid`` and, for the interactive template cards
  (button_interaction, vote_interaction, multiple_interaction), a
  ``response_code``. A text's ``content`` is at most 2048 bytes (larger:
  45002, "content size out of limit", the code WeCom's platforms answer for
  it); markdown likewise 2048 bytes. If no recipient is valid the call fails
  with 81013. Per app and member at most 30 messages a minute and 1000 an
  hour, "超过部分会被丢弃不下发": the fake answers errcode 0 with a msgid and
  records the message in :attr:`FakeWeCom.dropped` instead of delivering it.
* A button_interaction card has at most 6 buttons (模板卡片消息, 按钮交互型).
* ``POST /cgi-bin/message/update_template_card`` (更新模版卡片消息, 94888):
  ``userids``, ``agentid``, ``response_code`` and either ``button.replace_name``
  or a whole ``template_card``; a response_code "只能使用一次" (72 hours in the
  current page, 24 in older copies; the fake does not expire codes). The
  documentation names no errcode for a spent code: the fake answers 40058
  (不合法的参数, WeCom's generic invalid-parameter code).
* ``POST /cgi-bin/media/upload?type=`` (上传临时素材, 90389): multipart/form-data
  with the file in the field ``media``; ``type`` is image, voice, video or file;
  answers ``type``, ``media_id``, ``created_at`` (a string). Sizes 5 bytes to
  20 MB for a file, 10 MB for image and video, 2 MB for voice; else 40006
  (不合法的文件大小). A bad ``type`` is 40005 (不合法的type参数).
* ``GET /cgi-bin/media/get?media_id=`` (获取临时素材, 90254): the bytes "和普通的
  http下载相同" with ``Content-Type`` and ``Content-disposition: attachment;
  filename="..."``; an unknown id answers JSON ``{"errcode": 40007, "errmsg":
  "invalid media_id"}`` (with HTTP 200).
* ``POST /cgi-bin/menu/create?agentid=`` (创建菜单, 90231): ``{"button": [...]}``
  with 1 to 3 buttons, each with up to 5 ``sub_button``; else 40016/40023
  (不合法的按钮个数 / 不合法的子菜单按钮个数).
* ``POST /cgi-bin/webhook/send?key=`` (群机器人配置说明, read in its copies on
  blog.csdn.net and cnblogs.com): text (``content`` up to 2048 bytes,
  ``mentioned_list``, ``mentioned_mobile_list``) or markdown (``content`` up
  to 4096 bytes, and no mention lists: "text/markdown类型消息支持在content中使用
  <@userid>扩展语法来@群成员", so a mention by mobile number needs a text
  message). "每个机器人发送的消息不能超过20条/分钟"; above that the fake answers
  45009 ("api freq out of limit"), the frequency errcode users report for
  the robot.

Knobs: :meth:`FakeWeCom.hold` (calls of a path wait until released),
:meth:`FakeWeCom.fail_next` (any errcode, e.g. 40014, 42001, 45009, -1,
on the next N calls of a path), :meth:`FakeWeCom.fail_http_next` (an HTTP 5xx),
:meth:`FakeWeCom.revoke_tokens` / :meth:`FakeWeCom.expire_tokens`, and an
injectable ``clock`` for the token lifetime and the rate windows.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

__all__ = [
    "DEFAULT_AGENT_ID",
    "DEFAULT_CORP_ID",
    "DEFAULT_SECRET",
    "ApiCall",
    "CardUpdate",
    "FakeWeCom",
    "Media",
    "RobotPost",
    "SentMessage",
]

_LOG = logging.getLogger(__name__)

JSON = dict[str, Any]

DEFAULT_CORP_ID = "ww_fake_corp_0001"
DEFAULT_AGENT_ID = 1000002
DEFAULT_SECRET = "fake-app-secret-do-not-log-0123456789"

TOKEN_LIFETIME = 7200
TEXT_LIMIT_BYTES = 2048
MARKDOWN_LIMIT_BYTES = 2048
ROBOT_TEXT_LIMIT_BYTES = 2048
ROBOT_MARKDOWN_LIMIT_BYTES = 4096
MEMBER_PER_MINUTE = 30
MEMBER_PER_HOUR = 1000
ROBOT_PER_MINUTE = 20
MAX_BUTTONS = 6
MEDIA_LIMITS = {"image": 10 * 1024 * 1024, "voice": 2 * 1024 * 1024, "video": 10 * 1024 * 1024,
                "file": 20 * 1024 * 1024}
MEDIA_MIN_BYTES = 5
INTERACTIVE_CARDS = frozenset({"button_interaction", "vote_interaction", "multiple_interaction"})
CARD_TYPES = INTERACTIVE_CARDS | {"text_notice", "news_notice"}
MESSAGE_TYPES = frozenset({"text", "markdown", "file", "image", "template_card"})

# WeCom's errcodes the fake answers (全局错误码).
OK = 0
BUSY = -1
INVALID_SECRET = 40001
INVALID_MEDIA_TYPE_PARAM = 40005
INVALID_FILE_SIZE = 40006
INVALID_MEDIA_ID = 40007
INVALID_MSGTYPE = 40008
INVALID_CORP_ID = 40013
INVALID_TOKEN = 40014
INVALID_BUTTON_COUNT = 40016
INVALID_SUB_BUTTON_COUNT = 40023
INVALID_AGENT_ID = 40056
INVALID_PARAMETER = 40058
TOKEN_MISSING = 41001
TOKEN_EXPIRED = 42001
EMPTY_CONTENT = 44004
CONTENT_TOO_LONG = 45002
FREQUENCY_LIMIT = 45009
NO_VALID_RECIPIENT = 81013
INVALID_WEBHOOK_KEY = 93000

_ERRMSG = {
    BUSY: "system busy",
    INVALID_SECRET: "invalid credential",
    INVALID_MEDIA_TYPE_PARAM: "invalid media type",
    INVALID_FILE_SIZE: "invalid file size",
    INVALID_MEDIA_ID: "invalid media_id",
    INVALID_MSGTYPE: "invalid message type",
    INVALID_CORP_ID: "invalid corpid",
    INVALID_TOKEN: "invalid access_token",
    INVALID_BUTTON_COUNT: "invalid button size",
    INVALID_SUB_BUTTON_COUNT: "invalid sub button size",
    INVALID_AGENT_ID: "invalid agentid",
    INVALID_PARAMETER: "invalid parameter",
    TOKEN_MISSING: "access_token missing",
    TOKEN_EXPIRED: "access_token expired",
    EMPTY_CONTENT: "empty content",
    CONTENT_TOO_LONG: "content size out of limit",
    FREQUENCY_LIMIT: "api freq out of limit",
    NO_VALID_RECIPIENT: "user & party & tag all invalid",
    INVALID_WEBHOOK_KEY: "invalid webhook url",
}


def errmsg_for(errcode: int) -> str:
    """The errmsg the fake answers with ``errcode`` (WeCom appends a hint; the fake does not)."""
    return _ERRMSG.get(errcode, "injected error")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class ApiCall:
    """One request the fake received: the path under ``/cgi-bin/``, its query and JSON body."""

    path: str
    query: dict[str, str]
    body: JSON | None


@dataclass
class SentMessage:
    """A message/send the fake accepted for one member (delivered, or dropped silently)."""

    seq: int
    user: str
    msgtype: str
    body: JSON
    msgid: str
    response_code: str | None = None
    #: The card updates applied to it, in order (the request bodies).
    updates: list[JSON] = field(default_factory=list)

    @property
    def content(self) -> str | None:
        """The text or markdown content, else None."""
        payload = self.body.get(self.msgtype)
        if isinstance(payload, dict) and isinstance(payload.get("content"), str):
            return str(payload["content"])
        return None

    @property
    def card(self) -> JSON | None:
        card = self.body.get("template_card")
        return card if isinstance(card, dict) else None

    @property
    def media_id(self) -> str | None:
        payload = self.body.get(self.msgtype)
        if isinstance(payload, dict) and isinstance(payload.get("media_id"), str):
            return str(payload["media_id"])
        return None


@dataclass(frozen=True)
class Media:
    """A file the fake holds under a media_id (uploaded by the client or added by the test)."""

    media_id: str
    type: str
    filename: str
    content: bytes
    content_type: str

    def __repr__(self) -> str:
        return f"Media({self.media_id!r}, {self.type!r}, {self.filename!r}, {len(self.content)} bytes)"


@dataclass(frozen=True)
class CardUpdate:
    """An accepted update_template_card."""

    response_code: str
    userids: tuple[str, ...]
    body: JSON


@dataclass(frozen=True)
class RobotPost:
    """A group-robot webhook post, as received."""

    key: str
    msgtype: str
    content: str
    mentioned_list: tuple[str, ...]
    mentioned_mobile_list: tuple[str, ...]


@dataclass
class _Failure:
    path: str  # under /cgi-bin/, "*" for every call but gettoken
    errcode: int
    errmsg: str
    remaining: int
    skip: int = 0  # calls of the path to let through first


@dataclass
class _HttpFailure:
    path: str
    status: int
    remaining: int
    skip: int = 0


@dataclass
class _Token:
    value: str
    issued_at: float


class _SlidingWindow:
    """Timestamps of recent events for one key, counted over a trailing window."""

    def __init__(self) -> None:
        self._events: dict[str, deque[float]] = {}

    def count(self, key: str, now: float, window: float) -> int:
        events = self._events.get(key)
        if not events:
            return 0
        return sum(1 for at in events if at > now - window)

    def record(self, key: str, now: float, keep: float) -> None:
        events = self._events.setdefault(key, deque())
        events.append(now)
        while events and events[0] <= now - keep:
            events.popleft()


# --------------------------------------------------------------------------- the server


class FakeWeCom:
    """The fake WeCom server API. Use as ``async with FakeWeCom() as wecom:``.

    Args:
        corp_id / secret / agent_id: the one self-built app the fake knows.
        members: the member userids the app may message (``None``: anyone).
        robot_keys: the group-robot webhook keys that exist (``None``: any key).
        clock: seconds, monotonic; drives the token lifetime and rate windows.
    """

    def __init__(
        self,
        *,
        corp_id: str = DEFAULT_CORP_ID,
        secret: str = DEFAULT_SECRET,
        agent_id: int = DEFAULT_AGENT_ID,
        members: Iterable[str] | None = None,
        robot_keys: Iterable[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.corp_id = corp_id
        self.secret = secret
        self.agent_id = agent_id
        self.members = None if members is None else {m.lower() for m in members}
        self.robot_keys = None if robot_keys is None else set(robot_keys)
        self.clock = clock
        self.host = host
        self.port = port

        self.calls: list[ApiCall] = []
        self.delivered: list[SentMessage] = []
        self.dropped: list[SentMessage] = []
        self.media: dict[str, Media] = {}
        self.card_updates: list[CardUpdate] = []
        self.menus: dict[int, list[JSON]] = {}
        self.robot_posts: list[RobotPost] = []
        self.tokens_issued: list[str] = []
        self.errors: list[tuple[str, int]] = []
        """``(path, errcode)`` of every error answer (injected or genuine)."""

        self._token: _Token | None = None
        self._revoked: set[str] = set()
        self._expired: set[str] = set()
        self._failures: list[_Failure] = []
        self._http_failures: list[_HttpFailure] = []
        self._member_sends = _SlidingWindow()
        self._robot_sends = _SlidingWindow()
        self._response_codes: dict[str, SentMessage] = {}
        self._seq = itertools.count(1)
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        #: Paths whose calls wait (see :meth:`hold`); set the event to let them through.
        self._holds: dict[str, asyncio.Event] = {}
        self.held: list[str] = []
        """Paths of the calls that arrived while held (in order)."""

    # ---- lifecycle

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (the client's ``base_url``)."""
        return f"http://{self.host}:{self.port}"

    def robot_url(self, key: str) -> str:
        """The group robot's webhook URL for ``key``, as WeCom shows it in the group."""
        return f"{self.url}/cgi-bin/webhook/send?key={key}"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/cgi-bin/{path:.+}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = site._server.sockets if site._server is not None else []  # type: ignore[union-attr]
        self.port = sockets[0].getsockname()[1]
        _LOG.debug("fake WeCom listening on %s", self.url)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeWeCom:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- knobs

    def fail_next(self, path: str, errcode: int, *, errmsg: str | None = None, times: int = 1,
                  after: int = 0) -> None:
        """Answer the next ``times`` calls of ``path`` (e.g. ``"message/send"``; ``"*"`` is every
        call but gettoken) with ``errcode``, after letting ``after`` calls through. An injected
        40014 or 42001 also revokes or expires the token the call presented, as the real
        platform's answer means."""
        self._failures.append(_Failure(path, errcode, errmsg or errmsg_for(errcode), times, after))

    def fail_http_next(self, path: str, status: int = 502, *, times: int = 1, after: int = 0) -> None:
        """Answer the next ``times`` calls of ``path`` (``"*"``: any), after ``after`` calls, with a
        bare HTTP ``status``."""
        self._http_failures.append(_HttpFailure(path, status, times, after))

    def hold(self, path: str) -> asyncio.Event:
        """Make calls of ``path`` wait before they are answered, until the returned event is set.

        For tests that need the bot stuck in the middle of a reply (a process
        killed while it waits for WeCom): :attr:`held` records each call that waited.
        """
        event = asyncio.Event()
        self._holds[path] = event
        return event

    def revoke_tokens(self) -> None:
        """Invalidate every token issued so far (WeCom may, "提前使access_token失效"): 40014."""
        self._revoked.update(self.tokens_issued)
        self._token = None

    def expire_tokens(self) -> None:
        """Expire every token issued so far: calls with them answer 42001."""
        self._expired.update(self.tokens_issued)
        self._token = None

    def add_media(self, content: bytes, *, filename: str = "photo.jpg", content_type: str = "image/jpeg",
                  type: str = "image") -> str:
        """Hold ``content`` under a new media_id (as if a member had sent it) and return the id."""
        media_id = f"media-{next(self._ids)}"
        self.media[media_id] = Media(media_id, type, filename, content, content_type)
        return media_id

    # ---- inspection

    def calls_to(self, path: str) -> list[ApiCall]:
        return [call for call in self.calls if call.path == path]

    @property
    def gettoken_calls(self) -> int:
        return len(self.calls_to("gettoken"))

    def messages_to(self, user: str) -> list[SentMessage]:
        """What ``user`` received (delivered, not dropped), oldest first."""
        return [m for m in self.delivered if m.user == user.lower()]

    def texts_to(self, user: str) -> list[str | None]:
        return [m.content for m in self.messages_to(user) if m.msgtype in ("text", "markdown")]

    def message_by_response_code(self, response_code: str) -> SentMessage:
        return self._response_codes[response_code]

    # ---- dispatch

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        query = dict(request.query)
        body: JSON | None = None
        if request.method == "POST" and request.content_type == "application/json":
            try:
                loaded = json.loads(await request.read())
            except (ValueError, UnicodeDecodeError):
                return self._error(path, INVALID_PARAMETER, "Warning: wrong json format.")
            body = loaded if isinstance(loaded, dict) else None
        self.calls.append(ApiCall(path, query, body))
        hold = self._holds.get(path)
        if hold is not None and not hold.is_set():
            self.held.append(path)
            await hold.wait()

        http_failure = self._take(self._http_failures, path, include_gettoken=True)
        if http_failure is not None:
            return web.Response(status=http_failure.status, text="injected HTTP failure")

        if path == "gettoken":
            return self._gettoken(query)
        if path == "webhook/send":
            return self._webhook_send(query, body)

        failure = self._take(self._failures, path, include_gettoken=False)
        if failure is not None:
            presented = query.get("access_token", "")
            if failure.errcode == INVALID_TOKEN:
                self._revoked.add(presented)
                if self._token is not None and self._token.value == presented:
                    self._token = None
            elif failure.errcode == TOKEN_EXPIRED:
                self._expired.add(presented)
                if self._token is not None and self._token.value == presented:
                    self._token = None
            return self._error(path, failure.errcode, failure.errmsg)

        token_error = self._check_token(query.get("access_token"))
        if token_error is not None:
            return self._error(path, token_error)

        if path == "message/send":
            return self._message_send(path, body)
        if path == "message/update_template_card":
            return self._update_template_card(path, body)
        if path == "media/upload":
            return await self._media_upload(path, request)
        if path == "media/get":
            return self._media_get(path, query)
        if path == "menu/create":
            return self._menu_create(path, query, body)
        return web.json_response({"errcode": 404, "errmsg": f"fake WeCom: no endpoint /cgi-bin/{path}"}, status=404)

    def _take(self, rules: list[Any], path: str, *, include_gettoken: bool) -> Any:
        for rule in rules:
            if rule.path == path or (rule.path == "*" and (include_gettoken or path != "gettoken")):
                if rule.skip > 0:
                    rule.skip -= 1
                    return None
                rule.remaining -= 1
                if rule.remaining <= 0:
                    rules.remove(rule)
                return rule
        return None

    def _ok(self, **fields: Any) -> web.Response:
        return web.json_response({"errcode": OK, "errmsg": "ok", **fields})

    def _error(self, path: str, errcode: int, errmsg: str | None = None) -> web.Response:
        self.errors.append((path, errcode))
        return web.json_response({"errcode": errcode, "errmsg": errmsg or errmsg_for(errcode)})

    # ---- access token

    def _gettoken(self, query: dict[str, str]) -> web.Response:
        failure = self._take(self._failures, "gettoken", include_gettoken=True)
        if failure is not None:
            return self._error("gettoken", failure.errcode, failure.errmsg)
        if query.get("corpid") != self.corp_id:
            return self._error("gettoken", INVALID_CORP_ID)
        if query.get("corpsecret") != self.secret:
            return self._error("gettoken", INVALID_SECRET)
        now = self.clock()
        if self._token is None or now - self._token.issued_at >= TOKEN_LIFETIME:
            self._token = _Token(f"fake-access-token-{next(self._ids)}", now)
            self.tokens_issued.append(self._token.value)
        remaining = TOKEN_LIFETIME - int(now - self._token.issued_at)
        return self._ok(access_token=self._token.value, expires_in=remaining)

    def _check_token(self, token: str | None) -> int | None:
        if not token:
            return TOKEN_MISSING
        if token in self._expired:
            return TOKEN_EXPIRED
        if token in self._revoked or token not in self.tokens_issued:
            return INVALID_TOKEN
        issued = self._token
        if issued is None or issued.value != token or self.clock() - issued.issued_at >= TOKEN_LIFETIME:
            return TOKEN_EXPIRED
        return None

    # ---- message/send

    def _message_send(self, path: str, body: JSON | None) -> web.Response:
        if body is None:
            return self._error(path, INVALID_PARAMETER, "Warning: wrong json format.")
        if body.get("agentid") != self.agent_id:
            return self._error(path, INVALID_AGENT_ID)
        msgtype = body.get("msgtype")
        if msgtype not in MESSAGE_TYPES or not isinstance(body.get(msgtype), dict):
            return self._error(path, INVALID_MSGTYPE)
        payload: JSON = body[msgtype]
        problem = self._check_message(msgtype, payload)
        if problem is not None:
            return self._error(path, *problem)
        users = [u.lower() for u in str(body.get("touser", "")).split("|") if u]
        valid = [u for u in users if self.members is None or u in self.members]
        invalid = [u for u in users if u not in valid]
        if not valid:
            return self._error(path, NO_VALID_RECIPIENT)

        msgid = f"msgid-{next(self._ids)}"
        response_code: str | None = None
        if msgtype == "template_card" and payload.get("card_type") in INTERACTIVE_CARDS:
            response_code = f"response-code-{next(self._ids)}"
        now = self.clock()
        for user in valid:
            message = SentMessage(next(self._seq), user, msgtype, body, msgid, response_code)
            key = f"{self.agent_id}:{user}"
            over_minute = self._member_sends.count(key, now, 60) >= MEMBER_PER_MINUTE
            over_hour = self._member_sends.count(key, now, 3600) >= MEMBER_PER_HOUR
            if over_minute or over_hour:
                # The real platform answers success and never delivers (document/path/90236).
                self.dropped.append(message)
                continue
            self._member_sends.record(key, now, keep=3600)
            self.delivered.append(message)
            if response_code is not None:
                self._response_codes[response_code] = message
        answer: JSON = {"invaliduser": "|".join(invalid), "msgid": msgid}
        if response_code is not None:
            answer["response_code"] = response_code
        return self._ok(**answer)

    def _check_message(self, msgtype: str, payload: JSON) -> tuple[int, str] | None:
        if msgtype in ("text", "markdown"):
            content = payload.get("content")
            if not isinstance(content, str) or not content:
                return EMPTY_CONTENT, errmsg_for(EMPTY_CONTENT)
            limit = TEXT_LIMIT_BYTES if msgtype == "text" else MARKDOWN_LIMIT_BYTES
            size = len(content.encode("utf-8"))
            if size > limit:
                return CONTENT_TOO_LONG, f"content size out of limit: {size} bytes, at most {limit}"
        elif msgtype in ("file", "image"):
            if payload.get("media_id") not in self.media:
                return INVALID_MEDIA_ID, errmsg_for(INVALID_MEDIA_ID)
        elif msgtype == "template_card":
            card_type = payload.get("card_type")
            if card_type not in CARD_TYPES:
                return INVALID_PARAMETER, f"invalid card_type {card_type!r}"
            if card_type in INTERACTIVE_CARDS and not payload.get("task_id"):
                return INVALID_PARAMETER, "task_id is required for an interactive card"
            if card_type == "button_interaction":
                buttons = payload.get("button_list")
                if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
                    return INVALID_PARAMETER, f"button_list must hold 1 to {MAX_BUTTONS} buttons"
        return None

    # ---- update_template_card

    def _update_template_card(self, path: str, body: JSON | None) -> web.Response:
        if body is None:
            return self._error(path, INVALID_PARAMETER, "Warning: wrong json format.")
        if body.get("agentid") != self.agent_id:
            return self._error(path, INVALID_AGENT_ID)
        code = body.get("response_code")
        message = self._response_codes.pop(code, None) if isinstance(code, str) else None
        if message is None:
            # Unknown, or already used: a response_code updates a card once (document/path/94888).
            return self._error(path, INVALID_PARAMETER, "invalid response_code: unknown or already used")
        button = body.get("button")
        has_button = isinstance(button, dict) and isinstance(button.get("replace_name"), str)
        if not has_button and not isinstance(body.get("template_card"), dict):
            self._response_codes[code] = message  # a refused request does not spend the code
            return self._error(path, INVALID_PARAMETER, "need button.replace_name or template_card")
        userids = tuple(str(u).lower() for u in body.get("userids") or [message.user])
        message.updates.append(body)
        self.card_updates.append(CardUpdate(code, userids, body))
        return self._ok(invaliduser=[])

    # ---- media

    async def _media_upload(self, path: str, request: web.Request) -> web.Response:
        media_type = request.query.get("type", "")
        if media_type not in MEDIA_LIMITS:
            return self._error(path, INVALID_MEDIA_TYPE_PARAM)
        if not request.content_type.startswith("multipart/"):
            return self._error(path, INVALID_PARAMETER, "media/upload takes multipart/form-data")
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                return self._error(path, INVALID_PARAMETER, "no form-data field named media")
            if isinstance(part, BodyPartReader) and part.name == "media":
                content = await part.read(decode=False)
                filename = part.filename or "file"
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                break
        if not MEDIA_MIN_BYTES <= len(content) <= MEDIA_LIMITS[media_type]:
            return self._error(path, INVALID_FILE_SIZE)
        media_id = f"media-{next(self._ids)}"
        self.media[media_id] = Media(media_id, media_type, filename, bytes(content), content_type)
        return web.json_response({"errcode": OK, "errmsg": "", "type": media_type, "media_id": media_id,
                                  "created_at": str(int(time.time()))})

    def _media_get(self, path: str, query: dict[str, str]) -> web.Response:
        media = self.media.get(query.get("media_id", ""))
        if media is None:
            return self._error(path, INVALID_MEDIA_ID)
        return web.Response(
            body=media.content,
            content_type=media.content_type,
            headers={"Content-disposition": f'attachment; filename="{media.filename}"',
                     "Cache-Control": "no-cache, must-revalidate"},
        )

    # ---- menu

    def _menu_create(self, path: str, query: dict[str, str], body: JSON | None) -> web.Response:
        if query.get("agentid") != str(self.agent_id):
            return self._error(path, INVALID_AGENT_ID)
        buttons = body.get("button") if body is not None else None
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            return self._error(path, INVALID_BUTTON_COUNT)
        for button in buttons:
            sub = button.get("sub_button") if isinstance(button, dict) else None
            if sub is not None and (not isinstance(sub, list) or not 1 <= len(sub) <= 5):
                return self._error(path, INVALID_SUB_BUTTON_COUNT)
        self.menus[self.agent_id] = buttons
        return self._ok()

    # ---- group robot

    def _webhook_send(self, query: dict[str, str], body: JSON | None) -> web.Response:
        path = "webhook/send"
        key = query.get("key", "")
        if not key or (self.robot_keys is not None and key not in self.robot_keys):
            return self._error(path, INVALID_WEBHOOK_KEY)
        failure = self._take(self._failures, path, include_gettoken=False)
        if failure is not None:
            return self._error(path, failure.errcode, failure.errmsg)
        if body is None:
            return self._error(path, INVALID_PARAMETER, "Warning: wrong json format.")
        msgtype = body.get("msgtype")
        payload = body.get(msgtype) if isinstance(msgtype, str) else None
        if msgtype not in ("text", "markdown") or not isinstance(payload, dict):
            return self._error(path, INVALID_MSGTYPE)
        content = payload.get("content")
        if not isinstance(content, str) or not content:
            return self._error(path, EMPTY_CONTENT)
        limit = ROBOT_TEXT_LIMIT_BYTES if msgtype == "text" else ROBOT_MARKDOWN_LIMIT_BYTES
        if len(content.encode("utf-8")) > limit:
            return self._error(path, CONTENT_TOO_LONG)
        now = self.clock()
        if self._robot_sends.count(key, now, 60) >= ROBOT_PER_MINUTE:
            return self._error(path, FREQUENCY_LIMIT)
        self._robot_sends.record(key, now, keep=60)
        # Mention lists belong to text messages only; markdown mentions are <@userid> in the content.
        mentions = tuple(payload.get("mentioned_list") or ()) if msgtype == "text" else ()
        mobiles = tuple(payload.get("mentioned_mobile_list") or ()) if msgtype == "text" else ()
        self.robot_posts.append(RobotPost(key, msgtype, content, mentions, mobiles))
        return self._ok()

