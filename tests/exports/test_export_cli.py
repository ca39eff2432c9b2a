"""``surveybot export`` end to end through ``bot.cli.main`` (and once as a real process), on every backend."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import docx
import pytest
from export_world import ExportWorld, answer_minimal, answer_with_file
from openpyxl import load_workbook

from bot.cli import main
from storage.database import Database
from storage.migrate import ensure_schema

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Cli:
    data_dir: Path
    url: str
    out_dir: Path


@pytest.fixture
def cli(backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:  # type: ignore[no-untyped-def]
    """The commands' environment: data dir in tmp_path, the backend's database."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("DATABASE_URL", "TELEGRAM_BOT_USERNAME", "ADMIN_IDS", "TIMEZONE"):
        monkeypatch.delenv(f"SURVEYBOT_{name}", raising=False)
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    monkeypatch.setenv("SURVEYBOT_DATA_DIR", str(data_dir))
    url = f"sqlite+aiosqlite:///{(data_dir / 'surveybot.db').resolve()}"
    if backend.name == "postgresql":
        url = backend.url_with_schema
        monkeypatch.setenv("SURVEYBOT_DATABASE_URL", url)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    yield Cli(data_dir=data_dir, url=url, out_dir=out_dir)


def make_campaign(cli: Cli, *, with_file: bool) -> int:
    """A campaign of the export survey; one unit answered, with an uploaded file if asked."""

    async def setup() -> int:
        database = Database(cli.url)
        try:
            await ensure_schema(database)
            world = ExportWorld(
                database=database, data_dir=cli.data_dir, out_dir=cli.out_dir, now=datetime.now(UTC)
            )
            await world.create()
            if with_file:
                upload = cli.out_dir.parent / "download.pdf"
                upload.write_bytes(b"%PDF stamped")
                await answer_with_file(world, "崇川区", "盖章.pdf", upload)
            else:
                await answer_minimal(world, "崇川区")
            return world.campaign_id
        finally:
            await database.dispose()

    return asyncio.run(setup())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], list[str]]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


