"""Names in the order a Chinese reader expects: by pinyin, with Latin letters and numbers among them sensibly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.name_order import name_sort_key


def test_hanzi_by_pinyin_and_a_polyphone_by_its_reading_in_the_name() -> None:
    names = ["通州区", "重庆市", "长沙市", "崇川区", "银行路", "启东市"]
    # 重庆 is chong qing (not zhong), 长沙 chang sha (not zhang), 银行 yin hang (not xing).
    assert sorted(names, key=name_sort_key) == ["长沙市", "崇川区", "重庆市", "启东市", "通州区", "银行路"]


def test_latin_without_case_and_numbers_by_their_value() -> None:
    names = ["第10组", "zhang 10", "第2组", "Alpha", "第１组", "Zhang 9", "beta", "海门区"]
    assert sorted(names, key=name_sort_key) == ["Alpha", "beta", "第１组", "第2组", "第10组", "海门区", "Zhang 9", "zhang 10"]


def test_names_reading_alike_keep_a_fixed_order() -> None:
    assert sorted(["通州区", "同州区"], key=name_sort_key) == sorted(["同州区", "通州区"], key=name_sort_key)


def test_pypinyin_is_loaded_by_the_first_sort_not_by_serving() -> None:
    # Its phrase data is about 55 MB: a `surveybot run` that never sorts by name must not carry it.
    code = (
        "import sys, bot.cli.run, handlers.console.app, bot.campaign_progress, bot.name_order\n"
        "assert 'pypinyin' not in sys.modules, 'loaded at import'\n"
        "bot.name_order.name_sort_key('海门区')\n"
        "assert 'pypinyin' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])
