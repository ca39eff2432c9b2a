"""Typed answers: tolerant parsing of what people type, and display of stored values.

Respondents type on phones with Chinese input methods, so parsing accepts
full-width digits and punctuation (１２、３．５), thousands separators, units
(12 个, 10万人次, 85%), signed changes written in words (增加 3, 减少 2), dates
in the usual Chinese forms and phone numbers with +86, spaces or dashes.

A value that cannot be understood is not an error but an :class:`Invalid`
outcome carrying a catalog key and its parameters; the engine turns it into a
rejection in the respondent's language.

Stored values are JSON data: ``int`` for integers, a normalised decimal
``str`` for decimals (exact, unlike float), ISO ``YYYY-MM-DD`` for dates,
``'yes'``/``'no'``, choice values (``str`` or ``list[str]``), and a ``dict``
with ``name``, ``size``, ``mime`` and ``ref`` for files.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from bot.core.definition import QuestionType

YES: Final = "yes"
NO: Final = "no"

_YES_WORDS: Final = frozenset({"是", "是的", "对", "对的", "有", "好", "yes", "y", "true", "1", "✅", "√"})
_NO_WORDS: Final = frozenset({"否", "不是", "不", "不对", "没有", "无", "no", "n", "false", "0", "❌", "×"})
_MINUS_SIGNS: Final = str.maketrans({"−": "-", "–": "-", "—": "-", "﹣": "-"})
_UNIT_SUFFIX: Final = re.compile(r"\s*(个|项|人次|人|名|所|家|场|户|次|册|件|元|位|天|小时|%)$")
_SIGN_WORDS: Final = (("增加", ""), ("增长", ""), ("多", ""), ("减少", "-"), ("下降", "-"), ("少", "-"))
_NUMBER: Final = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
#: More digits than this is not a figure a person reports; refusing them keeps values exact
#: (a Decimal holds 28 digits, ``万`` adds 4) and JSON-safe (no int beyond str()'s digit limit).
MAX_NUMBER_DIGITS: Final = 24
_DATE_FORMS: Final = (
    re.compile(r"^(?P<y>\d{4})\s*[-/.]\s*(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?$"),
    re.compile(r"^(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?$"),
    re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"),
)
_MOBILE: Final = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
_LANDLINE: Final = re.compile(r"^(0\d{2,3})(\d{7,8})$")
_EMAIL: Final = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


@dataclass(frozen=True, slots=True)
class Parsed:
    value: Any


@dataclass(frozen=True, slots=True)
class Invalid:
    """Why an input is not an answer: a catalog key under ``answer.`` and its parameters."""

    key: str
    params: dict[str, object] = field(default_factory=dict)


ParseOutcome = Parsed | Invalid


def normalize(text: str) -> str:
    """Fold full-width forms to ASCII (NFKC) and trim: ``'　１２，３４５ '`` → ``'12,345'``."""
    return unicodedata.normalize("NFKC", text).translate(_MINUS_SIGNS).strip()


def parse_number(text: str) -> Decimal | None:
    """A number typed by a person, or ``None``: ``１２``, ``1,234``, ``3．5``, ``10万``, ``减少 3``."""
    cleaned = normalize(text).replace("，", ",").replace(" ", "")
    sign = ""
    for word, word_sign in _SIGN_WORDS:
        if cleaned.startswith(word):
            cleaned, sign = cleaned[len(word) :], word_sign
            break
    cleaned = _UNIT_SUFFIX.sub("", cleaned)
    multiplier = 1
    if cleaned.endswith("万"):
        cleaned, multiplier = cleaned[:-1], 10_000
    if not _NUMBER.match(cleaned):
        return None
    if sum(char.isdigit() for char in cleaned) > MAX_NUMBER_DIGITS:
        return None
    if sign and cleaned[0] in "+-":
        return None  # "减少 -3" is ambiguous
    try:
        number = Decimal(sign + cleaned.replace(",", "")) * multiplier
    except InvalidOperation:
        return None
    return number


def _range_outcome(kind: str, number: Decimal, low: Decimal | None, high: Decimal | None) -> Invalid | None:
    if (low is not None and number < low) or (high is not None and number > high):
        if low is not None and high is not None:
            return Invalid(f"{kind}_range", {"min": _plain(low), "max": _plain(high)})
        if low is not None:
            return Invalid(f"{kind}_min", {"min": _plain(low)})
        return Invalid(f"{kind}_max", {"max": _plain(high)})  # type: ignore[arg-type]
    return None


def _plain(number: Decimal) -> str:
    """``Decimal('85.50')`` → ``'85.5'``, ``Decimal('1E+2')`` → ``'100'``."""
    return format(number.normalize(), "f")


def parse_integer(text: str, *, low: Decimal | None, high: Decimal | None) -> ParseOutcome:
    number = parse_number(text)
    if number is None or number != number.to_integral_value():
        return _expect_integer(low, high)
    return _range_outcome("integer", number, low, high) or Parsed(int(number))


def _expect_integer(low: Decimal | None, high: Decimal | None) -> Invalid:
    if low is not None and high is not None:
        return Invalid("integer_range", {"min": _plain(low), "max": _plain(high)})
    return Invalid("integer")


def parse_decimal(text: str, *, low: Decimal | None, high: Decimal | None) -> ParseOutcome:
    number = parse_number(text)
    if number is None:
        if low is not None and high is not None:
            return Invalid("decimal_range", {"min": _plain(low), "max": _plain(high)})
        return Invalid("decimal")
    return _range_outcome("decimal", number, low, high) or Parsed(_plain(number))


def parse_yes_no(text: str) -> ParseOutcome:
    word = normalize(text).lower().rstrip("。.!！")
    if word in _YES_WORDS:
        return Parsed(YES)
    if word in _NO_WORDS:
        return Parsed(NO)
    return Invalid("yes_no")


def parse_date(text: str, *, today: date) -> ParseOutcome:
    cleaned = normalize(text)
    for form in _DATE_FORMS:
        match = form.match(cleaned)
        if match is None:
            continue
        parts = match.groupdict()
        try:
            value = date(int(parts.get("y") or today.year), int(parts["m"]), int(parts["d"]))
        except ValueError:
            return Invalid("date_impossible", {"text": cleaned})
        return Parsed(value.isoformat())
    return Invalid("date", {"example": today.isoformat()})


def parse_phone(text: str) -> ParseOutcome:
    cleaned = re.sub(r"[\s\-()（）]", "", normalize(text))
    mobile = _MOBILE.match(cleaned)
    if mobile:
        return Parsed(mobile.group(1))
    landline = _LANDLINE.match(cleaned)
    if landline:
        digits = landline.group(1) + landline.group(2)
        area_length = 3 if digits[1] in "12" else 4  # 010, 02x have 3 digits; the rest 4
        area, number = digits[:area_length], digits[area_length:]
        if 7 <= len(number) <= 8:
            return Parsed(f"{area}-{number}")
    return Invalid("phone")


def parse_email(text: str) -> ParseOutcome:
    cleaned = normalize(text).replace(" ", "")
    if not _EMAIL.match(cleaned):
        return Invalid("email")
    local, _, domain = cleaned.rpartition("@")
    return Parsed(f"{local}@{domain.lower()}")


def parse_text(text: str, *, max_length: int, pattern: re.Pattern[str] | None) -> ParseOutcome:
    value = text.strip()
    if not value:
        return Invalid("empty")
    if len(value) > max_length:
        return Invalid("too_long", {"max": max_length, "length": len(value)})
    if pattern is not None and not pattern.fullmatch(value):
        return Invalid("pattern")
    return Parsed(value)


def to_expression_value(kind: QuestionType, value: Any) -> Any:
    """The value as expressions see it (decimals become ``Decimal``)."""
    if kind is QuestionType.DECIMAL and isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return value


def format_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} B"
