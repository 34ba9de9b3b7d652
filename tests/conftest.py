"""Shared test set-up: every test starts with the keyaccounts logger as a library leaves it."""

import pytest

from pipeline.progress import logger


@pytest.fixture(autouse=True)
def _library_logger(monkeypatch):
    # a CLI test calls configure_logging (own handler, propagate=False); later tests that read
    # the log with caplog need the records to reach the root logger again
    monkeypatch.setattr(logger, "propagate", True)
    monkeypatch.setattr(logger, "handlers", [])
