"""The report book: every unit's narrative answers of a campaign compiled into one Word document.

::

    result = await write_report_book(database=database, campaign_id=7, path=Path("out/7.docx"))
    # result.path, result.units, result.submitted, result.chapters, result.seconds

The document (python-docx), every label in the survey's default language
(question labels from the survey, the rest from the ``export.book`` block of
the catalogs):

* a **title page**: the survey's title, the campaign's title, the deadline
  and the time the book was compiled (in the campaign's time zone, with its
  UTC offset), and how many units submitted out of how many;
* one **chapter** (Heading 1, on a new page) per long-text question, in
  survey order: every *submitted* unit, in roster order, under its name
  (Heading 2), its text one paragraph per line (``（未填写）`` when it left the
  question blank); the chapter ends with the units that have not submitted
  (``未提交：…``);
* an **appendix** (a landscape section) when the survey has yes/no or number
  questions: a table with one row per roster unit (unit, status, one column
  per question, in survey order), like the paper form.

What is read for each unit is what the workbook reads (:mod:`exports.data`):
the last submission of a submitted unit, the current relevant answers of one
in progress. The chapters compile submitted texts only — a draft is not a
report —, so a unit in progress (or reopened after submitting) is listed as
not submitted; the appendix, like the workbook's 汇总 sheet, shows every
unit's values, in-progress ones included, beside the unit's status.

Text goes through :func:`exports.cells.xml_text` (no character XML cannot
hold; line breaks as line feeds). The Normal, Title and Heading styles name
their East Asian font explicitly (宋体 for text, 黑体 for titles and
headings, ``w:eastAsia`` on ``w:rFonts``, theme fonts removed), so Word and
WPS show Chinese text in those fonts rather than a theme's Latin choice.

Building: the structure (title page, every chapter's heading and closing
line, the appendix table's header) is laid out first; the roster then
streams by page (:func:`exports.data.iter_unit_records`) and each unit's
paragraphs are inserted before its chapter's closing line, each page in a
worker thread. python-docx provides the template, the styles, the sections
and the saving; paragraphs and table rows are made with lxml directly
(:func:`new_paragraph`, :func:`add_run`), with their style ids:
python-docx's ``add_paragraph`` looks a style up by name and finds the end of
the body by scanning it, which makes a 10,000-unit book quadratic, and even its
element API (``add_r``, ``CT_R.text``) took 85 % of the book's time. The
whole document is held in memory (python-docx has no streaming writer).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.table import CT_Tbl
from docx.oxml.text.paragraph import CT_P
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Cm, Pt, RGBColor
from docx.styles.style import BaseStyle
from docx.text.paragraph import Paragraph
from lxml import etree

from bot.core.definition import QuestionType
from bot.core.survey import CompiledQuestion, Survey
from exports.cells import xml_text
from exports.collect import campaign_zone
from exports.data import DEFAULT_PAGE_SIZE, UnitRecord, iter_unit_records, load_campaign, read_snapshot
from exports.export import export_file_name
from exports.layout import Formatter, Texts, long_text_questions
from exports.output import ExportError, OutputFile
from storage.database import Database
from storage.models import Campaign, ResponseStatus
from storage.types import utc_now

logger = logging.getLogger(__name__)

#: Question types of the appendix table.
APPENDIX_TYPES: Final = frozenset({QuestionType.YES_NO, QuestionType.INTEGER, QuestionType.DECIMAL})

#: East Asian fonts (the names Chinese Word and WPS know them by) and the Latin font beside them.
BODY_EAST_ASIA_FONT: Final = "宋体"
HEADING_EAST_ASIA_FONT: Final = "黑体"
LATIN_FONT: Final = "Times New Roman"
#: Point sizes of the Chinese type scale: 小四 for text, 三号 and 四号 for headings, 二号 for the title.
BODY_SIZE: Final = 12.0
TABLE_SIZE: Final = 10.5
HEADING_1_SIZE: Final = 16.0
HEADING_2_SIZE: Final = 14.0
TITLE_SIZE: Final = 22.0
#: A4, in centimetres.
PAGE_WIDTH_CM: Final = 21.0
PAGE_HEIGHT_CM: Final = 29.7
#: The style of a report's paragraphs: Normal with a first-line indent of two characters.
TEXT_STYLE: Final = "Report Text"
#: The style of the appendix table's cells: Normal in a smaller size, no spacing after.
TABLE_TEXT_STYLE: Final = "Table Text"
_THEME_FONT_ATTRIBUTES: Final = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")
_W_P, _W_PPR, _W_PSTYLE, _W_VAL, _W_R, _W_T = (qn(tag) for tag in ("w:p", "w:pPr", "w:pStyle", "w:val", "w:r", "w:t"))
_W_TR, _W_TC, _W_TCPR, _W_TCW, _W_TYPE, _W_W = (qn(tag) for tag in ("w:tr", "w:tc", "w:tcPr", "w:tcW", "w:type", "w:w"))
_XML_SPACE: Final = qn("xml:space")


@dataclass(frozen=True, slots=True)
class ReportBookResult:
    """What was written, and the numbers a coordinator wants to hear about."""

    campaign_id: int
    campaign_title: str
    path: Path
    units: int
    submitted: int
    #: Chapters: the survey's long-text questions.
    chapters: int
    #: Questions in the appendix table (0: no appendix).
    appendix_questions: int
    seconds: float


def moment_text(moment: datetime, zone: ZoneInfo, texts: Texts) -> str:
    """``2026-11-22 17:00（UTC+08:00）``: a time in ``zone``, with the zone's UTC offset then."""
    local = moment.astimezone(zone)
    offset = local.strftime("%z")  # +0800
    return texts("book.moment", time=f"{local:%Y-%m-%d %H:%M}", offset=f"{offset[:3]}:{offset[3:]}")


