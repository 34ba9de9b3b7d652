"""The workbook managers open: a summary sheet, then one sheet per region or per manager.

Written with openpyxl in write-only mode (streams rows, so 500k customers fit in memory):
styled and frozen header row, auto-filter, column widths, number, percent and date formats.
"""

import re
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from pipeline.publishing.rows import HEADERS

__all__ = ["write_workbook", "sheet_title"]

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_FORMATS = {"expected_value": "#,##0", "value_at_risk": "#,##0", "churn_probability": "0%",
            "last_order_date": "yyyy-mm-dd", "last_contact_date": "yyyy-mm-dd", "rank": "0"}
_WIDTHS = {"customer_id": 14, "reasons": 80, "tier_reason": 44, "change": 26,
           "last_order_date": 12, "last_contact_date": 12}


def sheet_title(name: str, taken: set[str]) -> str:
    """An Excel-safe, unique sheet title (31 characters, no []:*?/\\)."""
    base = re.sub(r"[\[\]:*?/\\]", "_", str(name))[:31] or "sheet"
    title, n = base, 2
    while title.lower() in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title.lower())
    return title


def _value(value):
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    return value


def _write_table(book: Workbook, title: str, frame: pd.DataFrame, headers: dict[str, str],
                 formats: dict[str, str], widths: dict[str, int]) -> None:
    sheet = book.create_sheet(title)
    columns = list(frame.columns)
    for i, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = widths.get(
            column, max(12, len(headers.get(column, column)) + 2))
    sheet.freeze_panes = "A2"
    last = f"{get_column_letter(len(columns))}{len(frame) + 1}"
    sheet.auto_filter.ref = f"A1:{last}"
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, headers.get(column, column))
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        header.append(cell)
    sheet.append(header)
    formatted = [formats.get(c) for c in columns]
    for row in frame.itertuples(index=False, name=None):
        cells = []
        for value, fmt in zip(row, formatted):
            value = _value(value)
            if fmt is None:
                cells.append(value)
            else:
                cell = WriteOnlyCell(sheet, value)
                cell.number_format = fmt
                cells.append(cell)
        sheet.append(cells)


def write_workbook(path: Path, rows: pd.DataFrame, summary: dict[str, pd.DataFrame],
                   sheets_by: str, notes: list[str]) -> list[str]:
    """Write the workbook: sheet "Summary" (each frame of `summary` under its title, then the
    notes), then the rows per region (ranked within the region) or per manager (accounts
    without a manager on a sheet "No manager"). Returns the sheet titles in order."""
    book = Workbook(write_only=True)
    taken = {"summary"}
    sheet = book.create_sheet("Summary")
    sheet.column_dimensions["A"].width = 28
    for letter in "BCDEFGH":
        sheet.column_dimensions[letter].width = 16
    for title, frame in summary.items():
        heading = WriteOnlyCell(sheet, title)
        heading.font = Font(bold=True, size=13)
        sheet.append([heading])
        head = []
        for column in frame.columns:
            cell = WriteOnlyCell(sheet, str(column).replace("_", " ").capitalize())
            cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
            head.append(cell)
        sheet.append(head)
        for row in frame.itertuples(index=False, name=None):
            cells = []
            for value in row:
                cell = WriteOnlyCell(sheet, _value(value))
                if isinstance(value, float):
                    cell.number_format = "#,##0"
                cells.append(cell)
            sheet.append(cells)
        sheet.append([])
    for note in notes:
        sheet.append([note])
    titles = ["Summary"]
    key = "region" if sheets_by == "region" else "manager_id"
    groups = rows.assign(_group=rows[key].fillna("No manager" if key == "manager_id"
                                                 else "(no region)"))
    for name, group in groups.groupby("_group", sort=True):
        title = sheet_title(name, taken)
        _write_table(book, title, group.drop(columns="_group"), HEADERS, _FORMATS, _WIDTHS)
        titles.append(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return titles
