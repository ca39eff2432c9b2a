"""Why a WeCom callback is refused: one exception, a reason code, and the HTTP status it maps to.

Everything that arrives at the callback URL is untrusted until its signature
and its decryption hold. A request that fails a check raises
:class:`CallbackRejected`; the HTTP handler answers it with
:attr:`RejectionReason.http_status` and changes nothing. The ``detail`` is for
the log (where, what, how to fix); it never contains a key or a token and is
never shown to a user.
"""

from __future__ import annotations

from enum import StrEnum
from http import HTTPStatus


class RejectionReason(StrEnum):
    """What was wrong with a callback request."""

    #: The body (or the echostr) is larger than any real callback.
    BODY_TOO_LARGE = "body_too_large"
    #: The XML declares a DTD or entities (an XML bomb or an external entity).
    FORBIDDEN_XML = "forbidden_xml"
    #: The XML is not well-formed UTF-8 XML, or lacks the element it must have.
    MALFORMED_XML = "malformed_xml"
    #: ``msg_signature`` is not the SHA-1 of token, timestamp, nonce and ciphertext.
    BAD_SIGNATURE = "bad_signature"
    #: The ciphertext is not base64, or not a whole number of AES blocks.
    BAD_CIPHERTEXT = "bad_ciphertext"
    #: The decrypted bytes do not end in PKCS#7 padding to a 32-byte block.
    BAD_PADDING = "bad_padding"
    #: The plaintext is not 16 random bytes + 4-byte length + message + receiver id.
    MALFORMED_PLAINTEXT = "malformed_plaintext"
    #: The message was encrypted for another CorpID than ours.
    WRONG_RECEIVER = "wrong_receiver"
    #: The decrypted message lacks a field every callback has (sender, time, type).
    MALFORMED_MESSAGE = "malformed_message"

    @property
    def http_status(self) -> HTTPStatus:
        """The 4xx the HTTP handler answers with (WeCom retries anything but 200)."""
        if self is RejectionReason.BODY_TOO_LARGE:
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        if self in (RejectionReason.BAD_SIGNATURE, RejectionReason.WRONG_RECEIVER):
            return HTTPStatus.FORBIDDEN
        return HTTPStatus.BAD_REQUEST


class CallbackRejected(Exception):
    """A WeCom callback request that must be refused, and why.

    Raised by :mod:`handlers.wecom.crypto`, :mod:`handlers.wecom.safe_xml` and
    :mod:`handlers.wecom.inbound`; the HTTP handler turns it into
    ``reason.http_status`` with an empty body.
    """

    def __init__(self, reason: RejectionReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