def test_export__writes_the_workbook(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    campaign_id = make_campaign(cli, with_file=False)
    target = cli.out_dir / "南通.xlsx"
    code, out, err = run(capsys, "export", "--campaign", str(campaign_id), "-o", str(target))
    assert (code, err) == (0, [])
    assert out == [f"wrote {target}: 4 unit(s); 1 submitted, 0 in progress, 3 not started"]
    book = load_workbook(target)
    assert book.sheetnames == ["汇总", "报告", "进度", "统计", "字段说明"]
    assert [row[0] for row in book["汇总"].iter_rows(min_row=3, values_only=True)] == [
        "崇川区",
        "海门区",
        "如皋市",
        "启东市",
    ]
    assert sorted(path.name for path in cli.out_dir.iterdir()) == ["南通.xlsx"]


def test_export__with_uploaded_files_also_writes_the_zip(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    campaign_id = make_campaign(cli, with_file=True)
    target = cli.out_dir / "export.xlsx"
    code, out, err = run(capsys, "export", "--campaign", str(campaign_id), "-o", str(target))
    assert (code, err) == (0, [])
    assert out[-1] == f"wrote {cli.out_dir / 'export.zip'}: the workbook and 1 uploaded file(s)"
    with zipfile.ZipFile(cli.out_dir / "export.zip") as archive:
        assert archive.namelist() == ["export.xlsx", "attachments/崇川区/scan-盖章.pdf"]
        assert archive.read("attachments/崇川区/scan-盖章.pdf") == b"%PDF stamped"


def test_export__zip_options(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    campaign_id = make_campaign(cli, with_file=True)
    code, out, _ = run(capsys, "export", "--campaign", str(campaign_id), "-o", str(cli.out_dir / "a.xlsx"), "--no-zip")
    assert code == 0 and len(out) == 1
    elsewhere = cli.out_dir / "files" / "bundle.zip"
    elsewhere.parent.mkdir()
    code, out, _ = run(
        capsys, "export", "--campaign", str(campaign_id), "-o", str(cli.out_dir / "b.xlsx"), "--zip", str(elsewhere)
    )
    assert code == 0 and out[-1] == f"wrote {elsewhere}: the workbook and 1 uploaded file(s)"
    with zipfile.ZipFile(elsewhere) as archive:
        assert archive.namelist()[0] == "b.xlsx"
    assert sorted(path.name for path in cli.out_dir.iterdir()) == ["a.xlsx", "b.xlsx", "files"]


def test_export__unknown_campaign_is_one_line_and_exit_1(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    make_campaign(cli, with_file=False)
    code, out, err = run(capsys, "export", "--campaign", "999", "-o", str(cli.out_dir / "x.xlsx"))
    assert (code, out) == (1, [])
    assert err == ["surveybot export: no campaign with id 999; `surveybot campaign list` shows them"]
    assert list(cli.out_dir.iterdir()) == []  # no partial or temporary file left behind


@pytest.mark.parametrize("where", ["missing-folder/x.xlsx", "a-folder.xlsx"])
def test_export__unwritable_path_is_one_line_and_exit_1(
    cli: Cli, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    campaign_id = make_campaign(cli, with_file=False)
    (cli.out_dir / "a-folder.xlsx").mkdir()
    target = cli.out_dir / where
    code, out, err = run(capsys, "export", "--campaign", str(campaign_id), "-o", str(target))
    assert (code, out) == (1, [])
    assert len(err) == 1 and err[0].startswith(f"surveybot export: cannot write {target}: ")
    assert "Traceback" not in err[0]
    assert sorted(path.name for path in cli.out_dir.iterdir()) == ["a-folder.xlsx"]


def test_export__unwritable_zip_path_fails_before_writing_anything(
    cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    campaign_id = make_campaign(cli, with_file=True)
    target = cli.out_dir / "x.xlsx"
    bad_zip = cli.out_dir / "nowhere" / "x.zip"
    code, _, err = run(capsys, "export", "--campaign", str(campaign_id), "-o", str(target), "--zip", str(bad_zip))
    assert code == 1 and err == [f"surveybot export: cannot write {bad_zip}: No such file or directory"]
    assert list(cli.out_dir.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-o", "x.csv"], "surveybot export: -o x.csv: the workbook's name must end in .xlsx"),
        (["-o", "x.xlsx", "--zip", "x.tar"], "surveybot export: --zip x.tar: the bundle's name must end in .zip"),
        (["--report-book", "x.doc"], "surveybot export: --report-book x.doc: the report book's name must end in .docx"),
        ([], "surveybot export: give -o FILE.xlsx, --report-book FILE.docx or both"),
        (
            ["--report-book", "x.docx", "--no-zip"],
            "surveybot export: --zip and --no-zip are about the workbook; give -o FILE.xlsx too",
        ),
    ],
)
def test_export__bad_file_names_are_usage_errors(
    cli: Cli, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "export", "--campaign", "1", *argv)
    assert (code, out, err) == (2, [], [message])


# -- the report book -------------------------------------------------------------------------


def test_export__report_book_alone(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    campaign_id = make_campaign(cli, with_file=False)
    target = cli.out_dir / "汇编.docx"
    code, out, err = run(capsys, "export", "--campaign", str(campaign_id), "--report-book", str(target))
    assert (code, err) == (0, [])
    assert out == [f"wrote {target}: 2 chapter(s), 1 of 4 unit(s) submitted"]
    book = docx.Document(str(target))
    headings = [p.text for p in book.paragraphs if p.style is not None and p.style.name == "Heading 1"]
    assert headings == ["一、工作总结", "二、问题和建议", "附表：是否题和数值题"]
    assert sorted(path.name for path in cli.out_dir.iterdir()) == ["汇编.docx"]


def test_export__workbook_and_report_book_together(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    campaign_id = make_campaign(cli, with_file=False)
    workbook, book = cli.out_dir / "a.xlsx", cli.out_dir / "a.docx"
    code, out, err = run(capsys, "export", "--campaign", str(campaign_id), "-o", str(workbook), "--report-book", str(book))
    assert (code, err) == (0, [])
    assert out == [
        f"wrote {workbook}: 4 unit(s); 1 submitted, 0 in progress, 3 not started",
        f"wrote {book}: 2 chapter(s), 1 of 4 unit(s) submitted",
    ]
    assert load_workbook(workbook).sheetnames[0] == "汇总"
    assert docx.Document(str(book)).paragraphs[0].text == "导出测试"


@pytest.mark.parametrize("where", ["missing-folder/x.docx", "a-folder.docx"])
def test_export__unwritable_report_book_fails_before_the_workbook_is_written(
    cli: Cli, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    campaign_id = make_campaign(cli, with_file=False)
    (cli.out_dir / "a-folder.docx").mkdir()
    target = cli.out_dir / where
    code, out, err = run(
        capsys, "export", "--campaign", str(campaign_id), "-o", str(cli.out_dir / "x.xlsx"), "--report-book", str(target)
    )
    assert (code, out) == (1, [])
    assert len(err) == 1 and err[0].startswith(f"surveybot export: cannot write {target}: ")
    assert sorted(path.name for path in cli.out_dir.iterdir()) == ["a-folder.docx"]


def test_export__report_book_of_unknown_campaign_is_one_line_and_exit_1(
    cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    make_campaign(cli, with_file=False)
    code, out, err = run(capsys, "export", "--campaign", "999", "--report-book", str(cli.out_dir / "x.docx"))
    assert (code, out) == (1, [])
    assert err == ["surveybot export: no campaign with id 999; `surveybot campaign list` shows them"]
    assert list(cli.out_dir.iterdir()) == []


def console_script() -> str:
    found = shutil.which("surveybot", path=str(Path(sys.executable).parent))
    assert found is not None, "the surveybot console script is not installed next to this Python"
    return found


def test_console_script__report_book_runs_as_a_real_process(cli: Cli) -> None:
    campaign_id = make_campaign(cli, with_file=False)
    environment = {**os.environ, "SURVEYBOT_DATABASE_URL": cli.url}
    target = cli.out_dir / "book.docx"
    argv = [console_script(), "export", "--campaign", str(campaign_id), "--report-book"]
    done = subprocess.run([*argv, str(target)], env=environment, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"wrote {target}: 2 chapter(s), 1 of 4 unit(s) submitted\n"
    assert docx.Document(str(target)).paragraphs[0].text == "导出测试"
    bad = cli.out_dir / "nowhere" / "book.docx"
    failed = subprocess.run([*argv, str(bad)], env=environment, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert (failed.returncode, failed.stdout) == (1, "")
    assert failed.stderr == f"surveybot export: cannot write {bad}: No such file or directory\n"
