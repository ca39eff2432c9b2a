"""Rosters: the units of a campaign, in the coordinator's order, each owing one response.

Also reads a units file: UTF-8 text (with or without a BOM) or CSV, one unit
per line in its first column, optionally the unit's contact e-mail in the
second (``NAME<TAB>EMAIL``; a second column without ``@`` is a note and
ignored, one with ``@`` must be a valid address); blank lines and lines starting with ``#`` are
ignored.
"""

from __future__ import annotations

import csv
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.errors import DuplicateUnitError, InvalidValueError, StorageError, UnitNotFoundError
from storage.models import EXTERNAL_ID_LENGTH, Campaign, Response, ResponseStatus, Unit

logger = logging.getLogger(__name__)

UNIT_NAME_MAX_LENGTH = 200
UNITS_FILE_MAX_BYTES = 5 * 1024 * 1024
#: The longest address stored (a respondent's external id; real addresses are far shorter).
EMAIL_MAX_LENGTH = EXTERNAL_ID_LENGTH
#: One address, ``local@domain.tld``: no spaces, no second @, a dotted domain.
_EMAIL = re.compile(r"[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\u0080-\uffff-]*[A-Za-z0-9\u0080-\uffff])?(?:\.[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\u0080-\uffff-]*[A-Za-z0-9\u0080-\uffff])?)+")


@dataclass(frozen=True, slots=True)
class RosterLine:
    """One unit of a units file, with its contact e-mail when the line gives one."""

    name: str
    email: str | None = None


class RosterFileError(StorageError):
    """A units file cannot be read or lists a unit twice; the message names file and line."""


