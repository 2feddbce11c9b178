"""The verbeteracties in the institution report: their course computed once
(:mod:`outcome_analysis.running.actions`), kept as optional tables of the results store, the section
"Verbeteracties" (full and short edition), the notes page, the batch's ``--actions`` and the dialogue
record written beside each report."""
from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from outcome_analysis import report, story
from outcome_analysis.contract.actions import ACTION_COLUMNS, read_actions, record_file_name
from outcome_analysis.errors import DataValidationError
from outcome_analysis.presentation import documents
from outcome_analysis.presentation.sections.institution import actions as section
from outcome_analysis.running import actions as course_mod
from outcome_analysis.running.results import OPTIONAL_TABLES, Results
from outcome_analysis.settings import Settings, SettingsError

JH = "Jeugdzorg De Wissel"
MARKUP = "Samen <b>invullen</b> <script>alert('x')</script> & klaar"


def _actions(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(ACTION_COLUMNS))
    for col in ("agreed_on", "review_on"):
        frame[col] = pd.to_datetime(frame[col])
    for col in ("institution", "indicator", "description", "owner", "status"):
        frame[col] = frame[col].astype("string")
    return frame


@pytest.fixture(scope="module")
def acts():
    return _actions([
        (JH, "jh_uitval", "2023-03-14", "Kennismakingsgesprek voor de start", "Teamleider", "lopend", "2023-09-14"),
        (JH, "jh_tevredenheid", "2023-06-20", MARKUP, None, "afgerond", None),
        (JH, "jh_zonder_hulp_verder", "2024-02-05", "Nazorggesprek na drie maanden", None, "gepland", None),
        (JH, "jh_uitval", "2025-02-01", "After the report period: not listed", None, None, None),
    ])


@pytest.fixture(scope="module")
def with_actions(small_results, small_demo, acts):
    period = small_results.meta["periods"][-1]
    assert period == "2024"
    tables = course_mod.action_course(small_demo, small_results, acts, small_results.settings, period)
    return course_mod.attach(small_results, tables)


@pytest.fixture(scope="module")
def jh_story(with_actions):
    return story.prepare(with_actions, JH, "2024")


@pytest.fixture(scope="module")
def section_html(jh_story):
    """The full edition's section, built once (its charts take a few seconds)."""
    return _html(documents.section("institution", "actions", jh_story))


def _html(items) -> str:
    return "".join(str(x) for x in items if isinstance(x, str))


def test_course_lists_the_actions_agreed_before_the_end_of_the_period(with_actions, acts):
    c = with_actions.action_course
    assert list(c["action"]) == [0, 1, 2]  # the 2025 action is not in the 2024 report
    row = c.set_index("action").loc[0]
    assert row["judgement"] == "judged" and row["method"] in ("oe_ratio", "newcombe")
    assert row["after_start"] == pd.Timestamp("2023-06-14")  # agreed_on + action_lag_months (3)
    assert row["before_start"] == pd.Timestamp("2022-03-14") and row["before_end"] == pd.Timestamp("2023-03-13")
    # the 2024 action in the 2024 report: too early, whatever the data
    late = c.set_index("action").loc[2]
    assert (late["judgement"], late["reason"]) == ("too_early", "in_period")


def test_before_after_shares_are_counted_from_the_units(with_actions, small_demo):
    from outcome_analysis import indicators

    recs = indicators.records(small_demo, "jh_uitval", settings=with_actions.settings)
    recs = recs[(recs["category"] == "") & recs["outcome"].notna() & (recs["institution"] == JH)]
    end = pd.to_datetime(recs["anchor_date"])
    before = recs[(end >= "2022-03-14") & (end <= "2023-03-13")]["outcome"]
    after = recs[(end >= "2023-06-14") & (end <= "2024-12-31")]["outcome"]
    row = with_actions.action_course.set_index("action").loc[0]
    assert (row["n_before"], row["n_after"]) == (len(before), len(after))
    if not row["hidden_before"]:
        assert row["p_before"] == pytest.approx(before.mean())
    if not row["hidden_after"]:
        assert row["p_after"] == pytest.approx(after.mean())


