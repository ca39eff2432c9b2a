"""Pure helpers of the export: safe text, display widths, names inside the zip, statistics."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exports.bundle import BundlePlan, sanitize_name
from exports.cells import (
    _WIDE_RUN,
    MAX_CELL_CHARACTERS,
    ColumnWidths,
    clean_text,
    display_width,
    is_risky_text,
)
from exports.export import export_file_name
from exports.spool import Spool


@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("", 0),
        ("abc", 3),
        ("崇川区", 6),
        ("ＡＢ１", 6),  # fullwidth forms
        ("0513-59003013", 13),
        ("第1县", 5),
        ("“十四五”", 8),  # curly quotes are ambiguous (A): one column
        ("一行\n更长的一行", 10),
        ("😀", 2),
    ],
)
def test_display_width__wide_characters_count_two(text: str, width: int) -> None:
    assert display_width(text) == width


def test_display_width__limit_stops_early() -> None:
    assert display_width("长" * 10_000, limit=40) == 40
    assert display_width("short\n" + "长" * 100, limit=50) == 50
    assert display_width("ab", limit=40) == 2


def test_wide_ranges__agree_with_unicodedata_for_every_assigned_code_point() -> None:
    wrong = []
    for code_point in range(0x110000):
        char = chr(code_point)
        if unicodedata.category(char) in ("Cn", "Cs"):
            continue
        expected = unicodedata.east_asian_width(char) in "WF"
        if bool(_WIDE_RUN.fullmatch(char)) != expected:
            wrong.append(hex(code_point))
    assert wrong == []


def test_clean_text__removes_what_xml_cannot_hold_and_keeps_line_breaks() -> None:
    assert clean_text("a\x00b\x01c\x08d\x0be\x0cf\x1fg") == "abcdefg"
    assert clean_text("tab\there\nnew line") == "tab\there\nnew line"
    assert clean_text("windows\r\nline\rbreaks") == "windows\nline\nbreaks"
    assert clean_text("bad\ud800surrogate\ufffe\uffff") == "badsurrogate"
    assert clean_text("崇川区 ✅") == "崇川区 ✅"
    assert len(clean_text("长" * (MAX_CELL_CHARACTERS + 10))) == MAX_CELL_CHARACTERS


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\nx", "#N/A", "#DIV/0!", "#REF!"])
def test_is_risky_text__formula_prefixes_and_error_values(text: str) -> None:
    assert is_risky_text(text)


@pytest.mark.parametrize("text", ["崇川区", "1+1", "a=b", "0513-59003013", "N/A", "#1 item", ""])
def test_is_risky_text__ordinary_text(text: str) -> None:
    assert not is_risky_text(text)


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("盖章扫描件.pdf", "盖章扫描件.pdf"),
        ("../../etc/passwd", "etcpasswd"),
        ("C:\\x.pdf", "Cx.pdf"),
        ("/etc/shadow", "etcshadow"),
        ('a<b>c:d"e|f?g*h.pdf', "abcdefgh.pdf"),
        ("...hidden", "hidden"),
        ("trailing. . .", "trailing"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("LPT9.pdf", "_LPT9.pdf"),
        ("console.pdf", "console.pdf"),
        ("a\x00b\x1fc\u202etxt.exe", "abctxt.exe"),  # control and bidi override characters
        ("tab\tand\nnewline", "tab and newline"),
        ("100% #1.pdf", "100 1.pdf"),
        ("", "fallback"),
        ("../..", "fallback"),
    ],
)
def test_sanitize_name(name: str, safe: str) -> None:
    assert sanitize_name(name, fallback="fallback") == safe


def test_sanitize_name__long_names_keep_their_extension() -> None:
    safe = sanitize_name("报" * 300 + ".pdf", fallback="x")
    assert len(safe) <= 120 and safe.endswith(".pdf")


@given(st.text(max_size=300))
def test_sanitize_name__is_always_one_safe_path_component(name: str) -> None:
    safe = sanitize_name(name, fallback="file")
    assert safe and len(safe) <= 120
    assert not re.search(r'[/\\:*?"<>|#%\x00-\x1f\x7f]', safe)
    assert not safe.startswith((".", " ")) and not safe.endswith((".", " "))
    assert safe.split(".")[0].casefold() not in {"con", "prn", "aux", "nul", "com1", "lpt1"}


def test_bundle_plan__names_collide_neither_across_units_nor_within_one(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    stored = data_dir / "attachments" / "ab" / "f"
    stored.parent.mkdir(parents=True)
    stored.write_bytes(b"x")
    plan = BundlePlan(data_dir=data_dir)

    def add(unit_id: int, unit: str, question: str, name: str) -> str | None:
        return plan.add(
            unit_id=unit_id, unit_name=unit, position=unit_id, question_id=question, file_name=name,
            ref="attachments/ab/f",
        )

    long_a = "长" * 200 + "甲.pdf"
    long_b = "长" * 200 + "乙.pdf"
    assert add(1, "A/B", "scan", "x.pdf") == "attachments/AB/scan-x.pdf"
    assert add(2, "AB", "scan", "x.pdf") == "attachments/AB-2/scan-x.pdf"
    assert add(3, "ab", "scan", "X.PDF") == "attachments/ab-3/scan-X.PDF"
    first = add(4, "丙", "scan", long_a)
    second = add(4, "丙", "copy", long_b)
    third = add(4, "丙", "scan", long_b)  # truncated to the same name as the first
    assert first is not None and second is not None and third is not None
    assert third.endswith("-2.pdf") and third != first
    assert len({entry.arcname.casefold() for entry in plan.files}) == len(plan.files) == 6
    assert add(5, "丁", "scan", "x.pdf") is not None
    assert plan.source_of("../outside") is None and plan.source_of("/etc/passwd") is None
    assert plan.source_of("attachments/ab/../../../etc/passwd") is None
    assert plan.source_of(None) is None and plan.source_of({"ref": 1}) is None
    assert plan.missing == []


def test_column_widths__cap_wrap_and_header() -> None:
    widths = ColumnWidths([10, 40], ["单位", "很长很长很长很长很长很长很长很长很长很长很长很长的标题"])
    widths.see_text(0, "崇川区")
    widths.see_text(1, "short")
    assert (widths.final(0), widths.wraps(0)) == (8.0, False)
    assert widths.final(1) == 24 + 2  # the header counts up to 24 and then wraps
    widths.see_text(0, "很长的单位名称超过上限")
    widths.see_text(1, "two\nlines")
    assert (widths.final(0), widths.wraps(0), widths.wraps(1)) == (12.0, True, True)


def test_spool__rows_read_back_any_number_of_times() -> None:
    from datetime import date
    from decimal import Decimal

    rows = [["崇川区", 1, Decimal("3.5"), date(2023, 4, 26), None], ["海门区", 2, None, None, "x" * 5000]]
    with Spool() as spool:
        for row in rows:
            spool.append(row)
        assert len(spool) == 2
        assert list(spool) == rows
        assert list(spool) == rows


def test_export_file_name__safe_and_dated() -> None:
    from datetime import datetime

    assert export_file_name("南通/中期:评估?", datetime(2026, 11, 2, 17, 30)) == "南通中期评估-20261102-1730.xlsx"
    assert export_file_name("...", datetime(2026, 1, 1)) == "export-20260101-0000.xlsx"
