"""The e-mail transport as the settings describe it (``SURVEYBOT_SMTP_*``, ``SURVEYBOT_PUBLIC_URL``)."""

from __future__ import annotations

from email.utils import parseaddr

from bot.settings import Settings
from handlers.email.outbox_transport import EmailTransport, SmtpServer


class EmailSetupError(Exception):
    """The e-mail settings are incomplete; the message names the setting and how to fix it."""


def email_transport(settings: Settings) -> EmailTransport:
    """The transport for ``SURVEYBOT_SMTP_HOST``; raises :class:`EmailSetupError` when a setting it needs is missing."""
    if settings.smtp_host is None:
        raise EmailSetupError("SURVEYBOT_SMTP_HOST is not set; e-mail is off")
    if settings.public_url is None:
        raise EmailSetupError(
            "SURVEYBOT_SMTP_HOST is set but SURVEYBOT_PUBLIC_URL is not: e-mails carry each unit's web link "
            "{SURVEYBOT_PUBLIC_URL}/s/<token>; set it to the address the web chat is reached at"
        )
    sender = settings.smtp_from or (settings.smtp_user if settings.smtp_user and "@" in settings.smtp_user else None)
    if sender is None or "@" not in parseaddr(sender)[1]:
        raise EmailSetupError(
            "SURVEYBOT_SMTP_FROM is not set (or not an address); set the From of the e-mails, "
            "e.g. surveybot@example.cn or '南通评估 <surveybot@example.cn>'"
        )
    password = settings.smtp_password.get_secret_value() if settings.smtp_password is not None else None
    server = SmtpServer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=sender,
        username=settings.smtp_user,
        password=password or None,
        starttls=settings.smtp_starttls,
    )
    return EmailTransport(server, public_url=settings.public_url)
