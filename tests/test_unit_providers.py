"""The providers of a gemeente side by side (outcome_analysis.running.unit_providers, the section
sections/municipality/providers.py and the audit of its figures).

Toy mapping (written in tmp_path): jeugdregio Noord = Aadorp (GM0001) and Beedorp (GM0002); Zuid =
Ceedorp (GM0003) alone; West = Deedorp (GM0004) alone. Every record is an ambulant jeugdhulp
trajectory ended in 2024 (indicator ``jh_uitval``: the share ended early, ``voortijdig_client``).
Thresholds: ``min_denominator`` 5 and ``min_cell`` 1, so a figure is hidden by the primary rule
exactly when fewer than 5 trajectories count. Expected figures are hand counts.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcome_analysis.contract.mapping import read_mapping
from outcome_analysis.indicators import registry
from outcome_analysis.running import audit, unit_providers
from outcome_analysis.settings import DEFAULT
from toydata import toy_dataset
from toydata import trajectory as T

GEMEENTEN = """municipality,name,region,region_code,valid_from,valid_to,source,as_of
GM0001,Aadorp,Noord,RN,,,Toy-indeling,2024-01-01
GM0002,Beedorp,Noord,RN,,,,
GM0003,Ceedorp,Zuid,RZ,,,,
GM0004,Deedorp,West,RW,,,,
"""
SETTINGS = DEFAULT.replace(min_denominator=5, min_cell=1)
A, B, C, D = "Aadorp (GM0001)", "Beedorp (GM0002)", "Ceedorp (GM0003)", "Deedorp (GM0004)"


@pytest.fixture
def mapping(tmp_path):
    (tmp_path / "toy.csv").write_text(GEMEENTEN, encoding="utf-8")
    return read_mapping(tmp_path / "toy.csv")


def delivery(groups):
    """``groups``: (provider, gemeente code or None, trajectories, of which ended early)."""
    rows, n = [], 0
    for provider, code, total, early in groups:
        for i in range(total):
            n += 1
            rows.append(T(f"t{n}", f"k{n}", provider, "jeugdhulp", "ambulant", "2024-01-01", "2024-06-30",
                          "voortijdig_client" if i < early else "volgens_plan", municipality=code))
    return toy_dataset(rows, reference_date="2025-12-31")


def uitval(table):
    """unit -> provider -> (numerator, denominator, value, suppressed) of jh_uitval 2024."""
    rows = table.loc[(table["indicator"] == "jh_uitval") & (table["period"] == "2024")]
    out: dict = {}
    for r in rows.to_dict("records"):
        out.setdefault(r["unit"], {})[r["provider"]] = (float(r["numerator"]), int(r["denominator"]),
                                                        float(r["value"]), bool(r["suppressed"]))
    return out


def hidden(table):
    return {(u, p) for u, ps in uitval(table).items() for p, f in ps.items() if f[3]}


# Aadorp: P 20 (4 early), Q 12 (3), R 3 (1); Beedorp: P 10 (2); Ceedorp: T 4 (1)
ONE_UNIT = [("P", "GM0001", 20, 4), ("Q", "GM0001", 12, 3), ("R", "GM0001", 3, 1), ("P", "GM0002", 10, 2),
            ("T", "GM0003", 4, 1)]


def test_values_are_the_counts_of_the_units_youths_at_each_provider(mapping):
    pairs = unit_providers.compute_unit_pairs(delivery(ONE_UNIT), mapping, SETTINGS, period="2024")
    g = uitval(pairs["municipality"])
    assert {u: sorted(ps) for u, ps in g.items()} == {A: ["P", "Q", "R"], B: ["P"], C: ["T"]}
    assert g[A]["P"][:3] == (4.0, 20, 4 / 20)
    assert g[A]["Q"][:3] == (3.0, 12, 3 / 12)
    assert g[B]["P"][:3] == (2.0, 10, 2 / 10)
    row = pairs["municipality"].query("unit == @A and provider == 'P' and indicator == 'jh_uitval'").iloc[0]
    assert row["ci_low"] < 0.2 < row["ci_high"]
    r = uitval(pairs["region"])  # the jeugdregio's pairs add its gemeenten's youths
    assert r["Noord"]["P"][:2] == (6.0, 30) and r["Zuid"]["T"][:2] == (1.0, 4)


def test_primary_rule_and_one_hidden_provider_of_a_gemeente_hides_the_next_smallest(mapping):
    pairs = unit_providers.compute_unit_pairs(delivery(ONE_UNIT), mapping, SETTINGS, period="2024")
    # primary: Aadorp-R (3) and Ceedorp-T (4) count fewer than 5; Aadorp's figure minus its visible
    # providers would give R back, so its next smallest provider Q (12, not P with 20) is hidden too
    assert hidden(pairs["municipality"]) == {(A, "R"), (C, "T"), (A, "Q")}
    # the jeugdregio: Noord-R (3) hidden, so Noord's next smallest provider Q (12) too; Zuid-T (4)
    assert hidden(pairs["region"]) == {("Noord", "R"), ("Noord", "Q"), ("Zuid", "T")}


def test_one_hidden_gemeente_of_a_provider_hides_its_next_smallest_gemeente(mapping):
    # P: Aadorp 3, Ceedorp 8, Deedorp 12; Q: Beedorp 4 (a second hidden figure, so the national
    # total protects nothing more); every gemeente has one provider
    data = delivery([("P", "GM0001", 3, 1), ("P", "GM0003", 8, 2), ("P", "GM0004", 12, 3), ("Q", "GM0002", 4, 1)])
    pairs = unit_providers.compute_unit_pairs(data, mapping, SETTINGS, period="2024")
    # P's own figure (its institution report) minus its visible gemeenten would give Aadorp-P back:
    # its next smallest gemeente, Ceedorp (8, not Deedorp with 12), is hidden too
    assert hidden(pairs["municipality"]) == {(A, "P"), (C, "P"), (B, "Q")}
    assert uitval(pairs["municipality"])[D]["P"][:2] == (3.0, 12)
    # the same in the jeugdregio store (Zuid is Ceedorp alone: its pair is Ceedorp's)
    assert hidden(pairs["region"]) == {("Noord", "P"), ("Noord", "Q"), ("Zuid", "P")}


def test_the_unknown_gemeente_is_never_shown_but_counts_for_its_provider(mapping):
    # P: 9 youths without a gemeente, 3 of them early; Aadorp 12, Ceedorp 20
    data = delivery([("P", None, 9, 3), ("P", "GM0001", 12, 1), ("P", "GM0003", 20, 2)])
    pairs = unit_providers.compute_unit_pairs(data, mapping, SETTINGS, period="2024")
    for table in pairs.values():
        assert not table["unit"].str.contains("onbekend").any()
    assert set(uitval(pairs["municipality"])) == {A, C}
    assert not hidden(pairs["municipality"])
    assert uitval(pairs["municipality"])[A]["P"][:2] == (1.0, 12)  # the unknown youths are in no gemeente's figure
    # a small unknown part is protected like any part of the provider's own figure: P's own figure
    # minus Aadorp and Ceedorp would give it back, so the smaller of the two (Aadorp) is hidden
    data = delivery([("P", None, 2, 1), ("P", "GM0001", 12, 1), ("P", "GM0003", 20, 2)])
    pairs = unit_providers.compute_unit_pairs(data, mapping, SETTINGS, period="2024")
    assert hidden(pairs["municipality"]) == {(A, "P")}


def test_close_reaches_a_fixed_point_of_both_groupings():
    # two units x two providers; only u1/p1 is small: the unit rule hides u1/p2, then the provider
    # rule hides u2/p2 (p2's other unit), then the unit rule hides u2/p1: all four
    keys = [f"u{u}{unit_providers.SEP}p{p}" for u in (1, 2) for p in (1, 2)]
    t = pd.DataFrame({"indicator": "jh_uitval", "scope": "institution", "institution": keys, "period": "2024",
                      "care_type": "jeugdhulp", "category": "", "numerator": [1.0, 3, 4, 5],
                      "denominator": [3, 12, 20, 30], "window_months": pd.array([pd.NA] * 4, dtype="Int64"),
                      "suppressed": [True, False, False, False]})
    by_unit = {k: k.split(unit_providers.SEP)[0] for k in keys}
    by_provider = {k: k.split(unit_providers.SEP)[1] for k in keys}
    marked = unit_providers.close(t, SETTINGS, [by_unit, by_provider])
    assert marked.tolist() == [True, True, True, True]
    assert unit_providers.close(t, SETTINGS, [by_unit]).tolist() == [True, True, False, False]


def test_provider_verdicts_keep_the_adjusted_verdict_of_the_report_period():
    from types import SimpleNamespace

    comp = pd.DataFrame({
        "unit_kind": ["institution", "institution", "institution", "municipality"],
        "unit": ["P", "P", "Z", "P"], "indicator": "jh_uitval", "care_type": "jeugdhulp",
        "period": "2024", "report_period": "2024", "basis": ["adjusted", "raw_reference", "adjusted", "adjusted"],
        "measure": ["oe_ratio", "share", "oe_ratio", "oe_ratio"], "signal": ["higher", "lower", "within", "lower"],
        "favourable": [False, True, None, True], "text_key": "x"})
    out = unit_providers.provider_verdicts(SimpleNamespace(comparisons=comp), ["P", "Q"], "2024")
    assert out[["provider", "signal", "favourable"]].values.tolist() == [["P", "higher", False]]


# --------------------------------------------------------------------------------------------------
# the stores, the section and the audit
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """Both unit stores of ONE_UNIT as a batch computes them (with the institution results for the
    verdicts), once for the tests below."""
    from outcome_analysis.running.batch.units import compute_stores

    folder = tmp_path_factory.mktemp("unit-providers")
    (folder / "toy.csv").write_text(GEMEENTEN, encoding="utf-8")
    return compute_stores(delivery(ONE_UNIT), read_mapping(folder / "toy.csv"), SETTINGS, "2024")


def test_the_stores_keep_the_figures_and_verdicts_and_old_stores_still_load(stores, tmp_path):
    from outcome_analysis.running.results import Results

    g = stores["municipality"]
    assert hidden(g.providers) == {(A, "R"), (C, "T"), (A, "Q")}
    assert set(g.provider_verdicts.columns) == set(unit_providers.VERDICT_COLUMNS)
    g.save(tmp_path / "g")
    back = Results.load(tmp_path / "g")
    pd.testing.assert_frame_equal(back.providers, g.providers, check_dtype=False)
    (tmp_path / "g" / "providers.parquet").unlink()  # a store written before the providers' figures
    assert Results.load(tmp_path / "g").providers.empty


def section_html(stores, unit=A, verdicts=None):
    from outcome_analysis.presentation.sections.municipality import providers, unit as unit_story

    import dataclasses

    g = stores["municipality"]
    if verdicts is not None:
        g = dataclasses.replace(g, provider_verdicts=verdicts)
    story = unit_story.prepare(g, unit, "2024", "nl", region_results=stores["region"])
    return "".join(str(item) for item in providers.build(story)), story


def test_the_section_shows_a_shown_figure_counts_the_hidden_ones_and_gives_the_national_verdict(stores):
    verdicts = pd.DataFrame({"provider": ["P", "Q"], "indicator": "jh_uitval", "care_type": "jeugdhulp",
                             "period": "2024", "report_period": "2024", "signal": ["higher", "within"],
                             "favourable": [False, None], "text_key": ""})
    html, story = section_html(stores, verdicts=verdicts)
    label = registry.get("jh_uitval").label("nl")
    group = next(g for g in html.split('class="oa-provider-indicator"') if g.split("</th>")[0].endswith(label))
    rows = {}
    for tr in group.split("<tr>")[1:]:
        cells = [c.split("</td>")[0] for c in tr.split("<td")[1:]]
        cells = [c.split(">", 1)[1] if ">" in c else c for c in cells]
        if cells:
            rows[cells[0]] = cells[1:]
    assert "20,0%" in rows["P"][0] and rows["P"][1] == "20"  # 4 of 20, and the number counted
    assert "hoger dan verwacht" in rows["P"][2] and "ongunstig" in rows["P"][2]
    # Q and R (hidden) get no row of their own: one row counts them, with the mark
    assert "Q" not in rows and "R" not in rows
    others = group.split('class="oa-provider-others"')[1:]
    assert len(others) == 1
    text = others[0].split("</tr>")[0]
    assert "Bij de 2 andere aanbieders te weinig" in text and "–*" in text and 'colspan="4"' in text
    assert "ruw" in html and "Beedorp" not in html           # only this gemeente's providers
    assert "25,0%" not in html and "33,3%" not in html        # Q's 3 of 12, R's 1 of 3
    assert str(SETTINGS.min_denominator) in html.split("oa-footnote")[-1]  # the existing explanation of –*


def test_the_audit_fails_a_printed_hidden_provider_figure_and_passes_a_shown_one(stores):
    g = stores["municipality"]
    forbidden = audit.forbidden_strings(g, A, SETTINGS)
    assert "25,0%" in forbidden and "33,3%" in forbidden  # Aadorp-Q 3/12 and Aadorp-R 1/3 are hidden
    assert "20,0%" not in forbidden                       # Aadorp-P 4/20 is shown
    leaks = audit.scan("Q: 25,0% van deze jongeren stopte voortijdig", forbidden)
    assert [leak.kind for leak in leaks] == ["share"] and "provider Q" in leaks[0].why
    assert not audit.forbidden_strings(g, B, SETTINGS).values.get(("pct", audit.value_key(0.25)))
