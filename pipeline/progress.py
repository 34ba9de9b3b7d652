"""Progress reporting for long steps: timed steps and progress over loops, on stderr."""

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["logger", "configure_logging", "step", "track"]

T = TypeVar("T")
logger = logging.getLogger("keyaccounts")


def configure_logging(verbose: bool = False) -> None:
    """Send keyaccounts' messages to stderr; called by the CLI, never at import."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%Y-%m-%d %H:%M:%S"))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False


@contextmanager
def step(description: str) -> Iterator[None]:
    """Log the start and the duration of a step."""
    logger.info("%s ...", description)
    started = time.perf_counter()
    yield
    logger.info("%s: done in %.1f s", description, time.perf_counter() - started)


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Yield `items`, logging `description i/total` with elapsed time as they go."""
    total = total if total is not None else (len(items) if hasattr(items, "__len__") else None)
    started = time.perf_counter()
    for index, item in enumerate(items, start=1):
        yield item
        of_total = f"/{total}" if total else ""
        logger.info("%s %d%s (%.1f s)", description, index, of_total, time.perf_counter() - started)
