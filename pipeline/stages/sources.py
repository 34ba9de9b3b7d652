"""`keyaccounts sources`: the fingerprint of the input files configs/data.yaml names.

Writes paths.sources_file (JSON): for each configured table its configured path, size and
SHA-256. dvc.yaml runs this stage on every `dvc repro` (always_changed) and makes validate
depend on its output, so an edit to any configured file (a new export over the old one, a
table added or removed, a file outside the project) re-runs validate, while an unchanged
export leaves the same fingerprint and validate is skipped. DVC cannot read a list of files
from a params file (a dependency is one string, and a table may be null), hence this file.

The fingerprint holds the path as configured, not as resolved, so that it is the same in
every clone of the project.
"""

import hashlib
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import DataError
from pipeline.progress import logger
from pipeline.storage import write_json

__all__ = ["fingerprint", "main"]


def fingerprint(files: dict[str, tuple[str, Path]]) -> dict:
    """{"tables": {table: {path, bytes, sha256}}} of `files` ({table: (configured, resolved)});
    a missing file is a DataError naming the configs/data.yaml key to fix."""
    tables = {}
    for table, (configured, path) in files.items():
        if not path.is_file():
            skip = "" if table == "transactions" else f", or set {table}: null to skip this table"
            raise DataError(
                f"{path}: {table} file not found; fix {table}.path in configs/data.yaml{skip}")
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        tables[table] = {"path": configured, "bytes": path.stat().st_size, "sha256": digest}
    return {"tables": tables}


def main(settings: Settings, **overrides) -> None:
    """Fingerprint the configured sources into paths.sources_file."""
    files = {table: (source.path.as_posix(), settings.path(source.path))
             for table, source in settings.data.sources().items()}
    out = write_json(fingerprint(files), settings.path(settings.pipeline.paths.sources_file))
    logger.info("sources: %s -> %s", ", ".join(f"{t} {p}" for t, (p, _) in files.items()), out)
