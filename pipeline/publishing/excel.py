"""The workbook managers open: a summary sheet, then one sheet per region or per manager.

Written with openpyxl in write-only mode (streams rows, so 500k customers fit in memory):
styled and frozen header row, auto-filter, column widths, number, percent and date formats.

Nothing from the data is executable: text that is formula-like (`pipeline.storage.
is_formula_like`: starts with = + - @, tab or carriage return) or reads as an Excel error
(`#N/A`) is written as a text cell with Excel's quote prefix, so it stays text when a cell is
edited too; characters XML cannot hold are shown as U+FFFD. That holds for every cell, the
Summary sheet's included, and sheet titles are made valid whatever the region is called.
"""

import re
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from pipeline.publishing.rows import HEADERS
from pipeline.storage import atomic_path, is_formula_like

__all__ = ["write_workbook", "sheet_title"]

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_FORMATS = {"expected_value": "#,##0", "value_at_risk": "#,##0", "churn_probability": "0%",
            "last_order_date": "yyyy-mm-dd", "last_contact_date": "yyyy-mm-dd", "rank": "0"}
_WIDTHS = {"customer_id": 14, "reasons": 80, "tier_reason": 44, "change": 26,
           "last_order_date": 12, "last_contact_date": 12}


def sheet_title(name: str, taken: set[str]) -> str:
    """An Excel-safe, unique sheet title: 31 characters, no []:*?/\\ or control characters,
    no apostrophe first or last (Excel refuses those)."""
    base = re.sub(r"[\[\]:*?/\\\x00-\x1f\x7f]", "_", str(name))[:31].strip("'") or "sheet"
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


def _text(value: str) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value) if ILLEGAL_CHARACTERS_RE.search(value) else value


def _cell(sheet, value, number_format: str | None = None):
    """`value` as it goes into a row: plain when openpyxl may infer the cell type, else a cell.
    Text that is formula-like or an error code becomes a text cell (type "s", never "f")
    with the quote prefix."""
    value = _value(value)
    as_text = False
    if isinstance(value, str):
        value = _text(value)
        as_text = is_formula_like(value) or value in ERROR_CODES
    if not as_text and number_format is None:
        return value
    cell = WriteOnlyCell(sheet, value)
    if as_text:
        cell.data_type = "s"
        cell.quotePrefix = True
    if number_format is not None:
        cell.number_format = number_format
    return cell


def _styled(sheet, value, **style) -> Cell:
    """A cell for `value` (made safe like `_cell`) with the font, fill or alignment `style`."""
    cell = _cell(sheet, value)
    if not isinstance(cell, Cell):
        cell = WriteOnlyCell(sheet, cell)
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


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
    wrap = Alignment(vertical="center", wrap_text=True)
    sheet.append([_styled(sheet, headers.get(column, column), font=_HEADER_FONT,
                          fill=_HEADER_FILL, alignment=wrap) for column in columns])
    formatted = [formats.get(c) for c in columns]
    for row in frame.itertuples(index=False, name=None):
        sheet.append([_cell(sheet, value, fmt) for value, fmt in zip(row, formatted)])


def write_workbook(path: Path, rows: pd.DataFrame, summary: dict[str, pd.DataFrame],
                   sheets_by: str, notes: list[str]) -> list[str]:
    """Write the workbook to `path`: sheet "Summary" (each frame of `summary` under its title,
    then the notes), then the rows per region (ranked within the region) or per manager
    (accounts without a manager on a sheet "No manager"). Returns the sheet titles in order.

    Only `path` is written: a temporary of `pipeline.storage.StagedFiles` is written as it is
    (its owner renames it), any other path atomically (`atomic_path`)."""
    book = Workbook(write_only=True)
    taken = {"summary"}
    sheet = book.create_sheet("Summary")
    sheet.column_dimensions["A"].width = 28
    for letter in "BCDEFGH":
        sheet.column_dimensions[letter].width = 16
    for title, frame in summary.items():
        sheet.append([_styled(sheet, title, font=Font(bold=True, size=13))])
        sheet.append([_styled(sheet, str(column).replace("_", " ").capitalize(),
                              font=_HEADER_FONT, fill=_HEADER_FILL) for column in frame.columns])
        for row in frame.itertuples(index=False, name=None):
            sheet.append([_cell(sheet, value, "#,##0" if isinstance(value, float) else None)
                          for value in row])
        sheet.append([])
    for note in notes:
        sheet.append([_cell(sheet, note)])
    titles = ["Summary"]
    key = "region" if sheets_by == "region" else "manager_id"
    groups = rows.assign(_group=rows[key].fillna("No manager" if key == "manager_id"
                                                 else "(no region)"))
    for name, group in groups.groupby("_group", sort=True):
        title = sheet_title(name, taken)
        _write_table(book, title, group.drop(columns="_group"), HEADERS, _FORMATS, _WIDTHS)
        titles.append(title)
    with atomic_path(path) as temporary:
        book.save(temporary)
    return titles
