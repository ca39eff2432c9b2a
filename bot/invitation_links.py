"""A unit's invitation links, built from its token: the web chat's and the Telegram deep link.

One token works in both channels. ``surveybot invite`` prints these links and
the console's invitations page shows them (with their QR codes); neither can
show a token again later, since storage keeps only its hash.
"""

from __future__ import annotations

from dataclasses import dataclass


def telegram_link(username: str | None, token: str) -> str:
    """The deep link that starts the bot with ``token``, or the token when no bot is named."""
    if not username:
        return token
    return f"https://t.me/{username.strip().lstrip('@')}?start={token}"


def web_link(public_url: str, token: str) -> str:
    """A unit's personal web chat link: ``{public_url}/s/{token}``."""
    return f"{public_url.rstrip('/')}/s/{token}"


def link_columns(*, public_url: str | None, bot_username: str | None, token: str) -> list[str]:
    """The LINK column (and the Telegram column when both channels are known)."""
    if public_url:
        columns = [web_link(public_url, token)]
        if bot_username:
            columns.append(telegram_link(bot_username, token))
        return columns
    return [telegram_link(bot_username, token)]


@dataclass(frozen=True, slots=True)
class UnitLinks:
    """The links of one token: the web chat's, and Telegram's when the bot's username is known."""

    web: str
    telegram: str | None


def unit_links(*, public_url: str, bot_username: str | None, token: str) -> UnitLinks:
    """Both links of ``token`` for a process that serves the web chat at ``public_url``."""
    return UnitLinks(
        web=web_link(public_url, token),
        telegram=telegram_link(bot_username, token) if bot_username else None,
    )
