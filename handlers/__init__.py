"""Channels: one folder per channel (``telegram/``), and ``terminal`` for ``surveybot try``.

Each channel turns its input into engine actions, calls the services in
:mod:`bot` and renders the same channel-neutral replies.
"""
