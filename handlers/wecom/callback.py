"""The callback route ``/wecom/callback``: WeCom's URL verification and its messages, recorded before the answer.

GET (URL verification, 验证URL有效性): ``msg_signature``, ``timestamp``,
``nonce``, ``echostr`` in the query; the answer is the decrypted ``echostr``,
bare (no quotes, BOM or newline).

POST (a message or event): the signature is checked (constant time) before
anything is decrypted, the body decrypted and parsed, and the callback
recorded in the durable inbox under its dedup key (``msg:<MsgId>`` or
``event:<hash>``), with the callbacks that arrived meanwhile, in one
transaction (:mod:`handlers.wecom.recording`); only then the empty 200 that tells
WeCom it arrived. The survey step runs after (:meth:`bot.inbox.Inbox.handle_soon`),
or after a restart (:meth:`bot.inbox.Inbox.recover`) if the process died
first. WeCom's second and third tries of a recorded callback find the key
claimed: answered 200, not handled again.

A request that fails a check is answered with its
:class:`~handlers.wecom.rejection.RejectionReason`'s status and an empty body,
and changes nothing; if the database cannot take the record the answer is 503,
and WeCom tries again.
"""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.inbox import Inbox
from handlers.wecom.crypto import CallbackCrypto
from handlers.wecom.inbound import parse_inbound
from handlers.wecom.recording import GroupRecorder
from handlers.wecom.rejection import CallbackRejected
from storage.errors import StorageError
from storage.inbox import ArrivedUpdate

logger = logging.getLogger(__name__)

CALLBACK_PATH = "/wecom/callback"
#: The body limit: 64 KiB, what the crypto and XML checks allow; larger is refused before it is buffered.
MAX_BODY_BYTES = 64 * 1024


def callback_routes(*, crypto: CallbackCrypto, inbox: Inbox) -> list[web.RouteDef]:
    """The GET and POST routes of ``/wecom/callback``, to add to the ``--listen`` root."""
    recorder = GroupRecorder(inbox)

    async def verify_url(request: web.Request) -> web.Response:
        query = request.query
        try:
            echo = crypto.verify_url(
                query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", ""), query.get("echostr", "")
            )
        except CallbackRejected as rejection:
            logger.warning("WeCom URL verification from %s refused: %s (%s)", request.remote, rejection.reason, rejection.detail)
            return web.Response(status=rejection.reason.http_status)
        logger.info("WeCom verified the callback URL")
        return web.Response(body=echo.encode("utf-8"), content_type="text/plain")

    async def receive(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return web.Response(status=413)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413)
        query = request.query
        try:
            xml = crypto.decrypt_message(query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", ""), body)
            callback = parse_inbound(xml)
        except CallbackRejected as rejection:
            logger.warning("WeCom callback from %s refused: %s (%s)", request.remote, rejection.reason, rejection.detail)
            return web.Response(status=rejection.reason.http_status)
        arrived = ArrivedUpdate(dedup_key=callback.dedup_key, payload=xml.decode("utf-8"))
        try:
            entry = await recorder.record(arrived)
        except (StorageError, SQLAlchemyError) as error:
            logger.error("could not record WeCom callback %s: %s; WeCom will try again", callback.dedup_key, error)
            return web.Response(status=503)
        if entry is not None:
            inbox.handle_soon([entry])
        return web.Response()

    return [web.get(CALLBACK_PATH, verify_url), web.post(CALLBACK_PATH, receive)]
