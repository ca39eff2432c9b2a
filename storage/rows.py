"""Small helpers shared by the repository modules."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import InvalidValueError
from storage.types import utc_now

RowT = TypeVar("RowT")


async def insert_unless_exists(
    session: AsyncSession,
    row: RowT,
    *,
    existing: Callable[[], Awaitable[RowT | None]],
) -> tuple[RowT, bool]:
    """Return ``(existing row, False)`` or insert ``row`` and return ``(row, True)``.

    On PostgreSQL the insert runs in a savepoint, so that losing a race against
    another transaction inserting the same unique key ends in reading that row
    rather than in an error that spoils the transaction.
    """
    found = await existing()
    if found is not None:
        return found, False
    if session.get_bind().dialect.name == "sqlite":
        # A write transaction holds SQLite's database lock from its start: no
        # other one can insert the same key in between, and the savepoint's
        # two extra statements would buy nothing.
        session.add(row)
        await session.flush()
        return row, True
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        found = await existing()
        if found is None:
            raise
        return found, False
    return row, True


async def insert_ignoring_duplicates(
    session: AsyncSession,
    model: type[Any],
    values: dict[str, Any],
    *,
    unique: tuple[str, ...],
) -> bool:
    """Insert one row with ``INSERT ... ON CONFLICT (unique) DO NOTHING``; True if it was inserted.

    One statement, where :func:`insert_unless_exists` needs a select and a
    savepoint. On PostgreSQL a concurrent insert of the same key waits for the
    other transaction and then reports False (or inserts, if that one rolled back).
    """
    dialect_name = session.get_bind().dialect.name
    statement = _insert_ignoring_statement(dialect_name, model, unique)  # type: ignore[arg-type]  # classes hash by identity; typeshed's type[Any] is not Hashable
    connection = await session.connection()
    result = await connection.execute(statement, values)
    return bool(result.rowcount == 1)


@functools.cache
def _insert_ignoring_statement(dialect_name: str, model: type[Any], unique: tuple[str, ...]) -> Insert:
    """Built once per table: a reused statement keeps its cache key, so it is not hashed again per row."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(model).on_conflict_do_nothing(index_elements=list(unique))


def require_in_session(session: AsyncSession, row: object, name: str) -> None:
    """Refuse a row loaded by another session: changes to it would be silently lost."""
    if row not in session:
        raise InvalidValueError(
            f"the {name} was loaded in another session; load it in this transaction first"
        )


#: The largest id of a table keyed by a 32-bit ``INTEGER`` on PostgreSQL (campaigns, units, attachments).
MAX_INTEGER_ID = 2**31 - 1


def is_integer_id(value: int) -> bool:
    """Whether ``value`` can be the id of a row of a table keyed by an ``INTEGER`` (asyncpg refuses a larger one)."""
    return 0 < value <= MAX_INTEGER_ID


def aware_now(now: datetime | None) -> datetime:
    """``now`` checked to be timezone-aware, or the current UTC time."""
    if now is None:
        return utc_now()
    return require_aware(now, "now")


def require_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValueError(f"{name} must be timezone-aware, got {value.isoformat()}")
    return value


def canonical_json(data: Any) -> str:
    """The JSON text of ``data`` with sorted keys and no spaces: stable for hashing."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()
