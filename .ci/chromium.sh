#!/usr/bin/env bash
# Install headless Chromium (Debian packages) for tests/pipeline/test_html_render.py when it is
# missing: the browser plus one font family, without the desktop extras chromium recommends
# (udev, upower, printing dialogs). About 115 MB to download; ~1 min to unpack on a busy 2-core box.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  # package lists fresher than an hour (e.g. from .ci/postgres.sh just before) are not fetched again
  find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -60 -print -quit | grep -q . || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium fonts-liberation
fi
chromium --version 2>/dev/null
