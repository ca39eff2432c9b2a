"""A WeCom group robot's webhook URL: checked when a coordinator gives it, named without its key in logs.

The robot's URL (群机器人配置说明) is
``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=<key>``; 政务微信 and
private deployments serve the same path on their own host
(``SURVEYBOT_WECOM_API_URL``). The key is the robot's only credential
("一定要保护好机器人的webhook地址"): it is stored, but never printed or logged;
:func:`webhook_label` names a robot by host and a short hash of its key.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qs, urlsplit

from handlers.wecom.api import DEFAULT_API_URL

WEBHOOK_PATH = "/cgi-bin/webhook/send"
#: The longest URL stored (campaigns.wecom_group_webhook).
MAX_WEBHOOK_LENGTH = 500
_KEY = re.compile(r"[A-Za-z0-9-]{8,128}")


class WebhookUrlError(ValueError):
    """The URL is not a group robot's webhook; the message says what is wrong and what is expected."""


def check_webhook_url(url: str, *, api_url: str | None = None) -> str:
    """``url`` as stored, or :class:`WebhookUrlError`.

    Accepted: https, the path ``/cgi-bin/webhook/send`` and exactly one
    ``key`` query parameter, on WeCom's host or on the host of ``api_url``
    (the configured API base, which may be plain http for a private
    deployment inside the network). The error never repeats the key.
    """
    text = url.strip()
    expected = f"expected {DEFAULT_API_URL}{WEBHOOK_PATH}?key=… as shown in the group's robot settings"
    if not text or len(text) > MAX_WEBHOOK_LENGTH:
        raise WebhookUrlError(f"the webhook URL is empty or longer than {MAX_WEBHOOK_LENGTH} characters; {expected}")
    parts = urlsplit(text)
    allowed = {urlsplit(DEFAULT_API_URL).netloc.lower()}
    configured = urlsplit(api_url) if api_url else None
    if configured is not None and configured.netloc:
        allowed.add(configured.netloc.lower())
    host = parts.netloc.lower()
    if host not in allowed:
        raise WebhookUrlError(f"the webhook URL's host {parts.hostname or '(none)'!r} is not WeCom's; {expected}")
    plain_http_allowed = configured is not None and configured.scheme == "http" and host == configured.netloc.lower()
    if parts.scheme != "https" and not (parts.scheme == "http" and plain_http_allowed):
        raise WebhookUrlError(f"the webhook URL must use https; {expected}")
    if parts.path != WEBHOOK_PATH or parts.fragment:
        raise WebhookUrlError(f"the webhook URL's path is not {WEBHOOK_PATH}; {expected}")
    query = parse_qs(parts.query, keep_blank_values=True)
    keys = query.get("key", [])
    if set(query) != {"key"} or len(keys) != 1 or not _KEY.fullmatch(keys[0]):
        raise WebhookUrlError(f"the webhook URL needs exactly one key=… (letters, digits, -); {expected}")
    return text


def webhook_label(url: str) -> str:
    """The robot for logs and terminal output: host and a short hash of the key, never the key."""
    parts = urlsplit(url)
    keys = parse_qs(parts.query).get("key", [""])
    digest = hashlib.sha256(keys[0].encode("utf-8")).hexdigest()[:8]
    return f"robot {digest} on {parts.hostname or '?'}"
