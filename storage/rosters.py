"""Rosters: the units of a campaign, in the coordinator's order, each owing one response.

Also reads a roster's text (a units file, or the console's pasted roster;
:func:`parse_roster`): UTF-8 text (with or without a BOM) or CSV, one unit
per line in its first column, optionally the unit's contact e-mail and its
contact mobile number in the columns after it (``NAME<TAB>EMAIL``,
``NAME<TAB>EMAIL<TAB>MOBILE``, ``NAME<TAB>MOBILE``, ``NAME<TAB><TAB>MOBILE``,
``NAME,EMAIL`` or ``NAME EMAIL``, mixed as pasted). A column with ``@`` must
be a valid address; a column that looks like a phone number (digits, spaces,
dashes, an optional +86, eleven digits starting with 1) must be a Chinese
mobile number ``1[3-9]`` + 9 digits; any other column is a note and ignored.
Blank lines and lines starting with ``#`` are ignored.
"""

from __future__ import annotations

import csv
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
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
_EMAIL = re.compile(
    r"[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\u0080-\uffff-]*[A-Za-z0-9\u0080-\uffff])?(?:\.[A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\u0080-\uffff-]*[A-Za-z0-9\u0080-\uffff])?)+"
)


@dataclass(frozen=True, slots=True)
class RosterLine:
    """One unit of a units file, with its contact e-mail when the line gives one."""

    name: str
    email: str | None = None
    #: A Chinese mobile number, 11 digits (the WeCom group digest mentions it).
    mobile: str | None = None


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
            raise InvalidValueError(f"unit name {name[:40]!r}... is longer than {UNIT_NAME_MAX_LENGTH} characters")
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


_MOBILE = re.compile(r"1[3-9]\d{9}")
#: What a phone-number column looks like before it is checked: digits with spaces or dashes, maybe +86.
_PHONE_LIKE = re.compile(r"(?:\+?86[\s-]*)?1[\d\s-]{10,14}")


def looks_like_mobile(raw: str) -> bool:
    """Whether a roster column is meant as a mobile number (to be checked by :func:`check_mobile_number`)."""
    return bool(_PHONE_LIKE.fullmatch(raw.strip()))


