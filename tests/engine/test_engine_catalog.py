"""The text catalogs: the same keys and placeholders in every language, and every key the code
uses exists."""

from __future__ import annotations

import io
import re
import string
import tokenize
from pathlib import Path

import pytest
from engine_harness import ROOT

from bot.core import answers
from bot.core.catalog import BOT_LANGUAGES, catalog, translate
from bot.core.definition import QuestionType

BOT_SOURCES = sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py")])
#: The catalog areas; a string literal ``"<area>.<key>"`` in the code is a catalog key.
AREAS = sorted({key.split(".")[0] for language in BOT_LANGUAGES for key in catalog(language)})
KEY_LITERAL = re.compile(rf"^(?:{'|'.join(map(re.escape, AREAS))})(?:\.[a-z0-9_]+)+$")


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def key_literals(path: Path) -> list[tuple[str, int]]:
    """Plain string literals in the source that name a catalog key, with their line."""
    found: list[tuple[str, int]] = []
    for token in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
        if token.type != tokenize.STRING or token.string[:1] not in "\"'":
            continue  # f-strings and prefixed literals are checked below, by what they can produce
        value = token.string.strip("\"'")
        if KEY_LITERAL.match(value):
            found.append((value, token.start[0]))
    return found


def test_catalogs__exist_and_are_not_empty() -> None:
    assert BOT_LANGUAGES == ("zh", "en")
    for language in BOT_LANGUAGES:
        assert len(catalog(language)) > 50


def test_catalogs__have_the_same_keys_in_every_language() -> None:
    zh, en = set(catalog("zh")), set(catalog("en"))
    assert sorted(zh - en) == [], "keys only in zh.yaml"
    assert sorted(en - zh) == [], "keys only in en.yaml"


@pytest.mark.parametrize("key", sorted(catalog("zh")))
def test_catalogs__placeholders_agree_between_languages(key: str) -> None:
    zh, en = catalog("zh")[key], catalog("en").get(key, "")
    assert placeholders(zh) == placeholders(en), f"{key}: zh {placeholders(zh)} vs en {placeholders(en)}"
    params = dict.fromkeys(placeholders(zh), "x")
    for language in BOT_LANGUAGES:
        assert translate(language, key, **params) if params else translate(language, key)


def test_code__every_catalog_key_literal_in_bot_exists() -> None:
    used = {(key, f"{path.relative_to(ROOT)}:{line}") for path in BOT_SOURCES for key, line in key_literals(path)}
    assert len(used) > 50, "the scan found too few keys to be trusted"
    for language in BOT_LANGUAGES:
        missing = sorted(f"{where}: {key}" for key, where in used if key not in catalog(language))
        assert missing == [], f"missing from bot/core/locales/{language}.yaml"


def test_code__the_engine_and_terminal_keys_are_found_by_the_scan() -> None:
    engine_keys = {key for key, _ in key_literals(ROOT / "bot" / "core" / "engine.py")}
    assert {"engine.required", "engine.stale_button", "engine.yes_label", "engine.incomplete"} <= engine_keys
    assert "terminal.not_submitted" in {key for key, _ in key_literals(ROOT / "handlers" / "terminal.py")}


def test_code__every_invalid_answer_reason_has_a_text() -> None:
    """The engine translates ``Invalid(key)`` from bot.core.answers as ``answer.<key>``."""
    source = (ROOT / "bot" / "core" / "answers.py").read_text(encoding="utf-8")
    keys = set(re.findall(r'Invalid\("([a-z_]+)"', source))
    keys |= {f"{kind}_{bound}" for kind in ("integer", "decimal") for bound in ("range", "min", "max")}
    assert {"integer", "decimal", "yes_no", "date", "date_impossible", "phone", "email", "empty", "too_long"} <= keys
    for language in BOT_LANGUAGES:
        assert sorted(key for key in keys if f"answer.{key}" not in catalog(language)) == []
    assert answers.Invalid("integer").key == "integer"


def test_code__every_question_type_has_an_expectation() -> None:
    """The engine names what it expects as ``expect.<type>``."""
    for language in BOT_LANGUAGES:
        assert sorted(kind.value for kind in QuestionType if f"expect.{kind.value}" not in catalog(language)) == []