def test_each_vlad_step_passes_the_two_cell_rule(with_actions, small_demo):
    """Every step of the stored VLAD covers at least ``min_cell`` events and non-events, counted here
    from the units; ``n`` is the number of units ended by the month end (from the before-window on)."""
    from outcome_analysis import indicators

    settings = with_actions.settings
    recs = indicators.records(small_demo, "jh_uitval", settings=settings)
    recs = recs[(recs["category"] == "") & recs["outcome"].notna() & (recs["institution"] == JH)]
    end = pd.to_datetime(recs["anchor_date"])
    recs = recs[(end >= "2022-03-14") & (end <= "2024-12-31")]
    end = pd.to_datetime(recs["anchor_date"])
    v = with_actions.action_vlad
    v = v[v["action"] == 0].sort_values("month_end")
    assert len(v) >= 2
    previous = pd.Timestamp("1900-01-01")
    for _, r in v.iterrows():
        assert r["n"] == int((end <= r["month_end"]).sum())
        step = recs.loc[(end > previous) & (end <= r["month_end"]), "outcome"]
        assert min(step.sum(), len(step) - step.sum()) >= settings.min_cell
        previous = r["month_end"]


def test_store_tables_hold_aggregates_only(with_actions, tmp_path):
    c, p, v = with_actions.action_course, with_actions.action_points, with_actions.action_vlad
    for table in (c, p, v):
        assert not {"unit_id", "client_id", "trajectory_id"} & set(table.columns)
    assert len(c) == 3
    # at most one point per quarter (or half-year) from the before-window to the end of 2024
    assert p.groupby("action").size().max() <= 12
    assert set(p["unit"]) <= {"quarter", "half_year"}
    # the VLAD is read at month ends: one row per month, never one per trajectory
    assert v.groupby("action")["month_end"].apply(lambda s: s.is_unique).all()
    assert (v["month_end"] == v["month_end"] + pd.offsets.MonthEnd(0)).all()
    assert v.groupby("action").size().max() <= 36
    # hidden points keep no value, and the hidden shares of the judgement are not stored
    hidden = p[p["hidden"].astype(bool)]
    assert hidden[["p", "n", "lcl", "ucl"]].isna().all().all()
    assert c.loc[c["hidden_before"].astype(bool), "p_before"].isna().all()
    assert c.loc[c["hidden_after"].astype(bool), "p_after"].isna().all()
    # optional tables of the store: saved and read back
    assert {"action_course", "action_points", "action_vlad"} <= set(OPTIONAL_TABLES)
    back = Results.load(with_actions.save(tmp_path / "store"))
    pd.testing.assert_frame_equal(back.action_course.reset_index(drop=True), c.reset_index(drop=True),
                                  check_dtype=False)
    assert len(back.action_points) == len(p) and len(back.action_vlad) == len(v)


def test_section_judges_each_action_in_plain_dutch(section_html, with_actions):
    html = section_html
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("h2").get_text() == "Verbeteracties"
    heads = [h.get_text() for h in soup.find_all("h3")]
    assert heads == ["Uitval: afgesproken op 14 maart 2023",
                     "Cliënttevredenheid (over het nut van de hulp): afgesproken op 20 juni 2023",
                     "Afgesproken in 2024"]
    text = soup.get_text(" ")
    assert "After the report period" not in text
    # agreed in the report period: listed together, too early to judge, without charts
    assert "Te vroeg om te beoordelen: deze afspraken zijn gemaakt in 2024" in text
    recent = soup.find("table", class_="oa-actions-recent")
    cells = [td.get_text(strip=True) for td in recent.find_all("td")]
    assert cells[:3] == ["Zonder hulp verder", "Nazorggesprek na drie maanden", "5 februari 2024"]
    row = with_actions.action_course.set_index("action").loc[0]
    if not (row["hidden_before"] or row["hidden_after"]):
        words = {"lower": "daalde", "higher": "steeg", "no_change": "ging"}[row["change"]]
        said = (f"Na de afspraak {words} uitval van {report.fmt_pct(row['p_before'], 0)} naar "
                f"{report.fmt_pct(row['p_after'], 0)}")
        assert said in text
        assert ("meer dan toeval" in text) == (row["change"] != "no_change")


def test_markup_in_a_description_is_shown_as_text(section_html, jh_story):
    html = section_html
    assert "<script>" not in html and "<b>invullen" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert MARKUP in BeautifulSoup(html, "html.parser").get_text()
    short = _html(documents.section("institution_short", "actions", jh_story))
    assert "<script>" not in short and MARKUP in BeautifulSoup(short, "html.parser").get_text()


