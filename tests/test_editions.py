"""The two editions of the institution report and the batch's report statuses, on the suite's shared
report batch (``tests/report_batch.py``: ``run_reports.py --edition both``).

- both editions exist for the GI and the jeugdhulp provider, from one batch;
- the short edition (kerncijfers) fits in six A4 pages, reads at B1 level (Flesch–Douma ≥ 60, at
  most 15 words per sentence on average over its running text) and uses no jargon outside its
  glossary;
- the full edition ends with the methods as an appendix ("Bijlage");
- the manifest holds the statuses ``made`` / ``too_little_data`` / ``failed`` / ``timed_out``, the
  index pages say them in words, resuming skips both editions (also from a manifest of the previous
  version) and a failing edition never removes the other edition's good files.
"""
from __future__ import annotations

import json
import re
import shutil

import pikepdf
import pytest
import textstat
from bs4 import BeautifulSoup

SHORT_ROLES = ("gi", "jeugdhulp")

#: words a client council should not meet outside the glossary (nor a registry id, nor True/False).
JARGON = re.compile(r"W/V|O/E|interval|significan|empirische Bayes|Kaplan|\bmediaan|kwartiel|T-score|c-statistiek"
                    r"|\bfunnel|overdispersie|case-?mix|\bodds\b", re.I)
JARGON_EXACT = re.compile(r"\b(RCI|GAS|True|False)\b|\b[a-z]+\d*_[a-z0-9_]+\b")  # registry ids: jh_uitval


