"""The workbooks people open: a Summary sheet, optionally "How to read this", then the rows
per region, per manager, or all on one sheet (a manager's or region lead's book).

Written with openpyxl in write-only mode (streams rows, so 500k customers fit in memory).
What write-only mode supports, and is used here: column widths, freeze panes, auto-filter
and tables (set before or while rows stream; tables need their column names given), row
heights (`row_dimensions[r]`, read when row r is written, so set just before appending it and
dropped after) and conditional formatting (written after the rows).

- row sheets: styled header, Rank and Customer frozen (panes at "C2"), filters, number,
  percent and date formats; "Why", "Why this tier" and the change column wrapped at a
  readable width, each row as tall as its longest wrapped text needs (up to 8 lines); the
  churn probability coloured green (0%) to red (100%) and retention "yes" highlighted;
- the Summary sheet: each table an Excel table (its own filter buttons; the header shows in
  place of the column letters when scrolling through it), the first column frozen;
- "How to read this": what each tier takes to enter and keep, the retention flag, what the
  numbers mean, the as-of date, horizon, model versions and run ids (`summary.guide_rows`).

Nothing from the data is executable: text that is formula-like (`pipeline.storage.
is_formula_like`: starts with = + - @, tab or carriage return) or reads as an Excel error
(`#N/A`) is written as a text cell with Excel's quote prefix, so it stays text when a cell is
edited too; characters XML cannot hold are shown as U+FFFD. That holds for every cell, the
Summary and guide sheets' included, and sheet titles are made valid whatever the region is
called.
"""

import math
import re
import warnings
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from features.contract import CUSTOMER_ID, MANAGER_ID, REGION
from models.columns import (
    CHANGE,
    CHURN_PROBABILITY,
    EXPECTED_VALUE,
    GAIN_LOWER,
    GAIN_NOTE,
    GAIN_NOW,
    GAIN_UPPER,
    LAST_CONTACT_DATE,
    LAST_ORDER_DATE,
    MANAGER_CAPACITY,
    MANAGER_GAIN,
    MARGINAL_VALUE,
    N_MANAGERS,
    ONE_FEWER,
    ONE_MORE,
    OVERFLOW,
    POOL,
    REASONS,
    RETENTION,
    TIER_REASON,
    TOTAL_VALUE,
    VALUE_AT_RISK,
)
from pipeline.publishing.rows import HEADERS
from pipeline.storage import atomic_path, is_formula_like

__all__ = ["GUIDE_SHEET", "SUMMARY_SHEET", "UNASSIGNED_SHEET", "ACCOUNTS_SHEET",
           "sheet_title", "write_workbook"]

SUMMARY_SHEET, GUIDE_SHEET = "Summary", "How to read this"
UNASSIGNED_SHEET, ACCOUNTS_SHEET = "Unassigned", "Accounts"
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")
_FORMATS = {EXPECTED_VALUE: "#,##0", VALUE_AT_RISK: "#,##0", CHURN_PROBABILITY: "0%",
            MANAGER_GAIN: "#,##0", GAIN_LOWER: "#,##0", GAIN_UPPER: "#,##0"}
_WIDTHS = {CUSTOMER_ID: 14, REASONS: 60, TIER_REASON: 40, CHANGE: 30,
           LAST_ORDER_DATE: 12, LAST_CONTACT_DATE: 12, GAIN_NOTE: 50}
_WRAPPED = (REASONS, TIER_REASON, CHANGE)
_LINE_POINTS, _MAX_LINES = 15.0, 8
_RETENTION_FILL = PatternFill("solid", fgColor="F4B183")
# the Summary tables' headers and formats, where a column's name is not the words to show
_SUMMARY_LABELS = {**HEADERS, POOL: "Region", "at_risk_accounts": "At-risk accounts",
                   "ranked_in_top": "Ranked in top", OVERFLOW: "Moved to the next tier",
                   "moved_to_next_tier": "Moved to the next tier", "book": "Book file",
                   N_MANAGERS: "Managers", MANAGER_CAPACITY: "Accounts per manager",
                   GAIN_NOW: "Gain of the managers now", ONE_MORE: "One more manager adds",
                   ONE_FEWER: "One fewer manager loses", MARGINAL_VALUE: "This manager adds",
                   TOTAL_VALUE: "Gain of that many managers"}
