"""Telegram text formatting for the fake Bot API server.

Turns ``text`` + ``parse_mode`` (``HTML``, ``MarkdownV2`` or legacy ``Markdown``) into what the
real Bot API stores and returns: the plain text the user sees plus a list of ``MessageEntity``
dicts whose ``offset``/``length`` are counted in UTF-16 code units.  Malformed markup raises
:class:`FormattingError` whose message mimics Telegram's ``can't parse entities`` errors, so a
bot that forgets to escape a ``.`` in MarkdownV2 fails in tests just like in production.

This is a faithful-enough re-implementation of the documented rules
(https://core.telegram.org/bots/api#formatting-options), not a byte-exact copy of TDLib.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FormattingError", "UnsupportedParseMode", "parse_text", "utf16_len"]


class FormattingError(ValueError):
    """Malformed markup; ``str(exc)`` is the part after ``Bad Request: can't parse entities: ``."""


class UnsupportedParseMode(ValueError):
    """``parse_mode`` is not one of HTML, MarkdownV2, Markdown."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (the unit of Telegram entity offsets)."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(src: str, index: int) -> int:
    return len(src[:index].encode("utf-8"))


class _Out:
    """Accumulates the plain text and tracks the current UTF-16 position."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.pos += utf16_len(text)

    def text(self) -> str:
        return "".join(self.parts)


@dataclass
class _Open:
    kind: str
    start: int  # UTF-16 offset in the output
    src_index: int  # index in the source (for error messages)
    name: str = ""  # HTML tag name
    extra: dict[str, Any] = field(default_factory=dict)


def _entity(kind: str, offset: int, length: int, extra: dict[str, Any]) -> dict[str, Any]:
    ent: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
    ent.update({k: v for k, v in extra.items() if v not in (None, "")})
    return ent


