"""WeCom's callback encryption: Tencent's published vectors, round trips, and every refusal.

The published vectors come from Tencent's own sample code for the scheme
(``callback/Sample.py`` in github.com/sbzhu/weworkapi_python, "Copyright (c)
1998-2014 Tencent Inc."), the Python version of the library the
加解密方案说明 page of WeCom's documentation offers. ``SAMPLE`` is the sample's own
configuration and requests; ``WORKED_EXAMPLE`` is the older set in the same
file's comments (token QDG6eK, CorpID wx5823bf96d3bd56c7), the same values
the node_weworkapi README and the wechat_crypto crate's documentation use.
"""

from __future__ import annotations

import base64
import hmac
import os
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from http import HTTPStatus

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from handlers.wecom.crypto import CallbackCrypto
from handlers.wecom.rejection import CallbackRejected, RejectionReason
from handlers.wecom.safe_xml import MAX_CALLBACK_BYTES


@dataclass(frozen=True)
class Vector:
    token: str
    encoding_aes_key: str
    corp_id: str

    def crypto(self) -> CallbackCrypto:
        return CallbackCrypto(token=self.token, encoding_aes_key=self.encoding_aes_key, receiver_id=self.corp_id)


SAMPLE = Vector("hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt", "ww1436e0e65a779aee")
WORKED_EXAMPLE = Vector("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")

SAMPLE_POST_BODY = (
    b"<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>\n<Encrypt><![CDATA["
    b"Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew+"
    b"kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4"
    b"ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux0"
    b"82f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+]]></Encrypt>\n<AgentID><![CDATA[1000002]]></AgentID>\n</xml>"
)
WORKED_EXAMPLE_POST_BODY = (
    b"<xml> <ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA["
    b"RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3T"
    b"UUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsi"
    b"jff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax"
    b"5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHB"
    b"ZZIs2pDBS8R07+qN+E7Q==]]></Encrypt>\n   <AgentID><![CDATA[218]]></AgentID>\n   </xml>"
)


def generated_key() -> str:
    """A fresh EncodingAESKey: 32 random bytes as WeCom shows them, 43 base64 characters."""
    return base64.b64encode(os.urandom(32)).decode("ascii").rstrip("=")


@pytest.fixture
def crypto() -> CallbackCrypto:
    return CallbackCrypto(token="surveybotToken", encoding_aes_key=generated_key(), receiver_id="ww0123456789abcdef")


def envelope(ciphertext: str) -> bytes:
    """A callback POST body as WeCom sends it."""
    return (
        f"<xml><ToUserName><![CDATA[ww0123456789abcdef]]></ToUserName><Encrypt><![CDATA[{ciphertext}]]></Encrypt>"
        "<AgentID><![CDATA[1000002]]></AgentID></xml>"
    ).encode()


def post(crypto: CallbackCrypto, ciphertext: str, *, timestamp: str = "1700000000", nonce: str = "1372623149") -> bytes:
    """``decrypt_message`` of a correctly signed body holding ``ciphertext``."""
    return crypto.decrypt_message(crypto.signature(timestamp, nonce, ciphertext), timestamp, nonce, envelope(ciphertext))


def raw_ciphertext(crypto: CallbackCrypto, padded_plaintext: bytes) -> str:
    """``padded_plaintext`` encrypted as it stands (no padding, no layout added): for forging bad plaintexts."""
    key = crypto._key  # the test needs the key to build what WeCom never would
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(padded_plaintext) + encryptor.finalize()).decode()


def pkcs7_32(data: bytes) -> bytes:
    pad = 32 - len(data) % 32
    return data + bytes([pad]) * pad


def rejection(error: pytest.ExceptionInfo[CallbackRejected]) -> RejectionReason:
    return error.value.reason


# -- Tencent's published vectors -------------------------------------------------------------


def test_verify_url__sample_vector_gives_the_bare_echostr() -> None:
    echo = SAMPLE.crypto().verify_url(
        "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
        "1476416373",
        "47744683",
        "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==",
    )
    assert echo == "1288432023552776189"


def test_verify_url__worked_example_vector() -> None:
    echo = WORKED_EXAMPLE.crypto().verify_url(
        "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
        "1409659589",
        "263014780",
        "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
    )
    assert echo == "1616140317555161061"


