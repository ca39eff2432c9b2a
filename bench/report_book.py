"""Benchmark: the report book of a 10,000-unit campaign, against a bare python-docx document of the same paragraphs.

    python bench/report_book.py [--units 10000] [--repeat 3] [--page-size N] [--keep DIR]

1. Builds the campaign of ``bench/export.py`` (the Nantong survey, 80 % of
   the units submitted with 1,000 characters of report over five parts, 15 %
   in progress, 5 % not started) in a SQLite database in a temporary folder.
2. Runs our report book (``exports.write_report_book``) in a fresh subprocess.
3. Reads the paragraphs (style id and text) and the table rows of that
   document back (outside any timing) and builds, in a fresh subprocess too,
   a bare python-docx document of the same paragraphs and rows: the default
   template, no fonts, no database, no conversion, then ``save``. The bare
   side adds the elements the cheapest way there is, as ours does (lxml
   ``SubElement``: a ``w:p`` with its style id and one run, put before the
   body's ``sectPr``): ``Document.add_paragraph`` scans the body for its end
   and looks the style up by name on every call, which is quadratic (a probe:
   40,000 paragraphs in 250 s), so a 10,000-unit book through it would take
   hours. The difference between the sides is then the database, the
   conversion and the styles.
4. Prints seconds and peak memory of both and the ratios, and our figures for
   a campaign a tenth of the size (the book is held in memory while it is
   built, so its memory grows with the roster).

Each side runs ``--repeat`` times in new processes, alternating, the fastest
run counting (and its peak RSS, ``VmHWM``), and once under ``tracemalloc``
(not timed) for the peak of Python allocations. lxml's own allocations (the
document tree) are outside ``tracemalloc``'s view: the RSS growth shows them.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _export_bench() -> Any:
    """``bench/export.py``, for its campaign builder and its measuring helpers."""
    spec = importlib.util.spec_from_file_location("bench_export", Path(__file__).resolve().parent / "export.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench_export = _export_bench()


def child_ours(url: str, campaign_id: int, output: Path, trace: bool, page_size: int) -> dict[str, float]:
    import aiosqlite  # noqa: F401  (imported before measuring, as python-docx is)
    import docx  # noqa: F401

    from exports import write_report_book
    from storage.database import Database

    async def write() -> None:
        database = Database(url)
        try:
            await write_report_book(database=database, campaign_id=campaign_id, path=output, page_size=page_size)
        finally:
            await database.dispose()

    return bench_export._measure(lambda: asyncio.run(write()), trace)


def child_bare(blocks: Path, output: Path, trace: bool) -> dict[str, float]:
    import docx
    from docx.oxml.ns import qn
    from lxml import etree

    p_tag, ppr, pstyle, val, r_tag, t_tag = (qn(t) for t in ("w:p", "w:pPr", "w:pStyle", "w:val", "w:r", "w:t"))
    tr_tag, tc_tag = qn("w:tr"), qn("w:tc")

    def paragraph(parent: Any, style: str | None, text: str) -> Any:
        element = etree.SubElement(parent, p_tag)
        if style:
            etree.SubElement(etree.SubElement(element, ppr), pstyle).set(val, style)
        if text:
            etree.SubElement(etree.SubElement(element, r_tag), t_tag).text = text
        return element

    def build() -> None:
        document = docx.Document()
        body = document.element.body
        end = body.sectPr
        table = None
        with blocks.open("rb") as stream:
            while True:
                try:
                    kind, value = pickle.load(stream)
                except EOFError:
                    break
                if kind == "p":
                    style, text = value
                    end.addprevious(paragraph(body, style, text))
                    table = None
                else:
                    if table is None:
                        table = document.add_table(rows=0, cols=len(value))._tbl
                    row = etree.SubElement(table, tr_tag)
                    for text in value:
                        paragraph(etree.SubElement(row, tc_tag), "TableText", text)
        document.save(str(output))

    return bench_export._measure(build, trace)


def dump_blocks(book: Path, blocks: Path) -> tuple[int, int]:
    """The paragraphs (style id, text) and table rows of ``book``, into ``blocks``; their counts."""
    import docx
    from docx.oxml.ns import qn

    document = docx.Document(str(book))
    paragraphs = rows = 0
    with blocks.open("wb") as stream:
        for element in document.element.body.iterchildren():
            if element.tag == qn("w:p"):
                pickle.dump(("p", (element.style, element.text)), stream)  # CT_P.text: its runs' text
                paragraphs += 1
            elif element.tag == qn("w:tbl"):
                for row in element.tr_lst:
                    pickle.dump(("tr", ["".join(p.text for p in cell.p_lst) for cell in row.tc_lst]), stream)
                    rows += 1
    return paragraphs, rows


def _run_child(*arguments: str) -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        raise SystemExit(f"child {' '.join(arguments[:1])} failed")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=10_000, help="units in the campaign (default 10000)")
    parser.add_argument("--keep", metavar="DIR", help="build in DIR and keep the database and documents")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each side; the fastest counts (default 3)")
    parser.add_argument("--page-size", type=int, default=0, help="units per page read (default: the export's)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, *rest = args.child
        if kind == "ours":
            url, campaign_id, output, trace, page_size = rest
            result = child_ours(url, int(campaign_id), Path(output), trace == "1", int(page_size))
        else:
            blocks, output, trace = rest
            result = child_bare(Path(blocks), Path(output), trace == "1")
        print(json.dumps(result))
        return 0

    with tempfile.TemporaryDirectory(prefix="surveybot-bench-") as scratch:
        folder = Path(args.keep) if args.keep else Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        database_file = folder / "bench.db"
        database_file.unlink(missing_ok=True)
        url = f"sqlite+aiosqlite:///{database_file}"
        started = time.perf_counter()
        campaign_id = asyncio.run(bench_export.build_database(url, args.units))
        small_units = max(args.units // 10, 1)
        small_id = asyncio.run(bench_export.build_database(url, small_units, accounts_from=100_000_000))
        print(
            f"built {args.units} + {small_units} units in {time.perf_counter() - started:.1f} s "
            f"({database_file.stat().st_size / 1e6:.0f} MB)"
        )

        from exports.data import DEFAULT_PAGE_SIZE  # here: the bare child must not import our code

        page = str(args.page_size or DEFAULT_PAGE_SIZE)
        ours_file, bare_file, blocks_file = folder / "ours.docx", folder / "bare.docx", folder / "blocks.pickle"
        ours_runs = [_run_child("ours", url, str(campaign_id), str(ours_file), "0", page)]
        paragraphs, rows = dump_blocks(ours_file, blocks_file)
        bare_runs = [_run_child("bare", str(blocks_file), str(bare_file), "0")]
        for _ in range(args.repeat - 1):  # alternate, so that a slow spell of the machine hits both
            ours_runs.append(_run_child("ours", url, str(campaign_id), str(ours_file), "0", page))
            bare_runs.append(_run_child("bare", str(blocks_file), str(bare_file), "0"))
        ours = min(ours_runs, key=lambda run: run["seconds"])
        bare = min(bare_runs, key=lambda run: run["seconds"])
        ours_traced = _run_child("ours", url, str(campaign_id), str(ours_file), "1", page)
        bare_traced = _run_child("bare", str(blocks_file), str(bare_file), "1")
        small_file = folder / "ours-small.docx"
        small = _run_child("ours", url, str(small_id), str(small_file), "0", page)
        small_traced = _run_child("ours", url, str(small_id), str(small_file), "1", page)

        mb = 1024 * 1024
        print(f"{paragraphs:,} paragraphs and {rows:,} table rows; pages of {page} units")
        ours_seconds = ", ".join(f"{run['seconds']:.2f}" for run in ours_runs)
        bare_seconds = ", ".join(f"{run['seconds']:.2f}" for run in bare_runs)
        print(f"seconds (fastest of {args.repeat}): ours {ours_seconds}; bare {bare_seconds}")
        print(f"{'':26} {'seconds':>8} {'traced peak MB':>15} {'RSS growth MB':>14} {'max RSS MB':>11} {'file MB':>8}")
        for name, timed, traced, path in (
            (f"ours, {args.units} units", ours, ours_traced, ours_file),
            (f"bare docx, {args.units} units", bare, bare_traced, bare_file),
            (f"ours, {small_units} units", small, small_traced, small_file),
        ):
            print(
                f"{name:26} {timed['seconds']:8.2f} {traced['traced_peak'] / mb:15.1f} "
                f"{(timed['max_rss'] - timed['rss_before']) / mb:14.1f} {timed['max_rss'] / mb:11.1f} "
                f"{path.stat().st_size / mb:8.1f}"
            )
        print(f"ratio time ours/bare:          {ours['seconds'] / bare['seconds']:.2f}x")
        print(f"ratio traced peak ours/bare:   {ours_traced['traced_peak'] / bare_traced['traced_peak']:.2f}x")
        growth = (ours["max_rss"] - ours["rss_before"]) / max(bare["max_rss"] - bare["rss_before"], 1)
        print(f"ratio RSS growth ours/bare:    {growth:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
