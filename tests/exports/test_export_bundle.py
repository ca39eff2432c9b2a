"""The zip bundle: the workbook with links, the uploaded files under safe, distinct names."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

from export_world import ExportWorld, answer_fully, answer_with_file, summary_rows
from openpyxl import load_workbook

from exports import BundleMode

FORBIDDEN = re.compile(r'[\\:*?"<>|\x00-\x1f]')


def linked_cells(workbook_bytes: bytes) -> dict[str, str]:
    """Text of every cell with a hyperlink in the workbook → the link's target."""
    book = load_workbook(io.BytesIO(workbook_bytes))
    links: dict[str, str] = {}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.hyperlink is not None:
                    links[f"{sheet.title}!{cell.coordinate}"] = cell.hyperlink.target
    return links


def assert_safe_entry(name: str) -> None:
    assert not name.startswith("/") and not re.match(r"^[A-Za-z]:", name), name
    parts = name.split("/")
    assert all(part not in ("", ".", "..") and not part.startswith(".") for part in parts), name
    assert not FORBIDDEN.search(name), name


async def test_bundle__workbook_and_files_each_cell_linked_to_its_file(world: ExportWorld, upload_file: Any) -> None:
    await answer_fully(world, "崇川区", upload_file(b"%PDF-1.4 chongchuan"))
    await answer_with_file(world, "海门区", "汇报材料.docx", upload_file(b"PK\x03\x04 docx haimen"))
    result = await world.export("南通.xlsx")

    assert result.bundle == world.out_dir / "南通.zip" and result.attachments == 2
    with zipfile.ZipFile(result.bundle) as archive:
        names = archive.namelist()
        assert names == [
            "南通.xlsx",
            "attachments/崇川区/scan-盖章扫描件.pdf",
            "attachments/海门区/scan-汇报材料.docx",
        ]
        assert archive.read("attachments/崇川区/scan-盖章扫描件.pdf") == b"%PDF-1.4 chongchuan"
        assert archive.read("attachments/海门区/scan-汇报材料.docx") == b"PK\x03\x04 docx haimen"
        links = linked_cells(archive.read("南通.xlsx"))
        inner = load_workbook(io.BytesIO(archive.read("南通.xlsx")))
    assert links == {
        "汇总!S3": "attachments/崇川区/scan-盖章扫描件.pdf",
        "汇总!S4": "attachments/海门区/scan-汇报材料.docx",
    }
    assert all(target in names for target in links.values())
    assert inner["汇总"]["S3"].value == "盖章扫描件.pdf" and inner["汇总"]["S3"].font.underline == "single"
    # The workbook next to the zip has the file names but no links (its files are not beside it).
    assert linked_cells(result.workbook.read_bytes()) == {}
    assert summary_rows(load_workbook(result.workbook))["崇川区"]["scan"].value == "盖章扫描件.pdf"
    # Apart from the links, the two workbooks hold the same values.
    standalone = load_workbook(result.workbook)
    for title in standalone.sheetnames:
        assert list(standalone[title].values) == list(inner[title].values)


async def test_bundle__hostile_names_are_sanitised_and_never_collide(world: ExportWorld, upload_file: Any) -> None:
    await world.create(units=["乙/区", "乙区", "CON", "..", ".hidden", "ab", "AB"])
    content = upload_file(b"%PDF-1.4 same bytes for everyone")
    uploads = {
        "乙/区": "C:\\x.pdf",
        "乙区": "C:\\x.pdf",
        "CON": "../../etc/passwd",
        "..": "  ../..\\  ",
        ".hidden": "nul.txt",
        "ab": "/abs/path/report?.pdf",
        "AB": "report.pdf",
    }
    for unit, name in uploads.items():
        await answer_with_file(world, unit, name, content)
    result = await world.export()
    assert result.bundle is not None
    with zipfile.ZipFile(result.bundle) as archive:
        names = archive.namelist()
        assert all(archive.read(name) == b"%PDF-1.4 same bytes for everyone" for name in names[1:])
        links = linked_cells(archive.read("export.xlsx"))
    assert names == [
        "export.xlsx",
        "attachments/乙区/scan-Cx.pdf",
        "attachments/乙区-2/scan-Cx.pdf",
        "attachments/_CON/scan-etcpasswd",
        "attachments/unit-4/scan-file",
        "attachments/hidden/scan-_nul.txt",
        "attachments/ab/scan-abspathreport.pdf",
        "attachments/AB-2/scan-report.pdf",
    ]
    for name in names:
        assert_safe_entry(name)
    assert len({name.casefold() for name in names}) == len(names)
    assert sorted(links.values()) == sorted(names[1:])


async def test_bundle__a_file_missing_from_the_data_directory_is_reported_not_linked(
    world: ExportWorld, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_bytes(b"must not leak")
    await world.set_submitted(
        "崇川区", {"scan": {"name": "丢失.pdf", "size": 1, "mime": None, "ref": "attachments/ab/" + "0" * 64}}
    )
    await world.set_submitted(
        "海门区", {"scan": {"name": "越界.pdf", "size": 1, "mime": None, "ref": "../secret.txt"}}
    )
    await world.set_submitted("如皋市", {"scan": {"name": "绝对.pdf", "size": 1, "mime": None, "ref": str(outside)}})
    result = await world.export(bundle=BundleMode.ALWAYS)
    assert result.missing_attachments == ("崇川区: scan (丢失.pdf)", "海门区: scan (越界.pdf)", "如皋市: scan (绝对.pdf)")
    assert result.attachments == 0
    assert result.bundle is not None
    with zipfile.ZipFile(result.bundle) as archive:
        assert archive.namelist() == ["export.xlsx"]
        assert linked_cells(archive.read("export.xlsx")) == {}
        inner = load_workbook(io.BytesIO(archive.read("export.xlsx")))
    assert [inner["汇总"][f"S{row}"].value for row in (3, 4, 5)] == ["丢失.pdf", "越界.pdf", "绝对.pdf"]


async def test_bundle__auto_writes_no_zip_without_files(world: ExportWorld) -> None:
    await world.set_submitted("崇川区", {"unit_name": "无附件"})
    result = await world.export()
    assert result.bundle is None and result.attachments == 0
    assert sorted(path.name for path in world.out_dir.iterdir()) == ["export.xlsx"]
