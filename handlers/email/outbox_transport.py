"""The outbox's e-mail transport: one reminder or broadcast through SMTP (aiosmtplib).

The channel-neutral :class:`~bot.outbox_sender.OutboxSender` does the
claiming, pacing, retrying and reporting; this module renders a message with
:mod:`handlers.email.rendering` (plain text, UTF-8), sends it in one SMTP
session and translates what the server answered:

==============================================  ================================================
SMTP                                            :data:`~bot.outbox_transport.SendResult`
==============================================  ================================================
accepted                                        ``Sent`` (the Message-ID we gave it)
recipient refused with 5xx (550 no mailbox...)  ``Unreachable``: the address is marked unreachable
other 5xx (sender refused, message rejected)    ``Rejected``: the same message fails the same way
4xx (451 try later, 421 busy, greylisting)      ``Transient``: sent again after a backoff
connection refused, time-out, disconnection     ``Transient``
authentication refused                          ``Transient`` (logged as an error: fix the settings)
==============================================  ================================================

Pacing: 5 messages a second overall (a modest rate most relays accept), no
per-address interval beyond it. E-mail cannot edit a sent message: the
coordinator's status "edits" are not sent (only the final summary is, by
:meth:`EmailTransport.send_text`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import aiosmtplib

from bot.core.catalog import bot_language, translate
from bot.outbox_transport import OutboxContent, Rejected, SendResult, Sent, Transient, Unreachable
from bot.pacing import PacingPolicy
from handlers.email.rendering import EmailText, render_email
from storage.models import Channel

logger = logging.getLogger(__name__)

#: A modest rate for a relay: 5 messages a second overall.
EMAIL_PACING = PacingPolicy(rate=5.0, per_recipient_interval=0.0)
#: The summary of a large batch is split into messages of at most this many characters.
MAX_TEXT_LENGTH = 20_000
#: Seconds for the connection and each SMTP command.
SMTP_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where and how e-mail is sent (from ``SURVEYBOT_SMTP_*``)."""

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    #: True: require STARTTLS; False: never; None: when the server offers it.
    starttls: bool | None = None
    timeout: float = SMTP_TIMEOUT


class EmailTransport:
    """Sends outbox messages by e-mail, one SMTP session per message."""

    channel: str = Channel.EMAIL.value
    max_text_length: int = MAX_TEXT_LENGTH

    def __init__(self, server: SmtpServer, *, public_url: str, pacing: PacingPolicy = EMAIL_PACING) -> None:
        self.server = server
        self.public_url = public_url
        self.pacing = pacing
        _, address = parseaddr(server.sender)
        self._domain = address.rpartition("@")[2] or "surveybot.invalid"

    async def send(self, recipient: str, content: OutboxContent) -> SendResult:
        return await self._send(recipient, render_email(content, public_url=self.public_url))

    async def send_text(self, recipient: str, text: str) -> SendResult:
        return await self._send(recipient, EmailText(subject=translate(bot_language(None), "email.summary_subject"), body=text))

    async def edit_text(self, recipient: str, message_id: str, text: str) -> SendResult:
        return Sent(message_id)  # a sent e-mail cannot change; the summary follows by send_text

    def _message(self, recipient: str, text: EmailText) -> tuple[EmailMessage, str]:
        message = EmailMessage()
        message_id = make_msgid(domain=self._domain)
        message["From"] = self.server.sender
        message["To"] = str(Address(addr_spec=recipient))
        message["Subject"] = text.subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = message_id
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(text.body, charset="utf-8")
        return message, message_id

    async def _send(self, recipient: str, text: EmailText) -> SendResult:
        try:
            message, message_id = self._message(recipient, text)
        except (ValueError, IndexError) as error:  # an address the e-mail library cannot write
            return Rejected(f"{recipient!r} cannot be written as an address: {error}")
        server = self.server
        try:
            await aiosmtplib.send(
                message,
                hostname=server.host,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.port == 465,
                start_tls=False if server.port == 465 else server.starttls,
                timeout=server.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            return _refused(error.recipients)
        except aiosmtplib.SMTPAuthenticationError as error:
            logger.error("SMTP %s:%s refused the login (%s); check SURVEYBOT_SMTP_USER/PASSWORD", server.host, server.port, error.code)
            return Transient(f"SMTP authentication failed: {error.code} {error.message}")
        except aiosmtplib.SMTPResponseException as error:
            reason = f"SMTP {error.code} {error.message}"
            return Transient(reason) if error.code < 500 else Rejected(reason)
        except (aiosmtplib.SMTPException, OSError) as error:  # connection refused, time-out, disconnection, TLS
            return Transient(f"{type(error).__name__}: {error}")
        return Sent(message_id)


def _refused(refusals: list[aiosmtplib.SMTPRecipientRefused]) -> SendResult:
    """The answer for a refused recipient (one per message): 5xx unreachable, 4xx later."""
    refusal = refusals[0]
    reason = f"SMTP {refusal.code} {refusal.message}"
    return Unreachable(reason) if refusal.code >= 500 else Transient(reason)
