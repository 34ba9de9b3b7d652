"""Identifiers that collide only by case or by an invisible character: found and reported,
never merged. Pure functions over the checked tables.

Ids are compared after trimming surrounding ASCII whitespace (`parse.parse_ids`), and are
otherwise kept exactly. "C001", "c001", "C001\\u200b" (zero-width space), "\\ufeffC001" (a BOM)
and "C001\\xa0" (a no-break space) therefore stay five customers: merging them would be a guess
(some systems do treat "ab12" and "AB12" as two accounts, and the CRM keys on the id as
written), and splitting one customer into five silently is what this module prevents. Each
group of ids that look the same once case, compatibility forms (NFKC: full-width letters,
no-break spaces) and format or control characters (Unicode categories Cf and Cc) are set aside
is listed, with the rows each id has in each table, in the validation summary
(`id_collisions`), the report and one warning line per id space; fix the export (or the ids)
to merge them.

The ids looked at are those of the accepted rows and of the rows refused as unknown_customer
or unknown_manager (often the symptom: "c001" in transactions, "C001" in customers).
"""

import unicodedata

import numpy as np
import pandas as pd

from features.contract import (
    CONTACTS,
    CURRENT_MANAGER_ID,
    CUSTOMER_ID,
    CUSTOMERS,
    MANAGER_ID,
    MANAGERS,
    TRANSACTIONS,
)
from pipeline.validation.checks import REASON, TableResult
from pipeline.validation.parse import parse_ids

__all__ = [
    "ID_SPACES",
    "MAX_EXAMPLES",
    "collision_warnings",
    "id_collisions",
    "lookalike_key",
    "shown",
]

# Each id space: the (table, column) pairs whose values name the same things.
ID_SPACES: dict[str, tuple[tuple[str, str], ...]] = {
    CUSTOMER_ID: (
        (CUSTOMERS, CUSTOMER_ID),
        (TRANSACTIONS, CUSTOMER_ID),
        (CONTACTS, CUSTOMER_ID),
    ),
    MANAGER_ID: (
        (MANAGERS, MANAGER_ID),
        (CUSTOMERS, CURRENT_MANAGER_ID),
        (CONTACTS, MANAGER_ID),
    ),
}
MAX_EXAMPLES = 10  # groups listed per id space in the summary
_REFUSED_AS_UNKNOWN = ("unknown_customer", "unknown_manager")
_INVISIBLE = frozenset({"Cc", "Cf"})
_PRINTABLE_ASCII = r"[ -~]*"


def _without_invisible(text: str) -> str:
    """`text` without format and control characters, every Unicode space as " ", stripped."""
    kept = (
        " " if ch.isspace() else ch
        for ch in text
        if unicodedata.category(ch) not in _INVISIBLE
    )
    return "".join(kept).strip()


def lookalike_key(text: str) -> str:
    """What `text` looks like: NFKC, case-folded, without format and control characters and
    surrounding spaces. Two ids with one key differ only in what a reader cannot see."""
    return _without_invisible(unicodedata.normalize("NFKC", text)).casefold()


def shown(text: str) -> str:
    """`text` with each invisible character (format, control, any space but " ") written as
    an escape, e.g. 'C001\\u200b', so that a report shows how two ids differ."""
    return "".join(
        f"\\u{ord(ch):04x}"
        if unicodedata.category(ch) in _INVISIBLE or (ch.isspace() and ch != " ")
        else ch
        for ch in text
    )


def _kinds(ids: list[str]) -> list[str]:
    """How the ids of one group differ: "invisible" (a format/control character or a special
    space), "case", "look-alike" (compatibility forms such as full-width letters)."""
    kinds = []
    visible = [_without_invisible(i) for i in ids]
    if any(v != i for v, i in zip(visible, ids)):
        kinds.append("invisible")
    if len(set(visible)) > 1 and len({v.casefold() for v in visible}) < len(set(visible)):
        kinds.append("case")
    if len({v.casefold() for v in visible}) > 1:
        kinds.append("look-alike")
    return kinds


