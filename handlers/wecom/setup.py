"""The WeCom channel as the settings describe it (``SURVEYBOT_WECOM_*``), assembled from its parts.

The composition root (``surveybot run``) calls :func:`check_wecom_settings`
before anything starts, then :func:`build_wecom_channel` with the objects it
owns: the process's HTTP session, the one :class:`~handlers.wecom.pacing.MemberPacer`
it shares with the outbox transport, and the coordinator services.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiohttp import ClientSession, web

from bot.console_access import ConsoleAccess
from bot.coordination import CoordinatorService
from bot.inbox import Inbox
from bot.outreach import OutreachService
from bot.service import SurveyService
from bot.settings import Settings
from handlers.wecom.account_state import AccountState
from handlers.wecom.api import WeComApi
from handlers.wecom.callback import callback_routes
from handlers.wecom.conversation import CHANNEL, WeComConversation
from handlers.wecom.coordinator import WeComCoordinator
from handlers.wecom.crypto import CallbackCrypto
from handlers.wecom.pacing import MemberPacer
from handlers.wecom.replies import WeComReplies


class WeComSetupError(Exception):
    """The WeCom settings are incomplete or malformed; the message names the setting and how to fix it."""


def check_wecom_settings(settings: Settings) -> bool:
    """Whether the WeCom channel runs: True with all five settings, False with none, else :class:`WeComSetupError`."""
    missing = settings.wecom_missing
    if not missing:
        return True
    if len(missing) == 5:
        return False
    raise WeComSetupError(
        "the WeCom channel needs SURVEYBOT_WECOM_CORP_ID, _AGENT_ID, _SECRET, _TOKEN and _AES_KEY together; "
        f"missing: {', '.join(missing)} (企业微信管理后台: 我的企业 → 企业ID; 应用管理 → the app → AgentId, Secret, "
        "接收消息 → Token, EncodingAESKey); or unset them all to run without WeCom"
    )


def callback_crypto(settings: Settings) -> CallbackCrypto:
    """The callback crypto from the settings; a malformed key is a :class:`WeComSetupError` naming it."""
    assert settings.wecom_token is not None and settings.wecom_aes_key is not None and settings.wecom_corp_id is not None
    try:
        return CallbackCrypto(
            token=settings.wecom_token.get_secret_value(),
            encoding_aes_key=settings.wecom_aes_key.get_secret_value(),
            receiver_id=settings.wecom_corp_id,
        )
    except ValueError as error:
        raise WeComSetupError(str(error)) from None


def wecom_api(settings: Settings, session: ClientSession) -> WeComApi:
    """The server API client of the app the settings name (the channel's, or ``surveybot remind --send``'s)."""
    assert settings.wecom_corp_id is not None and settings.wecom_agent_id is not None and settings.wecom_secret is not None
    try:
        return WeComApi(
            session=session,
            corp_id=settings.wecom_corp_id,
            agent_id=settings.wecom_agent_id,
            secret=settings.wecom_secret,
            base_url=settings.wecom_api_url,
        )
    except ValueError as error:
        raise WeComSetupError(str(error)) from None


@dataclass
class WeComChannel:
    """The running channel: its inbox (recover at start, then periodically) and its routes."""

    api: WeComApi
    replies: WeComReplies
    inbox: Inbox
    conversation: WeComConversation
    routes: list[web.RouteDef]


def build_wecom_channel(
    *,
    settings: Settings,
    service: SurveyService,
    session: ClientSession,
    pacer: MemberPacer,
    coordination: CoordinatorService,
    outreach: OutreachService,
    access: ConsoleAccess,
    download_dir: Path,
) -> WeComChannel:
    crypto = callback_crypto(settings)
    api = wecom_api(settings, session)
    replies = WeComReplies(api=api, pacer=pacer)
    accounts = AccountState(
        database=service.database, channel=CHANNEL, telegram_admin_ids=settings.admin_ids, clock=service.clock
    )
    coordinator = WeComCoordinator(
        coordination=coordination, outreach=outreach, access=access, replies=replies, public_url=settings.public_url
    )
    conversation = WeComConversation(
        service=service,
        api=api,
        replies=replies,
        accounts=accounts,
        coordinator=coordinator,
        download_dir=download_dir,
        cards=settings.wecom_cards,
        public_url=settings.public_url,
    )
    inbox = Inbox(database=service.database, channel=CHANNEL, handler=conversation)
    return WeComChannel(
        api=api, replies=replies, inbox=inbox, conversation=conversation, routes=callback_routes(crypto=crypto, inbox=inbox)
    )
