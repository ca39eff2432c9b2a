"""The zip bundle: the workbook and every uploaded file, under safe names.

Layout of ``<name>.zip``::

    <name>.xlsx                                  the workbook, attachment cells linked
    attachments/<unit>/<question id>-<file name>  each file of each unit

Names inside the zip never come from respondents unchecked. A unit or file
name is NFC-normalised; tabs and line breaks become spaces; it loses the
characters Windows forbids in file names (``/ \\ : * ? " < > |``), control,
format (bidi overrides), private-use and unassigned characters, ``#`` and
``%`` (they break a hyperlink's target), leading dots and spaces, and trailing
dots and spaces; a Windows reserved device name (``CON``, ``NUL``,
``COM1``...) gets a leading ``_``; an empty result becomes ``unit-<position>``
or ``file``; long names are shortened to 120 characters keeping the
extension. So no entry can climb out of its folder (``../../etc/passwd``
becomes ``etcpasswd``) or be absolute (``C:\\x.pdf`` becomes ``Cx.pdf``).
Two units, or two files of one unit, that end up with the same name (compared
case-insensitively, as Windows and macOS do) are told apart with ``-2``,
``-3``... before the extension.

The bytes come from the data directory: an answer's ``ref`` is a path relative
to it (``attachments/ab/<sha256>``), and one that does not resolve to a file
inside ``<data dir>/attachments`` is left out (and counted as missing).
"""

from __future__ import annotations

import logging
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final

logger = logging.getLogger(__name__)

ATTACHMENTS_DIR: Final = "attachments"
#: Longest unit folder and file name inside the zip, in characters.
MAX_NAME_LENGTH: Final = 120
_BLANKS: Final = re.compile(r"[\t\n\r\v\f]")
_FORBIDDEN: Final = re.compile(r'[/\\:*?"<>|#%\x00-\x1f\x7f-\x9f]')
#: Unicode categories left out of names: controls, format characters (bidi overrides
#: could disguise an extension), surrogates, private use and unassigned code points.
_INVISIBLE: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_RESERVED: Final = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{digit}" for digit in "0123456789¹²³"}
    | {f"lpt{digit}" for digit in "0123456789¹²³"}
)
#: Extensions whose content is compressed already: stored in the zip as they are.
_COMPRESSED: Final = frozenset(
    {"xlsx", "docx", "pptx", "zip", "gz", "7z", "rar", "jpg", "jpeg", "png", "gif", "webp", "heic",
     "mp4", "mov", "mp3", "m4a", "pdf"}
)


def sanitize_name(name: str, *, fallback: str) -> str:
    """A name safe as one component of a path on any system (see the module's doc)."""
    name = unicodedata.normalize("NFC", name)
    name = _BLANKS.sub(" ", name)
    name = "".join(char for char in name if unicodedata.category(char) not in _INVISIBLE)
    name = _FORBIDDEN.sub("", name)
    name = " ".join(name.split())  # tabs, newlines and runs of spaces become one space
    name = name.lstrip(". ").rstrip(". ")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and 0 < len(extension) <= 10:
            name = stem[: MAX_NAME_LENGTH - len(extension) - 1].rstrip(". ") + "." + extension
        else:
            name = name[:MAX_NAME_LENGTH].rstrip(". ")
    if not name:
        return fallback
    if name.split(".", 1)[0].rstrip(" ").casefold() in _RESERVED:
        name = "_" + name
    return name


def _numbered(name: str, number: int) -> str:
    """``report.pdf`` → ``report-2.pdf``."""
    stem, dot, extension = name.rpartition(".")
    if dot and stem:
        return f"{stem}-{number}.{extension}"
    return f"{name}-{number}"


class _UniqueNames:
    """Hands out names unique within one folder, case-insensitively."""

    __slots__ = ("_taken",)

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def claim(self, name: str) -> str:
        candidate, number = name, 1
        while candidate.casefold() in self._taken:
            number += 1
            candidate = _numbered(name, number)
        self._taken.add(candidate.casefold())
        return candidate


@dataclass(frozen=True, slots=True)
class BundleFile:
    """One file to put in the zip: where it goes and where its bytes are."""

    arcname: str
    source: Path


class BundlePlan:
    """Names every attachment of an export while the units stream by.

    Memory: one entry per attachment and one name per unit that has files.
    """

    def __init__(self, *, data_dir: Path | None) -> None:
        self.data_dir = data_dir
        self._root = (data_dir / ATTACHMENTS_DIR).resolve() if data_dir is not None else None
        self._folders = _UniqueNames()
        self._unit_folder: dict[int, tuple[str, _UniqueNames]] = {}
        self.files: list[BundleFile] = []
        #: File answers whose bytes could not be found.
        self.missing: list[str] = []

    def source_of(self, ref: object) -> Path | None:
        """The stored file an answer's ``ref`` names, if it lies inside the attachments folder."""
        if self._root is None or self.data_dir is None or not isinstance(ref, str) or not ref:
            return None
        relative = PurePosixPath(ref.replace("\\", "/"))
        if relative.is_absolute():
            return None
        try:
            path = (self.data_dir / relative).resolve()
        except (OSError, RuntimeError, ValueError):
            return None
        if not path.is_relative_to(self._root) or not path.is_file():
            return None
        return path

    def add(
        self, *, unit_id: int, unit_name: str, position: int, question_id: str, file_name: str, ref: object
    ) -> str | None:
        """The file's path inside the zip (also its hyperlink target), or None if it is missing.

        Without a data directory no file is looked for (nor reported missing).
        """
        if self.data_dir is None:
            return None
        source = self.source_of(ref)
        if source is None:
            self.missing.append(f"{unit_name}: {question_id} ({file_name})")
            logger.warning(
                "export: the file %r of unit %r, question %s is not in the data directory; left out",
                file_name,
                unit_name,
                question_id,
            )
            return None
        folder = self._unit_folder.get(unit_id)
        if folder is None:
            name = self._folders.claim(sanitize_name(unit_name, fallback=f"unit-{position}"))
            folder = (name, _UniqueNames())
            self._unit_folder[unit_id] = folder
        folder_name, names = folder
        safe_question = sanitize_name(question_id, fallback="question")
        file_part = sanitize_name(file_name, fallback="file")
        entry = names.claim(sanitize_name(f"{safe_question}-{file_part}", fallback=safe_question))
        arcname = f"{ATTACHMENTS_DIR}/{folder_name}/{entry}"
        self.files.append(BundleFile(arcname=arcname, source=source))
        return arcname


def _compression(name: str) -> int:
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return zipfile.ZIP_STORED if extension in _COMPRESSED else zipfile.ZIP_DEFLATED


def write_bundle(
    *, path: Path, workbook: Path, workbook_name: str, files: Iterable[BundleFile]
) -> int:
    """Write the zip at ``path``: the workbook as ``workbook_name``, then the files.

    Returns the number of files written. A file that vanished since it was
    planned is skipped with a warning.
    """
    written = 0
    with zipfile.ZipFile(path, "w", allowZip64=True, strict_timestamps=False) as archive:
        archive.write(workbook, workbook_name, compress_type=zipfile.ZIP_STORED)
        for item in files:
            try:
                archive.write(item.source, item.arcname, compress_type=_compression(item.arcname))
            except FileNotFoundError:
                logger.warning("export: %s disappeared before it could be zipped; left out", item.source)
                continue
            written += 1
    return written

