"""XLSForm expressions translated into ours, or refused with the reason.

Our expression language (:mod:`bot.expressions`) is a subset of XLSForm's, so
a translation mostly keeps the text: it turns typographic quotes (a
spreadsheet's autocorrect) into plain ones and inlines the expressions of
``calculate`` rows, then our own parser has the last word. What reads data we
do not have (``pulldata()``, ``instance()``), XPath paths and functions
outside our subset are refused with a fix, never guessed.
"""

from __future__ import annotations

import re
from typing import Final

from bot.core.expressions import ExpressionError, parse_expression

_QUOTES: Final = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "\u00a0": " "})
_STRINGS: Final = re.compile(r"'[^']*'|\"[^\"]*\"")
_CALLS: Final = re.compile(r"([A-Za-z_][A-Za-z0-9_:.-]*)\s*\(")
_PATHS: Final = re.compile(r"(?:^|[\s(,=<>+*-])(?:\.\./|/[A-Za-z_])")
REFERENCE: Final = re.compile(r"\$\{([^}]*)\}")

#: Functions of XLSForm that read data or state a chat survey does not have.
_UNSUPPORTED: Final[dict[str, str]] = {
    "pulldata": "pulldata() reads a CSV file attached to the form, which surveybot does not have",
    "instance": "instance() reads a secondary data set, which surveybot does not have",
    "jr:choice-name": "jr:choice-name() is not supported",
    "indexed-repeat": "indexed-repeat() needs repeats, which are not supported",
    "position": "position() needs repeats, which are not supported",
    "regex": "regex() is not supported",
    "now": "now() is not supported",
    "once": "once() is not supported",
    "random": "random() is not supported",
    "uuid": "uuid() is not supported",
    "last-saved": "last-saved values are not supported",
}
_FIX: Final = (
    "write it with ${name} references, quotes, numbers, = != < <= > >=, and, or, not(), + - * div mod "
    "and selected(), count-selected(), string-length(), if(), today(), number(), string(), int(), round(), "
    "concat(), coalesce() (see docs/survey-format.md)"
)


class ExpressionProblem(Exception):
    """An expression we cannot take: what is wrong and how to fix it."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


def normalize(text: str) -> str:
    """The expression with plain quotes and spaces, as our parser reads it."""
    return text.translate(_QUOTES).strip()


def translate_expression(text: str) -> str:
    """``text`` in our expression language; raises :class:`ExpressionProblem`.

    References are left as they are: :func:`inline_calculations` and the
    reader's reference checks deal with them.
    """
    source = normalize(text)
    bare = _STRINGS.sub("''", source)
    for name in _CALLS.findall(bare):
        if name in _UNSUPPORTED:
            fix = (
                "write the pattern in the surveybot_pattern column (a regular expression the whole answer must match)"
                if name == "regex"
                else _FIX
            )
            raise ExpressionProblem(f"{_UNSUPPORTED[name]} (in {source!r})", fix)
    if _PATHS.search(bare):
        raise ExpressionProblem(f"XPath paths (/data/…, ../) are not supported (in {source!r})", "refer to a question as ${name}")
    check(source)
    return source


def check(source: str) -> None:
    """Raise :class:`ExpressionProblem` unless our parser accepts ``source``."""
    try:
        parse_expression(source)
    except ExpressionError as error:
        what, _, how = str(error).partition("; ")
        raise ExpressionProblem(f"{what} (in {source!r})", how or _FIX) from None


def inline_calculations(source: str, calculations: dict[str, str]) -> str:
    """``source`` with each ``${name}`` of a calculate row replaced by its (parenthesized) expression."""

    def replace(match: re.Match[str]) -> str:
        name = match[1]
        return f"({calculations[name]})" if name in calculations else match[0]

    return REFERENCE.sub(replace, source)


def references(source: str) -> list[str]:
    """The names ``source`` refers to with ``${name}``, in order."""
    return REFERENCE.findall(source)
