"""Benchmark of casemix.adjust_records on 1,000,000 simulated records.

Run:  .venv/bin/python benchmarks/bench_casemix.py [--n 1000000] [--demo-scale 10]

Second part: ``casemix.adjust`` end to end on the demo population of about 1,000,000 trajectories
(records built from the trajectories, model, O/E, funnel, summary), against ``indicators.compute`` of
the same indicator in the same run, and ``casemix.adjust_indicator`` on records built beforehand (what
``results.compute_results`` does: the records come from the pass that computes the table).

Result on the shared 2-core machine (one run): baseline GLM fit 23.4 s, adjust_records 2.2 s
(ratio 0.09: the fit runs on covariate patterns, not on a million rows).

Prints the time of ``adjust_records`` (logistic model, O/E, funnel, shrinkage, summary with
c-statistic and calibration) and, as a baseline measured in the same run, the time of a plain
``sm.GLM(y, X, family=Binomial()).fit()`` on the record-level dummy design matrix of the same
covariates (built in NumPy, so the baseline does not pay for formula parsing). The ratio shows what
the whole adjustment costs against fitting the model alone.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
import time

import numpy as np
import pandas as pd
import statsmodels.api as sm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from outcome_analysis.casemix import adjust_records  # noqa: E402

COVARIATES = ["complexity", "perspective", "age_group", "sex", "care_form", "out_of_home",
              "earlier_trajectories"]


def simulate(n: int, n_inst: int = 150, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    inst = rng.integers(0, n_inst, n)
    mix = rng.uniform(0.1, 0.9, n_inst)[inst]
    complexity = np.array(["laag", "midden", "hoog"])[(rng.random(n) < mix).astype(int) + (rng.random(n) < 0.4)]
    perspective = np.array(["zelfstandig", "terug_naar_huis", "pleeggezin"])[rng.integers(0, 3, n)]
    age = np.array(["0-3", "4-11", "12-15", "16-17", "18+"])[rng.integers(0, 5, n)]
    sex = np.array(["m", "v"])[rng.integers(0, 2, n)]
    care_form = np.array(["ambulant", "dagbehandeling", "pleegzorg", "residentieel", "gesloten"])[
        rng.integers(0, 5, n)]
    out_of_home = rng.random(n) < 0.3
    earlier = rng.poisson(0.8, n)
    effect = rng.normal(0, 0.2, n_inst)[inst]
    lp = (0.5 - 1.2 * (complexity == "hoog") + 0.5 * (perspective == "terug_naar_huis")
          - 0.3 * out_of_home - 0.3 * np.minimum(earlier, 2) + 0.2 * (care_form == "ambulant") + effect)
    y = (rng.random(n) < 1 / (1 + np.exp(-lp))).astype(float)
    frame = pd.DataFrame({
        "institution": np.char.add("I", inst.astype(str)), "care_type": "jeugdhulp", "period": "2024",
        "outcome": y, "excluded_window": False, "complexity": complexity, "perspective": perspective,
        "age_group": age, "sex": sex, "care_form": care_form, "out_of_home": out_of_home,
        "earlier_trajectories": earlier,
    })
    frame.loc[rng.random(n) < 0.02, "complexity"] = None  # some missing values
    return frame


def baseline_design(frame: pd.DataFrame) -> np.ndarray:
    """Record-level dummy matrix from integer codes (the baseline's input, built outside the timing)."""
    cols = [np.ones(len(frame))]
    for c in COVARIATES:
        values = frame[c]
        if c == "earlier_trajectories":
            values = np.minimum(values.to_numpy(), 2)
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        for j in range(1, len(uniques)):
            cols.append((codes == j).astype(float))
    return np.column_stack(cols)


def main(n: int = 1_000_000) -> None:
    t0 = time.perf_counter()
    frame = simulate(n)
    print(f"simulated {len(frame):,} records in {time.perf_counter() - t0:.1f} s")

    x = baseline_design(frame)
    y = frame["outcome"].to_numpy()
    t0 = time.perf_counter()
    sm.GLM(y, x, family=sm.families.Binomial()).fit()
    t_base = time.perf_counter() - t0
    print(f"baseline  sm.GLM(y, X[{x.shape[0]:,} x {x.shape[1]}]).fit(): {t_base:6.2f} s")

    t0 = time.perf_counter()
    out = adjust_records(frame, covariates=COVARIATES)
    t_adj = time.perf_counter() - t0
    s = out.attrs["summary"]
    print(f"adjust_records (model, O/E, funnel, shrinkage, summary):  {t_adj:6.2f} s")
    print(f"ratio adjust_records / baseline GLM fit: {t_adj / t_base:.2f}")
    print(f"{len(out)} institutions; c-statistic {s.c_statistic:.3f}; phi {s.overdispersion['phi']:.2f}, "
          f"tau2 {s.overdispersion['tau2']:.4f}, applied {s.overdispersion['applied']}; "
          f"records lacking a covariate {s.n_lacking_covariates:,}")


def on_demo(scale: float, ids=("jh_uitval", "jbjr_herhaald_beroep", "jh_afname_problematiek")) -> None:
    """``casemix.adjust`` end to end (records from the trajectories, model, O/E, funnel, summary) on
    the demo population, against ``indicators.compute`` of the same indicator as the baseline."""
    from outcome_analysis import casemix, indicators
    from outcome_analysis.demo import make_demo

    t0 = time.perf_counter()
    data = make_demo(seed=0, scale=scale)
    print(f"\ndemo population: {len(data.trajectories):,} trajectories (scale {scale}) in "
          f"{time.perf_counter() - t0:.1f} s")
    for indicator in ids:
        period = "2023" if indicator == "jbjr_herhaald_beroep" else "2024"
        t0 = time.perf_counter()
        indicators.compute(data, indicators=[indicator])
        t_base = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = casemix.adjust(data, indicator, period=period)
        t_adj = time.perf_counter() - t0
        summaries = out.attrs["summaries"]
        print(f"{indicator:28s} adjust {t_adj:6.2f} s  (compute of the same indicator {t_base:6.2f} s, "
              f"ratio {t_adj / t_base:.2f}); {len(out)} institution rows, "
              f"{sum(s.n_records for s in summaries):,} records in {len(summaries)} model(s)")
        records = indicators.records(data, indicator)
        t0 = time.perf_counter()
        casemix.adjust_indicator(records, indicator, period=period)
        t_handed = time.perf_counter() - t0
        print(f"{'':28s} adjust_indicator on records built beforehand {t_handed:6.2f} s "
              f"(ratio to adjust {t_handed / t_adj:.2f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of simulated records")
    parser.add_argument("--demo-scale", type=float, default=10.0,
                        help="demo volume for the end-to-end part (10 = about 1,000,000 trajectories; 0 skips it)")
    args = parser.parse_args()
    main(args.n)
    if args.demo_scale > 0:
        on_demo(args.demo_scale)
