"""Benchmark: exporting a 10,000-unit campaign, against a bare openpyxl dump of the same cells.

    python bench/export.py [--units 10000] [--repeat 3] [--page-size N] [--keep DIR] [--profile]

1. Builds a campaign of ``--units`` units answering the Nantong survey
   (``surveys/nantong-midterm-2023.yaml``) in a SQLite database in a
   temporary directory, inserting the rows in bulk with SQLAlchemy core: 80 %
   of the units submitted, 15 % in progress (their current answers as Answer
   rows, a prefix of the survey), 5 % not started; every answered report has
   1,000 characters of text over its five parts; one respondent per unit.
2. Runs our export (``exports.export_campaign``, workbook only) in a fresh
   subprocess.
3. Reads the cell values of that workbook back (outside any timing) and runs,
   in a fresh subprocess too, a bare openpyxl write-only dump of the same
   values into the same five sheets: no styles, widths, merged cells, chart,
   database or conversion — only ``append`` and ``save``. The values are
   streamed from a pickle file, which costs little next to writing XML.
4. Prints seconds and peak memory of both and the ratios; the aim is a time at
   most 1.3 times and a peak memory at most 1.5 times the bare dump's. To show
   that memory does not grow with the roster, it also exports a second
   campaign a tenth of the size.

Each side runs in new processes: ``--repeat`` times timed, alternating with
the other side, the fastest run counting (and its peak RSS,
``VmHWM`` of ``/proc/self/status``, read at the end; not ``ru_maxrss``,
which Linux carries over from the parent process across ``exec``), and once
under ``tracemalloc`` (which slows it down, so that run is not timed) for the peak of Python allocations made
during the run. Imports happen before measuring; "RSS growth" is the peak RSS
minus the RSS just before the run. A last traced run exports the small
campaign first ("warm"): the peak of an export in a process that has exported
before, as in a running bot, without the one-time set-up of the ORM and caches.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pickle
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SURVEY_PATH = ROOT / "surveys" / "nantong-midterm-2023.yaml"
REPORT_PARTS = ("r1_organization", "r1_tasks", "r2_experience", "r3_problems", "r4_suggestions")
REPORT_CHARACTERS = 1000
TIME_AIM = 1.3
MEMORY_AIM = 1.5
_TEXT = (
    "一、组织实施保障情况。市委、市政府高度重视全民科学素质工作，将其纳入“十四五”经济社会发展规划，"
    "成立了由分管副市长任组长的全民科学素质工作领导小组，印发年度工作要点，明确各成员单位职责分工。"
    "二、主要经验和成效。坚持党建引领，建立部门协同、上下联动的工作机制；深入开展全国科普日、科技活动周、"
    "科技工作者日等群众性科普活动，推动科普进社区、进农村、进学校、进企业；建成一批科普教育基地和科普示范社区。"
    "三、存在的问题和困难。基层科普力量较为薄弱，专职科普人员不足；科普经费投入渠道单一，社会力量参与不够；"
    "数字化科普资源建设相对滞后，针对老年人和农民的科普供给不足。"
    "四、对策建议。进一步健全工作机制，加大财政投入，完善激励政策；加强科普人才队伍建设；"
    "推进科普信息化，打造线上线下融合的科普服务体系；聚焦重点人群，精准提供科普服务。\n"
)
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"


# -- the data ------------------------------------------------------------------------------


def _text(rng: random.Random, length: int) -> str:
    start = rng.randrange(len(_TEXT))
    repeated = _TEXT * (length // len(_TEXT) + 2)
    return repeated[start : start + length]


def unit_answers(index: int) -> tuple[dict[str, Any], dict[str, str]]:
    """A complete, valid response for unit ``index`` (deterministic)."""
    rng = random.Random(index)
    name = _SURNAMES[rng.randrange(len(_SURNAMES))] + "".join(rng.choice(_GIVEN) for _ in range(rng.randint(1, 2)))
    answers: dict[str, Any] = {
        "unit": f"第{index + 1}县科学技术协会",
        "filled_by": name,
        "contact_phone": f"0513-{rng.randrange(10_000_000, 99_999_999)}",
        "filled_on": f"2023-04-{rng.randint(10, 26):02d}",
        "q1_econ_plan": rng.choice(("yes", "no")),
        "q2_tech_plan": rng.choice(("yes", "no")),
        "q3_regulation": rng.choice(("yes", "no")),
        "q4_assessment": rng.choice(("yes", "no")),
        "q6_meetings": rng.choice(("yes", "no")),
    }
    others: dict[str, str] = {}
    if answers["q4_assessment"] == "yes":
        answers["q4_by"] = rng.choice((["party_committee"], ["government"], ["party_committee", "government"]))
    answers["q5_body"] = rng.choice(("leading_group", "implementation_office", "other", "no"))
    if answers["q5_body"] == "other":
        others["q5_body"] = "全民科学素质工作联席会议"
    members = rng.randint(10, 60)
    answers["q7_members"] = members
    answers["q7_change"] = rng.randint(-5, min(members, 10))
    cuts = sorted(rng.sample(range(20, REPORT_CHARACTERS - 20), len(REPORT_PARTS) - 1))
    bounds = [0, *cuts, REPORT_CHARACTERS]
    for part, (low, high) in zip(REPORT_PARTS, pairwise(bounds), strict=True):
        answers[part] = _text(rng, high - low)
    return answers, others


def _ordered(answers: dict[str, Any], question_ids: list[str], count: int) -> dict[str, Any]:
    kept = [question_id for question_id in question_ids if question_id in answers][:count]
    return {question_id: answers[question_id] for question_id in kept}


async def build_database(url: str, units: int, *, accounts_from: int = 1_000_000) -> int:
    """Create a campaign and its roster in bulk; returns the campaign's id."""
    from sqlalchemy import insert

    from bot.survey_files import load_survey
    from storage.campaigns import create_campaign
    from storage.database import Database
    from storage.migrate import ensure_schema
    from storage.models import Answer, Respondent, RespondentUnit, Response, ResponseStatus, Unit
    from storage.surveys import store_survey

    survey = load_survey(SURVEY_PATH)
    question_ids = [question.id for question in survey.answerable_questions]
    database = Database(url)
    try:
        await ensure_schema(database)
        now = datetime(2023, 4, 20, 8, 0, tzinfo=UTC)
        async with database.transaction() as session:
            version = await store_survey(session=session, survey=survey)
            campaign = await create_campaign(
                session=session,
                survey_version=version,
                title="南通市全民科学素质行动规划中期评估（基准测试）",
                deadline=now + timedelta(days=7),
                now=now,
            )
            campaign_id = campaign.id
            chunk = 1000
            for first in range(0, units, chunk):
                indexes = range(first, min(first + chunk, units))
                unit_ids = (
                    await session.execute(
                        insert(Unit).returning(Unit.id),
                        [
                            {"campaign_id": campaign_id, "name": f"第{i + 1}县", "position": i + 1, "created_at": now}
                            for i in indexes
                        ],
                    )
                ).scalars().all()
                responses: list[dict[str, Any]] = []
                answer_rows: list[tuple[int, dict[str, Any], dict[str, str]]] = []
                for i, unit_id in zip(indexes, unit_ids, strict=True):
                    kind = i % 20
                    started = now + timedelta(minutes=i % 600)
                    row: dict[str, Any] = {
                        "unit_id": unit_id,
                        "status": ResponseStatus.NOT_STARTED,
                        "revision": 0,
                        "created_at": now,
                        "started_at": None,
                        "last_activity_at": None,
                        "submitted_at": None,
                        "submitted_values": None,
                    }
                    answers, others = unit_answers(i)
                    if kind < 16:
                        row.update(
                            status=ResponseStatus.SUBMITTED,
                            revision=len(answers) + 1,
                            started_at=started,
                            last_activity_at=started + timedelta(hours=1),
                            submitted_at=started + timedelta(hours=1),
                            submitted_values={"answers": answers, "others": others},
                        )
                    elif kind < 19:
                        current = _ordered(answers, question_ids, 6 + i % 12)
                        row.update(
                            status=ResponseStatus.IN_PROGRESS,
                            revision=len(current),
                            started_at=started,
                            last_activity_at=started + timedelta(minutes=20),
                        )
                        answer_rows.append((i, current, {k: v for k, v in others.items() if k in current}))
                    responses.append(row)
                response_ids = (
                    await session.execute(insert(Response).returning(Response.id, Response.unit_id), responses)
                ).all()
                response_of_unit = {unit_id: response_id for response_id, unit_id in response_ids}
                by_index = dict(zip(indexes, unit_ids, strict=True))
                answer_values = [
                    {
                        "response_id": response_of_unit[by_index[i]],
                        "question_id": question_id,
                        "value": value,
                        "other_text": others.get(question_id),
                        "updated_at": now,
                    }
                    for i, current, others in answer_rows
                    for question_id, value in current.items()
                ]
                if answer_values:
                    await session.execute(insert(Answer), answer_values)
                respondent_ids = (
                    await session.execute(
                        insert(Respondent).returning(Respondent.id),
                        [
                            {
                                "channel": "telegram",
                                "external_id": str(accounts_from + i),
                                "display_name": unit_answers(i)[0]["filled_by"],
                                "unreachable": i % 50 == 0,
                                "created_at": now,
                            }
                            for i in indexes
                        ],
                    )
                ).scalars().all()
                await session.execute(
                    insert(RespondentUnit),
                    [
                        {"respondent_id": respondent_id, "unit_id": unit_id, "created_at": now}
                        for respondent_id, unit_id in zip(respondent_ids, unit_ids, strict=True)
                    ],
                )
        return campaign_id
    finally:
        await database.dispose()


