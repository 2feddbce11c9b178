"""The index pages: ``<out>/<period>/index.html`` per period and ``<out>/index.html``."""
from __future__ import annotations

import html
import urllib.parse
from pathlib import Path

from outcome_analysis import atomic, texts
from .errors import BatchConfigError
from .manifest import now


_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{{font-family:"DejaVu Sans",system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1a1a1a;line-height:1.4}}
h1{{border-bottom:3px solid #0072B2;padding-bottom:.3rem}}
table{{border-collapse:collapse;width:100%;font-size:.95rem}}
th{{background:#eef3f8;text-align:left}}
td,th{{border-bottom:1px solid #d0d7de;padding:.35rem .6rem;vertical-align:top}}
tr:nth-child(even) td{{background:#fafbfc}}
td.num{{text-align:right;font-variant-numeric:tabular-nums}}
.status-failed td,.status-timeout td{{background:#fff4e5}}
.status-failed .status,.status-timeout .status{{font-weight:bold;color:#a33c00}}
.summary{{font-size:1.05rem}}
td.status{{white-space:nowrap}}
</style></head>
<body>
<h1>{title}</h1>
{body}
</body>
</html>
"""


_STATUS_MARK = {"done": "✓", "failed": "✗", "timeout": "✗"}


def write_index_pages(out: Path, manifest: dict, lang: str) -> None:
    """``<out>/<period>/index.html`` per period and ``<out>/index.html``; every name escaped.

    Failed reports are listed first with their reason; status is given in words and a mark
    (never colour alone).
    """
    t = texts.for_lang("batch", lang, error=BatchConfigError)
    e = html.escape
    by_period: dict[str, list[dict]] = {}
    for entry in manifest["reports"].values():
        by_period.setdefault(entry["period"], []).append(entry)
    rows_top = []
    for period in sorted(by_period, reverse=True):
        entries = sorted(by_period[period], key=lambda r: (r["status"] == "done", r["kind"] != "national",
                                                           r["institution"].casefold()))
        rows = []
        for r in entries:
            name = (r.get("label") or t["national"]) if r["kind"] == "national" else r["institution"]
            links = " ".join(
                f'<a href="{e(urllib.parse.quote(Path(rel).name))}">{e(fmt.upper())}</a>'
                for fmt, rel in sorted(r.get("files", {}).items())
            )
            message = (r.get("error") or {}).get("message", "") if r["status"] != "done" else ""
            status = f'{_STATUS_MARK.get(r["status"], "")} {t.get(r["status"], r["status"])}'.strip()
            rows.append(
                f'<tr class="status-{e(r["status"])}"><td>{e(name)}</td><td class="status">{e(status)}</td>'
                f'<td>{links}</td><td class="num">{r.get("duration", 0):.1f}</td><td>{e(message)}</td></tr>'
            )
        done = sum(r["status"] == "done" for r in entries)
        failed = len(entries) - done
        made = sorted({fmt.upper() for r in entries for fmt in r.get("files", {})}) or ["HTML"]
        intro = t["intro"].format(formats=f" {t['and']} ".join(made))  # only the formats this run made
        body = (f'<p><a href="../index.html">{e(t["back"])}</a></p>\n'
                f'<p class="summary">{e(t["summary"].format(done=done, failed=failed))}</p>\n<p>{e(intro)}</p>\n'
                f'<table>\n<tr><th>{e(t["institution"])}</th><th>{e(t["status"])}</th><th>{e(t["files"])}</th>'
                f'<th>{e(t["duration"])}</th><th>{e(t["error"])}</th></tr>\n' + "\n".join(rows) + "\n</table>")
        title = f"{t['reports']} {period}"
        atomic.write_bytes(out / period / "index.html", _PAGE.format(lang=e(lang), title=e(title), body=body).encode("utf-8"))
        rows_top.append(f'<tr><td><a href="{e(urllib.parse.quote(period))}/index.html">{e(period)}</a></td>'
                        f'<td class="num">{done}</td><td class="num">{failed}</td></tr>')
    body = (f'<table>\n<tr><th>{e(t["period"])}</th><th>{e(t["done"])}</th><th>{e(t["failed"])}</th></tr>\n'
            + "\n".join(rows_top) + f"\n</table>\n<p>{e(t['updated'])}: {e(manifest.get('updated') or now())}</p>")
    atomic.write_bytes(out / "index.html", _PAGE.format(lang=e(lang), title=e(t["reports"]), body=body).encode("utf-8"))
