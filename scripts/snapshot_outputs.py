#!/usr/bin/env python
"""Snapshot what the workbench computes and shows, to prove a restructure changed no behaviour.

``snapshot`` writes, for one delivery:

- every table of :func:`outcome_analysis.results.compute_results` (Parquet) and its ``meta.json``
  without the creation time;
- for a few reports (HTML, made by ``run_reports.py``): the visible text with dates masked, and the
  SHA-256 of every embedded image.

``compare`` reads two snapshots and lists every difference (exit 1 when there is one).

Examples
--------
::

    python scripts/snapshot_outputs.py snapshot --data data/demo --out /tmp/before
    # ... change the code ...
    python scripts/snapshot_outputs.py snapshot --data data/demo --out /tmp/after
    python scripts/snapshot_outputs.py compare /tmp/before /tmp/after
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import html.parser
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

#: dates and times that differ between two runs of the same code (made-on dates, timestamps).
_VOLATILE = [
    re.compile(r"\b\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?(\.\d+)?)?\b"),
    re.compile(
        r"\b\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december|"
        r"January|February|March|April|May|June|July|August|September|October|November|December) \d{4}\b"
    ),
    re.compile(r"\b\d{2}-\d{2}-\d{4}\b"),
    re.compile(r"\b\d{1,2}:\d{2}(:\d{2})?\b"),
    re.compile(r"(?m)^\d+\.\d$"),  # seconds per report on the index pages (reports use a decimal comma)
]


def mask(text: str) -> str:
    """``text`` with what differs between two runs of the same code (dates, times, durations) masked."""
    for pattern in _VOLATILE:
        text = pattern.sub("<date>", text)
    return text


class _Visible(html.parser.HTMLParser):
    """Visible text (not script, style or head) and the SHA-256 of each embedded image."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.images: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head", "title"):
            self._hidden += 1
        if tag == "img":
            src = dict(attrs).get("src") or ""
            if src.startswith("data:"):
                payload = src.split(",", 1)[1]
                data = base64.b64decode(payload) if ";base64" in src.split(",", 1)[0] else payload.encode()
                self.images.append(hashlib.sha256(data).hexdigest())
            else:
                self.images.append("external:" + src)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head", "title") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.text.append(" ".join(data.split()))


def visible(html_text: str) -> tuple[str, list[str]]:
    """The visible text of an HTML page (volatile dates masked) and its image hashes."""
    parser = _Visible()
    parser.feed(html_text)
    return mask("\n".join(parser.text)), parser.images


def snapshot(data: Path, out: Path, institutions: list[str], period: str | None) -> None:
    from outcome_analysis import io, results
    from outcome_analysis.settings import Settings

    out.mkdir(parents=True, exist_ok=True)
    settings_file = data / "settings.yaml" if data.is_dir() else None
    settings = Settings.from_yaml(settings_file) if settings_file and settings_file.exists() else None
    dataset = io.load(data)
    res = results.compute_results(dataset, settings) if settings else results.compute_results(dataset)
    tables = out / "results"
    tables.mkdir(exist_ok=True)
    for name in results.TABLES:
        frame = getattr(res, name)
        frame.reset_index(drop=True).to_parquet(tables / f"{name}.parquet")
    meta = {k: v for k, v in res.meta.items() if k not in ("created",)}
    (tables / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True, default=str), encoding="utf-8")

    with tempfile.TemporaryDirectory(prefix="snapshot-") as tmp:
        command = [sys.executable, str(ROOT / "run_reports.py"), "--data", str(data), "--out", tmp,
                   "--formats", "html", "--force", "--quiet", "--institutions", *institutions]
        if period:
            command += ["--period", period]
        subprocess.run(command, check=True, cwd=ROOT)
        pages = {}
        for page in sorted(Path(tmp).rglob("*.html")):
            text, images = visible(page.read_text(encoding="utf-8"))
            key = str(page.relative_to(tmp))
            pages[key] = {"images": images}
            target = out / "text" / (key.replace("/", "__") + ".txt")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    (out / "images.json").write_text(json.dumps(pages, indent=1, sort_keys=True), encoding="utf-8")
    print(f"snapshot of {data} in {out}: {len(results.TABLES)} tables, {len(pages)} pages")


def compare(before: Path, after: Path) -> int:
    differences = []
    for file in sorted((before / "results").glob("*.parquet")):
        other = after / "results" / file.name
        if not other.exists():
            differences.append(f"results/{file.name}: missing after")
            continue
        a, b = pd.read_parquet(file), pd.read_parquet(other)
        try:
            pd.testing.assert_frame_equal(a, b, check_exact=True)
        except AssertionError as exc:
            differences.append(f"results/{file.name}: {str(exc).splitlines()[0]}")
    for name in ("results/meta.json", "images.json"):
        if (before / name).read_text(encoding="utf-8") != (after / name).read_text(encoding="utf-8"):
            differences.append(f"{name} differs")
    for file in sorted((before / "text").glob("*.txt")):
        other = after / "text" / file.name
        if not other.exists() or mask(other.read_text(encoding="utf-8")) != mask(file.read_text(encoding="utf-8")):
            differences.append(f"text/{file.name} differs (diff -u {file} {other})")
    for line in differences:
        print(line)
    print("identical" if not differences else f"{len(differences)} difference(s)")
    return 1 if differences else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    snap = commands.add_parser("snapshot", help="write a snapshot")
    snap.add_argument("--data", type=Path, default=ROOT / "data" / "demo")
    snap.add_argument("--out", type=Path, required=True)
    snap.add_argument("--period", default=None)
    snap.add_argument("--institutions", nargs="+", default=None,
                      help="institution names (default: the first jeugdhulp provider, GI and JR provider)")
    cmp_ = commands.add_parser("compare", help="compare two snapshots")
    cmp_.add_argument("before", type=Path)
    cmp_.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "compare":
        return compare(args.before, args.after)
    institutions = args.institutions
    if institutions is None:
        from outcome_analysis import io

        trajectories = io.load(args.data).trajectories
        institutions = []
        for care_type in ("jeugdhulp", "jb", "jr"):
            names = sorted(trajectories.loc[trajectories["care_type"] == care_type, "institution"].unique())
            institutions += [n for n in names[:1] if n not in institutions]
    snapshot(args.data, args.out, institutions, args.period)
    return 0


if __name__ == "__main__":
    sys.exit(main())
