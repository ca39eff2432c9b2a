"""``surveybot export`` end to end through ``bot.cli.main``, on every backend."""

from __future__ import annotations

import asyncio
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from export_world import ExportWorld, answer_minimal, answer_with_file
from openpyxl import load_workbook

from bot.cli import main
from storage.database import Database
from storage.migrate import ensure_schema


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
    ],
)
def test_export__bad_file_names_are_usage_errors(
    cli: Cli, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "export", "--campaign", "1", *argv)
    assert (code, out, err) == (2, [], [message])