def number_text(value: Any) -> str:
    """A cell value of the workbook (number or text) as the table's text."""
    if isinstance(value, Decimal):
        return f"{value:f}"
    return xml_text(value if isinstance(value, str) else str(value))


def add_run(paragraph: BaseOxmlElement, text: str) -> None:
    """A run of ``text`` (safe, no line break) at the end of ``paragraph``.

    Made with lxml directly: python-docx's element API (``add_r``, ``text``)
    looks for each child's place among its possible successors, and ``CT_R.text``
    walks the text one character at a time; together most of a big book's time.
    Text with a tab still goes through ``CT_R.text``, which makes the tab a ``w:tab``.
    """
    if "\t" in text:
        paragraph.add_r().text = text
        return
    run = etree.SubElement(paragraph, _W_R)
    characters = etree.SubElement(run, _W_T)
    characters.text = text
    if text != text.strip():
        characters.set(_XML_SPACE, "preserve")


def new_paragraph(parent: BaseOxmlElement, text: str, style_id: str | None) -> CT_P:
    """A ``w:p`` of ``text`` in the style ``style_id`` (None: Normal), the last child of ``parent``."""
    paragraph: CT_P = etree.SubElement(parent, _W_P)
    if style_id is not None:
        etree.SubElement(etree.SubElement(paragraph, _W_PPR), _W_PSTYLE).set(_W_VAL, style_id)
    if text:
        add_run(paragraph, text)
    return paragraph


def _set_fonts(style: BaseStyle, *, east_asia: str, size: float | None = None, bold: bool | None = None) -> None:
    """Name the style's Latin and East Asian fonts explicitly (dropping theme fonts), size, black."""
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attribute in _THEME_FONT_ATTRIBUTES:
        fonts.attrib.pop(qn(attribute), None)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), east_asia)
    font = style.font  # type: ignore[attr-defined]
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    font.color.rgb = RGBColor(0, 0, 0)


