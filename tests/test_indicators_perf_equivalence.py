"""The vectorised indicator engine against a slow, obviously-correct reference (a loop per youth).

Random small populations (overlapping measures, open records, several institutions, both
granularities); the reference follows docs/indicators.md literally:

- herhaald beroep: chain a youth's JB/JR records by start (a record joins when it starts at most
  1 day after the latest end so far); per youth, institution and period keep the last episode
  that ended there; new start = a JB/JR record starting after the end and at most 12 months later;
  excluded when end + 12 months is after the reference date; national = each youth's last one;
- pi03 end-reason distribution: ended jeugdhulp trajectories per institution, period, reason.

Also checks that nothing is kept between calls unless the caller prepares a base and hands it in,
and that compute(records_to=...) hands the same records as records().
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcome_analysis import indicators
from toydata import toy_dataset

REF = pd.Timestamp("2025-06-30")
REASONS = ["volgens_plan", "voortijdig_client", "onbekend", None]


def population(seed: int, n_youths: int = 150) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n_youths):
        day = pd.Timestamp("2019-01-01") + pd.Timedelta(days=int(rng.integers(0, 900)))
        for j in range(int(rng.integers(1, 6))):
            care = str(rng.choice(["jeugdhulp", "jb", "jr"], p=[0.4, 0.4, 0.2]))
            form = {"jeugdhulp": "ambulant", "jb": str(rng.choice(["vots", "ots", "voogdij"])), "jr": "stp"}[care]
            start = day + pd.Timedelta(days=int(rng.choice([-30, 0, 1, 2, 40, 200, 500])))
            length = int(rng.integers(0, 400))
            end = None if rng.random() < 0.1 else start + pd.Timedelta(days=length)
            if end is not None and end > REF:
                end = None
            if start > REF:
                continue
            rows.append({"trajectory_id": f"t{k}_{j}", "client_id": f"k{k}", "institution": str(rng.choice(["A", "B", "C"])),
                         "care_type": care, "care_form": form, "start_date": start, "end_date": end,
                         "end_reason": None if end is None else REASONS[int(rng.integers(0, 4))], "birth_year": 2010})
            day = start if end is None else end
    return rows


def period_label(date: pd.Timestamp, granularity: str) -> str:
    return str(date.year) if granularity == "year" else f"{date.year}H{1 if date.month <= 6 else 2}"


def reference_herhaald(rows: list[dict], granularity: str, months: int = 12) -> pd.DataFrame:
    t = pd.DataFrame(rows)
    t = t[t["care_type"].isin(["jb", "jr"])]
    far = pd.Timestamp("2262-01-01")
    units = []  # (client, institution, period, end, care_type, new, excluded)
    for client, recs in t.groupby("client_id"):
        recs = recs.assign(e=recs["end_date"].fillna(far)).sort_values(["start_date", "e"], kind="stable")
        episodes, current, latest = [], [], None
        for _, r in recs.iterrows():
            if current and r["start_date"] <= latest + pd.Timedelta(days=1):
                current.append(r)
                latest = max(latest, r["e"])
            else:
                if current:
                    episodes.append(current)
                current, latest = [r], r["e"]
        episodes.append(current)
        starts = sorted(recs["start_date"])
        for ep in episodes:
            end = max(r["e"] for r in ep)
            if end == far:
                continue
            last = [r for r in ep if r["e"] == end][-1]  # the last-ending record (ties: last in sort order)
            limit = end + pd.DateOffset(months=months)
            new = any(end < s <= limit for s in starts)
            units.append((client, last["institution"], period_label(end, granularity), end, last["care_type"],
                          new, limit > REF))
    u = pd.DataFrame(units, columns=["client", "institution", "period", "end", "care_type", "new", "excluded"])
    out = []
    for scope, keys in (("institution", ["client", "institution", "period"]), ("national", ["client", "period"])):
        last = u.sort_values("end", kind="stable").groupby(keys, sort=False).tail(1)
        by = (["institution"] if scope == "institution" else []) + ["period", "care_type"]
        for key, g in last.groupby(by):
            key = key if isinstance(key, tuple) else (key,)
            judged = g[~g["excluded"]]
            out.append({"scope": scope, "institution": key[0] if scope == "institution" else "",
                        "period": key[-2], "care_type": key[-1], "numerator": float(judged["new"].sum()),
                        "denominator": len(judged), "excluded_window": int(g["excluded"].sum())})
    return pd.DataFrame(out)


def reference_end_reasons(rows: list[dict], granularity: str) -> pd.DataFrame:
    t = pd.DataFrame(rows)
    t = t[(t["care_type"] == "jeugdhulp") & t["end_date"].notna()]
    out = []
    for scope in ("institution", "national"):
        by = (["institution"] if scope == "institution" else []) + ["period"]
        t2 = t.assign(period=[period_label(d, granularity) for d in t["end_date"]])
        for key, g in t2.groupby(by):
            key = key if isinstance(key, tuple) else (key,)
            known = g["end_reason"].dropna()
            for reason, n in known.value_counts().items():
                out.append({"scope": scope, "institution": key[0] if scope == "institution" else "",
                            "period": key[-1], "category": f"end_reason:{reason}", "numerator": float(n),
                            "denominator": len(known), "missing": int(g["end_reason"].isna().sum())})
    return pd.DataFrame(out)


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys).reset_index(drop=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("granularity", ["year", "half_year"])
def test_herhaald_beroep_matches_per_youth_reference(seed, granularity):
    rows = population(seed)
    data = toy_dataset(rows, reference_date=REF)
    out = indicators.compute(data, "jbjr_herhaald_beroep", granularity=granularity)
    got = out[(out["category"] == "") & (out["window_months"] == 12)]
    cols = ["scope", "institution", "period", "care_type", "numerator", "denominator", "excluded_window"]
    keys = ["scope", "institution", "period", "care_type"]
    want = _sorted(reference_herhaald(rows, granularity)[cols], keys)
    got = _sorted(got[cols].astype({"denominator": int, "excluded_window": int}), keys)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize("granularity", ["year", "half_year"])
def test_end_reason_distribution_matches_reference(seed, granularity):
    rows = population(seed)
    data = toy_dataset(rows, reference_date=REF)
    out = indicators.compute(data, "pi03_reden_beeindiging_hulp", granularity=granularity)
    got = out[out["category"].str.startswith("end_reason:")]
    cols = ["scope", "institution", "period", "category", "numerator", "denominator", "missing"]
    keys = ["scope", "institution", "period", "category"]
    want = _sorted(reference_end_reasons(rows, granularity)[cols], keys)
    pd.testing.assert_frame_equal(_sorted(got[cols], keys), want, check_dtype=False)


def test_records_and_compute_agree_and_nothing_is_kept_between_calls():
    rows = population(5)
    data = toy_dataset(rows, reference_date=REF)
    first = indicators.compute(data, "jbjr_herhaald_beroep")
    recs = indicators.records(data, "jbjr_herhaald_beroep")
    head = recs[(recs["category"] == "") & ~recs["excluded_window"]]
    nat = first[(first["scope"] == "institution") & (first["category"] == "") & (first["window_months"] == 12)]
    assert int(nat["denominator"].sum()) == int(head["outcome"].notna().sum())
    # a prepared base is reused by every call it is handed to, with the same figures
    prepared = indicators.prepare(data, "year", indicators.DEFAULT)
    pd.testing.assert_frame_equal(first, indicators.compute(prepared, "jbjr_herhaald_beroep"))
    pd.testing.assert_frame_equal(recs, indicators.records(prepared, "jbjr_herhaald_beroep"))
    with pytest.raises(indicators.IndicatorError, match="granularity"):
        indicators.compute(prepared, "jbjr_herhaald_beroep", granularity="half_year")
    with pytest.raises(indicators.IndicatorError, match="settings"):
        indicators.records(prepared, "jbjr_herhaald_beroep",
                           settings=indicators.DEFAULT.replace(window_herhaald_beroep=6))
    # without a prepared base nothing is kept: a changed Dataset (new frame, or a write into it) gives its own figures
    data.trajectories = data.trajectories.iloc[: len(data.trajectories) // 2].copy()
    fresh = toy_dataset(data.trajectories.to_dict("records"), reference_date=REF)
    pd.testing.assert_frame_equal(indicators.compute(data, "jbjr_herhaald_beroep"),
                                  indicators.compute(fresh, "jbjr_herhaald_beroep"))
    data.trajectories.loc[data.trajectories["care_type"] == "jb", "institution"] = "Z"
    changed = indicators.compute(data, "jbjr_herhaald_beroep")
    assert "Z" in set(changed["institution"])
    pd.testing.assert_frame_equal(changed, indicators.compute(toy_dataset(data.trajectories.to_dict("records"),
                                                                          reference_date=REF), "jbjr_herhaald_beroep"))


@pytest.mark.parametrize("granularity", ["year", "half_year"])
def test_records_to_hands_the_records_of_the_same_build(granularity):
    """compute(records_to=...) hands each named indicator's records, equal to records(), from the one
    build of its unit rows (its builder runs once), in the order of the indicators."""
    data = toy_dataset(population(7), reference_date=REF)
    ids = ["jbjr_herhaald_beroep", "jh_uitval", "pi03_reden_beeindiging_hulp"]
    handed = []
    table = indicators.compute(data, ids, granularity=granularity, periods=["2021"],
                               records_to={i: (lambda frame, i=i: handed.append((i, frame))) for i in ids[:2]})
    pd.testing.assert_frame_equal(table, indicators.compute(data, ids, granularity=granularity, periods=["2021"]))
    assert [i for i, _ in handed] == ids[:2]
    for indicator, frame in handed:
        pd.testing.assert_frame_equal(frame, indicators.records(data, indicator, granularity=granularity))
    with pytest.raises(indicators.IndicatorError, match="records_to"):
        indicators.compute(data, ["jh_uitval"], records_to={"jbjr_herhaald_beroep": print})


# --- fast paths against their plain counterparts (results must not change) ----------------------------


@pytest.fixture(scope="module")
def demo_small():
    from outcome_analysis.demo import make_demo

    return make_demo(seed=1, scale=0.1)


def _parts_table(parts) -> pd.DataFrame:
    return pd.DataFrame({
        "pos": np.concatenate([p.pos for p in parts]),
        "outcome": np.concatenate([np.asarray(p.outcome, dtype=float) for p in parts]),
        "category": np.concatenate([np.asarray(p.category.astype(object), dtype=object) for p in parts]),
    })


def test_gas_integer_grouping_equals_text_grouping(demo_small):
    b = indicators.prepare(demo_small, "year", indicators.DEFAULT)
    entry = indicators.registry.get("jh_doelrealisatie_gas")
    pos = indicators._trajectory_unit(b, entry.care_types)
    goals = demo_small.goals
    assert goals["informant"].isna().any() and (goals["informant"] != "gezamenlijk").any()
    fast = _parts_table(indicators._gas_by_position(b, pos, goals))
    slow = _parts_table(indicators._gas_by_text(b, pos, goals))
    pd.testing.assert_frame_equal(fast, slow)


def test_packed_order_is_the_lexsort_order():
    rng = np.random.default_rng(0)
    cols = [rng.integers(0, hi, 5000) for hi in (300, 4, 20, 900)]
    got = indicators._packed_order(cols)
    np.testing.assert_array_equal(got, np.lexsort(cols[::-1]))
    assert indicators._packed_order([np.array([1 << 40]), np.array([1 << 30])]) is None  # too wide: caller falls back
    assert indicators._packed_order([np.array([-1, 2])]) is None


@pytest.mark.parametrize("granularity", ["year", "half_year"])
def test_fast_paths_equal_fallbacks(demo_small, monkeypatch, granularity):
    """Packed-key sorts against the lexsort fallback, dense group numbering against hashing."""
    ids = ["jbjr_herhaald_beroep", "jh_geen_nieuwe_start", "pi06_zwaarte_vervolghulp", "pi08_geen_nieuwe_maatregel",
           "jbjr_verloop", "jh_uitval", "jh_afname_problematiek", "jbjr_clientervaring"]
    with pytest.warns(UserWarning):
        fast = indicators.compute(demo_small, ids, granularity=granularity)
    fast_records = indicators.records(demo_small, "pi06_zwaarte_vervolghulp", granularity=granularity)
    monkeypatch.setattr(indicators.helpers, "_packed_order", lambda columns: None)
    plain = indicators.aggregate._first_appearance
    monkeypatch.setattr(indicators.aggregate, "_first_appearance", lambda key, n_keys=None: plain(key))
    with pytest.warns(UserWarning):
        slow = indicators.compute(demo_small, ids, granularity=granularity)
    pd.testing.assert_frame_equal(fast, slow)
    pd.testing.assert_frame_equal(fast_records, indicators.records(demo_small, "pi06_zwaarte_vervolghulp",
                                                                   granularity=granularity))
