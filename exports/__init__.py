"""Exports: a campaign compiled into a workbook (and a zip with the uploaded files).

The entry point is :func:`exports.export.export_campaign`; see
``docs/exports.md`` for the layout of the workbook and the bundle.
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

__all__ = [
    "BundleMode",
    "CampaignFilesExporter",
    "ExportError",
    "ExportResult",
    "bundle_path_for",
    "export_campaign",
    "export_file_name",
]
