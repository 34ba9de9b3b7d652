"""Shared test set-up: every test starts with the keyaccounts logger as a library leaves it;
hypothesis draws more examples in CI.

Hypothesis profiles: "dev" (25 examples per property test, the default on a laptop) and
"ci" (200, selected when the environment variable CI is set, as .ci/run has it); another
profile can be chosen with HYPOTHESIS_PROFILE. A property test sets no max_examples of its
own unless it must: the profile decides.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

from pipeline.progress import logger

_QUIET = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("dev", max_examples=25, **_QUIET)
settings.register_profile("ci", max_examples=200, print_blob=True, **_QUIET)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI")
                                                               else "dev"))


@pytest.fixture(autouse=True)
def _library_logger(monkeypatch):
    # a CLI test calls configure_logging (own handler, propagate=False); later tests that read
    # the log with caplog need the records to reach the root logger again
    monkeypatch.setattr(logger, "propagate", True)
    monkeypatch.setattr(logger, "handlers", [])
