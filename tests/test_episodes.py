"""Episode chaining (indicators.md, "Episode"), hand-counted on toy records."""
from __future__ import annotations

import pandas as pd
import pytest

from outcome_analysis.episodes import chain
from outcome_analysis.settings import DEFAULT
from toydata import frame
from toydata import trajectory as T


ROWS = [
    # k1: vOTS -> OTS the next day at another GI (continuation + transfer), later a new OTS
    T("a1", "k1", "GI1", "jb", "vots", "2022-01-10", "2022-03-31", "volgens_plan"),
    T("a2", "k1", "GI2", "jb", "ots", "2022-04-01", "2022-12-31", "niet_verlengd"),
    T("a3", "k1", "GI2", "jb", "ots", "2023-06-01", "2023-12-31", "volgens_plan"),
    # k2: OTS with an overlapping JR measure: one episode, ended as JR
    T("b1", "k2", "GI1", "jb", "ots", "2022-01-01", "2022-10-31", "volgens_plan"),
    T("b2", "k2", "GI1", "jr", "tb_gedwongen", "2022-09-01", "2022-11-15", "volgens_plan"),
    # k3: jeugdhulp beside an OTS never joins the JB episode
    T("c1", "k3", "P1", "jeugdhulp", "ambulant", "2022-02-01", "2022-05-31", "volgens_plan"),
    T("c2", "k3", "GI1", "jb", "ots", "2022-03-01", "2022-08-31", "volgens_plan"),
    # k4: a long record and a short one inside it: the episode ends at the LATEST end so far, so a
    # record starting after the short one's end but before the long one's end still continues it
    T("d1", "k4", "GI1", "jb", "ots", "2022-01-01", "2022-12-31", "gezagsbeeindiging"),
    T("d2", "k4", "GI1", "jb", "vots", "2022-02-01", "2022-02-28", "volgens_plan"),
    T("d3", "k4", "GI3", "jb", "voogdij", "2022-06-01", "2023-05-31", "naar_pleegouder"),
    # k5: an open record keeps the episode open
    T("e1", "k5", "GI1", "jr", "stp", "2023-01-01", None, None),
    T("e2", "k5", "GI1", "jr", "gbm", "2024-01-01", "2024-03-31", "volgens_plan"),
    # k6: a gap of two days is a new episode
    T("f1", "k6", "GI1", "jb", "ots", "2022-01-01", "2022-06-30", "volgens_plan"),
    T("f2", "k6", "GI1", "jb", "ots", "2022-07-02", "2022-09-30", "volgens_plan"),
]


@pytest.fixture(scope="module")
def chained():
    t = frame("trajectories", ROWS)
    return t, chain(t, DEFAULT)


def _episode_of(chained, tid):
    t, ch = chained
    return int(ch.record_episode[t["trajectory_id"] == tid].iloc[0])


@pytest.mark.parametrize(
    "first, second, same",
    [("a1", "a2", True), ("a2", "a3", False), ("b1", "b2", True), ("c1", "c2", False),
     ("d1", "d3", True), ("d2", "d3", True), ("e1", "e2", True), ("f1", "f2", False)],
    ids=["vots-ots-next-day", "gap-new-episode", "jb-jr-overlap", "jeugdhulp-beside-ots",
         "latest-end-so-far", "short-record-inside", "open-keeps-open", "two-day-gap"],
)
def test_chaining(chained, first, second, same):
    assert (_episode_of(chained, first) == _episode_of(chained, second)) is same


def test_number_of_episodes(chained):
    # k1: 2, k2: 1, k3: 2 (one jeugdhulp, one jbjr), k4: 1, k5: 1, k6: 2  -> 9
    assert len(chained[1].episodes) == 9


@pytest.mark.parametrize(
    "tid, column, expected",
    [
        ("a1", "institution", "GI2"), ("a1", "trajectory_id", "a2"), ("a1", "end_date", pd.Timestamp("2022-12-31")),
        ("a1", "n_records", 2), ("a1", "vots_ots", True), ("a1", "transfer_gi", True),
        ("a3", "vots_ots", False), ("a3", "transfer_gi", False),
        ("b1", "jb_jr_concurrent", True), ("b1", "care_type", "jr"), ("b1", "end_reason", "volgens_plan"),
        ("d1", "ots_voogdij", True), ("d1", "voogdij_pleegouder", True), ("d1", "institution", "GI3"),
        ("d1", "n_records", 3), ("d1", "start_date", pd.Timestamp("2022-01-01")),
        ("e1", "end_date", pd.NaT), ("c1", "family", "jeugdhulp"), ("c2", "family", "jbjr"),
        ("f1", "jb_jr_concurrent", False),
    ],
)
def test_episode_facts(chained, tid, column, expected):
    ep = chained[1].episodes.set_index("episode_id").loc[_episode_of(chained, tid)]
    if expected is pd.NaT:
        assert pd.isna(ep[column])
    else:
        assert ep[column] == expected


def test_order_of_input_does_not_matter(chained):
    t, ch = chained
    shuffled = t.sample(frac=1, random_state=3)
    ch2 = chain(shuffled)
    pairs1 = {tuple(sorted(g)) for g in t.groupby(ch.record_episode)["trajectory_id"].apply(list)}
    pairs2 = {tuple(sorted(g)) for g in shuffled.groupby(ch2.record_episode)["trajectory_id"].apply(list)}
    assert pairs1 == pairs2


def test_continuation_days_setting(chained):
    t, _ = chained
    ch = chain(t, DEFAULT.replace(continuation_days=2))
    same = ch.record_episode[t["trajectory_id"] == "f1"].iloc[0] == ch.record_episode[t["trajectory_id"] == "f2"].iloc[0]
    assert same


@pytest.mark.parametrize("dtype", ["str", "object", "category"])
def test_codes_of_large_series_equals_get_indexer(dtype):
    """codes_of hashes a long column once and matches its few distinct values: the same codes as
    looking every row up in the categories (-1 for missing and unknown values)."""
    import numpy as np

    from outcome_analysis.episodes import codes_of

    rng = np.random.default_rng(0)
    values = np.array(["ots", "vots", "voogdij", "onbekend", None], dtype=object)[rng.integers(0, 5, 5000)]
    series = pd.Series(values, dtype=dtype)
    cats = ("vots", "ots", "voogdij")
    want = pd.Index(list(cats)).get_indexer(pd.Series(values, dtype=object))
    assert codes_of(series, cats).tolist() == want.tolist()
