"""``split_text``: long texts become WeCom messages under 2048 UTF-8 bytes, cut between lines."""

from __future__ import annotations

import pytest

from handlers.wecom.message_split import TEXT_LIMIT_BYTES, split_text


def _size(part: str) -> int:
    return len(part.encode("utf-8"))


def test_short_text__one_part_unchanged() -> None:
    assert split_text("第1题：本单位名称？\n回复数字：1 是 2 否") == ["第1题：本单位名称？\n回复数字：1 是 2 否"]


def test_empty_or_blank_text__no_parts() -> None:
    assert split_text("") == []
    assert split_text("\n\n") == []


def test_long_text__cut_between_lines_and_every_part_under_the_limit() -> None:
    lines = [f"第{n}项：南通市各县（市、区）填报情况说明，请核对。" for n in range(200)]
    parts = split_text("\n".join(lines))
    assert len(parts) > 1
    assert all(_size(part) <= TEXT_LIMIT_BYTES for part in parts)
    # Nothing lost, nothing reordered, no line cut: the parts' lines are the text's lines.
    assert [line for part in parts for line in part.split("\n")] == lines


def test_parts_are_filled_up_to_the_limit() -> None:
    line = "一" * 99  # 297 bytes; six lines and five newlines make 1787, a seventh would pass 2048
    parts = split_text("\n".join([line] * 14))
    assert [part.count("\n") + 1 for part in parts] == [6, 6, 2]


def test_exactly_the_limit__one_part() -> None:
    text = "a" * 1000 + "\n" + "b" * 1047
    assert _size(text) == TEXT_LIMIT_BYTES
    assert split_text(text) == [text]


def test_over_long_line__hard_cut_never_inside_a_character() -> None:
    line = "填" * 1000  # 3000 bytes in one line
    parts = split_text(f"开头\n{line}\n结尾")
    assert all(_size(part) <= TEXT_LIMIT_BYTES for part in parts)
    assert "".join(parts).replace("\n", "") == f"开头{line}结尾"
    for part in parts:
        part.encode("utf-8").decode("utf-8")  # every part is whole characters
    # 2048 is not a multiple of 3: the cut steps back to the last whole character (682 x 3 = 2046).
    assert parts == ["开头", "填" * 682, "填" * 318 + "\n结尾"]


def test_over_long_line_of_four_byte_characters__cut_between_characters() -> None:
    line = "😀" * 600  # 2400 bytes
    parts = split_text(line, limit_bytes=TEXT_LIMIT_BYTES)
    assert [_size(part) for part in parts] == [2048, 352]
    assert "".join(parts) == line


def test_blank_lines_at_a_cut_are_dropped_but_kept_inside_a_part() -> None:
    text = "甲\n\n乙\n\n" + "丙" * 682 + "\n\n丁"
    parts = split_text(text)
    assert parts[0] == "甲\n\n乙"
    assert all(not part.startswith("\n") and not part.endswith("\n") for part in parts)


def test_limit_too_small__a_bug_raises() -> None:
    with pytest.raises(ValueError, match="limit_bytes"):
        split_text("x", limit_bytes=3)
