"""The index pages: ``<out>/<period>/index.html`` per period and ``<out>/index.html``."""
from __future__ import annotations

import html
import urllib.parse
from pathlib import Path

from outcome_analysis import atomic, texts
from .constants import UNIT_FOLDER
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
.status-failed td,.status-timed_out td{{background:#fff4e5}}
.status-failed .status,.status-timed_out .status{{font-weight:bold;color:#a33c00}}
.summary{{font-size:1.05rem}}
td.status{{white-space:nowrap}}
</style></head>
<body>
<h1>{title}</h1>
{body}
</body>
</html>
"""


_STATUS_MARK = {"made": "✓", "too_little_data": "○", "failed": "✗", "timed_out": "✗"}


def status_words(status: str, lang: str) -> str:
    """A manifest status in words with its mark, e.g. ``"✓ gereed"``, ``"○ te weinig gegevens"``
    (``lang="en"``: ``"✓ made"``); a status of an earlier version is read in today's names.

    >>> status_words("too_little_data", "nl"), status_words("done", "en")
    ('○ te weinig gegevens', '✓ made')
    """
    from .manifest import normalise_status

    status = normalise_status(status)
    words = texts.for_lang("batch", lang, error=BatchConfigError)["statuses"]
    return f"{_STATUS_MARK.get(status, '')} {words.get(status, status)}".strip()


def fmt_when(iso_time: str | None, lang: str) -> str:
    """A manifest time (ISO 8601, UTC) as the reader says it, in Dutch time:
    ``"29 november 2026, 14:05"`` (``lang="en"``: ``"29 November 2026, 14:05"``); empty when missing.

    >>> fmt_when("2026-11-29T13:05:00+00:00", "nl")
    '29 november 2026, 14:05'
    """
    import datetime as _dt

    from outcome_analysis.presentation.report import ui

    if not iso_time:
        return ""
    try:
        when = _dt.datetime.fromisoformat(str(iso_time))
    except ValueError:
        return str(iso_time)
    try:
        from zoneinfo import ZoneInfo

        when = when.astimezone(ZoneInfo("Europe/Amsterdam"))
    except Exception:  # no time-zone data: the machine's local time
        when = when.astimezone()
    month = ui(lang)["months"][when.month - 1]
    return f"{when.day} {month} {when.year}, {when:%H:%M}"


def fmt_duration(seconds, lang: str) -> str:
    """A duration as the reader says it: ``"8 s"``, ``"1 min 12 s"``, ``"1 u 3 min"`` (``en``: ``"1 h 3 min"``).

    >>> fmt_duration(72.4, "nl"), fmt_duration(3790, "nl"), fmt_duration(0.4, "en")
    ('1 min 12 s', '1 u 3 min', '0 s')
    """
    total = int(round(float(seconds or 0)))
    hour = texts.for_lang("batch", lang, error=BatchConfigError)["hour"]
    if total >= 3600:
        return f"{total // 3600} {hour} {total % 3600 // 60} min"
    if total >= 60:
        return f"{total // 60} min {total % 60} s"
    return f"{total} s"


#: the groups of a period's index page, in order: institutions (with the overview), gemeenten, jeugdregio's.
_GROUPS = ("institution", "municipality", "region")


def _group(kind: str) -> str:
    return kind if kind in UNIT_FOLDER else "institution"


def _link(rel: str, period: str) -> str:
    """A report file's link from its period's index page: its path below ``<out>/<period>/``
    (``gemeente/GM0344-utrecht.html``), quoted.

    >>> _link("2024/gemeente/GM0344-utrecht.html", "2024"), _link("2024/jeugd x.pdf", "2024")
    ('gemeente/GM0344-utrecht.html', 'jeugd%20x.pdf')
    """
    parts = Path(rel).parts
    below = parts[1:] if len(parts) > 1 and parts[0] == period else parts[-1:]
    return "/".join(urllib.parse.quote(p) for p in below)


def write_index_pages(out: Path, manifest: dict, lang: str) -> None:
    """``<out>/<period>/index.html`` per period and ``<out>/index.html``; every name escaped.

    Failed reports are listed first with their reason; status is given in words and a mark
    (never colour alone), the time a report was made and how long it took as a reader says them.
    Each edition of a report (full, short) has a row of its own. Gemeente and jeugdregio reports
    (``kind`` ``municipality``, ``region``) are listed in groups of their own, after the institutions.
    """
    from .manifest import normalise_status

    t = texts.for_lang("batch", lang, error=BatchConfigError)
    e = html.escape
    by_period: dict[str, list[dict]] = {}
    for entry in manifest["reports"].values():
        by_period.setdefault(entry["period"], []).append(dict(entry, status=normalise_status(entry.get("status"))))
    rows_top = []
    good = ("made", "too_little_data")
    header = (f'<tr><th>{e(t["institution"])}</th><th>{e(t["edition"])}</th><th>{e(t["status"])}</th>'
              f'<th>{e(t["files"])}</th><th>{e(t["made_at"])}</th><th>{e(t["duration"])}</th>'
              f'<th>{e(t["error"])}</th></tr>\n')
    for period in sorted(by_period, reverse=True):
        entries = sorted(by_period[period], key=lambda r: (r["status"] in good, r["kind"] != "national",
                                                           r["institution"].casefold(),
                                                           r.get("edition", "full") != "full"))
        groups: dict[str, list[str]] = {}
        for r in entries:
            name = (r.get("label") or t["national"]) if r["kind"] == "national" else r["institution"]
            edition = t["editions"].get(r.get("edition", "full"), "")
            links = " ".join(
                f'<a href="{e(_link(rel, period))}">{e(fmt.upper())}</a>'
                for fmt, rel in sorted(r.get("files", {}).items())
            )
            message = (r.get("error") or {}).get("message", "") if r["status"] not in good else ""
            groups.setdefault(_group(r["kind"]), []).append(
                f'<tr class="status-{e(r["status"])}"><td>{e(name)}</td><td>{e(edition)}</td>'
                f'<td class="status">{e(status_words(r["status"], lang))}</td>'
                f'<td>{links}</td><td>{e(fmt_when(r.get("finished"), lang))}</td>'
                f'<td class="num">{e(fmt_duration(r.get("duration", 0), lang))}</td><td>{e(message)}</td></tr>'
            )
        made = sum(r["status"] == "made" for r in entries)
        little = sum(r["status"] == "too_little_data" for r in entries)
        failed = len(entries) - made - little
        formats = sorted({fmt.upper() for r in entries for fmt in r.get("files", {})}) or ["HTML"]
        joined = f" {t['and']} ".join(formats)  # only the formats this run made
        intros = [t["intro_units"][g].format(formats=joined) if g in UNIT_FOLDER else t["intro"].format(formats=joined)
                  for g in _GROUPS if g in groups]
        intro = intros[0] if len(intros) == 1 else t["intro_groups"].format(formats=joined)
        if any(r.get("edition") == "short" for r in entries):
            intro += " " + t["intro_editions"]
        tables = []
        for g in _GROUPS:
            if g not in groups:
                continue
            heading = f'<h2 id="{e(g)}">{e(t["groups"][g])}</h2>\n' if len(groups) > 1 or g != "institution" else ""
            first = header.replace(e(t["institution"]), e(t["unit_column"][g]), 1) if g in UNIT_FOLDER else header
            tables.append(f'{heading}<table>\n{first}' + "\n".join(groups[g]) + "\n</table>")
        body = (f'<p><a href="../index.html">{e(t["back"])}</a></p>\n'
                f'<p class="summary">{e(t["summary"].format(done=made, little=little, failed=failed))}</p>\n'
                f'<p>{e(intro)}</p>\n' + "\n".join(tables))
        title = f"{t['reports']} {period}"
        atomic.write_bytes(out / period / "index.html", _PAGE.format(lang=e(lang), title=e(title), body=body).encode("utf-8"))
        rows_top.append(f'<tr><td><a href="{e(urllib.parse.quote(period))}/index.html">{e(period)}</a></td>'
                        f'<td class="num">{made}</td><td class="num">{little}</td><td class="num">{failed}</td></tr>')
    words = t["statuses"]
    body = (f'<table>\n<tr><th>{e(t["period"])}</th><th>{e(words["made"])}</th><th>{e(words["too_little_data"])}</th>'
            f'<th>{e(words["failed"])}</th></tr>\n'
            + "\n".join(rows_top) + f"\n</table>\n<p>{e(t['updated'])}: {e(fmt_when(manifest.get('updated') or now(), lang))}</p>")
    atomic.write_bytes(out / "index.html", _PAGE.format(lang=e(lang), title=e(t["reports"]), body=body).encode("utf-8"))
