"""What an uploaded file's first bytes must look like for the type its name claims.

A name and a declared MIME type are only claims: a Windows program renamed
``表.pdf`` claims to be a PDF. The service reads the first bytes of every
upload (:data:`HEAD_BYTES`) and the engine refuses a file whose bytes do not
fit its extension, and any executable, whatever its name.
"""

from __future__ import annotations

from typing import Final

#: How many leading bytes the checks need.
HEAD_BYTES: Final = 16

_ZIP: Final = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")  # Office Open XML and OpenDocument are zips
_OLE: Final = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)  # the old Office formats
_JPEG: Final = (b"\xff\xd8",)
_TIFF: Final = (b"II*\x00", b"MM\x00*")

#: The leading bytes each known extension's files start with (one of them).
SIGNATURES: Final[dict[str, tuple[bytes, ...]]] = {
    "pdf": (b"%PDF",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": _JPEG,
    "jpeg": _JPEG,
    "gif": (b"GIF87a", b"GIF89a"),
    "bmp": (b"BM",),
    "tif": _TIFF,
    "tiff": _TIFF,
    "zip": _ZIP,
    "docx": _ZIP,
    "xlsx": _ZIP,
    "pptx": _ZIP,
    "odt": _ZIP,
    "ods": _ZIP,
    "odp": _ZIP,
    "doc": _OLE,
    "xls": _OLE,
    "ppt": _OLE,
    "rar": (b"Rar!\x1a\x07",),
    "7z": (b"7z\xbc\xaf\x27\x1c",),
}

#: Programs: refused under any name (Windows PE, Linux ELF, macOS Mach-O).
EXECUTABLE_SIGNATURES: Final = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
)


def is_executable(head: bytes) -> bool:
    return head.startswith(EXECUTABLE_SIGNATURES)


def fits_extension(extension: str, head: bytes) -> bool:
    """Whether a file starting with ``head`` can be what ``extension`` says.

    Extensions without a known signature (``txt``, ``csv``...) fit any bytes
    but a program's. WebP and HEIC carry their mark a few bytes in.
    """
    if is_executable(head):
        return False
    extension = extension.lower().lstrip(".")
    if extension == "webp":
        return head.startswith(b"RIFF") and head[8:12] == b"WEBP"
    if extension in {"heic", "heif"}:
        return head[4:8] == b"ftyp"
    signatures = SIGNATURES.get(extension)
    return signatures is None or head.startswith(signatures)
