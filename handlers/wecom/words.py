"""What a typed WeCom message means: a navigation word, a command, a binding, or an answer.

The words are those the numbered text offers (上一题, 跳过, 查看, 提交, 重写,
完成, 沿用上次, 继续) and their English forms, and the slash commands the
other channels know (``/back``, ``/skip``, ``/review``, ``/submit``,
``/clear``, ``/done``, ``/same``, ``/resume``, ``/cancel``, ``/start``,
``/help``, ``/unit``, ``/lang``). Everything else is an answer: the engine
reads typed numbers ("2", "1 3") as choices itself.

Coordinator commands (状态, 导出, 提醒, 登录, 确认 N, 取消 N and their slash
forms) are recognised here too; the channel treats the Chinese words as
commands only for a coordinator, so a respondent's answer "状态" stays an
answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.core.actions import (
    Action,
    Back,
    ClearDraft,
    Finish,
    Pause,
    Resume,
    SetLanguage,
    ShowReview,
    Skip,
    Submit,
    UsePrevious,
)

#: An invitation token as ``surveybot invite`` prints it (``secrets.token_urlsafe(16)``: 22 characters).
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,64}")
_TRAILING = "。.!！?？ "

#: Typed words (case-insensitive) and the action each means.
NAVIGATION: dict[str, type] = {
    "上一题": Back,
    "返回": Back,
    "back": Back,
    "/back": Back,
    "跳过": Skip,
    "skip": Skip,
    "/skip": Skip,
    "查看": ShowReview,
    "查看全部": ShowReview,
    "review": ShowReview,
    "/review": ShowReview,
    "提交": Submit,
    "submit": Submit,
    "/submit": Submit,
    "重写": ClearDraft,
    "清空重写": ClearDraft,
    "clear": ClearDraft,
    "/clear": ClearDraft,
    "完成": Finish,
    "done": Finish,
    "/done": Finish,
    "沿用上次": UsePrevious,
    "same": UsePrevious,
    "/same": UsePrevious,
    "继续": Resume,
    "继续填写": Resume,
    "resume": Resume,
    "/resume": Resume,
    "暂停": Pause,
    "/cancel": Pause,
}
HELP_WORDS = frozenset({"帮助", "help", "/help", "?", "？"})
START_WORDS = frozenset({"/start", "开始"})
BIND_WORDS = frozenset({"绑定", "bind", "/start", "/bind"})
UNIT_WORDS = frozenset({"单位", "unit", "/unit"})
LANGUAGE_WORDS = frozenset({"/lang", "语言", "language"})


class CoordinatorCommand(StrEnum):
    STATUS = "status"
    EXPORT = "export"
    REMIND = "remind"
    DASHBOARD = "dashboard"
    CONFIRM = "confirm"
    CANCEL = "cancel"


COORDINATOR_WORDS: dict[str, CoordinatorCommand] = {
    "状态": CoordinatorCommand.STATUS,
    "/status": CoordinatorCommand.STATUS,
    "导出": CoordinatorCommand.EXPORT,
    "/export": CoordinatorCommand.EXPORT,
    "提醒": CoordinatorCommand.REMIND,
    "/remind": CoordinatorCommand.REMIND,
    "登录": CoordinatorCommand.DASHBOARD,
    "控制台": CoordinatorCommand.DASHBOARD,
    "/dashboard": CoordinatorCommand.DASHBOARD,
    "/console": CoordinatorCommand.DASHBOARD,
    "确认": CoordinatorCommand.CONFIRM,
    "confirm": CoordinatorCommand.CONFIRM,
    "/confirm": CoordinatorCommand.CONFIRM,
    "取消": CoordinatorCommand.CANCEL,
    "/cancel": CoordinatorCommand.CANCEL,
}


@dataclass(frozen=True, slots=True)
class Navigate:
    action: Action


@dataclass(frozen=True, slots=True)
class Bind:
    """Bind to a unit with ``token`` (``None``: greet and resume, like ``/start`` alone)."""

    token: str | None
    #: Typed as a bare token-shaped text: an answer if no such invitation exists and the account is bound.
    bare: bool = False


@dataclass(frozen=True, slots=True)
class BindUsage:
    """``绑定`` without a token-shaped code after it."""


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Units:
    """``单位``: list the units; ``单位 N``: answer for the N-th."""

    number: int | None = None


@dataclass(frozen=True, slots=True)
class Coordinate:
    command: CoordinatorCommand
    argument: int | None
    #: Typed as a slash command (``/status``): a command whoever sends it.
    slash: bool
    #: Something after the command that is not a number (usage is shown).
    malformed: bool = False


@dataclass(frozen=True, slots=True)
class Answer:
    text: str


Typed = Navigate | Bind | BindUsage | Help | Units | Coordinate | Answer


def read_typed(text: str) -> Typed:
    """What ``text`` (a WeCom text message) means."""
    stripped = text.strip()
    head, _, rest = stripped.partition(" ")
    if not rest:
        head, _, rest = stripped.partition("\u3000")
    word = head.strip(_TRAILING).casefold() or head.casefold()
    rest = rest.strip()
    if not rest:
        if word in NAVIGATION:
            return Navigate(NAVIGATION[word]())
        if word in HELP_WORDS:
            return Help()
        if word in START_WORDS:
            return Bind(token=None)
        if word in UNIT_WORDS:
            return Units()
        if TOKEN_PATTERN.fullmatch(stripped):
            return Bind(token=stripped, bare=True)
    if word in COORDINATOR_WORDS:
        command = COORDINATOR_WORDS[word]
        argument = rest.lstrip("#")
        if not rest:
            return Coordinate(command, None, slash=word.startswith("/"))
        if argument.isascii() and argument.isdigit() and len(argument) <= 18:
            return Coordinate(command, int(argument), slash=word.startswith("/"))
        return Coordinate(command, None, slash=word.startswith("/"), malformed=True)
    if rest and word in BIND_WORDS and TOKEN_PATTERN.fullmatch(rest):
        return Bind(token=rest)
    if word in BIND_WORDS and word != "/start":
        return BindUsage()
    if rest and word in UNIT_WORDS and rest.isascii() and rest.isdigit() and len(rest) <= 4:
        return Units(number=int(rest))
    if rest and word in LANGUAGE_WORDS and rest.casefold() in ("zh", "en"):
        return Navigate(SetLanguage(language=rest.casefold()))
    return Answer(text)
