"""Measure wall time and peak memory of a function in a fresh process, and print tables.

Each measurement runs in its own spawned process so that peak resident memory (ru_maxrss)
belongs to that case alone.
"""

import multiprocessing as mp
import queue as queues
import resource
import time
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["measure", "print_table"]


def _child(fn: Callable[..., Any], args: tuple, queue: "mp.Queue") -> None:
    started = time.perf_counter()
    try:
        detail = fn(*args)
        error = None
    except Exception as exc:  # noqa: BLE001 - reported in the table
        detail, error = None, f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"seconds": seconds, "peak_mb": peak_mb, "detail": detail, "error": error})


def measure(fn: Callable[..., Any], *args: Any) -> dict[str, Any]:
    """Run `fn(*args)` in a fresh process; return seconds, peak_mb and what fn returned.

    `fn` must be importable (a module-level function). Its return value, if any, should be a
    small dict of extra numbers to show in the table (rows, customers, ...).
    """
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(fn, args, queue))
    process.start()
    started = time.perf_counter()
    while True:  # a child killed (e.g. out of memory) never reports: do not wait forever
        try:
            result = queue.get(timeout=5)
            break
        except queues.Empty:
            if not process.is_alive():
                try:  # it may have reported just before exiting
                    result = queue.get(timeout=1)
                    break
                except queues.Empty:
                    pass
                result = {
                    "seconds": time.perf_counter() - started, "peak_mb": float("nan"),
                    "detail": None,
                    "error": f"the measured process died with exit code {process.exitcode}"
                    " (killed for memory?) before reporting",
                }
                break
    process.join()
    return result


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a Markdown table."""
    print(f"\n### {title}\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("---" for _ in columns) + "|")
    for row in rows:
        cells = [f"{v:,.2f}" if isinstance(v, float) else str(v) for v in row]
        print("| " + " | ".join(cells) + " |")
