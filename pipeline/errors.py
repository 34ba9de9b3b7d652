"""Errors a user can act on: the CLI prints them as one line, without a traceback."""

__all__ = ["KeyAccountsError", "ConfigError", "DataError"]


class KeyAccountsError(Exception):
    """A failure caused by input or configuration, with a message that says how to fix it."""


class ConfigError(KeyAccountsError):
    """A configuration file is missing, unreadable or holds a wrong key or value."""


class DataError(KeyAccountsError):
    """An input file is missing, empty, or lacks a required column."""
