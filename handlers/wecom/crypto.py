"""WeCom's callback encryption (the scheme Tencent's sample code calls WXBizMsgCrypt).

WeCom signs and encrypts everything it sends to the callback URL, and expects
passive replies signed and encrypted the same way. The scheme, as WeCom's
加解密方案说明 describes it and Tencent's sample code implements it (see
``docs/wecom.md`` for where each fact was checked):

- ``AESKey = base64_decode(EncodingAESKey + "=")``: the 43-character
  EncodingAESKey from the app's API settings decodes to 32 bytes.
- AES-256-CBC with the first 16 key bytes as IV; PKCS#7 padding to a multiple
  of **32** bytes (not AES's 16).
- plaintext = 16 random bytes + the message's length as 4 bytes big-endian +
  the message + the receiving id (for a self-built app, the CorpID).
- ``msg_signature = sha1_hex("".join(sorted([token, timestamp, nonce, ciphertext])))``
  where ciphertext is the base64 text as sent.

The signature is checked (in constant time) before anything is decrypted, so
an unauthenticated ciphertext never reaches the padding check. Every failure
raises :class:`~handlers.wecom.rejection.CallbackRejected` with its reason.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import struct
import time

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from handlers.wecom.rejection import CallbackRejected, RejectionReason
from handlers.wecom.safe_xml import MAX_CALLBACK_BYTES, parse_callback_xml

#: Length of the EncodingAESKey WeCom shows in the app's settings.
ENCODING_AES_KEY_LENGTH = 43
#: PKCS#7 pads to this block size (bytes), as WeCom specifies; AES's own block is 16.
PADDING_BLOCK_BYTES = 32
RANDOM_PREFIX_BYTES = 16
_LENGTH_FIELD = struct.Struct(">I")
_AES_BLOCK_BYTES = 16
_BASE64_ALPHABET = re.compile(r"[A-Za-z0-9+/]+")
#: A nonce we put into a reply envelope: WeCom's own are decimal digits.
_REPLY_NONCE = re.compile(r"[A-Za-z0-9]{1,64}")


class CallbackCrypto:
    """Verifies, decrypts and encrypts one WeCom app's callbacks.

    ``token`` and ``encoding_aes_key`` are the app's 接收消息 API settings
    (``SURVEYBOT_WECOM_TOKEN``, ``SURVEYBOT_WECOM_AES_KEY``); ``receiver_id``
    is the CorpID (``SURVEYBOT_WECOM_CORP_ID``), which WeCom appends to every
    plaintext of a self-built app. A malformed setting raises ``ValueError``
    here, at start-up, naming the setting and how to fix it.
    """

    def __init__(self, *, token: str, encoding_aes_key: str, receiver_id: str) -> None:
        if not token:
            raise ValueError(
                "SURVEYBOT_WECOM_TOKEN is empty: set it to the Token shown in the WeCom admin console "
                "(应用管理 → the app → 接收消息 → 设置API接收)"
            )
        if not receiver_id:
            raise ValueError(
                "SURVEYBOT_WECOM_CORP_ID is empty: set it to the CorpID shown in the WeCom admin console (我的企业 → 企业ID)"
            )
        self._token = token
        self._key = _decode_encoding_aes_key(encoding_aes_key)
        self._receiver_id = receiver_id.encode("utf-8")

    # -- the three operations WeCom's callback protocol needs ------------------------------

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """The decrypted ``echostr`` of WeCom's URL-verification GET, to be answered bare.

        The answer must be exactly this text: no quotes, no newline, no BOM.
        The parameters are the URL-decoded query values (``+`` in ``echostr``
        arrives percent-encoded as ``%2B``).
        """
        if len(echostr) > MAX_CALLBACK_BYTES:
            raise CallbackRejected(
                RejectionReason.BODY_TOO_LARGE,
                f"echostr is {len(echostr)} characters, more than the {MAX_CALLBACK_BYTES} any WeCom callback needs",
            )
        self._check_signature(msg_signature, timestamp, nonce, echostr, what="the URL verification's echostr")
        plaintext = self._decrypt(echostr, what="echostr")
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise CallbackRejected(RejectionReason.MALFORMED_PLAINTEXT, "the decrypted echostr is not UTF-8") from None

    def decrypt_message(self, msg_signature: str, timestamp: str, nonce: str, xml_body: bytes) -> bytes:
        """The inner XML of a callback POST, after its signature and receiver are checked.

        ``xml_body`` is the raw POST body: ``<xml><ToUserName/><Encrypt/><AgentID/></xml>``.
        Parse the result with :func:`handlers.wecom.inbound.parse_inbound`.
        """
        envelope = parse_callback_xml(xml_body, what="the callback body")
        ciphertext = envelope.findtext("Encrypt")
        if not ciphertext:
            raise CallbackRejected(
                RejectionReason.MALFORMED_XML,
                f"the callback body <{envelope.tag}> has no <Encrypt> element (or an empty one); "
                "is the app's 接收消息 set to a mode other than encrypted XML?",
            )
        self._check_signature(msg_signature, timestamp, nonce, ciphertext, what="the callback's <Encrypt>")
        return self._decrypt(ciphertext, what="<Encrypt>")

    def encrypt_reply(self, reply_xml: str, *, timestamp: int | None = None, nonce: str | None = None) -> str:
        """The encrypted, signed envelope of a passive reply (被动回复), to be the POST's answer.

        ``reply_xml`` is the plaintext reply (``<xml><ToUserName>…</xml>``);
        ``timestamp`` defaults to now and ``nonce`` to a fresh random one.
        """
        timestamp_text = str(int(time.time()) if timestamp is None else timestamp)
        nonce_text = str(secrets.randbelow(10**10)) if nonce is None else nonce
        if not _REPLY_NONCE.fullmatch(nonce_text):
            raise ValueError(f"reply nonce {nonce_text!r} must be 1 to 64 ASCII letters or digits")
        ciphertext = self.encrypt(reply_xml.encode("utf-8"))
        signature = self.signature(timestamp_text, nonce_text, ciphertext)
        return (
            "<xml>"
            f"<Encrypt><![CDATA[{ciphertext}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>"
            f"<TimeStamp>{timestamp_text}</TimeStamp>"
            f"<Nonce><![CDATA[{nonce_text}]]></Nonce>"
            "</xml>"
        )

    # -- the building blocks (a test client encrypts callbacks with these) ------------------

    def signature(self, timestamp: str, nonce: str, ciphertext: str) -> str:
        """``msg_signature``: SHA-1 (lowercase hex) of the sorted, concatenated four strings."""
        joined = "".join(sorted((self._token, timestamp, nonce, ciphertext)))
        # surrogatepass: a query value with a lone surrogate must fail the comparison, not raise.
        return hashlib.sha1(joined.encode("utf-8", "surrogatepass")).hexdigest()

    def encrypt(self, message: bytes) -> str:
        """The base64 ciphertext of ``message`` for our receiver, as WeCom would send it."""
        plaintext = secrets.token_bytes(RANDOM_PREFIX_BYTES) + _LENGTH_FIELD.pack(len(message)) + message + self._receiver_id
        padder = padding.PKCS7(PADDING_BLOCK_BYTES * 8).padder()
        padded = padder.update(plaintext) + padder.finalize()
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")

    # -- internals ----------------------------------------------------------------------------

    def _check_signature(self, msg_signature: str, timestamp: str, nonce: str, ciphertext: str, *, what: str) -> None:
        expected = self.signature(timestamp, nonce, ciphertext)
        # Bytes, not str: compare_digest refuses non-ASCII str with a TypeError.
        if not hmac.compare_digest(expected.encode("ascii"), msg_signature.encode("utf-8", "surrogatepass")):
            raise CallbackRejected(
                RejectionReason.BAD_SIGNATURE,
                f"msg_signature does not match {what}: either the request is not from WeCom, or "
                "SURVEYBOT_WECOM_TOKEN differs from the Token in the app's 接收消息 settings",
            )

    def _decrypt(self, ciphertext: str, *, what: str) -> bytes:
        """The message inside ``ciphertext`` (base64), checked for padding, layout and receiver."""
        try:
            encrypted = base64.b64decode(ciphertext, validate=True)
        except ValueError:  # binascii.Error, or non-ASCII text
            raise CallbackRejected(RejectionReason.BAD_CIPHERTEXT, f"{what} is not base64") from None
        if not encrypted or len(encrypted) % _AES_BLOCK_BYTES:
            raise CallbackRejected(
                RejectionReason.BAD_CIPHERTEXT,
                f"{what} decodes to {len(encrypted)} bytes, not a whole number of {_AES_BLOCK_BYTES}-byte AES blocks",
            )
        decryptor = self._cipher().decryptor()
        padded = decryptor.update(encrypted) + decryptor.finalize()
        unpadder = padding.PKCS7(PADDING_BLOCK_BYTES * 8).unpadder()
        try:
            plaintext = unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            raise CallbackRejected(
                RejectionReason.BAD_PADDING,
                f"{what} does not decrypt to PKCS#7 padding to {PADDING_BLOCK_BYTES} bytes: "
                "SURVEYBOT_WECOM_AES_KEY is probably not this app's EncodingAESKey",
            ) from None
        header_bytes = RANDOM_PREFIX_BYTES + _LENGTH_FIELD.size
        if len(plaintext) < header_bytes:
            raise CallbackRejected(
                RejectionReason.MALFORMED_PLAINTEXT,
                f"{what} decrypts to {len(plaintext)} bytes, fewer than the {header_bytes}-byte random prefix and length",
            )
        (length,) = _LENGTH_FIELD.unpack_from(plaintext, RANDOM_PREFIX_BYTES)
        if header_bytes + length > len(plaintext):
            raise CallbackRejected(
                RejectionReason.MALFORMED_PLAINTEXT,
                f"{what} declares a {length}-byte message but only {len(plaintext) - header_bytes} bytes follow",
            )
        message = plaintext[header_bytes : header_bytes + length]
        receiver = plaintext[header_bytes + length :]
        if receiver != self._receiver_id:
            raise CallbackRejected(
                RejectionReason.WRONG_RECEIVER,
                f"{what} was encrypted for receiver {receiver[:64]!r}, not our CorpID: "
                "check SURVEYBOT_WECOM_CORP_ID against 我的企业 → 企业ID",
            )
        return message

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:_AES_BLOCK_BYTES]))


def _decode_encoding_aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key, or a ``ValueError`` naming the setting and how to fix it."""
    how_to_fix = (
        "copy the EncodingAESKey again from the WeCom admin console (应用管理 → the app → 接收消息 → 设置API接收): "
        f"it is {ENCODING_AES_KEY_LENGTH} letters and digits, with no trailing '='"
    )
    if len(encoding_aes_key) != ENCODING_AES_KEY_LENGTH:
        raise ValueError(
            f"SURVEYBOT_WECOM_AES_KEY is {len(encoding_aes_key)} characters long, not {ENCODING_AES_KEY_LENGTH}: {how_to_fix}"
        )
    if not _BASE64_ALPHABET.fullmatch(encoding_aes_key):
        raise ValueError(f"SURVEYBOT_WECOM_AES_KEY contains characters that are not base64: {how_to_fix}")
    # 43 base64 characters and one "=" always decode to the 32 bytes AES-256 needs.
    return base64.b64decode(encoding_aes_key + "=", validate=True)
