"""``surveybot export``: the compiled workbook of a campaign, its files in a zip, the report book.

``surveybot export --campaign ID -o FILE.xlsx`` writes the workbook (see
``docs/exports.md``). When the campaign has uploaded files it also writes
``FILE.zip`` next to it: the workbook, with each attachment cell linked to its
file, and the files under ``attachments/<unit>/``. ``--zip [PATH]`` always
writes the zip (at PATH if given), ``--no-zip`` never does. The uploaded files
are read from ``SURVEYBOT_DATA_DIR``.

``--report-book FILE.docx`` writes the report book (the long-text answers
compiled by part, a Word document), alone or together with ``-o``; both
locations are checked before anything is written.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli import CommandError, row_id
from bot.cli.database import run_with_database

if TYPE_CHECKING:
    from bot.settings import Settings
    from exports import ExportResult
    from exports.report_book import ReportBookResult
    from storage.database import Database

logger = logging.getLogger(__name__)

#: ``--zip`` given without a path.
_DEFAULT_ZIP = ""
#: How many missing files are named one by one.
MAX_MISSING_SHOWN = 10


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write a campaign's compiled workbook (and a zip with the uploaded files) or its report book",
        description=(
            "Write the campaign's workbook: 汇总 (one row per unit), 报告, 进度, 统计 and "
            "字段说明. When the campaign has uploaded files, FILE.zip is written next to "
            "FILE.xlsx too: the workbook with links to the files, and the files. "
            "--report-book writes the report book, a Word document: a title page, one chapter "
            "per long-text question with every submitted unit's text in roster order and the "
            "units not submitted, and a table of the yes/no and number answers. Give -o, "
            "--report-book or both."
        ),
    )
    parser.add_argument("--campaign", type=row_id, required=True, metavar="ID", help="the campaign's id")
    parser.add_argument("-o", "--output", metavar="FILE.xlsx", help="where to write the workbook")
    parser.add_argument(
        "--report-book",
        metavar="FILE.docx",
        help="where to write the report book (alone, or with -o for both)",
    )
    bundle = parser.add_mutually_exclusive_group()
    bundle.add_argument(
        "--zip",
        nargs="?",
        const=_DEFAULT_ZIP,
        default=None,
        metavar="FILE.zip",
        help="always write the zip, at FILE.zip if given (default: FILE.xlsx with .zip, "
        "and only when there are uploaded files)",
    )
    bundle.add_argument("--no-zip", action="store_true", help="never write the zip")
    parser.set_defaults(handler=handle_export)


def _workbook_path(text: str) -> Path:
    path = Path(text).expanduser()
    if path.suffix.lower() != ".xlsx":
        raise CommandError(f"-o {text}: the workbook's name must end in .xlsx", exit_code=2)
    return path


def _report_book_path(text: str) -> Path:
    path = Path(text).expanduser()
    if path.suffix.lower() != ".docx":
        raise CommandError(f"--report-book {text}: the report book's name must end in .docx", exit_code=2)
    return path


def _bundle_path(text: str | None) -> Path | None:
    if not text:
        return None
    path = Path(text).expanduser()
    if path.suffix.lower() != ".zip":
        raise CommandError(f"--zip {text}: the bundle's name must end in .zip", exit_code=2)
    return path


def summary_lines(result: ExportResult) -> list[str]:
    """What the command prints about a finished export."""
    lines = [
        f"wrote {result.workbook}: {result.units} unit(s); {result.submitted} submitted, "
        f"{result.in_progress} in progress, {result.not_started} not started"
    ]
    if result.bundle is not None:
        lines.append(f"wrote {result.bundle}: the workbook and {result.attachments} uploaded file(s)")
    return lines


def report_book_line(result: ReportBookResult) -> str:
    """What the command prints about a finished report book."""
    return (
        f"wrote {result.path}: {result.chapters} chapter(s), {result.submitted} of "
        f"{result.units} unit(s) submitted"
    )


def handle_export(args: argparse.Namespace) -> int:
    if args.output is None and args.report_book is None:
        raise CommandError("give -o FILE.xlsx, --report-book FILE.docx or both", exit_code=2)
    if args.output is None and (args.zip is not None or args.no_zip):
        raise CommandError("--zip and --no-zip are about the workbook; give -o FILE.xlsx too", exit_code=2)
    workbook_path = _workbook_path(args.output) if args.output is not None else None
    bundle_path = _bundle_path(args.zip)
    book_path = _report_book_path(args.report_book) if args.report_book is not None else None

    async def operation(database: Database, settings: Settings) -> tuple[ExportResult | None, ReportBookResult | None]:
        from exports import BundleMode, ExportError, export_campaign
        from exports.output import OutputFile
        from exports.report_book import write_report_book

        if args.no_zip:
            mode = BundleMode.NEVER
        elif args.zip is not None:
            mode = BundleMode.ALWAYS
        else:
            mode = BundleMode.AUTO
        workbook: ExportResult | None = None
        book: ReportBookResult | None = None
        try:
            if book_path is not None and workbook_path is not None:
                # Fail before the workbook is written if the report book cannot be.
                book_check = OutputFile(book_path)
                book_check.check()
                book_check.discard()
            if workbook_path is not None:
                workbook = await export_campaign(
                    database=database,
                    campaign_id=args.campaign,
                    workbook_path=workbook_path,
                    data_dir=settings.data_dir,
                    bundle=mode,
                    bundle_path=bundle_path,
                )
            if book_path is not None:
                book = await write_report_book(database=database, campaign_id=args.campaign, path=book_path)
        except ExportError as error:
            raise CommandError(str(error)) from None
        return workbook, book

    workbook, book = run_with_database(operation)
    if workbook is not None:
        for line in summary_lines(workbook):
            print(line)
    if book is not None:
        print(report_book_line(book))
    if workbook is not None and workbook.missing_attachments:
        shown = workbook.missing_attachments[:MAX_MISSING_SHOWN]
        more = len(workbook.missing_attachments) - len(shown)
        print(
            f"warning: {len(workbook.missing_attachments)} uploaded file(s) are not in the data "
            "directory (SURVEYBOT_DATA_DIR) and were left out: "
            + "; ".join(shown)
            + (f"; and {more} more" if more else ""),
            file=sys.stderr,
        )
    return 0