def _sorted(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted((e for e in entities if e["length"] > 0), key=lambda e: (e["offset"], -e["length"]))


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Return ``(plain_text, entities)`` for ``text`` formatted with ``parse_mode``.

    ``parse_mode`` of ``None``/``""`` returns the text unchanged with no entities.
    """
    if not parse_mode:
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _parse_markdown_v2(text)
    if mode == "markdown":
        return _parse_markdown_legacy(text)
    raise UnsupportedParseMode(parse_mode)


# --------------------------------------------------------------------------- MarkdownV2

_V2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
    "code": "Code",
    "pre": "Pre",
    "blockquote": "BlockQuote",
}
_V2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def _parse_markdown_v2(src: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Out()
    entities: list[dict[str, Any]] = []
    stack: list[_Open] = []
    n = len(src)
    i = 0

    def unclosed(o: _Open) -> FormattingError:
        return FormattingError(
            f"Can't find end of {_V2_NAMES[o.kind]} entity at byte offset "
            f"{_byte_offset(src, o.src_index)}"
        )

    def reserved(ch: str) -> FormattingError:
        return FormattingError(
            f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
        )

    def toggle(kind: str, index: int) -> None:
        if stack and stack[-1].kind == kind:
            o = stack.pop()
            entities.append(_entity(kind, o.start, out.pos - o.start, o.extra))
        elif any(o.kind == kind for o in stack):
            raise unclosed(next(o for o in stack if o.kind == kind))
        else:
            stack.append(_Open(kind, out.pos, index))

    def scan_literal(j: int, terminator: str, opener: _Open) -> tuple[str, int]:
        buf: list[str] = []
        while j < n:
            ch = src[j]
            if ch == "\\" and j + 1 < n and 1 <= ord(src[j + 1]) <= 126:
                buf.append(src[j + 1])
                j += 2
                continue
            if src.startswith(terminator, j):
                return "".join(buf), j + len(terminator)
            buf.append(ch)
            j += 1
        raise unclosed(opener)

    line_start = True
    while i < n:
        c = src[i]
        at_line_start = line_start
        line_start = False
        if c == "\\":
            if i + 1 < n and 1 <= ord(src[i + 1]) <= 126:
                out.add(src[i + 1])
                i += 2
                continue
            raise reserved("\\")
        if c == "\n":
            if stack and stack[-1].kind == "blockquote" and not src.startswith(">", i + 1):
                o = stack.pop()
                entities.append(_entity("blockquote", o.start, out.pos - o.start, {}))
            out.add(c)
            line_start = True
            i += 1
            continue
        if c == "`":
            if src.startswith("```", i):
                opener = _Open("pre", out.pos, i)
                j = i + 3
                language = ""
                newline = src.find("\n", j)
                end = src.find("```", j)
                if newline != -1 and (end == -1 or newline < end):
                    language = src[j:newline].strip()
                    j = newline + 1
                content, i = scan_literal(j, "```", opener)
                start = out.pos
                out.add(content)
                entities.append(_entity("pre", start, out.pos - start, {"language": language}))
                continue
            opener = _Open("code", out.pos, i)
            content, i = scan_literal(i + 1, "`", opener)
            start = out.pos
            out.add(content)
            entities.append(_entity("code", start, out.pos - start, {}))
            continue
        if c == "*":
            toggle("bold", i)
            i += 1
            continue
        if c == "_":
            if src.startswith("__", i):
                toggle("underline", i)
                i += 2
            else:
                toggle("italic", i)
                i += 1
            continue
        if c == "~":
            toggle("strikethrough", i)
            i += 1
            continue
        if c == "|":
            if src.startswith("||", i):
                toggle("spoiler", i)
                i += 2
                continue
            raise reserved(c)
        if c == "!" and src.startswith("![", i):
            stack.append(_Open("custom_emoji", out.pos, i))
            i += 2
            continue
        if c == "[":
            stack.append(_Open("text_link", out.pos, i))
            i += 1
            continue
        if c == "]":
            if not stack or stack[-1].kind not in ("text_link", "custom_emoji"):
                if any(o.kind in ("text_link", "custom_emoji") for o in stack):
                    raise unclosed(stack[-1])
                raise reserved(c)
            o = stack.pop()
            i += 1
            if i < n and src[i] == "(":
                url, i = scan_literal(i + 1, ")", o)
                if o.kind == "custom_emoji":
                    emoji_id = url.split("id=", 1)[1] if "id=" in url else url
                    extra: dict[str, Any] = {"custom_emoji_id": emoji_id}
                else:
                    extra = {"url": url}
                entities.append(_entity(o.kind, o.start, out.pos - o.start, extra))
            continue
        if c == ">" and at_line_start:
            if not (stack and stack[-1].kind == "blockquote"):
                stack.append(_Open("blockquote", out.pos, i))
            i += 1
            continue
        if c in _V2_RESERVED:
            raise reserved(c)
        out.add(c)
        i += 1

    if stack and stack[-1].kind == "blockquote":
        o = stack.pop()
        entities.append(_entity("blockquote", o.start, out.pos - o.start, {}))
    if stack:
        raise unclosed(stack[0])
    return out.text(), _sorted(entities)


# --------------------------------------------------------------------------- legacy Markdown

_LEGACY_KINDS = {"*": "bold", "_": "italic"}


def _parse_markdown_legacy(src: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Out()
    entities: list[dict[str, Any]] = []
    n = len(src)
    i = 0

    def unclosed(index: int) -> FormattingError:
        return FormattingError(
            f"Can't find end of the entity starting at byte offset {_byte_offset(src, index)}"
        )

    while i < n:
        c = src[i]
        if c == "\\" and i + 1 < n and src[i + 1] in "_*`[":
            out.add(src[i + 1])
            i += 2
            continue
        if c in _LEGACY_KINDS:
            end = src.find(c, i + 1)
            if end == -1:
                raise unclosed(i)
            start = out.pos
            out.add(src[i + 1 : end])
            entities.append(_entity(_LEGACY_KINDS[c], start, out.pos - start, {}))
            i = end + 1
            continue
        if c == "`":
            if src.startswith("```", i):
                end = src.find("```", i + 3)
                if end == -1:
                    raise unclosed(i)
                body = src[i + 3 : end]
                language = ""
                if "\n" in body:
                    first, rest = body.split("\n", 1)
                    if first and not any(ch.isspace() for ch in first):
                        language, body = first, rest
                start = out.pos
                out.add(body)
                entities.append(_entity("pre", start, out.pos - start, {"language": language}))
                i = end + 3
                continue
            end = src.find("`", i + 1)
            if end == -1:
                raise unclosed(i)
            start = out.pos
            out.add(src[i + 1 : end])
            entities.append(_entity("code", start, out.pos - start, {}))
            i = end + 1
            continue
        if c == "[":
            close = src.find("]", i + 1)
            if close == -1 or close + 1 >= n or src[close + 1] != "(":
                raise unclosed(i)
            url_end = src.find(")", close + 2)
            if url_end == -1:
                raise unclosed(i)
            start = out.pos
            out.add(src[i + 1 : close])
            entities.append(
                _entity("text_link", start, out.pos - start, {"url": src[close + 2 : url_end]})
            )
            i = url_end + 1
            continue
        out.add(c)
        i += 1
    return out.text(), _sorted(entities)


# --------------------------------------------------------------------------- HTML

_TAG_RE = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)"
    r"((?:\s+[^\s=>/]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*/?>"
)
_ATTR_RE = re.compile(r"([^\s=>/]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?")
_CHARREF_RE = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot);")
_HTML_KINDS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _html_unescape_attr(value: str | None) -> str:
    if value is None:
        return ""
    if value[:1] in "\"'" and value[-1:] == value[:1] and len(value) >= 2:
        value = value[1:-1]
    return _CHARREF_RE.sub(lambda m: _decode_charref(m.group(1)), value)


def _decode_charref(ref: str) -> str:
    if ref in _NAMED_REFS:
        return _NAMED_REFS[ref]
    if ref.startswith("#x"):
        return chr(int(ref[2:], 16))
    return chr(int(ref[1:]))


def _parse_html(src: str) -> tuple[str, list[dict[str, Any]]]:
    out = _Out()
    entities: list[dict[str, Any]] = []
    stack: list[_Open] = []
    n = len(src)
    i = 0
    while i < n:
        c = src[i]
        if c == "&":
            m = _CHARREF_RE.match(src, i)
            if m:
                out.add(_decode_charref(m.group(1)))
                i = m.end()
                continue
            out.add(c)
            i += 1
            continue
        if c != "<":
            out.add(c)
            i += 1
            continue
        m = _TAG_RE.match(src, i)
        if not m:
            raise FormattingError(
                f"Unsupported start tag \"\" at byte offset {_byte_offset(src, i)}"
                if not src.startswith("</", i)
                else f"Unexpected end tag at byte offset {_byte_offset(src, i)}"
            )
        closing, name, attr_text = m.group(1) == "/", m.group(2).lower(), m.group(3)
        if closing:
            if not stack:
                raise FormattingError(f"Unexpected end tag at byte offset {_byte_offset(src, i)}")
            top = stack[-1]
            if top.name != name:
                raise FormattingError(
                    f"Unmatched end tag at byte offset {_byte_offset(src, i)}, "
                    f'expected "</{top.name}>", found "</{name}>"'
                )
            stack.pop()
            if top.kind:
                entities.append(_entity(top.kind, top.start, out.pos - top.start, top.extra))
            i = m.end()
            continue
        if name not in _HTML_KINDS:
            raise FormattingError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(src, i)}'
            )
        attrs = {
            a.group(1).lower(): _html_unescape_attr(a.group(2))
            for a in _ATTR_RE.finditer(attr_text)
        }
        kind = _HTML_KINDS[name]
        extra: dict[str, Any] = {}
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise FormattingError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(src, i)}'
            )
        if name == "a":
            href = attrs.get("href", "")
            extra = {"url": href}
            if not href:
                kind = ""  # <a> without href produces no entity
        if name == "tg-emoji":
            extra = {"custom_emoji_id": attrs.get("emoji-id", "")}
        if name == "blockquote" and "expandable" in attrs:
            kind = "expandable_blockquote"
        if name == "code" and stack and stack[-1].name == "pre":
            language = attrs.get("class", "")
            if language.startswith("language-"):
                stack[-1].extra["language"] = language[len("language-") :]
                kind = ""
        stack.append(_Open(kind, out.pos, i, name=name, extra=extra))
        i = m.end()
    if stack:
        raise FormattingError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return out.text(), _sorted(entities)
