"""Reading a survey file from disk: the one place the core's loader gets its bytes from."""

from __future__ import annotations

from pathlib import Path

from bot.core.loading import DefinitionError, Problem, parse_survey
from bot.core.survey import Survey


def load_survey(path: str | Path) -> Survey:
    """Read, validate and compile the survey file at ``path``."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise DefinitionError(source, [Problem("", "file not found; check the path")]) from None
    except IsADirectoryError:
        raise DefinitionError(source, [Problem("", "is a directory; name a .yaml file")]) from None
    except OSError as error:
        raise DefinitionError(source, [Problem("", f"cannot be read ({error.strerror})")]) from None
    return parse_survey(data, source=source)