# -- the two sides, each run in a child process ---------------------------------------------------


def _status_kib(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in KiB."""
    with open("/proc/self/status") as stream:
        for line in stream:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _rss_bytes() -> int:
    return _status_kib("VmRSS") * 1024


def _peak_rss_bytes() -> int:
    """The process's peak RSS. Not ``ru_maxrss``: Linux carries that across exec from the parent."""
    return _status_kib("VmHWM") * 1024


def _measure(run: Any, trace: bool) -> dict[str, float]:
    import gc
    import tracemalloc

    gc.collect()
    rss_before = _rss_bytes()
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    run()
    seconds = time.perf_counter() - started
    result = {
        "seconds": seconds,
        "max_rss": _peak_rss_bytes(),
        "rss_before": rss_before,
    }
    if trace:
        result["traced_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result


def child_ours(
    url: str, campaign_id: int, output: Path, trace: bool, profile: bool, warm_id: int, page_size: int
) -> dict[str, float]:
    import aiosqlite  # noqa: F401  (imported before measuring, as openpyxl is)
    import openpyxl  # noqa: F401

    from exports import BundleMode, export_campaign
    from storage.database import Database

    async def export(which: int = campaign_id, path: Path = output) -> None:
        database = Database(url)
        try:
            await export_campaign(
                database=database,
                campaign_id=which,
                workbook_path=path,
                data_dir=None,
                bundle=BundleMode.NEVER,
                page_size=page_size,
            )
        finally:
            await database.dispose()

    if warm_id:
        # A process that has exported before (a running bot): the ORM, the dialect
        # and the caches are set up already; only the export's own memory is measured.
        asyncio.run(export(warm_id, output.with_name("warm-up.xlsx")))

    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        asyncio.run(export())
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(30)
        return {}
    return _measure(lambda: asyncio.run(export()), trace)


def child_bare(values: Path, output: Path, trace: bool) -> dict[str, float]:
    from openpyxl import Workbook

    def dump() -> None:
        workbook = Workbook(write_only=True)
        with values.open("rb") as stream:
            sheet = None
            while True:
                try:
                    item = pickle.load(stream)
                except EOFError:
                    break
                if isinstance(item, str):
                    sheet = workbook.create_sheet(item)
                else:
                    assert sheet is not None
                    sheet.append(item)
        workbook.save(output)

    return _measure(dump, trace)


def dump_values(workbook_path: Path, values: Path) -> int:
    """The cell values of every sheet, streamed into ``values``; returns the cell count."""
    from openpyxl import load_workbook

    cells = 0
    workbook = load_workbook(workbook_path, read_only=True)
    try:
        with values.open("wb") as stream:
            for sheet in workbook.worksheets:
                pickle.dump(sheet.title, stream)
                for row in sheet.iter_rows(values_only=True):
                    pickle.dump(list(row), stream)
                    cells += sum(1 for value in row if value is not None)
    finally:
        workbook.close()
    return cells


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
    if completed.stderr:
        sys.stderr.write(completed.stderr)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=10_000, help="units in the campaign (default 10000)")
    parser.add_argument("--keep", metavar="DIR", help="build in DIR and keep the database and workbooks")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each side; the fastest counts (default 3)")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of our export")
    parser.add_argument("--page-size", type=int, default=0, help="units per page read (default: the export's)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, *rest = args.child
        if kind == "ours":
            url, campaign_id, output, trace, profile, warm_id, page_size = rest
            result = child_ours(
                url, int(campaign_id), Path(output), trace == "1", profile == "1", int(warm_id), int(page_size)
            )
        else:
            values, output, trace = rest
            result = child_bare(Path(values), Path(output), trace == "1")
        print(json.dumps(result))
        return 0

    with tempfile.TemporaryDirectory(prefix="surveybot-bench-") as scratch:
        folder = Path(args.keep) if args.keep else Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        database_file = folder / "bench.db"
        database_file.unlink(missing_ok=True)
        url = f"sqlite+aiosqlite:///{database_file}"
        started = time.perf_counter()
        campaign_id = asyncio.run(build_database(url, args.units))
        small_units = max(args.units // 10, 1)
        small_id = asyncio.run(build_database(url, small_units, accounts_from=100_000_000))
        print(
            f"built {args.units} + {small_units} units in {time.perf_counter() - started:.1f} s "
            f"({database_file.stat().st_size / 1e6:.0f} MB)"
        )

        from exports.data import DEFAULT_PAGE_SIZE  # here: the bare child must not import our code

        page = str(args.page_size or DEFAULT_PAGE_SIZE)
        ours_file, bare_file, values_file = folder / "ours.xlsx", folder / "bare.xlsx", folder / "values.pickle"
        ours_runs = [_run_child("ours", url, str(campaign_id), str(ours_file), "0", "0", "0", page)]
        cells = dump_values(ours_file, values_file)
        bare_runs = [_run_child("bare", str(values_file), str(bare_file), "0")]
        for _ in range(args.repeat - 1):  # alternate, so that a slow spell of the machine hits both
            ours_runs.append(_run_child("ours", url, str(campaign_id), str(ours_file), "0", "0", "0", page))
            bare_runs.append(_run_child("bare", str(values_file), str(bare_file), "0"))
        ours = min(ours_runs, key=lambda run: run["seconds"])
        bare = min(bare_runs, key=lambda run: run["seconds"])
        ours_traced = _run_child("ours", url, str(campaign_id), str(ours_file), "1", "0", "0", page)
        bare_traced = _run_child("bare", str(values_file), str(bare_file), "1")
        warm_traced = _run_child("ours", url, str(campaign_id), str(ours_file), "1", "0", str(small_id), page)
        small_file = folder / "ours-small.xlsx"
        small = _run_child("ours", url, str(small_id), str(small_file), "0", "0", "0", page)
        small_traced = _run_child("ours", url, str(small_id), str(small_file), "1", "0", "0", page)
        if args.profile:
            _run_child("ours", url, str(campaign_id), str(ours_file), "0", "1", "0", page)

        mb = 1024 * 1024
        rows = [
            (f"ours, {args.units} units", ours, ours_traced, ours_file),
            (f"bare dump, {args.units} units", bare, bare_traced, bare_file),
            (f"ours, {small_units} units", small, small_traced, small_file),
        ]
        print(
            f"{cells:,} non-empty cells in 5 sheets; report text {REPORT_CHARACTERS} characters per unit; "
            f"pages of {page} units"
        )
        print(
            "seconds (fastest of %d): ours %s; bare %s"
            % (
                args.repeat,
                ", ".join(f"{run['seconds']:.2f}" for run in ours_runs),
                ", ".join(f"{run['seconds']:.2f}" for run in bare_runs),
            )
        )
        print(f"{'':26} {'seconds':>8} {'traced peak MB':>15} {'RSS growth MB':>14} {'max RSS MB':>11} {'file MB':>8}")
        for name, timed, traced, path in rows:
            print(
                f"{name:26} {timed['seconds']:8.2f} {traced['traced_peak'] / mb:15.1f} "
                f"{(timed['max_rss'] - timed['rss_before']) / mb:14.1f} {timed['max_rss'] / mb:11.1f} "
                f"{path.stat().st_size / mb:8.1f}"
            )
        print(
            f"ours, {args.units} units, in a process that has exported before: traced peak "
            f"{warm_traced['traced_peak'] / mb:.1f} MB"
        )
        time_ratio = ours["seconds"] / bare["seconds"]
        memory_ratio = ours_traced["traced_peak"] / bare_traced["traced_peak"]
        warm_ratio = warm_traced["traced_peak"] / bare_traced["traced_peak"]
        rss_ratio = ours["max_rss"] / bare["max_rss"]
        print(f"ratio time ours/bare:                 {time_ratio:.2f}x (aim <= {TIME_AIM}x)")
        print(f"ratio traced peak ours/bare:          {memory_ratio:.2f}x (aim <= {MEMORY_AIM}x)")
        print(f"ratio traced peak ours (warm)/bare:   {warm_ratio:.2f}x")
        print(f"ratio max RSS ours/bare:              {rss_ratio:.2f}x (whole processes, imports included)")
        print(f"time aim: {'met' if time_ratio <= TIME_AIM else 'MISSED'}; "
              f"memory aim: {'met' if memory_ratio <= MEMORY_AIM else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
