"""The web chat speaks of its buttons and the link, never of Telegram's slash commands."""

from __future__ import annotations

from bot.core.events import Paused
from bot.core.outcome import Outcome
from bot.core.reply import render
from tests.web.conftest import WebWorld, texts


async def test_greeting__says_the_link_continues_and_names_no_command(world: WebWorld) -> None:
    zh = await world.state(world.tokens["崇川区"])
    assert "再次打开本链接即从断点继续" in texts(zh) and "/resume" not in texts(zh)
    en = await world.state(world.tokens["崇川区"], lang="en")
    assert "open this link again to continue" in texts(en) and "/resume" not in texts(en)


def test_pause__without_commands_points_to_the_button_with_commands_to_resume() -> None:
    for language in ("zh", "en"):
        outcome = Outcome(language=language, events=(Paused(),))
        assert "/resume" in render(outcome).messages[0].text  # Telegram, the terminal
        assert "/resume" not in render(outcome, commands=False).messages[0].text  # the web chat
