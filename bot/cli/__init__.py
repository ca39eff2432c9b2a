"""The ``surveybot`` command line.

Each subcommand lives in its own module of this package and exposes
``register(subparsers)``; the module adds its parser and sets ``handler`` to a
function ``(args) -> int`` returning the exit code. Heavy imports (SQLAlchemy,
python-telegram-bot) happen inside the handlers so that ``surveybot validate``
and ``surveybot try`` start fast.

Exit codes: 0 success, 1 the command ran and found problems (invalid files,
unknown campaign...), 2 bad usage or bad configuration.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from bot.logs import configure_logging

logger = logging.getLogger(__name__)

#: Subcommand modules, in the order their commands appear in ``--help``.
COMMAND_MODULES: tuple[str, ...] = (
    "bot.cli.survey",
    "bot.cli.convert",
    "bot.cli.database",
    "bot.cli.campaign",
    "bot.cli.invite",
    "bot.cli.admin",
    "bot.cli.run",
    "bot.cli.demo",
    "bot.cli.export",
    "bot.cli.remind",
    "bot.cli.wecom",
)


class CommandError(Exception):
    """A command cannot go on; the message is printed as one line to stderr.

    ``exit_code`` is 1 for a problem with the data the user named, 2 for bad
    usage or configuration.
    """

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


#: The largest id a row can have (a signed 64-bit integer in SQLite and PostgreSQL).
MAX_ROW_ID = 2**63 - 1


def row_id(text: str) -> int:
    """An argparse type for ids (``--campaign ID``): a positive number that a row can have."""
    stripped = text.strip().lstrip("#")
    if not stripped.isascii() or not stripped.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not an id (a positive number)")
    if len(stripped) > len(str(MAX_ROW_ID)) or not 0 < int(stripped) <= MAX_ROW_ID:
        raise argparse.ArgumentTypeError(f"{text!r} is not an id: ids go from 1 to {MAX_ROW_ID}")
    return int(stripped)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="surveybot",
        description="Collect the same structured report from a roster of units, in a chat.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue  # a command module not written yet
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(verbose=args.verbose)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args))
    except CommandError as error:
        print(f"surveybot {args.command}: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("", file=sys.stderr)
        return 130
    except Exception:  # a bug: the traceback only with -v, one line for the user
        logger.debug("surveybot %s failed", args.command, exc_info=True)
        print(
            f"surveybot {args.command}: internal error; run again with -v for details",
            file=sys.stderr,
        )
        return 70


def run() -> None:
    sys.exit(main())
