"""Headless Chromium screenshots of a published HTML report.

Used by tests/pipeline/test_html_render.py (the report must draw in a real browser) and by
docs/make_screenshots.py (the README's pictures). Chromium comes from the Debian package
`chromium` (`.ci/chromium.sh` installs it in CI); the environment variable KEYACCOUNTS_CHROMIUM
names another executable.

The browser runs with a fresh profile in a temporary folder, no sandbox (CI runs as root, where
Chromium refuses to start with one), no GPU, no extensions and a host resolver that resolves
nothing: the report is one self-contained file, so it must draw without the network.
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["CHROMIUM_ENV", "chromium_flags", "find_chromium", "screenshot"]

CHROMIUM_ENV = "KEYACCOUNTS_CHROMIUM"
_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """The Chromium executable: $KEYACCOUNTS_CHROMIUM, else the first of chromium,
    chromium-browser, google-chrome on PATH; None when there is none."""
    named = os.environ.get(CHROMIUM_ENV)
    if named:
        return shutil.which(named)
    return next((found for name in _NAMES if (found := shutil.which(name))), None)


def chromium_flags(profile: Path, png: Path, width: int, height: int) -> list[str]:
    """Command-line flags for one headless screenshot of width x height CSS pixels
    (device scale factor 1, so the PNG has exactly that many pixels)."""
    return [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--hide-scrollbars", "--force-device-scale-factor=1", "--no-first-run",
        "--no-default-browser-check", "--disable-extensions", "--disable-sync",
        "--disable-background-networking", "--disable-component-update",
        "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}",
        f"--window-size={width},{height}", f"--screenshot={png}",
    ]


def screenshot(html: Path, png: Path, width: int = 1280, height: int = 2000,
               timeout: float = 120.0, chromium: str | None = None) -> Path:
    """Render the HTML file `html` in headless Chromium to the PNG `png` (the top width x
    height pixels of the page); returns `png`. Raises RuntimeError with the browser's last
    output lines when Chromium fails, times out or writes no file."""
    executable = chromium or find_chromium()
    if executable is None:
        raise RuntimeError(f"no Chromium found (install the Debian package chromium or set "
                           f"{CHROMIUM_ENV})")
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="keyaccounts-chromium-") as profile:
        command = [executable, *chromium_flags(Path(profile), png, width, height),
                   Path(html).resolve().as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                  env={**os.environ, "HOME": profile})
        except subprocess.TimeoutExpired as error:
            raise RuntimeError(f"Chromium did not finish {html} within {timeout:.0f} s") from error
    if done.returncode != 0 or not png.is_file() or png.stat().st_size == 0:
        lines = [line for line in done.stderr.splitlines() if line.strip() and "dbus" not in line]
        tail = "\n".join(lines[-5:])  # without the harmless complaints about a missing D-Bus
        raise RuntimeError(f"Chromium exited {done.returncode} without a screenshot of "
                           f"{html}:\n{tail}")
    return png