def test_charts_leave_hidden_points_out(jh_story, with_actions):
    from outcome_analysis.presentation import control_plots

    pts = with_actions.action_points
    mine = pts[pts["action"] == 0].copy()
    mine.loc[mine.index[-1], ["hidden", "p", "n", "lcl", "ucl"]] = [True, np.nan, np.nan, np.nan, np.nan]
    fig, alt = control_plots.p_chart_figure(mine, agreed_on="2023-03-14", label="Uitval")
    ax = fig.axes[0]
    share = next(line for line in ax.get_lines() if line.get_gid() == "share")
    drawn = np.asarray(share.get_ydata(), dtype=float)
    assert np.isnan(drawn[-1]) and np.isfinite(drawn[~mine["hidden"].astype(bool).to_numpy()]).all()
    assert ax.get_xticklabels()[-1].get_text().endswith("*")
    assert any(line.get_gid() == "agreed" for line in ax.get_lines())
    assert "Afspraak op 14 maart 2023" in alt


def test_short_edition_has_one_line_per_action_and_the_full_one_a_notes_page(jh_story):
    assert documents.names("institution_short")[-2:] == ["actions", "glossary"]
    names = documents.names("institution")
    assert names[-1] == "notes" and names.index("actions") < names.index("breakdowns")  # the last appendix
    short = BeautifulSoup(_html(documents.section("institution_short", "actions", jh_story)), "html.parser")
    assert len(short.find_all("li")) == 3
    notes = _html(documents.section("institution", "notes", jh_story))
    assert "Aantekeningen bij het gesprek" in notes and record_file_name(JH, "2024", "xlsx") in notes
    assert notes.count('class="oa-ruled"') == section.NOTE_LINES


def test_without_actions_the_section_says_how_to_start(small_results):
    s = story.prepare(small_results, JH, "2024")
    text = BeautifulSoup(_html(documents.section("institution", "actions", s)), "html.parser").get_text()
    assert "geen verbeteracties vastgelegd" in text
    assert documents.section("institution_short", "actions", s) == []


def test_action_lag_months_is_checked():
    assert Settings().action_lag_months == 3
    assert Settings.from_dict({"action_lag_months": 6}).action_lag_months == 6
    for bad in (-1, 25, 2.5, True):
        with pytest.raises(SettingsError, match="action_lag_months"):
            Settings(action_lag_months=bad)


# --- the batch ----------------------------------------------------------------------------------

def test_dialogue_record_and_markup_in_the_shared_batch(report_batch, tmp_path):
    """The shared batch's delivery is the demo's, which writes actions.csv: the jeugdhulp provider's
    report follows its actions, shows the markup of one as text (HTML and PDF), and its dialogue
    record lies beside it."""
    from outcome_analysis.running import audit

    assert report_batch.institutions["jeugdhulp"] == JH
    html = report_batch.html("jeugdhulp")
    assert "Verbeteracties" in html and "&lt;script&gt;" in html and "<script>alert" not in html
    pdf_text = audit.text_of_pdf(report_batch.pdf("jeugdhulp"))
    assert "<script>alert('demo')</script>" in re.sub(r"\s+", " ", pdf_text)
    entry = next(e for e in report_batch.manifest["reports"].values()
                 if e["institution"] == JH and e["edition"] == "full")
    record = entry["dialogue_record"]
    period = entry["period"]
    for fmt in ("xlsx", "csv"):
        path = report_batch.out / record[fmt]
        assert path.name == record_file_name(JH, period, fmt) and path.parent == report_batch.files["jeugdhulp"]["html"].parent
        assert path.is_file()
    # filled in and read back: the pre-filled rows become that period's actions
    raw = (report_batch.out / record["csv"]).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    rows = [line.split(";") for line in lines[1:]]
    for fields in rows:  # the date and what was agreed filled in, the rest as pre-filled
        fields[2:4] = ["01-03-2025", "Afspraak"]
    folder = tmp_path / "next_delivery"
    folder.mkdir()
    (folder / record_file_name(JH, period, "csv")).write_text(
        "\r\n".join([lines[0]] + [";".join(f) for f in rows]) + "\r\n", encoding="utf-8-sig")
    back, problems = read_actions(folder, institutions=[JH])
    assert not [p for p in problems if p.severity == "error"]
    assert list(back["indicator"]) == record["indicators"] and (back["institution"] == JH).all()
    assert (back["agreed_on"] == pd.Timestamp("2025-03-01")).all()


