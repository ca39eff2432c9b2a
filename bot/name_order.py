"""The order Chinese readers expect of names (units, people): by pinyin, as a phone book or a roster index.

:func:`name_sort_key` is the one sort key for names shown in order (the
console's units table sorted by unit). Code point order puts 启东市 before
崇川区 and 通州区; by pinyin they are chong, qi, tong. The readings come from
``pypinyin`` (its phrase data picks the reading of a polyphone in context:
重庆 is chong qing, 银行 yin hang), not from a table of our own.

Latin letters and digits sort with the pinyin, without case, and numbers by
their value (第2组 before 第10组; full-width digits as ASCII ones). Names
reading alike (通州 and 同州) keep a fixed order: by code point.

pypinyin is imported on the first sort, not with this module: its phrase data
takes about 55 MB and 0.2 s to load, and most processes never sort by name.
"""

from __future__ import annotations

import functools
import re
import unicodedata

#: A run of digits, or of anything else.
_RUNS = re.compile(r"(\d+)")

#: One piece of a name's reading: a number (``(0, its digit count, its digits)``, without leading zeros:
#: compared by value) or a syllable or other text (``(1, 0, text)``).
NamePiece = tuple[int, int, str]


@functools.lru_cache(maxsize=4096)
def name_sort_key(name: str) -> tuple[tuple[NamePiece, ...], str]:
    """The key sorting ``name`` by its pinyin: ``(reading, name)``.

    The reading is the name's syllables lowercased (text that is not Hanzi kept
    as written, lowercased), each digit run a number; numbers sort before letters,
    as in code point order. Ties on the reading fall back to the name itself.
    """
    from pypinyin import Style, lazy_pinyin  # the first sort loads the phrase data (see the module's docstring)

    normalized = unicodedata.normalize("NFKC", name).casefold()
    pieces: list[NamePiece] = []
    for part in lazy_pinyin(normalized, style=Style.NORMAL, errors="default"):
        # Split on a capturing group: the digit runs are at the odd places.
        for index, run in enumerate(_RUNS.split(part)):
            if index % 2:
                digits = run.lstrip("0") or "0"
                pieces.append((0, len(digits), digits))
            elif run.strip():
                pieces.append((1, 0, run.strip()))
    return tuple(pieces), name
