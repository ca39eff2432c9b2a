"""Splitting a long text into WeCom messages, at line boundaries, under WeCom's byte limit.

WeCom counts a text message's ``content`` in UTF-8 bytes: at most 2048
(发送应用消息, developer.work.weixin.qq.com/document/path/90236, 文本消息:
"消息内容，最长不超过2048个字节"); longer content is refused with errcode 45002.
A Chinese character is three bytes, so about 680 of them fit in one message.

:func:`split_text` cuts between lines; only a single line longer than the
limit is cut inside the line, and never inside a multi-byte character.
"""

from __future__ import annotations

#: WeCom's limit for a text message's ``content``, in UTF-8 bytes.
TEXT_LIMIT_BYTES = 2048

_NEWLINE_BYTES = 1


def split_text(text: str, *, limit_bytes: int = TEXT_LIMIT_BYTES) -> list[str]:
    """``text`` as consecutive parts of at most ``limit_bytes`` UTF-8 bytes each.

    Parts end at line boundaries; the newline between two parts is dropped, and
    so are blank lines at either edge of a part (they would show as empty
    space). A line that alone exceeds the limit is cut at the last whole
    character that fits. Joining the parts with newlines gives back the text's
    lines in order. An empty (or blank) text gives no parts.
    """
    if limit_bytes < 4:
        raise ValueError(f"split_text: limit_bytes must be at least 4 (one UTF-8 character), got {limit_bytes}")
    parts: list[str] = []
    current: list[str] = []
    current_bytes = 0

    def flush() -> None:
        nonlocal current, current_bytes
        part = "\n".join(current).strip("\n")
        if part.strip():
            parts.append(part)
        current = []
        current_bytes = 0

    for line in text.split("\n"):
        for piece in _cut_line(line, limit_bytes):
            size = len(piece.encode("utf-8"))
            added = size if not current else size + _NEWLINE_BYTES
            if current and current_bytes + added > limit_bytes:
                flush()
                added = size
            current.append(piece)
            current_bytes += added
    flush()
    return parts


def _cut_line(line: str, limit_bytes: int) -> list[str]:
    """``line`` in pieces of at most ``limit_bytes`` bytes, cut only between characters."""
    encoded = line.encode("utf-8")
    if len(encoded) <= limit_bytes:
        return [line]
    pieces: list[str] = []
    start = 0
    while start < len(encoded):
        end = min(start + limit_bytes, len(encoded))
        # A UTF-8 continuation byte is 0b10xxxxxx: step back to the start of its character.
        while end < len(encoded) and (encoded[end] & 0xC0) == 0x80:
            end -= 1
        pieces.append(encoded[start:end].decode("utf-8"))
        start = end
    return pieces
