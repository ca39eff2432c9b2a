"""Languages in XLSForm column headers: ``label::Chinese (zh)`` ↔ the code ``zh``.

XLSForm names a language in the header after ``::``; the recommended form is
``Name (code)``. We read that form, a bare code (``label::zh``) and a few
well-known names without a code (``label::English``), and we write
``Name (code)``.
"""

from __future__ import annotations

import re
from typing import Final

#: Names we write for the codes we know, and accept without a code.
LANGUAGE_NAMES: Final[dict[str, str]] = {
    "zh": "Chinese",
    "en": "English",
    "fr": "French",
    "es": "Spanish",
    "pt": "Portuguese",
    "ru": "Russian",
    "ar": "Arabic",
    "de": "German",
    "ja": "Japanese",
    "ko": "Korean",
}
_CODES_BY_NAME: Final = {name.lower(): code for code, name in LANGUAGE_NAMES.items()} | {"中文": "zh", "英文": "en"}
_CODE = r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*"
_NAME_AND_CODE: Final = re.compile(rf"^(?P<name>.*?)\s*\((?P<code>{_CODE})\)$")
_BARE_CODE: Final = re.compile(rf"^{_CODE}$")


def language_code(language: str) -> str | None:
    """The code of an XLSForm language name (``Chinese (zh)`` → ``zh``), or ``None`` if it has none."""
    text = language.strip()
    match = _NAME_AND_CODE.match(text)
    if match:
        return _normalized(match["code"])
    if text.lower() in _CODES_BY_NAME:
        return _CODES_BY_NAME[text.lower()]
    if _BARE_CODE.match(text):
        return _normalized(text)
    return None


def language_header(code: str) -> str:
    """How we name a language in a header: ``Chinese (zh)``."""
    return f"{LANGUAGE_NAMES.get(code, code)} ({code})"


def _normalized(code: str) -> str:
    first, _, rest = code.partition("-")
    return f"{first.lower()}-{rest}" if rest else first.lower()
