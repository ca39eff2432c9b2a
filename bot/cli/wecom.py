"""``surveybot wecom menu``: set the WeCom app's custom menu (继续填写 / 我的进度 / 帮助).

Needs the five ``SURVEYBOT_WECOM_*`` settings (and ``SURVEYBOT_WECOM_API_URL``
for 政务微信 or a private deployment). The menu's click keys are what the
channel acts on (``handlers/wecom/menu.py``); run it once after creating the
app, or again after changing the app.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.cli import CommandError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "wecom",
        help="set up the WeCom (企业微信) app",
        description="Set up the WeCom app: `surveybot wecom menu` creates its menu (继续填写 / 我的进度 / 帮助).",
    )
    actions = parser.add_subparsers(dest="wecom_command", metavar="menu")
    menu = actions.add_parser("menu", help="create the app's menu: 继续填写 / 我的进度 / 帮助")
    menu.add_argument("--language", choices=("zh", "en"), default="zh", help="the menu's language (default zh)")
    menu.set_defaults(handler=handle_menu)
    parser.set_defaults(handler=lambda args: (parser.print_help(), 2)[1])


def handle_menu(args: argparse.Namespace) -> int:
    from bot.settings import SettingsError, load_settings
    from handlers.wecom.setup import WeComSetupError, check_wecom_settings

    try:
        settings = load_settings()
        enabled = check_wecom_settings(settings)
    except (SettingsError, WeComSetupError) as error:
        raise CommandError(str(error), exit_code=2) from None
    if not enabled:
        raise CommandError(
            "the WeCom settings are not set: SURVEYBOT_WECOM_CORP_ID, _AGENT_ID, _SECRET, _TOKEN and _AES_KEY", exit_code=2
        )
    return asyncio.run(_create_menu(settings, args.language))


async def _create_menu(settings: Any, language: str) -> int:
    import aiohttp

    from handlers.wecom.api import Succeeded, WeComApi
    from handlers.wecom.menu import menu_buttons

    async with aiohttp.ClientSession() as session:
        api = WeComApi(
            session=session,
            corp_id=settings.wecom_corp_id,
            agent_id=settings.wecom_agent_id,
            secret=settings.wecom_secret,
            base_url=settings.wecom_api_url,
        )
        buttons = menu_buttons(language)
        result = await api.create_menu(buttons)
    if not isinstance(result, Succeeded):
        detail = getattr(result, "detail", None) or getattr(result, "errmsg", "")
        raise CommandError(
            f"WeCom refused the menu ({detail}); check SURVEYBOT_WECOM_AGENT_ID and _SECRET "
            "(the app's own Secret, not the contacts secret)"
        )
    print("menu set: " + " / ".join(button["name"] for button in buttons))
    return 0
