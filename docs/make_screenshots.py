"""The README's pictures of what a manager receives: the HTML report and a workbook sheet.

    .venv/bin/python docs/make_screenshots.py --config-dir configs     # after `keyaccounts run`

reads the published outputs of the project whose configs are in --config-dir (its
publish_dir) and writes, in --out (docs/img):

- report.png: the HTML report (configs/tiers.yaml publish.report_name) rendered by headless
  Chromium (tests/pipeline/render.py; Debian package `chromium`), cut below its last content or
  at --report-height pixels.
- workbook.png: the first rows of one sheet of a workbook (by default the first manager's book in
  publish.books_folder, else the overall workbook; its first sheet that lists accounts) as
  LibreOffice Calc prints it: a copy of the workbook holding only that sheet, set to landscape,
  one page wide, with grid lines and row/column headings, converted to PDF by `soffice` and
  rasterised by `pdftoppm` (Debian packages libreoffice-calc, poppler-utils). This is a real
  spreadsheet application's rendering of the file (wrapping, row heights, fills, number and
  conditional formats), not Excel's window: frozen panes and filter buttons do not print.

Nothing here is product code or part of `make test`; CI does not need LibreOffice.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from PIL import Image, ImageChops

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.config import load_settings  # noqa: E402
from tests.pipeline.render import screenshot  # noqa: E402

__all__ = ["main", "render_report", "render_sheet"]

WIDTH = 1280
A2 = 66  # paper size code of ECMA-376 (openpyxl names only up to A5)
DPI = 110
MAX_BYTES = 400_000  # per picture in the README


def _trim(image: Image.Image, pad: int = 16) -> Image.Image:
    """The image cut to its non-white content plus `pad` white pixels on each side."""
    rgb = image.convert("RGB")
    box = ImageChops.difference(rgb, Image.new("RGB", rgb.size, "white")).getbbox()
    if box is None:
        raise RuntimeError("the rendering is blank")
    left, top, right, bottom = box
    return rgb.crop((max(left - pad, 0), max(top - pad, 0), min(right + pad, rgb.width),
                     min(bottom + pad, rgb.height)))


def _cut_at_gap(image: Image.Image, gap: int = 24) -> Image.Image:
    """The image above its last band of `gap` all-white rows (the space between two
    sections), so a page longer than the window does not end in a cut table."""
    white = (np.asarray(image.convert("L")) >= 250).all(axis=1)
    run = 0
    for y in range(len(white) - 1, -1, -1):
        run = run + 1 if white[y] else 0
        if run == gap and y > len(white) // 2:
            return image.crop((0, 0, image.width, y + 1))
    return image


def _save(image: Image.Image, png: Path, max_bytes: int = MAX_BYTES) -> Path:
    """PNG with zlib's best compression, then optipng when it is installed (lossless); one
    of more than `max_bytes` is stored with a 256-colour palette instead (text stays sharp)."""
    image.save(png, optimize=True)
    if png.stat().st_size > max_bytes:
        image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            png, optimize=True)
    if shutil.which("optipng"):
        subprocess.run(["optipng", "-quiet", "-o2", str(png)], check=True)
    return png


def render_report(html: Path, png: Path, height: int) -> Path:
    """report.png: the top `height` pixels of the report at WIDTH, cut between two sections
    and trimmed to its content."""
    screenshot(html, png, WIDTH, height)
    with Image.open(png) as image:
        return _save(_trim(_cut_at_gap(image)), png)


def _accounts_sheet(book) -> str:
    """The first sheet whose header row names a Customer column."""
    for sheet in book.worksheets:
        header = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
        if "Customer" in header:
            return sheet.title
    raise RuntimeError(f"no sheet with a Customer column among {book.sheetnames}")


def render_sheet(workbook: Path, png: Path, sheet: str | None, rows: int,
                 timeout: float = 180.0) -> tuple[Path, str]:
    """workbook.png: the header and the first `rows` rows of `sheet` as LibreOffice prints
    them; returns (png, sheet title)."""
    for tool in ("soffice", "pdftoppm"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} not found: apt-get install libreoffice-calc poppler-utils")
    book = load_workbook(workbook)
    title = sheet or _accounts_sheet(book)
    if title not in book.sheetnames:
        raise RuntimeError(f"{workbook} has no sheet {title!r}; it has {book.sheetnames}")
    for other in [s for s in book.worksheets if s.title != title]:
        book.remove(other)
    page = book[title]
    page.print_area = f"A1:{get_column_letter(page.max_column)}{min(rows + 1, page.max_row)}"
    page.page_setup.orientation = "landscape"
    page.page_setup.paperSize = A2  # wide enough for every column at (near) full size
    page.sheet_properties.pageSetUpPr.fitToPage = True
    page.page_setup.fitToWidth, page.page_setup.fitToHeight = 1, 0
    page.print_options.gridLines = page.print_options.headings = True
    with tempfile.TemporaryDirectory(prefix="keyaccounts-sheet-") as tmp:
        folder = Path(tmp)
        copy = folder / "sheet.xlsx"
        book.save(copy)
        subprocess.run(["soffice", f"-env:UserInstallation={(folder / 'profile').as_uri()}",
                        "--headless", "--norestore", "--convert-to", "pdf", "--outdir",
                        str(folder), str(copy)], check=True, capture_output=True, timeout=timeout)
        subprocess.run(["pdftoppm", "-png", "-f", "1", "-l", "1", "-r", str(DPI),
                        str(folder / "sheet.pdf"), str(folder / "page")],
                       check=True, capture_output=True, timeout=timeout)
        pages = sorted(folder.glob("page*.png"))
        if not pages:
            raise RuntimeError(f"pdftoppm wrote no page for {workbook}")
        with Image.open(pages[0]) as image:
            trimmed = _trim(image)
    return _save(trimmed, png), title


def _default_workbook(publish_dir: Path, settings) -> Path:
    """The first manager's book when per-manager books were written, else the overall one."""
    folder = publish_dir / getattr(settings.tiers.publish, "books_folder", "books")
    books = sorted(folder.rglob("*.xlsx")) if folder.is_dir() else []
    return books[0] if books else publish_dir / settings.tiers.publish.workbook_name


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config-dir", type=Path, default=Path("configs"))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--report", type=Path, help="HTML file (default: the published report)")
    parser.add_argument("--workbook", type=Path, help="xlsx file (default: a manager's book)")
    parser.add_argument("--sheet", help="sheet to show (default: the first listing accounts)")
    parser.add_argument("--rows", type=int, default=20, help="account rows in workbook.png")
    parser.add_argument("--report-height", type=int, default=2400)
    args = parser.parse_args(argv)
    settings = load_settings(args.config_dir)
    publish_dir = settings.path(settings.pipeline.paths.publish_dir)
    args.out.mkdir(parents=True, exist_ok=True)
    report = args.report or publish_dir / settings.tiers.publish.report_name
    png = render_report(report, args.out / "report.png", args.report_height)
    print(f"{png}: {png.stat().st_size / 1e3:.0f} kB from {report}")
    workbook = args.workbook or _default_workbook(publish_dir, settings)
    png, title = render_sheet(workbook, args.out / "workbook.png", args.sheet, args.rows)
    print(f"{png}: {png.stat().st_size / 1e3:.0f} kB from {workbook} sheet {title!r}")


if __name__ == "__main__":
    main()