def check_mobile_number(raw: str) -> str:
    """The number as stored (11 digits, no +86, spaces or dashes); :class:`InvalidValueError` saying what is wrong."""
    digits = re.sub(r"[\s-]", "", raw.strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _MOBILE.fullmatch(digits):
        raise InvalidValueError(
            f"{raw.strip()!r} is not a Chinese mobile number; write 11 digits starting with 13-19, e.g. 13812345678"
        )
    return digits


def read_units_file(path: str | Path) -> list[str]:
    """The unit names of a units file, in file order (see :func:`read_roster_file`)."""
    return [line.name for line in read_roster_file(path)]


class RosterProblemKind(StrEnum):
    """What is wrong with a roster line (or with the whole roster)."""

    NOT_CSV = "not_csv"
    EMPTY_NAME = "empty_name"
    NAME_TOO_LONG = "name_too_long"
    DUPLICATE = "duplicate"
    BAD_EMAIL = "bad_email"
    BAD_MOBILE = "bad_mobile"
    NO_UNITS = "no_units"


@dataclass(frozen=True, slots=True)
class RosterProblem:
    """One refused line of a roster: where (``line``, 1-based; 0 for the whole roster), what, and the text at fault."""

    line: int
    kind: RosterProblemKind
    #: The unit named twice, the address refused, or the CSV reader's complaint.
    text: str = ""
    #: For a duplicate: the line that listed the unit first.
    first_line: int = 0

    def describe(self) -> str:
        """The problem in English, as the CLI prints it after the file's name."""
        where = f"line {self.line}: " if self.line else ""
        match self.kind:
            case RosterProblemKind.NOT_CSV:
                return f"{where}{self.text}"
            case RosterProblemKind.EMPTY_NAME:
                return f"{where}the first column is empty"
            case RosterProblemKind.NAME_TOO_LONG:
                return f"{where}unit name longer than {UNIT_NAME_MAX_LENGTH} characters"
            case RosterProblemKind.DUPLICATE:
                return f"{where}unit {self.text!r} is already on line {self.first_line}"
            case RosterProblemKind.BAD_EMAIL:
                if len(self.text) > EMAIL_MAX_LENGTH:
                    return f"{where}e-mail address {self.text[:40]!r}... is longer than {EMAIL_MAX_LENGTH} characters"
                return f"{where}{self.text!r} is not an e-mail address; write it as name@example.cn"
            case RosterProblemKind.BAD_MOBILE:
                return f"{where}{self.text!r} is not a Chinese mobile number; write 11 digits starting with 13-19, e.g. 13812345678"
            case RosterProblemKind.NO_UNITS:
                return "lists no units (one unit name per line)"


@dataclass(frozen=True, slots=True)
class RosterText:
    """A roster as read: its units in order, or (when any line is refused) every problem, line by line."""

    lines: tuple[RosterLine, ...]
    problems: tuple[RosterProblem, ...] = ()
    #: The line number of each of ``lines``, in the same order (for messages about a good line, such as "already listed").
    line_numbers: tuple[int, ...] = ()


def _columns(line: str, delimiter: str) -> list[str]:
    """The line's columns; a line without the delimiter may still end in an address (``NAME,EMAIL``, ``NAME EMAIL``)."""
    columns = next(csv.reader([line], delimiter=delimiter), [])
    if len(columns) == 1:
        for separator in (",", "，", " "):
            name, found, last = columns[0].strip().rpartition(separator)
            if found and name.strip() and "@" in last:
                return [name, last]
    return columns


def parse_roster(text: str) -> RosterText:
    """The units of a roster's text, one a line, each with its contact e-mail if the line has one.

    A line is ``NAME``, ``NAME<TAB>EMAIL``, ``NAME,EMAIL`` (CSV) or ``NAME EMAIL``;
    a second column without ``@`` is a note and ignored. Blank lines and lines
    starting with ``#`` are skipped. Every line is checked: a unit listed
    twice, an empty or overlong name, or an address that is none is a
    :class:`RosterProblem` naming its line.
    """
    delimiter = "\t" if "\t" in text else ","
    lines: list[RosterLine] = []
    problems: list[RosterProblem] = []
    line_numbers: list[int] = []
    first_line: dict[str, int] = {}
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            columns = _columns(line, delimiter)
        except csv.Error as error:
            problems.append(RosterProblem(line_number, RosterProblemKind.NOT_CSV, str(error)))
            continue
        name = normalize_unit_name(columns[0]) if columns else ""
        if not name:
            problems.append(RosterProblem(line_number, RosterProblemKind.EMPTY_NAME))
            continue
        if len(name) > UNIT_NAME_MAX_LENGTH:
            problems.append(RosterProblem(line_number, RosterProblemKind.NAME_TOO_LONG, name[:40]))
            continue
        if name in first_line:
            problems.append(RosterProblem(line_number, RosterProblemKind.DUPLICATE, name, first_line=first_line[name]))
            continue
        first_line[name] = line_number
        email: str | None = None
        mobile: str | None = None
        problem: RosterProblem | None = None
        for column in columns[1:3]:  # other columns, and columns without @ or a phone number, are notes
            if "@" in column and email is None:
                try:
                    email = check_email_address(column)
                except InvalidValueError:
                    problem = RosterProblem(line_number, RosterProblemKind.BAD_EMAIL, column.strip())
                    break
            elif looks_like_mobile(column) and mobile is None:
                try:
                    mobile = check_mobile_number(column)
                except InvalidValueError:
                    problem = RosterProblem(line_number, RosterProblemKind.BAD_MOBILE, column.strip())
                    break
        if problem is not None:
            problems.append(problem)
            continue
        lines.append(RosterLine(name=name, email=email, mobile=mobile))
        line_numbers.append(line_number)
    if not lines and not problems:
        problems.append(RosterProblem(0, RosterProblemKind.NO_UNITS))
    return RosterText(lines=tuple(lines), problems=tuple(problems), line_numbers=tuple(line_numbers))


def read_roster_file(path: str | Path) -> list[RosterLine]:
    """The units of a units file, in file order, each with its contact e-mail if the line has one.

    Raises :class:`RosterFileError` for a missing or unreadable file, a file
    that is not UTF-8, a file without units, or the first refused line of
    :func:`parse_roster`.
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
        raise RosterFileError(f"{source}: not UTF-8 text (byte {error.start}); save it as UTF-8") from None
    if "\x00" in text:
        raise RosterFileError(f"{source}: is a binary file; give a text or CSV file")
    roster = parse_roster(text)
    if roster.problems:
        raise RosterFileError(f"{source}: {roster.problems[0].describe()}")
    return list(roster.lines)


async def _lock_campaign(session: AsyncSession, campaign: Campaign) -> None:
    # Serialises roster changes of one campaign on PostgreSQL (positions are unique).
    await session.execute(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())


async def _next_position(session: AsyncSession, campaign: Campaign) -> int:
    last = await session.scalar(select(func.max(Unit.position)).where(Unit.campaign_id == campaign.id))
    return (last or 0) + 1


async def add_units(*, session: AsyncSession, campaign: Campaign, names: Sequence[str]) -> list[Unit]:
    """Append new units to the roster, each with its not-started response.

    Raises :class:`DuplicateUnitError` if a name is on the roster already and
    :class:`InvalidValueError` if ``names`` repeats one.
    """
    cleaned = check_unit_names(names)
    await _lock_campaign(session, campaign)
    existing = await session.scalars(select(Unit.name).where(Unit.campaign_id == campaign.id, Unit.name.in_(cleaned)))
    taken = list(existing)
    if taken:
        raise DuplicateUnitError(campaign.id, sorted(taken, key=cleaned.index))
    return await _insert_units(session, campaign, cleaned)


async def ensure_units(*, session: AsyncSession, campaign: Campaign, names: Sequence[str]) -> tuple[list[Unit], list[str]]:
    """The units named, in the order given, adding those not on the roster yet.

    Returns the units and the names that were added.
    """
    cleaned = check_unit_names(names)
    await _lock_campaign(session, campaign)
    found = {
        unit.name: unit
        for unit in await session.scalars(select(Unit).where(Unit.campaign_id == campaign.id, Unit.name.in_(cleaned)))
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


async def get_unit(*, session: AsyncSession, campaign: Campaign | int, name: str) -> Unit:
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
            select(Unit).where(Unit.campaign_id == campaign_id).order_by(Unit.position).options(selectinload(Unit.response))
        )
    )
