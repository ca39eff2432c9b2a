"""The app's custom menu (自定义菜单): 继续填写 / 我的进度 / 帮助, three click buttons.

``surveybot wecom menu`` sets it with menu/create (创建菜单, document/path/90231:
1 to 3 buttons, type ``click`` with a ``key`` that comes back as the
``EventKey`` of the click event). The keys are what
:meth:`handlers.wecom.conversation.WeComConversation.menu_click` acts on.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from bot.core.catalog import translate


class MenuKey(StrEnum):
    CONTINUE = "surveybot_continue"
    PROGRESS = "surveybot_progress"
    HELP = "surveybot_help"


#: The buttons in menu order, each with its catalog key.
MENU: tuple[tuple[MenuKey, str], ...] = (
    (MenuKey.CONTINUE, "wecom.menu_continue"),
    (MenuKey.PROGRESS, "wecom.menu_progress"),
    (MenuKey.HELP, "wecom.menu_help"),
)


def menu_buttons(language: str = "zh") -> list[dict[str, Any]]:
    """menu/create's ``button`` list."""
    return [{"type": "click", "name": translate(language, label), "key": key.value} for key, label in MENU]
