"""The Telegram side of a transcript: a simulated user in the fake Bot API, the real bot behind it.

Actions (the ``do`` of a step, see :mod:`tests.channels.transcript`):

* ``{"command": "/start", "args": ["$token"]}``: a command with its arguments;
* ``{"text": "..."}``: a text message;
* ``{"press": "是"}``: the button with this label on the newest message that has buttons;
* ``{"press_data": "..."}``: a press with this (possibly forged) callback data on the newest message;
* ``{"broadcast": "..."}``: a coordinator's confirmed broadcast, sent by the outbox;
* ``{"reminder": "3d" | "1d" | "2h"}``: the clock moves to that scheduled reminder's slot,
  which the scheduler and the outbox send.

Values: ``$token`` (an invitation to 崇川区), ``$campaign`` (the campaign's id).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.channels.transcript import Reply
from tests.fakes.telegram import BotMessage, FakeUser
from tests.reminders.conftest import SLOT_1D, SLOT_2H, SLOT_3D, enqueue_broadcast, scheduler_for, sender_for
from tests.telegram.conftest import BotHarness

#: The scheduled reminders by name, and their slots in the harness's campaign.
REMINDER_SLOTS = {"3d": SLOT_3D, "1d": SLOT_1D, "2h": SLOT_2H}
USER_ID = 4001
UNIT = "崇川区"


def reply_of(message: BotMessage) -> Reply:
    return Reply(text=message.text or message.caption or "", buttons=tuple(tuple(row) for row in message.buttons))


class TelegramDriver:
    """Drives one respondent's private chat with the bot of a running :class:`BotHarness`."""

    def __init__(self, harness: BotHarness) -> None:
        self.harness = harness
        self.user: FakeUser = harness.fake.user(USER_ID, "王芳", language_code="zh-hans")
        self.values: Mapping[str, str] = {"token": harness.tokens[UNIT][0], "campaign": str(harness.campaign_id)}

    async def do(self, action: Mapping[str, Any]) -> list[Reply]:
        seen = {message.message_id for message in self.user.messages}
        await self.perform(action)
        await self.harness.fake.wait_until_handled(timeout=10.0)
        return [reply_of(message) for message in self.user.messages if message.message_id not in seen]

    async def perform(self, action: Mapping[str, Any]) -> None:
        match dict(action):
            case {"command": str(command), **rest} if set(rest) <= {"args"}:
                await self.user.send_command(command, *rest.get("args", []))
            case {"text": str(text)}:
                await self.user.send_text(text)
            case {"press": str(label)}:
                await self.user.press(label)
            case {"press_data": str(data)}:
                await self.user.press_raw(data)
            case {"broadcast": str(body)}:
                await enqueue_broadcast(self.harness, body)
                await sender_for(self.harness).drain()
            case {"reminder": str(slot)} if slot in REMINDER_SLOTS:
                self.harness.clock.now = REMINDER_SLOTS[slot]
                await scheduler_for(self.harness).tick()
                await sender_for(self.harness).drain()
            case _:
                raise ValueError(
                    f"unknown Telegram action {dict(action)!r}; the actions are command (+args), text, press, "
                    f"press_data, broadcast, reminder ({'/'.join(REMINDER_SLOTS)}), see {__name__}"
                )
