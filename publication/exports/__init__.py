"""The period's tables for spreadsheets: the Excel workbook and the CSV files (workbook.py)."""

from publication.exports.workbook import export_csv, export_workbook

__all__ = ["export_csv", "export_workbook"]
