"""Fakes of external services for end-to-end tests (only third-party servers are faked).

* :mod:`tests.fakes.telegram` - a fake Telegram Bot API server (``FakeTelegram``) that the real
  python-telegram-bot ``Application`` talks HTTP to.  Run it as a process with
  ``python -m tests.fakes.telegram --port 8081`` (or ``python -m tests.fakes``).
* :mod:`tests.fakes.wecom` - a fake WeCom server API (``FakeWeCom``: gettoken, message/send,
  update_template_card, media/upload, media/get, menu/create, the group robot's webhook/send)
  that our WeCom client talks HTTP to; import it from ``tests.fakes.wecom``.

Names are imported lazily so that ``python -m tests.fakes.telegram`` does not import the module
twice.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["FakeTelegram", "FakeUser", "RemoteFakeTelegram"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("tests.fakes.telegram"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