def test_a_bad_actions_file_stops_the_batch_before_any_report(report_batch, tmp_path):
    from outcome_analysis.running.batch import run_batch

    bad = tmp_path / "actions.csv"
    bad.write_text("institution;indicator;agreed_on;description\n"
                   f"{JH};jh_bestaat_niet;31-02-2023;x\nNiemand;jh_uitval;01-03-2023;y\n", encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(DataValidationError) as caught:
        run_batch(report_batch.data, out=out, cache=tmp_path / "cache", actions=bad, formats=("html",),
                  institutions=[JH], quiet=True, national_notebook=None)
    message = str(caught.value)
    assert "jh_bestaat_niet" in message and "Niemand" in message and "31-02-2023" in message
    assert not out.exists() or not any(out.rglob("*.html"))


def test_actions_option_end_to_end_on_one_institution(report_batch, tmp_path):
    """``--actions PATH`` on one institution, the short edition in HTML only (the quickest report), on a
    copy of the shared cache: the actions file (the demo's, copied elsewhere) gives the same store, the
    report lists the actions, and the dialogue record is written beside it."""
    from outcome_analysis.running.batch import run_batch

    given = tmp_path / "given"
    given.mkdir()
    shutil.copy(report_batch.data / "actions.csv", given / "actions.csv")
    cache = tmp_path / "cache"
    shutil.copytree(report_batch.cache, cache)
    out = tmp_path / "out"
    result = run_batch(report_batch.data, out=out, cache=cache, formats=("html",), edition="short", quiet=True,
                       institutions=[JH], actions=given, national_notebook=None, jobs=1)
    assert result.ok, result.summary()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["runs"][-1]["inputs"]["actions"]["path"] == str(given.resolve())
    # the same files' bytes in another folder: the same actions hash (the store's key holds the bytes, not the path)
    shared = report_batch.manifest["runs"][-1]["inputs"]
    assert shared["actions"]["hash"] == manifest["runs"][-1]["inputs"]["actions"]["hash"]
    (entry,) = [e for e in manifest["reports"].values() if e["institution"] == JH]
    soup = BeautifulSoup((out / entry["files"]["html"]).read_text(encoding="utf-8"), "html.parser")
    items = [li.get_text(" ") for li in soup.select("ul.oa-actions-short li")]
    assert len(items) == 3 and "te vroeg om te beoordelen" in items[-1]
    assert "<script>alert('demo')</script>" in " ".join(items)  # the markup as text
    record = entry["dialogue_record"]
    assert (out / record["xlsx"]).is_file() and (out / record["csv"]).parent == (out / entry["files"]["html"]).parent


def test_the_audit_counts_the_sections_shown_figures_as_shown(with_actions):
    """A p-chart point, before/after share or O/E the section prints is a shown figure of the report:
    a hidden figure whose printed form equals one (98 of 154 and a hidden 4 of 11's complement are
    both 63,6%, as on the full demo) is no leak of the hidden one. Hidden points keep no value."""
    from outcome_analysis.running import audit

    points, course = with_actions.action_points, with_actions.action_course
    shown = points.loc[~points["hidden"].astype(bool)].iloc[0]
    inst = str(shown["institution"])
    forms = audit._shown_forms(with_actions, inst, with_actions.settings, ("nl",))["values"]
    assert ("pct", audit.value_key(float(shown["p"]))) in forms
    assert ("pct", audit.value_key(1 - float(shown["p"]))) in forms
    own = course.loc[(course["institution"] == inst) & ~course["hidden_before"].astype(bool)].iloc[0]
    assert ("pct", audit.value_key(float(own["p_before"]))) in forms
    assert ("ratio", audit.value_key(float(own["oe_before"]))) in forms
    assert points.loc[points["hidden"].astype(bool), "p"].isna().all()


def test_the_notes_form_is_one_printed_page_at_the_end(report_batch):
    """The form for the conversation (date, who, ruled lines, the actions table and where to copy
    them) is the last page of the full edition's PDF, whole on that one page."""
    import subprocess

    pdf = report_batch.pdf("jeugdhulp")
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.rstrip("\f").split("\f")
    last = pages[-1]
    assert "Bijlage: Aantekeningen bij het gesprek" in last and "Afgesproken verbeteracties" in last
    assert "Neem de afspraken over" in last  # the line naming the actions file, not on a page of its own