def _body(html: str) -> BeautifulSoup:
    """The report's own content: no cover, no contents, no style or script."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.select(".oa-cover, nav.oa-toc, style, script, head"):
        tag.decompose()
    return soup


def running_text(html: str) -> str:
    """The running text of a rendered report: paragraphs, list items and glossary meanings, not
    headings, tables, figures or their captions; one sentence per block at least."""
    soup = _body(html)
    for tag in soup.select("table, figure, img, caption, h1, h2, h3, h4, h5, h6, dt, .oa-footnote"):
        tag.decompose()
    blocks = []
    for tag in soup.find_all(["p", "li", "dd"]):
        if tag.find(["p", "li"]):  # a container: its own children are counted
            continue
        text = " ".join(tag.get_text(" ", strip=True).split())
        if text:
            blocks.append(text if text[-1] in ".?!:" else text + ".")
    return "\n".join(blocks)


def test_both_editions_exist_for_gi_and_jeugdhulp(report_batch):
    for role in SHORT_ROLES:
        files = report_batch.files[role]
        assert {"html", "pdf", "kort.html", "kort.pdf"} <= set(files), (role, files)
        assert files["kort.pdf"].name.endswith(".kort.pdf") and files["pdf"].name[:-4] == files["kort.pdf"].name[:-9]
        assert all(path.stat().st_size > 0 for path in files.values())
        assert report_batch.statuses[role] == report_batch.statuses[role + ".kort"] == "made"
        # the short edition is its own document: the key figures, not the ten prestatie-indicatoren
        short = report_batch.short_html(role)
        assert "Kerncijfers" in short and "Wat betekent" in short
        assert "Prestatie" not in _body(short).get_text()
    assert "kort.html" not in report_batch.files["national"]  # the overview has the full edition only


@pytest.mark.parametrize("role", SHORT_ROLES)
def test_short_edition_fits_six_pages(report_batch, role):
    with pikepdf.open(report_batch.short_pdf(role)) as pdf:
        pages = len(pdf.pages)
    with pikepdf.open(report_batch.pdf(role)) as pdf:
        full = len(pdf.pages)
    assert 2 <= pages <= 6 < full, (role, pages, full)


@pytest.mark.parametrize("role", SHORT_ROLES)
def test_short_edition_reads_at_b1(report_batch, role):
    text = running_text(report_batch.short_html(role))
    textstat.set_lang("nl")
    try:
        sentences = textstat.sentence_count(text)
        words = textstat.lexicon_count(text)
        ease = textstat.flesch_reading_ease(text)
    finally:
        textstat.set_lang("en_US")
    assert words > 150, text  # the sentences of the figures are there, not only the headings
    assert ease >= 60, (ease, text)
    assert words / sentences <= 15, (words / sentences, text)


@pytest.mark.parametrize("role", SHORT_ROLES)
def test_short_edition_has_no_jargon_outside_the_glossary(report_batch, role):
    soup = _body(report_batch.short_html(role))
    glossary = soup.select_one("dl.oa-glossary")
    assert glossary is not None and len(glossary.find_all("dt")) >= 5
    glossary.decompose()
    text = soup.get_text(" ", strip=True)
    found = [m.group(0) for m in JARGON.finditer(text)] + [m.group(0) for m in JARGON_EXACT.finditer(text)]
    assert not found, (found, text)
    # every key figure says its verdict in a sign that reads without colour, and in words
    cells = [td.get_text(strip=True) for td in _body(report_batch.short_html(role)).select("table.oa-short-table td")]
    assert any(c[:1] in "▲▼●–" and len(c) > 2 for c in cells), cells


@pytest.mark.parametrize("role", SHORT_ROLES)
def test_full_edition_ends_with_its_appendices(report_batch, role):
    """The appendices follow the body, each an h2 "Bijlage: ...": the breakdowns (when the report has
    any), the data quality, the methods with the definitions and last the notes form; no chapter of
    the body after them. The body points to the breakdowns and the definitions with links that resolve."""
    soup = _body(report_batch.html(role))
    h2 = soup.find_all("h2")
    appendix = [h for h in h2 if "oa-appendix" in (h.get("class") or [])]
    names = [h.get_text(strip=True) for h in appendix]
    assert all(n.startswith("Bijlage: ") for n in names), names
    # the last appendix is the form for the conversation's notes and the actions agreed
    assert names[-3:] == ["Bijlage: Datakwaliteit", "Bijlage: Verantwoording",
                          "Bijlage: Aantekeningen bij het gesprek"], names
    assert names[0] in ("Bijlage: Uitsplitsingen", "Bijlage: Datakwaliteit"), names
    assert h2[-len(appendix):] == appendix  # the appendices are the last part
    after = [h.get_text(strip=True) for h in appendix[-2].find_all_next("h3")]
    assert any("Definities" in h or "definitie" in h.lower() for h in after), after
    ids = {tag["id"] for tag in soup.find_all(attrs={"id": True})}
    refs = [a["href"][1:] for a in soup.select("a.page-ref")]
    assert refs and set(refs) <= ids, set(refs) - ids
    if names[0] == "Bijlage: Uitsplitsingen":
        assert any(r.startswith("bd-") for r in refs)  # the indicator sections point to their breakdowns
        body_tables = [c.get_text(strip=True) for h in appendix[:1] for c in h.find_all_previous("caption")]
        assert not [c for c in body_tables if c.startswith("Uitsplitsing")], body_tables


def test_manifest_statuses(report_batch):
    statuses = {e["status"] for e in report_batch.manifest["reports"].values()}
    assert statuses <= {"made", "too_little_data", "failed", "timed_out"}, statuses
    assert "done" not in statuses and "timeout" not in statuses
    # the smallest institution of the small demo has too little data: both editions say so and are kept
    assert report_batch.statuses["smallest"] == report_batch.statuses["smallest.kort"] == "too_little_data"
    html = report_batch.files["smallest"]["kort.html"].read_text(encoding="utf-8")
    assert 'data-report-status="too_little_data"' in html
    for role in ("gi", "jeugdhulp", "national"):
        assert report_batch.statuses[role] == "made"
        assert 'data-report-status="too_little_data"' not in report_batch.html(role)
    editions = {(e["institution"], e["edition"]) for e in report_batch.manifest["reports"].values()}
    assert ("", "short") not in editions and ("", "full") in editions


def test_index_pages_show_statuses_in_words(report_batch):
    period = next(iter(report_batch.manifest["reports"].values()))["period"]
    page = (report_batch.out / period / "index.html").read_text(encoding="utf-8")
    text = BeautifulSoup(page, "html.parser").get_text(" ", strip=True)
    assert "✓ gereed" in text and "○ te weinig gegevens" in text
    assert not re.search(r"\b(made|too_little_data|timed_out|done)\b", text), text
    assert "kerncijfers (kort)" in text and "volledig rapport" in text
    # Dutch dates and durations: "29 november 2026, 14:05", "1 min 12 s" / "45 s"
    months = "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
    assert re.search(rf"\b\d{{1,2}} ({months}) \d{{4}}, \d{{2}}:\d{{2}}\b", text), text
    assert re.search(r"\b\d+ (min \d+ )?s\b", text) and not re.search(r"\d+\.\d+ ?s\b", text)
    links = {a["href"] for a in BeautifulSoup(page, "html.parser").find_all("a")}
    assert any(h.endswith(".kort.pdf") for h in links) and any(h.endswith(".pdf") and ".kort" not in h for h in links)


def _jobs_of(manifest: dict) -> list:
    """The jobs a run with unchanged inputs plans: the manifest's reports with their input hashes."""
    from outcome_analysis.running.batch.jobs import Job

    return [Job(key=key, kind=e["kind"], institution=e["institution"], period=e["period"], slug=e["slug"], lang="nl",
                formats=tuple(sorted(e["files"])), title="", notebook="", parameters=e["parameters"],
                input_hash=e["input_hash"], edition=e.get("edition", "full"))
            for key, e in manifest["reports"].items()]


