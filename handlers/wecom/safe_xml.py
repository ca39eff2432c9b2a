"""The one XML parser for WeCom callbacks: UTF-8 only, bounded, no DTD and no entities.

Both the encrypted envelope (the POST body) and the decrypted message go
through :func:`parse_callback_xml`. WeCom's XML never declares a DTD, so any
``<!DOCTYPE`` or entity declaration is refused before it can expand (an XML
bomb) or reach outside (an external entity); defusedxml does that inside the
parser, where a text scan could be fooled. The size bound comes first, so a
huge body is refused without being parsed.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from handlers.wecom.rejection import CallbackRejected, RejectionReason

#: The largest callback we accept, encrypted envelope or decrypted message.
#: Real ones are a few kilobytes: a text message is at most 2048 bytes of
#: content, and base64 and the envelope add about a third.
MAX_CALLBACK_BYTES = 64 * 1024


def parse_callback_xml(document: bytes, *, what: str, max_bytes: int = MAX_CALLBACK_BYTES) -> Element:
    """The root element of ``document``; ``what`` names it in the rejection's detail.

    Raises :class:`CallbackRejected` with ``body_too_large``, ``forbidden_xml``
    or ``malformed_xml``.
    """
    if len(document) > max_bytes:
        raise CallbackRejected(
            RejectionReason.BODY_TOO_LARGE,
            f"{what} is {len(document)} bytes, more than the {max_bytes} any WeCom callback needs; refused unparsed",
        )
    try:
        text = document.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CallbackRejected(
            RejectionReason.MALFORMED_XML,
            f"{what} is not UTF-8 (byte {error.start}); WeCom sends UTF-8 XML, so this is not WeCom",
        ) from None
    try:
        return fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise CallbackRejected(
            RejectionReason.FORBIDDEN_XML,
            f"{what} declares a DTD or entities ({type(error).__name__}); WeCom never does, so it was refused unexpanded",
        ) from None
    except ParseError as error:
        raise CallbackRejected(RejectionReason.MALFORMED_XML, f"{what} is not well-formed XML ({error})") from None