def normalize_unit_name(name: str) -> str:
    """The unit name as stored: NFC, spaces trimmed and runs of spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", name).split())


def check_unit_names(names: Iterable[str]) -> list[str]:
    """Normalised names; raises :class:`InvalidValueError` for an empty, long or repeated one."""
    result: list[str] = []
    seen: set[str] = set()
    for raw in names:
        name = normalize_unit_name(raw)
        if not name:
            raise InvalidValueError("a unit name is empty")
        if len(name) > UNIT_NAME_MAX_LENGTH:
            raise InvalidValueError(
                f"unit name {name[:40]!r}... is longer than {UNIT_NAME_MAX_LENGTH} characters"
            )
        if name in seen:
            raise InvalidValueError(f"unit {name!r} is listed twice")
        seen.add(name)
        result.append(name)
    return result


def check_email_address(raw: str) -> str:
    """The address as stored (trimmed, lower-cased); :class:`InvalidValueError` saying what is wrong."""
    address = raw.strip().lower()
    if not address:
        raise InvalidValueError("the e-mail address is empty")
    if len(address) > EMAIL_MAX_LENGTH:
        raise InvalidValueError(f"e-mail address {address[:40]!r}... is longer than {EMAIL_MAX_LENGTH} characters")
    if not _EMAIL.fullmatch(address):
        raise InvalidValueError(f"{raw.strip()!r} is not an e-mail address; write it as name@example.cn")
    return address


def read_units_file(path: str | Path) -> list[str]:
    """The unit names of a units file, in file order (see :func:`read_roster_file`)."""
    return [line.name for line in read_roster_file(path)]


def read_roster_file(path: str | Path) -> list[RosterLine]:
    """The units of a units file, in file order, each with its contact e-mail if the line has one.

    Raises :class:`RosterFileError` for a missing or unreadable file, a file
    that is not UTF-8, a file without units, a unit listed twice, or a second
    column that is not an e-mail address.
    """
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise RosterFileError(f"{source}: file not found; check the path") from None
    except IsADirectoryError:
        raise RosterFileError(f"{source}: is a directory; name a text or CSV file") from None
    except OSError as error:
        raise RosterFileError(f"{source}: cannot be read ({error.strerror})") from None
    if len(data) > UNITS_FILE_MAX_BYTES:
        raise RosterFileError(f"{source}: larger than {UNITS_FILE_MAX_BYTES // 1024 // 1024} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RosterFileError(
            f"{source}: not UTF-8 text (byte {error.start}); save it as UTF-8"
        ) from None
    if "\x00" in text:
        raise RosterFileError(f"{source}: is a binary file; give a text or CSV file")
    delimiter = "\t" if "\t" in text else ","
    lines: list[RosterLine] = []
    first_line: dict[str, int] = {}
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            columns = next(csv.reader([line], delimiter=delimiter), [])
        except csv.Error as error:
            raise RosterFileError(f"{source}: line {line_number}: {error}") from None
        name = normalize_unit_name(columns[0]) if columns else ""
        if not name:
            raise RosterFileError(f"{source}: line {line_number}: the first column is empty")
        if len(name) > UNIT_NAME_MAX_LENGTH:
            raise RosterFileError(
                f"{source}: line {line_number}: unit name longer than {UNIT_NAME_MAX_LENGTH} characters"
            )
        if name in first_line:
            raise RosterFileError(
                f"{source}: line {line_number}: unit {name!r} is already on line {first_line[name]}"
            )
        email: str | None = None
        if len(columns) > 1 and "@" in columns[1]:  # other second columns are notes, as before
            try:
                email = check_email_address(columns[1])
            except InvalidValueError as error:
                raise RosterFileError(f"{source}: line {line_number}: {error}") from None
        first_line[name] = line_number
        lines.append(RosterLine(name=name, email=email))
    if not lines:
        raise RosterFileError(f"{source}: lists no units (one unit name per line)")
    return lines


async def _lock_campaign(session: AsyncSession, campaign: Campaign) -> None:
    # Serialises roster changes of one campaign on PostgreSQL (positions are unique).
    await session.execute(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())


async def _next_position(session: AsyncSession, campaign: Campaign) -> int:
    last = await session.scalar(
        select(func.max(Unit.position)).where(Unit.campaign_id == campaign.id)
    )
    return (last or 0) + 1


async def add_units(
    *, session: AsyncSession, campaign: Campaign, names: Sequence[str]
) -> list[Unit]:
    """Append new units to the roster, each with its not-started response.

    Raises :class:`DuplicateUnitError` if a name is on the roster already and
    :class:`InvalidValueError` if ``names`` repeats one.
    """
    cleaned = check_unit_names(names)
    await _lock_campaign(session, campaign)
    existing = await session.scalars(
        select(Unit.name).where(Unit.campaign_id == campaign.id, Unit.name.in_(cleaned))
    )
    taken = list(existing)
    if taken:
        raise DuplicateUnitError(campaign.id, sorted(taken, key=cleaned.index))
    return await _insert_units(session, campaign, cleaned)


async def ensure_units(
    *, session: AsyncSession, campaign: Campaign, names: Sequence[str]
) -> tuple[list[Unit], list[str]]:
    """The units named, in the order given, adding those not on the roster yet.

    Returns the units and the names that were added.
    """
    cleaned = check_unit_names(names)
    await _lock_campaign(session, campaign)
    found = {
        unit.name: unit
        for unit in await session.scalars(
            select(Unit).where(Unit.campaign_id == campaign.id, Unit.name.in_(cleaned))
        )
    }
    missing = [name for name in cleaned if name not in found]
    for unit in await _insert_units(session, campaign, missing):
        found[unit.name] = unit
    return [found[name] for name in cleaned], missing


async def _insert_units(session: AsyncSession, campaign: Campaign, names: list[str]) -> list[Unit]:
    if not names:
        return []
    position = await _next_position(session, campaign)
    units: list[Unit] = []
    for offset, name in enumerate(names):
        unit = Unit(campaign_id=campaign.id, name=name, position=position + offset)
        unit.response = Response(status=ResponseStatus.NOT_STARTED)
        units.append(unit)
    session.add_all(units)
    await session.flush()
    logger.info("campaign %s: added %d unit(s)", campaign.id, len(units))
    return units


async def get_unit(
    *, session: AsyncSession, campaign: Campaign | int, name: str
) -> Unit:
    """The unit of that name on the campaign's roster, or :class:`UnitNotFoundError`."""
    campaign_id = campaign if isinstance(campaign, int) else campaign.id
    unit = await session.scalar(
        select(Unit)
        .where(Unit.campaign_id == campaign_id, Unit.name == normalize_unit_name(name))
        .options(selectinload(Unit.response))
    )
    if unit is None:
        raise UnitNotFoundError(campaign_id, normalize_unit_name(name))
    return unit


async def list_units(*, session: AsyncSession, campaign: Campaign | int) -> list[Unit]:
    """The roster in order, each unit with its response loaded."""
    campaign_id = campaign if isinstance(campaign, int) else campaign.id
    return list(
        await session.scalars(
            select(Unit)
            .where(Unit.campaign_id == campaign_id)
            .order_by(Unit.position)
            .options(selectinload(Unit.response))
        )
    )
