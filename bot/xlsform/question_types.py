"""XLSForm question types and what each becomes: one frozen table.

A type cell is a type name, for selects followed by a list name and
optionally ``or_other`` (``select_one yes_no``, ``select_multiple bodies or_other``).
Each XLSForm type maps to one of our question types, to a structure row
(groups), to a metadata row (dropped with a warning) or to a refusal saying
why and what to use instead.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bot.core.definition import QuestionType


class Kind(StrEnum):
    QUESTION = "question"
    SELECT = "select"
    BEGIN_GROUP = "begin_group"
    END_GROUP = "end_group"
    BEGIN_REPEAT = "begin_repeat"
    END_REPEAT = "end_repeat"
    CALCULATE = "calculate"
    METADATA = "metadata"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class TypeSpec:
    kind: Kind
    #: Our type, for questions and selects.
    question_type: QuestionType | None = None
    #: For refusals: what is not supported, and what to use instead.
    reason: str = ""
    fix: str = ""


def _refused(reason: str, fix: str) -> TypeSpec:
    return TypeSpec(Kind.REFUSED, reason=reason, fix=fix)


_MEDIA = _refused(
    "pictures, sound and video recorded in a form are not supported",
    "use `file`, which accepts a picture, recording or document sent in the chat",
)
_GEO = _refused("locations (geopoint, geotrace, geoshape) are not supported", "ask for the place as `text`")
_METADATA = TypeSpec(Kind.METADATA)

TYPES: Final[dict[str, TypeSpec]] = {
    "text": TypeSpec(Kind.QUESTION, QuestionType.TEXT),
    "integer": TypeSpec(Kind.QUESTION, QuestionType.INTEGER),
    "int": TypeSpec(Kind.QUESTION, QuestionType.INTEGER),
    "decimal": TypeSpec(Kind.QUESTION, QuestionType.DECIMAL),
    "date": TypeSpec(Kind.QUESTION, QuestionType.DATE),
    "note": TypeSpec(Kind.QUESTION, QuestionType.NOTE),
    "file": TypeSpec(Kind.QUESTION, QuestionType.FILE),
    "select_one": TypeSpec(Kind.SELECT, QuestionType.SELECT_ONE),
    "select one": TypeSpec(Kind.SELECT, QuestionType.SELECT_ONE),
    "select1": TypeSpec(Kind.SELECT, QuestionType.SELECT_ONE),
    "select_multiple": TypeSpec(Kind.SELECT, QuestionType.SELECT_MULTIPLE),
    "select multiple": TypeSpec(Kind.SELECT, QuestionType.SELECT_MULTIPLE),
    "select all that apply": TypeSpec(Kind.SELECT, QuestionType.SELECT_MULTIPLE),
    # pyxform's older spellings
    "select one from": TypeSpec(Kind.SELECT, QuestionType.SELECT_ONE),
    "add select one prompt using": TypeSpec(Kind.SELECT, QuestionType.SELECT_ONE),
    "select all that apply from": TypeSpec(Kind.SELECT, QuestionType.SELECT_MULTIPLE),
    "add select multiple prompt using": TypeSpec(Kind.SELECT, QuestionType.SELECT_MULTIPLE),
    "phone number": TypeSpec(Kind.QUESTION, QuestionType.PHONE),
    "begin_group": TypeSpec(Kind.BEGIN_GROUP),
    "begin group": TypeSpec(Kind.BEGIN_GROUP),
    "end_group": TypeSpec(Kind.END_GROUP),
    "end group": TypeSpec(Kind.END_GROUP),
    "begin_repeat": TypeSpec(Kind.BEGIN_REPEAT),
    "begin repeat": TypeSpec(Kind.BEGIN_REPEAT),
    "end_repeat": TypeSpec(Kind.END_REPEAT),
    "end repeat": TypeSpec(Kind.END_REPEAT),
    "calculate": TypeSpec(Kind.CALCULATE),
    "start": _METADATA,
    "end": _METADATA,
    "today": _METADATA,
    "deviceid": _METADATA,
    "imei": _METADATA,
    "subscriberid": _METADATA,
    "simserial": _METADATA,
    "phonenumber": _METADATA,
    "username": _METADATA,
    "email": _METADATA,
    "audit": _METADATA,
    "start-geopoint": _METADATA,
    "background-geopoint": _METADATA,
    "geopoint": _GEO,
    "geotrace": _GEO,
    "geoshape": _GEO,
    "barcode": _refused("barcodes are not supported", "ask for the code as `text`"),
    "image": _MEDIA,
    "photo": _MEDIA,
    "audio": _MEDIA,
    "video": _MEDIA,
    "background-audio": _MEDIA,
    "range": _refused("range (a slider) is not supported", "use `integer` with surveybot_min and surveybot_max"),
    "rank": _refused("rank is not supported", "ask one `select_one` per place, or one `integer` per item"),
    "time": _refused("time answers are not supported", "ask for the time as `text`, with an example in the hint"),
    "datetime": _refused("dateTime answers are not supported", "use `date`, and ask for the time as `text`"),
    "select_one_from_file": _refused(
        "choices from a file (select_*_from_file) are not supported", "copy the choices into the choices sheet"
    ),
    "select_multiple_from_file": _refused(
        "choices from a file (select_*_from_file) are not supported", "copy the choices into the choices sheet"
    ),
    "select_one_external": _refused(
        "external choices are not supported", "copy the choices into the choices sheet and use `select_one`"
    ),
    "acknowledge": _refused("acknowledge is not supported", "use `note`, or `select_one` with one choice"),
    "trigger": _refused("trigger is not supported", "use `note`, or `select_one` with one choice"),
    "hidden": _refused("hidden questions are not supported", "remove the row"),
    "xml-external": _refused("external data is not supported", "remove the row"),
    "csv-external": _refused("external data is not supported", "remove the row"),
    "osm": _refused("OpenStreetMap questions are not supported", "ask for the place as `text`"),
}
#: What a type's value is in the surveybot_type column (XLSForm has no such types).
SURVEYBOT_TYPES: Final[dict[str, QuestionType]] = {"phone": QuestionType.PHONE, "email": QuestionType.EMAIL}
MULTILINE_APPEARANCE: Final = "multiline"
OR_OTHER: Final = frozenset({"or_other", "or specify other", "or other"})


@dataclass(frozen=True, slots=True)
class TypeCell:
    """A type cell, understood."""

    name: str  # the type name, lowercase (``select_one``)
    spec: TypeSpec | None  # ``None`` for an unknown type
    list_name: str | None = None
    or_other: bool = False
    #: For an unknown type, or a select written wrongly: what to write instead.
    suggestion: str | None = None


_SELECT = re.compile(
    r"^(?P<command>select one from|select all that apply from|add select one prompt using"
    r"|add select multiple prompt using|select_one|select one|select1|select_multiple|select multiple"
    r"|select all that apply|select_one_from_file|select_multiple_from_file|select_one_external|rank)"
    r"\s+(?P<list>\S+)(?:\s+(?P<other>or_other|or specify other|or other))?$",
    re.IGNORECASE,
)
#: pyxform's begin/end rows: ``begin group``, ``begin_repeat``, ``begin loop over LIST``...
_CONTROL = re.compile(
    r"^(?P<edge>begin|end)[ _](?P<control>group|repeat|loop|lgroup|looped group)(?:\s+(?:over\s+)?\S+)?$",
    re.IGNORECASE,
)


def read_type(cell: str) -> TypeCell:
    """What the type cell ``cell`` says."""
    text = " ".join(cell.split())
    match = _SELECT.match(text)
    if match:
        name = match["command"].lower()
        return TypeCell(name, TYPES[name], list_name=match["list"], or_other=match["other"] is not None)
    control = _CONTROL.match(text)
    if control:
        edge, group = control["edge"].lower(), control["control"].lower()
        name = f"{edge}_{'group' if group == 'group' else 'repeat'}"
        return TypeCell(name, TYPES[name])
    name = text.lower()
    spec = TYPES.get(name)
    if spec is not None and spec.kind is Kind.SELECT:
        return TypeCell(name, spec, suggestion=f"{name} LIST_NAME")
    if spec is not None:
        return TypeCell(name, spec)
    close = difflib.get_close_matches(name, [t for t, s in TYPES.items() if s.kind is not Kind.REFUSED], n=1, cutoff=0.75)
    return TypeCell(name, None, suggestion=close[0] if close else None)