def test_decrypt_message__sample_vector_gives_the_inner_xml() -> None:
    inner = SAMPLE.crypto().decrypt_message(
        "0c3914025cb4b4d68103f6bfc8db550f79dcf48e", "1476422779", "1597212914", SAMPLE_POST_BODY
    )
    assert (
        inner
        == (
            "<xml><ToUserName>ww1436e0e65a779aee</ToUserName><FromUserName>ChenJiaShun</FromUserName>"
            "<CreateTime>1476422779</CreateTime><MsgType>text</MsgType><Content>你好</Content>"
            "<MsgId>1456453720</MsgId><AgentID>1000002</AgentID></xml>"
        ).encode()
    )


def test_decrypt_message__worked_example_vector() -> None:
    inner = WORKED_EXAMPLE.crypto().decrypt_message(
        "477715d11cdb4164915debcba66cb864d751f3e6", "1409659813", "1372623149", WORKED_EXAMPLE_POST_BODY
    )
    root = ET.fromstring(inner)
    assert root.findtext("FromUserName") == "mycreate"
    assert root.findtext("Content") == "hello"
    assert root.findtext("MsgId") == "4561255354251345929"


def test_signature__is_sha1_of_the_sorted_four_strings() -> None:
    # The sample's URL verification, recomputed: sha1(sort(token, timestamp, nonce, echostr)).
    assert (
        SAMPLE.crypto().signature(
            "1476416373", "47744683", "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="
        )
        == "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb"
    )


# -- round trips with keys the tests generate -----------------------------------------------


def test_encrypt_reply__round_trips_through_decrypt_message(crypto: CallbackCrypto) -> None:
    reply = "<xml><ToUserName><![CDATA[zhangsan]]></ToUserName><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[已收到：1 是]]></Content></xml>"
    sealed = crypto.encrypt_reply(reply, timestamp=1700000000, nonce="1597212914")
    root = ET.fromstring(sealed)
    assert root.findtext("TimeStamp") == "1700000000"
    assert root.findtext("Nonce") == "1597212914"
    signature = root.findtext("MsgSignature")
    assert signature is not None
    assert crypto.decrypt_message(signature, "1700000000", "1597212914", sealed.encode()) == reply.encode()


def test_encrypt_reply__defaults_to_a_fresh_timestamp_and_nonce(crypto: CallbackCrypto) -> None:
    first, second = ET.fromstring(crypto.encrypt_reply("<xml/>")), ET.fromstring(crypto.encrypt_reply("<xml/>"))
    assert (first.findtext("TimeStamp") or "").isdigit()
    assert first.findtext("Nonce") != second.findtext("Nonce")
    assert first.findtext("Encrypt") != second.findtext("Encrypt")  # the random prefix differs


def test_encrypt_reply__refuses_a_nonce_that_would_break_the_envelope(crypto: CallbackCrypto) -> None:
    with pytest.raises(ValueError, match="nonce"):
        crypto.encrypt_reply("<xml/>", nonce="]]><x>")


def test_verify_url__round_trip(crypto: CallbackCrypto) -> None:
    echostr = crypto.encrypt(b"8016316185447318812")
    assert crypto.verify_url(crypto.signature("1", "2", echostr), "1", "2", echostr) == "8016316185447318812"


@given(message=st.binary(max_size=200))
def test_encrypt__any_message_round_trips_padded_to_32_bytes(message: bytes) -> None:
    crypto = CallbackCrypto(token="t", encoding_aes_key="A" * 42 + "E", receiver_id="ww1")
    ciphertext = crypto.encrypt(message)
    assert len(base64.b64decode(ciphertext)) % 32 == 0
    assert post(crypto, ciphertext) == message


def test_encrypt__puts_random_bytes_length_message_and_receiver_in_that_order(crypto: CallbackCrypto) -> None:
    key = crypto._key
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    padded = decryptor.update(base64.b64decode(crypto.encrypt(b"<xml/>"))) + decryptor.finalize()
    plaintext = padded[: -padded[-1]]
    assert plaintext[16:20] == struct.pack(">I", 6)
    assert plaintext[20:] == b"<xml/>ww0123456789abcdef"


