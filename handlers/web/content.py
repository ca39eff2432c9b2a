"""What an uploaded file is, decided by its first bytes (never by its name or declared type)."""

from __future__ import annotations

from bot.core.file_content import fits_extension

#: What the web chat takes, as (extension, MIME type), tried in this order.
ACCEPTED: tuple[tuple[str, str], ...] = (
    ("pdf", "application/pdf"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
)


def sniff(head: bytes) -> tuple[str, str] | None:
    """The (MIME type, extension) the content starts like, or None for anything else (an executable, an empty file).

    The signatures are the engine's (:mod:`bot.core.file_content`), so every channel judges bytes alike.
    """
    for extension, mime in ACCEPTED:
        if head and fits_extension(extension, head):
            return mime, f".{extension}"
    return None


def upload_name(original: str, extension: str) -> str:
    """The stored name: the browser's file name, its extension made to match the content."""
    stem = original.replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    base, dot, _ = stem.rpartition(".")
    return f"{base if dot else stem}{extension}"[:200]
