"""Fixes of the independent audit (hand-counted toy data; each test failed before its fix).

1. pi07 / pi08 chain the JB records on their own: a JR measure neither continues nor ends a JB
   episode (herhaald beroep and jbjr_verloop keep the JB+JR family).
2. A group of a distribution-only indicator whose every unit is left out (window open) keeps a row
   with ``denominator = 0`` and ``excluded_window``; the same holds for every windowed indicator.
3. ``transfer_gi`` is a hand-over (the next institution starts after the earlier records ended),
   not concurrent care.
4. pi06: care that started before the end is concurrent care, not follow-up care (documented rule).
5. ``indicators.resuppress`` is public and deterministic: it marks exactly what ``compute`` marks,
   whatever the row order of the table.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcome_analysis import registry
from outcome_analysis.episodes import chain
from outcome_analysis.indicators import compute, records, resuppress
from outcome_analysis.settings import DEFAULT
from toydata import frame, toy_dataset

REF = "2025-12-31"


def T(tid, client, inst, care_type, form, start, end=None, reason=None):
    return {"trajectory_id": tid, "client_id": client, "institution": inst, "care_type": care_type,
            "care_form": form, "start_date": start, "end_date": end, "end_reason": reason, "birth_year": 2010}


def sel(out, indicator, category="", scope="national", institution="", period="2023", care_type=None):
    s = ((out["indicator"] == indicator) & (out["scope"] == scope) & (out["institution"] == institution)
         & (out["period"] == period) & (out["category"] == category))
    if care_type is not None:
        s &= out["care_type"] == care_type
    return out[s]


def nd(rows):
    return float(rows["numerator"].sum()), int(rows["denominator"].sum())


# ------------------------------------------------------------------ 1. JB episodes under a JR measure
# k1: OTS GI1 2022-01-01..2023-03-01 (volgens_plan) while a JR at GI1 runs 2022-06-01..2023-12-31.
#     JB alone: one JB episode ending 2023-03-01 at GI1, regular, JR during it; no new JB -> pi08 1.
# k2: OTS GI1 2022-01-01..2022-12-31 (volgens_plan); JR at GI1 2022-06-01..2023-12-31; a new OTS at
#     GI1 2023-06-01..2023-09-30 (volgens_plan) while the JR runs.
#     JB alone: episode A ends 2022-12-31 (new JB 2023-06-01 within 12 months -> pi08 0),
#     episode B ends 2023-09-30 (nothing after -> pi08 1); both with a JR during them.
# k3: vOTS GI1 2023-01-01..03-31 -> OTS GI2 04-01..2023-10-31 (niet_verlengd); a JR at GI1
#     2023-02-01..2024-06-30.  JB alone: one episode vots->ots, transferred to GI2, ended at GI2.
# JB+JR family (herhaald beroep, jbjr_verloop): k1 and k2 one episode each ending 2023-12-31 as JR,
#     k3 one episode ending 2024-06-30 as JR; no JB episode ends.
# pi07 national 2023: k1, k2B, k3 -> regular 3/3; end_reason:volgens_plan 2/3, niet_verlengd 1/3;
#     transition:jb_jr_concurrent 3/3, vots_ots 1/3, transfer_gi 1/3.  2022: k2A 1/1.
#     GI1 2023: k1, k2B -> 2/2; GI2 2023: k3 -> 1/1.
# pi08 national 2023: k1 1, k2B 1, k3 1 -> 3/3;  2022: k2A 0 -> 0/1.
JB_JR = [
    T("k1j", "k1", "GI1", "jb", "ots", "2022-01-01", "2023-03-01", "volgens_plan"),
    T("k1r", "k1", "GI1", "jr", "tb_gedwongen", "2022-06-01", "2023-12-31", "volgens_plan"),
    T("k2j", "k2", "GI1", "jb", "ots", "2022-01-01", "2022-12-31", "volgens_plan"),
    T("k2r", "k2", "GI1", "jr", "stp", "2022-06-01", "2023-12-31", "volgens_plan"),
    T("k2k", "k2", "GI1", "jb", "ots", "2023-06-01", "2023-09-30", "volgens_plan"),
    T("k3v", "k3", "GI1", "jb", "vots", "2023-01-01", "2023-03-31", "volgens_plan"),
    T("k3o", "k3", "GI2", "jb", "ots", "2023-04-01", "2023-10-31", "niet_verlengd"),
    T("k3r", "k3", "GI1", "jr", "stp", "2023-02-01", "2024-06-30", "volgens_plan"),
]


@pytest.fixture(scope="module")
def jb_jr():
    return compute(toy_dataset(JB_JR, reference_date=REF),
                   ["pi07_reden_beeindiging_jb", "pi08_geen_nieuwe_maatregel", "jbjr_herhaald_beroep", "jbjr_verloop"])


@pytest.mark.parametrize("category, period, scope, institution, expected", [
    ("", "2023", "national", "", (3.0, 3)),
    ("", "2022", "national", "", (1.0, 1)),
    ("", "2023", "institution", "GI1", (2.0, 2)),
    ("", "2023", "institution", "GI2", (1.0, 1)),
    ("end_reason:volgens_plan", "2023", "national", "", (2.0, 3)),
    ("end_reason:niet_verlengd", "2023", "national", "", (1.0, 3)),
    ("transition:jb_jr_concurrent", "2023", "national", "", (3.0, 3)),
    ("transition:vots_ots", "2023", "national", "", (1.0, 3)),
    ("transition:transfer_gi", "2023", "national", "", (1.0, 3)),
])
def test_pi07_counts_jb_episodes_ended_under_a_jr(jb_jr, category, period, scope, institution, expected):
    assert nd(sel(jb_jr, "pi07_reden_beeindiging_jb", category, scope, institution, period, "jb")) == expected


@pytest.mark.parametrize("period, expected", [("2023", (3.0, 3)), ("2022", (0.0, 1))])
def test_pi08_new_jb_measure_during_a_jr_is_a_new_measure(jb_jr, period, expected):
    assert nd(sel(jb_jr, "pi08_geen_nieuwe_maatregel", period=period, care_type="jb")) == expected


def test_pi07_units_are_jb_episodes():
    r = records(toy_dataset(JB_JR, reference_date=REF), "pi07_reden_beeindiging_jb")
    head = r[r["category"] == ""].sort_values("unit_id")
    # unit = the JB episode's first record; institution = where the JB episode ended
    assert head[["unit_id", "institution", "care_type"]].values.tolist() == [
        ["k1j", "GI1", "jb"], ["k2j", "GI1", "jb"], ["k2k", "GI1", "jb"], ["k3v", "GI2", "jb"]]


def test_herhaald_beroep_and_verloop_keep_the_jb_jr_family(jb_jr):
    # every JB+JR episode ends as JR: 2023 k1, k2 (the new OTS is inside the JR: no new start); 2024 k3
    assert nd(sel(jb_jr, "jbjr_herhaald_beroep", care_type="jr").query("window_months == 12")) == (0.0, 2)
    assert not len(sel(jb_jr, "jbjr_herhaald_beroep", period="2022"))
    assert not len(jb_jr[(jb_jr["indicator"] == "jbjr_verloop") & (jb_jr["care_type"] == "jb")])
    assert nd(sel(jb_jr, "jbjr_verloop", care_type="jr")) == (2.0, 2)
    assert nd(sel(jb_jr, "jbjr_verloop", period="2024", care_type="jr")) == (1.0, 1)


def test_pi07_pi08_definitions_say_jb_records_alone():
    for ind in ("pi07_reden_beeindiging_jb", "pi08_geen_nieuwe_maatregel"):
        e = registry.get(ind)
        assert "JR" in e.definition_nl and "JR" in e.definition_en


# ------------------------------------------------------------------ 2. every unit of a group excluded
def test_pi06_group_with_every_unit_excluded_keeps_a_row():
    # v1: voogdij ends 2025-10-31, window to 2026-01-31 > REF: excluded.  a1: ambulant ends 2024-05-01,
    # nothing after -> none (a normal cell, no empty-group row for P 2024).
    rows = [T("v1", "k1", "GI", "jb", "voogdij", "2024-01-01", "2025-10-31", "meerderjarig"),
            T("a1", "k2", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-05-01", "volgens_plan")]
    out = compute(toy_dataset(rows, reference_date=REF), "pi06_zwaarte_vervolghulp")
    for scope, institution in (("national", ""), ("institution", "GI")):
        r = sel(out, "pi06_zwaarte_vervolghulp", "", scope, institution, "2025", "jb")
        assert len(r) == 1
        r = r.iloc[0]
        assert (r["numerator"], r["denominator"], r["excluded_window"], r["window_months"]) == (0.0, 0, 1, 3)
        assert np.isnan(r["value"]) and bool(r["suppressed"])
    p = out[(out["institution"] == "P")]
    assert p["category"].tolist() == ["follow_up:none"]


WINDOWED = {  # indicator -> rows whose only unit (k1) ends 2025-10-31: every window still open
    "jbjr_herhaald_beroep": [T("j", "k1", "GI", "jb", "ots", "2024-01-01", "2025-10-31", "volgens_plan")],
    "pi08_geen_nieuwe_maatregel": [T("j", "k1", "GI", "jb", "ots", "2024-01-01", "2025-10-31", "volgens_plan")],
    "jh_geen_nieuwe_start": [T("h", "k1", "P", "jeugdhulp", "ambulant", "2024-01-01", "2025-10-31", "volgens_plan")],
    "pi05_geen_nieuw_beroep": [T("h", "k1", "P", "jeugdhulp", "ambulant", "2024-01-01", "2025-10-31", "volgens_plan")],
    "pi06_zwaarte_vervolghulp": [T("h", "k1", "P", "jeugdhulp", "ambulant", "2024-01-01", "2025-10-31", "volgens_plan")],
    "pi10_geen_recidive": [T("r", "k1", "GI", "jr", "stp", "2024-01-01", "2025-10-31", "volgens_plan")],
}


def test_every_windowed_indicator_is_listed():
    assert set(WINDOWED) == {e.id for e in registry.REGISTRY.values() if e.window_setting}


@pytest.mark.parametrize("indicator", sorted(WINDOWED))
def test_windowed_indicator_reports_a_fully_excluded_group(indicator):
    out = compute(toy_dataset(WINDOWED[indicator], reference_date=REF), indicator)
    for scope in ("institution", "national"):
        r = out[(out["scope"] == scope) & (out["period"] == "2025") & (out["category"] == "")]
        assert len(r) >= 1
        assert (r["denominator"] == 0).all() and (r["excluded_window"] == 1).all() and r["suppressed"].all()


# ------------------------------------------------------------------ 3. transfer_gi
@pytest.mark.parametrize("rows, transfer, concurrent", [
    # JR at GI2 inside an OTS at GI1: concurrent care, the episode stays at GI1
    ([T("j", "k", "GI1", "jb", "ots", "2023-01-01", "2023-12-31", "volgens_plan"),
      T("r", "k", "GI2", "jr", "stp", "2023-03-01", "2023-04-30", "volgens_plan")], False, True),
    # vOTS at GI1, OTS at GI2 the next day: a transfer
    ([T("v", "k", "GI1", "jb", "vots", "2023-01-01", "2023-03-31", "volgens_plan"),
      T("o", "k", "GI2", "jb", "ots", "2023-04-01", "2023-12-31", "volgens_plan")], True, False),
    # OTS GI1 (JR at GI2 nested in it), then an OTS at GI2 the day after the GI1 OTS ended: a transfer
    ([T("j", "k", "GI1", "jb", "ots", "2023-01-01", "2023-06-30", "volgens_plan"),
      T("r", "k", "GI2", "jr", "stp", "2023-02-01", "2023-03-31", "volgens_plan"),
      T("o", "k", "GI2", "jb", "ots", "2023-07-01", "2023-12-31", "volgens_plan")], True, True),
    # overlapping hand-over: the GI2 OTS starts before the GI1 OTS ended -> concurrent, no transfer
    ([T("j", "k", "GI1", "jb", "ots", "2023-01-01", "2023-04-15", "volgens_plan"),
      T("o", "k", "GI2", "jb", "ots", "2023-04-01", "2023-12-31", "volgens_plan")], False, False),
    # OTS at GI1 then OTS at GI1 again the next day: same institution, no transfer
    ([T("a", "k", "GI1", "jb", "ots", "2023-01-01", "2023-03-31", "volgens_plan"),
      T("b", "k", "GI1", "jb", "ots", "2023-04-01", "2023-12-31", "volgens_plan")], False, False),
], ids=["nested-jr", "vots-ots-transfer", "transfer-after-nested-jr", "overlapping-handover", "same-gi"])
def test_transfer_gi_is_a_hand_over(rows, transfer, concurrent):
    ep = chain(frame("trajectories", rows)).episodes
    assert len(ep) == 1
    assert bool(ep["transfer_gi"].iloc[0]) is transfer
    assert bool(ep["jb_jr_concurrent"].iloc[0]) is concurrent


def test_nested_jr_at_another_gi_is_no_transfer_in_verloop():
    rows = [T("j", "k", "GI1", "jb", "ots", "2023-01-01", "2023-12-31", "volgens_plan"),
            T("r", "k", "GI2", "jr", "stp", "2023-03-01", "2023-04-30", "volgens_plan")]
    out = compute(toy_dataset(rows, reference_date=REF), "jbjr_verloop")
    assert not len(sel(out, "jbjr_verloop", "transition:transfer_gi"))
    assert nd(sel(out, "jbjr_verloop", "transition:jb_jr_concurrent")) == (1.0, 1)


# ------------------------------------------------------------------ 4. pi06 overlapping care
def test_pi06_care_started_before_the_end_is_no_follow_up():
    # ambulant 2023-01-01..06-30; verblijf starts 2023-06-01 (before the ambulant ends): concurrent care,
    # so the ambulant has no follow-up ("none"); the verblijf ends 2023-12-31 with nothing after: none.
    rows = [T("h1", "k1", "P", "jeugdhulp", "ambulant", "2023-01-01", "2023-06-30", "volgens_plan"),
            T("h2", "k1", "P", "jeugdhulp", "verblijf", "2023-06-01", "2023-12-31", "volgens_plan")]
    out = compute(toy_dataset(rows, reference_date=REF), "pi06_zwaarte_vervolghulp")
    assert not len(sel(out, "pi06_zwaarte_vervolghulp", "follow_up:heavier"))
    assert nd(sel(out, "pi06_zwaarte_vervolghulp", "follow_up:none")) == (2.0, 2)
    e = registry.get("pi06_zwaarte_vervolghulp")
    assert "gelijktijdige" in e.definition_nl and "concurrent" in e.definition_en


def test_pi06_follow_up_starting_on_the_end_day_counts():
    # the verblijf starts on the ambulant's last day: on or after the end -> heavier
    rows = [T("h1", "k1", "P", "jeugdhulp", "ambulant", "2023-01-01", "2023-06-30", "volgens_plan"),
            T("h2", "k1", "P", "jeugdhulp", "verblijf", "2023-06-30", "2023-12-31", "volgens_plan")]
    out = compute(toy_dataset(rows, reference_date=REF), "pi06_zwaarte_vervolghulp")
    assert nd(sel(out, "pi06_zwaarte_vervolghulp", "follow_up:heavier")) == (1.0, 2)


# ------------------------------------------------------------------ 5. resuppress
# One distribution with tied smallest cells: end reasons at GI, 2024: volgens_plan 20, niet_verlengd 3
# (hidden, < 10), tussentijdse_opheffing 12, meerderjarig 12 -> one hidden cell, so the smallest
# visible one is hidden as well; the two 12s tie and the first in compute's order
# (end_reason:meerderjarig < end_reason:tussentijdse_opheffing) is the one.
TIES = ([("volgens_plan", 20), ("niet_verlengd", 3), ("tussentijdse_opheffing", 12), ("meerderjarig", 12)])
TIE_ROWS = [T(f"{r}{i}", f"{r}{i}", "GI", "jb", "ots", "2023-01-01", "2024-06-30", r) for r, n in TIES for i in range(n)]


@pytest.fixture(scope="module")
def tie_table():
    return compute(toy_dataset(TIE_ROWS, reference_date=REF), ["pi07_reden_beeindiging_jb", "pi06_zwaarte_vervolghulp"])


def test_compute_breaks_ties_in_its_output_order(tie_table):
    t = tie_table
    for scope in ("institution", "national"):
        cells = t[(t["indicator"] == "pi07_reden_beeindiging_jb") & (t["scope"] == scope)
                  & t["category"].str.startswith("end_reason:")]
        assert len(cells) == 4
        assert set(cells.loc[cells["suppressed"], "category"]) == {"end_reason:niet_verlengd", "end_reason:meerderjarig"}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_resuppress_equals_compute_in_any_row_order(tie_table, seed):
    shuffled = tie_table.sample(frac=1, random_state=seed)
    again = resuppress(shuffled.assign(suppressed=False), DEFAULT)
    assert again.index.equals(shuffled.index)
    assert (again["suppressed"] == tie_table.loc[shuffled.index, "suppressed"]).all()


def test_resuppress_under_other_thresholds_equals_compute(tie_table):
    other = DEFAULT.replace(min_denominator=5, min_count=4)
    fresh = compute(toy_dataset(TIE_ROWS, reference_date=REF), ["pi07_reden_beeindiging_jb", "pi06_zwaarte_vervolghulp"],
                    settings=other)
    pd.testing.assert_series_equal(resuppress(tie_table, other)["suppressed"], fresh["suppressed"])


# ------------------------------------------------------------------ 6. ROM parts kept across calls
ROM = [dict(T("m1", "k1", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan"),
            rom_instrument="cbcl_total_t", rom_start=70.0, rom_end=60.0),      # improved (RCI < -1.96)
       dict(T("m2", "k2", "A", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan"),
            rom_instrument="xyz", rom_start=10.0, rom_end=5.0)]                # unknown -> missing + warning


def test_rom_records_repeat_the_same_rows_and_the_warning():
    import warnings

    from outcome_analysis import indicators
    data = toy_dataset(ROM, reference_date=REF)
    for _ in range(2):  # the second call takes the per-trajectory arrays from the shared base
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = records(data, "jh_afname_problematiek")
        assert any(issubclass(w.category, indicators.UnknownInstrumentWarning) for w in caught)
        head = r[r["category"] == ""].sort_values("unit_id")
        assert head["outcome"].tolist()[0] == 1.0 and np.isnan(head["outcome"].tolist()[1])
    # a new trajectories frame is a new base: the cached arrays are not reused
    t = data.trajectories.copy()
    t.loc[t["trajectory_id"] == "m1", "rom_end"] = 70.0
    data.trajectories = t
    with pytest.warns(indicators.UnknownInstrumentWarning):
        r = records(data, "jh_afname_problematiek")
    assert r.loc[(r["category"] == "") & (r["unit_id"] == "m1"), "outcome"].tolist() == [0.0]


def test_pi09_counts_a_jr_that_ends_while_a_jb_measure_runs():
    """Mirror of the pi07 fix: JR measures chained on their own.

    k1: JR (tb_gedwongen) at GI-A 2023-01-01 .. 2023-06-30, volgens_plan, inside an OTS 2022-01-01 ..
    2024-06-30. In the JB+JR chain the JR would vanish inside the OTS episode; chained on its own it
    is one ended JR episode of 2023 with end reason volgens_plan: 1 of 1.
    """
    from outcome_analysis.indicators import compute
    from toydata import toy_dataset

    base = dict(client_id="k1", institution="GI-A", birth_year=2008)
    rows = [
        dict(base, trajectory_id="ots", care_type="jb", care_form="ots", start_date="2022-01-01",
             end_date="2024-06-30", end_reason="volgens_plan"),
        dict(base, trajectory_id="jr", care_type="jr", care_form="tb_gedwongen", start_date="2023-01-01",
             end_date="2023-06-30", end_reason="volgens_plan"),
    ]
    out = compute(toy_dataset(rows, reference_date="2024-12-31"), "pi09_reden_beeindiging_jr")
    row = out[(out["scope"] == "national") & (out["period"] == "2023")
              & (out["category"] == "end_reason:volgens_plan")].iloc[0]
    assert (row["numerator"], row["denominator"]) == (1, 1)
