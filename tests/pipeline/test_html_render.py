"""The published HTML report draws in a real browser: headless Chromium renders
key_accounts.html of the hand-made tier fixtures to a PNG of the window's size, in which the
report's header blue is painted and the page is not blank.

Chromium is the Debian package `chromium` (`.ci/chromium.sh` installs it in CI). In CI (CI set)
a missing Chromium is a failure; elsewhere the test skips and says how to install it.
"""

import os

import pytest
from PIL import Image

from pipeline.stages import publish, tier
from tests.pipeline.render import CHROMIUM_ENV, find_chromium, screenshot
from tests.pipeline.test_tier_stage import make_settings, scores, write_inputs

WIDTH, HEIGHT = 1024, 1400
HEADER_BLUE = (0x1F, 0x4E, 0x78)  # table headers, h1 and chart bars (pipeline/publishing/html.py)


@pytest.fixture
def chromium():
    found = find_chromium()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("no Chromium: CI must install the Debian package chromium "
                        "(.ci/chromium.sh)")
        pytest.skip(f"no Chromium on PATH nor in ${CHROMIUM_ENV}: apt-get install chromium "
                    "to render the HTML report")
    return found


def _colour_counts(png) -> tuple[tuple[int, int], int, int]:
    """(size, pixels in HEADER_BLUE, pixels that are not white)."""
    with Image.open(png) as image:
        rgb = image.convert("RGB")
        counts = {colour: n for n, colour in rgb.getcolors(maxcolors=rgb.width * rgb.height)}
        size = rgb.size
    not_white = size[0] * size[1] - counts.get((255, 255, 255), 0)
    return size, counts.get(HEADER_BLUE, 0), not_white


def test_report_renders_in_headless_chromium(tmp_path, chromium):
    settings = make_settings(tmp_path, {"strategic": {"min_bar": 0.75, "keep_bar": 0.5}})
    write_inputs(settings, scores())
    tier.main(settings)
    publish.main(settings)
    html = settings.path(settings.pipeline.paths.publish_dir) / settings.tiers.publish.report_name

    png = screenshot(html, tmp_path / "report.png", WIDTH, HEIGHT, chromium=chromium)

    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    size, blue, not_white = _colour_counts(png)
    assert size == (WIDTH, HEIGHT)
    # several header rows (each ~1,000 px x 20 px at most) and bars: thousands of blue pixels;
    # an error page or an unstyled page has none
    assert blue > 2_000, f"only {blue} pixels in the header blue: the report's CSS did not apply"
    assert 0.02 < not_white / (WIDTH * HEIGHT) < 0.9, "the page is blank or a solid block"


def test_checks_tell_the_report_from_a_plain_page_and_a_failed_load(tmp_path, chromium):
    plain = tmp_path / "plain.html"
    plain.write_text("<!doctype html><p>Key accounts</p>")
    size, blue, not_white = _colour_counts(
        screenshot(plain, tmp_path / "plain.png", WIDTH, HEIGHT, chromium=chromium))
    assert size == (WIDTH, HEIGHT) and blue == 0 and not_white / (WIDTH * HEIGHT) < 0.02
    with pytest.raises(RuntimeError, match="ERR_FILE_NOT_FOUND"):  # no picture of an error page
        screenshot(tmp_path / "missing.html", tmp_path / "error.png", WIDTH, HEIGHT,
                   chromium=chromium)