# -- refusals: signature ---------------------------------------------------------------------


def test_decrypt_message__wrong_signature_of_the_right_length_is_refused(crypto: CallbackCrypto) -> None:
    ciphertext = crypto.encrypt(b"<xml/>")
    good = crypto.signature("1700000000", "42", ciphertext)
    forged = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(CallbackRejected) as error:
        crypto.decrypt_message(forged, "1700000000", "42", envelope(ciphertext))
    assert rejection(error) is RejectionReason.BAD_SIGNATURE
    assert rejection(error).http_status == HTTPStatus.FORBIDDEN


def test_signature__is_compared_in_constant_time(crypto: CallbackCrypto, monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real_compare_digest = hmac.compare_digest

    def recording_compare_digest(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real_compare_digest(a, b)

    monkeypatch.setattr(hmac, "compare_digest", recording_compare_digest)
    ciphertext = crypto.encrypt(b"<xml/>")
    signature = crypto.signature("1700000000", "42", ciphertext)
    crypto.decrypt_message(signature, "1700000000", "42", envelope(ciphertext))
    with pytest.raises(CallbackRejected):
        crypto.verify_url("f" * 40, "1700000000", "42", ciphertext)
    assert compared == [
        (signature.encode(), signature.encode()),
        (crypto.signature("1700000000", "42", ciphertext).encode(), b"f" * 40),
    ]


@pytest.mark.parametrize(
    "signature",
    ["", "0c3914025cb4b4d68103f6bfc8db550f79dcf48", "签名" * 20, "\ud800" * 40, "0C3914025CB4B4D68103F6BFC8DB550F79DCF48E"],
)
def test_decrypt_message__malformed_signatures_are_refused_not_raised(signature: str) -> None:
    with pytest.raises(CallbackRejected) as error:
        SAMPLE.crypto().decrypt_message(signature, "1476422779", "1597212914", SAMPLE_POST_BODY)
    assert rejection(error) is RejectionReason.BAD_SIGNATURE


@pytest.mark.parametrize(
    ("timestamp", "nonce"), [("1476422780", "1597212914"), ("1476422779", "1597212915"), ("1476422779", "\ud800")]
)
def test_decrypt_message__signature_covers_timestamp_and_nonce(timestamp: str, nonce: str) -> None:
    with pytest.raises(CallbackRejected) as error:
        SAMPLE.crypto().decrypt_message("0c3914025cb4b4d68103f6bfc8db550f79dcf48e", timestamp, nonce, SAMPLE_POST_BODY)
    assert rejection(error) is RejectionReason.BAD_SIGNATURE


def test_decrypt_message__another_token_is_refused() -> None:
    other = CallbackCrypto(token="notTheToken", encoding_aes_key=SAMPLE.encoding_aes_key, receiver_id=SAMPLE.corp_id)
    with pytest.raises(CallbackRejected) as error:
        other.decrypt_message("0c3914025cb4b4d68103f6bfc8db550f79dcf48e", "1476422779", "1597212914", SAMPLE_POST_BODY)
    assert rejection(error) is RejectionReason.BAD_SIGNATURE


def test_verify_url__wrong_signature_is_refused() -> None:
    with pytest.raises(CallbackRejected) as error:
        SAMPLE.crypto().verify_url(
            "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebec",
            "1476416373",
            "47744683",
            "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==",
        )
    assert rejection(error) is RejectionReason.BAD_SIGNATURE


# -- refusals: ciphertext, padding, layout, receiver -----------------------------------------


@pytest.mark.parametrize("ciphertext", ["not base64!", "密文", "QUJD", base64.b64encode(b"x" * 20).decode(), "QUJDRA=====", "="])
def test_decrypt_message__ciphertext_that_is_not_whole_aes_blocks_of_base64_is_refused(
    crypto: CallbackCrypto, ciphertext: str
) -> None:
    with pytest.raises(CallbackRejected) as error:
        post(crypto, ciphertext)
    assert rejection(error) is RejectionReason.BAD_CIPHERTEXT
    assert rejection(error).http_status == HTTPStatus.BAD_REQUEST


@pytest.mark.parametrize(
    "padded",
    [
        pytest.param(b"\x00" * 16 + b"\x00\x00\x00\x01" + b"x" + b"ww0123456789abcdef" + b"\x00" * 25, id="pad byte 0"),
        pytest.param(b"\x00" * 63 + b"\x21", id="pad byte 33, longer than the block"),
        pytest.param(b"\x00" * 61 + b"\x01\x03\x03", id="pad bytes disagree"),
        pytest.param(b"\x00" * 44 + b"\x04" * 4, id="16-byte padding: 48 bytes is no multiple of 32"),
    ],
)
def test_decrypt_message__bad_padding_is_refused(crypto: CallbackCrypto, padded: bytes) -> None:
    with pytest.raises(CallbackRejected) as error:
        post(crypto, raw_ciphertext(crypto, padded))
    assert rejection(error) is RejectionReason.BAD_PADDING


def test_decrypt_message__another_aes_key_fails_the_padding_check() -> None:
    # Same token (so the signature holds), another EncodingAESKey: WeCom's ciphertext decrypts to noise.
    other = CallbackCrypto(token=SAMPLE.token, encoding_aes_key="B" * 43, receiver_id=SAMPLE.corp_id)
    with pytest.raises(CallbackRejected) as error:
        other.decrypt_message("0c3914025cb4b4d68103f6bfc8db550f79dcf48e", "1476422779", "1597212914", SAMPLE_POST_BODY)
    assert rejection(error) is RejectionReason.BAD_PADDING


@pytest.mark.parametrize(
    "plaintext",
    [
        pytest.param(b"0123456789abcdef\x00\x00", id="shorter than prefix and length"),
        pytest.param(b"0123456789abcdef\x00\x00\x01\x00<xml/>ww0123456789abcdef", id="length past the end"),
    ],
)
def test_decrypt_message__plaintext_without_the_documented_layout_is_refused(crypto: CallbackCrypto, plaintext: bytes) -> None:
    with pytest.raises(CallbackRejected) as error:
        post(crypto, raw_ciphertext(crypto, pkcs7_32(plaintext)))
    assert rejection(error) is RejectionReason.MALFORMED_PLAINTEXT


def test_decrypt_message__message_for_another_corp_is_refused(crypto: CallbackCrypto) -> None:
    forged = raw_ciphertext(crypto, pkcs7_32(b"0123456789abcdef" + struct.pack(">I", 6) + b"<xml/>" + b"wwSomeOtherCorp"))
    with pytest.raises(CallbackRejected) as error:
        post(crypto, forged)
    assert rejection(error) is RejectionReason.WRONG_RECEIVER
    assert rejection(error).http_status == HTTPStatus.FORBIDDEN


def test_decrypt_message__same_secrets_other_corp_id_is_refused() -> None:
    # A second corp configured with the same token and key must not accept the first corp's callbacks.
    other = CallbackCrypto(token=SAMPLE.token, encoding_aes_key=SAMPLE.encoding_aes_key, receiver_id="ww1436e0e65a779aef")
    with pytest.raises(CallbackRejected) as error:
        other.decrypt_message("0c3914025cb4b4d68103f6bfc8db550f79dcf48e", "1476422779", "1597212914", SAMPLE_POST_BODY)
    assert rejection(error) is RejectionReason.WRONG_RECEIVER


def test_verify_url__receiver_is_checked_too() -> None:
    other = CallbackCrypto(token=SAMPLE.token, encoding_aes_key=SAMPLE.encoding_aes_key, receiver_id="wwSomeoneElse")
    with pytest.raises(CallbackRejected) as error:
        other.verify_url(
            "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
            "1476416373",
            "47744683",
            "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==",
        )
    assert rejection(error) is RejectionReason.WRONG_RECEIVER


def test_verify_url__echostr_that_is_not_utf8_is_refused(crypto: CallbackCrypto) -> None:
    echostr = crypto.encrypt(b"\xff\xfe")
    with pytest.raises(CallbackRejected) as error:
        crypto.verify_url(crypto.signature("1", "2", echostr), "1", "2", echostr)
    assert rejection(error) is RejectionReason.MALFORMED_PLAINTEXT


# -- refusals: the envelope ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"Encrypt=abc",
        b"<xml><Encrypt>abc</Encrypt>",
        b"<xml><ToUserName>ww1</ToUserName></xml>",
        b"<xml><Encrypt></Encrypt></xml>",
    ],
)
def test_decrypt_message__body_without_an_encrypt_element_is_refused(crypto: CallbackCrypto, body: bytes) -> None:
    with pytest.raises(CallbackRejected) as error:
        crypto.decrypt_message("0" * 40, "1", "2", body)
    assert rejection(error) is RejectionReason.MALFORMED_XML


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<xml><Encrypt>&lol9;</Encrypt></xml>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<xml><Encrypt>&secret;</Encrypt></xml>"""
QUADRATIC_BLOWUP = b'<!DOCTYPE xml [<!ENTITY a "' + b"x" * 10_000 + b'">]><xml><Encrypt>' + b"&a;" * 2_000 + b"</Encrypt></xml>"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(BILLION_LAUGHS, id="billion laughs"),
        pytest.param(EXTERNAL_ENTITY, id="external entity"),
        pytest.param(QUADRATIC_BLOWUP, id="quadratic blowup"),
        pytest.param(b'<!DOCTYPE xml SYSTEM "http://example.com/x.dtd"><xml><Encrypt>QUJD</Encrypt></xml>', id="external dtd"),
    ],
)
def test_decrypt_message__xml_bombs_are_refused_unexpanded(crypto: CallbackCrypto, body: bytes) -> None:
    with pytest.raises(CallbackRejected) as error:
        crypto.decrypt_message("0" * 40, "1", "2", body)
    assert rejection(error) is RejectionReason.FORBIDDEN_XML


def test_decrypt_message__oversized_body_is_refused_before_parsing(crypto: CallbackCrypto) -> None:
    body = b"<xml><Encrypt>" + b"A" * MAX_CALLBACK_BYTES + b"</Encrypt></xml>"
    with pytest.raises(CallbackRejected) as error:
        crypto.decrypt_message("0" * 40, "1", "2", body)
    assert rejection(error) is RejectionReason.BODY_TOO_LARGE
    assert rejection(error).http_status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE


def test_verify_url__oversized_echostr_is_refused(crypto: CallbackCrypto) -> None:
    with pytest.raises(CallbackRejected) as error:
        crypto.verify_url("0" * 40, "1", "2", "A" * (MAX_CALLBACK_BYTES + 1))
    assert rejection(error) is RejectionReason.BODY_TOO_LARGE


def test_decrypt_message__body_in_utf16_is_refused(crypto: CallbackCrypto) -> None:
    with pytest.raises(CallbackRejected) as error:
        crypto.decrypt_message("0" * 40, "1", "2", "<xml><Encrypt>QUJD</Encrypt></xml>".encode("utf-16"))
    assert rejection(error) is RejectionReason.MALFORMED_XML


# -- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding_aes_key", "expected"),
    [
        pytest.param("6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhU", "42 characters long, not 43", id="one short"),
        pytest.param("6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt=", "44 characters long, not 43", id="with the = appended"),
        pytest.param("", "0 characters long, not 43", id="empty"),
        pytest.param("6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToq-Ut", "not base64", id="not base64"),
    ],
)
def test_crypto__malformed_encoding_aes_key_names_the_setting_and_the_fix(encoding_aes_key: str, expected: str) -> None:
    with pytest.raises(ValueError) as error:
        CallbackCrypto(token="t", encoding_aes_key=encoding_aes_key, receiver_id="ww1")
    message = str(error.value)
    assert message.startswith("SURVEYBOT_WECOM_AES_KEY ")
    assert expected in message
    assert "接收消息" in message and "43 letters and digits" in message
    if encoding_aes_key:
        assert encoding_aes_key[:20] not in message  # the secret is never echoed


@pytest.mark.parametrize(
    ("token", "corp_id", "setting"), [("", "ww1", "SURVEYBOT_WECOM_TOKEN"), ("t", "", "SURVEYBOT_WECOM_CORP_ID")]
)
def test_crypto__empty_token_or_corp_id_names_the_setting(token: str, corp_id: str, setting: str) -> None:
    with pytest.raises(ValueError, match=setting):
        CallbackCrypto(token=token, encoding_aes_key=generated_key(), receiver_id=corp_id)