def _keys(ids: pd.Series) -> pd.Series:
    """lookalike_key of every id; printable ASCII (nearly all ids) vectorised."""
    keys = ids.str.lower()
    other = ~ids.str.fullmatch(_PRINTABLE_ASCII).fillna(False).to_numpy(dtype=bool)
    if other.any():
        keys[other] = [lookalike_key(i) for i in ids[other]]
    return keys


def _id_counts(result: TableResult, column: str) -> pd.Series:
    """Rows per id of `column`: accepted rows and rows refused as an unknown reference."""
    ids = result.accepted[column].dropna() if column in result.accepted else pd.Series(dtype="str")
    q = result.quarantine
    if column in q:
        refused = q.loc[q[REASON].isin(_REFUSED_AS_UNKNOWN), column]
        ids = pd.concat([ids, parse_ids(refused).dropna()], ignore_index=True)
    return ids.astype("str").value_counts()


def id_collisions(
    results: dict[str, TableResult], max_examples: int = MAX_EXAMPLES
) -> dict[str, dict]:
    """Per id space with collisions (customer_id, manager_id): the number of `groups` of ids
    that share a lookalike_key, the `ids` and `rows` involved, the groups per kind, and up to
    `max_examples` groups, largest first, each with its kinds and every id exactly, `shown`
    with escapes and its rows per table column. An id space without collisions is left out.
    """
    found: dict[str, dict] = {}
    for space, sources in ID_SPACES.items():
        counts = {
            f"{table}.{column}": _id_counts(results[table], column)
            for table, column in sources
            if table in results
        }
        counts = {label: c for label, c in counts.items() if len(c)}
        if not counts:
            continue
        ids = pd.Series(
            pd.unique(np.concatenate([c.index.to_numpy(dtype=object) for c in counts.values()])),
            dtype="str",
        )
        keys = _keys(ids)
        clash = keys.duplicated(keep=False).to_numpy(dtype=bool)
        if not clash.any():
            continue
        groups = pd.DataFrame({"id": ids[clash].to_numpy(), "key": keys[clash].to_numpy()})
        rows = {
            label: c.reindex(groups["id"]).fillna(0).astype(int).to_numpy()
            for label, c in counts.items()
        }
        groups["rows"] = sum(rows.values())
        entries = []
        for _, group in groups.groupby("key", sort=False):
            members = [
                {
                    "id": i,
                    "shown": shown(i),
                    "rows": {
                        label: int(rows[label][position])
                        for label in rows
                        if rows[label][position]
                    },
                }
                for position, i in zip(group.index, group["id"])
            ]
            members.sort(key=lambda m: m["id"])
            entries.append(
                {
                    "kinds": _kinds([m["id"] for m in members]),
                    "rows": int(group["rows"].sum()),
                    "ids": members,
                }
            )
        entries.sort(key=lambda e: -e["rows"])
        by_kind: dict[str, int] = {}
        for entry in entries:
            for kind in entry["kinds"]:
                by_kind[kind] = by_kind.get(kind, 0) + 1
        found[space] = {
            "groups": len(entries),
            "ids": int(clash.sum()),
            "rows": int(groups["rows"].sum()),
            "by_kind": by_kind,
            "examples": entries[:max_examples],
        }
    return found


def collision_warnings(collisions: dict[str, dict]) -> list[str]:
    """One line per id space: counts, the first three groups and what to do."""
    lines = []
    for space, c in collisions.items():
        examples = "; ".join(
            " / ".join(f"'{m['shown']}'" for m in e["ids"]) + f" ({', '.join(e['kinds'])})"
            for e in c["examples"][:3]
        )
        lines.append(
            f"{space}: {c['groups']} group(s) of ids differ only by case or invisible "
            f"characters ({c['ids']} ids, {c['rows']} rows), kept as separate ids: {examples}; "
            "see id_collisions in validation_summary.json and fix the ids in the export to "
            "merge them"
        )
    return lines
