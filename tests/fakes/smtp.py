"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives and answers what a test scripts."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """The server's handler: records each accepted message; a recipient's scripted RCPT answers come first."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        #: Address → SMTP answers to its RCPT TO, used up in order ("550 5.1.1 ...", "451 4.3.0 ...").
        self.rcpt_answers: dict[str, list[str]] = {}
        #: Every RCPT TO seen, in order.
        self.tried: list[str] = []

    def script(self, address: str, *answers: str) -> None:
        self.rcpt_answers.setdefault(address, []).extend(answers)

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        self.tried.append(address)
        scripted = self.rcpt_answers.get(address)
        if scripted:
            return scripted.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd's threaded controller on a random local port."""

    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    async def wait_until(self, condition: Callable[[], bool], *, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"the SMTP server did not get what was expected within {timeout} s")
            await asyncio.sleep(0.02)