_SUMMARY_FORMATS = {"ranked_in_top": "0.0%", CHURN_PROBABILITY: "0%"}


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
    kind = type(value)
    if kind is str or kind is int:
        return value
    if kind is float:
        return None if value != value else value  # NaN is empty
    if value is None or pd.isna(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp):
        # a date without a time: openpyxl formats it yyyy-mm-dd itself (no styled cell here)
        return value.date() if value == value.normalize() else value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    return value


def _text(value: str) -> str:
    if ILLEGAL_CHARACTERS_RE.search(value):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value


def _style(sheet, number_format: str | None = None,
           alignment: Alignment | None = None) -> StyleArray | None:
    """The style of a cell with `number_format` and `alignment`, looked up once per column
    (openpyxl keeps a cell's style as indexes into the workbook's lists; `_cell` copies it)."""
    if number_format is None and alignment is None:
        return None
    cell = WriteOnlyCell(sheet)
    if number_format is not None:
        cell.number_format = number_format
    if alignment is not None:
        cell.alignment = alignment
    return cell._style  # noqa: SLF001 - copied into each cell: no lookup per cell


def _cell(sheet, value, style: StyleArray | None = None):
    """`value` as it goes into a row: plain when openpyxl may infer the cell type, else a cell
    (with `style`, from `_style`). Text that is formula-like or an error code becomes a text
    cell (type "s", never "f") with the quote prefix."""
    value = _value(value)
    as_text = False
    if isinstance(value, str):
        value = _text(value)
        as_text = is_formula_like(value) or value in ERROR_CODES
    if not as_text and style is None:
        return value
    cell = WriteOnlyCell(sheet, value)
    if style is not None:
        cell._style = StyleArray(style)  # noqa: SLF001
        if isinstance(value, (date, datetime)) and cell.number_format == "General":
            cell.number_format = "yyyy-mm-dd"  # the style replaced openpyxl's date format
    if as_text:
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _styled(sheet, value, **style) -> Cell:
    """A cell for `value` (made safe like `_cell`) with the font, fill or alignment `style`."""
    cell = _cell(sheet, value)
    if not isinstance(cell, Cell):
        cell = WriteOnlyCell(sheet, cell)
    for name, setting in style.items():
        setattr(cell, name, setting)
    return cell


def _lines(frame: pd.DataFrame, widths: dict[str, int]) -> np.ndarray:
    """Per row, the lines its longest wrapped text takes at its column's width (1..8)."""
    lines = np.ones(len(frame), dtype=np.int64)
    for column in _WRAPPED:
        if column not in frame:
            continue
        text = frame[column].astype(object).where(frame[column].notna(), "").astype(str)
        per_line = max(widths.get(column, 12) - 2, 1)  # padding; word wrap leaves gaps
        needed = np.ceil(text.str.len().to_numpy(float) / per_line) + text.str.count("\n")
        lines = np.maximum(lines, np.nan_to_num(needed, nan=1).astype(np.int64))
    return np.clip(lines, 1, _MAX_LINES)


def _risk_formats(sheet, columns: list[str], n_rows: int) -> None:
    """Churn probability green (0) .. yellow (0.5) .. red (1); retention "yes" highlighted."""
    if n_rows == 0:
        return
    letter = {c: get_column_letter(i) for i, c in enumerate(columns, start=1)}
    if CHURN_PROBABILITY in letter:
        col = letter[CHURN_PROBABILITY]
        sheet.conditional_formatting.add(f"{col}2:{col}{n_rows + 1}", ColorScaleRule(
            start_type="num", start_value=0, start_color="63BE7B",
            mid_type="num", mid_value=0.5, mid_color="FFEB84",
            end_type="num", end_value=1, end_color="F8696B"))
    if RETENTION in letter:
        col = letter[RETENTION]
        sheet.conditional_formatting.add(f"{col}2:{col}{n_rows + 1}", CellIsRule(
            operator="equal", formula=['"yes"'], fill=_RETENTION_FILL, font=Font(bold=True)))