def _set_default_language(document: DocumentObject) -> None:
    """Document defaults: Chinese as the East Asian language, no theme fonts."""
    defaults = document.styles.element.find(qn("w:docDefaults"))
    if defaults is None:
        return
    rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
    if rpr is None:
        return
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is not None:
        for attribute in _THEME_FONT_ATTRIBUTES:
            fonts.attrib.pop(qn(attribute), None)
        fonts.set(qn("w:ascii"), LATIN_FONT)
        fonts.set(qn("w:hAnsi"), LATIN_FONT)
        fonts.set(qn("w:eastAsia"), BODY_EAST_ASIA_FONT)
    language = rpr.find(qn("w:lang"))
    if language is not None:
        language.set(qn("w:eastAsia"), "zh-CN")


def _prepare_styles(document: DocumentObject) -> dict[str, str]:
    """Fonts and sizes of the styles the book uses; their style ids by name."""
    _set_default_language(document)
    styles = document.styles
    normal = styles["Normal"]
    _set_fonts(normal, east_asia=BODY_EAST_ASIA_FONT, size=BODY_SIZE)
    for name, size in (("Title", TITLE_SIZE), ("Subtitle", HEADING_2_SIZE), ("Heading 1", HEADING_1_SIZE), ("Heading 2", HEADING_2_SIZE)):
        style = styles[name]
        _set_fonts(style, east_asia=HEADING_EAST_ASIA_FONT, size=size, bold=True)
        style.font.italic = False
    title = styles["Title"]
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # The template's title has a coloured rule under it; a report's cover has none.
    title_ppr = title.element.pPr
    if title_ppr is not None:
        for border in title_ppr.findall(qn("w:pBdr")):
            title_ppr.remove(border)
    styles["Subtitle"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    text = styles.add_style(TEXT_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    text.base_style = normal
    text.paragraph_format.first_line_indent = Pt(2 * BODY_SIZE)
    table_text = styles.add_style(TABLE_TEXT_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    table_text.base_style = normal
    table_text.font.size = Pt(TABLE_SIZE)
    table_text.paragraph_format.space_after = Pt(0)
    table_text.paragraph_format.line_spacing = 1.0
    names = ("Normal", "Title", "Subtitle", "Heading 1", "Heading 2", TEXT_STYLE, TABLE_TEXT_STYLE)
    return {name: styles[name].style_id for name in names}


@dataclass(slots=True)
class _Chapter:
    question: CompiledQuestion
    #: The chapter's closing paragraph (the units not submitted); units go before it.
    end: CT_P


class ReportBook:
    """A report book being built: the structure first, then the units page by page."""

    def __init__(self, *, campaign: Campaign, survey: Survey, compiled_at: datetime) -> None:
        self.campaign_id = campaign.id
        self.campaign_title = campaign.title
        self.survey = survey
        self.formatter = Formatter(survey, timezone=campaign_zone(campaign))
        self.texts = self.formatter.texts
        self.units = 0
        self.submitted = 0
        self._missing: list[str] = []
        self.document = Document()
        self._body = self.document.element.body
        self._style_ids = _prepare_styles(self.document)
        self._set_page_size()
        core = self.document.core_properties
        core.title = xml_text(survey.text(survey.definition.title, survey.default_language))
        core.subject = xml_text(campaign.title)
        core.author = core.last_modified_by = "surveybot"
        core.created = core.modified = compiled_at.astimezone(UTC).replace(tzinfo=None)
        core.revision = 1
        core.comments = core.keywords = core.category = ""
        self._title_page(campaign=campaign, compiled_at=compiled_at)
        self.chapters = [self._chapter(question) for question in long_text_questions(survey)]
        if not self.chapters:
            self._paragraph(self.texts("book.no_chapters"), style="Normal")
        self.appendix_questions = tuple(q for q in survey.answerable_questions if q.type in APPENDIX_TYPES)
        self._table: CT_Tbl | None = self._appendix() if self.appendix_questions else None

    # -- the structure -------------------------------------------------------------------

    def _set_page_size(self) -> None:
        section = self.document.sections[0]
        section.page_width, section.page_height = Cm(PAGE_WIDTH_CM), Cm(PAGE_HEIGHT_CM)
        section.left_margin = section.right_margin = Cm(2.6)
        section.top_margin = section.bottom_margin = Cm(2.5)

    def _paragraph(self, text: str, *, style: str, before: BaseOxmlElement | None = None) -> CT_P:
        """A new paragraph of ``text`` (already safe) before ``before`` (default: the end of the body)."""
        anchor = before if before is not None else self._body.sectPr
        paragraph = new_paragraph(self._body, text, None if style == "Normal" else self._style_ids[style])
        if anchor is not None:
            anchor.addprevious(paragraph)  # moves it from the end of the body
        return paragraph

    def _title_page(self, *, campaign: Campaign, compiled_at: datetime) -> None:
        texts, survey, zone = self.texts, self.survey, self.formatter.timezone
        self._paragraph(xml_text(survey.text(survey.definition.title, survey.default_language)), style="Title")
        self._paragraph(xml_text(campaign.title), style="Subtitle")
        self._paragraph(texts("book.deadline", time=moment_text(campaign.deadline, zone, texts)), style="Normal")
        self._paragraph(texts("book.compiled_at", time=moment_text(compiled_at, zone, texts)), style="Normal")
        #: Filled in by finish(), once the roster has been read.
        self._counts = self._paragraph("", style="Normal")

    def _chapter(self, question: CompiledQuestion) -> _Chapter:
        label = xml_text(self.survey.text(question.definition.label, self.survey.default_language))
        heading = self._paragraph(label, style="Heading 1")
        Paragraph(heading, self.document._body).paragraph_format.page_break_before = True
        return _Chapter(question=question, end=self._paragraph("", style="Normal"))

    def _appendix(self) -> CT_Tbl:
        """A landscape section holding the appendix heading and the table's header row."""
        section = self.document.add_section(WD_SECTION.NEW_PAGE)
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Cm(PAGE_HEIGHT_CM), Cm(PAGE_WIDTH_CM)
        self._paragraph(self.texts("book.appendix"), style="Heading 1")
        language = self.survey.default_language
        headers = [
            self.texts("column.unit"),
            self.texts("column.status"),
            *(xml_text(self.survey.text(q.definition.label, language)) for q in self.appendix_questions),
        ]
        table = self.document.add_table(rows=0, cols=len(headers))
        table.style = self.document.styles["Table Grid"]
        self._column_widths = [str(column.w.twips) for column in table._tbl.tblGrid.gridCol_lst]
        header = self._row(table._tbl, headers)
        header.get_or_add_trPr().append(OxmlElement("w:tblHeader"))  # repeated on every page
        for cell in header.tc_lst:
            for run in cell.iter(qn("w:r")):
                run.get_or_add_rPr().append(OxmlElement("w:b"))
        return table._tbl

    def _row(self, table: CT_Tbl, values: Sequence[str]) -> Any:
        row = etree.SubElement(table, _W_TR)
        style_id = self._style_ids[TABLE_TEXT_STYLE]
        for value, width in zip(values, self._column_widths, strict=True):
            cell = etree.SubElement(row, _W_TC)
            cell_width = etree.SubElement(etree.SubElement(cell, _W_TCPR), _W_TCW)
            cell_width.set(_W_TYPE, "dxa")
            cell_width.set(_W_W, width)
            new_paragraph(cell, value, style_id)
        return row

    # -- the units -----------------------------------------------------------------------

    def add_units(self, records: Sequence[UnitRecord]) -> None:
        """Put a page of units (in roster order) into every chapter and the appendix."""
        for record in records:
            self.units += 1
            name = xml_text(record.name)
            submitted = record.status is ResponseStatus.SUBMITTED
            if submitted:
                self.submitted += 1
                for chapter in self.chapters:
                    self._unit_text(chapter, name, record.answers.get(chapter.question.id))
            else:
                self._missing.append(name)
            if self._table is not None:
                self._table_row(name, record)

    def _unit_text(self, chapter: _Chapter, name: str, value: Any) -> None:
        self._paragraph(name, style="Heading 2", before=chapter.end)
        text = "" if value is None else xml_text(value if isinstance(value, str) else str(value))
        lines = [line.strip() for line in text.split("\n")]
        lines = [line for line in lines if line]
        if not lines:
            self._paragraph(self.texts("book.no_answer"), style="Normal", before=chapter.end)
            return
        for line in lines:
            self._paragraph(line, style=TEXT_STYLE, before=chapter.end)

    def _table_row(self, name: str, record: UnitRecord) -> None:
        assert self._table is not None
        values = [name, self.formatter.status(record.status)]
        for question in self.appendix_questions:
            value = record.answers.get(question.id)
            values.append("" if value is None else number_text(self.formatter.answer(question, value)))
        self._row(self._table, values)

    # -- the end -------------------------------------------------------------------------

    def finish(self) -> None:
        """Fill in what is known once every unit was added: the counts and the missing units."""
        add_run(self._counts, self.texts("book.submitted", submitted=self.submitted, units=self.units))
        missing = (
            self.texts("book.missing", units=self.formatter.separator.join(self._missing)) if self._missing else ""
        )
        for chapter in self.chapters:
            if missing:
                add_run(chapter.end, missing)
            else:
                self._body.remove(chapter.end)

    def save(self, path: Path) -> None:
        self.document.save(str(path))


async def write_report_book(
    *,
    database: Database,
    campaign_id: int,
    path: Path,
    now: datetime | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> ReportBookResult:
    """Write the campaign's report book to ``path`` (a ``.docx``).

    ``now`` is the compile time shown on the title page (default: now). Raises
    :class:`~storage.errors.CampaignNotFoundError` for an unknown campaign,
    :class:`~exports.output.ExportError` when the file cannot be written
    (checked before the database is read) and
    :class:`~storage.errors.DatabaseUnavailableError`. The database is read in
    one read-only snapshot; the document is built and saved in worker threads,
    so a bot's event loop keeps serving updates. The file is written under a
    temporary name and renamed when complete.
    """
    started = time.perf_counter()
    moment = now or utc_now()
    output = OutputFile(path)
    output.check()
    try:
        async with read_snapshot(database) as session:
            campaign, survey = await load_campaign(session=session, campaign_id=campaign_id)
            book = await asyncio.to_thread(ReportBook, campaign=campaign, survey=survey, compiled_at=moment)
            today = moment.astimezone(campaign_zone(campaign)).date()
            async for page in iter_unit_records(
                session=session, campaign=campaign, survey=survey, today=today, page_size=page_size
            ):
                await asyncio.to_thread(book.add_units, page)
        await asyncio.to_thread(_finish_and_save, book, output)
    except BaseException:
        output.discard()
        raise
    result = ReportBookResult(
        campaign_id=book.campaign_id,
        campaign_title=book.campaign_title,
        path=output.final,
        units=book.units,
        submitted=book.submitted,
        chapters=len(book.chapters),
        appendix_questions=len(book.appendix_questions),
        seconds=time.perf_counter() - started,
    )
    logger.info(
        "wrote the report book of campaign %s (%d units, %d chapters) to %s in %.2fs",
        result.campaign_id,
        result.units,
        result.chapters,
        result.path,
        result.seconds,
    )
    return result


@dataclass(frozen=True, slots=True)
class CampaignReportBookExporter:
    """Writes a campaign's report book into a directory under a dated file name.

    The report-book counterpart of :class:`exports.export.CampaignFilesExporter`,
    for the Telegram ``/export`` command and the console:
    ``<campaign title>-YYYYMMDD-HHMM.docx`` (the time in the campaign's zone).
    """

    database: Database

    async def __call__(self, *, campaign: Campaign, directory: Path, now: datetime) -> ReportBookResult:
        name = export_file_name(campaign.title, now.astimezone(campaign_zone(campaign)), suffix=".docx")
        return await write_report_book(database=self.database, campaign_id=campaign.id, path=directory / name, now=now)


def _finish_and_save(book: ReportBook, output: OutputFile) -> None:
    book.finish()
    try:
        book.save(output.temporary)
    except OSError as error:  # the disk filled up, the folder went away...
        raise ExportError(f"cannot write {output.final}: {error.strerror or error}") from None
    output.commit()
