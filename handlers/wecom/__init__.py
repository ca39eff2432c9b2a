"""The WeCom (企业微信) channel: a self-built app (自建应用) that runs the survey in WeCom.

Like ``handlers/telegram/``, everything WeCom-specific lives here (see
``docs/wecom.md``):

- :mod:`handlers.wecom.callback`: the ``/wecom/callback`` route (URL
  verification; callbacks recorded in the durable inbox before the empty 200),
  with :mod:`handlers.wecom.recording` grouping the records.
- :mod:`handlers.wecom.conversation`: the inbox's handler, one recorded
  callback through the survey service; :mod:`handlers.wecom.words` (what a
  typed message means), :mod:`handlers.wecom.rendering` (numbered text and
  words to type), :mod:`handlers.wecom.cards` (template cards and presses),
  :mod:`handlers.wecom.menu`, :mod:`handlers.wecom.account_state`.
- :mod:`handlers.wecom.coordinator`: 状态, 导出, 提醒, 登录.
- :mod:`handlers.wecom.replies`: replies sent at once, paced per member.
- :mod:`handlers.wecom.setup`: the channel from the settings.
- :mod:`handlers.wecom.crypto`, :mod:`handlers.wecom.inbound`,
  :mod:`handlers.wecom.safe_xml`, :mod:`handlers.wecom.rejection`: the
  callback encryption and parsing.
- :mod:`handlers.wecom.api`: the server API client (access_token,
  message/send, template cards, media, menu, group robot).
- :mod:`handlers.wecom.message_split`, :mod:`handlers.wecom.pacing`: long
  texts under 2048 bytes; per-member pacing under the silent-drop limits.
- :mod:`handlers.wecom.outbox_transport`: the outbox's WeCom transport
  (reminders and broadcasts, counted per member with a reserve for replies),
  with :mod:`handlers.wecom.outbox_rendering` for the texts.
- :mod:`handlers.wecom.group_digest`: each reminder slot's digest to a
  campaign's group robot, with :mod:`handlers.wecom.robot_webhook` for the
  webhook URL.
"""
