"""The engine is pure: importing it loads no channel or database library, and its modules do no I/O."""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest
from engine_harness import ROOT

#: Libraries of channels, storage and exports; the engine must not need any of them.
FORBIDDEN = ("telegram", "sqlalchemy", "aiohttp", "openpyxl", "asyncpg", "aiosqlite")
#: The core's modules: no I/O at call time. The catalogs read their files
#: once, at import (``catalog.py``), and are the one exception.
PURE_MODULES = tuple(
    sorted(str(path.relative_to(ROOT)) for path in (ROOT / "bot" / "core").glob("*.py") if path.name != "catalog.py")
)
#: Calls that read or write outside the process.
IO_CALLS = frozenset({"open", "print", "input", "read_text", "read_bytes", "write_text", "write_bytes"})


def modules_after_import(module: str) -> list[str]:
    """The modules a fresh interpreter holds after ``import module``."""
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout)


def test_forbidden_libraries_are_installed_so_the_import_check_means_something() -> None:
    missing = [name for name in ("telegram", "sqlalchemy", "openpyxl") if importlib.util.find_spec(name) is None]
    assert missing == []


@pytest.mark.parametrize(
    "module", ["bot.core", "bot.core.engine", "bot.core.loading", "bot.core.wording", "bot.core.reply", "handlers.terminal"]
)
def test_import__pulls_in_no_channel_database_or_spreadsheet_library(module: str) -> None:
    modules = modules_after_import(module)
    assert module in modules
    leaked = sorted({name.split(".")[0] for name in modules} & set(FORBIDDEN))
    assert leaked == [], f"importing {module} loads {leaked}"


def io_calls(path: Path) -> list[str]:
    """``name(`` calls of I/O functions in the source, ignoring strings and comments."""
    tokens = [
        token
        for token in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
        if token.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
    ]
    found: list[str] = []
    for token, following in zip(tokens, tokens[1:], strict=False):
        if token.type == tokenize.NAME and token.string in IO_CALLS and following.string == "(":
            found.append(f"{path.name}:{token.start[0]}: {token.string}(")
    return found


@pytest.mark.parametrize("relative", PURE_MODULES)
def test_pure_module__contains_no_io_call(relative: str) -> None:
    assert io_calls(ROOT / relative) == []


def test_io_scan__finds_calls_where_they_are(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('x = "print(1)"  # open(\nprint ("x")\nwith open(p) as f: pass\ny = p.read_text()\n', encoding="utf-8")
    assert io_calls(sample) == ["sample.py:2: print(", "sample.py:3: open(", "sample.py:4: read_text("]