def _write_table(book: Workbook, title: str, frame: pd.DataFrame, headers: dict[str, str],
                 formats: dict[str, str], widths: dict[str, int]) -> None:
    sheet = book.create_sheet(title)
    columns = list(frame.columns)
    for i, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = widths.get(
            column, max(12, len(headers.get(column, column)) + 2))
    # Rank and Customer stay in view when scrolling right, the header when scrolling down
    frozen = columns.index(CUSTOMER_ID) + 2 if CUSTOMER_ID in columns[:2] else 1
    sheet.freeze_panes = f"{get_column_letter(frozen)}2"
    last = f"{get_column_letter(len(columns))}{len(frame) + 1}"
    sheet.auto_filter.ref = f"A1:{last}"
    _risk_formats(sheet, columns, len(frame))
    header = Alignment(vertical="center", wrap_text=True)
    sheet.append([_styled(sheet, headers.get(column, column), font=_HEADER_FONT,
                          fill=_HEADER_FILL, alignment=header) for column in columns])
    # every data cell top-aligned, so a row's short cells line up with its wrapped "Why"
    styles = [_style(sheet, formats.get(c), _WRAP if c in _WRAPPED else _TOP) for c in columns]
    lines = _lines(frame, widths)
    heights = sheet.row_dimensions
    for number, (row, n) in enumerate(zip(frame.itertuples(index=False, name=None), lines),
                                      start=2):
        if n > 1:
            # the writer reads row `number`'s attributes from here when it writes that row;
            # a plain dict of them is what a RowDimension would give, without building one
            heights[number] = {"ht": str(_LINE_POINTS * n), "customHeight": "1"}
        sheet.append([_cell(sheet, value, style) for value, style in zip(row, styles)])
        if n > 1:
            del heights[number]  # written: no need to hold 500k row records


def _table_names(labels: list[str]) -> list[str]:
    """Column names an Excel table accepts: the header texts, non-empty and unique
    (case-insensitively)."""
    names, seen = [], set()
    for i, label in enumerate(labels, start=1):
        name, n = label or f"Column {i}", 2
        while name.lower() in seen:
            name, n = f"{label} ({n})", n + 1
        seen.add(name.lower())
        names.append(name)
    return names


def _write_summary(book: Workbook, summary: dict[str, pd.DataFrame], notes: list[str]) -> None:
    sheet = book.create_sheet(SUMMARY_SHEET)
    sheet.column_dimensions["A"].width = 28
    for letter in "BCDEFGHIJ":
        sheet.column_dimensions[letter].width = 16
    sheet.freeze_panes = "B1"
    row = 1
    for title, frame in summary.items():
        sheet.append([_styled(sheet, title, font=Font(bold=True, size=13))])
        labels = _table_names([_text(_SUMMARY_LABELS.get(c) or str(c).replace("_", " ")
                                     .capitalize()) for c in frame.columns])
        sheet.append([_styled(sheet, label, font=_HEADER_FONT, fill=_HEADER_FILL)
                      for label in labels])
        thousands = _style(sheet, "#,##0")
        formats = [_style(sheet, _SUMMARY_FORMATS[c]) if c in _SUMMARY_FORMATS else None
                   for c in frame.columns]
        for values in frame.itertuples(index=False, name=None):
            sheet.append([_cell(sheet, value, fmt or (thousands if isinstance(value, float)
                                                      else None))
                          for value, fmt in zip(values, formats)])
        if len(frame) and len(frame.columns):
            ref = f"A{row + 1}:{get_column_letter(len(labels))}{row + 1 + len(frame)}"
            table = Table(displayName=f"Summary{len(sheet.tables) + 1}", ref=ref,
                          tableStyleInfo=TableStyleInfo(name="TableStyleLight9",
                                                        showRowStripes=True))
            # write-only mode cannot read the header back: the column names are given
            table.tableColumns = [TableColumn(id=i, name=name)
                                  for i, name in enumerate(labels, start=1)]
            table.autoFilter = AutoFilter(ref=ref)
            with warnings.catch_warnings():  # "you must add table columns manually": done
                warnings.simplefilter("ignore", UserWarning)
                sheet.add_table(table)
        sheet.append([])
        row += len(frame) + 3
    for note in notes:
        sheet.append([_cell(sheet, note)])