def test_resume_skips_both_editions_also_from_an_old_manifest(report_batch, tmp_path):
    from outcome_analysis.running.batch.jobs import BatchResult
    from outcome_analysis.running.batch.manifest import load_manifest, split_resumable

    out = tmp_path / "reports"
    shutil.copytree(report_batch.out, out)
    manifest = load_manifest(out)
    assert len(manifest["reports"]) == 7  # three institutions x two editions + the overview
    jobs = _jobs_of(manifest)
    assert {j.edition for j in jobs} == {"full", "short"}
    todo, skipped = split_resumable(jobs, manifest, out, force=False)
    assert todo == [] and sorted(skipped) == sorted(manifest["reports"])
    # a short edition whose file went missing is remade alone; its full edition is not
    short = next(j for j in jobs if j.edition == "short" and j.institution == report_batch.institutions["gi"])
    (out / manifest["reports"][short.key]["files"]["pdf"]).unlink()
    todo, _ = split_resumable(jobs, manifest, out, force=False)
    assert [j.key for j in todo] == [short.key] and short.key.endswith(".kort")
    shutil.copy(report_batch.out / manifest["reports"][short.key]["files"]["pdf"],
                out / manifest["reports"][short.key]["files"]["pdf"])
    # a manifest of the previous version: "done" / "timeout" (and no edition field) read as today's names
    path = out / "manifest.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    for entry in raw["reports"].values():
        entry["status"] = "done" if entry["status"] == "made" else entry["status"]
        if entry["edition"] == "full":
            del entry["edition"]
    path.write_text(json.dumps(raw), encoding="utf-8")
    old = load_manifest(out)
    assert {e["status"] for e in old["reports"].values()} == {"made", "too_little_data"}
    todo, skipped = split_resumable(jobs, old, out, force=False)
    assert todo == [] and len(skipped) == 7
    # the batch's last line names the index page to open
    result = BatchResult(out=out, counts={"made": 0, "too_little_data": 0, "failed": 0, "skipped": 7}, failures=[],
                         manifest=old, index=out / "index.html")
    assert result.summary().splitlines()[-1] == f"open {out / 'index.html'} to see every report"


