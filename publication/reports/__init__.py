"""What officials open: the period report, one self-contained HTML file (period_report.py) over the
period's tables (period_data.py, shared with the workbook in publication/exports/)."""

from publication.reports.period_report import build_period_report

__all__ = ["build_period_report"]
