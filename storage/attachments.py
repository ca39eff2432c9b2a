"""Attachments: uploaded files kept under ``<data dir>/attachments/``, metadata in the database.

The stored path is relative to the data directory and built only from ids, the
question id, the content's sha256 and a sanitised copy of the file name, so a
respondent's file name can never point outside that folder. The data
directory is not served by any web server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import unicodedata
from datetime import datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import InvalidValueError, StorageError
from storage.models import QUESTION_ID_LENGTH, Attachment, Respondent, Response, Unit
from storage.rows import aware_now, sha256_hex

logger = logging.getLogger(__name__)

ATTACHMENTS_DIR = "attachments"
FILE_NAME_MAX_LENGTH = 80
_UNSAFE = re.compile(r"[^\w.\-() ]+")


def sanitize_file_name(name: str) -> str:
    """A file name safe on any file system: no directories, no control characters."""
    name = unicodedata.normalize("NFC", name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    if len(name) > FILE_NAME_MAX_LENGTH:
        stem, dot, suffix = name.rpartition(".")
        if dot and 0 < len(suffix) <= 10:
            name = stem[: FILE_NAME_MAX_LENGTH - len(suffix) - 1].rstrip(" .") + "." + suffix
        else:
            name = name[:FILE_NAME_MAX_LENGTH].rstrip(" .")
    return name or "file"


def attachment_relative_path(
    *, campaign_id: int, response_id: int, question_id: str, sha256: str, original_name: str
) -> PurePosixPath:
    """``attachments/c<campaign>/r<response>/<question>-<sha256 prefix>-<safe name>``."""
    safe_question = sanitize_file_name(question_id)[:QUESTION_ID_LENGTH]
    return PurePosixPath(
        ATTACHMENTS_DIR,
        f"c{campaign_id}",
        f"r{response_id}",
        f"{safe_question}-{sha256[:16]}-{sanitize_file_name(original_name)}",
    )


def attachment_file(*, data_dir: Path, attachment: Attachment) -> Path:
    """The absolute path of the attachment's bytes, checked to lie under the attachments folder."""
    root = (data_dir / ATTACHMENTS_DIR).resolve()
    path = (data_dir / attachment.stored_path).resolve()
    if not path.is_relative_to(root):
        raise StorageError(f"attachment {attachment.id} points outside {root}")
    return path


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size == len(content):
        return  # same name embeds the same sha256 prefix: already stored
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as stream:
        stream.write(content)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)


async def store_attachment(
    *,
    session: AsyncSession,
    data_dir: Path,
    response: Response,
    question_id: str,
    original_name: str,
    content: bytes,
    mime_type: str | None = None,
    respondent: Respondent | None = None,
    now: datetime | None = None,
) -> Attachment:
    """Write the file under the data directory, then record it.

    The bytes are on disk before the row is committed; a transaction that
    rolls back leaves an unreferenced file behind, never a row without file.
    """
    if not question_id or len(question_id) > QUESTION_ID_LENGTH:
        raise InvalidValueError(f"bad question id {question_id!r}")
    campaign_id = await session.scalar(select(Unit.campaign_id).where(Unit.id == response.unit_id))
    if campaign_id is None:
        raise StorageError(f"response {response.id} has no unit")
    digest = sha256_hex(content)
    relative = attachment_relative_path(
        campaign_id=campaign_id,
        response_id=response.id,
        question_id=question_id,
        sha256=digest,
        original_name=original_name,
    )
    try:
        await asyncio.to_thread(_write_atomically, data_dir / relative, content)
    except OSError as error:
        raise StorageError(f"cannot store the attachment under {data_dir}: {error}") from None
    attachment = Attachment(
        response_id=response.id,
        question_id=question_id,
        original_name=original_name[:255] or "file",
        stored_path=relative.as_posix(),
        size=len(content),
        mime_type=(mime_type or None) and mime_type[:127],
        sha256=digest,
        uploaded_by_respondent_id=respondent.id if respondent is not None else None,
        created_at=aware_now(now),
    )
    session.add(attachment)
    await session.flush()
    logger.info("stored attachment %s (%d bytes) for response %s", relative, len(content), response.id)
    return attachment


async def list_attachments(
    *, session: AsyncSession, response: Response, question_id: str | None = None
) -> list[Attachment]:
    statement = (
        select(Attachment).where(Attachment.response_id == response.id).order_by(Attachment.id)
    )
    if question_id is not None:
        statement = statement.where(Attachment.question_id == question_id)
    return list(await session.scalars(statement))
