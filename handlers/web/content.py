"""What an uploaded file is, decided by its first bytes (never by its name or declared type)."""

from __future__ import annotations

#: Leading bytes → (MIME type, extension). The engine checks the type against the question's ``accept``.
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"GIF87a", "image/gif", ".gif"),
    (b"GIF89a", "image/gif", ".gif"),
)


def sniff(head: bytes) -> tuple[str, str] | None:
    """The (MIME type, extension) the content starts like, or None for anything else (an executable, an empty file)."""
    for magic, mime, extension in SIGNATURES:
        if head.startswith(magic):
            return mime, extension
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    return None


def upload_name(original: str, extension: str) -> str:
    """The stored name: the browser's file name, its extension made to match the content."""
    stem = original.replace("\\", "/").rsplit("/", 1)[-1].strip() or "file"
    base, dot, _ = stem.rpartition(".")
    return f"{base if dot else stem}{extension}"[:200]
