"""Specification: docs/indicators.md, section "B. Geharmoniseerde outcome-indicatoren jeugdhulp".

Hand-counted toy data (expected numbers in the comments beside each data set): uitval (B1),
experience per informant and pooled (jh_tevredenheid, and pi02 of set C), ROM reliable change
("Afname problematiek") and GAS T-scores ("Doelen gerealiseerd").
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from outcome_analysis import stats
from outcome_analysis.indicators import compute
from toydata import nd, row, toy_dataset
from toydata import trajectory as T

REF = "2025-12-31"


# ------------------------------------------------------------------ B1 uitval
# jeugdhulp at P, ended 2024: voortijdig_client x3, voortijdig_aanbieder x2, volgens_plan x4,
# voortijdig_overeenstemming x1 (not uitval: only CBS 03 and 04 are), externe_omstandigheden x1,
# onbekend x2, and one still running (not counted).
# uitval = (3 + 2) / 11 known; onbekend 2 shown apart (missing); the end_reason distribution has 13.
UITVAL_REASONS = (["voortijdig_client"] * 3 + ["voortijdig_aanbieder"] * 2 + ["volgens_plan"] * 4
                  + ["voortijdig_overeenstemming", "externe_omstandigheden"] + ["onbekend"] * 2)
UITVAL = [T(f"u{i}", f"k{i}", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-30", r)
          for i, r in enumerate(UITVAL_REASONS)] + [T("urun", "krun", "P", "jeugdhulp", "ambulant", "2024-01-01")]


def test_uitval():
    out = compute(toy_dataset(UITVAL, reference_date=REF), "jh_uitval")
    assert nd(row(out, "jh_uitval")) == (5.0, 11, 2)
    assert nd(row(out, "jh_uitval", "end_reason:onbekend"))[:2] == (2.0, 13)
    assert nd(row(out, "jh_uitval", "end_reason:voortijdig_overeenstemming"))[:2] == (1.0, 13)


# ------------------------------------------------------------------ experience
# jeugdhulp at P:  t1 ended 2024: jeugdige helped, ouder not, professional helped
#                  t2 ended 2024: jeugdige helped, ouder helped, ouder (2nd answer) helped missing
#                  t3 still running: jeugdige helped (code: not counted, outcome anchors on the end)
#                  t4 ended 2023: ouder not
# pooled 2024 = answers of jeugdigen and ouders: 3 helped / 4 known, missing 1; professionals never pooled.
# informant:jeugdige 2/2, informant:ouder 1/2 (missing 1), informant:professional 1/1.  2023: 0/1.
EXP_T = [T("t1", "k1", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-05-01", "volgens_plan"),
         T("t2", "k2", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-05-01", "volgens_plan"),
         T("t3", "k3", "P", "jeugdhulp", "ambulant", "2024-01-01"),
         T("t4", "k4", "P", "jeugdhulp", "ambulant", "2023-01-01", "2023-05-01", "volgens_plan")]
EXP = [{"trajectory_id": "t1", "informant": "jeugdige", "helped": True},
       {"trajectory_id": "t1", "informant": "ouder", "helped": False},
       {"trajectory_id": "t1", "informant": "professional", "helped": True},
       {"trajectory_id": "t2", "informant": "jeugdige", "helped": True},
       {"trajectory_id": "t2", "informant": "ouder", "helped": True},
       {"trajectory_id": "t2", "informant": "ouder", "helped": None},
       {"trajectory_id": "t3", "informant": "jeugdige", "helped": True},
       {"trajectory_id": "t4", "informant": "ouder", "helped": False}]


@pytest.mark.parametrize("indicator", ["jh_tevredenheid", "pi02_tevredenheid"])
def test_experience_pooled_and_per_informant(indicator):
    out = compute(toy_dataset(EXP_T, experience=EXP, reference_date=REF), indicator)
    assert nd(row(out, indicator)) == (3.0, 4, 1)
    assert nd(row(out, indicator, "informant:jeugdige")) == (2.0, 2, 0)
    assert nd(row(out, indicator, "informant:ouder")) == (1.0, 2, 1)
    assert nd(row(out, indicator, "informant:professional")) == (1.0, 1, 0)
    assert nd(row(out, indicator, period="2023")) == (0.0, 1, 0)


# ------------------------------------------------------------------ ROM reliable change
# sdq_total: norm mean 8.6, sd 5.7, r_xx .82 -> S_diff = sqrt(2) * 5.7 * sqrt(.18) = 3.4200
#   o1 20 -> 10: RCI = -10 / 3.42 = -2.92 (higher = worse)  -> improved
#   o2 10 -> 13: RCI = +0.88                                 -> unchanged
#   o3 10 -> 18: RCI = +2.34                                 -> deteriorated
#   o4 15 -> missing                                          -> missing
# cbcl_total_t: mean 50, sd 10, r .94 -> S_diff = sqrt(2) * 10 * sqrt(.06) = 3.4641
#   o5 70 -> 60: RCI = -2.89                                  -> improved
# headline 2 / 4 (missing 1); rci cells improved 2, unchanged 1, deteriorated 1.
# mean change = mean of T(pre) - T(post), T = 50 + 10 (x - mean) / sd:
#   o1 (70 - 52.456) ; o2 (52.456 - 57.719) ; o3 (52.456 - 66.491) ; o5 (70 - 60)
ROM = [T("o1", "k1", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan", rom_instrument="sdq_total", rom_start=20, rom_end=10),
       T("o2", "k2", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan", rom_instrument="sdq_total", rom_start=10, rom_end=13),
       T("o3", "k3", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan", rom_instrument="sdq_total", rom_start=10, rom_end=18),
       T("o4", "k4", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan", rom_instrument="sdq_total", rom_start=15),
       T("o5", "k5", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan", rom_instrument="cbcl_total_t", rom_start=70, rom_end=60)]


def test_rom_reliable_change():
    out = compute(toy_dataset(ROM, reference_date=REF), "jh_afname_problematiek")
    assert nd(row(out, "jh_afname_problematiek")) == (2.0, 4, 1)
    for cls, n in (("improved", 2), ("unchanged", 1), ("deteriorated", 1)):
        assert nd(row(out, "jh_afname_problematiek", f"rci:{cls}"))[:2] == (n, 4)
    t = lambda x, m, s: 50 + 10 * (x - m) / s  # noqa: E731
    changes = [t(20, 8.6, 5.7) - t(10, 8.6, 5.7), t(10, 8.6, 5.7) - t(13, 8.6, 5.7),
               t(10, 8.6, 5.7) - t(18, 8.6, 5.7), t(70, 50, 10) - t(60, 50, 10)]
    mean = row(out, "jh_afname_problematiek", "mean_change:")
    assert mean["denominator"] == 4
    assert mean["value"] == pytest.approx(np.mean(changes))


def test_rci_formula_and_direction():
    # Jacobson & Truax: (x2 - x1) / (sqrt(2) * SD * sqrt(1 - r))
    assert stats.reliable_change(20, 10, 5.7, 0.82) == pytest.approx(-10 / (math.sqrt(2) * 5.7 * math.sqrt(0.18)))
    # a higher-is-better instrument: a reliable RISE is an improvement, a reliable fall a deterioration
    assert stats.classify_change(2.5, "higher_better") == "improved"
    assert stats.classify_change(-2.5, "higher_better") == "deteriorated"
    assert stats.classify_change(-2.5, "higher_worse") == "improved"
    assert stats.classify_change(1.96, "higher_worse") == "unchanged"  # |RCI| must EXCEED 1.96


# ------------------------------------------------------------------ GAS
# rho = 0.3, T = 50 + 10 sum(w x) / sqrt(0.7 sum w^2 + 0.3 (sum w)^2)
#   g1 joint via EMPTY informant [1, 0, -1]           -> T = 50          -> realised (T >= 50)
#   g2 joint [-1, -1]   -> 50 - 20 / sqrt(1.4 + 1.2) = 37.597            -> not; ouder [2] -> 60
#   g3 only ouder [1]   -> headline missing; ouder 60
#   g4 joint [2, 1] weights [2, 1] -> 50 + 10 * 5 / sqrt(0.7 * 5 + 0.3 * 9) = 70.08 -> realised
# headline 2 / 3 (missing 1); mean_t = mean(50, 37.597, 70.08); informant:ouder 2 / 2
GAS_T = [T(f"g{i}", f"k{i}", "P", "jeugdhulp", "ambulant", "2024-01-01", "2024-06-01", "volgens_plan") for i in range(1, 5)]
GOALS = [{"trajectory_id": "g1", "goal_id": "a", "score": 1, "weight": None, "informant": None},
         {"trajectory_id": "g1", "goal_id": "b", "score": 0, "weight": None, "informant": None},
         {"trajectory_id": "g1", "goal_id": "c", "score": -1, "weight": None, "informant": None},
         {"trajectory_id": "g2", "goal_id": "a", "score": -1, "weight": 1, "informant": "gezamenlijk"},
         {"trajectory_id": "g2", "goal_id": "b", "score": -1, "weight": 1, "informant": "gezamenlijk"},
         {"trajectory_id": "g2", "goal_id": "c", "score": 2, "weight": 1, "informant": "ouder"},
         {"trajectory_id": "g3", "goal_id": "a", "score": 1, "weight": 1, "informant": "ouder"},
         {"trajectory_id": "g4", "goal_id": "a", "score": 2, "weight": 2, "informant": "gezamenlijk"},
         {"trajectory_id": "g4", "goal_id": "b", "score": 1, "weight": 1, "informant": "gezamenlijk"}]


def test_gas():
    out = compute(toy_dataset(GAS_T, goals=GOALS, reference_date=REF), "jh_doelrealisatie_gas")
    assert nd(row(out, "jh_doelrealisatie_gas")) == (2.0, 3, 1)
    t2 = 50 - 20 / math.sqrt(0.7 * 2 + 0.3 * 4)
    t4 = 50 + 50 / math.sqrt(0.7 * 5 + 0.3 * 9)
    assert row(out, "jh_doelrealisatie_gas", "mean_t:")["value"] == pytest.approx((50 + t2 + t4) / 3)
    assert nd(row(out, "jh_doelrealisatie_gas", "informant:ouder"))[:2] == (2.0, 2)
