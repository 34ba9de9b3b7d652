"""Secrets come from the environment (or a file outside the repository), never from configs/.

A database URL in a config file must not hold a password: configs/ is committed, and DVC copies
the params of a stage into dvc.lock. The URL with its password is read at run time from an
environment variable (or the password alone from a variable or a file), and is shown in logs and
errors only with the password masked (`shown_url`).
"""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from pipeline.errors import ConfigError

__all__ = ["password_in_url", "redact_uri", "resolve_database_url", "shown_url"]


def password_in_url(url: str | None) -> bool:
    """Whether `url` (a SQLAlchemy/database URL) carries a password."""
    if not url:
        return False
    try:
        return make_url(url).password is not None
    except ArgumentError:
        return False


def redact_uri(uri: str) -> str:
    """Any URI (database, http, file) with the password of its user-info part masked."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def shown_url(url: str | URL) -> str:
    """`url` with its password masked, for logs and messages."""
    return make_url(url).render_as_string(hide_password=True)


def resolve_database_url(configured: str | None, *, where: str, url_env: str | None,
                         password_env: str | None, password_file: Path | None,
                         resolve_path, environ=os.environ) -> str:
    """The database URL to connect to, with its password, never written anywhere.

    Order: the environment variable `url_env` when set (the whole URL, password included),
    else `configured` (password-free, checked on load); then the password from `password_env`
    or the first line of `password_file` when the URL has none. A relative SQLite file is
    resolved by `resolve_path` (against the project root) and its folder created. `where`
    names the config key in messages. Raises ConfigError on a URL that does not parse."""
    raw = environ.get(url_env) if url_env else None
    source = f"environment variable {url_env}" if raw else where
    raw = raw or configured
    if not raw:
        raise ConfigError(f"no database URL: set {where} or the environment variable {url_env}")
    try:
        url = make_url(raw)
    except ArgumentError as error:
        shown = raw.split("@")[-1] if "@" in raw else raw
        raise ConfigError(f"{source} is not a database URL (…{shown}); use e.g. "
                          "sqlite:///data/crm/crm.db or "
                          "postgresql+psycopg://user@host:5432/crm") from error
    if url.password is None and url.get_backend_name() != "sqlite":
        password = environ.get(password_env) if password_env else None
        if password is None and password_file is not None:
            path = Path(password_file)
            if not path.is_file():
                raise ConfigError(f"password file {path} (publish.crm.password_file) not found")
            password = path.read_text(encoding="utf-8").splitlines()[0].strip()
        if password:
            url = url.set(password=password)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = resolve_path(Path(url.database))
        database.parent.mkdir(parents=True, exist_ok=True)
        url = url.set(database=str(database))
    return url.render_as_string(hide_password=False)
