"""The validation report: a self-contained HTML page rendered from the summary dict, linking
the GX Data Docs of the run (`expectations.GxRunner.build_docs`) for every expectation's
details."""

from dataclasses import asdict
from html import escape

__all__ = ["build_summary", "render_html"]

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:70em}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f3f3f3}.ok{color:#1a7f37}.fail{color:#c62828;font-weight:bold}.warn{color:#b26a00}
td.n{text-align:right;font-variant-numeric:tabular-nums}
"""


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='n'>{cell}</td>" if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _collisions_html(collisions: dict) -> list[str]:
    """The ids that differ only by case or invisible characters, kept apart: one row per
    group shown (invisible characters as escapes), with its rows per table."""
    if not collisions:
        return []
    rows = [
        [
            escape(space),
            escape(", ".join(group["kinds"])),
            "<br>".join(escape(f"'{m['shown']}'") for m in group["ids"]),
            "<br>".join(
                escape(", ".join(f"{label}: {n:,}" for label, n in m["rows"].items()))
                for m in group["ids"]
            ),
        ]
        for space, c in collisions.items()
        for group in c["examples"]
    ]
    counts = "; ".join(
        f"{escape(space)}: {c['groups']:,} groups, {c['ids']:,} ids, {c['rows']:,} rows"
        for space, c in collisions.items()
    )
    return [
        "<h2>Ids that differ only by case or invisible characters</h2>",
        f"<p class='warn'>Kept as separate ids, not merged ({counts}); the largest groups "
        "follow. Fix the ids in the export to merge them.</p>",
        _table(["id", "differ by", "ids as written", "rows"], rows),
    ]


def render_html(summary: dict) -> str:
    """One page: overall verdict, per-table counts, reasons, warnings and GX results."""
    verdict = "passed" if summary["success"] else "FAILED"
    css = "ok" if summary["success"] else "fail"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Validation report</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Validation report: <span class='{css}'>{verdict}</span></h1>",
        (
            f"<p>Reference date {escape(summary['reference_date'])}; "
            f"run in {summary['seconds']:.1f} s. Refused rows are in the quarantine files with "
            "their reason, column and source row.</p>"
        ),
        *(
            [f"<p class='fail'>Stopped: {escape(summary['error'])}</p>"]
            if summary.get("error")
            else []
        ),
        *(
            [f"<p>Every expectation in detail: <a href='{escape(summary['data_docs'])}'>Great "
             "Expectations Data Docs</a> (counts, no data values; its pages load their styles "
             "from CDNs and open unstyled offline).</p>"]
            if summary.get("data_docs")
            else []
        ),
        "<h2>Rows</h2>",
        _table(
            ["table", "file", "rows in", "accepted", "quarantined", "quarantined %"],
            [
                [
                    escape(name),
                    escape(t["source"]),
                    f"{t['rows_in']:,}",
                    f"{t['rows_accepted']:,}",
                    f"{t['rows_quarantined']:,}",
                    f"{100 * t['rows_quarantined'] / max(t['rows_in'], 1):.2f}",
                ]
                for name, t in summary["tables"].items()
            ],
            numeric={2, 3, 4, 5},
        ),
    ]
    parts += _collisions_html(summary.get("id_collisions") or {})
    for name, t in summary["tables"].items():
        parts.append(f"<h2>{escape(name)}</h2>")
        if t["reasons"]:
            parts.append("<h3>Quarantined rows by reason</h3>")
            parts.append(
                _table(
                    ["reason", "rows", "meaning"],
                    [
                        [escape(r), f"{n:,}", escape(summary["reason_meanings"].get(r, ""))]
                        for r, n in t["reasons"].items()
                    ],
                    numeric={1},
                )
            )
        else:
            parts.append("<p class='ok'>No rows quarantined.</p>")
        for warning in t["warnings"]:
            parts.append(f"<p class='warn'>warning: {escape(warning['message'])}</p>")
        rows = []
        for e in t["expectations"]:
            status = (
                "<span class='ok'>pass</span>"
                if e["success"]
                else (
                    "<span class='fail'>FAIL</span>"
                    if e["blocking"]
                    else "<span class='warn'>fail (informative)</span>"
                )
            )
            if not e["success"] and e.get("reason"):
                status = f"<span class='warn'>quarantined as {escape(e['reason'])}</span>"
            rows.append(
                [
                    escape(e["suite"]),
                    escape(e["expectation"] + (f" ({e['reason']})" if e.get("reason") else "")),
                    escape(e["column"]),
                    status,
                    escape(e["observed"]),
                ]
            )
        parts.append(
            "<h3>Great Expectations (rows suite: every row, its failures are the quarantine; "
            f"accepted and references suites: {t['gx_rows_checked']:,} rows)</h3>"
        )
        parts.append(_table(["suite", "expectation", "column", "result", "observed"], rows))
    parts.append("</body></html>")
    return "\n".join(parts)


def build_summary(
    results: dict,
    expectations: dict[str, list],
    files: dict[str, str],
    reference_date: str,
    seconds: float,
    gx_max_rows: int,
    id_collisions: dict | None = None,
    data_docs: str | None = None,
) -> dict:
    """The JSON-ready summary of a validation run; `success` is False when any blocking
    expectation failed on the accepted data. `top_reasons` are the five most frequent
    (reason, column) pairs of each table's quarantine; `id_collisions` the ids that differ
    only by case or invisible characters (`pipeline.validation.ids.id_collisions`);
    `expectations` (accepted and references suites) follow each table's rows suite results
    (`TableResult.expectations`); `data_docs` is the Data Docs index relative to the report."""
    from pipeline.validation.checks import COLUMN, REASON, REASONS

    def top_reasons(quarantine) -> list[dict]:
        counts = quarantine.groupby([REASON, COLUMN], sort=False).size()
        counts = counts.sort_values(ascending=False, kind="stable").head(5)
        return [{"reason": r, "column": c, "rows": int(n)} for (r, c), n in counts.items()]

    failed = [e for found in expectations.values() for e in found if e.blocking and not e.success]
    return {
        "success": not failed,
        "failed_expectations": [asdict(e) for e in failed],
        "reference_date": str(reference_date),
        "seconds": round(seconds, 2),
        "reason_meanings": REASONS,
        "id_collisions": id_collisions or {},
        "data_docs": data_docs,
        "tables": {
            table: {
                "source": str(files[table]),
                "rows_in": r.rows_in,
                "rows_accepted": r.rows_accepted,
                "rows_quarantined": r.rows_quarantined,
                "reasons": r.reasons,
                "top_reasons": top_reasons(r.quarantine),
                "warnings": r.warnings,
                "gx_rows_checked": min(r.rows_in, gx_max_rows),
                "expectations": [
                    asdict(e) for e in [*r.expectations, *expectations.get(table, [])]
                ],
            }
            for table, r in results.items()
        },
    }
