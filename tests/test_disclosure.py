"""Tests of outcome_analysis.disclosure. Expected flags are hand counts on the toy tables below,
following the rules of docs/indicators.md ("Disclosure control")."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from outcome_analysis import disclosure
from outcome_analysis.disclosure import DisclosureError, round_count, suppress
from outcome_analysis.settings import Settings


def dist(counts, group="A"):
    """A distribution table: one row per category, denominator = the group total."""
    counts = list(counts)
    return pd.DataFrame(
        {
            "institution": group,
            "category": [f"c{i}" for i in range(len(counts))],
            "numerator": counts,
            "denominator": sum(counts),
        }
    )


# --------------------------------------------------------------------------------------------------
# round_count
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, expected",
    [(0, 0), (2, 0), (3, 5), (7, 5), (8, 10), (12, 10), (12.5, 15), (13, 15), (1003, 1005)],
    ids=lambda v: str(v),
)
def test_round_count_to_five_halves_up(n, expected):
    assert round_count(n) == expected


def test_round_count_vectorised_keeps_nan_and_index():
    got = round_count(pd.Series([4, np.nan, 26], index=["x", "y", "z"]), round_to=10)
    assert got["x"] == 0 and np.isnan(got["y"]) and got["z"] == 30
    assert round_count(np.array([1, 6]), round_to=1).tolist() == [1, 6]


# --------------------------------------------------------------------------------------------------
# shares
# --------------------------------------------------------------------------------------------------


def test_means_hidden_below_min_denominator_values_untouched():
    # hand count (kind mean: only the denominator counts): 9 (< 10), 10, missing, 0 -> hidden, shown, hidden, hidden
    t = pd.DataFrame(
        {
            "numerator": [3, 4, 1, 0],
            "denominator": [9, 10, np.nan, 0],
            "value": [3 / 9, 0.4, np.nan, np.nan],
            "ci_low": [0.1, 0.15, np.nan, np.nan],
            "ci_high": [0.7, 0.7, np.nan, np.nan],
        }
    )
    out = suppress(t, kind="mean")
    assert out["suppressed"].tolist() == [True, False, True, True]
    assert out["suppression_reason"].tolist() == ["denominator", "", "denominator", "denominator"]
    # values and intervals are never changed (indicators.md: computed from raw counts)
    pd.testing.assert_frame_equal(out[t.columns], t)
    # shown counts are rounded to 5 and missing where hidden
    assert out["shown_numerator"].iloc[1] == 5 and out["shown_denominator"].iloc[1] == 10
    assert out["shown_numerator"].iloc[[0, 2, 3]].isna().all()


def test_two_cell_rule_for_shares():
    """indicators.md: a share is shown only when its numerator and its complement both reach min_cell.
    Hand count: 1/11 (1 < 10), 10/11 (complement 1), 10/20 (10 and 10: shown), 0/40, 30/40 (shown),
    31/40 (complement 9), 1/200 (1 < 10, however large the denominator)."""
    t = pd.DataFrame({"numerator": [1, 10, 10, 0, 30, 31, 1], "denominator": [11, 11, 20, 40, 40, 40, 200]})
    out = suppress(t)
    assert out["suppressed"].tolist() == [True, True, False, True, False, True, True]
    assert out["suppression_reason"].tolist() == ["cell", "complement", "", "cell", "", "complement", "cell"]
    # a shown share keeps its exact counts available (rounding protects nothing once both cells pass)
    assert suppress(t, min_cell=1)["suppressed"].tolist() == [False, False, False, True, False, False, False]
    # means are not shares: only the denominator counts
    assert not suppress(t, kind="mean")["suppressed"].any()


def test_band_of_a_hidden_share():
    from outcome_analysis.statistics.disclosure import band

    assert band(1, 11, 10) == ("below", 10, 11)      # "minder dan 10 van de 11"
    assert band(38, 40, 10) == ("above", 30, 40)     # "meer dan 30 van de 40"
    assert band(0, 40, 10) == ("below", 10, 40)      # zero included
    assert band(20, 40, 10) is None                  # passes: no band
    assert band(12, 40, 20) == ("below", 20, 40)     # the threshold in force


def test_thresholds_come_from_settings_and_arguments():
    t = pd.DataFrame({"numerator": [5, 5], "denominator": [15, 25]})
    assert suppress(t, Settings(min_denominator=20), kind="mean")["suppressed"].tolist() == [True, False]
    assert suppress(t, Settings(min_denominator=20), kind="mean", min_denominator=10)["suppressed"].tolist() == [False, False]
    assert suppress(t, round_to=10, min_cell=5)["shown_denominator"].tolist() == [20, 30]
    # the two-cell threshold from the settings: 5 of 25 passes at min_cell 5, not at 10
    assert suppress(t, Settings(min_cell=5))["suppressed"].tolist() == [False, False]
    assert suppress(t, Settings(min_cell=10))["suppression_reason"].tolist() == ["cell", "cell"]


def test_input_table_is_not_modified_and_call_is_idempotent():
    t = dist([40, 12, 30, 3])
    before = t.copy()
    once = suppress(t, kind="count", group="institution")
    pd.testing.assert_frame_equal(t, before)
    twice = suppress(once, kind="count", group="institution")
    pd.testing.assert_frame_equal(once, twice)


# --------------------------------------------------------------------------------------------------
# distributions: primary and complementary suppression (hand-made tables)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "counts, hidden, reasons",
    [
        # nothing small: nothing hidden
        pytest.param([40, 12, 30], [], {}, id="none-small"),
        # one small cell (3): recoverable as 85 - 40 - 12 - 30, so the smallest visible (12) goes too
        pytest.param([40, 12, 30, 3], [1, 3], {1: "complementary", 3: "count"}, id="one-small-complement"),
        # two small cells already: their sum is known, neither value is; nothing extra
        pytest.param([40, 2, 30, 3], [1, 3], {1: "count", 3: "count"}, id="two-small"),
        # zero is below the threshold too; tie between the two 15s -> the first in table order
        pytest.param([0, 15, 15, 50], [0, 1], {0: "count", 1: "complementary"}, id="zero-and-tie"),
        # only two cells, one small: both hidden
        pytest.param([50, 4], [0, 1], {0: "complementary", 1: "count"}, id="two-cells"),
        # group total below min_denominator: the whole distribution is hidden
        pytest.param([5, 3], [0, 1], {0: "denominator", 1: "denominator"}, id="small-total"),
    ],
)
def test_distribution_hand_made(counts, hidden, reasons):
    out = suppress(dist(counts), kind="count", group="institution")
    assert np.flatnonzero(out["suppressed"]).tolist() == hidden
    for row, reason in reasons.items():
        assert out["suppression_reason"].iloc[row] == reason


def test_groups_are_protected_independently():
    # institution A needs a complement, B has no small cell, C's total is below 10
    t = pd.concat([dist([40, 12, 30, 3], "A"), dist([20, 20], "B"), dist([6, 2], "C")], ignore_index=True)
    out = suppress(t, kind="count", group=["institution"])
    got = out.groupby("institution")["suppressed"].sum().to_dict()
    assert got == {"A": 2, "B": 0, "C": 2}


def test_group_none_is_one_distribution():
    out = suppress(dist([40, 12, 30, 3]).drop(columns="institution"), kind="count")
    assert out["suppressed"].sum() == 2


def test_cross_table_rows_and_columns_cascade():
    # 3 x 3 cross table (rows r, columns c). Hand count:
    #          c0  c1  c2
    #   r0     4   30  25      r0: 4 hidden (count) -> complement smallest visible of r0 = 25 (c2)
    #   r1     20  40  35      c2 now has one hidden (25) -> complement smallest visible of c2 = 35 (r1)
    #   r2     22  50  60      r1 now has one hidden (35) -> complement smallest visible of r1 = 20 (c0)
    #                          c0 now has 4 and 20 hidden: fine; every row/column has 0 or >= 2 hidden
    counts = [[4, 30, 25], [20, 40, 35], [22, 50, 60]]
    t = pd.DataFrame(
        [
            {"r": f"r{i}", "c": f"c{j}", "numerator": counts[i][j], "denominator": 1000}
            for i in range(3)
            for j in range(3)
        ]
    )
    out = suppress(t, kind="count", group=[["r"], ["c"]])
    hidden = set(map(tuple, out.loc[out["suppressed"], ["r", "c"]].to_numpy()))
    assert hidden == {("r0", "c0"), ("r0", "c2"), ("r1", "c2"), ("r1", "c0")}
    for axis in ("r", "c"):
        assert out.groupby(axis)["suppressed"].sum().isin([0, 2, 3]).all()


@pytest.mark.parametrize(
    "table, kwargs, message",
    [
        pytest.param(pd.DataFrame({"numerator": [1]}), {}, r"\['denominator'\]", id="no-denominator"),
        pytest.param(dist([1, 2]), {"kind": "count", "group": "period"}, r"\['period'\]", id="no-group-column"),
        pytest.param(dist([1, 2]), {"kind": "counts"}, "kind must be one of", id="unknown-kind"),
    ],
)
def test_errors_name_the_problem(table, kwargs, message):
    with pytest.raises(DisclosureError, match=message):
        suppress(table, **kwargs)


# --------------------------------------------------------------------------------------------------
# property: no suppressed cell can be recovered from the published total and its visible siblings
# --------------------------------------------------------------------------------------------------


def _random_distributions(rng, n_groups):
    rows = []
    for g in range(n_groups):
        k = int(rng.integers(1, 8))
        # mixture of small and large counts so that every rule fires somewhere
        counts = np.where(rng.random(k) < 0.35, rng.integers(0, 10, k), rng.integers(10, 120, k))
        for j, c in enumerate(counts):
            rows.append({"institution": f"i{g % 17}", "period": f"p{g}", "category": f"c{j}", "numerator": int(c)})
    t = pd.DataFrame(rows)
    t["denominator"] = t.groupby(["institution", "period"])["numerator"].transform("sum")
    return t


def _recoverable(group: pd.DataFrame) -> bool:
    """Can an attacker who sees the (rounded or exact) total and the visible cells derive a hidden cell?

    With exactly one hidden cell next to visible ones: total - sum(visible) = the hidden cell.
    With two or more hidden cells only their sum follows; each of them ranges over [0, sum].
    When every cell is hidden the total is hidden too (shown_denominator is NaN on every row).
    """
    hidden = group["suppressed"].to_numpy()
    return int(hidden.sum()) == 1 and len(group) > 1


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_property_no_single_hidden_cell_in_any_distribution(seed):
    rng = np.random.default_rng(seed)
    t = _random_distributions(rng, 300)
    out = suppress(t, kind="count", group=["institution", "period"])
    by_group = out.groupby(["institution", "period"])
    recoverable = by_group.apply(_recoverable, include_groups=False)
    assert not recoverable.any(), recoverable[recoverable].index.tolist()[:5]
    # primary rules hold: every count < 10 and every group total < 10 is hidden
    assert out.loc[out["numerator"] < 10, "suppressed"].all()
    assert out.loc[out["denominator"] < 10, "suppressed"].all()
    # minimality of the complement: at most one extra cell per group
    assert (by_group["suppression_reason"].apply(lambda s: (s == "complementary").sum()) <= 1).all()
    # a visible cell always shows its total; a fully hidden group shows no total anywhere
    fully_hidden = by_group["suppressed"].transform("all")
    assert out.loc[fully_hidden, "shown_denominator"].isna().all()
    assert out.loc[~out["suppressed"], "shown_denominator"].notna().all()


@pytest.mark.parametrize("seed", [10, 11, 12])
def test_property_cross_tables_rows_and_columns(seed):
    # random 5 x 6 cross tables (e.g. end reason x care form), protected along both axes
    rng = np.random.default_rng(seed)
    rows = []
    for table in range(40):
        for i in range(5):
            for j in range(6):
                c = int(rng.integers(0, 10) if rng.random() < 0.2 else rng.integers(10, 90))
                rows.append({"table": table, "r": i, "c": j, "numerator": c, "denominator": 10_000})
    t = pd.DataFrame(rows)
    out = suppress(t, kind="count", group=[["table", "r"], ["table", "c"]])
    for axis in (["table", "r"], ["table", "c"]):
        n_hidden = out.groupby(axis)["suppressed"].sum()
        assert not (n_hidden == 1).any()
    assert out.loc[out["numerator"] < 10, "suppressed"].all()


def test_rounding_alone_would_not_protect():
    # Why rule 3 is applied regardless of rounding (docstring of suppress). Counts (40, 12, 30, 3),
    # total 85, everything rounded to 5: shown 40, 10, 30 and total 85. Rounding alone leaves the
    # hidden cell in 85 - 80 +/- 10, but the report also shows shares: 40/85 = 47.1% is, for a total in
    # [83, 87], only an integer count when the total is 85 (39.1, 39.5, 40.0, 40.5, 40.9), which pins the
    # total and then the siblings (12/85 = 14.1% -> 12, 30/85 = 35.3% -> 30) exactly: hidden = 85 - 82 = 3.
    # So the smallest sibling (12) is hidden as well.
    t = dist([40, 12, 30, 3])
    t["value"] = t["numerator"] / t["denominator"]
    out = suppress(t, kind="count", group="institution")
    assert out["suppressed"].sum() == 2
    assert out.loc[~out["suppressed"], "shown_numerator"].tolist() == [40, 30]


def test_module_exports():
    assert set(disclosure.__all__) == {"DisclosureError", "band", "suppress", "round_count"}
