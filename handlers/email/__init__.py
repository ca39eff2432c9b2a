"""The e-mail channel: reminders and broadcasts to a unit's contact address through SMTP.

E-mail only sends: the reader answers through the unit's personal web link
the message carries (see :mod:`handlers.web` and docs/reminders.md).
"""
