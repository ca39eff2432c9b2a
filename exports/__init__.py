"""Exports: a campaign compiled into a workbook (and a zip with the uploaded files), or a report book.

The entry points are :func:`exports.export.export_campaign` (the workbook)
and :func:`exports.report_book.write_report_book` (the Word document); see
``docs/exports.md`` for the layout of the workbook, the bundle and the book.
"""

from exports.export import (
    BundleMode,
    CampaignFilesExporter,
    ExportError,
    ExportResult,
    bundle_path_for,
    export_campaign,
    export_file_name,
)
from exports.report_book import CampaignReportBookExporter, ReportBookResult, write_report_book

__all__ = [
    "BundleMode",
    "CampaignFilesExporter",
    "ExportError",
    "ExportResult",
    "bundle_path_for",
    "export_campaign",
    "export_file_name",
    "CampaignReportBookExporter",
    "ReportBookResult",
    "write_report_book",
]
