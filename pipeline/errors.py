"""Errors a user can act on: the CLI prints them as one line, without a traceback, and exits
with the error's documented code (README "Exit codes"), so a scheduler can tell them apart.

| code | error | meaning |
|---|---|---|
| 0 | | success |
| 1 | (any other exception) | a bug: run again with --debug and report the traceback |
| 2 | (usage) | a wrong command-line option |
| 3 | ConfigError | a configuration file or a secret from the environment is wrong |
| 4 | DataError | an input file is missing, empty, malformed, or too small to score |
| 5 | DriftRefused | the scoring data drifted from the training reference: not published |
| 6 | NoChampion | no registered model holds the champion alias (or the version asked for) |
| 7 | CrmUnavailable | the CRM database could not be reached or was busy (after retries) |
"""

__all__ = ["KeyAccountsError", "ConfigError", "DataError", "DriftRefused", "NoChampion",
           "CrmUnavailable", "EXIT_CODES"]


class KeyAccountsError(Exception):
    """A failure caused by input or configuration, with a message that says how to fix it."""

    exit_code = 1


class ConfigError(KeyAccountsError):
    """A configuration file is missing, unreadable or holds a wrong key or value."""

    exit_code = 3


class DataError(KeyAccountsError):
    """An input file is missing, empty, or lacks a required column."""

    exit_code = 4


class DriftRefused(KeyAccountsError):
    """The scored population drifted from the training reference beyond the guard's limits
    (configs/pipeline.yaml guard:); the drift report says which columns. Nothing is published
    unless `keyaccounts guard --force`."""

    exit_code = 5


class NoChampion(KeyAccountsError):
    """The registry has no version under the champion alias (or the version asked for)."""

    exit_code = 6


class CrmUnavailable(KeyAccountsError):
    """The CRM database refused the connection, timed out or stayed locked after retries."""

    exit_code = 7


EXIT_CODES = {"ok": 0, "bug": 1, "usage": 2, "config": ConfigError.exit_code,
              "data": DataError.exit_code, "drift": DriftRefused.exit_code,
              "no_champion": NoChampion.exit_code, "crm": CrmUnavailable.exit_code}
