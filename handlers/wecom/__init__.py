"""The WeCom (企业微信) channel: a self-built app (自建应用) that runs the survey in WeCom.

This package will hold, like ``handlers/telegram/``, everything WeCom-specific:
the ``/wecom/callback`` route on the ``surveybot run --listen`` server, the
rendering of the neutral replies as numbered text and template cards, the
outbox transport (access_token, message/send, pacing) and the group-robot
digest. See ``docs/wecom.md`` for what is built and what is still to come.

Built so far, with no dependency on the rest of the channel:

- :mod:`handlers.wecom.crypto`: the callback encryption (Tencent's
  WXBizMsgCrypt scheme): URL verification, message decryption, passive-reply
  encryption.
- :mod:`handlers.wecom.inbound`: the decrypted callback XML as typed values,
  each with the key that deduplicates WeCom's retries.
- :mod:`handlers.wecom.safe_xml`: the one XML parser both use (no DTDs, no
  entities, bounded size).
- :mod:`handlers.wecom.rejection`: :class:`CallbackRejected`, the one
  exception a callback that must be refused raises.
- :mod:`handlers.wecom.api`: the server API client (access_token, message/send,
  template cards, media, menu, group robot) with typed results.
- :mod:`handlers.wecom.message_split`: long texts as messages under 2048 bytes.
- :mod:`handlers.wecom.pacing`: per-member pacing under WeCom's silent-drop
  limits, and scheduled times moved off :00 and :30.
- :mod:`handlers.wecom.outbox_transport`: the outbox's WeCom transport
  (reminders and broadcasts, counted per member with a reserve for replies),
  with :mod:`handlers.wecom.outbox_rendering` for the texts.
- :mod:`handlers.wecom.group_digest`: each reminder slot's digest to a
  campaign's group robot, with :mod:`handlers.wecom.robot_webhook` for the
  webhook URL.
"""
