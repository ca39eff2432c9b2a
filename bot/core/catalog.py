"""User-facing text: one catalog per language in ``bot/core/locales/<lang>.yaml``.

Every string a respondent or coordinator reads comes from here, looked up by a
dotted key and formatted with ``str.format`` keyword arguments. The catalogs
must hold the same keys (a test checks it); a key missing from one language
falls back to Chinese, the product's first language.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

LOCALES_DIR = Path(__file__).with_name("locales")
#: Languages the bot itself speaks, first is the fallback.
BOT_LANGUAGES: tuple[str, ...] = ("zh", "en")
FALLBACK_LANGUAGE = BOT_LANGUAGES[0]


class CatalogError(LookupError):
    """A key is missing from every catalog: a bug in the calling code."""


def _flatten(prefix: str, node: Mapping[str, Any], into: dict[str, str]) -> None:
    for key, value in node.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            _flatten(name, value, into)
        else:
            into[name] = str(value)


@functools.cache
def catalog(language: str) -> Mapping[str, str]:
    """The flattened catalog of one language (empty for an unknown language)."""
    path = LOCALES_DIR / f"{language}.yaml"
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8") as stream:
        data = yaml.safe_load(stream) or {}
    flat: dict[str, str] = {}
    _flatten("", data, flat)
    return flat


def bot_language(language: str | None) -> str:
    """The catalog language closest to ``language`` (``zh-hans`` gives ``zh``)."""
    if language:
        base = language.lower().replace("_", "-").split("-")[0]
        if base in BOT_LANGUAGES:
            return base
    return FALLBACK_LANGUAGE


def translate(language: str, key: str, /, **params: object) -> str:
    """The text for ``key`` in ``language``, formatted with ``params``."""
    template = catalog(bot_language(language)).get(key)
    if template is None:
        template = catalog(FALLBACK_LANGUAGE).get(key)
    if template is None:
        raise CatalogError(f"no catalog entry {key!r}; add it to bot/core/locales/*.yaml")
    return template.format(**params) if params else template