def test_a_failing_edition_keeps_the_other_editions_files(tmp_path):
    from outcome_analysis.running.batch.jobs import Job, JobResult
    from outcome_analysis.running.batch.manifest import record_result, split_resumable

    def job(edition):
        suffix = ".kort" if edition == "short" else ""
        return Job(key=f"2024/x{suffix}", kind="institution", institution="X", period="2024", slug="x", lang="nl",
                   formats=("html",), title="t", notebook="nb", parameters={"edition": edition},
                   input_hash=f"h-{edition}", edition=edition)

    manifest = {"reports": {}}
    full, short = job("full"), job("short")
    record_result(tmp_path, manifest, full, JobResult(full.key, "made", {"html": b"<p>full</p>"}, 0, 1))
    record_result(tmp_path, manifest, short, JobResult(short.key, "made", {"html": b"<p>short</p>"}, 0, 1))
    failed = JobResult(short.key, "failed", {}, 0, 1, error={"message": "boom"})
    record_result(tmp_path, manifest, short, failed)
    assert manifest["reports"]["2024/x"]["status"] == "made"
    assert (tmp_path / "2024/x.html").read_bytes() == b"<p>full</p>"
    assert manifest["reports"]["2024/x.kort"]["status"] == "failed"
    assert (tmp_path / "2024/x.kort.html").read_bytes() == b"<p>short</p>"  # the last good short one stays
    todo, skipped = split_resumable([full, short], manifest, tmp_path, force=False)
    assert [j.key for j in todo] == ["2024/x.kort"] and skipped == ["2024/x"]
    timed_out = JobResult(full.key, "timed_out", {}, 0, 1, error={"message": "timed out"})
    record_result(tmp_path, manifest, full, timed_out)
    assert manifest["reports"]["2024/x.kort"]["status"] == "failed" and "2024/x" in manifest["reports"]


#: the most pages of a full edition's body (without its appendix), issue "Reports people read":
#: a provider with one care type 15, a GI with JB and JR 20, the overview of all institutions 25.
BODY_PAGES = {"jeugdhulp": 15, "gi": 20, "national": 25}


@pytest.mark.parametrize("role", sorted(BODY_PAGES))
def test_full_edition_body_fits_its_page_limit(report_batch, role):
    """The body ends where the first appendix ("Bijlage: ...") starts, counted from the PDF's pages."""
    from outcome_analysis.running.audit import text_of_pdf

    pages = text_of_pdf(report_batch.pdf(role)).split("\f")
    # the contents page names the appendix too: the appendix starts on the first other page with it
    first = [i for i, page in enumerate(pages, start=1) if re.search(r"^\s*Bijlage: ", page, flags=re.M)
             and not re.search(r"^\s*Inhoud\s*$", page, flags=re.M)]
    assert first, role
    body = first[0] - 1
    assert body <= BODY_PAGES[role], (role, body)


def test_both_editions_give_the_same_response_rate(report_batch):
    """The experience figures' response as the full edition says it ("bij 35% van de afgesloten
    trajecten ...") is the one the short edition gives ("35% van de mensen vulde de vragenlijst in")."""
    full = " ".join(BeautifulSoup(report_batch.html("jeugdhulp"), "html.parser").get_text(" ").split())
    short = " ".join(BeautifulSoup(report_batch.short_html("jeugdhulp"), "html.parser").get_text(" ").split())
    in_full = set(re.findall(r"bij (\d+%) van de afgesloten trajecten zijn de ervaringsvragen ingevuld", full))
    in_short = set(re.findall(r"(\d+%) van de mensen vulde de vragenlijst in", short))
    assert in_full and in_short == in_full


@pytest.mark.parametrize("role", SHORT_ROLES)
def test_short_edition_keeps_its_questions_and_glossary_whole(report_batch, role):
    """The questions stand on one page under their heading, the glossary's terms on the page of its
    heading (the full demo's short GI editions had both cut at a page end)."""
    from outcome_analysis.running.audit import text_of_pdf

    pages = text_of_pdf(report_batch.short_pdf(role)).split("\f")
    pages = [p for p in pages if p.strip()]
    asked = [p for p in pages if re.search(r"^\s*Vragen voor het gesprek\s*$", p, flags=re.M)]
    assert len(asked) == 1
    numbers = re.findall(r"^\s*(\d)\.\s", asked[0].split("Vragen voor het gesprek", 1)[1], flags=re.M)
    assert 3 <= len(numbers) <= 5 and numbers == [str(i) for i in range(1, len(numbers) + 1)], numbers
    glossary = [p for p in pages if re.search(r"^\s*Wat betekent", p, flags=re.M)]
    assert len(glossary) == 1 and re.search(r"^\s*Traject\s*$", glossary[0].split("Wat betekent", 1)[1], flags=re.M)