def _write_guide(book: Workbook, guide: list[tuple[str, str]]) -> None:
    sheet = book.create_sheet(GUIDE_SHEET)
    sheet.column_dimensions["A"].width = 30
    sheet.column_dimensions["B"].width = 100
    sheet.append([_styled(sheet, GUIDE_SHEET, font=Font(bold=True, size=13))])
    bold, wrap = Font(bold=True), _style(sheet, alignment=_WRAP)
    for number, (term, meaning) in enumerate(guide, start=2):
        lines = max(1, math.ceil(len(meaning) / 95))
        if lines > 1:
            sheet.row_dimensions[number].height = _LINE_POINTS * lines
        sheet.append([_styled(sheet, term, font=bold, alignment=_WRAP),
                      _cell(sheet, meaning, wrap)])


def _missing(values: pd.Series) -> pd.Series:
    """Whether each value is missing or blank (no manager, no region)."""
    text = values.astype(object)
    return text.isna() | (text.where(text.notna(), "").astype(str).str.strip() == "")


def write_workbook(path: Path, rows: pd.DataFrame, summary: dict[str, pd.DataFrame],
                   sheets_by: str, notes: list[str], *,
                   guide: list[tuple[str, str]] | None = None,
                   unassigned: bool = False) -> list[str]:
    """Write the workbook to `path`: sheet "Summary" (each frame of `summary` under its title,
    then the notes), "How to read this" when `guide` ((term, meaning) pairs) is given, then
    the rows: per region (`sheets_by` "region", ranked within the region), per manager
    ("manager"; accounts without one on the sheet "Unassigned") or all on one sheet
    "Accounts" ("book"). `unassigned` adds the sheet "Unassigned" to a workbook by region.
    Returns the sheet titles in order.

    Only `path` is written: a temporary of `pipeline.storage.StagedFiles` is written as it is
    (its owner renames it), any other path atomically (`atomic_path`)."""
    book = Workbook(write_only=True)
    taken = {SUMMARY_SHEET.lower()}
    _write_summary(book, summary, notes)
    titles = [SUMMARY_SHEET]
    if guide is not None:
        _write_guide(book, guide)
        titles.append(sheet_title(GUIDE_SHEET, taken))

    def write(name: str, frame: pd.DataFrame) -> None:
        title = sheet_title(name, taken)
        _write_table(book, title, frame, HEADERS, _FORMATS, _WIDTHS)
        titles.append(title)

    if sheets_by == "book":
        write(ACCOUNTS_SHEET, rows)
    else:
        key = REGION if sheets_by == "region" else MANAGER_ID
        missing = _missing(rows[key])
        named = rows[~missing]
        for name, positions in named.groupby(named[key].astype(str), sort=True).indices.items():
            write(name, named.iloc[positions])
        if key == REGION and missing.any():
            write("(no region)", rows[missing])
        if key == MANAGER_ID and (missing.any() or unassigned):
            write(UNASSIGNED_SHEET, rows[missing])
        elif key == REGION and unassigned:
            write(UNASSIGNED_SHEET, rows[_missing(rows[MANAGER_ID])])
    with atomic_path(path) as temporary:
        book.save(temporary)
    return titles
